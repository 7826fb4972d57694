"""The benchmark charts (scripts/charts.py): the committed SVGs are exactly what the committed
result files draw, and the hand-written SVG template draws what it is given."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from contract_tests.conftest import ROOT
from scripts import charts

SVG = "{http://www.w3.org/2000/svg}"
labels = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20)
values = st.floats(min_value=0.001, max_value=1e6, allow_nan=False)


def test_the_committed_charts_are_drawn_from_the_committed_results() -> None:
    assert charts.main(["--check", "--out", str(charts.OUT)]) == 0
    for name in charts.SOURCES:
        data = json.loads((charts.OUT / "data" / name).read_text(encoding="utf-8"))
        assert data["benchmark"] == name.removesuffix(".json") and data["args"]["json"]


def test_every_chart_is_in_the_docs() -> None:
    page = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    for name in ("lateness.svg", "regeneration.svg", "overhead.svg"):
        assert f"(charts/{name})" in page


@given(st.lists(st.tuples(labels, values), min_size=1, max_size=6))
def test_bars_are_proportional_and_labelled(bars: list[tuple[str, float]]) -> None:
    svg = ET.fromstring(charts.bar_chart("t", "y", bars, "note"))
    rects = [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(rects) == len(bars)
    top = charts._nice_max(max(v for _, v in bars))
    plot = charts.HEIGHT - charts.TOP - charts.BOTTOM
    for rect, (label, value) in zip(rects, bars, strict=True):
        height = float(rect.attrib["height"])
        assert abs(height - plot * value / top) <= 0.06
        assert 0 <= height <= plot
        title = rect.find(f"{SVG}title")
        assert title is not None and title.text == f"{label}: {charts._fmt(value)}"
    texts = [t.text or "" for t in svg.iter(f"{SVG}text")]
    assert all(label in texts for label, _ in bars)


@given(
    st.lists(st.lists(st.tuples(values, values), min_size=1, max_size=5), min_size=1, max_size=3)
)
def test_lines_stay_inside_the_plot(series: list[list[tuple[float, float]]]) -> None:
    named = [(f"s{index}", points) for index, points in enumerate(series)]
    svg = ET.fromstring(charts.line_chart("t", "x", "y", named, "note"))
    lines = list(svg.iter(f"{SVG}polyline"))
    assert len(lines) == len(series)
    for line in lines:
        for pair in line.attrib["points"].split():
            x, y = map(float, pair.split(","))
            assert charts.LEFT - 0.1 <= x <= charts.WIDTH - charts.RIGHT + 0.1
            assert charts.TOP - 0.1 <= y <= charts.HEIGHT - charts.BOTTOM + 0.1


@given(values)
def test_the_axis_top_is_a_round_number_at_least_the_value(value: float) -> None:
    top = charts._nice_max(value)
    assert top >= value and top <= value * 10
