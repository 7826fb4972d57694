"""``replicate-typed-codegen`` (``python -m codegen`` in this repository): generate, check,
add-model, import-apifox, api-spec, drift.

Specs are read from, and the package generated into, the folders named by the
``[tool.replicate-typed]`` table of the nearest ``pyproject.toml`` (or the one under ``--root``).
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

from . import generate as gen
from .errors import SpecError, SpecErrors, SpecWarning

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=__doc__,
    pretty_exceptions_enable=False,  # never print locals (tokens) or tracebacks
)
ROOT_OPTION = typer.Option(
    "--root",
    help="Project folder: its pyproject.toml's [tool.replicate-typed] table names the specs folder "
    "and the package to generate (default: the nearest such pyproject.toml, from here up).",
)
EXIT_SPEC_ERROR = 2
EXIT_INTERNAL = 3


def fail(exc: SpecError | SpecErrors) -> NoReturn:
    for err in gen.iter_errors(exc):
        typer.echo(str(err), err=True)
    raise typer.Exit(EXIT_SPEC_ERROR)


def project_root(root: Path | None) -> Path:
    """The configured project's root; a missing or bad table is a spec error (exit 2)."""
    try:
        return gen.Paths(root).root
    except SpecError as exc:
        fail(exc)


def _outputs(root: Path) -> str:
    project = gen.Paths(root)
    folders = [*project.outputs, *([project.docs] if project.docs is not None else [])]
    names = [project.rel(folder) for folder in folders]
    return " and ".join(names) if len(names) <= 2 else ", ".join(names[:-1]) + " and " + names[-1]


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


@app.command()
def generate(root: Annotated[Path | None, ROOT_OPTION] = None) -> None:
    """Regenerate the configured package from the specs (only its own folders are touched); new
    and changed modules are verified (compile, ruff, import, mypy --strict) before any file is
    replaced."""
    root = project_root(root)
    warnings: list[SpecWarning] = []
    try:
        written = gen.write(root, warnings=warnings)
    except (SpecError, SpecErrors) as exc:
        fail(exc)
    finally:
        for warning in warnings:
            typer.echo(str(warning), err=True)
    typer.echo(f"generated {len(written)} files into {_outputs(root)}")


@app.command()
def check(root: Annotated[Path | None, ROOT_OPTION] = None) -> None:
    """Regenerate into a temporary folder and compare byte for byte with the generated package."""
    root = project_root(root)
    try:
        problems = gen.diff(root)
    except (SpecError, SpecErrors) as exc:
        fail(exc)
    outputs = _outputs(root)
    if problems:
        for line in problems:
            typer.echo(line, err=True)
        typer.echo(
            f"{outputs} is out of date: run `replicate-typed-codegen generate` and commit the "
            "result",
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"{outputs} matches the specs byte for byte")


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
    root: Annotated[Path | None, ROOT_OPTION] = None,
) -> None:
    """Add (or update) a model: write <specs>/models/owner/name/spec.json, then regenerate."""
    from . import add_model as adder

    root = project_root(root)
    warnings: list[SpecWarning] = []
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
                f"added by `replicate-typed-codegen add-model --from-file {from_file.name}` "
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
                f"added by `replicate-typed-codegen add-model --from-api` from {base_url} "
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
        result = adder.add_model(root, data, regenerate=not no_generate, warnings=warnings)
    except (SpecError, SpecErrors) as exc:
        fail(exc)
    finally:
        for warning in warnings:
            typer.echo(str(warning), err=True)
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
        typer.echo(f"generated {len(result.generated)} files into {_outputs(root)}")


