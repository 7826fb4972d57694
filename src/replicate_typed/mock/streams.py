"""Response bodies produced over time, readable both synchronously and asynchronously.

A :class:`MockStream` is a generator of steps: ``bytes`` to send, or :class:`Pause` (hold for some
seconds of the backend's clock, or of real time). The Starlette adapter and the respx adapter
(``httpx.Client`` and ``httpx.AsyncClient`` alike) drive the same steps, so a ``Prefer: wait``
hold, an SSE stream and a slow answer behave the same over HTTP and under respx.

A :class:`Pause` may also end early, when something it watches changes (a prediction canceled):
:class:`Signals` holds one :class:`Signal` per key, ``notify(key)`` from any thread wakes every
pause that watches it, so an SSE stream sends ``done`` (and a ``Prefer: wait`` hold answers) the
moment a prediction ends, not at its next scheduled step.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

from replicate_typed.mock.clock import Clock

__all__ = ["Pause", "MockStream", "DelayedStream", "Signal", "Signals", "Watch"]


class Signal:
    """A change that held bodies wait for; :meth:`notify` may be called from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.version = 0
        self._threads: set[threading.Event] = set()
        self._tasks: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def notify(self) -> None:
        with self._lock:
            self.version += 1
            threads, tasks = list(self._threads), list(self._tasks)
        for event in threads:
            event.set()
        for loop, aevent in tasks:
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody waits there
                loop.call_soon_threadsafe(aevent.set)

    def watch(self) -> Watch:
        """Call before looking at the state a pause depends on: a change after it wakes the pause."""
        return Watch(self, self.version)


@dataclass(frozen=True)
class Watch:
    """A :class:`Signal` as seen at one moment: a pause watching it ends on any later change."""

    signal: Signal
    version: int

    @contextlib.contextmanager
    def thread_event(self) -> Iterator[threading.Event]:
        event = threading.Event()
        signal = self.signal
        with signal._lock:
            signal._threads.add(event)
            if signal.version != self.version:
                event.set()
        try:
            yield event
        finally:
            with signal._lock:
                signal._threads.discard(event)

    @contextlib.asynccontextmanager
    async def task_event(self) -> AsyncIterator[asyncio.Event]:
        event = asyncio.Event()
        entry = (asyncio.get_running_loop(), event)
        signal = self.signal
        with signal._lock:
            signal._tasks.add(entry)
            if signal.version != self.version:
                event.set()
        try:
            yield event
        finally:
            with signal._lock:
                signal._tasks.discard(entry)


class Signals:
    """One :class:`Signal` per key (a prediction id), made when first watched."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._signals: dict[str, Signal] = {}

    def watch(self, key: str) -> Watch:
        with self._lock:
            signal = self._signals.get(key)
            if signal is None:
                signal = self._signals[key] = Signal()
        return signal.watch()

    def notify(self, key: str) -> None:
        with self._lock:
            signal = self._signals.get(key)
        if signal is not None:
            signal.notify()


@dataclass(frozen=True)
class Pause:
    """Hold the body: ``seconds`` of the backend clock, or of real time when ``real`` is set;
    less if ``wake``'s signal changes."""

    seconds: float
    real: bool = False
    wake: Watch | None = None


class MockStream:
    """Base class: subclasses implement :meth:`steps`."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def steps(self) -> Iterator[bytes | Pause]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[bytes]:
        for step in self.steps():
            if isinstance(step, Pause):
                if step.wake is not None and not step.real:
                    with step.wake.thread_event() as event:
                        if not event.is_set():
                            self.clock.sleep_sync(step.seconds, event)
                elif step.real:
                    time.sleep(max(step.seconds, 0.0))
                else:
                    self.clock.sleep_sync(step.seconds)
            elif step:
                yield step

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for step in self.steps():
            if isinstance(step, Pause):
                if step.wake is not None and not step.real:
                    async with step.wake.task_event() as event:
                        if not event.is_set():
                            await self.clock.sleep(step.seconds, event)
                elif step.real:
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
