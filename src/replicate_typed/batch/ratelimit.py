"""A token bucket for asyncio: at most ``burst + per_minute`` acquisitions in any 60 seconds.

The API allows 600 creates per minute (and 3000 other requests); the batch runner's defaults
(creates: 540/min, burst 10; reads: 2400/min, burst 50) stay under both with room for other
clients of the same account. A 429 answer pauses the bucket for the server's ``Retry-After``
(:meth:`TokenBucket.pause`), so every worker backs off together.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["TokenBucket", "MAX_PAUSE"]

MAX_PAUSE = 60.0
"""The longest pause a 429 can impose (the client's ``RetryPolicy.max_retry_after``)."""


class TokenBucket:
    """``per_minute`` tokens a minute, up to ``burst`` saved; ``acquire()`` waits for one.

    ``clock``/``sleep`` are injectable (tests). ``per_minute=None`` means no limit.
    """

    def __init__(
        self,
        per_minute: float | None,
        burst: int = 10,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_minute is not None and per_minute <= 0:
            raise ValueError(f"per_minute must be > 0 (or None for no limit), not {per_minute}")
        if burst < 1:
            raise ValueError(f"burst must be >= 1, not {burst}")
        self.per_minute = per_minute
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._last = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self.acquired = 0
        self.waited = 0.0

    def __repr__(self) -> str:
        return f"TokenBucket(per_minute={self.per_minute}, burst={self.burst})"

    def _refill(self, now: float) -> None:
        if self.per_minute is None:
            return
        rate = self.per_minute / 60.0
        if now > self._last:
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * rate)
            self._last = now

    def pause(self, seconds: float) -> None:
        """Hand out nothing for ``seconds`` (a 429 said so, through the client's rate-limit rule
        :meth:`RetryPolicy.pause_for`); saved tokens are dropped. Never longer than
        :data:`MAX_PAUSE` (nan, negative: no pause)."""
        seconds = min(seconds, MAX_PAUSE) if seconds >= 0 else 0.0  # nan >= 0 is False
        now = self._clock()
        self._paused_until = max(self._paused_until, now + max(0.0, seconds))
        self._tokens = 0.0
        self._last = max(self._last, self._paused_until)  # nothing saves up while paused

    async def acquire(self) -> None:
        async with self._lock:  # first come, first served
            while True:
                now = self._clock()
                if now < self._paused_until:
                    wait = self._paused_until - now
                elif self.per_minute is None:
                    break
                else:
                    self._refill(now)
                    if self._tokens >= 1.0 - 1e-9:  # float dust must not spin forever
                        self._tokens = max(0.0, self._tokens - 1.0)
                        break
                    wait = (1.0 - self._tokens) / (self.per_minute / 60.0)
                self.waited += wait
                await self._sleep(wait)
            self.acquired += 1
