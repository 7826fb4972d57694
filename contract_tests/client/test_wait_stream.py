"""Waiting on the prediction's stream: the ``done`` event ends the wait, then one GET fetches the
result; every case the stream cannot serve (none, not for this token, an error status, not an
event stream, a connection that keeps closing, a ``done`` the prediction does not confirm) falls
back to polling; a wait ``timeout`` holds on the stream (``PredictionTimeoutError`` with the id).
Sync and async, faked with respx and against the mock (real HTTP and respx).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.client.test_client_helpers import (
    OFFICIAL,
    OUT_URL,
    PID,
    ROUTER,
    TOKEN,
    FakeTime,
    prediction,
)
from replicate_typed.client import AsyncClient, Client, errors
from replicate_typed.client._base import ClientOptions, Core
from replicate_typed.client.polling import PollPolicy
from replicate_typed.mock import FakeClock, MockBackend, MockConfig, MockServer, install
from replicate_typed.models.stability_ai import sdxl
from replicate_typed.types.api import Prediction

STREAM = f"{ROUTER}/v1/predictions/{PID}/stream"  # the base URL's origin: the token may go there
UPSTREAM = "https://stream.replicate.com/v1/files/bcwr-q57vie7wuzg3wxv2hvpajgmzqzmxe67kqd"
SSE = {"content-type": "text/event-stream; charset=utf-8"}
CREATE = f"{ROUTER}/v1/predictions"
GET = f"{ROUTER}/v1/predictions/{PID}"


def answer(status: str, stream: str | None = STREAM, **kw: Any) -> dict[str, Any]:
    body = prediction(status, output=[OUT_URL] if status == "succeeded" else None, **kw)
    if stream is None:
        del body["urls"]["stream"]
    else:
        body["urls"]["stream"] = stream
    return body


def sse(*events: tuple[str, str], retry_ms: int | None = None, first_id: int = 0) -> str:
    text = f"retry: {retry_ms}\n\n" if retry_ms is not None else ""
    for n, (name, data) in enumerate(events, start=first_id):
        text += f"id: 1736935419:{n}\nevent: {name}\ndata: {data}\n\n"
    return text


DONE = sse(("logs", "step 1/2"), ("logs", "step 2/2"), ("output", OUT_URL), ("done", "{}"))


def events(body: str) -> httpx.Response:
    return httpx.Response(200, headers=SSE, content=body.encode())


class Hanging(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Sends ``first``, then holds the connection open until released (or 10 s)."""

    def __init__(self, first: str, release: threading.Event) -> None:
        self.first, self.release = first.encode(), release

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        self.release.wait(10)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        for _ in range(1000):
            if self.release.is_set():
                return
            await asyncio.sleep(0.01)


def sync_client(
    base: str = ROUTER, token: str | None = TOKEN, **kw: Any
) -> tuple[Client, FakeTime]:
    clock = FakeTime()
    kw.setdefault("sleep", clock.sleep)
    kw.setdefault("clock", clock.clock)
    return Client(api_token=token, base_url=base, max_retries=0, **kw), clock


def async_client(
    base: str = ROUTER, token: str | None = TOKEN, **kw: Any
) -> tuple[AsyncClient, FakeTime]:
    clock = FakeTime()
    kw.setdefault("sleep", clock.asleep)
    kw.setdefault("clock", clock.clock)
    return AsyncClient(api_token=token, base_url=base, max_retries=0, **kw), clock


# --- the stream ends the wait ---------------------------------------------------------------


def test_run_ends_on_done_with_one_get_after_it_sync(respx_mock: respx.MockRouter) -> None:
    create = respx_mock.post(CREATE).respond(201, json=answer("starting"))
    stream = respx_mock.get(STREAM).mock(return_value=events(DONE))
    get = respx_mock.get(GET).respond(200, json=answer("succeeded"))
    client, clock = sync_client()
    with client:
        assert client.run(sdxl.Input(prompt="x"), wait=False) == [OUT_URL]
    assert (create.call_count, stream.call_count, get.call_count) == (1, 1, 1)
    assert clock.sleeps == []  # no polling at all
    request = stream.calls.last.request
    assert request.headers["accept"] == "text/event-stream"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"  # the base URL's own origin
    assert respx_mock.calls[1].request is request and respx_mock.calls[2].request.url == GET


