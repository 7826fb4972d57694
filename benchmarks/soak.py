"""Fault soak (``make soak``): thousands of predictions against a misbehaving mock; nothing paid
twice, nothing lost. Not a test: prints a table and exits non-zero when a target is missed.

The built-in mock server runs in its own process (``python -m replicate_typed.mock``) on
127.0.0.1, with random faults on creates, gets, lists and output downloads: about 10 % 429
(``Retry-After: 1``), 5 % 5xx (half of the create ones *after* the prediction was created),
2 % connection resets (likewise) and 5 % slow answers. Three phases, each on a fresh mock:

1. **async client**: ``--n`` predictions through ``AsyncClient`` directly, the way an
   application would use it: create (retrying only errors that say nothing was created; an
   error with ``prediction_may_exist`` is looked up with ``predictions.list`` first), wait,
   download.
2. **batch runner**: the same number through ``batch.arun_many`` (journal, reconciliation,
   downloads with checksums). The mock enforces no rate limit, so the soak lifts the runner's.
3. **kill and resume**: ``replicate-typed batch`` in a subprocess on one folder, SIGKILLed at
   random moments ``--kills`` times, then run to the end.
4. **two runners**: two ``replicate-typed batch`` processes started at the same moment on the
   same input and folder, both with ``--wait-for-lock``: one runs, the other waits; a third
   started mid-run without it must exit 75 at once (naming the holder). The holder is
   SIGKILLed at a random moment; the waiter takes the journal over and finishes. Targets as
   above, plus those exit codes.

For each phase: created (on the server), succeeded, failed, duplicate creates (the mock's own
count of creates per input fingerprint), lost (inputs without a prediction id plus server
predictions whose id the user never got), failures without a prediction id. Targets: 0
duplicates, 0 lost, every failure names its prediction id.

Usage: ``python -m benchmarks.soak [--n 2000] [--concurrency 64] [--kill-n 300] [--kills 4]
[--two-n N] [--phases client,batch,kill,two] [--seed N]``. The seed (random unless given) is printed first: ``--seed N`` replays the same
fault draws and kill points.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from replicate_typed.batch import Journal, arun_many
from replicate_typed.client import AsyncClient
from replicate_typed.client.downloads import adownload_all
from replicate_typed.client.errors import (
    APIConnectionError,
    APIResponseValidationError,
    DownloadError,
    InternalServerError,
    RateLimitError,
    ReplicateError,
)
from replicate_typed.client.polling import PollPolicy
from replicate_typed.models.stability_ai import sdxl

TOKEN = "r8_soak_token_0123456789abcdefghijklmnop"
MODEL = "stability-ai/sdxl"
VERSION = f"{MODEL}:{sdxl.MODEL.version}"
FAULT_OPERATIONS = ["predictions.create", "predictions.get", "predictions.list", "outputs.get"]


def fault_rates(seed: int) -> dict[str, Any]:
    return {
        "rate_429": 0.10,
        "rate_5xx": 0.05,
        "rate_reset": 0.02,
        "slow_rate": 0.05,
        "slow_seconds": 0.5,
        "retry_after": 1,
        "after_create_ratio": 0.5,
        "operations": FAULT_OPERATIONS,
        "seed": seed,
    }


def verdict(missed: list[str], met: str) -> None:
    """Print the benchmark's verdict; exit 1 when a target was missed."""
    if missed:
        print("TARGETS MISSED: " + "; ".join(missed))
        sys.exit(1)
    print(f"targets met: {met}")


class MockProcess:
    """The mock server in a child process; admin endpoints for faults and counters."""

    def __init__(self, start_s: float = 0.05, run_s: float = 0.3) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "replicate_typed.mock",
                "--port",
                "0",
                "--token",
                TOKEN,
                "--start",
                str(start_s),
                "--run",
                str(run_s),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.stop()
            raise RuntimeError(f"the mock did not start: {line!r}")
        self.url = line.strip().rsplit(" ", 1)[-1]
        self.base = self.url + "/replicate"
        self.admin = httpx.Client(base_url=self.url, timeout=30)

    def set_faults(self, rates: dict[str, Any] | None) -> None:
        response = self.admin.put("/_mock/faults", json=rates or {})
        response.raise_for_status()

    def stats(self) -> dict[str, Any]:
        data: dict[str, Any] = self.admin.get("/_mock/stats").json()
        return data

    def server_ids(self) -> set[str]:
        """Every prediction the server holds (faults must be off)."""
        ids: set[str] = set()
        url: str | None = f"{self.base}/v1/predictions"
        headers = {"Authorization": f"Bearer {TOKEN}"}
        while url:
            page = self.admin.get(url, headers=headers).json()
            ids.update(p["id"] for p in page["results"])
            url = page.get("next")
        return ids

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        if hasattr(self, "admin"):
            self.admin.close()


