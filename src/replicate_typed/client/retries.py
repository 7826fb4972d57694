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
date, ``ratelimit-reset``, or a 429 detail "Expected available in N seconds"), capped at
``max_retry_after``; otherwise exponential backoff ``initial_delay * 2**attempt`` capped at
``max_delay``, minus up to 25 % jitter. Jitter and the clock are injectable so tests are exact.
"""

from __future__ import annotations

import email.utils
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import httpx

__all__ = [
    "RequestKind",
    "RetryPolicy",
    "should_retry",
    "was_sent",
    "retry_after_hint",
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


def retry_after_hint(
    headers: Mapping[str, str] | None,
    *,
    detail: str | None = None,
    now: Callable[[], float] = time.time,
) -> float | None:
    """The server's "retry in N seconds" hint, from headers or a 429 detail text; None if none."""
    if headers:
        raw = _header(headers, "retry-after-ms")
        if raw is not None:
            try:
                return max(0.0, float(raw) / 1000.0)
            except ValueError:
                pass
        raw = _header(headers, "retry-after")
        if raw is not None:
            try:
                return max(0.0, float(raw))
            except ValueError:
                try:
                    when = email.utils.parsedate_to_datetime(raw)
                except (TypeError, ValueError, IndexError):
                    when = None
                if when is not None and when.tzinfo is not None:
                    return max(0.0, when.timestamp() - now())
        raw = _header(headers, "ratelimit-reset")
        if raw is not None:
            try:
                value = float(raw)
            except ValueError:
                value = -1.0
            if value >= 0:
                # delta seconds (IETF draft); a value that looks like an epoch time is absolute
                return max(0.0, value - now()) if value > 1_000_000_000 else value
    if detail:
        match = _DETAIL_HINT.search(detail)
        if match:
            return float(match.group(1))
    return None


DEFAULT_MAX_RETRIES = 4
"""Retries of one request unless a client or a call says otherwise (its one home)."""


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
    ) -> float:
        """Seconds to wait before retrying after failed attempt ``attempt`` (0-based)."""
        hint = retry_after_hint(headers, detail=detail, now=self.now)
        if hint is not None:
            return min(hint, self.max_retry_after)
        return self.backoff(attempt)
