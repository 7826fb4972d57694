"""Concurrency benchmark (``make bench-concurrency``): 1,000 predictions at once through one
``AsyncClient`` against the built-in mock over loopback HTTP. Not a test: prints a table.

The mock server runs in its own process (``python -m replicate_typed.mock``), so the peak
RSS reported (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is the client process alone. Each
prediction is ``client.run(sdxl.Input(...))``: a create with ``Prefer: wait`` (held by the mock
until the prediction ends), polling if needed, the typed output. Targets: 0 errors, peak RSS
under 200 MB.

Usage: ``python -m benchmarks.concurrency [--n 1000] [--max-connections 100] [--run-s 0.5]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
from collections import Counter
from typing import Any

import httpx

from replicate_typed.client import AsyncClient
from replicate_typed.client.errors import ReplicateError
from replicate_typed.models.stability_ai import sdxl

from .soak import TOKEN, MockProcess, verdict


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux (bytes on macOS)
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1e6


async def run(n: int, base: str, max_connections: int, timeout: float) -> dict[str, Any]:
    # The default httpx pool (100 connections, 5 s pool timeout in httpx's own default, 60 s
    # here) is enough when requests are short; the pool waits are bounded by ``timeout``.
    http = httpx.AsyncClient(
        limits=httpx.Limits(
            max_connections=max_connections, max_keepalive_connections=max_connections
        ),
        follow_redirects=False,
    )
    errors: Counter[str] = Counter()
    examples: list[str] = []
    outputs = 0
    async with AsyncClient(
        api_token=TOKEN, base_url=base, timeout=timeout, http_client=http
    ) as client:

        async def one(i: int) -> None:
            nonlocal outputs
            try:
                images = await client.run(
                    sdxl.Input(prompt=f"concurrency {i}", width=64, height=64)
                )
                outputs += len(images)
            except ReplicateError as exc:
                errors[type(exc).__name__] += 1
                if len(examples) < 5:
                    examples.append(str(exc))

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        wall = time.perf_counter() - started
    await http.aclose()
    return {
        "wall_s": round(wall, 2),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "error_examples": examples,
        "outputs": outputs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--max-connections", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--start-s", type=float, default=0.05)
    parser.add_argument("--run-s", type=float, default=0.5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rss_before = peak_rss_mb()
    mock = MockProcess(start_s=args.start_s, run_s=args.run_s)
    try:
        result = asyncio.run(run(args.n, mock.base, args.max_connections, args.timeout))
        stats = mock.stats()
    finally:
        mock.stop()
    row = {
        "predictions": args.n,
        "max_connections": args.max_connections,
        **result,
        "requests_sent": sum(stats["requests"].values()),
        "requests_by_route": stats["requests"],
        "server_creates": stats["creates"],
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_after_imports_mb": round(rss_before, 1),
    }
    if args.json:
        print(json.dumps(row, indent=2))
    else:
        for key, value in row.items():
            print(f"{key:>22}: {value}")
    missed = []
    if row["errors"]:
        missed.append(f"{row['errors']} errors")
    if row["peak_rss_mb"] >= 200:
        missed.append(f"peak RSS {row['peak_rss_mb']} MB >= 200 MB")
    verdict(missed, "0 errors, peak RSS under 200 MB (client process only; mock in its own)")


if __name__ == "__main__":
    main()
