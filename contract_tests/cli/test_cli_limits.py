"""``run --timeout`` bounds the whole command (create, every request, retries, rate-limit
pauses, the wait) against a misbehaving server, and long rate-limit pauses are announced on the
progress line."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from contract_tests.client._fault_server import FaultServer, fault_server
from replicate_typed.cli.progress import PlainDisplay, announce_pauses
from replicate_typed.client.retries import RateLimitPause, announce

from .test_cli import SDXL, invoke

MARGIN = 3.0


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with fault_server() as running:
        yield running


@pytest.mark.parametrize(
    ("mode", "said", "bound"),
    [
        ("unknown", "faultpid", 1.0),  # the wait: the id reaches the user
        pytest.param(  # the create drips: given at least 5 s
            "drip", "may have been created", 5.0, marks=pytest.mark.slow
        ),
    ],
)
def test_run_timeout_ends_the_command(
    server: FaultServer, tmp_path: Path, mode: str, said: str, bound: float
) -> None:
    started = time.monotonic()
    result = invoke(
        CliRunner(),
        ["run", SDXL, "--prompt", "x", "--timeout", "1", "--out", str(tmp_path)],
        REPLICATE_BASE_URL=f"{server.url}/{mode}",
    )
    took = time.monotonic() - started
    assert result.exit_code == 1, result.output
    assert took < bound + MARGIN
    assert said in result.stderr


def test_a_rate_limit_that_outlasts_the_timeout_fails_at_once(
    server: FaultServer, tmp_path: Path
) -> None:
    server.retry_after["storm"] = "3600"
    started = time.monotonic()
    result = invoke(
        CliRunner(),
        ["run", SDXL, "--prompt", "x", "--timeout", "2", "--out", str(tmp_path)],
        REPLICATE_BASE_URL=f"{server.url}/storm",
    )
    assert time.monotonic() - started < 2 + MARGIN
    assert result.exit_code == 1
    assert "HTTP 429; the next retry would be in 60.0s" in result.stderr  # capped at 60 s
    assert "error: deadline reached: " in result.stderr  # not "cannot reach the API"
    assert "no prediction was created" in result.stderr  # a 429 created nothing
    assert "may have been created" not in result.stderr
    assert "pausing" not in result.stderr  # no pause announced that is not slept


@pytest.mark.slow  # sleeps a real 5-second pause
def test_a_long_rate_limit_pause_is_on_the_progress_line(
    server: FaultServer, tmp_path: Path
) -> None:
    server.retry_after["storm"] = "5"
    result = invoke(
        CliRunner(),
        ["--max-retries", "1", "run", SDXL, "--prompt", "x", "--timeout", "30",
         "--out", str(tmp_path)],
        REPLICATE_BASE_URL=f"{server.url}/storm",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "stability-ai/sdxl: rate limited on predictions.create: pausing 5s" in result.stderr


def test_displays_and_announce_pauses_show_long_pauses_only() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=200)
    with PlainDisplay("owner/model", console):
        announce(RateLimitPause(30.0, "predictions.get", 30.0, False))
        announce(RateLimitPause(0.5, "predictions.get", 0.5, False))  # short: not shown
    with announce_pauses(console):
        announce(RateLimitPause(60.0, "batch creates", float("inf"), True))
    announce(RateLimitPause(60.0, "after", None, False))  # no listener any more
    assert buffer.getvalue().splitlines() == [
        "owner/model: rate limited on predictions.get: pausing 30s (the server asked for 30s)",
        "rate limited on batch creates: pausing 60s (the server asked for an unbounded wait)",
    ]
