"""Benchmark of the code generator (``make bench-codegen``); not a test, it asserts nothing.

Measures, on this machine and in this process:

1. full regeneration of the repository's package (the 11 router models + API types + registry);
2. full regeneration of 500 models: the 24 corpus schemas repeated, each copy under its own
   owner/name (``bench000/...``), written as spec files and compiled like the real thing
   (load + validate + normalise + datamodel-code-generator + Jinja + one ruff pass);
3. the baseline: the ``datamodel-codegen`` CLI run once per model with the same options. A sample
   of models is timed and the per-model mean is extrapolated to 500 models (labelled as such);
4. ``add-model`` of one more model (incremental: that module, the registry and its owner's
   ``__init__``, verified by compile/ruff/import/mypy before writing) into a package of the 11
   router models and into one of 500: the median of ``--add-repeat`` runs each, after one
   warm-up run (mypy's cache), and the ratio 500/11 (target <= 1.5).

Results print as a table with the ratio CLI-per-model / ours and are saved to
``.bench/codegen.json``. Options: ``--models N`` (default 500), ``--cli-sample N`` (default 10),
``--repeat N`` (regenerations of the 11 models, default 3).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from codegen import add_model as adder  # noqa: E402
from codegen import generate as gen  # noqa: E402
from codegen.normalize import normalise  # noqa: E402
from codegen.spec import dump_spec, load_model_specs, spec_path  # noqa: E402

CORPUS = ROOT / "contract_tests" / "fixtures" / "corpus"
DATAMODEL_CODEGEN = Path(sys.executable).with_name("datamodel-codegen")

CLI_OPTIONS = [
    "--input-file-type",
    "jsonschema",
    "--output-model-type",
    "pydantic_v2.BaseModel",
    "--target-python-version",
    "3.11",
    "--disable-timestamp",
    "--collapse-root-models",
    "--use-annotated",
    "--field-constraints",
    "--use-standard-collections",
    "--use-union-operator",
    "--use-field-description",
    "--use-attribute-docstrings",
    "--use-double-quotes",
    "--enum-field-as-literal",
    "all",
    "--strict-nullable",
    "--formatters",
    "ruff-format",
    "--custom-file-header",
    "#",
]


def _copy_repo(dest: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "specs" / "api", dest / "specs" / "api", ignore=ignore)
    (dest / "specs" / "models").mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def _timed_build(root: Path, target: Path) -> dict[str, float]:
    """gen.build, phase by phase: load specs, render (normalise + datamodel-codegen + Jinja),
    write files, one ruff pass."""
    t0 = time.perf_counter()
    specs = load_model_specs(gen.Paths(root).specs)
    t1 = time.perf_counter()
    workers = gen._workers(len(specs))
    load = os.getloadavg()[0]
    files = gen.render_package(root, specs)
    t2 = time.perf_counter()
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    t3 = time.perf_counter()
    gen._ruff(target, root)
    t4 = time.perf_counter()
    return {
        "workers": workers,
        "load_average_1m": load,
        "models": len(specs),
        "files": len(files),
        "load_validate_s": t1 - t0,
        "render_s": t2 - t1,
        "write_s": t3 - t2,
        "ruff_s": t4 - t3,
        "total_s": t4 - t0,
    }


def bench_router_models(repeat: int, work: Path) -> dict[str, Any]:
    runs = []
    for index in range(repeat):
        runs.append(_timed_build(ROOT, work / f"router-{index}"))
    totals = [r["total_s"] for r in runs]
    return {"runs": runs, "median_s": statistics.median(totals), "best_s": min(totals)}


def make_corpus_repo(count: int, work: Path) -> tuple[Path, list[dict[str, Any]]]:
    root = _copy_repo(work / "repo500")
    corpus = sorted(CORPUS.glob("*.version.json"))
    written: list[dict[str, Any]] = []
    for index in range(count):
        source = corpus[index % len(corpus)]
        owner, name = source.name.removesuffix(".version.json").split("__", 1)
        ref = f"bench{index // len(corpus):03d}-{owner}/{name}"
        data = adder.spec_from_version(
            json.loads(source.read_text(encoding="utf-8")),
            ref,
            provenance="benchmark copy",
            source=str(source),
        )
        path = spec_path(gen.Paths(root).specs, ref)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_spec(data), encoding="utf-8")
        written.append(data)
    return root, written


def _copy_full_repo(dest: Path) -> Path:
    """specs/, generated/, src/ and pyproject.toml: a package add-model can add to."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for folder in ("specs", "generated", "src"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def bench_add_model(root: Path, repeat: int, tag: str) -> dict[str, Any]:
    """add-model of a corpus version under fresh names: one warm-up, then ``repeat`` timed."""
    source = CORPUS / "lucataco__video-merge.version.json"
    version = {"id": None, "openapi_schema": json.loads(source.read_text())["openapi_schema"]}
    times = []
    for index in range(repeat + 1):
        data = adder.spec_from_version(
            version, f"benchadd-{tag}/video-merge-{index}", provenance="bench", source="bench"
        )
        start = time.perf_counter()
        result = adder.add_model(root, data)
        elapsed = time.perf_counter() - start
        assert len(result.generated) == 3, result.generated
        if index:
            times.append(elapsed)
    return {
        "models_before": len(load_model_specs(gen.Paths(root).specs)) - repeat - 1,
        "runs_s": times,
        "median_s": statistics.median(times),
    }


