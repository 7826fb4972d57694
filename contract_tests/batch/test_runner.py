"""The batch runner against the mock over real HTTP: nothing created twice, nothing lost.

Duplicates are counted by the mock itself (creates per input fingerprint), independently of the
runner's journal.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from replicate_typed.batch import BatchOptions, Journal, arun_many, item_key, run_many
from replicate_typed.client import AsyncClient, Client
from replicate_typed.client.polling import PollPolicy
from replicate_typed.mock import FaultConfig, MockBackend, MockServer
from replicate_typed.models.stability_ai import sdxl

from .conftest import TOKEN

FAST = dict(
    creates_per_minute=None,
    reads_per_minute=None,
    reconcile_delay=0.05,
    error_backoff=0.05,
    poll_policy=PollPolicy(initial=0.02, max_interval=0.1),
)

MakeMock = Callable[..., MockBackend]


def inputs(n: int, tag: str = "p") -> list[sdxl.Input]:
    return [sdxl.Input(prompt=f"{tag} {i}", width=64, height=64) for i in range(n)]


def client(server: MockServer, **kw: Any) -> Client:
    return Client(api_token=TOKEN, base_url=server.url + "/replicate", **kw)


def assert_exactly_once(backend: MockBackend, n: int) -> None:
    stats = backend.stats()
    assert stats["duplicate_creates"] == 0, stats["creates_by_fingerprint"]
    assert stats["creates"] == n
    assert sorted(stats["creates_by_fingerprint"].values()) == [1] * n


def test_sync_run_many_downloads_every_output_with_checksums(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock()
    with client(server) as c:
        report = run_many(c, inputs(12), out_dir=tmp_path, concurrency=4, **FAST)
    assert report.ok, [r.describe() for r in report.failures]
    assert (report.created, report.succeeded, report.downloaded) == (12, 12, 12)
    assert [r.line for r in report.results] == list(range(1, 13))
    assert_exactly_once(backend, 12)
    ids = set()
    for result in report.results:
        assert result.prediction_id and result.status == "succeeded"
        ids.add(result.prediction_id)
        assert len(result.files) == 1
        file = result.files[0]
        path = Path(file.path)
        assert path.parent == tmp_path / result.prediction_id
        assert hashlib.sha256(path.read_bytes()).hexdigest() == file.sha256
        assert path.stat().st_size == file.size
        saved = json.loads((path.parent / "output.json").read_text())
        assert saved["id"] == result.prediction_id
    assert len(ids) == 12
    with Journal.in_dir(tmp_path) as journal:
        states = {e.state for e in journal.entries()}
        assert states == {"downloaded"}
        assert journal.known_prediction_ids() == ids


async def test_async_run_many_and_resume_skips_what_is_done(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock()
    async with AsyncClient(api_token=TOKEN, base_url=server.url) as c:
        first = await arun_many(c, inputs(6), out_dir=tmp_path, concurrency=3, **FAST)
        again = await arun_many(c, inputs(8), out_dir=tmp_path, concurrency=3, **FAST)
    assert first.ok and first.created == 6
    assert again.ok
    assert (again.skipped, again.created) == (6, 2)
    assert [r.skipped for r in again.results] == [True] * 6 + [False] * 2
    assert [r.prediction_id for r in again.results[:6]] == [r.prediction_id for r in first.results]
    assert_exactly_once(backend, 8)


def test_identical_inputs_are_run_once(server: MockServer, mock: MakeMock, tmp_path: Path) -> None:
    backend = mock()
    same = [sdxl.Input(prompt="twin", width=64, height=64) for _ in range(3)]
    with client(server) as c:
        report = run_many(c, same, out_dir=tmp_path, **FAST)
    assert_exactly_once(backend, 1)
    assert [r.same_as for r in report.results] == [None, 1, 1]
    assert len({r.prediction_id for r in report.results}) == 1


def test_stuck_in_creating_with_a_prediction_on_the_server_is_adopted(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    """The process died after sending the create and before journaling the id."""
    backend = mock()
    items = inputs(3, "stuck")
    journal = Journal.in_dir(tmp_path)
    key = item_key(sdxl.MODEL, items[1])
    journal.add(key, 2, sdxl.MODEL.ref)
    journal.mark_creating(key)  # ... then the create was sent ...
    with client(server) as c:
        existing = c.create(items[1])  # ... and reached the server; the process died here.
    journal.close()
    with client(server) as c:
        report = run_many(c, items, out_dir=tmp_path, **FAST)
    assert report.ok, [r.describe() for r in report.failures]
    assert report.reconciled == 1 and report.created == 2
    assert report.results[1].prediction_id == existing.id
    assert_exactly_once(backend, 3)
    with Journal.in_dir(tmp_path) as journal:
        outcomes = [a[2] for a in journal.attempts(key)]
    assert outcomes == ["reconciled"]


def test_stuck_in_creating_without_a_prediction_is_created_once(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    """The process died before the create reached the server: reconciling finds nothing."""
    backend = mock()
    items = inputs(2, "lost")
    with Journal.in_dir(tmp_path) as journal:
        key = item_key(sdxl.MODEL, items[0])
        journal.add(key, 1, sdxl.MODEL.ref)
        journal.mark_creating(key)
    with client(server) as c:
        report = run_many(c, items, out_dir=tmp_path, **FAST)
    assert report.ok and report.reconciled == 0 and report.created == 2
    assert_exactly_once(backend, 2)
    assert backend.operations["predictions.list"] >= 1  # it looked before creating
    with Journal.in_dir(tmp_path) as journal:
        outcomes = [a[2] for a in journal.attempts(key)]
    assert outcomes == ["not found on the server", "created"]


@pytest.mark.parametrize("kind", ["500", "502", "reset"])
def test_create_failing_after_the_server_created_it_is_reconciled(
    server: MockServer, mock: MakeMock, tmp_path: Path, kind: str
) -> None:
    backend = mock()
    backend.inject("predictions.create", kind, times=2, after=True)
    with client(server) as c:
        report = run_many(c, inputs(4, kind), out_dir=tmp_path, concurrency=1, **FAST)
    assert report.ok, [r.describe() for r in report.failures]
    assert report.reconciled == 2 and report.created == 2
    assert_exactly_once(backend, 4)


def test_create_failing_before_the_server_created_it_is_created_again(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock()
    backend.inject("predictions.create", "500", times=2)
    with client(server) as c:
        report = run_many(c, inputs(3, "again"), out_dir=tmp_path, concurrency=1, **FAST)
    assert report.ok and report.reconciled == 0 and report.created == 3
    assert backend.faults_injected["500"] == 2
    assert_exactly_once(backend, 3)


@pytest.mark.slow  # end to end, in subprocesses: `make test-slow`
def test_throttled_creates_back_off_and_succeed(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock()
    backend.inject("predictions.create", "429", times=3)
    with client(server, max_retries=0) as c:
        report = run_many(c, inputs(3, "slow down"), out_dir=tmp_path, concurrency=1, **FAST)
    assert report.ok and report.created == 3
    assert backend.faults_injected["429"] == 3
    assert_exactly_once(backend, 3)


@pytest.mark.slow  # end to end, in subprocesses: `make test-slow`
def test_random_faults_everywhere_lose_nothing(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    faults = FaultConfig(
        rate_429=0.1,
        rate_5xx=0.1,
        rate_reset=0.05,
        slow_rate=0.05,
        slow_seconds=0.1,
        retry_after=0,
        operations=frozenset(
            {"predictions.create", "predictions.get", "predictions.list", "outputs.get"}
        ),
        seed=11,
    )
    backend = mock(faults=faults)
    with client(server) as c:
        report = run_many(c, inputs(40, "chaos"), out_dir=tmp_path, concurrency=8, **FAST)
    assert report.ok, [r.describe() for r in report.failures]
    assert report.created + report.reconciled == 40
    assert sum(backend.faults_injected.values()) > 10
    assert_exactly_once(backend, 40)
    ids = {r.prediction_id for r in report.results}
    assert len(ids) == 40


def test_failed_prediction_names_its_line_and_id(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    mock()
    items = [*inputs(1, "ok"), sdxl.Input(prompt="mock:fail please", width=64, height=64)]
    with client(server) as c:
        report = run_many(c, items, out_dir=tmp_path, **FAST)
    assert report.succeeded == 1 and report.failed == 1 and not report.ok
    (failure,) = report.failures
    assert failure.line == 2 and failure.status == "failed" and failure.prediction_id
    assert failure.prediction_id in failure.describe() and "line 2" in failure.describe()
    # a failed prediction is an outcome: resuming does not pay for it again
    with client(server) as c:
        again = run_many(c, items, out_dir=tmp_path, **FAST)
    assert again.skipped == 2 and again.created == 0


def test_output_removed_before_download_is_reported(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    mock(output_ttl=0.0)
    with client(server) as c:
        report = run_many(c, inputs(1, "gone"), out_dir=tmp_path, **FAST)
    (result,) = report.results
    assert not result.ok and result.prediction_id
    assert "data_removed" in (result.error or "") and result.prediction_id in (result.error or "")
    with client(server) as c:  # reported again, not re-created, on resume
        again = run_many(c, inputs(1, "gone"), out_dir=tmp_path, **FAST)
    assert again.created == 0 and again.skipped == 1


def test_bad_credentials_stop_the_batch_without_creating(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock()
    with Client(api_token="r8_wrong_token_000000000000", base_url=server.url) as c:
        report = run_many(c, inputs(5, "auth"), out_dir=tmp_path, concurrency=1, **FAST)
    assert report.aborted and "401" in report.aborted
    assert backend.stats()["creates"] == 0
    assert report.unresolved == 5 and not report.ok


def test_mapping_inputs_are_validated_with_line_field_value_and_rule(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock()
    rows: list[Any] = [
        {"prompt": "fine", "width": 64, "height": 64},
        {"prompt": "bad", "num_outputs": 9},
        ["not", "an", "object"],
        {"prompt": "fine too", "width": 64, "height": 64},
    ]
    with client(server) as c:
        report = run_many(c, rows, model="stability-ai/sdxl", out_dir=tmp_path, **FAST)
    assert [r.line for r in report.results] == [1, 4]
    assert all(r.ok for r in report.results)
    bad = {i.line: i for i in report.invalid}
    assert set(bad) == {2, 3}
    assert bad[2].field == "num_outputs" and bad[2].value == "9"
    assert "less than or equal to 4" in bad[2].rule and "line 2" in str(bad[2])
    assert backend.stats()["creates"] == 2 and not report.ok


def test_options_are_checked(tmp_path: Path) -> None:
    from replicate_typed.client.errors import InputError

    with pytest.raises(InputError, match="concurrency"):
        BatchOptions(concurrency=0)
    with pytest.raises(InputError, match="create_options"):
        BatchOptions(create_options={"nope": 1})


def test_sync_run_many_refuses_a_running_event_loop() -> None:
    async def inside() -> None:
        with (
            Client(api_token=TOKEN, base_url="https://router.example/replicate") as c,
            pytest.raises(RuntimeError, match=r"await arun_many\(async_client"),
        ):
            run_many(c, [])

    asyncio.run(inside())
