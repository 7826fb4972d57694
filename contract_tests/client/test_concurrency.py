"""Many calls at once: the client's gate in front of httpx's pool (client/_transport.py), and
the ``sniffio`` dependency httpcore looks up for every lock it sets up.

Counted, never timed: how many requests are inside the transport at once, how many complete,
how many failed imports. The CPU per prediction is ``make bench-concurrency``'s job.
"""

from __future__ import annotations

import asyncio
import importlib.abc
import importlib.metadata
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from packaging.requirements import Requirement

from replicate_typed import AsyncClient, Client
from replicate_typed.client._transport import (
    DEFAULT_MAX_CONNECTIONS,
    SHARD_SIZE,
    AsyncGatedTransport,
    GatedTransport,
    _Lane,
)
from replicate_typed.mock import FakeClock, MockBackend, MockConfig
from replicate_typed.mock.respx_adapter import side_effect
from replicate_typed.models.stability_ai import sdxl
from replicate_typed.testing.pytest_plugin import ReplicateMock

BASE = "https://api.replicate.com"
TOKEN = "r8_concurrency_test_token"


class _Counted(httpx.AsyncByteStream, httpx.SyncByteStream):
    def __init__(self, response: httpx.Response, done: Any) -> None:
        self._response, self._done = response, done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.aiter_raw():
            yield chunk

    def __iter__(self) -> Iterator[bytes]:
        yield from self._response.iter_raw()

    async def aclose(self) -> None:
        await self._response.aclose()
        self._done()

    def close(self) -> None:
        self._response.close()
        self._done()


