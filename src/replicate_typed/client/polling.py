"""How the client waits for a prediction: ``Prefer: wait[=N]``, then the stream, then polling.

1. ``create(..., wait=True | N)`` asks the server to hold the create request until the
   prediction finishes (``Prefer: wait`` / ``Prefer: wait=N``); the client raises its read
   timeout for that request to N + :data:`WAIT_READ_MARGIN` so a long hold never ends in a
   spurious read timeout. :meth:`Client.run` does this by default.
2. If the answer is not terminal yet and the prediction has a stream (``urls.stream``), the
   client reads it: its ``done`` event says the moment the prediction ends, then one GET fetches
   the final prediction (two requests after the create, whatever the job's length). The stream
   is used only when the client may (``PollPolicy.use_stream``, on by default) and can: the URL
   is an absolute http(s) URL, and when the client has a token, the stream's host is one the
   token may go to (the base URL's origin, or ``*.replicate.com`` for the official API; the token
   never goes anywhere else, so a router's upstream stream URL is not used). A wait ``timeout``
   holds on the stream as on the poller (:class:`PredictionTimeoutError` with the id).
3. Otherwise, and whenever the stream is missing or fails (an error status such as 404/405, an
   answer that is not ``text/event-stream``, a connection that keeps closing before ``done``,
   a ``done`` the prediction does not confirm), :class:`Poller` chooses the delay before each GET:

   * progress in the logs (tqdm bars such as ``3/4 [00:00<00:00, 15.38it/s]``, which most
     models print) gives the remaining time: the next GET is sent when the bar says the
     prediction ends (never later than ``max_interval``), so completion is seen a fraction of a
     step late with one or two GETs;
   * once the bar is full (outputs being written), it polls every 5 % of the time waited;
   * without progress, intervals start at ``initial`` and grow by ``factor`` up to
     ``max_interval`` (0.25 s, 0.375 s, 0.56 s, ... 3 s by default).

   Only ``succeeded``/``failed``/``canceled``/``aborted`` end the wait; any other status,
   including one the client has never seen, keeps it polling.

Everything here is pure (no clock, no I/O) so sync and async clients share it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from replicate_typed.client.errors import InputError
from replicate_typed.predictions import TERMINAL_STATUSES

__all__ = [
    "PollPolicy",
    "Poller",
    "is_terminal",
    "prefer_header",
    "wait_read_timeout",
    "validate_wait",
    "parse_progress",
    "WAIT_READ_MARGIN",
    "DEFAULT_SERVER_WAIT",
]

WAIT_READ_MARGIN = 10.0
"""Seconds added to the server's hold time to get the read timeout of a ``Prefer: wait`` create."""

DEFAULT_SERVER_WAIT = 60
"""What a bare ``Prefer: wait`` means: the server holds the request up to 60 s."""


def is_terminal(status: str | None) -> bool:
    return status in TERMINAL_STATUSES


def validate_wait(wait: bool | int | None) -> bool | int | None:
    """``wait`` must be None, a bool or an int in 1..60 (the API's ``Prefer: wait=N`` range)."""
    if wait is None or isinstance(wait, bool):
        return wait
    if not isinstance(wait, int) or not 1 <= wait <= 60:
        raise InputError(
            f"wait: {wait!r} is not allowed; use True (server default), False/None (no wait) "
            "or an integer number of seconds from 1 to 60"
        )
    return wait


def prefer_header(wait: bool | int | None) -> str | None:
    """The ``Prefer`` header value for ``wait`` (None: send no header)."""
    wait = validate_wait(wait)
    if wait is None or wait is False:
        return None
    if wait is True:
        return "wait"
    return f"wait={wait}"


def wait_read_timeout(wait: bool | int | None) -> float | None:
    """The minimum read timeout a create with ``wait`` needs (None if it needs none)."""
    wait = validate_wait(wait)
    if wait is None or wait is False:
        return None
    seconds = DEFAULT_SERVER_WAIT if wait is True else wait
    return float(seconds) + WAIT_READ_MARGIN


_TQDM = re.compile(
    r"(?P<done>\d+)/(?P<total>\d+)\s*\[[^\]<]*<[^,\]]*,\s*(?P<rate>\d+(?:\.\d+)?)(?P<unit>it/s|s/it)"
)


def parse_progress(logs: str | None) -> tuple[int, int, float] | None:
    """The last tqdm bar in ``logs`` as (steps done, steps total, steps per second), if any."""
    if not logs:
        return None
    tail = logs[-2000:]
    last = None
    for last in _TQDM.finditer(tail):  # noqa: B007  (we want the last match)
        pass
    if last is None:
        return None
    done, total = int(last.group("done")), int(last.group("total"))
    rate = float(last.group("rate"))
    if last.group("unit") == "s/it":
        rate = 1.0 / rate if rate > 0 else 0.0
    if total <= 0 or rate <= 0 or done > total:
        return None
    return done, total, rate


@dataclass(frozen=True)
class PollPolicy:
    """Polling intervals: start at ``initial`` seconds, grow by ``factor``, cap at ``max_interval``.

    ``use_stream``: wait on the prediction's event stream when it has one the client may read
    (see the module's notes); False always polls.

    ``use_progress``: jump to the completion time a tqdm progress bar in the logs predicts
    plus ``progress_margin`` (a fraction: tqdm's rate is smoothed, and writing the outputs after
    the bar takes a little longer; landing just after the end saves a GET); once the bar is full,
    poll every ``tail_fraction`` of the time waited so far (between ``initial/4`` and
    ``initial``) while the outputs are written.
    """

    initial: float = 0.25
    factor: float = 1.5
    max_interval: float = 3.0
    use_progress: bool = True
    progress_margin: float = 0.1
    tail_fraction: float = 0.05
    use_stream: bool = True

    def __post_init__(self) -> None:
        if not self.initial > 0:
            raise InputError(f"PollPolicy.initial: {self.initial!r} must be > 0 seconds")
        if not self.factor >= 1:
            raise InputError(f"PollPolicy.factor: {self.factor!r} must be >= 1")
        if not self.max_interval >= self.initial:
            raise InputError(
                f"PollPolicy.max_interval: {self.max_interval!r} must be >= initial ({self.initial})"
            )

    def interval(self, n: int) -> float:
        """The n-th (0-based) backoff interval."""
        return min(self.initial * self.factor**n, self.max_interval)


class Poller:
    """Delay before each GET of one wait. Call :meth:`next_delay` after every non-terminal answer."""

    def __init__(self, policy: PollPolicy | None = None) -> None:
        self.policy = policy or PollPolicy()
        self._n = 0  # backoff steps taken
        self._last_progress: tuple[int, int] | None = None

    def next_delay(
        self, status: str | None = None, logs: str | None = None, *, elapsed: float | None = None
    ) -> float:
        """Seconds to wait before the next GET, given the last answer's status and logs and the
        seconds ``elapsed`` since the wait began (if known)."""
        policy = self.policy
        progress = parse_progress(logs) if policy.use_progress else None
        if progress is not None:
            done, total, rate = progress
            if done < total:
                if self._last_progress != (done, total):
                    self._n = 0  # the bar moved: it is alive, back off from scratch later
                self._last_progress = (done, total)
                remaining = (total - done) / rate * (1.0 + policy.progress_margin)
                return _clamp(remaining, policy.initial / 4, policy.max_interval)
            if elapsed is not None and elapsed > 0:
                # bar complete: the model is writing its outputs, usually a short tail
                return _clamp(policy.tail_fraction * elapsed, policy.initial / 4, policy.initial)
        delay = policy.interval(self._n)
        self._n += 1
        return delay


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(value, high))
