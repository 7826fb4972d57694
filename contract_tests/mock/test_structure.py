"""The mock package's modules import each other without cycles, and only the facade and the
transports know :class:`MockBackend`: handlers, scheduling and delivery get what they need
passed in. (Read from the source with ``ast``: function-level and TYPE_CHECKING imports count.)"""

from __future__ import annotations

import ast
from pathlib import Path

import replicate_typed.mock

PACKAGE = "replicate_typed.mock"
ROOT = Path(replicate_typed.mock.__file__).parent
FACADE_USERS = {"backend", "app", "server", "respx_adapter", "__main__", "__init__"}


def _graph() -> dict[str, set[str]]:
    modules = {path.stem: path for path in ROOT.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            for target in targets:
                head, _, rest = target.partition(PACKAGE + ".")
                if not head and rest.split(".")[0] in modules:
                    deps.add(rest.split(".")[0])
        deps.discard(name)
        graph[name] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                found.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_the_graph_reader_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c", "a"]]


def test_no_import_cycles_in_the_mock() -> None:
    graph = _graph()
    assert {"backend", "routes", "predictions", "files", "models", "faults", "admin"} <= set(graph)
    assert _cycles(graph) == []


def test_only_the_facade_and_transports_import_the_backend() -> None:
    graph = _graph()
    users = {name for name, deps in graph.items() if "backend" in deps}
    assert users <= FACADE_USERS, sorted(users - FACADE_USERS)


def test_delivery_imports_nothing_from_the_mock() -> None:
    assert _graph()["delivery"] == set()
