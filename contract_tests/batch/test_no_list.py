"""Without ``list`` the batch runner never pays twice.

Against the mock's router profile (create and get only, like the router's documents): a create
whose outcome is unknown (a 5xx or a dropped connection after the server created it) cannot be
reconciled, so the input is reported unresolved -- with its line, its journal state and how to
resolve it -- and is not created again, on this run or the next, unless the user opts in
(``recreate_unknown`` / ``--recreate-unknown``). The mock counts creates per input itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from replicate_typed.batch import Journal, arun_many, run_many
from replicate_typed.cli.app import app
from replicate_typed.client import AsyncClient, Client
from replicate_typed.client.polling import PollPolicy
from replicate_typed.mock import MockBackend, MockServer
from replicate_typed.models.stability_ai import sdxl

from .conftest import TOKEN

FAST: dict[str, Any] = dict(
    creates_per_minute=None,
    reads_per_minute=None,
    reconcile_delay=0.05,
    error_backoff=0.01,
    poll_policy=PollPolicy(initial=0.02, max_interval=0.1),
)
MakeMock = Callable[..., MockBackend]


def inputs(n: int) -> list[sdxl.Input]:
    return [sdxl.Input(prompt=f"no list {i}", width=64, height=64) for i in range(n)]


def client(server: MockServer) -> Client:
    return Client(api_token=TOKEN, base_url=server.url + "/replicate", max_retries=0)


def list_calls(backend: MockBackend) -> int:
    return backend.stats()["requests"].get("GET <unmatched>", 0)


@pytest.mark.parametrize("fault", ["500", "503", "reset"])
def test_an_unknown_outcome_is_reported_not_created_again(
    server: MockServer, mock: MakeMock, tmp_path: Path, fault: str
) -> None:
    backend = mock(profile="router")
    backend.inject("predictions.create", fault, after=True)  # created, then the answer is lost
    with client(server) as c:
        report = run_many(c, inputs(3), out_dir=tmp_path, concurrency=1, **FAST)
    stats = backend.stats()
    assert stats["creates"] == 3 and stats["duplicate_creates"] == 0  # nobody paid twice
    assert (report.succeeded, report.unresolved, report.created) == (2, 1, 2)
    [stuck] = report.failures
    assert stuck.line == 1 and stuck.state == "creating" and stuck.prediction_id is None
    message = stuck.describe()
    cause = {"500": "HTTP 500", "503": "HTTP 503", "reset": "APIConnectionError"}[fault]
    assert message.startswith(f"line 1: the create may have been paid for ({cause} after it was")
    assert "no predictions list (GET /v1/predictions answered HTTP 404)" in message
    assert "--recreate-unknown" in message and "'creating' in the journal" in message
    assert list_calls(backend) == 1
    with Journal.in_dir(tmp_path) as journal:
        entry = journal.get(stuck.key)
        assert entry is not None and entry.state == "creating"
        assert [a[2] for a in journal.attempts(stuck.key)] == ["unknown"]


def test_a_second_run_still_does_not_create_it(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock(profile="router")
    backend.inject("predictions.create", "500", after=True)
    with client(server) as c:
        run_many(c, inputs(2), out_dir=tmp_path, **FAST)
        again = run_many(c, inputs(2), out_dir=tmp_path, **FAST)
    assert backend.stats()["creates"] == 2 and backend.stats()["duplicate_creates"] == 0
    assert (again.skipped, again.unresolved) == (1, 1)
    assert "(an earlier run left its outcome unknown)" in again.failures[0].describe()


def test_recreate_unknown_opts_in_to_paying_again(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock(profile="router")
    backend.inject("predictions.create", "500", after=True)
    with client(server) as c:
        first = run_many(c, inputs(2), out_dir=tmp_path, **FAST)
        assert first.unresolved == 1
        second = run_many(c, inputs(2), out_dir=tmp_path, recreate_unknown=True, **FAST)
    assert second.ok, [r.describe() for r in second.failures]
    stats = backend.stats()
    assert stats["creates"] == 3 and stats["duplicate_creates"] == 1  # the user said so
    with Journal.in_dir(tmp_path) as journal:
        [redone] = [e for e in journal.entries() if e.attempts == 2]
        outcomes = [a[2] for a in journal.attempts(redone.key)]
        assert sorted(outcomes, key=str) == ["created", "unknown, created again"]


def test_recreate_unknown_within_one_run(server: MockServer, mock: MakeMock) -> None:
    backend = mock(profile="router")
    backend.inject("predictions.create", "reset", after=True)
    with client(server) as c:
        report = run_many(c, inputs(2), recreate_unknown=True, **FAST)
    assert report.ok and report.created == 2
    assert backend.stats()["creates"] == 3


def test_the_official_profile_still_reconciles(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock()  # has a list: the unknown create is found and adopted, not reported
    backend.inject("predictions.create", "500", after=True)
    with client(server) as c:
        report = run_many(c, inputs(2), out_dir=tmp_path, **FAST)
    assert report.ok and report.reconciled == 1
    assert backend.stats()["creates"] == 2 and backend.stats()["duplicate_creates"] == 0


def test_a_create_answer_with_an_id_is_adopted_whatever_it_lacks(tmp_path: Path) -> None:
    """A 201 whose body does not fit but names the prediction: that prediction is used (no
    reconciliation, which this server could not do anyway, and no second create)."""
    pid = "adoptme0000000000000000000"
    posts: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(request)
            return httpx.Response(201, json={"id": pid, "created_at": "not a time"})
        if request.url.path == f"/replicate/v1/predictions/{pid}":
            body = {
                "id": pid,
                "status": "succeeded",
                "output": ["data:image/png;base64,iVBORw0KGgo="],
            }
            return httpx.Response(200, json=body)
        return httpx.Response(404, json={"title": "Not found", "status": 404})

    async def scenario() -> Any:
        async with AsyncClient(
            api_token=TOKEN,
            base_url="https://router.example/replicate",
            transport=httpx.MockTransport(handler),
        ) as c:
            return await arun_many(c, inputs(1), **FAST)

    report = asyncio.run(scenario())
    assert len(posts) == 1
    [result] = report.results
    assert result.prediction_id == pid and result.status == "succeeded"
    assert report.created == 1 and report.unresolved == 0


@pytest.mark.slow  # end to end, in subprocesses: `make test-slow`
def test_cli_reports_the_line_and_the_flag_then_recreates_with_it(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock(profile="router")
    backend.inject("predictions.create", "502", after=True)
    data = tmp_path / "in.jsonl"
    data.write_text(
        "\n".join(json.dumps({"prompt": f"cli {i}", "width": 64, "height": 64}) for i in range(2))
    )
    env: dict[str, str | None] = {
        "REPLICATE_API_TOKEN": TOKEN,
        "REPLICATE_BASE_URL": server.url + "/replicate",
        "REPLICATE_TYPED_DEBUG": None,
    }
    args = ["batch", str(data), "--model", "stability-ai/sdxl", "--out", str(tmp_path / "out")]
    args += ["--concurrency", "1"]  # line 1 is the one whose answer is lost
    first = CliRunner().invoke(app, args, env=env)
    assert first.exit_code == 1, first.output
    assert "unresolved: line 1: the create may have been paid for (HTTP 502" in first.stderr
    assert "--recreate-unknown" in first.stderr
    assert "  unresolved (each named below: run again, or see what it needs): 1" in first.stderr
    assert backend.stats()["creates"] == 2
    second = CliRunner().invoke(app, [*args, "--recreate-unknown"], env=env)
    assert second.exit_code == 0, second.output
    assert backend.stats()["creates"] == 3
