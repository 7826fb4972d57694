"""lib/streaming.py: SSE of a prediction, with respx serving text/event-stream bodies."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import respx

from replicate_typed.client.errors import StreamError
from replicate_typed.client.streaming import (
    StreamEvent,
    StreamFailedError,
    StreamHTTPError,
    acollect_output,
    aiter_events,
    collect_output,
    iter_events,
)

URL = "https://api.example.com/v1/streams/abc123"
HEADERS = {"Authorization": "Bearer r8_secret_token_value"}
SSE = {"content-type": "text/event-stream; charset=utf-8"}

BODY = (
    ": keepalive comment\n"
    "\n"
    "id: 1690212292:0\n"
    "event: output\n"
    "data: Hello\n"
    "\n"
    "id: 1690212292:1\n"
    "event: logs\n"
    "data: step 1/2\n"
    "\n"
    ":\n"
    "id: 1690212292:2\n"
    "event: output\n"
    "data: , multi\n"
    "data: line\n"
    "\n"
    "event: unknown-kind\n"
    "data: ignored\n"
    "\n"
    "id: 1690212292:3\n"
    "event: done\n"
    "data: {}\n"
    "\n"
    "event: output\n"
    "data: after done, never read\n"
    "\n"
)


def events_of(body: str) -> httpx.Response:
    return httpx.Response(200, headers=SSE, content=body.encode())


class BrokenStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that sends some bytes and then loses the connection."""

    def __init__(self, first: str) -> None:
        self.first = first.encode()

    def __iter__(self) -> Iterator[bytes]:
        yield self.first
        raise httpx.RemoteProtocolError("peer closed connection")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        raise httpx.RemoteProtocolError("peer closed connection")


