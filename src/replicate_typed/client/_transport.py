"""Gated transports: never more requests inside httpx's connection pool than it has connections.

httpcore 1.0's pool re-scans every waiting request against every connection each time one
frees, so its cost per request grows with the number waiting: 1,000 concurrent calls through
a 100-connection pool spend most of their CPU there (docs/concurrency.md). The client's own
transport is therefore a gate in front of the pool: a request first takes one of
``max_connections`` slots (a FIFO wait, O(1) per request, here and not in httpcore), then
goes to the pool, which then never has more requests than connections; the slot is given back
when the response is closed (read to the end, or its stream closed).

Event streams (``Accept: text/event-stream``) hold a connection for as long as they are read,
so they go through a lane of their own (``max_streams`` slots, and with the transport built
here a pool of their own): a thousand waits reading streams never starve the sends.

Time at the gate is pool time: the request's ``pool`` timeout bounds it (``httpx.PoolTimeout``)
and what is left of it goes on to the pool, so a request's deadline holds whatever it waited on.
"""

from __future__ import annotations

import asyncio
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator

import httpx

__all__ = [
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_STREAMS",
    "AsyncGatedTransport",
    "GatedTransport",
    "is_stream",
]

DEFAULT_MAX_CONNECTIONS = 100
"""Connections (and gate slots) for requests: httpx's own default pool size."""
DEFAULT_MAX_STREAMS = 100
"""Connections (and gate slots) for event streams, apart from the requests'."""


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


def _pool_timeout_error(
    request: httpx.Request, size: int, lane: str, pool: float | None
) -> httpx.PoolTimeout:
    return httpx.PoolTimeout(
        f"no {lane} connection free within {pool or 0:g}s (all {size} in use)", request=request
    )


def _env_proxies() -> bool:
    """Are proxies configured in the environment (``HTTPS_PROXY``, ``ALL_PROXY`` ...)?"""
    return bool(urllib.request.getproxies())


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
    them ``max_streams`` event streams) into ``transport`` at once; the rest wait here, in
    order, within their pool timeout.

    Without ``transport``: httpx's own transport (``AsyncHTTPTransport``) with a pool of
    ``max_connections``, and one of ``max_streams`` for the streams. With one: both lanes go
    to it (size the gate to its pool). To keep the gate with an httpx client of your own::

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
        if max_connections < 1 or max_streams < 1:
            raise ValueError("max_connections and max_streams must be at least 1")
        self.max_connections, self.max_streams = max_connections, max_streams
        self._own = transport is None
        self._transport = transport or httpx.AsyncHTTPTransport(limits=_limits(max_connections))
        self._stream_transport: httpx.AsyncBaseTransport | None = None if self._own else transport
        self._sends = asyncio.Semaphore(max_connections)
        self._streams = asyncio.Semaphore(max_streams)

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

    def _lane(self, request: httpx.Request) -> tuple[asyncio.Semaphore, int, str]:
        if is_stream(request):
            return self._streams, self.max_streams, "stream"
        return self._sends, self.max_connections, "request"

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        gate, size, lane = self._lane(request)
        pool = _pool_timeout(request)
        if gate.locked():
            started = time.monotonic()
            try:
                async with asyncio.timeout(pool):
                    await gate.acquire()
            except TimeoutError:
                raise _pool_timeout_error(request, size, lane, pool) from None
            _spend(request, pool, time.monotonic() - started)
        else:
            await gate.acquire()
        try:
            if lane == "stream":
                transport = self._stream_transport
                if transport is None:
                    transport = self._stream_transport = httpx.AsyncHTTPTransport(
                        limits=_limits(self.max_streams)
                    )
            else:
                transport = self._transport
            response = await transport.handle_async_request(request)
        except BaseException:
            gate.release()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_AsyncReleasing(response.stream, gate.release),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._transport.aclose()
        if self._own and self._stream_transport is not None:
            await self._stream_transport.aclose()


class _Releasing(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, release: Callable[[], object]) -> None:
        self._stream = stream
        self._release: Callable[[], object] | None = release

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

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
        if max_connections < 1 or max_streams < 1:
            raise ValueError("max_connections and max_streams must be at least 1")
        self.max_connections, self.max_streams = max_connections, max_streams
        self._own = transport is None
        self._transport = transport or httpx.HTTPTransport(limits=_limits(max_connections))
        self._stream_transport: httpx.BaseTransport | None = None if self._own else transport
        self._stream_lock = threading.Lock()
        self._sends = threading.Semaphore(max_connections)
        self._streams = threading.Semaphore(max_streams)

    @classmethod
    def around(cls, transport: httpx.BaseTransport | None) -> GatedTransport | None:
        """See :meth:`AsyncGatedTransport.around`."""
        if isinstance(transport, GatedTransport):
            return transport
        if transport is None and _env_proxies():
            return None
        return cls(transport)

    def _stream_pool(self) -> httpx.BaseTransport:
        with self._stream_lock:
            if self._stream_transport is None:
                self._stream_transport = httpx.HTTPTransport(limits=_limits(self.max_streams))
            return self._stream_transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        stream = is_stream(request)
        gate = self._streams if stream else self._sends
        pool = _pool_timeout(request)
        if not gate.acquire(blocking=False):
            started = time.monotonic()
            if not gate.acquire(timeout=pool):
                size = self.max_streams if stream else self.max_connections
                raise _pool_timeout_error(request, size, "stream" if stream else "request", pool)
            _spend(request, pool, time.monotonic() - started)
        try:
            transport = self._stream_pool() if stream else self._transport
            response = transport.handle_request(request)
        except BaseException:
            gate.release()
            raise
        assert isinstance(response.stream, httpx.SyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Releasing(response.stream, gate.release),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._transport.close()
        if self._own and self._stream_transport is not None:
            self._stream_transport.close()
