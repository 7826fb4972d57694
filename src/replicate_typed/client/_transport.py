"""Gated transports: a fixed number of requests in flight, in small pools that never queue.

httpcore 1.0's pool does work in proportion to its waiting requests times its connections
each time a request arrives or leaves (and, while connections are idle, to the square of its
connections), so 1,000 concurrent calls through one 100-connection pool spend most of their
CPU in it (docs/concurrency.md). The client's own transport therefore:

* gates: a request first takes one of ``max_connections`` slots (an ``asyncio.Semaphore`` or
  ``threading.Semaphore``: a FIFO wait, O(1) per request), so everything beyond the pool's
  size waits here, cheaply, and never inside httpcore;
* shards: behind the gate, the connections are split into pools of :data:`SHARD_SIZE`; a
  request goes to the first pool with a free connection, so no pool ever has a waiter and the
  work each does per request stays that of a few connections, whatever the total.

The slot (and the pool's connection) is given back when the response is closed: read to the
end by ``send``, or its stream closed. Event streams (``Accept: text/event-stream``) hold a
connection for as long as they are read, so they have a lane of their own (``max_streams``
slots and pools): a thousand waits reading streams never starve the requests.

Time at the gate is pool time: the request's ``pool`` timeout bounds it (``httpx.PoolTimeout``)
and what is left of it goes on to the pool, so a request's deadline holds whatever it waited on.
"""

from __future__ import annotations

import asyncio
import math
import ssl
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Generic, TypeVar

import httpx

__all__ = [
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_STREAMS",
    "SHARD_SIZE",
    "AsyncGatedTransport",
    "GatedTransport",
    "is_stream",
]

DEFAULT_MAX_CONNECTIONS = 100
"""Connections (and gate slots) for requests: httpx's own default pool size."""
DEFAULT_MAX_STREAMS = 100
"""Connections (and gate slots) for event streams, apart from the requests'."""
SHARD_SIZE = 4
"""Connections per pool behind the gate. httpcore's work per request grows with its pool's
connections squared while they idle: the batch runner's client CPU per input measured 1.1 ms
with pools of 1-2, 1.2 ms of 4, 1.5 ms of 10, 2.9 ms of 25, 9 ms of 100 (docs/concurrency.md)."""

T = TypeVar("T", httpx.AsyncBaseTransport, httpx.BaseTransport)


def is_stream(request: httpx.Request) -> bool:
    """Does this request open an event stream (and hold its connection while it is read)?"""
    return "text/event-stream" in request.headers.get("accept", "")


def _limits(size: int) -> httpx.Limits:
    # every connection may stay open: with fewer keep-alive connections than slots, a busy
    # client closes and reopens connections all the time
    return httpx.Limits(max_connections=size, max_keepalive_connections=size)


def _pool_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout")
    return timeout.get("pool") if isinstance(timeout, dict) else None


def _spend(request: httpx.Request, pool: float | None, waited: float) -> None:
    """What is left of the pool timeout after ``waited`` seconds at the gate goes to the pool."""
    if pool is not None and waited > 0:
        timeout = dict(request.extensions["timeout"])
        timeout["pool"] = max(0.0, pool - waited)
        request.extensions = {**request.extensions, "timeout": timeout}


def _pool_timeout_error(request: httpx.Request, lane: _Lane[T]) -> httpx.PoolTimeout:
    pool = _pool_timeout(request) or 0
    return httpx.PoolTimeout(
        f"no {lane.name} connection free within {pool:g}s (all {lane.size} in use)",
        request=request,
    )


def _env_proxies() -> bool:
    """Are proxies configured in the environment (``HTTPS_PROXY``, ``ALL_PROXY`` ...)?"""
    return bool(urllib.request.getproxies())


