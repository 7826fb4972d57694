"""Every committed generated module imports in ``python -W error``: a user's test suite that turns
warnings into errors can import any of them (on the pydantic this suite runs on: ``make test`` the
lock's, ``make test-lowest`` the floor). One interpreter for all of them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENERATED = ROOT / "generated"

_IMPORT_ALL = r"""
import importlib, sys, warnings
warnings.simplefilter("error")
for name in sys.argv[1:]:
    importlib.import_module(name)
from replicate_typed.models import registry
for ref in registry:
    info = registry.get_model(ref)
    info.input_type.model_json_schema()  # schema building warns too (e.g. shadowed names)
print(len(sys.argv) - 1)
"""


def _modules() -> list[str]:
    names = []
    for path in sorted((GENERATED / "replicate_typed").rglob("*.py")):
        parts = path.relative_to(GENERATED).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_generated_module_imports_with_warnings_as_errors() -> None:
    modules = _modules()
    assert any(m.startswith("replicate_typed.models.") for m in modules)
    assert "replicate_typed.types.api" in modules
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", _IMPORT_ALL, *modules],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [str(len(modules))]
