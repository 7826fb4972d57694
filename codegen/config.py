"""Where a project keeps its specs and its generated package: ``[tool.replicate-typed]``.

The code generator works in any project that names both in its ``pyproject.toml``::

    [tool.replicate-typed]
    specs = "specs"                       # spec folder (models/<owner>/<name>/spec.json)
    package = "myapp/replicate_models"    # folder of the generated package (owned by the generator)
    # module = "myapp.replicate_models"   # its import name (default: from `package`, minus src/)
    # api-types = "..."                   # the runtime's own repository only: API types from
    #                                     # <specs>/api/openapi.json
    # docs = "docs/models"                # optional: the model reference, one Markdown page per
    #                                     # model (owned by the generator, like the package)

Generated modules import the installed runtime (``replicate_typed.core``). This repository is one
such project: its table generates into ``generated/replicate_typed/models`` (import name
``replicate_typed.models``) and also writes the API types.

Every value reaches a file path, so each is checked before anything is read or written: relative,
inside the project, no ``..``, folders that do not overlap, a module name made of identifiers.
"""

from __future__ import annotations

import keyword
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import SpecError

TABLE = "replicate-typed"
KEYS = ("specs", "package", "module", "api-types", "docs")
EXAMPLE = '[tool.replicate-typed] with specs = "specs" and package = "myapp/replicate_models"'


@dataclass(frozen=True)
class Project:
    """A project's layout, every folder absolute."""

    root: Path
    specs: Path
    package: Path
    module: str
    api_types: Path | None = None
    docs: Path | None = None
    """The model reference's folder (``docs``), or None when the project wants none."""

    @property
    def api_document(self) -> Path:
        """The API surface, ``<specs>/api/openapi.json`` (read only when ``api-types`` is set)."""
        return self.specs / "api" / "openapi.json"

    def rel(self, path: Path) -> str:
        """``path`` relative to the project root, with ``/`` (for messages and file headers)."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    @property
    def api_resources(self) -> Path:
        """The API's resources, generated from the API document next to its types (a sibling
        folder named ``resources``; only when ``api-types`` is set)."""
        if self.api_types is None:
            raise ValueError("api-types is not set: no API resources")
        return self.api_types.parent / "resources"

    @property
    def outputs(self) -> tuple[Path, ...]:
        """The folders the generator owns (rewritten whole)."""
        if self.api_types is None:
            return (self.package,)
        return (self.package, self.api_types, self.api_resources)


def _folder(pyproject: Path, root: Path, key: str, value: Any) -> Path:
    where = f"/tool/{TABLE}/{key}"
    if not isinstance(value, str) or not value.strip():
        raise SpecError(pyproject, where, f"{key} must be a non-empty folder path, got {value!r}")
    pure = PurePosixPath(value.replace("\\", "/"))
    if pure.is_absolute() or ":" in value or ".." in pure.parts:
        raise SpecError(
            pyproject,
            where,
            f"{key} {value!r} must be a relative path inside the project (no absolute path, "
            "drive or '..')",
        )
    if pure == PurePosixPath("."):
        raise SpecError(pyproject, where, f"{key} {value!r} must name a folder below the project")
    return root.joinpath(*pure.parts)


def _module_from(package: str) -> str:
    parts = list(PurePosixPath(package.replace("\\", "/")).parts)
    if len(parts) > 1 and parts[0] == "src":
        parts = parts[1:]
    return ".".join(parts)


def _check_module(pyproject: Path, module: Any, key: str) -> str:
    where = f"/tool/{TABLE}/{key}"
    if not isinstance(module, str) or not all(
        part.isidentifier() and not keyword.iskeyword(part) for part in module.split(".")
    ):
        raise SpecError(
            pyproject,
            where,
            f"import name {module!r} is not a dotted Python module name (set `module = ...` "
            "when the package folder is not named like its import name)",
        )
    if module.split(".")[0] in ("replicate_typed", "replicate_typed_codegen") and key != "module":
        raise SpecError(pyproject, where, f"{module!r} belongs to replicate-typed itself")
    return module


def _overlap(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def from_table(pyproject: Path, table: Any) -> Project:
    """The project described by a parsed ``[tool.replicate-typed]`` table."""
    root = pyproject.parent.resolve()
    where = f"/tool/{TABLE}"
    if not isinstance(table, dict):
        raise SpecError(pyproject, where, "must be a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise SpecError(
            pyproject,
            f"{where}/{unknown[0]}",
            f"unknown key {unknown[0]!r} (known: {', '.join(KEYS)})",
        )
    if "package" not in table:
        raise SpecError(
            pyproject, f"{where}/package", "missing: the folder to generate into (package = ...)"
        )
    specs = _folder(pyproject, root, "specs", table.get("specs", "specs"))
    package = _folder(pyproject, root, "package", table["package"])
    module = _check_module(
        pyproject,
        table["module"] if "module" in table else _module_from(table["package"]),
        "module" if "module" in table else "package",
    )
    api_types = (
        _folder(pyproject, root, "api-types", table["api-types"]) if "api-types" in table else None
    )
    docs = _folder(pyproject, root, "docs", table["docs"]) if "docs" in table else None
    folders = {"specs": specs, "package": package, "api-types": api_types, "docs": docs}
    names = [k for k, v in folders.items() if v is not None]
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            a, b = folders[first], folders[second]
            assert a is not None and b is not None
            if _overlap(a, b):
                raise SpecError(
                    pyproject,
                    f"{where}/{second}",
                    f"{second} {b.relative_to(root).as_posix()!r} overlaps {first} "
                    f"{a.relative_to(root).as_posix()!r}: the generator rewrites its folders whole",
                )
    return Project(
        root=root, specs=specs, package=package, module=module, api_types=api_types, docs=docs
    )


def read(pyproject: Path) -> Project:
    """The project configured in ``pyproject`` (a ``SpecError`` naming the file when it is not)."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(pyproject, "", f"no such file; it needs {EXAMPLE}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(pyproject, "", f"cannot read: {exc}") from None
    table = data.get("tool", {}).get(TABLE) if isinstance(data.get("tool"), dict) else None
    if table is None:
        raise SpecError(pyproject, f"/tool/{TABLE}", f"missing: the code generator needs {EXAMPLE}")
    return from_table(pyproject, table)


def find(start: Path) -> Path:
    """The nearest ``pyproject.toml`` with a ``[tool.replicate-typed]`` table, from ``start`` up."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                return candidate  # read() reports it
            tool = data.get("tool")
            if isinstance(tool, dict) and TABLE in tool:
                return candidate
    raise SpecError(
        start / "pyproject.toml",
        f"/tool/{TABLE}",
        f"no pyproject.toml with a [tool.{TABLE}] table here or above; add {EXAMPLE}",
    )


def load(root: Path | None = None) -> Project:
    """The project at ``root`` (its ``pyproject.toml``), or the nearest one above the cwd."""
    if root is None:
        return read(find(Path.cwd()))
    return read(root.resolve() / "pyproject.toml")
