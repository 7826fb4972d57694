"""``python -m codegen``: generate, check, add-model, import-apifox, api-spec, drift."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from codegen import generate as gen
from codegen.errors import SpecError, SpecErrors

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
ROOT_OPTION = typer.Option("--root", help="Repository root (holds specs/ and generated/).")


def fail(exc: SpecError | SpecErrors) -> None:
    for err in gen.iter_errors(exc):
        typer.echo(f"error: {err}", err=True)
    raise typer.Exit(2)


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


@app.command("api-spec")
def api_spec(
    upstream: Annotated[Path, typer.Argument(help="Replicate's OpenAPI document (JSON).")],
    root: Annotated[Path, ROOT_OPTION] = Path("."),
) -> None:
    """Rewrite specs/api/openapi.json from an upstream Replicate OpenAPI document."""
    from codegen.api_spec import dumps, trim

    doc = trim(json.loads(upstream.read_text(encoding="utf-8")))
    target = root / "specs" / "api" / "openapi.json"
    target.write_text(dumps(doc), encoding="utf-8")
    typer.echo(f"wrote {target}")


from codegen.drift.cli import drift  # noqa: E402

app.command("drift")(drift)


def main() -> None:
    try:
        app()
    except (SpecError, SpecErrors) as exc:  # pragma: no cover - commands handle their own
        for err in gen.iter_errors(exc):
            print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
