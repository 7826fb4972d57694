"""``python -m codegen``: generate, check, add-model, import-apifox, api-spec, drift.

A spec that cannot be compiled is reported as ``file: at /json/pointer: rule`` lines on stderr
(exit status 2), never as a traceback. Set ``CODEGEN_DEBUG=1`` to see the traceback of an
unexpected internal error.
"""

from __future__ import annotations

import os
import sys
import traceback
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from codegen import generate as gen
from codegen.errors import SpecError, SpecErrors

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=__doc__,
    pretty_exceptions_enable=False,  # never print locals (tokens) or tracebacks
)
ROOT_OPTION = typer.Option("--root", help="Repository root (holds specs/ and generated/).")
EXIT_SPEC_ERROR = 2
EXIT_INTERNAL = 3


def fail(exc: SpecError | SpecErrors) -> NoReturn:
    for err in gen.iter_errors(exc):
        typer.echo(str(err), err=True)
    raise typer.Exit(EXIT_SPEC_ERROR)


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


@app.command()
def generate(root: Annotated[Path, ROOT_OPTION] = Path(".")) -> None:
    """Regenerate generated/replicate_typed from specs/ (lib/ is never touched)."""
    try:
        written = gen.write(root.resolve())
    except (SpecError, SpecErrors) as exc:
        fail(exc)
    typer.echo(f"generated {len(written)} files into {gen.Paths(root).package}")


@app.command()
def check(root: Annotated[Path, ROOT_OPTION] = Path(".")) -> None:
    """Regenerate into a temporary folder and compare byte for byte with generated/."""
    try:
        problems = gen.diff(root.resolve())
    except (SpecError, SpecErrors) as exc:
        fail(exc)
    if problems:
        for line in problems:
            typer.echo(line, err=True)
        typer.echo("generated/ is out of date: run `make generate` and commit the result", err=True)
        raise typer.Exit(1)
    typer.echo("generated/ matches specs/ byte for byte")


class Call(StrEnum):
    version = "version"
    path = "path"


@app.command("add-model")
def add_model(
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file",
            help="A saved GET /v1/models/{owner}/{name}/versions/{id} answer: {id, openapi_schema}.",
        ),
    ] = None,
    from_api: Annotated[
        str | None,
        typer.Option(
            "--from-api",
            help="owner/name[:version]: fetch from REPLICATE_BASE_URL with REPLICATE_API_TOKEN "
            "(the latest version when none is named).",
        ),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="owner/name (required with --from-file).")
    ] = None,
    call: Annotated[
        Call | None,
        typer.Option(
            "--call",
            help="How the client calls it: by version, or by model path (official models). "
            "Default: version when the version has an id, else path.",
        ),
    ] = None,
    no_generate: Annotated[
        bool, typer.Option("--no-generate", help="Only write the spec; do not regenerate.")
    ] = False,
    root: Annotated[Path, ROOT_OPTION] = Path("."),
) -> None:
    """Add (or update) a model: write specs/models/owner/name/spec.json, then regenerate."""
    from codegen import add_model as adder

    root = root.resolve()
    try:
        if (from_file is None) == (from_api is None):
            raise SpecError("add-model", "", "give exactly one of --from-file or --from-api")
        if from_file is not None:
            if model is None:
                raise SpecError(
                    str(from_file), "", "--model owner/name is required with --from-file"
                )
            version = adder.load_version_file(from_file)
            provenance = (
                f"added by `python -m codegen add-model --from-file {from_file.name}` "
                "(openapi_schema verbatim; see specs/README.md)"
            )
            source = str(from_file)
        else:
            assert from_api is not None
            ref, version, base_url = adder.fetch_version(from_api)
            if model is not None and model != ref:
                raise SpecError("--model", "", f"{model!r} differs from --from-api {ref!r}")
            model = ref
            provenance = (
                f"added by `python -m codegen add-model --from-api` from {base_url} "
                "(openapi_schema verbatim; see specs/README.md)"
            )
            source = f"{base_url} {from_api}"
        data = adder.spec_from_version(
            version,
            model,
            call=call.value if call is not None else None,
            provenance=provenance,
            source=source,
        )
        result = adder.add_model(root, data, regenerate=not no_generate)
    except (SpecError, SpecErrors) as exc:
        fail(exc)
    spec = result.data
    how = (
        f"by version {spec['version']}"
        if spec["call"] == "version"
        else "by model path" + (f" (version {spec['version']})" if spec["version"] else "")
    )
    action = "added" if result.created else "updated"
    typer.echo(f"{action} {spec['model']}: {_rel(result.spec_file, root)} (called {how})")
    if result.kept_examples:
        typer.echo(f"kept {result.kept_examples} example(s) of the previous spec")
    for dropped in result.dropped_examples:
        typer.echo(f"warning: dropped {dropped}", err=True)
    if result.generated:
        typer.echo(f"generated {len(result.generated)} files into {gen.Paths(root).package}")