async def test_run_ends_on_done_with_one_get_after_it_async(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(CREATE).respond(201, json=answer("starting"))
    stream = respx_mock.get(STREAM).mock(return_value=events(DONE))
    get = respx_mock.get(GET).respond(200, json=answer("succeeded"))
    client, clock = async_client()
    async with client:
        assert await client.run(sdxl.Input(prompt="x"), wait=False) == [OUT_URL]
    assert (stream.call_count, get.call_count, len(respx_mock.calls)) == (1, 1, 3)
    assert clock.sleeps == []


def test_wait_by_id_gets_streams_and_gets_once_more(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(STREAM).mock(return_value=events(DONE))
    get = respx_mock.get(GET).mock(
        side_effect=[
            httpx.Response(200, json=answer("processing")),
            httpx.Response(200, json=answer("failed", error="boom")),
        ]
    )
    client, _ = sync_client()
    with client:
        done = client.predictions.wait(PID)  # a failed prediction is returned, not raised
    assert (done.status, done.error, get.call_count) == ("failed", "boom", 2)


def test_on_update_sees_the_logs_as_they_stream(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(STREAM).mock(return_value=events(DONE))
    respx_mock.get(GET).respond(200, json=answer("succeeded", logs="step 1/2\nstep 2/2\n"))
    seen: list[tuple[str, str | None]] = []
    client, _ = sync_client()
    with client:
        client.predictions.wait(
            Prediction.model_validate(answer("starting")),
            on_update=lambda p: seen.append((str(p.status), p.logs)),
        )
    assert seen == [
        ("processing", "step 1/2\n"),
        ("processing", "step 1/2\nstep 2/2\n"),
        ("processing", "step 1/2\nstep 2/2\n"),  # the output event
        ("succeeded", "step 1/2\nstep 2/2\n"),  # the GET after done
    ]


def test_prefer_wait_answer_that_is_final_needs_no_stream(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(CREATE).respond(201, json=answer("succeeded"))
    stream = respx_mock.get(STREAM).mock(return_value=events(DONE))
    client, _ = sync_client()
    with client:
        assert client.run(sdxl.Input(prompt="x")) == [OUT_URL]
    assert stream.call_count == 0 and len(respx_mock.calls) == 1


def test_prefer_wait_that_ran_out_continues_on_the_stream(respx_mock: respx.MockRouter) -> None:
    create = respx_mock.post(CREATE).respond(201, json=answer("processing"))
    stream = respx_mock.get(STREAM).mock(return_value=events(DONE))
    respx_mock.get(GET).respond(200, json=answer("succeeded"))
    client, _ = sync_client()
    with client:
        assert client.run(sdxl.Input(prompt="x"), timeout=30) == [OUT_URL]
    assert create.calls.last.request.headers["prefer"] == "wait=30"
    assert stream.call_count == 1 and len(respx_mock.calls) == 3


def test_official_api_stream_host_gets_the_token(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(UPSTREAM).mock(return_value=events(DONE))
    respx_mock.get(f"{OFFICIAL}/v1/predictions/{PID}").respond(
        200, json=answer("succeeded", stream=UPSTREAM)
    )
    client, _ = sync_client(OFFICIAL)
    with client:
        client.predictions.wait(Prediction.model_validate(answer("starting", stream=UPSTREAM)))
    stream_request = respx_mock.calls[0].request
    assert stream_request.url == UPSTREAM
    assert stream_request.headers["authorization"] == f"Bearer {TOKEN}"
    assert len(respx_mock.calls) == 2


# --- fallbacks to polling --------------------------------------------------------------------


def poll_twice(respx_mock: respx.MockRouter, stream: str | None) -> respx.Route:
    return respx_mock.get(GET).mock(
        side_effect=[
            httpx.Response(200, json=answer("processing", stream=stream)),
            httpx.Response(200, json=answer("succeeded", stream=stream)),
        ]
    )


@pytest.mark.parametrize(
    ("base", "url"),
    [
        (ROUTER, UPSTREAM),  # a router's answer naming its upstream's stream host
        (ROUTER, "https://router.example:8443/replicate/v1/predictions/x/stream"),  # other port
        (ROUTER, "http://router.example/replicate/v1/predictions/x/stream"),  # other scheme
        (OFFICIAL, "http://stream.replicate.com/v1/files/x"),  # not https
        (OFFICIAL, "https://stream.replicate.com.evil.example/v1/files/x"),
        (ROUTER, "/replicate/v1/predictions/x/stream"),  # not absolute
        (ROUTER, "ftp://router.example/x"),
        (ROUTER, "https://router.example:99999/x"),
        (ROUTER, "https://router.example/x\r\nX-Injected: 1"),
        (ROUTER, ""),
        (ROUTER, None),
    ],
)
def test_a_stream_the_client_may_not_use_is_never_requested(
    respx_mock: respx.MockRouter, base: str, url: str | None
) -> None:
    get = respx_mock.get(f"{base}/v1/predictions/{PID}").mock(
        side_effect=[
            httpx.Response(200, json=answer("processing", stream=url)),
            httpx.Response(200, json=answer("succeeded", stream=url)),
        ]
    )
    client, clock = sync_client(base)
    with client:
        done = client.predictions.wait(Prediction.model_validate(answer("starting", stream=url)))
    assert done.status == "succeeded"
    assert get.call_count == 2 and len(respx_mock.calls) == 2  # only GETs: polled
    assert len(clock.sleeps) == 2


async def test_without_a_token_any_http_stream_host_is_used(
    respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    stream = respx_mock.get(UPSTREAM).mock(return_value=events(DONE))
    respx_mock.get(GET).respond(200, json=answer("succeeded", stream=UPSTREAM))
    client, _ = async_client(token=None)
    async with client:
        await client.predictions.wait(
            Prediction.model_validate(answer("starting", stream=UPSTREAM))
        )
    assert stream.call_count == 1
    assert "authorization" not in stream.calls.last.request.headers


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(404, json={"status": 404, "title": "Not found", "detail": "no stream"}),
        httpx.Response(405, text="Method Not Allowed"),
        httpx.Response(502, text="<html>Bad Gateway</html>", headers={"content-type": "text/html"}),
        httpx.Response(200, json=answer("processing")),  # not an event stream
        httpx.Response(200, text=DONE),  # SSE text without the content type
    ],
    ids=["404", "405", "502-html", "json", "no-content-type"],
)
def test_a_stream_that_answers_something_else_falls_back_to_polling(
    respx_mock: respx.MockRouter, reply: httpx.Response
) -> None:
    stream = respx_mock.get(STREAM).mock(return_value=reply)
    get = poll_twice(respx_mock, STREAM)
    client, clock = sync_client()
    with client:
        done = client.predictions.wait(Prediction.model_validate(answer("starting")))
    assert done.status == "succeeded"
    assert (stream.call_count, get.call_count, len(clock.sleeps)) == (1, 2, 2)


async def test_a_stream_that_keeps_closing_falls_back_to_polling_async(
    respx_mock: respx.MockRouter,
) -> None:
    bodies = iter([sse(("logs", "a"), retry_ms=1)])
    stream = respx_mock.get(STREAM).mock(
        side_effect=lambda request: events(next(bodies, ": idle\n\n"))
    )
    get = poll_twice(respx_mock, STREAM)
    client, _ = async_client()
    async with client:
        done = await client.predictions.wait(Prediction.model_validate(answer("starting")))
    assert done.status == "succeeded" and get.call_count == 2
    # the first connection, then reconnects without a new event up to the budget (5)
    assert stream.call_count == 7
    assert stream.calls[1].request.headers["last-event-id"] == "1736935419:0"


def test_a_stream_error_mid_way_falls_back_to_polling_sync(respx_mock: respx.MockRouter) -> None:
    def broken(request: httpx.Request) -> httpx.Response:
        if "last-event-id" in request.headers:
            raise httpx.ConnectError("connection refused", request=request)
        return events(sse(("logs", "a"), retry_ms=1))

    stream = respx_mock.get(STREAM).mock(side_effect=broken)
    get = poll_twice(respx_mock, STREAM)
    client, _ = sync_client()
    with client:
        assert client.predictions.wait(PID).status == "succeeded"  # GET, stream, then a poll
    assert stream.call_count == 7 and get.call_count == 2  # 1 + 6 refused reconnects (budget 5)


def test_done_that_the_prediction_does_not_confirm_is_polled_on(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.get(STREAM).mock(return_value=events(sse(("done", "{}"))))
    get = poll_twice(respx_mock, STREAM)
    client, clock = sync_client()
    with client:
        done = client.predictions.wait(Prediction.model_validate(answer("starting")))
    assert done.status == "succeeded" and get.call_count == 2 and len(clock.sleeps) == 1


@pytest.mark.parametrize("where", ["client", "call"])
def test_use_stream_false_always_polls(respx_mock: respx.MockRouter, where: str) -> None:
    stream = respx_mock.get(STREAM).mock(return_value=events(DONE))
    get = poll_twice(respx_mock, STREAM)
    off = PollPolicy(use_stream=False)
    client, _ = sync_client(poll_policy=off if where == "client" else None)
    with client:
        done = client.predictions.wait(
            Prediction.model_validate(answer("starting")),
            poll_policy=off if where == "call" else None,
        )
    assert done.status == "succeeded"
    assert stream.call_count == 0 and get.call_count == 2


# --- timeouts on the stream ------------------------------------------------------------------


@pytest.mark.parametrize("cancel", [False, True])
def test_timeout_while_streaming_sync(respx_mock: respx.MockRouter, cancel: bool) -> None:
    release = threading.Event()
    stream = respx_mock.get(STREAM).mock(
        return_value=httpx.Response(
            200, headers=SSE, stream=Hanging(sse(("logs", "step 1/9")), release)
        )
    )
    get = respx_mock.get(GET).respond(200, json=answer("processing"))
    cancel_route = respx_mock.post(f"{GET}/cancel").respond(200, json=answer("canceled"))
    client = Client(api_token=TOKEN, base_url=ROUTER, max_retries=0)  # the real clock
    started = time.monotonic()
    try:
        with client, pytest.raises(errors.PredictionTimeoutError) as info:
            client.predictions.wait(
                Prediction.model_validate(answer("starting")),
                timeout=0.3,
                cancel_on_timeout=cancel,
            )
        waited = time.monotonic() - started
    finally:
        release.set()
    assert info.value.prediction_id == PID and PID in str(info.value)
    assert info.value.last_status == "processing"  # the state at the deadline (one GET)
    assert 0.3 <= waited < 5  # the held stream did not hold the wait past its timeout
    assert stream.call_count == 1 and get.call_count == 1
    assert cancel_route.call_count == (1 if cancel else 0)
    assert ("(canceled)" in str(info.value)) is cancel


@pytest.mark.parametrize("cancel", [False, True])
async def test_timeout_while_streaming_async(respx_mock: respx.MockRouter, cancel: bool) -> None:
    release = threading.Event()
    respx_mock.get(STREAM).mock(
        return_value=httpx.Response(200, headers=SSE, stream=Hanging(sse(("logs", "x")), release))
    )
    respx_mock.get(GET).respond(200, json=answer("processing"))
    cancel_route = respx_mock.post(f"{GET}/cancel").respond(200, json=answer("canceled"))
    respx_mock.post(CREATE).respond(201, json=answer("starting"))
    started = time.monotonic()
    try:
        async with AsyncClient(api_token=TOKEN, base_url=ROUTER, max_retries=0) as client:
            with pytest.raises(errors.PredictionTimeoutError) as info:
                await client.run(
                    sdxl.Input(prompt="x"), wait=False, timeout=1.0, cancel_on_timeout=cancel
                )
        waited = time.monotonic() - started
    finally:
        release.set()
    # run()'s timeout covers the create too: 1 s leaves a loaded machine time to reach the stream
    # (a create that used the whole budget would end the wait before its first GET)
    assert info.value.prediction_id == PID and info.value.last_status == "processing"
    assert 1.0 <= waited < 6
    assert cancel_route.call_count == (1 if cancel else 0)


def test_timeout_zero_never_opens_the_stream(respx_mock: respx.MockRouter) -> None:
    stream = respx_mock.get(STREAM).mock(return_value=events(DONE))
    client, _ = sync_client()
    with client, pytest.raises(errors.PredictionTimeoutError) as info:
        client.predictions.wait(Prediction.model_validate(answer("processing")), timeout=0)
    assert info.value.prediction_id == PID and stream.call_count == 0


# --- the same outcome whatever the stream does (property) ------------------------------------

stream_behaviours = st.one_of(
    st.tuples(st.just("done"), st.integers(0, 4)),  # done after n log events
    st.tuples(st.just("status"), st.sampled_from([404, 405, 410, 500, 503])),
    st.tuples(st.just("not-sse"), st.sampled_from(["application/json", "text/html", ""])),
    st.tuples(st.just("closes"), st.integers(0, 2)),  # n events, then idle closes forever
)


def stream_reply(kind: str, arg: Any) -> Callable[[httpx.Request], httpx.Response]:
    first = iter([sse(*[("logs", "x")] * arg, retry_ms=1)] if kind == "closes" else [])

    def reply(request: httpx.Request) -> httpx.Response:
        if kind == "done":
            return events(sse(*[("logs", f"line {i}") for i in range(arg)], ("done", "{}")))
        if kind == "status":
            return httpx.Response(arg, text="no")
        if kind == "not-sse":
            return httpx.Response(200, text=DONE, headers={"content-type": arg})
        return events(next(first, ": idle\n\n"))  # some events, then idle closes forever

    return reply


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    behaviour=stream_behaviours,
    final=st.sampled_from(["succeeded", "failed", "canceled", "aborted"]),
    polls=st.integers(0, 3),
    use_stream=st.booleans(),
)
def test_any_stream_behaviour_ends_in_the_final_state(
    behaviour: tuple[str, Any], final: str, polls: int, use_stream: bool
) -> None:
    kind, arg = behaviour
    # the server's GETs: `polls` non-terminal answers, then the final one
    answers = [answer("processing")] * polls + [answer(final)]
    with respx.mock(assert_all_called=False) as router:
        stream = router.get(STREAM).mock(side_effect=stream_reply(kind, arg))
        get = router.get(GET).mock(side_effect=[httpx.Response(200, json=a) for a in answers])
        client, clock = sync_client(poll_policy=PollPolicy(use_stream=use_stream))
        with client:
            done = client.predictions.wait(Prediction.model_validate(answer("starting")))
    assert done.status == final
    assert done.id == PID
    if not use_stream:
        assert stream.call_count == 0 and get.call_count == polls + 1
    elif kind == "done":
        assert stream.call_count == 1
        # one GET after done; polling only if the server had not caught up yet
        assert get.call_count == polls + 1 and len(clock.sleeps) == polls
    else:
        assert stream.call_count >= 1 and get.call_count == polls + 1


host_names = st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,8}){0,2}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(
    base=st.sampled_from([ROUTER, OFFICIAL, "http://127.0.0.1:8000", "https://r.example/x"]),
    scheme=st.sampled_from(["http", "https", "ftp", "javascript"]),
    host=st.one_of(
        host_names,
        host_names.map(lambda h: h + ".replicate.com"),
        st.sampled_from(
            ["router.example", "api.replicate.com", "127.0.0.1", "stream.replicate.com"]
        ),
    ),
    port=st.one_of(st.none(), st.integers(1, 70000)),
    token=st.booleans(),
)
def test_the_token_only_goes_where_it_may(
    base: str, scheme: str, host: str, port: int | None, token: bool
) -> None:
    """A stream URL a wait would use never gets the token unless its host may get it; a URL the
    client may not use (not http(s), bad port, an untrusted host while holding a token) is not
    requested at all."""
    url = f"{scheme}://{host}{'' if port is None else f':{port}'}/v1/predictions/x/stream"
    core = Core(ClientOptions.resolve(TOKEN if token else "", base))
    chosen = core.wait_stream(
        Prediction.model_validate(answer("processing", stream=url)), PollPolicy()
    )
    if chosen is None:
        return
    assert scheme in ("http", "https") and (port is None or port < 65536)
    headers = core.stream_headers(chosen)
    if token:
        assert core.trusts(chosen)
        assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert ("Authorization" in headers) == (token and core.trusts(chosen))
    origin = base.split("/", 3)[:3]
    if "Authorization" in headers and chosen.split("/", 3)[:3] != origin:
        assert base == OFFICIAL and chosen.startswith("https://") and ".replicate.com" in host


# --- against the mock: real HTTP and respx ----------------------------------------------------


@pytest.fixture(params=["http", "respx"])
def mock_base(request: pytest.FixtureRequest) -> Iterator[tuple[str, MockBackend]]:
    backend = MockBackend(
        MockConfig(api_tokens=(TOKEN,), default_timing=(0.02, 0.2), log_interval=0.05)
    )
    if request.param == "http":
        with MockServer(backend=backend) as server:
            yield server.url + "/replicate", backend
    else:
        with respx.mock(assert_all_called=False) as router:
            install(router, backend, "https://mock.test")
            yield "https://mock.test/replicate", backend
    backend.close()


def test_against_the_mock_create_stream_get_sync(mock_base: tuple[str, MockBackend]) -> None:
    base, backend = mock_base
    with Client(api_token=TOKEN, base_url=base, max_retries=0) as client:
        images = client.run(sdxl.Input(prompt="a lighthouse"), wait=False)
    assert len(images) == 1
    assert backend.operations["predictions.create"] == 1
    assert backend.operations["predictions.stream"] == 1
    assert backend.operations["predictions.get"] == 1


async def test_against_the_mock_create_stream_get_async(
    mock_base: tuple[str, MockBackend],
) -> None:
    base, backend = mock_base
    async with AsyncClient(api_token=TOKEN, base_url=base, max_retries=0) as client:
        outcomes = await asyncio.gather(
            *(client.run(sdxl.Input(prompt=f"p{i}"), wait=False) for i in range(4))
        )
    assert all(len(images) == 1 for images in outcomes)
    assert backend.operations["predictions.stream"] == 4
    assert backend.operations["predictions.get"] == 4


@pytest.mark.parametrize("transport", ["http", "respx"])
def test_a_cancel_ends_the_stream_at_once(transport: str) -> None:
    """The clock never moves: only the cancel itself can wake the stream and end the wait."""
    clock = FakeClock(auto_advance=False)
    backend = MockBackend(MockConfig(default_timing=(0.0, 1000.0)), clock=clock)
    router = None
    server = None
    if transport == "http":
        server = MockServer(backend=backend).start()
        base = server.url
    else:
        router = respx.mock(assert_all_called=False)
        router.start()
        install(router, backend, "https://mock.test")
        base = "https://mock.test"
    try:
        with Client(api_token=TOKEN, base_url=base, max_retries=0) as client:
            created = client.create(sdxl.Input(prompt="long"))
            outcome: list[Prediction] = []
            waiter = threading.Thread(
                target=lambda: outcome.append(client.predictions.wait(created.raw)), daemon=True
            )
            waiter.start()
            deadline = time.monotonic() + 10
            while backend.operations["predictions.stream"] == 0 and time.monotonic() < deadline:
                time.sleep(0.005)
            assert backend.operations["predictions.stream"] == 1
            client.predictions.cancel(created.id)
            waiter.join(10)
            assert outcome and outcome[0].status == "canceled"
        assert backend.operations["predictions.get"] == 1  # the one GET after done
    finally:
        if router is not None:
            router.stop()
        if server is not None:
            server.stop()
        backend.close()


async def test_stream_until_done_alone(respx_mock: respx.MockRouter) -> None:
    stream = respx_mock.get(STREAM).mock(return_value=events(DONE))
    client, _ = async_client()
    async with client:
        predictions = client.predictions
        assert await predictions.stream_until_done(Prediction.model_validate(answer("processing")))
        assert await predictions.stream_until_done(Prediction.model_validate(answer("canceled")))
        untrusted = Prediction.model_validate(answer("processing", stream=UPSTREAM))
        assert not await predictions.stream_until_done(untrusted)
        off = PollPolicy(use_stream=False)
        processing = Prediction.model_validate(answer("processing"))
        assert not await predictions.stream_until_done(processing, poll_policy=off)
    assert stream.call_count == 1 and len(respx_mock.calls) == 1
