"""``replicate-typed batch``: lines validated before sending, --strict, summary, resume, no token."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner, Result

from replicate_typed.cli.app import app
from replicate_typed.mock import MockBackend, MockServer

from .conftest import TOKEN

MakeMock = Callable[..., MockBackend]

LINES = [
    {"prompt": "one", "width": 64, "height": 64},
    {"prompt": "two", "width": "wide"},
    None,  # a blank line: skipped, but it keeps the numbering
    "{not json",
    {"prompt": "three", "num_outputs": 2, "width": 64, "height": 64},
    {"prompt": "four", "unknown_field": 1},
]


def write(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    text = ""
    for line in LINES:
        text += ("" if line is None else line if isinstance(line, str) else json.dumps(line)) + "\n"
    path.write_text(text)
    return path


def invoke(server: MockServer, args: list[str], *, before: tuple[str, ...] = ()) -> Result:
    """``replicate-typed [before...] batch args...`` against the mock."""
    env: dict[str, str | None] = {
        "REPLICATE_API_TOKEN": TOKEN,
        "REPLICATE_BASE_URL": server.url + "/replicate",
        "REPLICATE_TYPED_DEBUG": None,
    }
    return CliRunner().invoke(app, [*before, "batch", *args], env=env)


def test_bad_lines_are_reported_and_the_others_run(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock()
    out = tmp_path / "out"
    result = invoke(
        server, [str(write(tmp_path)), "--model", "stability-ai/sdxl", "--out", str(out)]
    )
    assert result.exit_code == 1, result.output  # bad lines make the run fail, after the others
    err = result.stderr
    assert 'line 2: width: "wide": Input should be a valid integer' in err
    assert "line 4: " in err and "not valid JSON" in err
    assert "line 6: unknown_field: 1: Extra inputs are not permitted" in err
    assert "line 1: created (prediction " in err and "line 5: saved 2 file(s)" in err
    assert "warning: invalid input for stability-ai/sdxl, not sent: line 2: width" in err
    assert "error:" not in err  # the run went on: invalid lines are warnings
    assert outcome_lines(err) == {
        "succeeded": 2,
        "failed": 0,
        "invalid lines (not sent)": 3,
    }
    assert "this run: created 2, reconciled 0, downloaded 2" in err
    assert TOKEN not in result.output
    assert backend.stats()["creates"] == 2
    saved = sorted(p.name for p in out.glob("*/output_*"))
    assert saved == ["output_0.png", "output_0.png", "output_1.png"]
    again = invoke(
        server, [str(write(tmp_path)), "--model", "stability-ai/sdxl", "--out", str(out)]
    )
    assert "line 1: already done" in again.stderr
    assert outcome_lines(again.stderr) == {
        "succeeded": 0,
        "failed": 0,
        "skipped: already succeeded in an earlier run": 2,
        "invalid lines (not sent)": 3,
    }
    assert "this run: created 0, reconciled 0, downloaded 0" in again.stderr
    assert backend.stats()["creates"] == 2


def outcome_lines(err: str) -> dict[str, int]:
    """The summary's outcome lines; they add up to its input line count."""
    lines = err.splitlines()
    (start,) = [i for i, line in enumerate(lines) if line.startswith("summary: ")]
    total = int(lines[start].split()[1])
    found: dict[str, int] = {}
    for line in lines[start + 1 :]:
        if not line.startswith("  "):
            break
        label, _, count = line.strip().rpartition(": ")
        found[label] = int(count)
    assert sum(found.values()) == total
    return found


