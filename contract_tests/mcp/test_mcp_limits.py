"""The deadline, a refused token, rate limits and the command's own checks (exit 2, before
anything is served)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from replicate_typed.cli.app import app
from replicate_typed.mock import MockBackend, MockServer

from .conftest import TOKEN, all_text, backend, env_for, text_of
from .harness import McpHarness


def test_the_deadline_cancels_the_prediction(mock_server: MockServer, tmp_path: Path) -> None:
    slow = backend(default_timing=(0.0, 60.0))
    old = mock_server.swap(slow)
    mcp = McpHarness(["--deadline", "1", "--models", "cjwbw/rembg"],
                     env_for(mock_server.url + "/replicate"), errlog=tmp_path / "err.txt")  # fmt: skip
    try:
        mcp.start()
        result = mcp.call("cjwbw__rembg", {"image": "https://example.com/cat.png"})
        assert result.is_error and "deadline 1 s" in text_of(result)
        pid = result.structured_content["id"]
        assert pid in text_of(result)
        stats = slow.stats()
        assert stats["creates"] == 1 and stats["statuses"] == {"canceled": 1}, stats
        assert TOKEN not in all_text(result)
    finally:
        mcp.close()
        mock_server.swap(old)
        slow.close()


def test_a_refused_token_is_an_error_that_does_not_show_it(
    mcp_server: McpHarness, swapped: list[MockBackend]
) -> None:
    swapped.append(backend(api_tokens=("r8_someoneElsesToken",)))
    result = mcp_server.call("cjwbw__rembg", {"image": "https://example.com/cat.png"})
    assert result.is_error and "401" in text_of(result)
    assert TOKEN not in all_text(result) and TOKEN not in mcp_server.stderr()


@pytest.mark.slow  # sleeps out real rate-limit pauses (~2 s): `make test-slow`
def test_rate_limits_are_waited_out_as_the_client_does(
    mcp_server: McpHarness, swapped: list[MockBackend]
) -> None:
    limited = backend()
    swapped.append(limited)
    limited.inject("predictions.create", "429", times=1)
    limited.inject("predictions.get", "429", times=1)
    result = mcp_server.call("cjwbw__rembg", {"image": "https://example.com/cat.png"})
    assert not result.is_error, text_of(result)
    stats = limited.stats()
    assert stats["creates"] == 1 and stats["duplicate_creates"] == 0
    assert sum(stats["faults"].values()) >= 1, stats


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["mcp", "--models", "nobody/nothing"], {}, "nobody/nothing"),
        (["mcp", "--models", "stability-ai/sdx"], {}, "did you mean stability-ai/sdxl"),
        (["mcp"], {"REPLICATE_API_TOKEN": None}, "REPLICATE_API_TOKEN"),
        (["--base-url", "ftp://x", "mcp"], {}, "ftp"),
        (["mcp", "--deadline", "0"], {}, "--deadline"),
    ],
)
def test_bad_usage_exits_2_before_serving(
    args: list[str], env: dict[str, str | None], message: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)  # no pyproject.toml here: the built-in models
    environment: dict[str, str | None] = {
        "REPLICATE_API_TOKEN": TOKEN,
        "REPLICATE_BASE_URL": "http://127.0.0.1:9/replicate",
        **env,
    }
    result = CliRunner().invoke(app, args, env=environment)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert TOKEN not in result.output
