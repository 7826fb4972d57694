"""Fixtures of the MCP tests: the mock on 127.0.0.1 (in this process, on a thread, so a test
reads its counters directly) and ``replicate-typed mcp`` started once per module against it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from replicate_typed.mock import MockBackend, MockConfig, MockServer

from .harness import McpHarness

TOKEN = "r8_mcpTestToken_Q7xZ0w9Kk3"
"""The token the mock accepts; a distinctive string no result, log or error may contain."""

QUICK = (0.0, 0.2)
"""Seconds starting, seconds processing."""


def backend(**fields: Any) -> MockBackend:
    fields.setdefault("api_tokens", (TOKEN,))
    fields.setdefault("default_timing", QUICK)
    return MockBackend(MockConfig(**fields))


@pytest.fixture(scope="module")
def mock_server() -> Iterator[MockServer]:
    server = MockServer(backend=backend())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fresh(mock_server: MockServer) -> Iterator[MockBackend]:
    """A fresh backend (zero counters, no predictions) for one test."""
    new = backend()
    old = mock_server.swap(new)
    try:
        yield new
    finally:
        mock_server.swap(old)
        new.close()


class _Swaps(list[MockBackend]):
    """Each backend appended is served from then on."""

    def __init__(self, server: MockServer) -> None:
        super().__init__()
        self.server = server

    def append(self, item: MockBackend) -> None:
        super().append(item)
        self.server.swap(item)


@pytest.fixture
def swapped(mock_server: MockServer) -> Iterator[list[MockBackend]]:
    """Serve another backend for one test: append it to the list."""
    old = mock_server.backend
    swaps = _Swaps(mock_server)
    try:
        yield swaps
    finally:
        mock_server.swap(old)
        for item in swaps:
            item.close()


def env_for(base_url: str, token: str = TOKEN) -> dict[str, str]:
    return {"REPLICATE_API_TOKEN": token, "REPLICATE_BASE_URL": base_url}


@pytest.fixture(scope="module")
def mcp_server(
    mock_server: MockServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[McpHarness]:
    """``replicate-typed mcp`` (every built-in model) on stdio, for the whole module."""
    errlog = tmp_path_factory.mktemp("mcp") / "stderr.txt"
    harness = McpHarness([], env_for(mock_server.url + "/replicate"), errlog=errlog)
    harness.start()
    try:
        yield harness
    finally:
        harness.close()


def text_of(result: Any) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


def all_text(result: Any) -> str:
    return result.model_dump_json(by_alias=True)


def sample_input(info: Any) -> dict[str, Any]:
    """A valid input of a model: its first recorded example, else its required fields filled
    from their schemas."""
    if info.examples:
        return dict(info.examples[0]["input"])
    schema = info.input_schema
    values: dict[str, Any] = {}
    for name in schema.get("required", []):
        values[name] = _sample(schema["properties"][name], schema)
    return values


def _sample(prop: dict[str, Any], root: dict[str, Any]) -> Any:
    for ref in [prop.get("$ref")] + [p.get("$ref") for p in prop.get("allOf", [])]:
        if ref:
            return _sample(root["$defs"][ref.rsplit("/", 1)[-1]], root)
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind == "string":
        return "https://example.com/input.png" if prop.get("format") == "uri" else "a red fox"
    if kind in ("integer", "number"):
        return prop.get("minimum", 1)
    if kind == "boolean":
        return False
    raise AssertionError(f"no sample for {prop}")


__all__ = [
    "QUICK",
    "TOKEN",
    "Path",
    "all_text",
    "backend",
    "env_for",
    "sample_input",
    "text_of",
]
