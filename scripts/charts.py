"""Charts of the benchmarks, drawn from their own result files (``make charts``, run by
``make bench``).

Reads ``client.json`` (``benchmarks/client.py --json``) and ``codegen.json``
(``benchmarks/codegen.py --json``) from ``--data`` (default ``.bench/``), copies them into
``docs/charts/data/`` and writes three SVG charts into ``docs/charts/``:

* ``lateness.svg`` -- completion seen late, event stream vs polling (real mock jobs);
* ``regeneration.svg`` -- regeneration time against the number of models, ours vs the
  ``datamodel-codegen`` CLI once per model;
* ``overhead.svg`` -- a create + get round trip, ``Client`` vs plain httpx.

The SVG is written by hand from a small template (no plotting library): the same data gives the
same bytes, so ``--check`` proves the committed charts are the committed data's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "charts"
SOURCES = ("client.json", "codegen.json")
WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 50, 70
COLORS = ("#3f51b5", "#e65100", "#2e7d32", "#6a1b9a")


def _fmt(value: float) -> str:
    if value >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _nice_max(value: float) -> float:
    """The axis top: 1, 2, 2.5 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1.0
    power = 10.0 ** (len(str(int(value))) - 1) if value >= 1 else 1.0
    while power > value:
        power /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _frame(title: str, note: str, y_label: str, top: float) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="15" '
        f'font-weight="bold">{escape(title)}</text>',
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 8}" text-anchor="middle" fill="#555555" '
        f'font-size="10">{escape(note)}</text>',
        f'<text x="14" y="{TOP + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {TOP + plot_h / 2})">{escape(y_label)}</text>',
    ]
    for index in range(5):
        value = top * index / 4
        y = TOP + plot_h - plot_h * index / 4
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#dddddd"/>'
        )
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(value)}</text>')
    return parts


def bar_chart(title: str, y_label: str, bars: Sequence[tuple[str, float]], note: str) -> str:
    """Vertical bars, one per ``(label, value)``, each with its value written on top."""
    top = _nice_max(max(value for _, value in bars))
    parts = _frame(title, note, y_label, top)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(bars)
    for index, (label, value) in enumerate(bars):
        height = plot_h * value / top
        x = LEFT + slot * index + slot * 0.2
        y = TOP + plot_h - height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" height="{height:.1f}" '
            f'fill="{COLORS[index % len(COLORS)]}"><title>{escape(label)}: {_fmt(value)}</title>'
            "</rect>"
        )
        parts.append(
            f'<text x="{x + slot * 0.3:.1f}" y="{y - 5:.1f}" text-anchor="middle">'
            f"{_fmt(value)}</text>"
        )
        parts.append(
            f'<text x="{x + slot * 0.3:.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    return "\n".join([*parts, "</svg>"]) + "\n"


def line_chart(
    title: str,
    x_label: str,
    y_label: str,
    series: Sequence[tuple[str, Sequence[tuple[float, float]]]],
    note: str,
) -> str:
    """One polyline per ``(name, points)``, each point marked, with a legend."""
    xs = [x for _, points in series for x, _ in points]
    top = _nice_max(max(y for _, points in series for _, y in points))
    right = _nice_max(max(xs))
    parts = _frame(title, note, y_label, top)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    for index in range(5):
        value = right * index / 4
        x = LEFT + plot_w * index / 4
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{_fmt(value)}</text>'
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h + 36}" text-anchor="middle">'
        f"{escape(x_label)}</text>"
    )
    for index, (name, points) in enumerate(series):
        color = COLORS[index % len(COLORS)]
        coords = [
            (LEFT + plot_w * x / right, TOP + plot_h - plot_h * y / top) for x, y in sorted(points)
        ]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for (x, y), (px, py) in zip(coords, sorted(points), strict=True):
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}">'
                f"<title>{escape(name)}: {_fmt(px)} models, {_fmt(py)} s</title></circle>"
            )
        legend_y = TOP + 8 + 18 * index
        parts.append(
            f'<rect x="{LEFT + 12}" y="{legend_y - 9}" width="12" height="12" fill="{color}"/>'
        )
        parts.append(f'<text x="{LEFT + 30}" y="{legend_y + 1}">{escape(name)}</text>')
    return "\n".join([*parts, "</svg>"]) + "\n"


def _machine(data: dict[str, Any]) -> str:
    machine = data.get("machine", {})
    load = machine.get("load_average")
    text = f"{machine.get('cpus', '?')} CPUs, Python {machine.get('python', '?')}"
    if isinstance(load, list) and load:
        text += f", load average {load[0]:.1f}"
    return text


def charts(client: dict[str, Any], codegen: dict[str, Any]) -> dict[str, str]:
    """The SVG text of each chart, by file name."""
    real = [row for row in client["real"]]
    jobs = real[0]["jobs"] if real else ""
    lateness = bar_chart(
        "Completion seen late: event stream vs polling",
        "mean lateness (ms)",
        [(row["poller"], float(row["late_ms"])) for row in real],
        f"{jobs}; make bench-client; {_machine(client)}",
    )
    curve = codegen["curve"]
    regeneration = line_chart(
        "Regeneration time vs number of models",
        "models",
        "seconds",
        [
            ("replicate-typed-codegen (measured)", [(p["models"], p["ours_s"]) for p in curve]),
            (
                "datamodel-codegen CLI per model (extrapolated)",
                [(p["models"], p["cli_extrapolated_s"]) for p in curve],
            ),
        ],
        f"make bench-codegen; CLI mean of {len(codegen['cli_sample']['per_model_s'])} timed "
        f"runs x models; {_machine(codegen)}",
    )
    o = client["overhead"]
    overhead = bar_chart(
        "Create + get round trip: Client vs plain httpx",
        "thread CPU time (µs)",
        [("plain httpx", float(o["httpx_us"])), ("Client", float(o["client_us"]))],
        f"ratio {o['ratio']:.2f}x; median of interleaved rounds over httpx.MockTransport; "
        f"make bench-client; {_machine(client)}",
    )
    return {"lateness.svg": lateness, "regeneration.svg": regeneration, "overhead.svg": overhead}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT / ".bench")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--check",
        action="store_true",
        help="Redraw from the committed data in --out/data and compare: exit 1 on a difference.",
    )
    args = parser.parse_args(argv)
    data_dir = args.out / "data" if args.check else args.data
    loaded = {}
    for name in SOURCES:
        path = data_dir / name
        if not path.is_file():
            print(
                f"error: {path}: missing (run `make bench-client bench-codegen`)", file=sys.stderr
            )
            return 2
        loaded[name] = json.loads(path.read_text(encoding="utf-8"))
    drawn = charts(loaded["client.json"], loaded["codegen.json"])
    if args.check:
        stale = [
            name
            for name, text in drawn.items()
            if not (args.out / name).is_file() or (args.out / name).read_text("utf-8") != text
        ]
        for name in stale:
            print(f"differs: {args.out / name} (run `make charts`)", file=sys.stderr)
        return 1 if stale else 0
    (args.out / "data").mkdir(parents=True, exist_ok=True)
    for name in SOURCES:
        if (data_dir / name).resolve() != (args.out / "data" / name).resolve():
            shutil.copyfile(data_dir / name, args.out / "data" / name)
    for name, text in drawn.items():
        (args.out / name).write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
