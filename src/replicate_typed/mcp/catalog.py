"""Which models the server offers: the built-in registry, or a project's generated package.

A project names its package in ``pyproject.toml`` (``[tool.replicate-typed]``: ``package`` and
optionally ``module``, as the code generator reads them). Its ``registry`` is imported with the
project's folder (and ``src/`` for a src layout) on ``sys.path``, so the server runs from the
project as the project's own code would.
"""

from __future__ import annotations

import difflib
import importlib
import re
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from replicate_typed.core.model import ModelInfo
from replicate_typed.core.registry import Registry

__all__ = ["CatalogError", "load_catalog", "project_module"]

BUILTIN_MODULE = "replicate_typed.models"
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")


class CatalogError(ValueError):
    """The models asked for cannot be served (a bad project table, an unknown model...)."""


def project_module(project: Path) -> tuple[str, Path] | None:
    """``(module, folder to import it from)`` of the project's ``[tool.replicate-typed]``
    package, or None when ``project/pyproject.toml`` has no such table."""
    pyproject = project / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{pyproject}: cannot read it: {exc}") from None
    table = data.get("tool", {}).get("replicate-typed")
    if not isinstance(table, dict):
        return None
    package, module = table.get("package"), table.get("module")
    if not isinstance(package, str) or not package:
        raise CatalogError(f"{pyproject}: [tool.replicate-typed] package: must be a folder name")
    parts = Path(package).parts
    src_layout = len(parts) > 1 and parts[0] == "src"
    if module is None:
        module = ".".join(parts[1:] if src_layout else parts)
    if not isinstance(module, str) or not _MODULE.match(module):
        raise CatalogError(
            f"{pyproject}: [tool.replicate-typed] module: {module!r} is not a dotted module name"
        )
    return module, (project / "src" if src_layout else project).resolve()


def _registry(module: str, folder: Path | None) -> Registry:
    if folder is not None and str(folder) not in sys.path:
        sys.path.append(str(folder))  # last: a project file never shadows an installed module
    try:
        found = importlib.import_module(module).registry
    except (ImportError, AttributeError) as exc:
        raise CatalogError(
            f"cannot import the generated models of {module!r}: {exc} "
            "(generate them with `replicate-typed-codegen generate`)"
        ) from None
    if not isinstance(found, Registry):
        raise CatalogError(f"{module}.registry is not a replicate-typed Registry")
    return found


def load_catalog(
    *,
    project: Path | None,
    builtin: bool,
    models: Sequence[str] = (),
) -> list[ModelInfo[Any, Any]]:
    """The models to serve, sorted by reference: the project's (when ``project`` has a
    ``[tool.replicate-typed]`` package other than the built-in one), with the built-in ones
    too when ``builtin`` or when there is no project package; only ``models`` when given."""
    registries: list[Registry] = []
    found = project_module(project) if project is not None else None
    if found is not None and found[0] != BUILTIN_MODULE:
        registries.append(_registry(*found))
    if builtin or not registries:
        registries.insert(0, _registry(BUILTIN_MODULE, None))
    registry = Registry.combine(*registries)
    refs = sorted(registry)
    if models:
        unknown = [m for m in models if m not in registry]
        if unknown:
            hints = []
            for ref in unknown:
                close = difflib.get_close_matches(ref, refs, n=3)
                hints.append(f"{ref!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
            raise CatalogError(
                f"--models: no generated model {', '.join(hints)}; available: {', '.join(refs)}"
            )
        refs = sorted({registry.get_model(m).ref for m in models})
    if not refs:
        raise CatalogError("no models to serve")
    return [registry.get_model(ref) for ref in refs]
