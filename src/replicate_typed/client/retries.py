"""The one retry policy of the client: which failed request may be sent again, and when.

Who may be retried (``should_retry``), pinned by ``contract_tests/client/test_retries.py``:

==================  =============================  ==================================
request kind        failure                        retried?
==================  =============================  ==================================
read (GET)          not sent (connect error,       yes
cancel (POST)       connect/pool timeout)
                    sent, no answer (read/write    yes
                    timeout, read error, dropped)
                    408, 429, 500-599              yes
                    other 4xx                      no
create (POST)       not sent                       yes  (nothing can have been created)
  predictions,      429                            yes  (throttled: nothing was created)
  files             sent, no answer; 408; 5xx      **no**: a paid prediction may exist;
                                                   the error says so (``prediction_may_exist``)
==================  =============================  ==================================

When: the server's hint first (``retry-after-ms``, ``Retry-After`` in seconds or as an HTTP
date, ``ratelimit-reset``, the 429 body's ``retry_after`` or its detail "Expected available in
N seconds"), capped at ``max_retry_after`` (60 s) plus up to 10 % jitter; absurd values
(``inf``, ``nan``, a date years away, negative) are capped or ignored, never slept blindly;
otherwise exponential backoff ``initial_delay * 2**attempt`` capped at ``max_delay``, minus up
to 25 % jitter. Jitter and the clock are injectable so tests are exact. The batch runner pauses
its buckets by the same rule (:meth:`RetryPolicy.pause_for`); a pause of :data:`LONG_PAUSE` or
more is announced (:func:`on_rate_limit_pause`: the CLI's and the batch's progress lines).
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import math
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

import httpx

from replicate_typed.client.defaults import DEFAULT_MAX_RETRIES

__all__ = [
    "RequestKind",
    "RetryPolicy",
    "should_retry",
    "was_sent",
    "retry_after_hint",
    "RateLimitPause",
    "announce",
    "on_rate_limit_pause",
    "LONG_PAUSE",
    "RATE_LIMIT_EVENT",
    "RETRYABLE_STATUSES",
]

RequestKind = Literal["read", "cancel", "create"]
"""``read``: GET; ``cancel``: idempotent POST; ``create``: a POST that creates something."""

RETRYABLE_STATUSES = frozenset({408, 429}) | frozenset(range(500, 600))

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_SENT_RETRYABLE = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    httpx.CloseError,
    httpx.DecodingError,  # a body that fails its content-encoding: as good as a broken read
)
_DETAIL_HINT = re.compile(r"available in (\d+(?:\.\d+)?) seconds?", re.IGNORECASE)


def was_sent(exc: BaseException) -> bool:
    """False only when the request surely never reached the server (no connection was made)."""
    return not isinstance(exc, _NOT_SENT)


def should_retry(
    kind: RequestKind, *, status: int | None = None, exc: BaseException | None = None
) -> bool:
    """Whether a request of ``kind`` that failed with ``status`` or ``exc`` may be sent again."""
    if exc is not None:
        if isinstance(exc, _NOT_SENT):
            return True
        if isinstance(exc, _SENT_RETRYABLE):
            return kind != "create"
        return False
    if status is None:
        return False
    if kind == "create":
        return status == 429
    return status in RETRYABLE_STATUSES


def _header(headers: Mapping[str, str], name: str) -> str | None:
    if isinstance(headers, httpx.Headers):
        value: str | None = headers.get(name)
        return value
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def _seconds(raw: object, scale: float = 1.0) -> float | None:
    """A finite, non-negative number of seconds from a header or body value, else None.

    ``nan``, negative values and non-numbers are no hint (the policy backs off as without
    one); ``inf`` and huge values pass through (the policy caps them)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        value = float(raw)
    elif isinstance(raw, str) and len(raw) <= 64:
        try:
            value = float(raw.strip())
        except ValueError:
            return None
    else:
        return None
    if math.isnan(value) or value < 0:
        return None
    return value * scale


def _http_date(raw: str, now: Callable[[], float]) -> float | None:
    if len(raw) > 64:
        return None
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None or when.tzinfo is None:
        return None
    try:
        return max(0.0, when.timestamp() - now())
    except (OverflowError, ValueError, OSError):
        return None


def _body_hint(body: object) -> float | None:
    """``retry_after`` of a JSON 429 body (Replicate's carries it), or its detail text."""
    if isinstance(body, bytes | bytearray):
        if not body or len(body) > 65536:
            return None
        try:
            body = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None
    if not isinstance(body, Mapping):
        return None
    hint = _seconds(body.get("retry_after"))
    if hint is not None:
        return hint
    detail = body.get("detail")
    if isinstance(detail, str):
        return _detail_hint(detail)
    return None


def _detail_hint(detail: str) -> float | None:
    match = _DETAIL_HINT.search(detail[:2000])
    return _seconds(match.group(1)) if match else None


