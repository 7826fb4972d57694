"""Every batch job ends: ``job_timeout`` bounds one input's create + wait + download, whatever
the server does (a prediction that never finishes, a status never seen before, a create that is
never answered). The input is reported with its prediction id and picked up by the next run."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from replicate_typed.batch import Journal, arun_many, item_key
from replicate_typed.client import AsyncClient
from replicate_typed.client.polling import PollPolicy
from replicate_typed.mock import MockBackend, MockServer
from replicate_typed.models.stability_ai import sdxl

from .conftest import TOKEN
from .test_runner import FAST, assert_exactly_once, inputs

MakeMock = Callable[..., MockBackend]
BOUND = 10.0  # seconds: a 1 s deadline plus generous room for a loaded machine


class Rewrite(httpx.AsyncBaseTransport):
    """Real HTTP to the mock; a GET of a prediction answers a status no client has seen."""

    def __init__(self, status: str) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.status = status

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        path = request.url.path
        if request.method == "GET" and "/v1/predictions/" in path:
            body = json.loads(await response.aread())
            body["status"] = self.status
            return httpx.Response(response.status_code, json=body)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class HoldCreates(httpx.AsyncBaseTransport):
    """Creates are never answered (and never reach the server)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.held = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/predictions"):
            self.held += 1
            await asyncio.Event().wait()
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize("use_stream", [True, False])
async def test_a_prediction_that_never_finishes_ends_at_the_deadline(
    server: MockServer, mock: MakeMock, tmp_path: Path, use_stream: bool
) -> None:
    backend = mock(default_timing=(0.01, 3600.0))
    policy = PollPolicy(initial=0.05, max_interval=0.2, use_stream=use_stream)
    async with AsyncClient(api_token=TOKEN, base_url=server.url) as client:
        started = time.monotonic()
        report = await arun_many(
            client,
            inputs(3, f"forever {use_stream}"),
            out_dir=tmp_path,
            concurrency=3,
            **{**FAST, "poll_policy": policy, "job_timeout": 1.0},
        )
        elapsed = time.monotonic() - started
    assert elapsed < BOUND
    assert report.unresolved == 3 and not report.ok
    for result in report.results:
        assert result.prediction_id and result.prediction_id in (result.error or "")
        assert "deadline of 1 s (job_timeout) passed while waiting" in (result.error or "")
        # polling saw it processing; the stream only says when it is done
        assert f"last status: {'starting' if use_stream else 'processing'}" in (result.error or "")
    with Journal.in_dir(tmp_path) as journal:  # kept for the next run, never created again
        assert {e.state for e in journal.entries()} == {"created"}
    assert_exactly_once(backend, 3)


async def test_a_status_never_seen_before_does_not_keep_the_batch_waiting(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    mock()
    policy = PollPolicy(initial=0.05, max_interval=0.2, use_stream=False)
    async with AsyncClient(
        api_token=TOKEN, base_url=server.url, transport=Rewrite("quarantined")
    ) as client:
        started = time.monotonic()
        report = await arun_many(
            client,
            inputs(2, "odd status"),
            out_dir=tmp_path,
            **{**FAST, "poll_policy": policy, "job_timeout": 1.0},
        )
        elapsed = time.monotonic() - started
    assert elapsed < BOUND
    assert report.unresolved == 2
    for result in report.results:
        assert "last status: quarantined" in (result.error or "")
        assert result.prediction_id and result.prediction_id in (result.error or "")


async def test_a_create_never_answered_is_reconciled_by_the_next_run_not_sent_blindly(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock()
    items = inputs(2, "held create")
    transport = HoldCreates()
    async with AsyncClient(api_token=TOKEN, base_url=server.url, transport=transport) as client:
        started = time.monotonic()
        report = await arun_many(client, items, out_dir=tmp_path, **{**FAST, "job_timeout": 1.0})
        elapsed = time.monotonic() - started
    assert elapsed < BOUND and transport.held == 2
    assert report.unresolved == 2
    for result in report.results:
        assert result.state == "creating"
        assert "passed while its create was in flight" in (result.error or "")
    async with AsyncClient(api_token=TOKEN, base_url=server.url) as client:
        again = await arun_many(client, items, out_dir=tmp_path, **FAST)
    assert again.ok and again.created == 2
    assert backend.operations["predictions.list"] >= 1  # it looked before creating again
    assert_exactly_once(backend, 2)
    with Journal.in_dir(tmp_path) as journal:
        outcomes = [a[2] for a in journal.attempts(item_key(sdxl.MODEL, items[0]))]
    assert outcomes == ["not found on the server", "created"]


def test_the_deadline_must_be_a_positive_number_of_seconds() -> None:
    from replicate_typed.batch import BatchOptions
    from replicate_typed.client.errors import InputError

    for bad in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(InputError, match="job_timeout"):
            BatchOptions(job_timeout=bad)
    with pytest.raises(InputError, match="wait_for_lock"):
        BatchOptions(wait_for_lock=-1)


def test_the_cli_job_timeout_reports_each_line_with_its_prediction_id(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from replicate_typed.cli.app import app

    backend = mock(default_timing=(0.01, 3600.0))
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"prompt": "never ends", "width": 64, "height": 64}) + "\n")
    started = time.monotonic()
    result = CliRunner().invoke(
        app,
        ["batch", str(path), "-m", "stability-ai/sdxl", "--out", str(tmp_path / "o")]
        + ["--job-timeout", "1"],
        env={"REPLICATE_API_TOKEN": TOKEN, "REPLICATE_BASE_URL": server.url + "/replicate"},
    )
    assert time.monotonic() - started < BOUND
    assert result.exit_code == 1, result.output
    (pid,) = [p.id for p in backend._order]
    assert f"line 1 (prediction {pid}): prediction {pid}: deadline of 1 s" in result.stderr


def test_the_cli_default_is_the_library_default() -> None:
    import inspect

    from replicate_typed.batch import DEFAULT_JOB_TIMEOUT
    from replicate_typed.cli.commands.batch import batch_command

    parameters = inspect.signature(batch_command).parameters
    assert parameters["job_timeout"].default == DEFAULT_JOB_TIMEOUT