@dataclass
class Outcome:
    """What the user ended up with for one input."""

    prediction_id: str | None = None
    status: str | None = None
    files: int = 0
    error: str | None = None


@dataclass
class Phase:
    name: str
    inputs: int
    seconds: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    server_ids: set[str] = field(default_factory=set)
    notes: dict[str, Any] = field(default_factory=dict)
    missed: list[str] = field(default_factory=list)
    """Targets of this phase beyond the common ones that were missed."""

    def row(self) -> dict[str, Any]:
        user_ids = {o.prediction_id for o in self.outcomes if o.prediction_id}
        no_id = sum(1 for o in self.outcomes if not o.prediction_id)
        orphans = len(self.server_ids - user_ids)
        failed = [o for o in self.outcomes if not (o.status == "succeeded" and o.error is None)]
        unnamed = [
            o for o in failed if not o.prediction_id or o.prediction_id not in (o.error or "")
        ]
        return {
            "phase": self.name,
            "inputs": self.inputs,
            "created": self.stats.get("creates", 0),
            "succeeded": self.inputs - len(failed),
            "failed": len(failed),
            "duplicate creates": self.stats.get("duplicate_creates", 0),
            "lost": no_id + orphans,
            "failures without id": len(unnamed),
            "faults injected": sum(self.stats.get("faults", {}).values()),
            "seconds": round(self.seconds, 1),
            **self.notes,
        }


def make_inputs(tag: str, n: int) -> list[dict[str, Any]]:
    return [{"prompt": f"soak {tag} {i}", "width": 64, "height": 64} for i in range(n)]


# --- phase 1: the async client used directly -----------------------------------------------------


async def client_phase(mock: MockProcess, n: int, concurrency: int, out: Path) -> Phase:
    phase = Phase("async client", n)
    inputs = make_inputs("client", n)
    counters = {"unknown outcome": 0, "found by list": 0}
    started_wall = time.time() - 60
    gate = asyncio.Semaphore(concurrency)
    poll = PollPolicy(initial=0.1, max_interval=1.0)
    async with (
        AsyncClient(api_token=TOKEN, base_url=mock.base, poll_policy=poll) as client,
        httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=concurrency)) as dl,
    ):

        async def find(values: dict[str, Any]) -> str | None:
            after = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started_wall))
            for _ in range(10):
                try:
                    async for p in client.predictions.list(created_after=after):
                        if p.input == values:
                            return p.id
                    return None
                except ReplicateError:
                    await asyncio.sleep(1)
            raise RuntimeError("predictions.list kept failing")

        async def create(values: dict[str, Any]) -> str | None:
            for attempt in range(10):
                try:
                    return (await client.predictions.create(version=VERSION, input=values)).id
                except ReplicateError as exc:
                    if exc.prediction_may_exist or isinstance(exc, APIResponseValidationError):
                        counters["unknown outcome"] += 1
                        await asyncio.sleep(0.5)  # let a slow server finish the create
                        found = await find(values)
                        if found is not None:
                            counters["found by list"] += 1
                            return found
                    elif not isinstance(
                        exc, (RateLimitError, APIConnectionError, InternalServerError)
                    ):
                        raise
                await asyncio.sleep(min(0.2 * 2**attempt, 3.0))
            return None

        async def one(values: dict[str, Any]) -> Outcome:
            outcome = Outcome()
            async with gate:
                try:
                    outcome.prediction_id = await create(values)
                    if outcome.prediction_id is None:
                        outcome.error = "could not create after 10 attempts"
                        return outcome
                    pid = outcome.prediction_id
                    for attempt in range(10):
                        try:
                            final = await client.predictions.wait(pid)
                            break
                        except ReplicateError as exc:
                            if exc.prediction_id != pid:
                                outcome.error = f"error without the prediction id: {exc}"
                                return outcome
                            await asyncio.sleep(min(0.2 * 2**attempt, 3.0))
                    else:
                        outcome.error = f"prediction {pid}: wait kept failing"
                        return outcome
                    outcome.status = str(final.status)
                    if outcome.status != "succeeded":
                        outcome.error = f"prediction {pid} {outcome.status}: {final.error}"
                        return outcome
                    for attempt in range(10):
                        try:
                            paths = await adownload_all(
                                final.output, out / pid, http=dl, overwrite=True
                            )
                            outcome.files = len(paths)
                            break
                        except DownloadError:
                            await asyncio.sleep(min(0.2 * 2**attempt, 3.0))
                    else:
                        outcome.error = f"prediction {pid}: download kept failing"
                except ReplicateError as exc:
                    outcome.error = (
                        f"{exc} (prediction {exc.prediction_id or outcome.prediction_id})"
                    )
            return outcome

        started = time.monotonic()
        phase.outcomes = list(await asyncio.gather(*(one(v) for v in inputs)))
        phase.seconds = time.monotonic() - started
    phase.notes.update(counters)
    return phase