class CountingTransport(httpx.AsyncBaseTransport, httpx.BaseTransport):
    """The in-process mock behind a transport that counts the requests inside it: from the
    request's arrival until its response is closed (what a pool connection is held for)."""

    def __init__(self, backend: MockBackend, fill: int = 1) -> None:
        self._answer = side_effect(backend)
        self._lock = threading.Lock()
        self._filled = threading.Condition(self._lock)
        self.inside = self.peak = self.requests = 0
        self.fill = fill
        """Sync requests wait (up to 50 ms) until this many are inside: threads that only
        take turns on a busy machine still show whether more than the gate get in."""

    def _enter(self) -> None:
        with self._lock:
            self.inside += 1
            self.requests += 1
            self.peak = max(self.peak, self.inside)
            self._filled.notify_all()

    def _leave(self) -> None:
        with self._lock:
            self.inside -= 1

    def _respond(self, request: httpx.Request) -> httpx.Response:
        answer: httpx.Response = self._answer(request)
        return httpx.Response(
            answer.status_code, headers=answer.headers, stream=_Counted(answer, self._leave)
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._enter()
        await asyncio.sleep(0.001)  # a connection's round trip: the others pile up meanwhile
        return self._respond(request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self._enter()
        threading.Event().wait(0.001)
        with self._filled:
            self._filled.wait_for(lambda: self.inside >= self.fill, timeout=0.05)
        return self._respond(request)


def _backend() -> MockBackend:
    config = MockConfig(api_tokens=(TOKEN,), default_timing=(0.0, 0.05))
    return MockBackend(config, clock=FakeClock())


def _input(i: int) -> sdxl.Input:
    return sdxl.Input(prompt=f"concurrency {i}", width=64, height=64)


N = 300


async def test_hundreds_of_concurrent_runs_complete_and_the_pool_never_has_waiters() -> None:
    """Every one of N concurrent runs completes (no PoolTimeout), and never more requests are
    inside the transport than the gate's slots."""
    backend = _backend()
    counting = CountingTransport(backend)
    async with AsyncClient(api_token=TOKEN, base_url=BASE, transport=counting) as client:
        results = await asyncio.gather(
            *(client.run(_input(i)) for i in range(N)), return_exceptions=True
        )
    failures = [r for r in results if isinstance(r, BaseException)]
    assert failures == []
    assert all(len(images) == 1 for images in results)  # type: ignore[arg-type]
    assert counting.requests >= N
    assert counting.inside == 0  # every slot given back
    assert counting.peak == DEFAULT_MAX_CONNECTIONS  # the gate full, never beyond
    backend.close()


async def test_without_the_gate_the_count_goes_beyond() -> None:
    """The counter can fail: the same calls on an httpx client over the bare transport."""
    backend = _backend()
    counting = CountingTransport(backend)
    http = httpx.AsyncClient(transport=counting)
    async with AsyncClient(api_token=TOKEN, base_url=BASE, http_client=http) as client:
        await asyncio.gather(*(client.run(_input(i)) for i in range(N)))
    await http.aclose()
    assert counting.peak > DEFAULT_MAX_CONNECTIONS
    backend.close()


@pytest.mark.parametrize("size", [1, 7])
async def test_the_gate_admits_its_size(size: int) -> None:
    backend = _backend()
    counting = CountingTransport(backend)
    gated = AsyncGatedTransport(counting, max_connections=size)
    http = httpx.AsyncClient(transport=gated)
    async with AsyncClient(api_token=TOKEN, base_url=BASE, http_client=http) as client:
        await asyncio.gather(*(client.run(_input(i)) for i in range(40)))
    await http.aclose()
    assert (counting.peak, counting.inside) == (size, 0)
    backend.close()


def test_sync_client_threads_are_gated() -> None:
    backend = _backend()
    counting = CountingTransport(backend, fill=4)
    gated = GatedTransport(counting, max_connections=4)
    errors: list[BaseException] = []
    with Client(api_token=TOKEN, base_url=BASE, transport=gated) as client:

        def one(i: int) -> None:
            try:
                client.run(_input(i))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert (counting.peak, counting.inside) == (4, 0)
    backend.close()


class _Held(httpx.AsyncBaseTransport):
    """Answers with a body that never ends until released: holds its connection."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.seen: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.url.path)
        release = self.release

        class Body(httpx.AsyncByteStream):
            async def __aiter__(self) -> AsyncIterator[bytes]:
                await release.wait()
                yield b"{}"

        return httpx.Response(200, stream=Body())


async def test_time_at_the_gate_is_pool_time() -> None:
    """A request that cannot get a slot within its pool timeout fails with PoolTimeout (its
    deadline holds), and the held one still completes."""
    held = _Held()
    gated = AsyncGatedTransport(held, max_connections=1)
    async with httpx.AsyncClient(transport=gated, timeout=httpx.Timeout(5.0, pool=0.05)) as http:
        async with http.stream("GET", "https://h/first") as first:
            with pytest.raises(httpx.PoolTimeout, match="no request connection free"):
                await http.get("https://h/second")
            held.release.set()
            await first.aread()
        assert (await http.get("https://h/third")).status_code == 200
    assert held.seen == ["/first", "/third"]


async def test_streams_do_not_take_the_sends_slots() -> None:
    """Event streams have a lane of their own: with every stream slot held, requests go on."""
    held = _Held()
    gated = AsyncGatedTransport(held, max_connections=1, max_streams=2)
    sse = {"Accept": "text/event-stream"}
    async with httpx.AsyncClient(transport=gated, timeout=httpx.Timeout(5.0, pool=0.05)) as http:
        async with http.stream("GET", "https://h/s1", headers=sse):
            async with http.stream("GET", "https://h/s2", headers=sse):
                with pytest.raises(httpx.PoolTimeout, match="no stream connection free"):
                    await http.get("https://h/s3", headers=sse)
                held.release.set()
                assert (await http.get("https://h/request")).status_code == 200
    assert held.seen == ["/s1", "/s2", "/request"]


async def test_the_wait_at_the_gate_is_taken_from_the_pool_timeout() -> None:
    seen: list[float | None] = []
    held = _Held()

    class Recording(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path == "/second":
                seen.append(request.extensions["timeout"]["pool"])
                return httpx.Response(200)
            return await held.handle_async_request(request)

    gated = AsyncGatedTransport(Recording(), max_connections=1)
    async with httpx.AsyncClient(transport=gated, timeout=httpx.Timeout(5.0, pool=2.0)) as http:
        async with http.stream("GET", "https://h/first") as first:
            second = asyncio.create_task(http.get("https://h/second"))
            await asyncio.sleep(0.2)
            held.release.set()
            await first.aread()
        await second
    assert len(seen) == 1 and seen[0] is not None and seen[0] <= 1.85


async def test_a_response_the_transport_read_itself_gives_its_slot_back() -> None:
    """A transport may read (and close) its response before returning it: its slot is free at
    once, not left waiting for a close that never comes."""

    class Reads(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            response = httpx.Response(200, stream=httpx.ByteStream(b"read"))
            await response.aread()
            return response

    gated = AsyncGatedTransport(Reads(), max_connections=1)
    async with httpx.AsyncClient(transport=gated, timeout=httpx.Timeout(5.0, pool=0.05)) as http:
        for _ in range(3):
            assert (await http.get("https://h/x")).content == b"read"
    assert gated._lanes[0].in_use == [0]


class _SyncHeld(httpx.BaseTransport):
    """Sync :class:`_Held`: a body that holds its connection until it is read."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.url.path)
        return httpx.Response(200, stream=httpx.ByteStream(b"{}"))


def test_sync_time_at_the_gate_is_pool_time_and_a_closed_response_frees_its_slot() -> None:
    held = _SyncHeld()
    gated = GatedTransport(held, max_connections=1, max_streams=1)
    sse = {"Accept": "text/event-stream"}
    with httpx.Client(transport=gated, timeout=httpx.Timeout(5.0, pool=0.05)) as http:
        with http.stream("GET", "https://h/first"):
            with pytest.raises(httpx.PoolTimeout, match="no request connection free"):
                http.get("https://h/second")
            with http.stream("GET", "https://h/s1", headers=sse):  # its own lane
                with pytest.raises(httpx.PoolTimeout, match="no stream connection free"):
                    http.get("https://h/s2", headers=sse)
        assert http.get("https://h/third").status_code == 200
    assert held.seen == ["/first", "/s1", "/third"]
    assert gated._free == [1, 1] and gated._waiting == [0, 0]


def test_sync_waiters_get_freed_slots_in_turn_within_their_pool_timeout() -> None:
    """Threads beyond the gate wait; each closed response lets one in; the wait is taken from
    the pool timeout passed on."""
    pools: list[float] = []

    class Recording(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            pools.append(request.extensions["timeout"]["pool"])
            return httpx.Response(200, stream=httpx.ByteStream(b"{}"))

    gated = GatedTransport(Recording(), max_connections=2)
    done: list[int] = []
    with httpx.Client(transport=gated, timeout=httpx.Timeout(5.0, pool=2.0)) as http:
        first = http.send(http.build_request("GET", "https://h/a"), stream=True)
        second = http.send(http.build_request("GET", "https://h/b"), stream=True)
        threads = [
            threading.Thread(target=lambda i=i: done.append(http.get(f"https://h/{i}").status_code))
            for i in range(3)
        ]
        for thread in threads:
            thread.start()
        threading.Event().wait(0.2)
        assert done == [] and gated._waiting == [3, 0]
        first.close()
        second.close()
        for thread in threads:
            thread.join(5)
    assert done == [200, 200, 200]
    assert pools[:2] == [2.0, 2.0] and all(p < 1.85 for p in pools[2:])
    assert gated._free == [2, 100] and gated._waiting == [0, 0]


def test_the_client_gates_its_own_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    assert isinstance(AsyncGatedTransport.around(None), AsyncGatedTransport)
    gated = GatedTransport()
    assert GatedTransport.around(gated) is gated
    # proxies in the environment: httpx builds its own transport (it honours them only there)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    assert AsyncGatedTransport.around(None) is None
    assert GatedTransport.around(None) is None
    with pytest.raises(ValueError):
        AsyncGatedTransport(max_connections=0)


def test_a_lane_fills_its_pools_in_order_and_never_beyond_their_size() -> None:
    made: list[int] = []

    def make(size: int) -> httpx.BaseTransport:
        made.append(size)
        return httpx.MockTransport(lambda request: httpx.Response(200))

    lane = _Lane("request", 25, None, make)
    count = -(-25 // SHARD_SIZE)
    assert len(lane.capacity) == count and sum(lane.capacity) == 25
    assert max(lane.capacity) <= SHARD_SIZE and max(lane.capacity) - min(lane.capacity) <= 1
    assert made == []  # pools are made when first needed
    taken = [lane.take()[0] for _ in range(25)]
    assert taken == [i for i, size in enumerate(lane.capacity) for _ in range(size)]
    assert made == lane.capacity and lane.in_use == lane.capacity
    lane.in_use[1] -= 1  # a response of pool 1 closed: its connection is the free one
    assert lane.take()[0] == 1
    given = _Lane("request", 25, httpx.MockTransport(lambda r: httpx.Response(200)), make)
    assert given.capacity == [25] and len(made) == count  # a given transport is one pool


async def test_the_default_transport_over_real_connections(replicate_mock: ReplicateMock) -> None:
    """The client's own transport against the mock over loopback HTTP: concurrent runs all
    complete, no pool behind the gate holds more than SHARD_SIZE connections, and every slot
    and connection is free again afterwards."""
    n = 150
    async with replicate_mock.async_client() as client:
        results = await asyncio.gather(*(client.run(_input(i)) for i in range(n)))
        gated = client.http._transport
        assert isinstance(gated, AsyncGatedTransport)
        lane = gated._lanes[0]
        pools = lane.made()
        assert 1 < len(pools) <= DEFAULT_MAX_CONNECTIONS // SHARD_SIZE
        for pool in pools:
            assert isinstance(pool, httpx.AsyncHTTPTransport)
            connections = pool._pool.connections
            assert 0 < len(connections) <= SHARD_SIZE
            assert all(c.is_idle() for c in connections)
        assert lane.in_use == [0] * len(pools)
    assert len(results) == n and all(len(images) == 1 for images in results)


def test_the_sync_clients_pools_read_within_the_call_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every pool the sync client's gate makes, now or later, gets the deadline-bound socket
    backend of ``_deadline_io`` (a given transport is left alone)."""
    from replicate_typed.client import _deadline_io

    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    with Client(api_token=TOKEN, base_url=BASE) as client:
        gated = client.http._transport
        assert isinstance(gated, GatedTransport)
        lane = gated._lanes[0]
        for _ in range(SHARD_SIZE + 1):  # two pools, made as requests need them
            lane.take()
        pools = lane.made()
        assert len(pools) == 2
        for pool in pools:
            assert isinstance(pool._pool._network_backend, _deadline_io._Backend)  # type: ignore[attr-defined]
    given = GatedTransport(httpx.MockTransport(lambda r: httpx.Response(200)))
    assert given.each_pool(lambda pool: None) is False


# sniffio: httpcore 1.0 imports it for every lock, event and semaphore it sets up


class _CountSniffio(importlib.abc.MetaPathFinder):
    def __init__(self) -> None:
        self.lookups = 0

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "sniffio":
            self.lookups += 1
        return None


def test_sniffio_is_a_declared_dependency_and_installed() -> None:
    required = [Requirement(r) for r in importlib.metadata.requires("replicate-typed") or []]
    core = {r.name for r in required if r.marker is None}
    assert "sniffio" in core  # a runtime dependency, not an extra's
    assert importlib.metadata.version("sniffio")


async def test_httpcore_finds_sniffio_without_a_failed_import() -> None:
    """Once imported, sniffio is in sys.modules and httpcore's per-lock import costs nothing;
    were it missing, every lock would search the import path again (counted here)."""
    from httpcore._synchronization import AsyncLock, current_async_library

    assert current_async_library() == "asyncio"
    assert "sniffio" in sys.modules
    finder = _CountSniffio()
    sys.meta_path.insert(0, finder)
    try:
        for _ in range(50):
            async with AsyncLock():
                pass
    finally:
        sys.meta_path.remove(finder)
    assert finder.lookups == 0