def retry_after_hint(
    headers: Mapping[str, str] | None,
    *,
    detail: str | None = None,
    body: object = None,
    now: Callable[[], float] = time.time,
) -> float | None:
    """The server's "retry in N seconds" hint, uncapped (may be ``inf``), or None if none.

    In order: ``retry-after-ms``, ``Retry-After`` (seconds or an HTTP date), ``ratelimit-reset``
    (delta seconds, or an epoch time), the JSON body's ``retry_after``, a detail text "Expected
    available in N seconds". Unreadable values (``nan``, negative, garbage, a date without a
    zone) are skipped. :meth:`RetryPolicy.rate_limit_delay` caps and jitters it.
    """
    if headers:
        raw = _header(headers, "retry-after-ms")
        if raw is not None and (hint := _seconds(raw, 0.001)) is not None:
            return hint
        raw = _header(headers, "retry-after")
        if raw is not None:
            hint = _seconds(raw)
            if hint is None:
                hint = _http_date(raw, now)
            if hint is not None:
                return hint
        raw = _header(headers, "ratelimit-reset")
        if raw is not None and (hint := _seconds(raw)) is not None:
            # delta seconds (IETF draft); a value that looks like an epoch time is absolute
            if 1_000_000_000 < hint < math.inf:
                return max(0.0, hint - now())
            return hint
    if body is not None and (hint := _body_hint(body)) is not None:
        return hint
    if detail:
        return _detail_hint(detail)
    return None


@dataclass(frozen=True)
class RateLimitPause:
    """A pause the rate-limit policy decided: announced (a logging event) when long."""

    seconds: float
    operation: str
    hint: float | None
    capped: bool

    def describe(self) -> str:
        told = "" if self.hint is None else f" (the server asked for {_show(self.hint)})"
        return f"rate limited on {self.operation}: pausing {self.seconds:.0f}s{told}"


def _show(seconds: float) -> str:
    return "an unbounded wait" if math.isinf(seconds) else f"{seconds:g}s"


LONG_PAUSE = 5.0
"""Pauses at least this long are announced (``RATE_LIMIT_EVENT`` records on the logger)."""

RATE_LIMIT_EVENT = "rate_limit_pause"
"""The ``extra`` key of the log record that announces a long pause (its value: the pause)."""

_ratelimit_logger = logging.getLogger("replicate_typed.ratelimit")
_ratelimit_logger.addHandler(logging.NullHandler())  # a library: silent unless configured
_listeners: list[Callable[[RateLimitPause], object]] = []


def announce(pause: RateLimitPause) -> None:
    """Tell the listeners (:func:`on_rate_limit_pause`) of a long pause, and log every pause:
    WARNING with ``extra={RATE_LIMIT_EVENT: pause}`` when long, else DEBUG."""
    long = pause.seconds >= LONG_PAUSE
    if long:
        for listener in tuple(_listeners):
            listener(pause)
    level = logging.WARNING if long else logging.DEBUG
    _ratelimit_logger.log(level, "%s", pause.describe(), extra={RATE_LIMIT_EVENT: pause})


@contextlib.contextmanager
def on_rate_limit_pause(callback: Callable[[RateLimitPause], object]) -> Iterator[None]:
    """Call ``callback`` with every long rate-limit pause (client retries, batch runner) while
    the block runs: how the CLI's and the batch's progress lines announce them."""
    _listeners.append(callback)
    try:
        yield
    finally:
        _listeners.remove(callback)


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff parameters. ``max_retries`` is the number of retries (attempts = max_retries + 1)."""

    max_retries: int = DEFAULT_MAX_RETRIES
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    jitter: Callable[[], float] = field(default=random.random, repr=False, compare=False)
    now: Callable[[], float] = field(default=time.time, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")

    def should_retry(
        self,
        kind: RequestKind,
        attempt: int,
        *,
        status: int | None = None,
        exc: BaseException | None = None,
    ) -> bool:
        """``attempt`` counts from 0 (the first try); retries stop after ``max_retries``."""
        return attempt < self.max_retries and should_retry(kind, status=status, exc=exc)

    def backoff(self, attempt: int) -> float:
        """Delay before retry number ``attempt + 1`` when the server gave no hint."""
        base = min(self.initial_delay * (2.0**attempt), self.max_delay)
        return base * (1.0 - 0.25 * self.jitter())

    def delay(
        self,
        attempt: int,
        headers: Mapping[str, str] | None = None,
        *,
        detail: str | None = None,
        body: object = None,
    ) -> float:
        """Seconds to wait before retrying after failed attempt ``attempt`` (0-based)."""
        hint = retry_after_hint(headers, detail=detail, body=body, now=self.now)
        return self.rate_limit_delay(hint, attempt)

    def rate_limit_delay(self, hint: float | None, attempt: int = 0) -> float:
        """The one rate-limit rule: the server's hint plus up to 10 % jitter (so throttled
        clients do not come back in step; never earlier than asked), capped at
        ``max_retry_after``; without a hint, :meth:`backoff`. Always finite, within [0, cap]."""
        if hint is None or math.isnan(hint):
            return self.backoff(attempt)
        cap = self.max_retry_after
        if hint >= cap:
            return cap  # capped: already earlier than asked; never longer than the cap
        return min(max(hint, 0.0) * (1.0 + 0.1 * self.jitter()), cap)

    def pause_for(self, hint: float | None, operation: str, attempt: int = 0) -> float:
        """:meth:`rate_limit_delay` for a 429, announced (see :func:`on_rate_limit_pause`)."""
        seconds = self.rate_limit_delay(hint, attempt)
        self.announce_pause(seconds, hint, operation)
        return seconds

    def announce_pause(self, seconds: float, hint: float | None, operation: str) -> None:
        """Announce a rate-limit pause about to be slept (long ones reach the listeners)."""
        capped = hint is not None and not hint <= self.max_retry_after
        announce(RateLimitPause(seconds, operation, hint, capped))
