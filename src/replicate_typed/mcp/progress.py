"""Progress from a prediction's logs: the last progress bar (tqdm and the like) they hold.

``" 45%|####      | 9/20 [00:03<00:04, 2.5it/s]"`` is 9 of 20; ``"12/50"`` after a bar is 12 of
50; a bare ``"45%|"`` is 45 of 100. Only the last 4,000 characters are read (logs grow without
bound), and only a bar's own shape counts: a date or a fraction in prose is not progress.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Progress", "ProgressTracker", "parse_progress"]

_TAIL = 4000
# "45%|...| 9/20" (steps optional) or a tqdm count with its timing bracket "9/20 [00:03<..."
_BAR = re.compile(
    r"(?P<pct>\d{1,3}(?:\.\d+)?)%\|[^|\n]{0,200}\|(?:\s*(?P<done>\d{1,9})/(?P<total>\d{1,9}))?"
    r"|(?P<done2>\d{1,9})/(?P<total2>\d{1,9})\s*\[\d"
)


@dataclass(frozen=True)
class Progress:
    """``progress`` of ``total`` (both as MCP sends them), with a short message."""

    progress: float
    total: float
    message: str


def parse_progress(logs: str | None) -> Progress | None:
    """The last progress bar in ``logs``, or None when they hold none."""
    if not logs:
        return None
    last = None
    for last in _BAR.finditer(logs[-_TAIL:]):  # noqa: B007  (the last bar is the current one)
        pass
    if last is None:
        return None
    done = last.group("done") or last.group("done2")
    total = last.group("total") or last.group("total2")
    if done is not None and total is not None and 0 < int(total) and int(done) <= int(total):
        steps, of = int(done), int(total)
        return Progress(float(steps), float(of), f"{steps}/{of}")
    pct = last.group("pct")
    if pct is not None and float(pct) <= 100:
        return Progress(float(pct), 100.0, f"{float(pct):g}%")
    return None


class ProgressTracker:
    """What to report next: progress only ever grows (MCP requires it), so a new bar that
    starts again (a second pass, another total) is reported as a fraction of 100 from there."""

    def __init__(self) -> None:
        self._last: float = -1.0
        self._status: str | None = None

    def update(self, status: str | None, logs: str | None) -> Progress | None:
        """The report for a prediction now ``status`` with ``logs``, or None if nothing moved."""
        found = parse_progress(logs)
        if found is None:
            if status is not None and status != self._status and self._last < 0:
                self._status = status
                self._last = 0.0
                return Progress(0.0, 100.0, status)
            self._status = status or self._status
            return None
        self._status = status or self._status
        fraction = 100.0 * found.progress / found.total
        if fraction <= self._last:
            return None
        self._last = fraction
        return Progress(fraction, 100.0, f"{self._status or 'processing'}: {found.message}")

    def finish(self, status: str) -> Progress | None:
        """The last report (100 of 100), unless the bar already reached it."""
        if self._last >= 100.0:
            return None
        self._last = 100.0
        return Progress(100.0, 100.0, status)
