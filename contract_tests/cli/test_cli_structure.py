"""The CLI is a package of command groups: no import cycles inside ``cli/``, no command module
reaches into the root application, and what is expensive is imported only by the command that
needs it (``--help`` imports no model module, no mock server, no batch runner)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import replicate_typed.cli

CLI = Path(replicate_typed.cli.__file__).resolve().parent
PACKAGE = "replicate_typed.cli"


def module_name(path: Path) -> str:
    parts = path.relative_to(CLI).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def imports_of(path: Path) -> set[str]:
    """Every ``replicate_typed.cli.*`` module ``path`` imports, at any depth of the code."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    modules = {module_name(p) for p in CLI.rglob("*.py")}
    return {name for name in found if name in modules}


def graph() -> dict[str, set[str]]:
    return {module_name(path): imports_of(path) - {module_name(path)} for path in CLI.rglob("*.py")}


def test_no_import_cycles_inside_cli() -> None:
    edges = graph()
    # A package imports its own __init__ when a submodule is imported: not an edge that matters.
    edges = {m: {d for d in deps if not m.startswith(d + ".")} for m, deps in edges.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(edges.get(node, ())):
            if state.get(dep) == 1:
                cycle = stack[stack.index(dep) :] + [dep]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)


def test_command_groups_share_the_context_not_the_root() -> None:
    edges = graph()
    commands = {m for m in edges if m.startswith(f"{PACKAGE}.commands.")}
    assert {m.rsplit(".", 1)[1] for m in commands} >= {
        "run",
        "predictions",
        "download",
        "models",
        "mock",
        "batch",
    }
    for module in commands:
        assert f"{PACKAGE}.app" not in edges[module], module
        assert f"{PACKAGE}.root" not in edges[module], module
    assert f"{PACKAGE}.context" in edges[f"{PACKAGE}.commands.batch"]
    importers_of_app = {m for m, deps in edges.items() if f"{PACKAGE}.app" in deps}
    assert importers_of_app <= {PACKAGE}  # only the console-script entry point


_PROBE = r"""
import json, sys
from typer.testing import CliRunner
from replicate_typed.cli.app import app

def heavy():
    return sorted(
        m for m in sys.modules
        if m.startswith(("replicate_typed.models.", "replicate_typed.mock", "replicate_typed.batch",
                         "uvicorn", "starlette", "multipart"))
    )

seen = {"import": heavy()}
for args in json.loads(sys.argv[1]):
    result = CliRunner().invoke(app, args, env={"COLUMNS": "120"})
    assert result.exit_code == 0, (args, result.output)
    seen[" ".join(args)] = heavy()
print(json.dumps(seen))
"""


def test_help_imports_nothing_expensive() -> None:
    steps = [
        ["--help"],
        ["get", "--help"],
        ["mock", "--help"],
        ["batch", "--help"],
        ["run", "stability-ai/sdxl", "--help"],
    ]
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(steps)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    for step in ("import", "--help", "get --help", "mock --help", "batch --help"):
        assert seen[step] == [], (step, seen[step])
    # A model's help imports that model, nothing else heavy (pydantic is not counted: Typer
    # itself parses every option through it).
    after_run = set(seen["run stability-ai/sdxl --help"])
    models = {m for m in after_run if m.startswith("replicate_typed.models.")}
    assert "replicate_typed.models.stability_ai.sdxl" in models
    # (the generated owner package imports its own models; no other owner's are loaded)
    assert all(m.startswith("replicate_typed.models.stability_ai") for m in models), models
    assert not {
        m
        for m in after_run
        if m.startswith(("replicate_typed.mock", "replicate_typed.batch", "uvicorn", "starlette"))
    }
