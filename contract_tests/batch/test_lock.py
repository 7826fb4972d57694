"""One runner per journal: a second runner on the same folder refuses at once (naming the holder)
or waits when asked; duplicates are counted by the mock, not by the runner."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from replicate_typed.batch import Journal, JournalLock, JournalLockedError, LockOwner, arun_many
from replicate_typed.batch import lock as lock_module
from replicate_typed.batch.journal import JOURNAL_NAME
from replicate_typed.batch.lock import lock_path, read_owner
from replicate_typed.cli.app import app
from replicate_typed.client import AsyncClient
from replicate_typed.mock import MockBackend, MockServer
from replicate_typed.models.stability_ai import sdxl

from .conftest import TOKEN
from .test_runner import FAST, assert_exactly_once, inputs

MakeMock = Callable[..., MockBackend]


def lock_file(out: Path) -> Path:
    return lock_path(out / JOURNAL_NAME)


async def until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_a_second_runner_refuses_at_once_naming_the_holder(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock(default_timing=(0.05, 0.2))
    async with AsyncClient(api_token=TOKEN, base_url=server.url) as client:
        first = asyncio.create_task(
            arun_many(client, inputs(8, "lock"), out_dir=tmp_path, concurrency=2, **FAST)
        )
        await until(lambda: backend.stats()["creates"] >= 1)
        started = time.monotonic()
        with pytest.raises(JournalLockedError) as caught:
            await arun_many(client, inputs(8, "lock"), out_dir=tmp_path, concurrency=8, **FAST)
        refused_in = time.monotonic() - started
        creates_when_refused = backend.stats()["creates"]
        report = await first
    error = caught.value
    assert error.owner is not None and error.owner.pid == os.getpid()
    assert error.owner.host == socket.gethostname() and not error.foreign
    message = str(error)
    assert f"pid {os.getpid()} on host {socket.gethostname()} since " in message
    assert "nothing was sent" in message and "--wait-for-lock" in message
    assert refused_in < 5
    assert creates_when_refused < 8  # at once: the holder was still creating
    assert report.ok and report.created == 8
    assert_exactly_once(backend, 8)
    owner = read_owner(lock_file(tmp_path))
    assert owner is not None and owner.released  # the record says the holder let go


async def test_a_runner_asked_to_wait_takes_over_after_the_holder(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock(default_timing=(0.05, 0.2))
    async with AsyncClient(api_token=TOKEN, base_url=server.url) as client:
        first = asyncio.create_task(
            arun_many(client, inputs(8, "wait"), out_dir=tmp_path, concurrency=2, **FAST)
        )
        await until(lambda: backend.stats()["creates"] >= 1)
        second = await arun_many(
            client, inputs(10, "wait"), out_dir=tmp_path, wait_for_lock=60, **FAST
        )
        report = await first
    assert report.ok and report.created == 8
    assert second.ok and (second.skipped, second.created) == (8, 2)
    assert_exactly_once(backend, 10)


async def test_waiting_ends_with_a_typed_error_and_sends_nothing(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock()
    holder = JournalLock(lock_file(tmp_path))
    await holder.acquire()
    try:
        async with AsyncClient(api_token=TOKEN, base_url=server.url) as client:
            started = time.monotonic()
            with pytest.raises(JournalLockedError) as caught:
                await arun_many(client, inputs(3, "w"), out_dir=tmp_path, wait_for_lock=0.6, **FAST)
            waited = time.monotonic() - started
    finally:
        holder.release()
    assert 0.6 <= caught.value.waited and waited < 10
    assert "after waiting" in str(caught.value)
    assert backend.stats()["requests"] == {}
    assert not (tmp_path / JOURNAL_NAME).exists()  # the journal is not even opened


def test_the_cli_exits_75_naming_the_process_that_holds_the_journal(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock()
    path = tmp_path / "in.jsonl"
    path.write_text('{"prompt": "held", "width": 64, "height": 64}\n')
    out = tmp_path / "out"
    holder = JournalLock(lock_file(out))
    asyncio.run(holder.acquire())
    try:
        result = CliRunner().invoke(
            app,
            ["batch", str(path), "--model", "stability-ai/sdxl", "--out", str(out)],
            env={"REPLICATE_API_TOKEN": TOKEN, "REPLICATE_BASE_URL": server.url + "/replicate"},
        )
    finally:
        holder.release()
    assert result.exit_code == 75, result.output
    assert f"pid {os.getpid()} on host {socket.gethostname()} since " in result.stderr
    assert "--wait-for-lock" in result.stderr and TOKEN not in result.output
    assert backend.stats()["requests"] == {}


async def test_a_live_record_from_another_host_refuses_even_when_the_os_lock_is_granted(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    """A folder shared by two machines whose file locks do not reach each other (NFS nolock,
    SMB, sshfs): the other machine's fresh heartbeat is the only sign it runs."""
    backend = mock()
    path = lock_file(tmp_path)
    now = time.time()
    other = LockOwner(4242, "other-machine", now - 300, "replicate-typed batch x", now - 2)
    path.write_text(other.to_json())
    async with AsyncClient(api_token=TOKEN, base_url=server.url) as client:
        with pytest.raises(JournalLockedError) as caught:
            await arun_many(client, inputs(2, "nfs"), out_dir=tmp_path, **FAST)
        assert caught.value.foreign and caught.value.owner == other
        assert "pid 4242 on host other-machine" in str(caught.value)
        assert "do not reach that machine" in str(caught.value)
        assert backend.stats()["requests"] == {}
        # the same record, gone stale (that runner stopped without saying so): go ahead
        stale = LockOwner(4242, "other-machine", now - 900, "x", now - 600)
        path.write_text(stale.to_json())
        report = await arun_many(client, inputs(2, "nfs"), out_dir=tmp_path, **FAST)
    assert report.ok and report.created == 2


