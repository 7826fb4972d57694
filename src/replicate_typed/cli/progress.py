"""The status display of ``replicate-typed run``: status, elapsed time and the tail of the logs.

On a terminal it is a Rich ``Live`` panel redrawn in place (on stderr, so stdout stays clean
for the file paths); elsewhere (pipes, CI, tests) it degrades to plain lines: one per status
change and one per new log line. A long rate-limit pause (the client's one rate-limit rule,
:func:`replicate_typed.client.retries.on_rate_limit_pause`) is announced on it while it is
open; :func:`announce_pauses` does the same for any console (the batch's progress line).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.spinner import Spinner
from rich.text import Text

if TYPE_CHECKING:
    from replicate_typed.client.retries import RateLimitPause

__all__ = ["LiveDisplay", "PlainDisplay", "make_display", "announce_pauses", "LOG_TAIL_LINES"]


def pause_line(pause: RateLimitPause) -> str:
    """``rate limited on predictions.get: pausing 60s (the server asked for 3600s)``."""
    return pause.describe()


@contextlib.contextmanager
def announce_pauses(console: Console) -> Iterator[None]:
    """Print a line on ``console`` for every long rate-limit pause while the block runs."""
    from replicate_typed.client.retries import on_rate_limit_pause

    def show(pause: RateLimitPause) -> None:
        console.print(pause_line(pause), markup=False, highlight=False)

    with on_rate_limit_pause(show):
        yield


LOG_TAIL_LINES = 8
_STATUS_STYLES = {
    "starting": "yellow",
    "processing": "cyan",
    "succeeded": "green",
    "failed": "red",
    "canceled": "magenta",
    "aborted": "red",
}


class _Base:
    def __init__(
        self,
        title: str,
        clock: Callable[[], float] = time.monotonic,
        redact: Callable[[str], str] = str,
    ) -> None:
        self.title = title
        self._clock = clock
        self._started = clock()
        self._redact = redact
        self.status = "sending"
        self.prediction_id: str | None = None
        self.logs = ""
        self.note = ""  # a long rate-limit pause, shown until the next update
        self._pauses = contextlib.ExitStack()

    def _listen(self) -> None:
        from replicate_typed.client.retries import on_rate_limit_pause

        self._pauses.enter_context(on_rate_limit_pause(self.pause))

    def pause(self, pause: RateLimitPause) -> None:
        self.note = pause_line(pause)

    @property
    def elapsed(self) -> float:
        return self._clock() - self._started


class PlainDisplay(_Base):
    """Plain lines for pipes and logs: status changes and new log lines, nothing redrawn."""

    def __init__(self, title: str, console: Console, **kwargs: Any) -> None:
        super().__init__(title, **kwargs)
        self._console = console
        self._printed_status: str | None = None
        self._printed_logs = 0

    def __enter__(self) -> PlainDisplay:
        self._listen()
        return self

    def __exit__(self, *exc: object) -> None:
        self._pauses.close()

    def pause(self, pause: RateLimitPause) -> None:
        super().pause(pause)
        self._console.print(f"{self.title}: {self.note}", markup=False, highlight=False)

    def update(self, status: str, logs: str | None, prediction_id: str | None) -> None:
        self.status, self.prediction_id = status, prediction_id or self.prediction_id
        if status != self._printed_status:
            self._printed_status = status
            ident = f" {self.prediction_id}" if self.prediction_id else ""
            self._console.print(
                f"{self.title}{ident}: {status} ({self.elapsed:.1f}s)",
                markup=False,
                highlight=False,
            )
        logs = logs or ""
        if len(logs) < self._printed_logs:  # the server replaced the logs; start over
            self._printed_logs = 0
        new = logs[self._printed_logs :]
        complete = new.rfind("\n") + 1 if status not in _FINAL else len(new)
        for line in new[:complete].splitlines():
            if line.strip():
                self._console.print(f"  | {self._redact(line)}", markup=False, highlight=False)
        self._printed_logs += complete


_FINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})


class LiveDisplay(_Base):
    """A Rich ``Live`` panel: spinner, status, elapsed time and the last log lines."""

    def __init__(self, title: str, console: Console, **kwargs: Any) -> None:
        super().__init__(title, **kwargs)
        self._console = console
        self._spinner = Spinner("dots")
        self._live = Live(
            get_renderable=self._render,
            console=console,
            refresh_per_second=8,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def _render(self) -> RenderableType:
        style = _STATUS_STYLES.get(self.status, "white")
        head = Text.assemble(
            (self.title, "bold"),
            "  ",
            (self.status, style),
            f"  {self.elapsed:5.1f}s",
            (f"  {self.prediction_id}" if self.prediction_id else "", "dim"),
            (f"  {self.note}" if self.note else "", "yellow"),
        )
        self._spinner.text = head
        tail = [self._redact(line) for line in self.logs.splitlines() if line.strip()]
        tail = tail[-LOG_TAIL_LINES:]
        if not tail:
            return self._spinner if self.status not in _FINAL else head
        body = Panel(Text("\n".join(tail)), title="logs", title_align="left", border_style="dim")
        return Group(self._spinner if self.status not in _FINAL else head, body)

    def __enter__(self) -> LiveDisplay:
        self._live.start()
        self._listen()
        return self

    def __exit__(self, *exc: object) -> None:
        self._pauses.close()
        self._live.refresh()
        self._live.stop()

    def pause(self, pause: RateLimitPause) -> None:
        super().pause(pause)
        self._live.refresh()

    def update(self, status: str, logs: str | None, prediction_id: str | None) -> None:
        self.note = ""
        self.status = status
        self.prediction_id = prediction_id or self.prediction_id
        self.logs = logs or ""
        self._live.refresh()


def make_display(
    title: str, console: Console, *, redact: Callable[[str], str] = str
) -> LiveDisplay | PlainDisplay:
    """A live panel on a terminal, plain lines otherwise."""
    if console.is_terminal and not console.is_dumb_terminal:
        return LiveDisplay(title, console, redact=redact)
    return PlainDisplay(title, console, redact=redact)
