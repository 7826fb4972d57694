"""Clocks for the mock: the real one, and a fake one tests move by hand.

Every time the mock reasons about (lifecycles, deadlines, expiry, ``Prefer: wait``, SSE, webhook
schedules) goes through a :class:`Clock`, so a test drives a whole lifecycle in milliseconds.
"""

from __future__ import annotations

import asyncio
import threading
import time

__all__ = ["Clock", "SystemClock", "FakeClock"]


class Clock:
    """Wall-clock seconds since the epoch, plus sleeping against that clock."""

    def now(self) -> float:
        raise NotImplementedError

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None) -> None:
        """Hold a request for ``seconds`` of this clock (``wake`` ends the hold early)."""
        raise NotImplementedError

    def sleep_sync(self, seconds: float, wake: threading.Event | None = None) -> None:
        """Blocking variant of :meth:`sleep` for synchronous callers (respx with ``httpx.Client``)."""
        raise NotImplementedError

    async def wait_until(self, when: float, wake: asyncio.Event | None = None) -> None:
        """Background wait (webhook schedules): never moves a fake clock, only watches it."""
        raise NotImplementedError


class SystemClock(Clock):
    """The real clock: ``time.time()`` and real sleeps."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        if wake is None:
            await asyncio.sleep(seconds)
            return
        try:
            await asyncio.wait_for(wake.wait(), timeout=seconds)
        except TimeoutError:
            pass

    def sleep_sync(self, seconds: float, wake: threading.Event | None = None) -> None:
        if seconds <= 0:
            return
        if wake is None:
            time.sleep(seconds)
        else:
            wake.wait(seconds)

    async def wait_until(self, when: float, wake: asyncio.Event | None = None) -> None:
        await self.sleep(when - self.now(), wake)


class FakeClock(Clock):
    """A clock that only moves when told to.

    ``advance(seconds)`` moves it. With ``auto_advance=True`` (the default) a request that holds
    (``Prefer: wait``, an SSE stream, a slow fault) moves the clock forward by the time it would
    have waited, so such requests finish at once; background work (webhook schedules) never moves
    it and simply waits, polling every few real milliseconds, until a test advances it.
    """

    def __init__(self, start: float = 1_767_225_600.0, *, auto_advance: bool = True) -> None:
        self._now = float(start)
        self._lock = threading.Lock()
        self.auto_advance = auto_advance
        self.poll_interval = 0.002

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move the clock forward (never backward); returns the new time."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, when: float) -> None:
        with self._lock:
            if when < self._now:
                raise ValueError("a clock does not go backwards")
            self._now = when

    async def sleep(self, seconds: float, wake: asyncio.Event | None = None) -> None:
        if self.auto_advance:
            if seconds > 0:
                self.advance(seconds)
            await asyncio.sleep(0)
            return
        await self.wait_until(self._now + max(seconds, 0.0), wake)

    def sleep_sync(self, seconds: float, wake: threading.Event | None = None) -> None:
        if self.auto_advance:
            if seconds > 0:
                self.advance(seconds)
            return
        target = self._now + max(seconds, 0.0)
        while self._now < target and not (wake is not None and wake.is_set()):
            time.sleep(self.poll_interval)

    async def wait_until(self, when: float, wake: asyncio.Event | None = None) -> None:
        while self._now < when and not (wake is not None and wake.is_set()):
            await asyncio.sleep(self.poll_interval)