class _Lane(Generic[T]):
    """``size`` slots over pools of at most :data:`SHARD_SIZE` (made when first needed), or
    over the one transport given; ``in_use[i]`` counts the open responses of pool ``i``."""

    def __init__(self, name: str, size: int, given: T | None, make: Callable[[int], T]) -> None:
        if size < 1:
            option = "max_streams" if name == "stream" else "max_connections"
            raise ValueError(f"{option} must be at least 1, not {size}")
        self.name, self.size = name, size
        self.given = given is not None
        if given is not None:
            self.capacity = [size]
            self.pools: list[T | None] = [given]
        else:
            count = math.ceil(size / SHARD_SIZE)
            self.capacity = [size // count + (i < size % count) for i in range(count)]
            self.pools = [None] * count
        self.in_use = [0] * len(self.pools)
        self._make: Callable[[int], T] = make
        self.hooks: list[Callable[[T], object]] = []
        """Called with each pool made (see ``GatedTransport.each_pool``)."""

    def take(self) -> tuple[int, T]:
        """A pool with a free connection (the gate guarantees one): the first, to keep warm
        connections in use and the pools made few."""
        for index, used in enumerate(self.in_use):
            if used < self.capacity[index]:
                pool = self.pools[index]
                if pool is None:
                    pool = self.pools[index] = self._make(self.capacity[index])
                    for hook in self.hooks:
                        hook(pool)
                self.in_use[index] += 1
                return index, pool
        raise RuntimeError("gate admitted more requests than its pools hold")  # pragma: no cover

    def made(self) -> list[T]:
        return [pool for pool in self.pools if pool is not None]

    def each_pool(self, hook: Callable[[T], object]) -> bool:
        """``hook`` on the pools made so far and on each one made later; False for a lane
        over a transport it was given (not its own)."""
        if self.given:
            return False
        for pool in self.made():
            hook(pool)
        self.hooks.append(hook)
        return True


def _ssl_factory() -> Callable[[], ssl.SSLContext]:
    """One TLS context for all of a transport's pools (making one costs milliseconds)."""
    context: list[ssl.SSLContext] = []

    def get() -> ssl.SSLContext:
        if not context:
            context.append(httpx.create_ssl_context(verify=True, trust_env=True))
        return context[0]

    return get


class _AsyncReleasing(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], object]) -> None:
        self._stream = stream
        self._release: Callable[[], object] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        release, self._release = self._release, None
        try:
            await self._stream.aclose()
        finally:
            if release is not None:
                release()


class AsyncGatedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that admits at most ``max_connections`` requests (and apart from
    them ``max_streams`` event streams) at once; the rest wait here, in order, within their
    pool timeout.

    Without ``transport``: httpx's own ``AsyncHTTPTransport``, as pools of :data:`SHARD_SIZE`
    connections. With one: both lanes go to it (size the gate to its pool). To keep the gate
    with an httpx client of your own::

        http = httpx.AsyncClient(transport=AsyncGatedTransport(max_connections=50))
        client = AsyncClient(http_client=http)
    """

    def __init__(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_streams: int = DEFAULT_MAX_STREAMS,
    ) -> None:
        ssl_context = _ssl_factory()

        def make(size: int) -> httpx.AsyncBaseTransport:
            return httpx.AsyncHTTPTransport(verify=ssl_context(), limits=_limits(size))

        self._lanes = (
            _Lane("request", max_connections, transport, make),
            _Lane("stream", max_streams, transport, make),
        )
        self._gates = (asyncio.Semaphore(max_connections), asyncio.Semaphore(max_streams))
        self._given = transport
        self.max_connections, self.max_streams = max_connections, max_streams

    @classmethod
    def around(cls, transport: httpx.AsyncBaseTransport | None) -> AsyncGatedTransport | None:
        """The gate a client puts in front of ``transport`` (None: httpx's default), or None
        where httpx should build its own transport: no transport given and proxies configured
        in the environment, which httpx honours only in the transport it builds."""
        if isinstance(transport, AsyncGatedTransport):
            return transport
        if transport is None and _env_proxies():
            return None
        return cls(transport)

    def each_pool(self, hook: Callable[[httpx.AsyncBaseTransport], object]) -> bool:
        """Call ``hook`` with every connection pool (an ``httpx.AsyncHTTPTransport``) this
        transport makes, now and later (a caller that adapts each pool, such as the sync
        client's deadline-bound sockets); False when its pool is a transport it was given."""
        return all([lane.each_pool(hook) for lane in self._lanes])

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        which = 1 if is_stream(request) else 0
        lane, gate = self._lanes[which], self._gates[which]
        pool = _pool_timeout(request)
        if gate.locked():
            started = time.monotonic()
            try:
                async with asyncio.timeout(pool):
                    await gate.acquire()
            except TimeoutError:
                raise _pool_timeout_error(request, lane) from None
            _spend(request, pool, time.monotonic() - started)
        else:
            await gate.acquire()
        index, transport = lane.take()

        def release() -> None:
            lane.in_use[index] -= 1
            gate.release()

        try:
            response = await transport.handle_async_request(request)
        except BaseException:
            release()
            raise
        if response.is_closed or response.is_stream_consumed:
            release()  # read and closed by the transport itself: it holds nothing
        else:
            assert isinstance(response.stream, httpx.AsyncByteStream)
            response.stream = _AsyncReleasing(response.stream, release)
        return response

    async def aclose(self) -> None:
        if self._given is not None:
            await self._given.aclose()
            return
        for lane in self._lanes:
            for pool in lane.made():
                await pool.aclose()


class _Releasing(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, release: Callable[[], object]) -> None:
        self._stream = stream
        self._release: Callable[[], object] | None = release

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._stream)

    def close(self) -> None:
        release, self._release = self._release, None
        try:
            self._stream.close()
        finally:
            if release is not None:
                release()


class GatedTransport(httpx.BaseTransport):
    """Sync :class:`AsyncGatedTransport` (threads wait at a semaphore)."""

    def __init__(
        self,
        transport: httpx.BaseTransport | None = None,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_streams: int = DEFAULT_MAX_STREAMS,
    ) -> None:
        ssl_context = _ssl_factory()

        def make(size: int) -> httpx.BaseTransport:
            return httpx.HTTPTransport(verify=ssl_context(), limits=_limits(size))

        self._lanes = (
            _Lane("request", max_connections, transport, make),
            _Lane("stream", max_streams, transport, make),
        )
        self._lock = threading.Lock()  # over the lanes' pools, counts and free slots
        # the gate: each lane's free slots (counted under the lock), and a condition threads
        # wait on when none is free (a semaphore's work, in the lock the lane needs anyway)
        self._free = [max_connections, max_streams]
        self._waiting = [0, 0]
        self._freed = (threading.Condition(self._lock), threading.Condition(self._lock))
        self._given = transport
        self.max_connections, self.max_streams = max_connections, max_streams

    @classmethod
    def around(cls, transport: httpx.BaseTransport | None) -> GatedTransport | None:
        """See :meth:`AsyncGatedTransport.around`."""
        if isinstance(transport, GatedTransport):
            return transport
        if transport is None and _env_proxies():
            return None
        return cls(transport)

    def each_pool(self, hook: Callable[[httpx.BaseTransport], object]) -> bool:
        """See :meth:`AsyncGatedTransport.each_pool`."""
        with self._lock:
            return all([lane.each_pool(hook) for lane in self._lanes])

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        which = 1 if is_stream(request) else 0
        lane, free = self._lanes[which], self._free
        with self._lock:
            if free[which] > 0:  # the common case: a slot is free
                free[which] -= 1
            else:
                self._wait(request, which)
            index, transport = lane.take()

        def release() -> None:
            with self._lock:
                lane.in_use[index] -= 1
                free[which] += 1
                if self._waiting[which]:
                    self._freed[which].notify()

        try:
            response = transport.handle_request(request)
        except BaseException:
            release()
            raise
        if response.is_closed or response.is_stream_consumed:
            release()  # read and closed by the transport itself: it holds nothing
        else:
            assert isinstance(response.stream, httpx.SyncByteStream)
            response.stream = _Releasing(response.stream, release)
        return response

    def _wait(self, request: httpx.Request, which: int) -> None:
        """Wait (the lock held, released while waiting) for a free slot of lane ``which``,
        within the request's pool timeout, and take it."""
        pool = _pool_timeout(request)
        started = time.monotonic()
        self._waiting[which] += 1
        try:
            if not self._freed[which].wait_for(lambda: self._free[which] > 0, timeout=pool):
                raise _pool_timeout_error(request, self._lanes[which])
        finally:
            self._waiting[which] -= 1
        self._free[which] -= 1
        _spend(request, pool, time.monotonic() - started)

    def close(self) -> None:
        if self._given is not None:
            self._given.close()
            return
        with self._lock:
            pools = [pool for lane in self._lanes for pool in lane.made()]
        for pool in pools:
            pool.close()
