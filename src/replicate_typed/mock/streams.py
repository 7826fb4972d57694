"""Response bodies produced over time, readable both synchronously and asynchronously.

A :class:`MockStream` is a generator of steps: ``bytes`` to send, or :class:`Pause` (hold for some
seconds of the backend's clock, or of real time). The Starlette adapter and the respx adapter
(``httpx.Client`` and ``httpx.AsyncClient`` alike) drive the same steps, so a ``Prefer: wait``
hold, an SSE stream and a slow answer behave the same over HTTP and under respx.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from replicate_typed.mock.clock import Clock

__all__ = ["Pause", "MockStream", "DelayedStream"]


@dataclass(frozen=True)
class Pause:
    """Hold the body: ``seconds`` of the backend clock, or of real time when ``real`` is set."""

    seconds: float
    real: bool = False


class MockStream:
    """Base class: subclasses implement :meth:`steps`."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def steps(self) -> Iterator[bytes | Pause]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[bytes]:
        for step in self.steps():
            if isinstance(step, Pause):
                if step.real:
                    time.sleep(max(step.seconds, 0.0))
                else:
                    self.clock.sleep_sync(step.seconds)
            elif step:
                yield step

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for step in self.steps():
            if isinstance(step, Pause):
                if step.real:
                    await asyncio.sleep(max(step.seconds, 0.0))
                else:
                    await self.clock.sleep(step.seconds)
            elif step:
                yield step


class DelayedStream(MockStream):
    """``body`` (bytes or another stream) after ``delay`` real seconds (the ``slow`` fault)."""

    def __init__(self, clock: Clock, body: bytes | MockStream, delay: float = 0.0) -> None:
        super().__init__(clock)
        self.body = body
        self.delay = delay

    def steps(self) -> Iterator[bytes | Pause]:
        if self.delay > 0:
            yield Pause(self.delay, real=True)
        if isinstance(self.body, MockStream):
            yield from self.body.steps()
        else:
            yield self.body
