"""Response fuzzing: hypothesis feeds random, malformed, truncated and oversized bodies and
headers to the response handling of every operation (sync and async, and the SSE stream). Each
case must end in the operation's typed result or a typed error (a ``ReplicateError``), never an
unhandled exception; and an error about one prediction keeps that prediction's id.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.client.test_client_helpers import PID, SDXL_VERSION, TOKEN, FakeTime, prediction
from replicate_typed.client import AsyncClient, Client
from replicate_typed.client.errors import ReplicateError
from replicate_typed.client.streaming import DEFAULT_MAX_RECONNECTS, StreamEvent, iter_events
from replicate_typed.models.stability_ai import sdxl
from replicate_typed.types.api import (
    File,
    Model,
    ModelVersion,
    Prediction,
    WebhookSecret,
)

BASE = "https://router.example/replicate"
STREAM_URL = "https://stream.example/v1/files/abc"
FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)

# --- bodies -------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
PREDICTION_JSON = json.dumps(prediction("succeeded", output=["https://x.test/o.png"]))


@st.composite
def mutated_prediction(draw: st.DrawFn) -> bytes:
    """A real prediction with keys dropped or replaced by random JSON."""
    body: dict[str, Any] = prediction(
        draw(st.sampled_from(["starting", "processing", "succeeded", "failed", "aborted", "??"])),
        output=draw(json_values),
    )
    for key in draw(st.lists(st.sampled_from(sorted(body)), max_size=4, unique=True)):
        if draw(st.booleans()):
            del body[key]
        else:
            body[key] = draw(json_values)
    return json.dumps(body).encode()


def _oversized(kind: str) -> bytes:
    if kind == "logs":  # 3 MB of logs in an otherwise valid prediction
        return json.dumps(prediction("processing", logs="step\n" * 600_000)).encode()
    if kind == "junk":
        return b"\xff\xfe" * 1_500_000
    return b"[" * 200_000  # deeply nested, unterminated JSON


bodies = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.integers(0, len(PREDICTION_JSON)).map(lambda n: PREDICTION_JSON[:n].encode()),  # truncated
    mutated_prediction(),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.just(b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
    st.just(json.dumps({"results": [json.loads(PREDICTION_JSON)] * 3, "next": 7}).encode()),
    st.sampled_from(["logs", "junk", "nested"]).map(_oversized),
)

# --- headers ------------------------------------------------------------------------------------

header_values = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.just("Wed, 21 Oct 2015 07:28:00 GMT"),
    st.just("Fri, 31 Dec 9999 23:59:59 GMT"),
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "content-type": st.one_of(
            st.sampled_from(["application/json", "application/problem+json", "text/html"]),
            header_values,
        ),
        "content-encoding": st.sampled_from(["gzip", "deflate", "br", "identity", "x-bogus"]),
        "retry-after": header_values,
        "retry-after-ms": header_values,
        "ratelimit-reset": header_values,
        "preference-applied": header_values,
        "location": header_values,
    },
)
statuses = st.one_of(
    st.sampled_from([200, 201, 202, 204, 301, 302, 400, 401, 404, 408, 413, 422, 429, 500, 502]),
    st.integers(200, 599),
)


Answer = tuple[int, bytes, dict[str, str]]
answers = st.lists(st.tuples(statuses, bodies, headers), min_size=1, max_size=3)


class Script:
    """Plays a short script of answers (the last one repeats). The body goes out as a raw stream,
    so decoding (``content-encoding``) happens inside the client, as on the wire."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers
        self.calls = 0

    def next(self, request: httpx.Request) -> httpx.Response:
        status, content, headers = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return httpx.Response(
            status, stream=httpx.ByteStream(content), headers=headers, request=request
        )


# --- the operations -----------------------------------------------------------------------------

OPERATIONS: dict[str, tuple[Callable[[Client], Any], type | None]] = {
    "predictions.create": (
        lambda c: c.predictions.create(version=SDXL_VERSION, input={"prompt": "x"}, wait=5),
        Prediction,
    ),
    "models.predictions.create": (
        lambda c: c.models.predictions.create("black-forest-labs/flux-schnell", input={}),
        Prediction,
    ),
    "predictions.get": (lambda c: c.predictions.get(PID), Prediction),
    "predictions.cancel": (lambda c: c.predictions.cancel(PID), Prediction),
    "predictions.list": (lambda c: list(c.predictions.list()), list),
    "predictions.wait": (lambda c: c.predictions.wait(PID, timeout=30), Prediction),
    "run": (lambda c: c.run(sdxl.Input(prompt="x"), timeout=30), None),
    "models.get": (lambda c: c.models.get("stability-ai/sdxl"), Model),
    "models.versions.get": (
        lambda c: c.models.versions.get("stability-ai/sdxl", SDXL_VERSION),
        ModelVersion,
    ),
    "files.create": (lambda c: c.files.create(b"abc", filename="a.txt"), File),
    "webhooks.default_secret": (lambda c: c.webhooks.default_secret(), WebhookSecret),
}
ABOUT_THE_PREDICTION = {"predictions.get", "predictions.cancel", "predictions.wait"}


