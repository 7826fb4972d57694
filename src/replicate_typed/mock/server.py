"""Run the mock over real HTTP: uvicorn in a background thread, for tests and tools.

::

    with MockServer(timings={"black-forest-labs/flux-schnell": (0.0, 0.1)}) as server:
        client = Client(api_token="anything", base_url=server.url + "/replicate")
        ...
        server.backend.stats()["duplicate_creates"]

``MockServer(host="127.0.0.1", port=0, *, backend=None, clock=None, config=None, **config_fields)``:
port 0 picks a free port (``.port`` / ``.url`` are known once constructed; the socket is bound
at once). ``start()`` returns when the server accepts connections; ``stop()`` shuts it down
(open SSE streams and holds are cut) and joins the thread.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

from replicate_typed.mock.app import create_app
from replicate_typed.mock.backend import MockBackend
from replicate_typed.mock.clock import Clock
from replicate_typed.mock.config import MockConfig

__all__ = ["MockServer"]


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the owner of the thread handles signals
        return None


class MockServer:
    """The mock router on ``http://127.0.0.1:<port>`` (a background thread)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        backend: MockBackend | None = None,
        clock: Clock | None = None,
        config: MockConfig | None = None,
        log_level: str = "warning",
        **config_fields: Any,
    ) -> None:
        if backend is None:
            if config is None:
                config = MockConfig(**config_fields)
            elif config_fields:
                raise TypeError("pass either config= or config fields, not both")
            backend = MockBackend(config, clock=clock)
        elif config is not None or config_fields or clock is not None:
            raise TypeError("pass either backend= or config/clock, not both")
        self._backend = backend
        self.host = host
        # proto=IPPROTO_TCP matters: asyncio only disables Nagle on accepted sockets whose proto
        # says TCP, and a socket made with proto 0 costs ~40 ms per keep-alive request
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port: int = self._socket.getsockname()[1]
        self._app = create_app(backend)
        self._config = uvicorn.Config(
            self._app,
            log_level=log_level,
            lifespan="off",
            http="h11",
            interface="asgi3",
            loop="asyncio",
            access_log=False,
            timeout_graceful_shutdown=1,
            backlog=4096,
            timeout_keep_alive=30,
        )
        self._server = _Server(self._config)
        self._thread: threading.Thread | None = None

    @property
    def backend(self) -> MockBackend:
        """The state machine answering requests now."""
        return self._backend

    def swap(self, backend: MockBackend) -> MockBackend:
        """Serve ``backend`` from now on (e.g. a fresh one per test); returns the previous one.

        Starting a server costs far more than a backend, so a test suite can share one server.
        The previous backend is not closed (call its ``close()`` when done with it).
        """
        previous, self._backend = self._backend, backend
        self._app.backend = backend
        return previous

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (add ``/replicate`` for the router-style base URL)."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._server.started

    def start(self, timeout: float = 10.0) -> MockServer:
        if self._thread is not None:
            raise RuntimeError("this MockServer was already started")
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"replicate-typed-mock:{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the mock server failed to start")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the mock server did not start in time")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        thread = self._thread
        # first the backend (webhook tasks and their HTTP client live in the server's loop)
        self._backend.close()
        if thread is not None and thread.is_alive():
            self._server.should_exit = True
            thread.join(timeout)
            if thread.is_alive():
                self._server.force_exit = True
                thread.join(timeout)
        try:
            self._socket.close()
        except OSError:
            pass

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"MockServer(url={self.url!r}, running={self.running})"
