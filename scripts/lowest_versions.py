"""``make test-lowest``: check that the lowest-versions environment really holds the floors.

Every runtime requirement of pyproject.toml (``dependencies`` and the ``cli``, ``mock`` and
``codegen`` extras) with a lower bound must be installed at exactly that bound; otherwise the
lowest-versions test run would not prove the floor (some other requirement pulled a newer one,
and the floor should be raised to what is tested). Prints one row per requirement.

``--extras mcp`` checks only those extras' own requirements: the ``[mcp]`` extra gets a venv of
its own in ``make test-lowest``, because its SDK needs newer pydantic, jsonschema and uvicorn
than the core and ``[mock]`` floors, which the first venv proves.
"""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = ("cli", "mock", "codegen")


def requirements(extras: tuple[str, ...] | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = list(project["dependencies"]) if extras is None else []
    for extra in EXTRAS if extras is None else extras:
        lines += project["optional-dependencies"][extra]
    seen: dict[str, Requirement] = {}
    for line in lines:
        req = Requirement(line)
        if req.name != "replicate-typed":
            seen.setdefault(req.name, req)
    return list(seen.values())


def floor(req: Requirement) -> Version | None:
    bounds = [Version(s.version) for s in req.specifier if s.operator in (">=", "==", "~=")]
    return min(bounds) if bounds else None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    extras = tuple(args[1].split(",")) if len(args) == 2 and args[0] == "--extras" else None
    bad = 0
    print(f"{'requirement':<36} {'floor':<10} installed")
    for req in requirements(extras):
        low = floor(req)
        try:
            installed = version(req.name)
        except PackageNotFoundError:
            installed = "missing"
        ok = low is not None and installed != "missing" and Version(installed) == low
        bad += not ok
        print(f"{str(req):<36} {str(low):<10} {installed}{'' if ok else '   <- not the floor'}")
    if bad:
        print(f"{bad} requirement(s) not at their floor: raise the floor to what is tested")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