@app.command("import-apifox")
def import_apifox(
    file: Annotated[Path, typer.Argument(help="An Apifox endpoint export (text).")],
    model: Annotated[
        str | None,
        typer.Option("--model", help="owner/name, when the document names none or several."),
    ] = None,
    version_file: Annotated[
        Path | None,
        typer.Option(
            "--version-file",
            help="The model's published version, saved from GET /v1/models/{owner}/{name}/"
            "versions/{id}: {id, openapi_schema}. Merged: it stays the authority.",
        ),
    ] = None,
    from_api: Annotated[
        bool,
        typer.Option(
            "--from-api",
            help="Fetch the published version from REPLICATE_BASE_URL with REPLICATE_API_TOKEN "
            "(the version the document names, else the latest) and merge it.",
        ),
    ] = False,
    call: Annotated[
        Call | None,
        typer.Option("--call", help="How the client calls it (default: as the document calls it)."),
    ] = None,
    no_generate: Annotated[
        bool, typer.Option("--no-generate", help="Only write the spec; do not regenerate.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Write the spec to this file instead ('-': stdout); specs/ and generated/ are "
            "left alone.",
        ),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Exit 1, writing nothing, when Apifox and the published schema conflict "
            "(what the document leaves out, or adds, does not count).",
        ),
    ] = False,
    root: Annotated[Path | None, ROOT_OPTION] = None,
) -> None:
    """Import an Apifox export as specs/models/owner/name/spec.json, then regenerate.

    Defaults, ranges and multiple-of rules written in the (Chinese) description text become
    schema keywords. With the model's published schema (--version-file, --from-api, or the spec
    already in specs/) the two are merged: the published schema stays the authority, the document
    adds only what only it says (descriptions, defaults, ranges); every difference is reported
    (field, what Apifox says, what the schema says). From the document alone the spec lacks what
    only the published schema knows (the output type, file inputs, choices): a warning says so.
    """
    from . import add_model as adder
    from . import apifox
    from .spec import dump_spec

    root = project_root(root)
    try:
        if version_file is not None and from_api:
            raise SpecError("import-apifox", "", "give at most one of --version-file or --from-api")
        endpoint = apifox.read(file, model)
        ref = endpoint.model
        assert ref is not None
        version = None
        source = provenance = ""
        if version_file is not None:
            version = adder.load_version_file(version_file)
            source = str(version_file)
            provenance = (
                f"published version from `replicate-typed-codegen import-apifox --version-file "
                f"{version_file.name}` (openapi_schema verbatim but for the additions below)"
            )
        elif from_api:
            wanted = f"{ref}:{endpoint.version}" if endpoint.version else ref
            _, version, base_url = adder.fetch_version(wanted)
            source = f"{base_url} {wanted}"
            provenance = (
                f"published version from {base_url} by `replicate-typed-codegen import-apifox "
                "--from-api` (openapi_schema verbatim but for the additions below)"
            )
        result = apifox.import_endpoint(
            endpoint,
            file,
            specs_dir=gen.Paths(root).specs,
            version=version,
            version_source=source,
            provenance=provenance or None,
            call=call.value if call is not None else None,
        )
    except (SpecError, SpecErrors) as exc:
        fail(exc)
    for difference in result.differences:
        typer.echo(f"{file}: {ref}: {difference}", err=True)
    for loss in result.losses:
        typer.echo(f"warning: {file}: {ref}: no published schema: {loss}", err=True)
    for dropped in result.dropped_examples:
        typer.echo(f"warning: dropped {dropped}", err=True)
    conflicts = [d for d in result.differences if d.conflict]
    if result.published:
        added = len(result.added)
        typer.echo(
            f"{len(result.differences)} difference(s) ({len(conflicts)} conflict(s)) between "
            f"{file.name} and the published schema of {ref} ({result.authority}); the published "
            "schema is kept" + (f", {added} value(s) added from Apifox" if added else ""),
            err=True,
        )
    if strict and conflicts:
        typer.echo(f"--strict: {len(conflicts)} conflict(s); nothing written", err=True)
        raise typer.Exit(1)
    text = dump_spec(result.spec)
    examples = len(result.spec["examples"])
    if out is not None:
        if str(out) == "-":
            typer.echo(text, nl=False)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8", newline="\n")
            typer.echo(f"wrote {out} ({ref}, {examples} example(s))", err=True)
        return
    try:
        written = adder.add_model(root, result.spec, regenerate=not no_generate)
    except (SpecError, SpecErrors) as exc:
        fail(exc)
    action = "added" if written.created else "updated"
    typer.echo(f"{action} {ref}: {_rel(written.spec_file, root)} ({examples} example(s))")
    if written.kept_examples:
        typer.echo(f"kept {written.kept_examples} example(s) of the previous spec")
    for dropped in written.dropped_examples:
        typer.echo(f"warning: dropped {dropped}", err=True)
    if written.generated:
        typer.echo(f"generated {len(written.generated)} files into {gen.Paths(root).package}")


@app.command("api-spec")
def api_spec(
    upstream: Annotated[Path, typer.Argument(help="Replicate's OpenAPI document (JSON).")],
    root: Annotated[Path | None, ROOT_OPTION] = None,
) -> None:
    """Rewrite <specs>/api/openapi.json from an upstream Replicate OpenAPI document."""
    root = project_root(root)
    from .api_spec import dumps, trim
    from .spec import read_json

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
    target = gen.Paths(root).api_document
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dumps(doc), encoding="utf-8")
    typer.echo(f"wrote {target}")


@app.command("api-docs")
def api_docs(
    output: Annotated[
        Path, typer.Option("--output", help="Where to write the table (Markdown).")
    ] = Path("docs/api-operations.md"),
    root: Annotated[Path | None, ROOT_OPTION] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 if the file differs from what it would be.")
    ] = False,
) -> None:
    """Write the table of every API operation and its Python call (from <specs>/api/openapi.json)."""
    root = project_root(root)
    from .api_resources import render_operations_doc

    target = output if output.is_absolute() else root / output
    try:
        text = render_operations_doc(gen.Paths(root))
    except SpecError as exc:
        fail(exc)
    if check:
        current = target.read_text(encoding="utf-8") if target.is_file() else None
        if current != text:
            typer.echo(f"{target} is out of date: run `replicate-typed-codegen api-docs`", err=True)
            raise typer.Exit(1)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8", newline="\n")
    typer.echo(f"wrote {target}")


from .drift.cli import drift  # noqa: E402

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