def bench_cli(specs: list[dict[str, Any]], sample: int, work: Path) -> dict[str, Any]:
    """datamodel-codegen CLI once per model (same options, the same normalised document)."""
    folder = work / "cli"
    folder.mkdir()
    step = max(1, len(specs) // sample)
    chosen = specs[::step][:sample]
    times = []
    for index, data in enumerate(chosen):
        document = folder / f"m{index}.json"
        document.write_text(
            json.dumps(normalise(data["openapi_schema"]).codegen_document), encoding="utf-8"
        )
        start = time.perf_counter()
        subprocess.run(
            [
                str(DATAMODEL_CODEGEN),
                "--input",
                str(document),
                "--output",
                str(folder / f"m{index}.py"),
                *CLI_OPTIONS,
            ],
            check=True,
            cwd=ROOT,
            capture_output=True,
        )
        times.append(time.perf_counter() - start)
    return {
        "sampled_models": [d["model"] for d in chosen],
        "per_model_s": times,
        "mean_per_model_s": statistics.mean(times),
    }


def _workers_label(run: dict[str, Any]) -> str:
    workers = run["workers"]
    count = f"{workers} worker processes" if workers > 1 else "one process"
    return f"{count}, load average {run['load_average_1m']:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=500)
    parser.add_argument("--cli-sample", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--add-repeat", type=int, default=3)
    parser.add_argument(
        "--curve",
        default="50,100,250",
        help="Also regenerate corpus packages of these sizes (comma-separated), for the chart of "
        "regeneration time against the number of models ('' for none).",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=ROOT / ".bench" / "codegen.json",
        help="Write the results here (scripts/charts.py draws them; default .bench/codegen.json).",
    )
    args = parser.parse_args()
    sizes = sorted({int(n) for n in args.curve.split(",") if n.strip()} - {args.models})

    with tempfile.TemporaryDirectory(prefix="bench-codegen-") as tmp:
        work = Path(tmp)
        gen.render_package(ROOT)  # warm up imports (datamodel-code-generator, jinja) once
        router = bench_router_models(args.repeat, work)
        root, specs = make_corpus_repo(args.models, work)
        many = _timed_build(root, work / "out500")
        forced = {}
        for workers in ("1", "2"):
            os.environ["CODEGEN_WORKERS"] = workers
            try:
                forced[workers] = _timed_build(root, work / f"out500-{workers}")
            finally:
                del os.environ["CODEGEN_WORKERS"]
        serial = forced["1"]
        router_specs = [
            {"model": s.ref, "openapi_schema": s.openapi_schema}
            for s in load_model_specs(ROOT / "specs")
        ]
        add_11 = bench_add_model(_copy_full_repo(work / "add11"), args.add_repeat, "a")
        shutil.copytree(ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
        gen.build(root, gen.Paths(root).package)  # the package of 500 to add to (unverified)
        add_500 = bench_add_model(root, args.add_repeat, "b")
        (work / "r").mkdir()
        cli_router = bench_cli(router_specs, len(router_specs), work / "r")
        (work / "c").mkdir()
        cli_corpus = bench_cli(specs, args.cli_sample, work / "c")
        curve = []
        for size in sizes:
            sized, _ = make_corpus_repo(size, work / f"curve{size}")
            curve.append(
                {"models": size, "ours_s": _timed_build(sized, work / f"o{size}")["total_s"]}
            )

    cli_500 = cli_corpus["mean_per_model_s"] * args.models
    cli_11 = sum(cli_router["per_model_s"])
    per_model = cli_corpus["mean_per_model_s"]
    curve += [{"models": args.models, "ours_s": many["total_s"]}]
    curve = [
        {**point, "cli_extrapolated_s": per_model * point["models"]}
        for point in sorted(curve, key=lambda p: p["models"])
    ]
    result = {
        "benchmark": "codegen",
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "curve": curve,
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "router_11": router,
        "corpus_500": many,
        "corpus_500_one_process": serial,
        "corpus_500_two_processes": forced["2"],
        "cli_router_11_measured_s": cli_11,
        "cli_sample": cli_corpus,
        "cli_500_extrapolated_s": cli_500,
        "add_model_11": add_11,
        "add_model_500": add_500,
        "add_model_ratio": add_500["median_s"] / add_11["median_s"],
        "ratio_11": cli_11 / router["median_s"],
        "ratio_500": cli_500 / many["total_s"],
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")

    rows = [
        (
            f"11 router models: ours, full regeneration (median of {args.repeat})",
            router["median_s"],
        ),
        ("11 router models: datamodel-codegen CLI x 11 (measured)", cli_11),
        (
            f"{many['models']} models: ours, full regeneration (default: {_workers_label(many)})",
            many["total_s"],
        ),
        (f"{many['models']} models: ours, one process (CODEGEN_WORKERS=1)", serial["total_s"]),
        (
            f"{many['models']} models: ours, two processes (CODEGEN_WORKERS=2)",
            forced["2"]["total_s"],
        ),
        (
            f"{args.models} models: datamodel-codegen CLI x {args.models} (EXTRAPOLATED from "
            f"{len(cli_corpus['per_model_s'])} runs, mean {cli_corpus['mean_per_model_s']:.3f} s)",
            cli_500,
        ),
    ]
    print(f"codegen benchmark on {os.cpu_count()} CPU(s), Python {platform.python_version()}")
    for label, seconds in rows:
        print(f"  {label:<100} {seconds:8.2f} s")
    print(
        f"  phases for {many['models']} models: load+validate {many['load_validate_s']:.2f} s, "
        f"render {many['render_s']:.2f} s, write {many['write_s']:.2f} s, ruff {many['ruff_s']:.2f} s"
    )
    print(
        f"  ratio CLI-per-model / ours: 11 models {result['ratio_11']:.1f}x, "
        f"{args.models} models {result['ratio_500']:.1f}x (default), "
        f"{cli_500 / serial['total_s']:.1f}x (one process), "
        f"{cli_500 / forced['2']['total_s']:.1f}x (two processes); "
        "target >= 10x and 500 models < 30 s"
    )
    print(
        f"  add-model, incremental (median of {args.add_repeat} after a warm-up; verified): "
        f"{add_11['models_before']} models {add_11['median_s']:.2f} s, "
        f"{add_500['models_before']} models {add_500['median_s']:.2f} s, ratio "
        f"{result['add_model_ratio']:.2f}x (target <= 1.5x)"
    )
    for point in curve:
        print(
            f"  {point['models']:>5} models: ours {point['ours_s']:.2f} s, CLI per model "
            f"(extrapolated) {point['cli_extrapolated_s']:.1f} s"
        )
    print(f"  saved {args.json}")


if __name__ == "__main__":
    main()
