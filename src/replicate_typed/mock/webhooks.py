"""Webhook scheduling: one background task per prediction with a webhook, which sends its events
(``start``, ``output``, ``logs``, ``completed``) through :func:`~replicate_typed.mock.delivery.deliver`.

Tasks run in the caller's event loop, or (called from synchronous code, e.g. a respx side effect)
in a helper thread's loop. Each loop gets one reused ``httpx.AsyncClient``.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Coroutine
from typing import Any

import httpx

from replicate_typed.mock.clock import Clock
from replicate_typed.mock.delivery import DeliveryPolicy, DeliveryRecord, deliver
from replicate_typed.mock.lifecycle import TERMINAL, Lifecycle, Prediction
from replicate_typed.mock.messages import dumps

__all__ = ["DEFAULT_WEBHOOK_EVENTS", "WEBHOOK_EVENTS", "Webhooks"]

WEBHOOK_EVENTS = ("start", "output", "logs", "completed")
DEFAULT_WEBHOOK_EVENTS = frozenset({"output", "completed"})
"""Without a filter, webhooks go out for new output and on completion (as the API documents)."""


class Webhooks:
    """Sends the webhooks of predictions, ``throttle`` seconds (of ``clock``) apart at most for
    progress events; counts into ``record``."""

    def __init__(
        self,
        lifecycle: Lifecycle,
        clock: Clock,
        policy: DeliveryPolicy,
        record: DeliveryRecord,
        *,
        throttle: float = 0.5,
        timeout: float = 5.0,
    ) -> None:
        self.lifecycle = lifecycle
        self.clock = clock
        self.policy = policy
        self.record = record
        self.throttle = throttle
        self.timeout = timeout
        self._tasks: set[asyncio.Task[None]] = set()
        self._http_clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}
        self._wakes: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()

    # ------------------------------------------------------------------ scheduling

    def start(self, p: Prediction) -> None:
        """Start sending ``p``'s webhooks (it has a ``webhook`` URL)."""
        self._spawn(self._run(p))

    def wake(self, pid: str) -> None:
        """``pid`` changed out of schedule (a cancel): its task looks again now."""
        entry = self._wakes.get(pid)
        if entry is not None:
            loop, event = entry
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                pass

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            loop = self._background_loop()
            loop.call_soon_threadsafe(self._start_task, coro)
            return
        self._start_task(coro)

    def _start_task(self, coro: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _background_loop(self) -> asyncio.AbstractEventLoop:
        with self._thread_lock:
            if self._thread_loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="replicate-typed-mock-webhooks", daemon=True
                )
                thread.start()
                self._thread_loop, self._thread = loop, thread
            return self._thread_loop

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def wait(self, timeout: float = 5.0) -> bool:
        """Wait (real time) until webhook work started in this loop is done; False on timeout."""
        current = asyncio.current_task()
        pending = [t for t in self._tasks if t is not current]
        if not pending:
            return True
        done, rest = await asyncio.wait(pending, timeout=timeout)
        return not rest

    def http(self) -> httpx.AsyncClient:
        """The HTTP client deliveries use in the running loop (one per loop, reused: creating an
        httpx client costs tens of milliseconds)."""
        loop = asyncio.get_running_loop()
        client = self._http_clients.get(loop)
        if client is None:
            client = httpx.AsyncClient(
                timeout=self.timeout,
                follow_redirects=False,
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            )
            self._http_clients[loop] = client
        return client

    # ------------------------------------------------------------------ shutdown

    async def aclose(self) -> None:
        """Stop background work: in the running loop, then elsewhere (helper thread, servers)."""
        tasks = [
            t for t in self._tasks if not t.done() and t.get_loop() is asyncio.get_running_loop()
        ]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        client = self._http_clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
        if self._tasks or self._http_clients or self._thread is not None:
            await asyncio.to_thread(self.close)

    def close(self) -> None:
        """Stop background work from synchronous code (not from inside a loop it runs in)."""
        for task in list(self._tasks):
            loop = task.get_loop()
            if not loop.is_closed():
                try:
                    loop.call_soon_threadsafe(task.cancel)
                except RuntimeError:
                    pass
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, client in list(self._http_clients.items()):
            self._http_clients.pop(loop, None)
            if loop.is_closed():
                continue
            if loop is current:
                loop.create_task(client.aclose())
            elif loop.is_running():
                future = asyncio.run_coroutine_threadsafe(client.aclose(), loop)
                try:
                    future.result(timeout=5)
                except Exception:  # noqa: BLE001 - best effort while shutting down
                    pass
        self._stop_thread()

    def _stop_thread(self) -> None:
        with self._thread_lock:
            loop, thread = self._thread_loop, self._thread
            self._thread_loop = self._thread = None
        if loop is None or thread is None:
            return

        def stop() -> None:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.call_soon(loop.stop)

        loop.call_soon_threadsafe(stop)
        thread.join(timeout=5)
        loop.close()

    # ------------------------------------------------------------------ one prediction

    async def _run(self, p: Prediction) -> None:
        url = p.webhook
        if url is None:
            return
        lifecycle, clock, throttle = self.lifecycle, self.clock, self.throttle
        event = asyncio.Event()
        self._wakes[p.id] = (asyncio.get_running_loop(), event)
        events = p.webhook_events
        progress_events = bool(events & {"logs", "output"})
        sent_logs, sent_items, sequence = 0, 0, 0
        last_progress = -math.inf

        async def send(now: float, reason: str) -> None:
            nonlocal sequence
            sequence += 1
            payload = dumps(lifecycle.render(p, now, p.prefix, p.base))
            msg_id = f"msg_{p.id}_{sequence}"
            await deliver(self.http(), self.policy, self.record, url, payload, msg_id, reason)

        try:
            if "start" in events:
                await send(clock.now(), "start")
            while True:
                now = clock.now()
                st = lifecycle.state(p, now)
                if st.status in TERMINAL:
                    if "completed" in events:
                        await send(now, "completed")
                    return
                logs = len(lifecycle.logs(p, st))
                items = p.plan.item_count(st.fraction) if p.plan.progressive else 0
                new_output = "output" in events and items != sent_items
                new_logs = "logs" in events and logs != sent_logs
                pending = new_output or new_logs
                if pending and now - last_progress >= throttle:
                    last_progress, sent_logs, sent_items = now, logs, items
                    await send(now, "output" if new_output else "logs")
                    pending = False
                event.clear()
                end_at = p.end[0]
                if not progress_events:
                    target = end_at
                elif pending:
                    target = min(last_progress + throttle, end_at)
                else:
                    target = lifecycle.next_change(p, now)
                    target = min(max(target, last_progress + throttle), end_at)
                await clock.wait_until(target, event)
        finally:
            self._wakes.pop(p.id, None)
