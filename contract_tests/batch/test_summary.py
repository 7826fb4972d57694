"""The batch report counts every input exactly once: the outcomes add up to the input lines."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from replicate_typed.batch import run_many
from replicate_typed.batch.runner import OUTCOMES, BatchReport, BatchResult, InvalidInput
from replicate_typed.client import Client
from replicate_typed.mock import MockBackend, MockServer

from .conftest import TOKEN
from .test_runner import FAST

MakeMock = Callable[..., MockBackend]


def ok(prompt: str) -> dict[str, Any]:
    return {"prompt": prompt, "width": 64, "height": 64}


def test_a_resumed_run_counts_each_input_once(
    server: MockServer, mock: MakeMock, tmp_path: Any
) -> None:
    backend = mock()
    first_rows = [ok("a"), ok("mock:fail b"), ok("c")]
    with Client(api_token=TOKEN, base_url=server.url) as c:
        first = run_many(c, first_rows, model="stability-ai/sdxl", out_dir=tmp_path, **FAST)
        rows = [
            *first_rows,  # lines 1-3: done earlier (2 succeeded, 1 failed)
            ok("d"),  # 4: new, succeeds
            ok("a"),  # 5: same input as line 1
            {"prompt": "e", "num_outputs": 9},  # 6: invalid, never sent
            ok("mock:fail f"),  # 7: new, fails
            ok("d"),  # 8: same input as line 4
        ]
        again = run_many(c, rows, model="stability-ai/sdxl", out_dir=tmp_path, **FAST)
    assert first.outcomes() == {**dict.fromkeys(OUTCOMES, 0), "succeeded": 2, "failed": 1}
    assert again.outcomes() == {
        "succeeded": 1,
        "failed": 1,
        "rejected": 0,
        "unresolved": 0,
        "already_succeeded": 2,
        "already_failed": 1,
        "duplicate": 2,
        "invalid": 1,
    }
    assert sum(again.outcomes().values()) == again.inputs == len(rows)
    # the run's own counters no longer fold earlier work into "succeeded"
    assert (again.succeeded, again.failed, again.skipped, again.duplicates) == (1, 1, 3, 2)
    assert (again.created, again.downloaded) == (2, 1)
    assert backend.stats()["creates"] == 5
    by_line = {r.line: r.outcome for r in again.results}
    assert by_line == {
        1: "already_succeeded",
        2: "already_failed",
        3: "already_succeeded",
        4: "succeeded",
        5: "duplicate",
        7: "failed",
        8: "duplicate",
    }
    assert list(again.counts()) == ["inputs", *OUTCOMES, "created", "reconciled", "downloaded"]


_STATES = ("queued", "creating", "created", "finished", "downloaded", "rejected")


@st.composite
def results(draw: st.DrawFn) -> BatchResult:
    line = draw(st.integers(min_value=1, max_value=10_000))
    return BatchResult(
        line=line,
        model="acme/m",
        key=f"k{line}",
        state=draw(st.sampled_from(_STATES)),
        status=draw(st.sampled_from([None, "succeeded", "failed", "canceled", "aborted", "x"])),
        error=draw(st.one_of(st.none(), st.just("boom"))),
        skipped=draw(st.booleans()),
        same_as=draw(st.one_of(st.none(), st.integers(min_value=1, max_value=10))),
    )


@settings(max_examples=100, deadline=None)
@given(found=st.lists(results(), max_size=30), invalid=st.integers(min_value=0, max_value=5))
def test_outcomes_partition_any_report(found: list[BatchResult], invalid: int) -> None:
    report = BatchReport(
        results=found, invalid=[InvalidInput(i, "f", "v", "rule") for i in range(invalid)]
    )
    counts = report.outcomes()
    assert set(counts) == set(OUTCOMES)
    assert sum(counts.values()) == report.inputs == len(found) + invalid
    assert counts["duplicate"] == sum(r.same_as is not None for r in found)
    # nothing counted as succeeded (now or earlier) that is not ok, nor the other way round
    good = counts["succeeded"] + counts["already_succeeded"]
    assert good == sum(r.ok and r.same_as is None for r in found)
    bad = ("failed", "rejected", "unresolved", "already_failed", "invalid")
    if report.ok:
        assert not any(counts[key] for key in bad)
