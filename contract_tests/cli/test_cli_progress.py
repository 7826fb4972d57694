"""The CLI's status display: a Rich live panel on a terminal, plain lines elsewhere."""

from __future__ import annotations

import io

from rich.console import Console

from replicate_typed.cli.errors import Redactor
from replicate_typed.cli.progress import (
    LOG_TAIL_LINES,
    LiveDisplay,
    PlainDisplay,
    make_display,
)

SECRET = "r8_progress_secret_token_000000000000"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def plain(clock: Clock, redact: Redactor | None = None) -> tuple[PlainDisplay, io.StringIO]:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=200)
    return PlainDisplay("owner/model", console, clock=clock, redact=redact or str), buffer


def test_make_display_picks_live_only_on_a_terminal() -> None:
    terminal = Console(file=io.StringIO(), force_terminal=True)
    pipe = Console(file=io.StringIO(), force_terminal=False)
    assert isinstance(make_display("m", terminal), LiveDisplay)
    assert isinstance(make_display("m", pipe), PlainDisplay)


def test_plain_lines_status_changes_once_and_each_log_line_once() -> None:
    clock = Clock()
    display, buffer = plain(clock)
    with display:
        display.update("starting", None, "pid1")
        display.update("starting", "", "pid1")  # no change, nothing printed
        clock.now += 1.5
        display.update("processing", "loading\nstep 1", "pid1")  # "step 1" is not complete yet
        display.update("processing", "loading\nstep 1/2\n", "pid1")
        clock.now += 2.0
        display.update("succeeded", "loading\nstep 1/2\nstep 2/2", "pid1")
    lines = buffer.getvalue().splitlines()
    assert lines == [
        "owner/model pid1: starting (0.0s)",
        "owner/model pid1: processing (1.5s)",
        "  | loading",
        "  | step 1/2",
        "owner/model pid1: succeeded (3.5s)",
        "  | step 2/2",
    ]


def test_plain_lines_mask_the_token_in_logs() -> None:
    redact = Redactor()
    redact.add(SECRET)
    display, buffer = plain(Clock(), redact)
    display.update("processing", f"using token {SECRET}\n", "pid")
    assert SECRET not in buffer.getvalue()
    assert "using token <redacted>" in buffer.getvalue()


def test_live_panel_shows_status_elapsed_and_log_tail() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    clock = Clock()
    redact = Redactor()
    redact.add(SECRET)
    display = LiveDisplay("owner/model", console, clock=clock, redact=redact)
    logs = "".join(f"line {i}\n" for i in range(LOG_TAIL_LINES + 4)) + f"token {SECRET}\n"
    with display:
        clock.now += 4.2
        display.update("processing", logs, "pid9")
    output = buffer.getvalue()
    assert "processing" in output and "pid9" in output and "4.2s" in output
    assert f"line {LOG_TAIL_LINES + 3}" in output
    assert "line 0\n" not in output and "line 0 " not in output  # only the tail is shown
    assert SECRET not in output and "<redacted>" in output
