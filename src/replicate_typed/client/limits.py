"""The client's bounds, in one place: how long a call may take and how large an answer may be.

==========================  ==========  ===================================================
limit                       default     what it bounds
==========================  ==========  ===================================================
``wait_timeout``            2100 s      ``run()``, ``predictions.wait()``, stream waits and the
                                        CLI when no ``timeout`` is given (predictions end within
                                        30 minutes upstream, plus 5 minutes' margin)
``request_deadline``        300 s       one API call (create, get, a list page, ...): connect,
                                        every read incl. a slow body, retries, rate-limit pauses
``max_response_bytes``      16 MiB      one JSON answer (decoded): reading stops at the limit
``max_event_bytes``         4 MiB       one server-sent event of a prediction's stream
==========================  ==========  ===================================================

A ``timeout`` given to ``run``/``wait``/the CLI bounds the whole call the same way (every
request's own timeouts are clamped to the time left; no retry sleeps past it). ``math.inf``
as a ``timeout`` waits without limit (not recommended).
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx

from replicate_typed.client.errors import InputError

__all__ = [
    "Limits",
    "Deadline",
    "deadline",
    "current_deadline",
    "DEFAULT_WAIT_TIMEOUT",
    "DEFAULT_REQUEST_DEADLINE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_MAX_EVENT_BYTES",
]

DEFAULT_WAIT_TIMEOUT = 35 * 60.0
DEFAULT_REQUEST_DEADLINE = 300.0
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_EVENT_BYTES = 4 * 1024 * 1024
_MIN_TIMEOUT = 0.001  # httpx treats 0 as "fail at once" on some backends; keep a sliver


@dataclass(frozen=True)
class Limits:
    """A client's bounds (see the module); ``Client(limits=Limits(max_response_bytes=...))``."""

    wait_timeout: float = DEFAULT_WAIT_TIMEOUT
    request_deadline: float = DEFAULT_REQUEST_DEADLINE
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES

    def __post_init__(self) -> None:
        for name in ("wait_timeout", "request_deadline"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise InputError(f"Limits.{name}: {value!r} must be a number of seconds > 0")
        for name in ("max_response_bytes", "max_event_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1024:
                raise InputError(f"Limits.{name}: {value!r} must be an integer >= 1024 (bytes)")

    def wait_seconds(self, timeout: float | None) -> float:
        """The deadline of a wait given ``timeout`` (None: :attr:`wait_timeout`)."""
        if timeout is None:
            return self.wait_timeout
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout >= 0:
            raise InputError(f"timeout: {timeout!r} must be a number of seconds >= 0")
        return float(timeout)


class Deadline:
    """A point in time (by ``clock``) a call must end by; ``at=None`` is no deadline.

    ``what`` names the wait in errors ("prediction X to finish", "predictions.get").
    """

    __slots__ = ("at", "clock", "seconds")

    def __init__(self, seconds: float | None, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.seconds = seconds
        self.at = None if seconds is None or math.isinf(seconds) else clock() + seconds

    @classmethod
    def at_time(cls, at: float | None, clock: Callable[[], float]) -> Deadline:
        deadline = cls(None, clock)
        deadline.at = at
        if at is not None:
            deadline.seconds = max(0.0, at - clock())
        return deadline

    def left(self) -> float | None:
        """Seconds left (may be <= 0), or None without a deadline."""
        return None if self.at is None else self.at - self.clock()

    def expired(self) -> bool:
        left = self.left()
        return left is not None and left <= 0

    def earliest(self, other: Deadline | None) -> Deadline:
        """The sooner of two deadlines (compared by the time left: each keeps its own clock)."""
        if other is None or other.at is None:
            return self
        mine, theirs = self.left(), other.left()
        if mine is None or (theirs is not None and theirs < mine):
            return other
        return self

    def at_least(self, seconds: float) -> Deadline:
        """This deadline, or ``seconds`` from now if that is later."""
        if self.at is None:
            return self
        floor = self.clock() + seconds
        return self if self.at >= floor else Deadline.at_time(floor, self.clock)

    def clamp(self, timeout: httpx.Timeout) -> httpx.Timeout:
        """``timeout`` with every part (connect, read, write, pool) at most the time left."""
        if self.at is None:
            return timeout
        return httpx.Timeout(**self.clamp_parts(timeout.as_dict()))

    def clamp_parts(self, parts: dict[str, float | None]) -> dict[str, float | None]:
        """:meth:`clamp` on a timeout's parts (``httpx.Timeout.as_dict()``, the form a
        request's ``timeout`` extension has): a new dict, or ``parts`` itself without a
        deadline."""
        at = self.at
        if at is None:
            return parts
        left = max(at - self.clock(), _MIN_TIMEOUT)
        return {
            name: left if value is None or value > left else value for name, value in parts.items()
        }

    def allows_sleep(self, delay: float) -> bool:
        """False when sleeping ``delay`` would reach the deadline (then fail now, not later)."""
        left = self.left()
        return left is None or delay < left


current_deadline: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "replicate_typed_deadline", default=None
)
"""The deadline of the enclosing ``run``/``wait``/:func:`deadline` block (per task or thread):
every request sent inside it ends by it (as well as by its own request deadline)."""


@contextlib.contextmanager
def deadline(seconds: float | Deadline | None) -> Iterator[Deadline]:
    """Every API call of any client made inside the block ends within ``seconds`` (or by the
    given :class:`Deadline`): ``with deadline(10): client.predictions.get(id)``. An enclosing
    deadline that comes sooner still holds."""
    given = seconds if isinstance(seconds, Deadline) else Deadline(seconds, time.monotonic)
    chosen = given.earliest(current_deadline.get())
    token = current_deadline.set(chosen)
    try:
        yield chosen
    finally:
        current_deadline.reset(token)