def test_duplicates_and_done_lines_are_counted_once(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    mock()
    out = tmp_path / "out"
    path = tmp_path / "dupes.jsonl"
    rows = [
        {"prompt": "x", "width": 64, "height": 64},
        {"prompt": "mock:fail y", "width": 64, "height": 64},
        {"prompt": "x", "width": 64, "height": 64},
        {"prompt": "z", "width": "wide"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    first = invoke(server, [str(path), "--model", "stability-ai/sdxl", "--out", str(out)])
    assert first.exit_code == 1
    assert outcome_lines(first.stderr) == {
        "succeeded": 1,
        "failed": 1,
        "duplicate lines (same input as an earlier line, run once)": 1,
        "invalid lines (not sent)": 1,
    }
    assert "line 3: same input as line 1, run once" in first.stderr
    path.write_text(path.read_text() + json.dumps({"prompt": "w", "width": 64, "height": 64}))
    again = invoke(server, [str(path), "--model", "stability-ai/sdxl", "--out", str(out)])
    assert outcome_lines(again.stderr) == {
        "succeeded": 1,
        "failed": 0,
        "skipped: already succeeded in an earlier run": 1,
        "skipped: already failed in an earlier run (not retried)": 1,
        "duplicate lines (same input as an earlier line, run once)": 1,
        "invalid lines (not sent)": 1,
    }


def test_strict_sends_nothing_when_a_line_is_bad(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock()
    result = invoke(
        server,
        [str(write(tmp_path)), "--model", "stability-ai/sdxl", "--out", str(tmp_path), "--strict"],
    )
    assert result.exit_code == 2
    # nothing runs: the bad lines are not warnings; the one error: line says the run stopped
    assert "invalid: invalid input for stability-ai/sdxl, not sent: line 2: width" in result.stderr
    assert "warning:" not in result.stderr
    assert "3 invalid line(s) (2, 4, 6); nothing was sent (--strict)" in result.stderr
    assert backend.stats()["requests"] == {}


def test_all_good_exits_zero_and_unknown_model_is_usage(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    mock()
    path = tmp_path / "ok.jsonl"
    path.write_text(json.dumps({"prompt": "fine", "width": 64, "height": 64}) + "\n")
    ok = invoke(server, [str(path), "--model", "stability-ai/sdxl", "--out", str(tmp_path / "o")])
    assert ok.exit_code == 0, ok.stderr
    assert "journal: " in ok.stderr
    unknown = invoke(server, [str(path), "--model", "nobody/nothing", "--out", str(tmp_path)])
    assert unknown.exit_code == 2 and "nobody/nothing" in unknown.stderr


def test_failed_prediction_is_named_with_line_and_id(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock()
    path = tmp_path / "fail.jsonl"
    path.write_text(json.dumps({"prompt": "mock:fail", "width": 64, "height": 64}) + "\n")
    result = invoke(server, [str(path), "--model", "stability-ai/sdxl", "--out", str(tmp_path)])
    assert result.exit_code == 1
    (pid,) = [p.id for p in backend._order]
    assert f"failed: line 1 (prediction {pid}): prediction {pid} failed" in result.stderr


def test_a_long_rate_limit_pause_is_announced_on_the_progress_line(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    """A 429 asking for an hour: the runner pauses its creates for the capped 60 s and says so
    on the progress line. ``--max-retries 0`` hands the 429 straight to the runner (the client's
    own retry pauses reach the same line); ``--job-timeout 1`` ends the line's wait for the
    pause, so the test does not sleep it."""
    backend = mock()
    backend.inject("predictions.create", "429; retry-after=3600")
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"prompt": "one", "width": 64, "height": 64}) + "\n")
    started = time.monotonic()
    result = invoke(
        server,
        [str(path), "--model", "stability-ai/sdxl", "--out", str(tmp_path / "out"),
         "--job-timeout", "1"],
        before=("--max-retries", "0"),
    )  # fmt: skip
    assert time.monotonic() - started < 1 + 5.0  # the 60 s pause is not slept past the deadline
    assert result.exit_code == 1, result.output
    pause = "rate limited on batch creates: pausing 60s (the server asked for 3600s)"
    lines = result.stderr.splitlines()
    assert pause in lines, result.stderr
    # announced while the batch ran, before its outcome and the summary
    assert lines.index(pause) < lines.index("summary: 1 input line(s)")
    assert "line 1: deadline of 1 s (job_timeout) passed before it was created" in result.stderr
    assert backend.stats()["faults"] == {"429": 1}
    assert backend.stats()["creates"] == 0