def check_outcome(name: str, call: Callable[[], Any], expected: type | None) -> None:
    try:
        result = call()
    except ReplicateError as exc:
        if name in ABOUT_THE_PREDICTION:
            assert exc.prediction_id == PID, (name, exc)
            assert PID in str(exc)
        return
    if expected is not None:
        assert isinstance(result, expected), (name, type(result))


@FUZZ
@given(name=st.sampled_from(sorted(OPERATIONS)), script=answers)
def test_any_answer_is_a_result_or_a_typed_error(name: str, script: list[Answer]) -> None:
    operation, expected = OPERATIONS[name]
    fake = FakeTime()
    answers_ = Script(script)
    with Client(
        api_token=TOKEN,
        base_url=BASE,
        max_retries=2,
        transport=httpx.MockTransport(answers_.next),
        sleep=fake.sleep,
        clock=fake.clock,
    ) as client:
        check_outcome(name, lambda: operation(client), expected)
    assert answers_.calls >= 1


ASYNC_OPERATIONS: dict[str, tuple[Callable[[AsyncClient], Any], type | None]] = {
    "predictions.create": (
        lambda c: c.predictions.create(version=SDXL_VERSION, input={"prompt": "x"}),
        Prediction,
    ),
    "predictions.get": (lambda c: c.predictions.get(PID), Prediction),
    "predictions.wait": (lambda c: c.predictions.wait(PID, timeout=30), Prediction),
    "run": (lambda c: c.run(sdxl.Input(prompt="x"), timeout=30), None),
    "files.create": (lambda c: c.files.create(b"abc", filename="a.txt"), File),
}


async def _collect_pages(client: AsyncClient) -> list[Prediction]:
    return [p async for p in client.predictions.list()]


@FUZZ
@given(name=st.sampled_from([*sorted(ASYNC_OPERATIONS), "list"]), script=answers)
def test_async_any_answer_is_a_result_or_a_typed_error(name: str, script: list[Answer]) -> None:
    fake = FakeTime()
    answers_ = Script(script)

    async def handler(request: httpx.Request) -> httpx.Response:
        return answers_.next(request)

    async def scenario() -> None:
        async with AsyncClient(
            api_token=TOKEN,
            base_url=BASE,
            max_retries=2,
            transport=httpx.MockTransport(handler),
            sleep=fake.asleep,
            clock=fake.clock,
        ) as client:
            if name == "list":
                operation: Callable[[AsyncClient], Any] = _collect_pages
                expected: type | None = list
            else:
                operation, expected = ASYNC_OPERATIONS[name]
            try:
                result = await operation(client)
            except ReplicateError as exc:
                if name in ABOUT_THE_PREDICTION:
                    assert exc.prediction_id == PID
                return
            if expected is not None:
                assert isinstance(result, expected)

    asyncio.run(scenario())


# --- the SSE stream -----------------------------------------------------------------------------

sse_lines = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "event: output",
                "event: logs",
                "event: error",
                "event: done",
                "event: ???",
                "data: {}",
                'data: {"reason": "canceled"}',
                'data: {"detail": "boom"}',
                "data: [1, 2",
                "id: 1690212292:0",
                "retry: 10",
                "retry: x",
                ": comment",
                "",
            ]
        ),
        st.text(max_size=40).map(lambda t: t.replace("\r", "")),
    ),
    max_size=30,
)


@FUZZ
@given(
    lines=sse_lines,
    status=st.sampled_from([200, 200, 200, 204, 401, 404, 500, 502]),
    content_type=st.sampled_from(["text/event-stream", "text/html", "application/json", ""]),
    encoding=st.sampled_from(["", "", "gzip"]),
)
def test_any_stream_is_events_or_a_typed_error(
    lines: list[str], status: int, content_type: str, encoding: str
) -> None:
    body = ("\n".join(lines) + "\n").encode()
    headers = {"content-type": content_type} | ({"content-encoding": encoding} if encoding else {})
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(status, stream=httpx.ByteStream(body), headers=headers)

    events: list[StreamEvent] = []
    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        try:
            for event in iter_events(http, STREAM_URL, headers={}, reconnect_delay=0):
                events.append(event)
        except ReplicateError:
            pass
    assert all(isinstance(e, StreamEvent) for e in events)
    assert not events or events[-1].is_done or calls > 1  # ended by done, or by giving up
    assert calls <= 1 + DEFAULT_MAX_RECONNECTS * max(1, len(events) + 1)
