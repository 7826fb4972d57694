"""Client benchmark (``make bench-client``): not a test; prints a table of ratios and latencies.

1. Overhead: a create + get round trip through :class:`Client` vs plain ``httpx`` sending the
   same two requests (same headers and body, JSON decoded) over the same in-process
   ``httpx.MockTransport``. Thread CPU time, ratio of medians of interleaved rounds (target ≤ 1.10).
2. ``Prefer: wait``: the mock server holds the create until the job ends (real short sleeps);
   how long after the job's end the client's ``run`` returns (target: < 25 ms on average).
3. Polling on simulated jobs of 0.2-2 s (simulated clock, no real sleeps): how late completion
   is seen relative to the job's duration and how many GETs it takes, the adaptive poller
   against a fixed 0.5 s poller. Two job kinds: ones that print a tqdm progress bar in their
   logs (most image models do) and ones that print nothing.

Usage: ``python -m benchmarks.client [--rounds N] [--jobs N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from replicate_typed.client._client import Client
from replicate_typed.client.polling import PollPolicy
from replicate_typed.client.retries import RetryPolicy
from replicate_typed.models.stability_ai import sdxl

BASE = "https://router.example/replicate"
TOKEN = "r8_benchmarkToken0123456789abcdefghij"
VERSION = sdxl.MODEL.version or ""
PID = "ctdwaehfz1rm80cmd5nsjd8114"


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


def simulate(job: Job, policy: PollPolicy) -> tuple[float, int]:
    """Run one job on a simulated clock; returns (seconds seen late, GET count)."""
    clock = SimClock()
    gets = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal gets
        if request.method == "GET":
            gets += 1
        status, logs = job.status_and_logs(clock.now)
        output = OUTPUT if status == "succeeded" else None
        code = 201 if request.method == "POST" else 200
        return httpx.Response(code, json=prediction(status, logs=logs, output=output))

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
    return clock.now - job.duration, gets


FIXED = PollPolicy(initial=0.5, factor=1.0, max_interval=0.5, use_progress=False)


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
        for name, policy in (("adaptive (default)", PollPolicy()), ("fixed 0.5 s", FIXED)):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--wait-jobs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    o = overhead(args.rounds, args.per_round)
    print(
        f"1. create + get round trip over httpx.MockTransport "
        f"(median of {args.rounds} interleaved rounds of {args.per_round})"
    )
    print(f"   plain httpx      {o['httpx_us']:8.1f} us")
    print(f"   Client           {o['client_us']:8.1f} us")
    verdict = "ok" if o["ratio"] <= 1.10 else "ABOVE TARGET"
    print(f"   ratio            {o['ratio']:8.3f}x   (target <= 1.10x: {verdict})")
    print(f"   ratio of best rounds {o['ratio_min']:.3f}x")
    print()
    w = prefer_wait(args.wait_jobs, rng)
    print("2. Prefer: wait honoured by the server: job end -> run() returned")
    verdict = "ok" if w["mean_ms"] <= 25 else "ABOVE TARGET"
    print(
        f"   mean {w['mean_ms']:.2f} ms, max {w['max_ms']:.2f} ms   (target mean <= 25 ms: {verdict})"
    )
    print()
    print("3. polling simulated jobs on a simulated clock (server ignores Prefer: wait)")
    header = f"   {'jobs':<34} {'poller':<19} {'late ms':>8} {'late % of job':>14} {'p90 %':>7} {'GETs/job':>9}"
    print(header)
    print("   " + "-" * (len(header) - 3))
    for row in polling(args.jobs, rng):
        print(
            f"   {row['jobs']:<34} {row['poller']:<19} {row['late_ms']:8.1f} {row['late_pct']:14.1f}"
            f" {row['p90_pct']:7.1f} {row['gets']:9.2f}"
        )


if __name__ == "__main__":
    main()
