"""Optional parts and the extras that install them: a missing one is one clear line, not a trace.

``pip install replicate-typed`` gives the client and the generated models; the command line,
the mock server and the code generator come with extras (``[cli]``, ``[mock]``, ``[codegen]``,
``[all]``). Each optional part calls :func:`require` before importing what its extra brings:
imported from Python, a missing extra raises :class:`MissingExtraError` whose message is that one
line; run as a command (``replicate-typed``, ``python -m replicate_typed.mock``) it prints the
line and exits 1, without a traceback.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterable

__all__ = ["EXTRAS", "MissingExtraError", "missing", "require"]

# extra -> the modules it brings that the part imports (PIL is Pillow)
EXTRAS: dict[str, tuple[str, ...]] = {
    "cli": ("typer", "rich"),
    "mock": ("starlette", "uvicorn", "PIL", "python_multipart", "jsonschema"),
    "codegen": ("datamodel_code_generator", "jinja2", "jsonschema", "ruff", "typer", "rich"),
    "mcp": ("mcp", "mcp_types", "jsonschema", "anyio", "uvicorn"),
}


class MissingExtraError(ModuleNotFoundError):
    """An optional part was imported without its extra; the message says what to install."""


def missing(modules: Iterable[str]) -> list[str]:
    """The modules of ``modules`` that cannot be imported (looked up, not imported)."""
    absent = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            absent.append(name)
    return absent


def message(extra: str, part: str, absent: list[str]) -> str:
    return (
        f"{part} needs {', '.join(absent)}, which the core install does not include: "
        f"pip install 'replicate-typed[{extra}]'"
    )


COMMANDS = ("replicate-typed", "replicate-typed-codegen")


def running_as_command() -> bool:
    """True while a console script or ``python -m`` is starting (``sys.argv[0]`` is ``-m`` while
    ``python -m`` locates its module)."""
    argv0 = sys.argv[0] if sys.argv else ""
    return argv0 == "-m" or os.path.basename(argv0) in COMMANDS


def require(extra: str, part: str) -> None:
    """Stop with ``pip install 'replicate-typed[extra]'`` when a module of ``extra`` is missing:
    :class:`MissingExtraError` from Python, one line on stderr and exit 1 from a command."""
    absent = missing(EXTRAS[extra])
    if not absent:
        return
    text = message(extra, part, absent)
    if running_as_command():
        print(f"error: {text}", file=sys.stderr)
        raise SystemExit(1)
    raise MissingExtraError(text, name=absent[0])
