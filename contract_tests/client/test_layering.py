"""The client is the lower layer: it never imports the applications (batch runner, CLI, mock),
not at module level, not under ``TYPE_CHECKING``, not inside a function; and importing it loads
none of them. Applications get what they need through its public API (``client.options``,
``AsyncClient.from_options``).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from contract_tests.conftest import ROOT

CLIENT = ROOT / "src" / "replicate_typed" / "client"
APPS = ("replicate_typed.batch", "replicate_typed.cli", "replicate_typed.mock")


def is_app(module: str) -> bool:
    return any(module == app or module.startswith(app + ".") for app in APPS)


def imported_modules(path: Path) -> set[str]:
    """Every module an ``import`` statement anywhere in the file names (absolute or relative)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against replicate_typed.client
                base = ["replicate_typed", "client"][: 2 - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted(CLIENT.rglob("*.py")), ids=lambda p: p.name)
def test_no_client_module_imports_an_application(path: Path) -> None:
    bad = sorted(m for m in imported_modules(path) if is_app(m))
    assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


@pytest.mark.parametrize(
    ("statement", "loads"),
    [
        ("from replicate_typed.client import Client", "replicate_typed.client._sync_client"),
        ("import replicate_typed.client._sync_client", "replicate_typed.client._sync_client"),
        ("import replicate_typed.client._async_client", "replicate_typed.client._async_client"),
        ("from replicate_typed import Client, AsyncClient", "replicate_typed.client._sync_client"),
    ],
)
def test_importing_the_client_loads_no_application(statement: str, loads: str) -> None:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    loaded = json.loads(done.stdout)
    assert loads in loaded
    assert [m for m in loaded if is_app(m)] == []


def test_the_scan_sees_function_level_and_type_checking_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from replicate_typed.batch.runner import BatchReport\n"
        "def f():\n"
        "    from replicate_typed import cli\n"
        "    import replicate_typed.mock\n"
        "    from .. import batch\n",
        encoding="utf-8",
    )
    found = {m for m in imported_modules(probe) if is_app(m)}
    assert {
        "replicate_typed.batch.runner",
        "replicate_typed.cli",
        "replicate_typed.mock",
        "replicate_typed.batch",
    } <= found
