"""The package as users get it: the wheel ships every module of both halves of the package
(``src/replicate_typed`` and ``generated/replicate_typed``, merged) and ``py.typed``, and the runtime -- client, generated models, mock server, CLI -- works with
none of the development-only packages importable (code generator, test tools)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from contract_tests.conftest import ROOT

# builds the wheel and runs the runtime in subprocesses: `make test-slow` (CI runs it)
pytestmark = pytest.mark.slow

HALVES = (ROOT / "src" / "replicate_typed", ROOT / "generated" / "replicate_typed")
DEV_ONLY = (
    "codegen",
    "datamodel_code_generator",
    "jinja2",
    "hypothesis",
    "hypothesis_jsonschema",
    "respx",
    "pytest",
    "schemathesis",
    "mypy",
    "ruff",
    "contract_tests",
    "replicate",  # the official client (interop tests): never needed at run time
)


def test_the_wheel_ships_every_module_and_py_typed(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
         "--disable-pip-version-check", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("replicate_typed-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"replicate_typed/{path.relative_to(half).as_posix()}"
        for half in HALVES
        for path in half.rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert len(expected) > 50
    assert not expected - shipped, sorted(expected - shipped)
    assert "replicate_typed/py.typed" in shipped
    metadata = zipfile.ZipFile(wheel).read(
        next(n for n in shipped if n.endswith(".dist-info/entry_points.txt"))
    )
    assert b"replicate-typed = replicate_typed.cli:main" in metadata


RUNTIME_SCRIPT = """
import importlib, importlib.abc, pkgutil, sys, tempfile

BLOCKED = set(sys.argv[1].split(","))

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is development-only")
        return None

sys.meta_path.insert(0, Block())
import replicate_typed
# the respx adapter is for users' respx tests: it needs respx by nature and loads lazily
OPTIONAL = {"replicate_typed.mock.respx_adapter"}
for module in pkgutil.walk_packages(replicate_typed.__path__, "replicate_typed."):
    if module.name not in OPTIONAL:
        importlib.import_module(module.name)

from typer.testing import CliRunner
from replicate_typed.cli.app import app
from replicate_typed.client._client import Client
from replicate_typed.mock import MockServer
from replicate_typed.models.stability_ai import sdxl

with MockServer(api_tokens=("r8_runtime_only_0123",), default_timing=(0.01, 0.05)) as server:
    base = server.url + "/replicate"
    with Client(api_token="r8_runtime_only_0123", base_url=base) as client:
        images = client.run(sdxl.Input(prompt="runtime only", width=64, height=64))
    env = {"REPLICATE_API_TOKEN": "r8_runtime_only_0123", "REPLICATE_BASE_URL": base}
    with tempfile.TemporaryDirectory() as out:
        result = CliRunner().invoke(
            app, ["run", "black-forest-labs/flux-schnell", "--prompt", "x", "--out", out], env=env
        )
assert result.exit_code == 0, result.output
loaded = sorted(name for name in sys.modules if name.split(".")[0] in BLOCKED)
print(len(images), result.exit_code, loaded)
"""


def test_the_runtime_needs_no_development_package(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", RUNTIME_SCRIPT, ",".join(DEV_ONLY)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["1", "0", "[]"], done.stdout
