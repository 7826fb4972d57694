"""The deadline, a refused token and the command's own checks (exit 2 before serving)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from replicate_typed.mock import MockServer

from .conftest import TOKEN, all_text, backend, env_for, text_of
from .harness import McpHarness


@pytest.fixture(scope="module")
def slow_mock() -> Iterator[MockServer]:
    server = MockServer(backend=backend(default_timing=(0.0, 60.0)))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_deadline_cancels_the_prediction(slow_mock: MockServer, tmp_path) -> None:
    mcp = McpHarness(["--deadline", "1", "--models", "cjwbw/rembg"],
                     env_for(slow_mock.url + "/replicate"), errlog=tmp_path / "err.txt")  # fmt: skip
    mcp.start()
    try:
        started = time.monotonic()
        result = mcp.call("cjwbw__rembg", {"image": "https://example.com/cat.png"})
        assert time.monotonic() - started < 15
        assert result.is_error and "deadline 1 s" in text_of(result)
        pid = result.structured_content["id"]
        assert pid in text_of(result)
        stats = slow_mock.backend.stats()
        assert stats["statuses"] == {"canceled": 1}, stats
        assert TOKEN not in all_text(result)
    finally:
        mcp.close()


def test_a_refused_token_is_an_error_that_does_not_show_it(slow_mock: MockServer, tmp_path) -> None:
    wrong = "r8_wrongTokenValue_9f8e7d6c"
    mcp = McpHarness(["--models", "cjwbw/rembg"], env_for(slow_mock.url + "/replicate", wrong),
                     errlog=tmp_path / "err.txt")  # fmt: skip
    mcp.start()
    try:
        result = mcp.call("cjwbw__rembg", {"image": "https://example.com/cat.png"})
        assert result.is_error and "401" in text_of(result)
        assert wrong not in all_text(result) and wrong not in mcp.stderr()
    finally:
        mcp.close()


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["mcp", "--models", "nobody/nothing"], {"REPLICATE_API_TOKEN": TOKEN}, "nobody/nothing"),
        (["mcp"], {}, "REPLICATE_API_TOKEN"),
        (["--base-url", "ftp://x", "mcp"], {"REPLICATE_API_TOKEN": TOKEN}, "ftp"),
    ],
)
def test_bad_usage_exits_2_before_serving(args, env, message, tmp_path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "replicate_typed.cli", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 2, run.stderr
    assert message in run.stderr and TOKEN not in run.stderr + run.stdout
