"""Fixtures: the same mock behind real HTTP (MockServer) and behind respx, plus webhook receivers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import respx
import uvicorn

from replicate_typed.mock import Clock, FakeClock, MockBackend, MockConfig, MockServer, install
from replicate_typed.models import registry

TOKEN = "r8_mock_token_for_tests_0123456789"
RESPX_BASE = "https://mock-router.test"
HOOK_BASE = "https://hooks.test"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SDXL = registry["stability-ai/sdxl"]
FLUX = registry["black-forest-labs/flux-schnell"]
SDXL_VERSION = f"stability-ai/sdxl:{SDXL.version}"


@dataclass
class Env:
    """One mock and an authenticated client to it (``transport`` is ``http`` or ``respx``)."""

    transport: str
    backend: MockBackend
    clock: Any
    base: str
    client: httpx.Client
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    router: respx.MockRouter | None = None

    def create(
        self,
        input: dict[str, Any] | None = None,
        *,
        prefix: str = "",
        headers: dict[str, str] | None = None,
        **body: Any,
    ) -> httpx.Response:
        """POST an sdxl prediction (or ``version=...`` from ``body``)."""
        payload: dict[str, Any] = {"version": SDXL_VERSION, "input": input or {"prompt": "a cat"}}
        payload.update(body)
        return self.client.post(f"{prefix}/v1/predictions", json=payload, headers=headers or {})

    def get(self, pid: str, prefix: str = "") -> dict[str, Any]:
        response = self.client.get(f"{prefix}/v1/predictions/{pid}")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


class ThreadServer:
    """Any ASGI app on 127.0.0.1:<free port> in a thread (the webhook receiver)."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", lifespan="off", access_log=False, interface="asgi3"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    def start(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.005)
        assert self.server.started
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


class Receiver:
    """Records webhook deliveries; answers statuses from ``script`` in turn, then 200."""

    def __init__(self, script: list[int] | None = None) -> None:
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.script = list(script or [])
        self.url = ""
        self._cond = threading.Condition()

    def record(self, headers: dict[str, str], body: bytes) -> int:
        with self._cond:
            self.calls.append((headers, body))
            self._cond.notify_all()
            return self.script.pop(0) if self.script else 200

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[dict[str, str], bytes]]:
        with self._cond:
            self._cond.wait_for(lambda: len(self.calls) >= count, timeout)
            return list(self.calls)

    async def asgi(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status = self.record(headers, body)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture(params=["http", "respx"])
def transport(request: pytest.FixtureRequest) -> str:
    param: str = request.param
    return param


@pytest.fixture(scope="session")
def shared_server() -> Iterator[MockServer]:
    """One real server for the session; each test swaps in its own backend."""
    server = MockServer(backend=MockBackend(MockConfig())).start()
    yield server
    server.stop()


@pytest.fixture
def make_env(transport: str, request: pytest.FixtureRequest) -> Iterator[Callable[..., Env]]:
    envs: list[Env] = []

    def make(clock: Clock | None = None, **config: Any) -> Env:
        clock = clock or FakeClock()
        config.setdefault("api_tokens", (TOKEN,))
        config.setdefault("webhook_retry_delays", (0.01, 0.01, 0.01))
        backend = MockBackend(MockConfig(**config), clock=clock)
        cleanups: list[Callable[[], None]] = []
        router: respx.MockRouter | None = None
        if transport == "http":
            server: MockServer = request.getfixturevalue("shared_server")
            server.swap(backend)
            cleanups.append(backend.close)
            base = server.url
        else:
            router = respx.mock(assert_all_called=False, assert_all_mocked=True)
            router.start()
            install(router, backend, RESPX_BASE)
            cleanups.append(router.stop)
            cleanups.append(backend.close)
            base = RESPX_BASE
        client = httpx.Client(base_url=base, headers=AUTH, timeout=10)
        cleanups.insert(0, client.close)
        env = Env(transport, backend, clock, base, client, cleanups, router)
        envs.append(env)
        return env

    yield make
    for env in envs:
        for cleanup in env.cleanups:
            cleanup()


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    return make_env()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    """A webhook receiver reachable from the mock: a local server, or a respx route."""
    servers: list[ThreadServer] = []

    def make(env: Env, script: list[int] | None = None) -> Receiver:
        rec = Receiver(script)
        if env.transport == "http":
            server = ThreadServer(rec.asgi).start()
            servers.append(server)
            rec.url = f"http://127.0.0.1:{server.port}/hook"
        else:
            assert env.router is not None

            def effect(request: httpx.Request) -> httpx.Response:
                return httpx.Response(rec.record(dict(request.headers), request.read()))

            env.router.route(host="hooks.test").mock(side_effect=effect)
            rec.url = f"{HOOK_BASE}/hook"
        return rec

    yield make
    for server in servers:
        server.stop()