@app.command("import-apifox")
def import_apifox(
    file: Annotated[Path, typer.Argument(help="An Apifox endpoint export (text).")],
    model: Annotated[
        str | None,
        typer.Option("--model", help="owner/name, when the document names none or several."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the spec here (default: print it to stdout)."),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit 1 when Apifox and the published schema disagree."),
    ] = False,
    root: Annotated[Path, ROOT_OPTION] = Path("."),
) -> None:
    """Turn an Apifox export into a spec; report where it disagrees with the published schema.

    Defaults, ranges and multiple-of rules written in the (Chinese) description text become
    schema keywords. When specs/ already has the model, its published schema stays the authority:
    every difference is reported (field, what Apifox says, what the schema says) and only valid
    request examples are added.
    """
    from codegen import apifox
    from codegen.spec import dump_spec

    try:
        result = apifox.import_apifox(file, model=model, specs_dir=gen.Paths(root).specs)
    except (SpecError, SpecErrors) as exc:
        fail(exc)
    ref = result.spec["model"]
    for difference in result.differences:
        typer.echo(f"{file}: {ref}: {difference}", err=True)
    if result.published:
        typer.echo(
            f"{len(result.differences)} difference(s) between {file.name} and the published "
            f"schema of {ref}; the published schema is kept",
            err=True,
        )
    text = dump_spec(result.spec)
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8", newline="\n")
        typer.echo(f"wrote {out} ({ref}, {len(result.spec['examples'])} example(s))", err=True)
    if strict and result.differences:
        raise typer.Exit(1)


@app.command("api-spec")
def api_spec(
    upstream: Annotated[Path, typer.Argument(help="Replicate's OpenAPI document (JSON).")],
    root: Annotated[Path, ROOT_OPTION] = Path("."),
) -> None:
    """Rewrite specs/api/openapi.json from an upstream Replicate OpenAPI document."""
    from codegen.api_spec import dumps, trim
    from codegen.spec import read_json

    try:
        document = read_json(upstream)
        try:
            doc = trim(document)
        except (KeyError, TypeError, AttributeError, IndexError) as exc:
            raise SpecError(
                upstream, "", f"not a Replicate OpenAPI document: missing or malformed {exc}"
            ) from None
    except SpecError as exc:
        fail(exc)
    target = root / "specs" / "api" / "openapi.json"
    target.write_text(dumps(doc), encoding="utf-8")
    typer.echo(f"wrote {target}")


from codegen.drift.cli import drift  # noqa: E402

app.command("drift")(drift)


def main() -> None:
    try:
        app()
    except (SpecError, SpecErrors) as exc:  # commands handle their own; this is a safety net
        for err in gen.iter_errors(exc):
            print(err, file=sys.stderr)
        sys.exit(EXIT_SPEC_ERROR)
    except Exception as exc:  # an internal error: one line, the traceback only on request
        if os.environ.get("CODEGEN_DEBUG"):
            traceback.print_exc()
        print(
            f"internal error: {type(exc).__name__}: {exc} (set CODEGEN_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        sys.exit(EXIT_INTERNAL)
