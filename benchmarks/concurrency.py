"""Concurrency benchmark (``make bench-concurrency``): CPU per prediction as the number of
concurrent waits grows, and the batch runner's throughput as ``-j`` grows. Not a test: prints
tables and a verdict.

The mock server runs in its own process (``python -m replicate_typed.mock``), so the CPU time
(``time.process_time``) and the peak RSS (``ru_maxrss``) are the client process's alone.

1. **Concurrent waits**: at each level ``c`` (10, 100, 250, 500, 1,000), rounds of ``c``
   ``client.run(sdxl.Input(...))`` calls at once through one ``AsyncClient`` (a create with
   ``Prefer: wait``, held by the mock for ``--run-s``, then the typed output), about 1,000
   predictions per level (100 at level 10). The client's own pool: 100 connections behind its
   gate (``client/_transport.py``). Printed: CPU ms per prediction and the ratio 1,000/100
   (target <= 1.5). ``--compare`` runs the same levels (``--compare-levels``) on the two
   alternatives, ratios in the same run: ``plain``, an httpx client of 100 connections (what the
   client did before), and ``gate-only``, the gate in front of one 100-connection pool.
2. **Batch runner**: ``--batch-n`` inputs through ``batch.arun_many`` (in-memory journal, no
   downloads, no client-side rate limits) at ``-j`` 8, 64, 256 against a mock whose predictions
   end at once, ``--batch-rounds`` times interleaved; the best creates per minute of each
   (target: ``-j 256`` >= ``-j 8``), CPU ms per input of the client and of the mock.

Usage: ``python -m benchmarks.concurrency [--levels 100,250,500,1000] [--batch-j 8,64,256]
[--batch-n 1000] [--batch-rounds 3] [--compare] [--run-s 0.5] [--json]``. The load average is printed with the
figures: the machine may be shared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from collections import Counter
from typing import Any

import httpx

from replicate_typed.batch import arun_many
from replicate_typed.client import AsyncClient
from replicate_typed.client._transport import AsyncGatedTransport
from replicate_typed.client.errors import ReplicateError
from replicate_typed.models.stability_ai import sdxl

from .soak import TOKEN, MockProcess, verdict

PER_LEVEL = 1000
"""Predictions measured at each level (at least one round of the level; 10 rounds at most)."""


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS)
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


def load() -> float:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return -1.0


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) of another process so far (Linux ``/proc``; else None)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _per_input(after: float | None, before: float | None, n: int) -> float | None:
    if after is None or before is None:
        return None
    return round((after - before) / n * 1000, 2)


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


async def waits(
    base: str, concurrency: int, total: int, timeout: float, transport: str
) -> dict[str, Any]:
    """``total`` predictions in rounds of ``concurrency`` at once; CPU and wall per level.
    ``transport``: ``gated`` (the client's own), ``gate-only`` or ``plain`` (see the module)."""
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    http = None
    if transport == "plain":
        http = httpx.AsyncClient(limits=limits, follow_redirects=False)
    elif transport == "gate-only":
        pool = httpx.AsyncHTTPTransport(limits=limits)
        http = httpx.AsyncClient(transport=AsyncGatedTransport(pool), follow_redirects=False)
    errors: Counter[str] = Counter()
    examples: list[str] = []
    outputs = 0
    async with AsyncClient(api_token=TOKEN, base_url=base, timeout=timeout, http_client=http) as c:

        async def one(i: int) -> None:
            nonlocal outputs
            try:
                images = await c.run(sdxl.Input(prompt=f"concurrency {i}", width=64, height=64))
                outputs += len(images)
            except ReplicateError as exc:
                errors[type(exc).__name__] += 1
                if len(examples) < 3:
                    examples.append(str(exc)[:200])

        cpu, started = time.process_time(), time.perf_counter()
        done = 0
        while done < total:
            size = min(concurrency, total - done)
            await asyncio.gather(*(one(done + i) for i in range(size)))
            done += size
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    if http is not None:
        await http.aclose()
    return {
        "concurrency": concurrency,
        "predictions": total,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_prediction": round(cpu / total * 1000, 2),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "error_examples": examples,
        "outputs": outputs,
        "load_1m": load(),
    }


def level_total(concurrency: int) -> int:
    return max(concurrency, min(PER_LEVEL, 10 * concurrency))


def wait_levels(
    mock: MockProcess, levels: list[int], timeout: float, transport: str
) -> list[dict[str, Any]]:
    asyncio.run(waits(mock.base, 50, 50, timeout, transport))  # warm-up: imports, first connections
    rows = []
    for level in levels:
        before = process_cpu(mock.proc.pid)
        row = asyncio.run(waits(mock.base, level, level_total(level), timeout, transport))
        row["mock_cpu_ms_per_prediction"] = _per_input(
            process_cpu(mock.proc.pid), before, row["predictions"]
        )
        rows.append(row)
        print(_row_text(transport, rows[-1]), flush=True)
    return rows


def _row_text(label: str, row: dict[str, Any]) -> str:
    return (
        f"  {label:<9} {row['concurrency']:>5} at once  {row['predictions']:>5} predictions  "
        f"wall {row['wall_s']:>6.2f} s  cpu {row['cpu_s']:>6.2f} s  "
        f"{row['cpu_ms_per_prediction']:>6.2f} ms/prediction (mock "
        f"{row['mock_cpu_ms_per_prediction']})  errors {row['errors']}  "
        f"load {row['load_1m']}"
    )


async def batch(base: str, jobs: int, n: int) -> dict[str, Any]:
    inputs = [{"prompt": f"batch {jobs} {i}", "width": 64, "height": 64} for i in range(n)]
    async with AsyncClient(api_token=TOKEN, base_url=base) as client:
        cpu, started = time.process_time(), time.perf_counter()
        report = await arun_many(
            client,
            inputs,
            model="stability-ai/sdxl",
            concurrency=jobs,
            creates_per_minute=None,
            reads_per_minute=None,
            download=False,
        )
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "jobs": jobs,
        "inputs": n,
        "created": report.created,
        "succeeded": report.succeeded,
        "wall_s": round(wall, 2),
        "creates_per_min": round(report.created / wall * 60),
        "cpu_ms_per_input": round(cpu / n * 1000, 2),
        "load_1m": load(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--levels", type=_ints, default=[10, 100, 250, 500, 1000])
    parser.add_argument("--compare", action="store_true", help="also plain and gate-only")
    parser.add_argument("--compare-levels", type=_ints, default=None)
    parser.add_argument("--batch-j", type=_ints, default=[8, 64, 256])
    parser.add_argument("--batch-n", type=int, default=1000)
    parser.add_argument("--batch-rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--start-s", type=float, default=0.0)
    parser.add_argument("--run-s", type=float, default=0.5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result: dict[str, Any] = {"cpus": os.cpu_count(), "load_1m_before": load()}
    print(f"concurrency benchmark on {os.cpu_count()} CPU(s), load {result['load_1m_before']}")

    print(f"1. concurrent waits (Prefer: wait held {args.run_s} s by the mock)")
    mock = MockProcess(start_s=args.start_s, run_s=args.run_s)
    try:
        result["waits"] = wait_levels(mock, args.levels, args.timeout, "gated")
        if args.compare:
            levels = args.compare_levels or args.levels
            for other in ("gate-only", "plain"):
                result[other] = wait_levels(mock, levels, args.timeout, other)
    finally:
        mock.stop()
    by_level = {row["concurrency"]: row["cpu_ms_per_prediction"] for row in result["waits"]}
    ratio = None
    if 100 in by_level and 1000 in by_level and by_level[100] > 0:
        ratio = round(by_level[1000] / by_level[100], 2)
    result["cpu_ratio_1000_over_100"] = ratio
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(f"  CPU per prediction 1,000/100: {ratio}  (target <= 1.5)")
    for other in ("gate-only", "plain"):
        for row in result.get(other, []):
            level, ms = row["concurrency"], row["cpu_ms_per_prediction"]
            if by_level.get(level):
                print(f"  {other}/gated CPU per prediction at {level}: {ms / by_level[level]:.2f}x")
    print(f"  peak RSS of the client process: {result['peak_rss_mb']} MB")

    print(f"2. batch runner (predictions end at once; best of {args.batch_rounds} interleaved)")
    mock = MockProcess(start_s=0.0, run_s=0.0)
    runs: dict[int, list[dict[str, Any]]] = {jobs: [] for jobs in args.batch_j}
    try:
        asyncio.run(batch(mock.base, 8, 50))  # warm-up
        for _ in range(args.batch_rounds):  # interleaved: a load spike hits every -j alike
            for jobs in args.batch_j:
                mock_cpu = process_cpu(mock.proc.pid)
                run = asyncio.run(batch(mock.base, jobs, args.batch_n))
                run["mock_cpu_ms_per_input"] = _per_input(
                    process_cpu(mock.proc.pid), mock_cpu, args.batch_n
                )
                runs[jobs].append(run)
    finally:
        mock.stop()
    rows = []
    for done in runs.values():
        row = dict(max(done, key=lambda r: r["creates_per_min"]))
        row["creates_per_min_all"] = [r["creates_per_min"] for r in done]
        rows.append(row)
        print(
            f"  -j {row['jobs']:>4}  {row['inputs']} inputs  best {row['creates_per_min']:>6}/min "
            f"(all {row['creates_per_min_all']})  client cpu {row['cpu_ms_per_input']:>5.2f} "
            f"ms/input  mock cpu {row['mock_cpu_ms_per_input']} ms/input  load {row['load_1m']}",
            flush=True,
        )
    result["batch"] = rows
    per_j = {row["jobs"]: row["creates_per_min"] for row in rows}
    batch_ratio = None
    if 8 in per_j and 256 in per_j and per_j[8] > 0:
        batch_ratio = round(per_j[256] / per_j[8], 2)
    result["batch_ratio_256_over_8"] = batch_ratio
    result["load_1m_after"] = load()
    print(f"  creates/min -j 256 / -j 8: {batch_ratio}  (target >= 1.0)")
    if args.json:
        print(json.dumps(result, indent=2))

    missed = []
    errors = sum(row["errors"] for row in result["waits"])  # the client's own transport
    if errors:
        missed.append(f"{errors} errors")
    if any(row["succeeded"] != row["inputs"] for row in rows):
        missed.append("batch inputs not all succeeded")
    if ratio is not None and ratio > 1.5:
        missed.append(f"CPU per prediction 1,000/100 = {ratio} > 1.5")
    if batch_ratio is not None and batch_ratio < 1.0:
        missed.append(f"batch -j 256 / -j 8 = {batch_ratio} < 1.0")
    if result["peak_rss_mb"] >= 200:
        missed.append(f"peak RSS {result['peak_rss_mb']} MB >= 200 MB")
    verdict(
        missed,
        "0 errors, CPU per prediction 1,000/100 <= 1.5, batch -j 256 >= -j 8, peak RSS < 200 MB",
    )


if __name__ == "__main__":
    main()