async def test_a_holder_whose_record_is_overwritten_stops_creating(
    server: MockServer, mock: MakeMock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another machine took the journal over (its lock did not see ours): stop paying."""
    monkeypatch.setattr(lock_module, "HEARTBEAT_SECONDS", 0.05)
    backend = mock(default_timing=(0.05, 0.3))
    path = lock_file(tmp_path)
    async with AsyncClient(api_token=TOKEN, base_url=server.url) as client:
        run = asyncio.create_task(
            arun_many(client, inputs(40, "stolen"), out_dir=tmp_path, concurrency=1, **FAST)
        )
        await until(lambda: backend.stats()["creates"] >= 2)
        intruder = LockOwner(77, "other-machine", time.time(), "x", time.time(), token="t" * 32)
        with open(path, "r+b") as handle:  # in place, as the other runner would write it
            handle.write(intruder.to_json().encode().ljust(4095) + b"\n")
        report = await run
    assert report.aborted and "took over this journal" in report.aborted
    assert "other-machine" in report.aborted
    assert backend.stats()["creates"] < 40
    assert backend.stats()["duplicate_creates"] == 0
    assert read_owner(path) == intruder  # ours was not written back over it


def test_a_lock_is_dropped_with_its_process_even_without_release(tmp_path: Path) -> None:
    """The OS lock ends with the file descriptor: a killed runner never blocks a resume."""
    path = tmp_path / "j.lock"
    first = JournalLock(path)
    asyncio.run(first.acquire())
    second = JournalLock(path)
    with pytest.raises(JournalLockedError):
        asyncio.run(second.acquire())
    assert first._fd is not None
    first._stop.set()
    os.close(first._fd)  # what the kernel does when the process dies
    first._fd = None
    asyncio.run(second.acquire())
    assert second.held
    second.release()


def test_every_prediction_of_two_runners_on_one_journal_is_in_it(tmp_path: Path) -> None:
    """Journal level (no lock): whatever two writers interleave, an attempt with a prediction
    id is never 'not created', and every prediction id reaches the journal."""
    a = Journal.in_dir(tmp_path)
    b = Journal.in_dir(tmp_path)
    key = "k" * 64
    a.add(key, 1, sdxl.MODEL.ref)
    a.mark_creating(key)  # runner A sends its create ...
    b.mark_not_found(key, "B reconciled before A's create reached the server")
    b.mark_creating(key)  # ... B sends another
    a.mark_created(key, "pred_a")  # A's answer arrives (on A's attempt, not B's)
    b.mark_created(key, "pred_b")  # B's too: the input keeps A's, B's is kept in its attempt
    outcomes = {(o, p) for _, _, o, p in a.attempts(key)}
    assert outcomes == {("created", "pred_a"), ("created", "pred_b")}
    assert a.known_prediction_ids() == {"pred_a", "pred_b"}
    entry = a.get(key)
    assert entry is not None and entry.prediction_id == "pred_a"
    assert "pred_b was also created" in (entry.error or "")
    a.close()
    b.close()


@pytest.mark.slow  # two batch CLI processes: `make test-slow`
def test_two_cli_runs_started_at_once_pay_once(tmp_path: Path) -> None:
    """The issue's case: the same command twice at the same moment (40 lines)."""
    import json
    import subprocess
    import sys

    from replicate_typed.mock import FaultConfig

    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(
        "".join(
            json.dumps({"prompt": f"twice {i}", "width": 64, "height": 64}) + "\n"
            for i in range(40)
        )
    )
    command = [sys.executable, "-m", "replicate_typed.cli", "batch", str(jsonl)]
    command += ["-m", "stability-ai/sdxl", "--out", str(tmp_path / "out"), "-j", "4"]
    command += ["--creates-per-minute", "6000"]
    faults = FaultConfig(slow_rate=0.3, slow_seconds=0.2, seed=5)
    with MockServer(api_tokens=(TOKEN,), default_timing=(0.02, 0.2), faults=faults) as server:
        env = {**os.environ, "REPLICATE_API_TOKEN": TOKEN}
        env["REPLICATE_BASE_URL"] = server.url + "/replicate"
        env.pop("REPLICATE_TYPED_DEBUG", None)
        runs = [
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        outputs = [run.communicate(timeout=180) for run in runs]
        codes = sorted(run.returncode for run in runs)
        again = subprocess.run(
            [*command, "--wait-for-lock", "30"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        stats = server.backend.stats()
    assert codes == [0, 75], outputs
    refused = next(err for (_, err), run in zip(outputs, runs, strict=True) if run.returncode == 75)
    assert "another batch runner holds the journal" in refused and "nothing was sent" in refused
    assert again.returncode == 0 and "this run: created 0" in again.stderr
    assert stats["duplicate_creates"] == 0 and stats["creates"] == 40
