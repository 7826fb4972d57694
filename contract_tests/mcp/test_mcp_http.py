"""``replicate-typed mcp --http 0``: streamable HTTP on 127.0.0.1, driven by the SDK's client."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from replicate_typed.mock import MockBackend

from .conftest import TOKEN, env_for, text_of


@pytest.fixture
def http_server(mock_server, fresh: MockBackend) -> Iterator[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        **env_for(mock_server.url + "/replicate"),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "replicate_typed.cli", "mcp", "--http", "0", "-m", "cjwbw/rembg"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("MCP server listening on http://127.0.0.1:"), line
        yield line.split()[4]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        assert TOKEN not in err


def test_streamable_http(http_server: str, fresh: MockBackend) -> None:
    async def session_work() -> tuple[list[str], object]:
        async with streamable_http_client(http_server) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = [t.name for t in (await session.list_tools()).tools]
                result = await session.call_tool(
                    "cjwbw__rembg", {"image": "https://example.com/a.png"}
                )
                return tools, result

    for calls in (1, 2):  # a second session after the first closed: the server goes on
        tools, result = asyncio.run(asyncio.wait_for(session_work(), 60))
        assert "cjwbw__rembg" in tools and "predictions_get" in tools
        assert not result.is_error, text_of(result)
        assert fresh.stats()["creates"] == calls
