"""Install :class:`MockBackend` as respx side effects: respx tests use the very same state machine.

::

    backend = MockBackend(MockConfig(), clock=FakeClock())
    with respx.mock(assert_all_called=False) as router:
        install(router, backend, "https://api.replicate.com")
        ...  # httpx.Client / httpx.AsyncClient requests to that host hit the backend

Held answers (``Prefer: wait``), SSE streams and slow faults are response streams, so they work
with both sync and async clients; a ``reset`` fault raises ``httpx.RemoteProtocolError``
("Server disconnected without sending a response"), as over real HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import respx

from replicate_typed.mock.backend import MockBackend
from replicate_typed.mock.clock import Clock
from replicate_typed.mock.messages import MockResponse
from replicate_typed.mock.streams import DelayedStream, MockStream

__all__ = ["install", "side_effect", "to_httpx"]


class _DualStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    def __init__(self, stream: MockStream) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk


def to_httpx(result: MockResponse, request: httpx.Request, clock: Clock) -> httpx.Response:
    """Turn a :class:`MockResponse` into an ``httpx.Response`` (or raise for a reset)."""
    if result.reset:
        raise httpx.RemoteProtocolError(
            "Server disconnected without sending a response.", request=request
        )
    headers = dict(result.headers)
    if isinstance(result.body, MockStream) or result.delay > 0:
        stream = DelayedStream(clock, result.body, result.delay)
        return httpx.Response(
            result.status, headers=headers, stream=_DualStream(stream), request=request
        )
    return httpx.Response(result.status, headers=headers, content=result.body, request=request)


def side_effect(backend: MockBackend, prefix: str = "") -> Any:
    """A respx side effect answering every request from ``backend``.

    ``prefix``: the path of the mocked base URL (``/replicate`` for a router base is kept as is,
    anything else is stripped before the backend sees the path).
    """

    def effect(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if prefix and prefix != "/replicate" and path.startswith(prefix):
            path = path[len(prefix) :] or "/"
        query = {k: v for k, v in request.url.params.multi_items()}
        result = backend.handle(
            request.method,
            path,
            dict(request.headers),
            query,
            request.read(),
            base_url=f"{request.url.scheme}://{request.url.netloc.decode('ascii')}",
        )
        return to_httpx(result, request, backend.clock)

    return effect


def install(router: respx.MockRouter | Any, backend: MockBackend, base_url: str) -> respx.Route:
    """Route every request under ``base_url`` (scheme + host; any path) to ``backend``."""
    parts = urlsplit(base_url)
    prefix = parts.path.rstrip("/")
    lookups: dict[str, Any] = {"scheme": parts.scheme, "host": parts.hostname}
    if parts.port is not None:
        lookups["port"] = parts.port
    route: respx.Route = router.route(**lookups)
    route.side_effect = side_effect(backend, prefix)
    return route
