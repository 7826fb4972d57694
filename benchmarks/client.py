"""Client benchmark (``make bench-client``): not a test; prints a table of ratios and latencies.

1. Overhead: a create + get round trip through :class:`Client` vs plain ``httpx`` sending the
   same two requests (same headers and body, JSON decoded) over the same in-process
   ``httpx.MockTransport``. Thread CPU time, ratio of medians of interleaved rounds (target ≤ 1.00).
2. ``Prefer: wait``: the mock server holds the create until the job ends (real short sleeps);
   how long after the job's end the client's ``run`` returns (target: < 25 ms on average).
3. Waiting on simulated jobs of 0.2-2 s (simulated clock, no real sleeps) when the server does
   not hold the create: how late completion is seen relative to the job's duration and how many
   requests it takes after the create -- the adaptive poller and a fixed 0.5 s poller (GETs), and
   the prediction's stream (its ``done`` event, then one GET). Job kinds: ones that print a
   tqdm progress bar in their logs (most image models do) and ones that print nothing. The
   simulated stream delivers ``done`` at the job's end by construction: these rows check the
   request count; item 4 measures the stream's lateness for real.
4. The same three on real jobs: the mock server over loopback (``python -m replicate_typed.mock``
   in its own process; real clock), jobs of 0.2-2 s run 8 at a time through
   :class:`AsyncClient`: from the job's end (the mock's ``completed_at``) to ``run()`` returning,
   and the requests per prediction after the create, counted by the mock.

Usage: ``python -m benchmarks.client [--rounds N] [--jobs N] [--real-jobs N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from replicate_typed.client import AsyncClient, Client
from replicate_typed.client.polling import PollPolicy
from replicate_typed.client.retries import RetryPolicy
from replicate_typed.models.stability_ai import sdxl

ROOT = Path(__file__).resolve().parents[1]

BASE = "https://router.example/replicate"
TOKEN = "r8_benchmarkToken0123456789abcdefghij"
VERSION = sdxl.MODEL.version or ""
PID = "ctdwaehfz1rm80cmd5nsjd8114"
STREAM = f"{BASE}/v1/predictions/{PID}/stream"  # the base URL's origin: the client may read it


def prediction(status: str, *, logs: str = "", output: Any = None) -> dict[str, Any]:
    return {
        "id": PID,
        "model": "stability-ai/sdxl",
        "version": VERSION,
        "input": {"prompt": "a lighthouse at dusk"},
        "logs": logs,
        "output": output,
        "data_removed": False,
        "error": None,
        "status": status,
        "created_at": "2025-01-15T10:03:39.896Z",
        "started_at": "2025-01-15T10:03:40.584470194Z",
        "urls": {
            "get": f"https://api.replicate.com/v1/predictions/{PID}",
            "cancel": f"https://api.replicate.com/v1/predictions/{PID}/cancel",
            "stream": "https://stream.replicate.com/v1/files/bcwr-q57vie7wuzg3wxv2hvpajgmzqzmxe67kqddednevutmrpdcft6xq",
        },
        "metrics": {"predict_time": 0.557916184},
    }


OUTPUT = [
    "https://replicate.delivery/xezq/RoEhEdyl8PoIGFFPg46TU4Svj24i1NDVYmzehJfqLuX9nTFUA/out-0.png"
]


# --- 1. overhead ----------------------------------------------------------------------------------


def overhead(rounds: int, per_round: int) -> dict[str, float]:
    created = json.dumps(prediction("starting")).encode()
    done = json.dumps(prediction("succeeded", output=OUTPUT)).encode()
    headers = {"content-type": "application/json"}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(201, content=created, headers=headers)
        return httpx.Response(200, content=done, headers=headers)

    transport = httpx.MockTransport(handler)
    client = Client(api_token=TOKEN, base_url=BASE, transport=transport)
    plain = httpx.Client(transport=transport, timeout=60.0)
    auth = {"Authorization": f"Bearer {TOKEN}", "User-Agent": "bench", "Accept": "application/json"}
    body = {"version": VERSION, "input": {"prompt": "a lighthouse at dusk"}}

    def with_client() -> None:
        p = client.predictions.create(version=VERSION, input={"prompt": "a lighthouse at dusk"})
        client.predictions.get(p.id)

    def with_httpx() -> None:
        r = plain.post(f"{BASE}/v1/predictions", json=body, headers=auth)
        r.raise_for_status()
        pid = r.json()["id"]
        g = plain.get(f"{BASE}/v1/predictions/{pid}", headers=auth)
        g.raise_for_status()
        g.json()

    def timed(fn: Callable[[], None]) -> float:
        # CPU time of this thread: other processes on a busy 2-core machine do not count
        start = time.thread_time()
        for _ in range(per_round):
            fn()
        return (time.thread_time() - start) / per_round

    for _ in range(3):  # warm up both paths
        timed(with_client)
        timed(with_httpx)
    ours, base = [], []
    for _ in range(rounds):  # interleaved so machine noise hits both alike
        base.append(timed(with_httpx))
        ours.append(timed(with_client))
    client.close()
    plain.close()
    m_ours, m_base = statistics.median(ours), statistics.median(base)
    return {
        "client_us": m_ours * 1e6,
        "httpx_us": m_base * 1e6,
        "ratio": m_ours / m_base,
        "ratio_min": min(ours) / min(base),  # least-disturbed rounds (timeit's advice)
    }


# --- 2. Prefer: wait ------------------------------------------------------------------------------


def prefer_wait(jobs: int, rng: random.Random) -> dict[str, float]:
    """The server holds the create until the job ends; measure end -> run() returned."""
    ends: list[float] = []
    lock = threading.Lock()

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers.get("Prefer", "").startswith("wait")
        duration = rng.uniform(0.02, 0.12)
        time.sleep(duration)
        with lock:
            ends.append(time.perf_counter())
        return httpx.Response(201, json=prediction("succeeded", output=OUTPUT))

    client = Client(api_token=TOKEN, base_url=BASE, transport=httpx.MockTransport(handler))
    client.run(sdxl.Input(prompt="warm up"))
    ends.clear()
    late: list[float] = []
    for _ in range(jobs):
        client.run(sdxl.Input(prompt="a lighthouse"))
        late.append(time.perf_counter() - ends[-1])
    client.close()
    return {"mean_ms": statistics.mean(late) * 1e3, "max_ms": max(late) * 1e3}


# --- 3. polling on simulated jobs -----------------------------------------------------------------


class SimClock:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Job:
    duration: float
    steps: int  # tqdm steps (0: the job prints no progress)
    noise: float  # multiplicative error of the rate tqdm shows (tqdm smooths it)

    # phases: setup 10 % (status starting), bar 85 % (processing, one log line per step),
    # post-processing 5 % (uploading outputs; processing, bar at 100 %)
    def status_and_logs(self, t: float) -> tuple[str, str]:
        d = self.duration
        if t >= d:
            return "succeeded", self._bar(self.steps, d)
        if t < 0.10 * d:
            return "starting", ""
        bar_time = 0.85 * d
        done = min(self.steps, int((t - 0.10 * d) / bar_time * self.steps)) if self.steps else 0
        return "processing", self._bar(done, d)

    def _bar(self, done: int, d: float) -> str:
        if not self.steps:
            return ""
        rate = self.steps / (0.85 * d) * self.noise
        lines = [f"Using seed: 4242\n  0%|          | 0/{self.steps} [00:00<?, ?it/s]"]
        if done:
            pct = int(100 * done / self.steps)
            lines.append(f"{pct:3d}%|####      | {done}/{self.steps} [00:00<00:00, {rate:.2f}it/s]")
        return "\n".join(lines) + "\n"


class SimStream(httpx.SyncByteStream):
    """A job's event stream on the simulated clock: its log lines as the job prints them, then
    ``done`` at the moment it ends (reading it moves the clock to that moment)."""

    def __init__(self, job: Job, clock: SimClock) -> None:
        self.job, self.clock = job, clock

    def __iter__(self) -> Iterator[bytes]:
        job, n = self.job, 0
        steps = [job.duration * (0.10 + 0.85 * (i + 1) / job.steps) for i in range(job.steps)]
        for when in [*steps, job.duration]:
            self.clock.now = max(self.clock.now, when)
            event = "done" if when == job.duration else "logs"
            data = "{}" if event == "done" else f"step {n + 1}/{job.steps}"
            yield f"id: 1:{n}\nevent: {event}\ndata: {data}\n\n".encode()
            n += 1


def simulate(job: Job, policy: PollPolicy) -> tuple[float, int]:
    """Run one job on a simulated clock; returns (seconds seen late, requests after the create)."""
    clock = SimClock()
    requests = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal requests
        if request.method == "GET":
            requests += 1
        if request.url == STREAM:
            headers = {"content-type": "text/event-stream"}
            return httpx.Response(200, headers=headers, stream=SimStream(job, clock))
        status, logs = job.status_and_logs(clock.now)
        output = OUTPUT if status == "succeeded" else None
        code = 201 if request.method == "POST" else 200
        body = prediction(status, logs=logs, output=output)
        body["urls"]["stream"] = STREAM
        return httpx.Response(code, json=body)

    client = Client(
        api_token=TOKEN,
        base_url=BASE,
        transport=httpx.MockTransport(handler),
        poll_policy=policy,
        retry_policy=RetryPolicy(max_retries=0),
        sleep=clock.sleep,
        clock=clock.clock,
    )
    client.run(sdxl.Input(prompt="p"), wait=False)  # a server that ignores Prefer: wait
    client.close()
    return clock.now - job.duration, requests


ADAPTIVE = PollPolicy(use_stream=False)
FIXED = PollPolicy(initial=0.5, factor=1.0, max_interval=0.5, use_progress=False, use_stream=False)
STREAMING = PollPolicy()  # the default: the stream when the prediction has one
STREAM_ROW = "stream (default)"
WAITERS = (("adaptive poller", ADAPTIVE), ("fixed 0.5 s poller", FIXED), (STREAM_ROW, STREAMING))


def polling(jobs: int, rng: random.Random) -> list[dict[str, Any]]:
    durations = [rng.uniform(0.2, 2.0) for _ in range(jobs)]
    long_durations = [rng.uniform(10.0, 60.0) for _ in range(max(10, jobs // 5))]
    kinds = {
        "0.2-2 s, progress bar": [
            Job(d, rng.choice([4, 20, 28, 50]), rng.uniform(0.9, 1.1)) for d in durations
        ],
        "0.2-2 s, no progress": [Job(d, 0, 1.0) for d in durations],
        "10-60 s, no progress": [Job(d, 0, 1.0) for d in long_durations],
    }
    rows = []
    for kind, job_list in kinds.items():
        for name, policy in WAITERS:
            late, rel, gets = [], [], 0
            for job in job_list:
                seen_late, n = simulate(job, policy)
                late.append(seen_late)
                rel.append(seen_late / job.duration)
                gets += n
            rows.append(
                {
                    "jobs": f"{kind} (n={len(job_list)})",
                    "poller": name,
                    "late_ms": statistics.mean(late) * 1e3,
                    "late_pct": statistics.mean(rel) * 100,
                    "p90_pct": sorted(rel)[int(0.9 * len(rel))] * 100,
                    "gets": gets / len(job_list),
                }
            )
    return rows


# --- 4. real jobs: the mock over loopback --------------------------------------------------------

_TIMING: contextvars.ContextVar[str] = contextvars.ContextVar("timing")


async def _timing_header(request: httpx.Request) -> None:
    if request.method == "POST":
        request.headers["X-Mock-Timing"] = _TIMING.get()  # this job's (start_s, run_s)


async def _real_jobs(
    base: str, durations: list[float], policy: PollPolicy, concurrency: int
) -> list[float]:
    http = httpx.AsyncClient(event_hooks={"request": [_timing_header]}, timeout=60.0)
    client = AsyncClient(api_token=TOKEN, base_url=base, http_client=http, poll_policy=policy)
    gate = asyncio.Semaphore(concurrency)
    late: list[float] = []

    async def one(duration: float) -> None:
        async with gate:
            _TIMING.set(f"{0.1 * duration:.4f},{0.9 * duration:.4f}")
            created = await client.create(sdxl.Input(prompt="a lighthouse"))
            final = await client.predictions.wait(created.raw)
            seen = time.time()
            assert final.status == "succeeded" and isinstance(final.completed_at, datetime)
            late.append(seen - final.completed_at.timestamp())

    await asyncio.gather(*(one(d) for d in durations))
    await client.close()
    await http.aclose()
    return late


class MockProcess:
    """``python -m replicate_typed.mock`` on a free loopback port, in its own process (a server
    that does not share this process's interpreter), stopped by its PID."""

    def __init__(self) -> None:
        command = [sys.executable, "-m", "replicate_typed.mock", "--port", "0", "--token", TOKEN]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("Mock server listening on "):
            self.stop()
            raise RuntimeError(f"the mock did not start: {line!r}")
        self.url = line.split()[-1]
        self.admin = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {TOKEN}"})

    def operations(self) -> dict[str, int]:
        stats: dict[str, int] = self.admin.get("/_mock/stats").json()["operations"]
        return stats

    def reset(self) -> None:
        self.admin.post("/_mock/stats/reset").raise_for_status()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def real(jobs: int, rng: random.Random, concurrency: int = 8) -> list[dict[str, Any]]:
    durations = [rng.uniform(0.2, 2.0) for _ in range(jobs)]
    rows = []
    mock = MockProcess()
    try:
        asyncio.run(_real_jobs(mock.url, [0.2] * concurrency, STREAMING, concurrency))  # warm up
        for name, policy in WAITERS:
            mock.reset()
            late = asyncio.run(_real_jobs(mock.url, durations, policy, concurrency))
            ops = mock.operations()
            after = ops.get("predictions.get", 0) + ops.get("predictions.stream", 0)
            assert ops["predictions.create"] == jobs
            rel = sorted(x / d for x, d in zip(late, durations, strict=False))
            rows.append(
                {
                    "jobs": f"mock, 0.2-2 s, {concurrency} at a time (n={jobs})",
                    "poller": name,
                    "late_ms": statistics.mean(late) * 1e3,
                    "p90_ms": sorted(late)[int(0.9 * len(late))] * 1e3,
                    "late_pct": statistics.mean(rel) * 100,
                    "requests": after / jobs,
                }
            )
    finally:
        mock.admin.close()
        mock.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--wait-jobs", type=int, default=20)
    parser.add_argument("--real-jobs", type=int, default=48)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--json",
        type=Path,
        default=ROOT / ".bench" / "client.json",
        help="Write the results here (scripts/charts.py draws them; default .bench/client.json).",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    o = overhead(args.rounds, args.per_round)
    print(
        f"1. create + get round trip over httpx.MockTransport "
        f"(median of {args.rounds} interleaved rounds of {args.per_round})"
    )
    print(f"   plain httpx      {o['httpx_us']:8.1f} us")
    print(f"   Client           {o['client_us']:8.1f} us")
    verdict = "ok" if o["ratio"] <= 1.00 else "ABOVE TARGET"
    print(f"   ratio            {o['ratio']:8.3f}x   (target <= 1.00x: {verdict})")
    print(f"   ratio of best rounds {o['ratio_min']:.3f}x")
    print()
    w = prefer_wait(args.wait_jobs, rng)
    print("2. Prefer: wait honoured by the server: job end -> run() returned")
    verdict = "ok" if w["mean_ms"] <= 25 else "ABOVE TARGET"
    print(
        f"   mean {w['mean_ms']:.2f} ms, max {w['max_ms']:.2f} ms   (target mean <= 25 ms: {verdict})"
    )
    print()
    print("3. waiting on simulated jobs, simulated clock (the server ignores Prefer: wait)")
    header = (
        f"   {'jobs':<34} {'waiter':<19} {'late ms':>8} {'late % of job':>14} {'p90 %':>7}"
        f" {'requests':>9}"
    )
    print(header)
    print("   " + "-" * (len(header) - 3))
    sim = polling(args.jobs, rng)
    for row in sim:
        print(
            f"   {row['jobs']:<34} {row['poller']:<19} {row['late_ms']:8.1f} {row['late_pct']:14.1f}"
            f" {row['p90_pct']:7.1f} {row['gets']:9.2f}"
        )
    print("   (requests: per prediction after the create; the simulated stream is on time by")
    print("   construction, item 4 measures it)")
    print()
    print("4. waiting on real jobs: the mock over loopback, real clock (no Prefer: wait)")
    header = (
        f"   {'jobs':<34} {'waiter':<19} {'late ms':>8} {'p90 ms':>7} {'late % of job':>14}"
        f" {'requests':>9}"
    )
    print(header)
    print("   " + "-" * (len(header) - 3))
    rows = real(args.real_jobs, rng)
    for row in rows:
        print(
            f"   {row['jobs']:<34} {row['poller']:<19} {row['late_ms']:8.1f} {row['p90_ms']:7.1f}"
            f" {row['late_pct']:14.1f} {row['requests']:9.2f}"
        )
    streamed = [(r["late_ms"], r["requests"]) for r in rows if r["poller"] == STREAM_ROW]
    streamed += [(r["late_ms"], r["gets"]) for r in sim if r["poller"] == STREAM_ROW]
    met = all(late <= 25 and requests <= 2 for late, requests in streamed)
    print(
        "   stream rows (3 and 4): target mean lateness <= 25 ms and <= 2 requests after the "
        f"create: {'ok' if met else 'NOT MET'}"
    )
    result = {
        "benchmark": "client",
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average": list(os.getloadavg()),
        },
        "overhead": o,
        "prefer_wait": w,
        "simulated": sim,
        "real": rows,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"   saved {args.json}")


if __name__ == "__main__":
    main()