def test_events_in_order_with_ids_multiline_and_keepalives(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(URL).mock(return_value=events_of(BODY))
    with httpx.Client() as http:
        events = list(iter_events(http, URL, headers=HEADERS))
    assert events == [
        StreamEvent("output", "Hello", "1690212292:0"),
        StreamEvent("logs", "step 1/2", "1690212292:1"),
        StreamEvent("output", ", multi\nline", "1690212292:2"),
        StreamEvent("done", "{}", "1690212292:3"),
    ]
    assert events[-1].json() == {}
    assert events[-1].is_done and events[-1].done_reason is None
    request = route.calls.last.request
    assert request.headers["accept"] == "text/event-stream"
    assert request.headers["cache-control"] == "no-store"
    assert request.headers["authorization"] == HEADERS["Authorization"]
    assert "last-event-id" not in request.headers
    assert route.call_count == 1


def test_collect_output_concatenates(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(URL).mock(return_value=events_of(BODY))
    with httpx.Client() as http:
        assert collect_output(iter_events(http, URL, headers=HEADERS)) == "Hello, multi\nline"


def test_error_event_then_done_reason_error(respx_mock: respx.MockRouter) -> None:
    body = (
        "id: 1:0\nevent: output\ndata: partial\n\n"
        'id: 1:1\nevent: error\ndata: {"detail": "CUDA out of memory"}\n\n'
        'id: 1:2\nevent: done\ndata: {"reason": "error"}\n\n'
    )
    respx_mock.get(URL).mock(return_value=events_of(body))
    with httpx.Client() as http:
        events = list(iter_events(http, URL, headers=HEADERS))
        assert [e.event for e in events] == ["output", "error", "done"]
        assert events[1].error_detail == "CUDA out of memory"
        assert events[1].json() == {"detail": "CUDA out of memory"}
        assert events[2].done_reason == "error"
        with pytest.raises(StreamFailedError) as info:
            collect_output(iter_events(http, URL, headers=HEADERS))
    assert info.value.detail == "CUDA out of memory"
    assert info.value.output == "partial"
    assert "CUDA out of memory" in str(info.value)


def test_done_canceled(respx_mock: respx.MockRouter) -> None:
    body = 'event: output\ndata: a\n\nevent: done\ndata: {"reason": "canceled"}\n\n'
    respx_mock.get(URL).mock(return_value=events_of(body))
    with httpx.Client() as http:
        events = list(iter_events(http, URL, headers=HEADERS))
        assert events[-1].done_reason == "canceled"
        with pytest.raises(StreamFailedError) as info:
            collect_output(iter(events))
    assert info.value.reason == "canceled"
    assert info.value.output == "a"


def test_truncated_stream_resumes_with_last_event_id(respx_mock: respx.MockRouter) -> None:
    first = (
        "id: 1690212292:0\nevent: output\ndata: one\n\nid: 1690212292:1\nevent: output\ndata: tw"
    )
    second = (
        "id: 1690212292:1\nevent: output\ndata: two\n\nid: 1690212292:2\nevent: done\ndata: {}\n\n"
    )
    route = respx_mock.get(URL).mock(side_effect=[events_of(first), events_of(second)])
    with httpx.Client() as http:
        events = list(iter_events(http, URL, headers=HEADERS, reconnect_delay=0))
    assert [e.data for e in events] == ["one", "two", "{}"]
    assert route.call_count == 2
    assert "last-event-id" not in route.calls[0].request.headers
    assert route.calls[1].request.headers["last-event-id"] == "1690212292:0"
    assert route.calls[1].request.headers["authorization"] == HEADERS["Authorization"]


def test_connection_error_mid_stream_resumes(respx_mock: respx.MockRouter) -> None:
    broken = httpx.Response(
        200, headers=SSE, stream=BrokenStream("id: 7:0\nevent: logs\ndata: x\n\n")
    )
    rest = events_of("id: 7:1\nevent: output\ndata: y\n\nid: 7:2\nevent: done\ndata: {}\n\n")
    route = respx_mock.get(URL).mock(side_effect=[broken, rest])
    with httpx.Client() as http:
        events = list(iter_events(http, URL, headers=HEADERS, reconnect_delay=0))
    assert [(e.event, e.data) for e in events] == [("logs", "x"), ("output", "y"), ("done", "{}")]
    assert route.calls[1].request.headers["last-event-id"] == "7:0"


def test_gives_up_after_bounded_reconnects(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(URL).mock(side_effect=lambda request: events_of(": idle\n\n"))
    with httpx.Client() as http, pytest.raises(StreamError, match="closed before 'done'"):
        list(iter_events(http, URL, headers=HEADERS, max_reconnects=2, reconnect_delay=0))
    assert route.call_count == 3  # the first connection and 2 reconnects


def test_progress_resets_the_reconnect_budget(respx_mock: respx.MockRouter) -> None:
    bodies = [events_of(f"id: {i}\nevent: output\ndata: {i}\n\n") for i in range(4)]
    bodies.append(events_of("id: 9\nevent: done\ndata: {}\n\n"))
    respx_mock.get(URL).mock(side_effect=bodies)
    with httpx.Client() as http:
        out = collect_output(iter_events(http, URL, headers=HEADERS, max_reconnects=1))
    assert out == "0123"


def test_a_server_replaying_the_same_events_is_given_up_and_never_yields_twice(
    respx_mock: respx.MockRouter,
) -> None:
    replay = "id: 1:0\nevent: output\ndata: a\n\nid: 1:1\nevent: output\ndata: b\n\n"
    route = respx_mock.get(URL).mock(side_effect=lambda request: events_of(replay))
    seen: list[StreamEvent] = []
    with httpx.Client() as http, pytest.raises(StreamError, match="closed before 'done'"):
        for event in iter_events(http, URL, headers=HEADERS, max_reconnects=2, reconnect_delay=0):
            seen.append(event)
    assert [e.data for e in seen] == ["a", "b"]
    assert route.call_count == 4  # the first connection, the one with no news, 2 reconnects
    assert route.calls.last.request.headers["Last-Event-ID"] == "1:1"


def test_events_without_ids_that_never_end_are_given_up(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(URL).mock(
        side_effect=lambda request: events_of("event: output\ndata: x\n\n")
    )
    with httpx.Client() as http, pytest.raises(StreamError):
        list(iter_events(http, URL, headers=HEADERS, max_reconnects=3, reconnect_delay=0))
    assert route.call_count == 4


def test_a_body_that_fails_its_content_encoding_is_a_disconnect(
    respx_mock: respx.MockRouter,
) -> None:
    broken = httpx.Response(
        200,
        headers={**SSE, "content-encoding": "gzip"},
        stream=httpx.ByteStream(b"not gzip"),
    )
    respx_mock.get(URL).mock(side_effect=[broken, events_of("id: 2\nevent: done\ndata: {}\n\n")])
    with httpx.Client() as http:
        events = list(iter_events(http, URL, headers=HEADERS, reconnect_delay=0))
    assert [e.event for e in events] == ["done"]


@pytest.mark.parametrize(
    ("response", "status"),
    [
        (httpx.Response(404, json={"detail": "Not found", "status": 404}), 404),
        (httpx.Response(502, html="<html>Bad gateway</html>"), 502),
        (httpx.Response(200, json={"status": "processing"}), 200),
    ],
)
def test_error_status_or_wrong_content_type(
    respx_mock: respx.MockRouter, response: httpx.Response, status: int
) -> None:
    respx_mock.get(URL).mock(return_value=response)
    with httpx.Client() as http, pytest.raises(StreamHTTPError) as info:
        list(iter_events(http, URL, headers=HEADERS))
    assert info.value.status_code == status
    text = response.content.decode()[:20]
    assert text[:10] in str(info.value)
    assert info.value.snippet.startswith(text[:10])
    assert HEADERS["Authorization"].split()[1] not in str(info.value)


async def test_async_stream_resume_and_collect(respx_mock: respx.MockRouter) -> None:
    broken = httpx.Response(
        200, headers=SSE, stream=BrokenStream("id: 5:0\nevent: output\ndata: he\n\n")
    )
    rest = events_of("id: 5:1\nevent: output\ndata: llo\n\nid: 5:2\nevent: done\ndata: {}\n\n")
    route = respx_mock.get(URL).mock(side_effect=[broken, rest])
    async with httpx.AsyncClient() as http:
        out = await acollect_output(aiter_events(http, URL, headers=HEADERS, reconnect_delay=0))
    assert out == "hello"
    assert route.calls[1].request.headers["last-event-id"] == "5:0"
    assert route.calls[0].request.headers["accept"] == "text/event-stream"


async def test_async_events_and_http_error(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(URL).mock(
        side_effect=[events_of(BODY), httpx.Response(401, json={"detail": "Unauthenticated"})]
    )
    async with httpx.AsyncClient() as http:
        events = [e async for e in aiter_events(http, URL, headers=HEADERS)]
        assert [e.event for e in events] == ["output", "logs", "output", "done"]
        assert events[2].data == ", multi\nline"
        with pytest.raises(StreamHTTPError) as info:
            async for _ in aiter_events(http, URL, headers=HEADERS):
                pass
    assert info.value.status_code == 401
    assert "Unauthenticated" in str(info.value)


async def test_async_gives_up(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(URL).mock(side_effect=lambda request: events_of(""))
    async with httpx.AsyncClient() as http:
        with pytest.raises(StreamError):
            async for _ in aiter_events(
                http, URL, headers=HEADERS, max_reconnects=1, reconnect_delay=0
            ):
                pass
    assert route.call_count == 2
