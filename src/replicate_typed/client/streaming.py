"""Server-sent events of a prediction (``urls.stream``), read with httpx-sse.

Events: ``output`` (text), ``logs`` (text), ``error`` (JSON ``{"detail": ...}``) and ``done``
(JSON ``{}``, ``{"reason": "canceled"}`` or ``{"reason": "error"}``). Iteration stops after
``done``. An idle stream is closed by the server after about 30 s: when the connection ends
before ``done``, it is reopened with ``Last-Event-ID`` (a bounded number of consecutive times
without a new event).

The sync and async readers share :class:`_StreamState`, which holds every decision (headers,
which events to yield, when to give up, how long to wait); only the I/O differs.

:class:`AsyncStreamWaiter` / :class:`StreamWaiter` read a stream only for its ``done`` event, within
a time limit: the clients' ``predictions.wait`` ends on it (see :mod:`.polling`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

import httpx
from httpx_sse import EventSource, ServerSentEvent, aconnect_sse, connect_sse

from replicate_typed.client.errors import APITimeoutError, ResponseTooLargeError, StreamError
from replicate_typed.client.limits import DEFAULT_MAX_EVENT_BYTES, Deadline, current_deadline
from replicate_typed.client.validation import UnsafeValueError, check_header_value, origin_of

__all__ = [
    "EVENT_TYPES",
    "StreamEvent",
    "StreamFailedError",
    "StreamHTTPError",
    "AsyncStreamWaiter",
    "StreamWaiter",
    "acollect_output",
    "aiter_events",
    "collect_output",
    "iter_events",
]

EventType = Literal["output", "logs", "error", "done"]
EVENT_TYPES: frozenset[str] = frozenset({"output", "logs", "error", "done"})

DEFAULT_MAX_RECONNECTS = 5
_MAX_DELAY = 10.0
_SNIPPET = 300


@dataclass(frozen=True)
class StreamEvent:
    """One server-sent event of a prediction stream."""

    event: str
    data: str
    id: str | None = None

    def json(self) -> Any:
        """The data parsed as JSON (``error`` and ``done`` events carry JSON)."""
        return json.loads(self.data)

    def _json_object(self) -> dict[str, Any]:
        try:
            value = self.json()
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @property
    def is_done(self) -> bool:
        return self.event == "done"

    @property
    def done_reason(self) -> str | None:
        """For a ``done`` event: ``"canceled"``, ``"error"`` or None (succeeded)."""
        if not self.is_done:
            return None
        reason = self._json_object().get("reason")
        return str(reason) if reason else None

    @property
    def error_detail(self) -> str | None:
        """For an ``error`` event: its ``detail`` (or the raw data when it is not JSON)."""
        if self.event != "error":
            return None
        detail = self._json_object().get("detail")
        return str(detail) if detail is not None else self.data


class StreamHTTPError(StreamError):
    """The stream URL answered with an error status or something that is not an event stream."""

    def __init__(self, message: str, *, status_code: int, content_type: str, snippet: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.content_type = content_type
        self.snippet = snippet


class StreamFailedError(StreamError):
    """The stream reported an error or ended with ``done`` reason ``error``/``canceled``."""

    def __init__(
        self, message: str, *, detail: str | None, reason: str | None, output: str
    ) -> None:
        super().__init__(message)
        self.detail = detail
        self.reason = reason
        self.output = output
        """The output received before the failure."""


def header_safe(value: str) -> bool:
    try:
        check_header_value(value, "Last-Event-ID")
    except UnsafeValueError:
        return False
    return True


def _display(url: str) -> str:
    # Never show query strings (they may carry signatures).
    return url.split("?", 1)[0][:200]


_BLANK_LINE = ("\r\n\r\n", "\n\n", "\r\r")


class _Bounded:
    """What httpx-sse reads instead of the response: its text, with at most ``limit`` bytes
    between two blank lines (one event; memory stays bounded however long a line is) and the
    ``deadline`` checked after every chunk (a server that drips an event cannot hold the
    reader past it)."""

    def __init__(
        self, response: httpx.Response, url: str, limit: int, deadline: Deadline | None
    ) -> None:
        self.response, self.url, self.limit, self.deadline = response, url, limit, deadline
        self.headers = response.headers
        self.pending = 0
        self.tail = ""

    def check(self, text: str) -> None:
        joined = self.tail + text
        cut = max(joined.rfind(mark) + len(mark) if mark in joined else -1 for mark in _BLANK_LINE)
        if cut >= 0:
            self.pending = len(joined[cut:].encode("utf-8", "replace"))
        else:
            self.pending += len(text.encode("utf-8", "replace"))
        self.tail = joined[-3:]
        if self.pending > self.limit:
            raise ResponseTooLargeError(
                f"stream {_display(self.url)}: an event is larger than the client's limit of "
                f"{self.limit} bytes (Limits.max_event_bytes); reading stopped",
                limit=self.limit,
            )
        if self.deadline is not None and self.deadline.expired():
            raise _deadline_error(self.url, self.deadline)

    def iter_text(self) -> Iterator[str]:
        for text in self.response.iter_text():
            self.check(text)
            yield text

    async def aiter_text(self) -> AsyncGenerator[str, None]:
        async for text in self.response.aiter_text():
            self.check(text)
            yield text

    # httpx-sse 0.4.0 reads lines (later versions read text and split it themselves)
    def iter_lines(self) -> Iterator[str]:
        lines = _Lines()
        for text in self.iter_text():
            yield from lines.feed(text)
        yield from lines.flush()

    async def aiter_lines(self) -> AsyncGenerator[str, None]:
        lines = _Lines()
        async for text in self.aiter_text():
            for line in lines.feed(text):
                yield line
        for line in lines.flush():
            yield line


class _Lines:
    """Text split into lines without their endings (``\r\n``, ``\n`` or ``\r``), as httpx's
    ``iter_lines`` does, across chunk boundaries."""

    def __init__(self) -> None:
        self.buffer = ""
        self.cr = False  # the last chunk ended in "\r": a "\n" may follow

    def feed(self, text: str) -> list[str]:
        if self.cr:
            text, self.cr = "\r" + text, False
        if text.endswith("\r"):
            text, self.cr = text[:-1], True
        if not text:
            return []
        parts = (self.buffer + text).splitlines(keepends=True)
        self.buffer = "" if parts[-1].endswith(("\n", "\r")) else parts.pop()
        return [part.rstrip("\r\n") for part in parts]

    def flush(self) -> list[str]:
        rest, self.buffer = self.buffer, ""
        return [rest] if rest or self.cr else []


def _deadline_error(url: str, deadline: Deadline) -> APITimeoutError:
    seconds = f" within {deadline.seconds:g}s" if deadline.seconds is not None else ""
    return APITimeoutError(f"stream {_display(url)}: no 'done' event{seconds} (the deadline)")


def _clamped(timeout: httpx.Timeout | None, deadline: Deadline | None) -> dict[str, Any]:
    if deadline is not None and deadline.at is not None:
        if deadline.expired():
            raise _deadline_error("", deadline)
        timeout = deadline.clamp(timeout if timeout is not None else httpx.Timeout(None))
    return {} if timeout is None else {"timeout": timeout}


@contextlib.contextmanager
def _connect(
    http: httpx.Client,
    url: str,
    headers: dict[str, str],
    extra: dict[str, Any],
    deadline: Deadline | None,
) -> Iterator[EventSource]:
    """``connect_sse`` whose status line and headers arrive by ``deadline``: the client's own
    connection pool gives each socket read at most the time left (:mod:`._deadline_io`)."""
    with contextlib.ExitStack() as stack:
        token = None
        if deadline is not None:
            token = current_deadline.set(deadline.earliest(current_deadline.get()))
        try:
            source = stack.enter_context(connect_sse(http, "GET", url, headers=headers, **extra))
        except httpx.TimeoutException as exc:
            if deadline is not None and deadline.expired():
                raise _deadline_error(url, deadline) from exc
            raise
        finally:
            if token is not None:
                current_deadline.reset(token)
        yield source


@contextlib.asynccontextmanager
async def _aconnect(
    http: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    extra: dict[str, Any],
    deadline: Deadline | None,
) -> AsyncGenerator[EventSource, None]:
    """Async :func:`_connect`: the connection is cancelled at ``deadline``."""
    async with contextlib.AsyncExitStack() as stack:
        left = None if deadline is None else deadline.left()
        connect = aconnect_sse(http, "GET", url, headers=headers, **extra)
        if left is None or deadline is None:
            source = await stack.enter_async_context(connect)
        else:
            try:
                async with asyncio.timeout(max(left, 0.0)):
                    source = await stack.enter_async_context(connect)
            except TimeoutError:
                raise _deadline_error(url, deadline) from None
        yield source


class _StreamState:
    """Everything both readers decide, kept free of I/O."""

    def __init__(
        self,
        url: str,
        headers: Mapping[str, str],
        max_reconnects: int,
        reconnect_delay: float,
    ) -> None:
        if origin_of(url) is None:  # relative, another scheme, user info, unparsable
            raise StreamError(
                f"stream URL {ascii(_display(url))} is not an http(s) URL with a host"
            )
        self.url = url
        self.base_headers = dict(headers)
        self.max_reconnects = max_reconnects
        self.reconnect_delay = reconnect_delay
        self.last_event_id: str | None = None
        self.failures = 0  # consecutive connections that ended without a new event
        self.server_retry: float | None = None
        self.got_event = False
        # An event is known by its id and its place among the events that share that id in one
        # connection (SSE events without an id line inherit the previous one): a server that
        # ignores Last-Event-ID and replays repeats these keys exactly.
        self.seen: set[tuple[str, int]] = set()
        self._connection_id: str | None = None
        self._connection_index = 0

    def request_headers(self) -> dict[str, str]:
        headers = {
            k: v
            for k, v in self.base_headers.items()
            if k.lower() not in {"accept", "cache-control", "last-event-id"}
        }
        # connect_sse sets Accept: text/event-stream and Cache-Control: no-store as well.
        headers["Accept"] = "text/event-stream"
        headers["Cache-Control"] = "no-store"
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        self.got_event = False
        self._connection_id = None
        self._connection_index = 0
        return headers

    @staticmethod
    def is_ok(response: httpx.Response) -> bool:
        content_type = response.headers.get("content-type", "")
        return response.is_success and "text/event-stream" in content_type.split(";")[0].lower()

    def http_error(self, response: httpx.Response, body: bytes) -> StreamHTTPError:
        content_type = response.headers.get("content-type", "")
        snippet = body[:_SNIPPET].decode("utf-8", "replace").strip()
        if response.is_success:
            what = f"not an event stream (Content-Type {content_type or 'missing'!r})"
        else:
            what = f"HTTP {response.status_code}"
        return StreamHTTPError(
            f"stream {_display(self.url)} answered {what}: {snippet!r}",
            status_code=response.status_code,
            content_type=content_type,
            snippet=snippet,
        )

    def on_sse(self, sse: ServerSentEvent) -> StreamEvent | None:
        if sse.retry is not None and sse.retry >= 0:
            self.server_retry = sse.retry / 1000
        if sse.id:
            if sse.id == self._connection_id:
                self._connection_index += 1
            else:
                self._connection_id, self._connection_index = sse.id, 0
            key = (sse.id, self._connection_index)
            if key in self.seen:
                return None  # a server that ignored Last-Event-ID replays: never yield twice
            self.seen.add(key)
            if header_safe(sse.id):  # a server value sent back as a header: only if it can be
                self.last_event_id = sse.id
        if sse.event not in EVENT_TYPES:
            return None  # keepalives, unnamed or unknown events
        if sse.id:
            # Only an event with a new id is progress: a server that sends events without ids
            # (which cannot be resumed) and closes before 'done' is given up on, not re-read
            # forever.
            self.got_event = True
            self.failures = 0
        return StreamEvent(event=sse.event, data=sse.data, id=sse.id or None)

    def on_disconnect(self, cause: BaseException | None) -> float:
        """The connection ended before ``done``: the delay before reconnecting, or raise."""
        if not self.got_event:
            self.failures += 1
        if self.failures > self.max_reconnects:
            why = f" ({type(cause).__name__})" if cause is not None else ""
            raise StreamError(
                f"stream {_display(self.url)} closed before 'done'{why}; gave up after "
                f"{self.max_reconnects} reconnects without a new event"
                + (f" (last event id {self.last_event_id})" if self.last_event_id else "")
            ) from cause
        if self.failures <= 1:
            return 0.0  # a normal idle close: reconnect at once
        base = self.server_retry if self.server_retry is not None else self.reconnect_delay
        return float(min(base * 2 ** (self.failures - 2), _MAX_DELAY))


def iter_events(
    http: httpx.Client,
    url: str,
    *,
    headers: Mapping[str, str],
    max_reconnects: int = DEFAULT_MAX_RECONNECTS,
    reconnect_delay: float = 0.5,
    timeout: httpx.Timeout | None = None,
    stop: Callable[[], bool] | None = None,
    deadline: Deadline | None = None,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
) -> Iterator[StreamEvent]:
    """GET ``url`` as an event stream and yield its ``output``/``logs``/``error``/``done`` events.

    Stops after ``done``. Raises :class:`StreamHTTPError` for an error status or a response that
    is not ``text/event-stream``, and :class:`StreamError` when the stream keeps closing before
    ``done`` (after ``max_reconnects`` consecutive reconnects without a new event).
    ``timeout``: of each connection (default: the httpx client's); ``stop``: asked before each
    connection, True ends the iteration. ``deadline``: the whole iteration ends by it
    (:class:`APITimeoutError`; every connection's timeouts are clamped to the time left, the
    deadline is checked after every chunk). An event above ``max_event_bytes`` raises
    :class:`ResponseTooLargeError`.
    """
    state = _StreamState(url, headers, max_reconnects, reconnect_delay)
    while stop is None or not stop():
        cause: BaseException | None = None
        extra = _clamped(timeout, deadline)
        try:
            with _connect(http, url, state.request_headers(), extra, deadline) as source:
                response = source.response
                if not state.is_ok(response):
                    body = b""
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) >= _SNIPPET:
                            break
                    raise state.http_error(response, body)
                bounded = _Bounded(response, url, max_event_bytes, deadline)
                for sse in EventSource(cast(httpx.Response, bounded)).iter_sse():
                    event = state.on_sse(sse)
                    if event is not None:
                        yield event
                        if event.is_done:
                            return
        except (httpx.TransportError, httpx.DecodingError) as exc:
            if deadline is not None and deadline.expired():
                raise _deadline_error(url, deadline) from exc
            cause = exc
        delay = state.on_disconnect(cause)
        if delay > 0:
            if deadline is not None and not deadline.allows_sleep(delay):
                raise _deadline_error(url, deadline)
            time.sleep(delay)


async def aiter_events(
    http: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str],
    max_reconnects: int = DEFAULT_MAX_RECONNECTS,
    reconnect_delay: float = 0.5,
    timeout: httpx.Timeout | None = None,
    deadline: Deadline | None = None,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
) -> AsyncGenerator[StreamEvent, None]:
    """Async :func:`iter_events`."""
    state = _StreamState(url, headers, max_reconnects, reconnect_delay)
    while True:
        cause: BaseException | None = None
        extra = _clamped(timeout, deadline)
        try:
            async with _aconnect(http, url, state.request_headers(), extra, deadline) as source:
                response = source.response
                if not state.is_ok(response):
                    body = b""
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) >= _SNIPPET:
                            break
                    raise state.http_error(response, body)
                bounded = _Bounded(response, url, max_event_bytes, deadline)
                async for sse in EventSource(cast(httpx.Response, bounded)).aiter_sse():
                    event = state.on_sse(sse)
                    if event is not None:
                        yield event
                        if event.is_done:
                            return
        except (httpx.TransportError, httpx.DecodingError) as exc:
            if deadline is not None and deadline.expired():
                raise _deadline_error(url, deadline) from exc
            cause = exc
        delay = state.on_disconnect(cause)
        if delay > 0:
            if deadline is not None and not deadline.allows_sleep(delay):
                raise _deadline_error(url, deadline)
            await asyncio.sleep(delay)


OnEvent = Callable[[StreamEvent], object]


def _bounded(timeout: httpx.Timeout | None, seconds: float | None) -> httpx.Timeout | None:
    """A connection timeout whose read part ends soon after the wait's limit."""
    if seconds is None or timeout is None:
        return timeout
    read = seconds + 1.0 if timeout.read is None else min(timeout.read, seconds + 1.0)
    return httpx.Timeout(connect=timeout.connect, read=read, write=timeout.write, pool=timeout.pool)


class AsyncStreamWaiter:
    """Reads a prediction's stream until its ``done`` event (what ``predictions.wait`` ends on).

    :meth:`until_done` returns the ``done`` event, or None when ``seconds`` pass first; it raises
    :class:`StreamHTTPError` (an error status, not an event stream) or :class:`StreamError`
    (the stream kept closing before ``done``), on which the caller polls instead. Every event
    read goes to ``on_event`` first.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        *,
        headers: Mapping[str, str],
        timeout: httpx.Timeout | None = None,
        max_reconnects: int = DEFAULT_MAX_RECONNECTS,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        self.http, self.url, self.headers = http, url, dict(headers)
        self.timeout, self.max_reconnects = timeout, max_reconnects
        self.max_event_bytes = max_event_bytes

    async def until_done(
        self, seconds: float | None = None, on_event: OnEvent | None = None
    ) -> StreamEvent | None:
        if seconds is None:
            return await self._read(on_event)
        if seconds <= 0:
            return None
        try:
            async with asyncio.timeout(seconds) as scope:
                return await self._read(on_event)
        except TimeoutError:
            if scope.expired():
                return None
            raise

    async def _read(self, on_event: OnEvent | None) -> StreamEvent:
        events = aiter_events(
            self.http,
            self.url,
            headers=self.headers,
            max_reconnects=self.max_reconnects,
            timeout=self.timeout,
            max_event_bytes=self.max_event_bytes,
        )
        async with contextlib.aclosing(events):
            async for event in events:
                if on_event is not None:
                    on_event(event)
                if event.is_done:
                    return event
        raise StreamError(f"stream {_display(self.url)} ended without 'done'")  # pragma: no cover


class StreamWaiter:
    """Sync :class:`AsyncStreamWaiter`.

    With a time limit the stream is read on a daemon thread and the caller waits for its events
    (``on_event`` still runs in the caller's thread), so the limit holds however quiet the stream
    is; when it passes, the thread stops at its next event or read timeout (the limit + 1 s).
    """

    def __init__(
        self,
        http: httpx.Client,
        url: str,
        *,
        headers: Mapping[str, str],
        timeout: httpx.Timeout | None = None,
        max_reconnects: int = DEFAULT_MAX_RECONNECTS,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        self.http, self.url, self.headers = http, url, dict(headers)
        self.timeout, self.max_reconnects = timeout, max_reconnects
        self.max_event_bytes = max_event_bytes

    def until_done(
        self, seconds: float | None = None, on_event: OnEvent | None = None
    ) -> StreamEvent | None:
        if seconds is None:
            for event in iter_events(
                self.http,
                self.url,
                headers=self.headers,
                max_reconnects=self.max_reconnects,
                timeout=self.timeout,
                max_event_bytes=self.max_event_bytes,
            ):
                if on_event is not None:
                    on_event(event)
                if event.is_done:
                    return event
            raise StreamError(
                f"stream {_display(self.url)} ended without 'done'"
            )  # pragma: no cover
        if seconds <= 0:
            return None
        deadline = time.monotonic() + seconds
        items: queue.SimpleQueue[StreamEvent | BaseException] = queue.SimpleQueue()
        stop = threading.Event()
        timeout = _bounded(self.timeout, seconds)

        def read() -> None:
            try:
                for event in iter_events(
                    self.http,
                    self.url,
                    headers=self.headers,
                    max_reconnects=self.max_reconnects,
                    timeout=timeout,
                    stop=stop.is_set,
                    max_event_bytes=self.max_event_bytes,
                ):
                    items.put(event)
                    if event.is_done or stop.is_set():
                        return
            except BaseException as exc:  # handed to the caller's thread
                items.put(exc)

        threading.Thread(target=read, name="replicate-typed-stream", daemon=True).start()
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                try:
                    item = items.get(timeout=left)
                except queue.Empty:
                    return None
                if isinstance(item, BaseException):
                    raise item
                if on_event is not None:
                    on_event(item)
                if item.is_done:
                    return item
        finally:
            stop.set()


class _Collector:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.done = False

    def add(self, event: StreamEvent) -> None:
        if event.event == "output":
            self.parts.append(event.data)
        elif event.event == "error":
            detail = event.error_detail
            raise StreamFailedError(
                f"prediction stream reported an error: {detail}",
                detail=detail,
                reason="error",
                output="".join(self.parts),
            )
        elif event.is_done:
            self.done = True
            reason = event.done_reason
            if reason is not None:
                raise StreamFailedError(
                    f"prediction stream ended: {reason}",
                    detail=None,
                    reason=reason,
                    output="".join(self.parts),
                )

    def result(self) -> str:
        return "".join(self.parts)


def collect_output(events: Iterable[StreamEvent]) -> str:
    """Concatenate the data of the ``output`` events.

    Raises :class:`StreamFailedError` (with the partial ``output``) on an ``error`` event or a
    ``done`` event whose reason is ``error`` or ``canceled``.
    """
    collector = _Collector()
    for event in events:
        collector.add(event)
        if collector.done:
            break
    return collector.result()


async def acollect_output(events: AsyncIterable[StreamEvent]) -> str:
    """Async :func:`collect_output`."""
    collector = _Collector()
    async for event in events:
        collector.add(event)
        if collector.done:
            break
    return collector.result()