# --- phase 2: the batch runner in-process ----------------------------------------------------------


async def batch_phase(mock: MockProcess, n: int, concurrency: int, out: Path) -> Phase:
    phase = Phase("batch runner", n)
    inputs = make_inputs("batch", n)
    started = time.monotonic()
    async with AsyncClient(api_token=TOKEN, base_url=mock.base) as client:
        report = await arun_many(
            client,
            inputs,
            model=MODEL,
            out_dir=out,
            concurrency=concurrency,
            creates_per_minute=None,
            reads_per_minute=None,
            reconcile_delay=0.5,
            poll_policy=PollPolicy(initial=0.1, max_interval=1.0),
        )
    phase.seconds = time.monotonic() - started
    phase.outcomes = [
        Outcome(r.prediction_id, r.status, len(r.files), r.error) for r in report.results
    ]
    phase.notes.update({"reconciled": report.reconciled, "downloaded": report.downloaded})
    return phase


# --- phase 3: SIGKILL and resume ---------------------------------------------------------------------


def kill_phase(mock: MockProcess, n: int, kills: int, out: Path, seed: int) -> Phase:
    phase = Phase(f"kill x{kills} + resume", n)
    jsonl = out / "inputs.jsonl"
    out.mkdir(parents=True, exist_ok=True)
    jsonl.write_text("".join(json.dumps(v) + "\n" for v in make_inputs("kill", n)))
    command = [
        sys.executable,
        "-m",
        "replicate_typed.cli",
        "batch",
        str(jsonl),
        "--model",
        MODEL,
        "--out",
        str(out / "run"),
        "-j",
        "16",
        "--creates-per-minute",
        "100000",
    ]
    env = {**os.environ, "REPLICATE_API_TOKEN": TOKEN, "REPLICATE_BASE_URL": mock.base}
    rng = random.Random(seed)
    started = time.monotonic()
    kill_points = []
    for _ in range(kills):
        target = mock.stats()["creates"] + rng.randint(5, max(6, n // (kills + 2)))
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if mock.stats()["creates"] >= target:
                break
            time.sleep(rng.uniform(0.0, 0.05))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        kill_points.append(mock.stats()["creates"])
    final = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    phase.seconds = time.monotonic() - started
    phase.outcomes, attempts = journal_outcomes(out / "run", n)
    phase.notes.update(
        {
            "creates at each kill": kill_points,
            "reconciled": sum(1 for a in attempts if a[2] == "reconciled"),
            "final exit": final.returncode,
        }
    )
    return phase


# --- phase 4: two runners on one folder ---------------------------------------------------------


def journal_outcomes(folder: Path, n: int) -> tuple[list[Outcome], list[Any]]:
    with Journal.in_dir(folder) as journal:
        entries = list(journal.entries())
        attempts = [a for e in entries for a in journal.attempts(e.key)]
    outcomes = [
        Outcome(
            e.prediction_id,
            e.status,
            len(e.files),
            e.error if e.state != "creating" and e.state != "queued" else f"left {e.state}",
        )
        for e in entries
    ]
    outcomes += [Outcome(error="missing from the journal")] * (n - len(entries))
    return outcomes, attempts


def two_runners_phase(mock: MockProcess, n: int, out: Path, seed: int) -> Phase:
    from replicate_typed.batch.lock import lock_path, read_owner

    phase = Phase("two runners", n)
    out.mkdir(parents=True, exist_ok=True)
    jsonl = out / "inputs.jsonl"
    jsonl.write_text("".join(json.dumps(v) + "\n" for v in make_inputs("two", n)))
    folder = out / "run"
    command = [
        sys.executable,
        "-m",
        "replicate_typed.cli",
        "batch",
        str(jsonl),
        "--model",
        MODEL,
        "--out",
        str(folder),
        "-j",
        "16",
        "--creates-per-minute",
        "100000",
    ]
    env = {**os.environ, "REPLICATE_API_TOKEN": TOKEN, "REPLICATE_BASE_URL": mock.base}
    rng = random.Random(seed)
    started = time.monotonic()
    # the same moment, both willing to wait: whichever takes the lock runs, the other waits
    runners = {
        name: subprocess.Popen(
            [*command, "--wait-for-lock", "600"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("A", "B")
    }
    kill_at = mock.stats()["creates"] + rng.randint(5, max(6, n // 2))
    refused: subprocess.CompletedProcess[str] | None = None
    killed: str | None = None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and any(p.poll() is None for p in runners.values()):
        creates = mock.stats()["creates"]
        if refused is None and creates >= 3:
            refused_started = time.monotonic()
            refused = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
            phase.notes["refused in s"] = round(time.monotonic() - refused_started, 1)
        if creates >= kill_at:
            owner = read_owner(lock_path(folder / "journal.sqlite3"))
            holder = [name for name, p in runners.items() if owner and p.pid == owner.pid]
            if holder:
                runners[holder[0]].send_signal(signal.SIGKILL)
                killed = holder[0]
            break
        time.sleep(rng.uniform(0.0, 0.05))
    codes: dict[str, int | None] = {}
    errors: dict[str, str] = {}
    for name, proc in runners.items():
        try:
            _, err = proc.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        codes[name] = proc.returncode
        errors[name] = err[-500:]
    phase.seconds = time.monotonic() - started
    phase.outcomes, attempts = journal_outcomes(folder, n)
    phase.notes.update(
        {
            "killed": killed or "none (ended first)",
            "exit codes": codes,
            "third runner exit": None if refused is None else refused.returncode,
            "reconciled": sum(1 for a in attempts if a[2] == "reconciled"),
        }
    )
    if refused is None:
        phase.missed.append("the third runner was never started (the run ended too soon)")
    elif refused.returncode != 75 or "holds the journal" not in refused.stderr:
        phase.missed.append(
            f"the third runner exited {refused.returncode}, not 75: {refused.stderr[-300:]!r}"
        )
    survivors = {k: v for k, v in codes.items() if k != killed}
    for name, code in survivors.items():
        if code != 0:
            phase.missed.append(f"the {name} runner exited {code}: {errors[name]!r}")
    return phase


def run_phase(name: str, seed: int, body: Any) -> Phase:
    mock = MockProcess()
    try:
        mock.set_faults(fault_rates(seed))
        phase: Phase = body(mock)
        mock.set_faults(None)
        phase.stats = mock.stats()
        phase.server_ids = mock.server_ids()
        return phase
    finally:
        mock.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="predictions in phases 1 and 2")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--kill-n", type=int, default=300, help="inputs of the kill phase")
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument(
        "--two-n", type=int, default=None, help="inputs of the two-runner phase (min(--n, 300))"
    )
    parser.add_argument(
        "--phases",
        default="client,batch,kill,two",
        help="comma-separated phases to run (client, batch, kill, two)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the fault draws and kill points (default: a random one, printed)",
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 2**31)
    print(f"soak seed: {args.seed} (replay: make soak SOAK_ARGS='--seed {args.seed}')", flush=True)
    wanted = {p.strip() for p in args.phases.split(",") if p.strip()}
    unknown = wanted - {"client", "batch", "kill", "two"}
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(sorted(unknown))}")
    two_n = args.two_n if args.two_n is not None else min(args.n, 300)
    rows = []
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        root = Path(tmp)
        bodies: list[tuple[str, int, Any]] = [
            (
                "client",
                args.seed,
                lambda m: asyncio.run(client_phase(m, args.n, args.concurrency, root / "client")),
            ),
            (
                "batch",
                args.seed + 1,
                lambda m: asyncio.run(batch_phase(m, args.n, args.concurrency, root / "batch")),
            ),
            (
                "kill",
                args.seed + 2,
                lambda m: kill_phase(m, args.kill_n, args.kills, root / "kill", args.seed),
            ),
            (
                "two",
                args.seed + 3,
                lambda m: two_runners_phase(m, two_n, root / "two", args.seed + 3),
            ),
        ]
        phases = [run_phase(name, seed, body) for name, seed, body in bodies if name in wanted]
        for phase in phases:
            rows.append(phase.row())
            failures = [o for o in phase.outcomes if o.error][:5]
            for o in failures:
                print(f"  {phase.name}: failure: {o.error}")
    if args.json:
        print(json.dumps(rows, indent=2))
    for row in rows:
        print(" | ".join(f"{k}: {v}" for k, v in row.items()))
    missed = [
        f"{row['phase']}: {name} = {row[name]}"
        for row in rows
        for name in ("duplicate creates", "lost", "failures without id")
        if row[name]
    ]
    missed += [f"{phase.name}: {what}" for phase in phases for what in phase.missed]
    verdict(
        missed,
        f"0 duplicate creates, 0 lost, every failure names its prediction id (seed {args.seed})",
    )


if __name__ == "__main__":
    main()
