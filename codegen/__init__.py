"""The compiler: specs -> a generated package of typed models (``replicate-typed-codegen``).

Installed, it is ``replicate_typed_codegen`` (the ``[codegen]`` extra); in this repository it is
the top-level ``codegen`` folder (``python -m codegen``). Its modules import each other relatively
so that both names work. Without its dependencies it stops with one line naming the extra.
"""

from __future__ import annotations

import importlib.util
import os
import sys

# what the compiler imports beyond the runtime (``ruff`` runs as ``python -m ruff``)
NEEDS = ("typer", "rich", "jinja2", "jsonschema", "datamodel_code_generator", "ruff")
RUNTIME = ("replicate_typed", "httpx", "pydantic")


def _absent() -> list[str]:
    absent = []
    for name in (*NEEDS, *RUNTIME):
        try:
            if importlib.util.find_spec(name) is None:
                absent.append(name)
        except (ImportError, ValueError):
            absent.append(name)
    return absent


def _require() -> None:
    absent = _absent()
    if not absent:
        return
    text = (
        f"the code generator needs {', '.join(absent)}, not importable by {sys.executable}: "
        "pip install 'replicate-typed[codegen]' (in a clone of replicate-typed: `make setup`, "
        "then `source .venv/bin/activate`)"
    )
    argv0 = sys.argv[0] if sys.argv else ""
    if argv0 == "-m" or os.path.basename(argv0) == "replicate-typed-codegen":
        print(f"error: {text}", file=sys.stderr)
        raise SystemExit(1)
    raise ModuleNotFoundError(text, name=absent[0])


_require()


def main() -> None:
    """Console-script entry point (``replicate-typed-codegen``)."""
    from .cli import main as run

    run()
