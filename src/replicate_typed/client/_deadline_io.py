"""Sync reads that end at the call's deadline, whatever the server does between bytes.

The async client cancels an attempt at its deadline; a blocking read cannot be cancelled, and
httpcore reads the response headers in one loop with one read timeout, so a server that drips
its status line and headers a byte at a time would hold a sync call for as long as it likes.
This wraps the network backend of the sync client's own connection pool so every socket
connect, read and write is given at most the time left before the deadline of the call in
progress (:data:`replicate_typed.client.limits.current_deadline`), and fails at once past it.

Only the client's own httpx client is wrapped (a caller's ``http_client`` or ``transport`` is
left as it is: its reads are still clamped per request and bodies checked per chunk).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from replicate_typed.client._transport import GatedTransport
from replicate_typed.client.limits import current_deadline

__all__ = ["install"]


def _clamp(timeout: float | None) -> float | None:
    deadline = current_deadline.get()
    left = None if deadline is None else deadline.left()
    if left is None:
        return timeout
    if left <= 0:
        raise httpcore.ReadTimeout("the call's deadline has passed")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(
            self._inner.connect_tcp(host, port, _clamp(timeout), local_address, socket_options)
        )

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, _clamp(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def install(http: httpx.Client | httpx.AsyncClient) -> bool:
    """Wrap the backend of ``http``'s own connection pools (sync only): its transport's pool,
    or every pool the client's gate (:class:`~._transport.GatedTransport`) makes; False when
    it has none this module knows (a custom transport), which is then left alone."""
    if not isinstance(http, httpx.Client):
        return False
    transport = getattr(http, "_transport", None)
    if isinstance(transport, GatedTransport):
        return transport.each_pool(_wrap)
    return _wrap(transport)


def _wrap(transport: object) -> bool:
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(backend, httpcore.NetworkBackend) or isinstance(backend, _Backend):
        return False
    pool._network_backend = _Backend(backend)  # type: ignore[union-attr]
    return True
