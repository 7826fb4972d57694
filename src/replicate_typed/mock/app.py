"""The mock as an ASGI app: Starlette routing over :class:`MockBackend`, nothing more.

``create_app(backend)`` returns an ASGI callable. Every path goes to ``backend.handle``; bodies are
read with the route's cap (``backend.body_limit``: uploads ``max_upload_bytes``, anything else
``max_body_bytes``; a larger body is drained, not stored, and answered 413 with problem
details); a ``reset`` fault aborts the TCP connection without an answer.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from replicate_typed.mock.backend import MockBackend
from replicate_typed.mock.bodies import too_large
from replicate_typed.mock.messages import MockResponse
from replicate_typed.mock.streams import MockStream

__all__ = ["create_app", "MockApp"]


class MockApp:
    """ASGI entry point: finds the connection's transport (for resets), then hands every HTTP
    request to the backend, whatever its method (``QUERY /v1/models`` included: the backend's
    router, not a framework's method list, decides between an answer, 404 and 405, each with
    problem details)."""

    def __init__(self, backend: MockBackend) -> None:
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # websockets: not part of the API
        # uvicorn passes its request cycle's bound ``receive``: the cycle knows the transport
        cycle = getattr(receive, "__self__", None)
        scope.setdefault("state", {})["mock_transport"] = getattr(cycle, "transport", None)
        response = await self._endpoint(Request(scope, receive))
        await response(scope, receive, send)

    async def _endpoint(self, request: Request) -> Response:
        backend = self.backend
        # the decoded path as the server read it: ``request.url`` would go through urlsplit,
        # which drops tabs and newlines (``%0A`` in a segment would name another resource)
        limit = backend.body_limit(request.method, request.scope["path"])
        chunks: list[bytes] = []
        size = 0
        over_limit = False
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                over_limit = True  # keep draining so the client can read the answer
                chunks.clear()
                continue
            chunks.append(chunk)
        if over_limit:
            return _to_starlette(too_large(limit))
        result = backend.handle(
            request.method,
            request.scope["path"],
            dict(request.headers),
            dict(request.query_params),
            b"".join(chunks),
            base_url=str(request.base_url).rstrip("/"),
        )
        if result.delay > 0:
            await asyncio.sleep(result.delay)
        if result.reset:
            return await _reset(request)
        return _to_starlette(result)


async def _lifespan(receive: Receive, send: Send) -> None:
    """Nothing to start or stop: acknowledge the server's lifespan messages."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _reset(request: Request) -> Response:
    """Abort the TCP connection (the client sees it closed without an answer)."""
    transport = request.scope.get("state", {}).get("mock_transport")
    if transport is None:
        # not under uvicorn: start an answer that never completes, which also closes the socket
        return Response(b"", status_code=500, headers={"content-length": "1048576"})
    transport.abort()
    for _ in range(3):  # let the server see the connection is gone; it then ignores our answer
        await asyncio.sleep(0)
    return Response(b"", status_code=500)


def _to_starlette(result: MockResponse) -> Response:
    headers: dict[str, Any] = dict(result.headers)
    media_type = headers.pop("content-type", None)
    if isinstance(result.body, MockStream):
        return StreamingResponse(
            result.body.__aiter__(),
            status_code=result.status,
            headers=headers,
            media_type=media_type,
        )
    return Response(result.body, status_code=result.status, headers=headers, media_type=media_type)


def create_app(backend: MockBackend | None = None) -> MockApp:
    """An ASGI app serving ``backend`` (a fresh default one if not given)."""
    return MockApp(backend or MockBackend())
