"""Import-time benchmark (``make bench-import``): not a test; prints a table and the ratio.

``import replicate_typed`` + constructing a ``Client`` against ``import replicate`` +
constructing the official client (``replicate==1.0.7``, in the dev extra), side by side in one
run: each case is a fresh interpreter (same Python, same site-packages), the cases interleaved
round by round; the measure is the child's CPU time (user + sys, from ``getrusage``), which a
busy machine disturbs less than wall time. The ratio subtracts an empty interpreter's start-up
from both (target ≤ 1.0); the total ratio includes it. Further rows (not part of the target):
the first registry lookup of one model, the CLI and the mock server imports, each the modules it
loads.

Usage: ``python -m benchmarks.import_time [--rounds N] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
from pathlib import Path

TOKEN = "r8_import_benchmark_token"
BASELINE = "pass"
OURS = f"import replicate_typed; replicate_typed.Client(api_token={TOKEN!r})"
OFFICIAL = f"import replicate; replicate.Client(api_token={TOKEN!r})"
EXTRA = {
    "replicate_typed + registry.get_model('stability-ai/sdxl')": (
        "import replicate_typed; replicate_typed.registry.get_model('stability-ai/sdxl')"
    ),
    "replicate_typed.cli.app (the CLI)": "import replicate_typed.cli.app",
    "replicate_typed.mock (the mock server)": "import replicate_typed.mock; replicate_typed.mock.MockServer",
}
COUNT = "; import sys; print(len(sys.modules), file=sys.stderr)"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(code: str) -> tuple[float, int]:
    """CPU seconds of one fresh interpreter running ``code``, and the modules it had loaded."""
    before = _cpu()
    done = subprocess.run(
        [sys.executable, "-c", code + COUNT], capture_output=True, text=True, check=False
    )
    spent = _cpu() - before
    if done.returncode != 0:
        raise SystemExit(f"benchmark case failed: {code}\n{done.stderr[-2000:]}")
    return spent, int(done.stderr.strip().splitlines()[-1])


def measure(cases: dict[str, str], rounds: int) -> dict[str, tuple[float, int]]:
    times: dict[str, list[float]] = {name: [] for name in cases}
    modules: dict[str, int] = {}
    for code in cases.values():  # warm the file cache and the bytecode
        run_once(code)
    for _ in range(rounds):
        for name, code in cases.items():
            spent, loaded = run_once(code)
            times[name].append(spent)
            modules[name] = loaded
    return {name: (statistics.median(values), modules[name]) for name, values in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--json", type=Path, default=Path(".bench/import.json"))
    args = parser.parse_args(argv)
    try:
        run_once("import replicate")
    except SystemExit:
        print("the official client is not installed: pip install replicate==1.0.7 (make setup)")
        return 2
    version = subprocess.run(
        [sys.executable, "-c", "import importlib.metadata as m; print(m.version('replicate'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    main_cases = {
        "python (empty interpreter)": BASELINE,
        "replicate_typed: import + Client()": OURS,
        f"replicate {version}: import + Client()": OFFICIAL,
    }
    results = measure({**main_cases, **EXTRA}, args.rounds)
    empty = results["python (empty interpreter)"][0]
    ours = results["replicate_typed: import + Client()"][0]
    official = results[f"replicate {version}: import + Client()"][0]
    print(f"median CPU time of a fresh interpreter, {args.rounds} interleaved rounds")
    print(f"{'case':<62} {'ms':>7} {'- empty':>8} {'modules':>8}")
    for name, (spent, loaded) in results.items():
        print(f"{name:<62} {spent * 1000:7.1f} {(spent - empty) * 1000:8.1f} {loaded:8d}")
    ratio = (ours - empty) / (official - empty)
    total = ours / official
    verdict = "met" if ratio <= 1.0 else "NOT met"
    print(f"ratio replicate_typed / replicate {version}: {ratio:.2f} (start-up subtracted), ")
    print(f"      {total:.2f} including interpreter start-up; target <= 1.0: {verdict}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps(
            {
                "rounds": args.rounds,
                "cases": {k: {"cpu_s": v[0], "modules": v[1]} for k, v in results.items()},
                "ratio": ratio,
                "ratio_total": total,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
