"""The retry policy, pinned by a table: request kind x failure -> retried? attempts, delays.

Jitter is injected (0) and sleep is recorded, so delays are exact and nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime

import httpx
import pytest
import respx

from contract_tests.client.test_client_helpers import (
    PID,
    ROUTER,
    SDXL_VERSION,
    TOKEN,
    FakeTime,
    prediction,
)
from replicate_typed.client import Client, errors
from replicate_typed.client.retries import RetryPolicy, retry_after_hint, should_retry

MAX_RETRIES = 2
BACKOFF = [0.5, 1.0]  # initial 0.5 s doubling, jitter 0


def raise_(exc_type: type[httpx.TransportError]) -> Callable[[httpx.Request], httpx.Response]:
    def effect(request: httpx.Request) -> httpx.Response:
        raise exc_type("simulated", request=request)

    return effect


def status(code: int, **headers: str) -> Callable[[httpx.Request], httpx.Response]:
    def effect(request: httpx.Request) -> httpx.Response:
        return httpx.Response(code, json={"detail": f"status {code}"}, headers=headers)

    return effect


FAILURES: dict[str, Callable[[httpx.Request], httpx.Response]] = {
    "connect error": raise_(httpx.ConnectError),
    "connect timeout": raise_(httpx.ConnectTimeout),
    "pool timeout": raise_(httpx.PoolTimeout),
    "read timeout": raise_(httpx.ReadTimeout),
    "write timeout": raise_(httpx.WriteTimeout),
    "read error": raise_(httpx.ReadError),
    "server disconnected": raise_(httpx.RemoteProtocolError),
    "undecodable body": lambda request: httpx.Response(
        200, stream=httpx.ByteStream(b"not gzip"), headers={"content-encoding": "gzip"}
    ),
    "408": status(408),
    "429": status(429),
    "429 Retry-After: 3": status(429, **{"Retry-After": "3"}),
    "500": status(500),
    "502": status(502),
    "503 Retry-After: 1": status(503, **{"Retry-After": "1"}),
    "504": status(504),
    "400": status(400),
    "401": status(401),
    "404": status(404),
    "409": status(409),
    "422": status(422),
}

# (operation, failure, retried?, delays between attempts)
R = BACKOFF
TABLE: list[tuple[str, str, bool, list[float]]] = []
for op in ("get", "cancel"):
    TABLE += [
        (op, "connect error", True, R),
        (op, "connect timeout", True, R),
        (op, "pool timeout", True, R),
        (op, "read timeout", True, R),
        (op, "write timeout", True, R),
        (op, "read error", True, R),
        (op, "server disconnected", True, R),
        (op, "undecodable body", True, R),
        (op, "408", True, R),
        (op, "429", True, R),
        (op, "429 Retry-After: 3", True, [3.0, 3.0]),
        (op, "500", True, R),
        (op, "502", True, R),
        (op, "503 Retry-After: 1", True, [1.0, 1.0]),
        (op, "504", True, R),
        (op, "400", False, []),
        (op, "401", False, []),
        (op, "404", False, []),
        (op, "409", False, []),
        (op, "422", False, []),
    ]
for op in ("create", "model create", "files create"):
    TABLE += [
        (op, "connect error", True, R),  # never reached the server: nothing was created
        (op, "connect timeout", True, R),
        (op, "pool timeout", True, R),
        (op, "429", True, R),  # throttled: nothing was created
        (op, "429 Retry-After: 3", True, [3.0, 3.0]),
        (op, "read timeout", False, []),  # a paid prediction may exist: never retried
        (op, "write timeout", False, []),
        (op, "read error", False, []),
        (op, "server disconnected", False, []),
        (op, "undecodable body", False, []),  # answered: the prediction may exist
        (op, "408", False, []),
        (op, "500", False, []),
        (op, "502", False, []),
        (op, "503 Retry-After: 1", False, []),
        (op, "504", False, []),
        (op, "400", False, []),
        (op, "401", False, []),
        (op, "422", False, []),
    ]

ROUTES = {
    "get": ("GET", f"{ROUTER}/v1/predictions/{PID}"),
    "cancel": ("POST", f"{ROUTER}/v1/predictions/{PID}/cancel"),
    "create": ("POST", f"{ROUTER}/v1/predictions"),
    "model create": ("POST", f"{ROUTER}/v1/models/black-forest-labs/flux-schnell/predictions"),
    "files create": ("POST", f"{ROUTER}/v1/files"),
}


def call(client: Client, op: str) -> object:
    if op == "get":
        return client.predictions.get(PID)
    if op == "cancel":
        return client.predictions.cancel(PID)
    if op == "create":
        return client.predictions.create(version=SDXL_VERSION, input={"prompt": "x"})
    if op == "model create":
        return client.models.predictions.create("black-forest-labs/flux-schnell", input={})
    return client.files.create(b"abc", filename="a.txt")


def make_client(clock: FakeTime) -> Client:
    policy = RetryPolicy(max_retries=MAX_RETRIES, jitter=lambda: 0.0)
    return Client(
        api_token=TOKEN, base_url=ROUTER, retry_policy=policy, sleep=clock.sleep, clock=clock.clock
    )


@pytest.mark.parametrize(
    ("op", "failure", "retried", "delays"),
    TABLE,
    ids=[f"{op}|{failure}" for op, failure, _, _ in TABLE],
)
def test_retry_table(
    respx_mock: respx.MockRouter, op: str, failure: str, retried: bool, delays: list[float]
) -> None:
    method, url = ROUTES[op]
    route = respx_mock.route(method=method, url=url).mock(side_effect=FAILURES[failure])
    clock = FakeTime()
    with make_client(clock) as client, pytest.raises(errors.APIError) as info:
        call(client, op)
    attempts = MAX_RETRIES + 1 if retried else 1
    assert route.call_count == attempts
    assert clock.sleeps == pytest.approx(delays)
    error = info.value
    if failure[0].isdigit():
        assert isinstance(error, errors.APIStatusError)
        assert error.status_code == int(failure[:3])
    else:
        assert isinstance(error, errors.APIConnectionError)
        assert error.sent is (failure not in ("connect error", "connect timeout", "pool timeout"))
        assert isinstance(error, errors.APITimeoutError) is ("timeout" in failure)
    creates = op in ("create", "model create", "files create")
    unsure = (
        creates
        and not retried
        and (not failure[0].isdigit() or failure[:3] in ("408", "500", "502", "503", "504"))
    )
    assert error.prediction_may_exist is unsure
    assert ("may have been created" in str(error)) is unsure
    if op in ("get", "cancel"):
        assert error.prediction_id == PID


@pytest.mark.parametrize("op", ["get", "create"])
def test_retry_recovers(respx_mock: respx.MockRouter, op: str) -> None:
    method, url = ROUTES[op]
    ok = httpx.Response(201 if op == "create" else 200, json=prediction())
    fail = FAILURES["connect error"] if op == "create" else FAILURES["502"]
    answers = iter([fail, fail, lambda request: ok])
    route = respx_mock.route(method=method, url=url).mock(side_effect=lambda r: next(answers)(r))
    clock = FakeTime()
    with make_client(clock) as client:
        result = call(client, op)
    assert getattr(result, "id", None) == PID
    assert route.call_count == 3 and clock.sleeps == pytest.approx(BACKOFF)


def test_zero_retries(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(ROUTES["get"][1]).mock(side_effect=FAILURES["503 Retry-After: 1"])
    clock = FakeTime()
    with Client(api_token=TOKEN, base_url=ROUTER, max_retries=0, sleep=clock.sleep) as client:
        with pytest.raises(errors.InternalServerError):
            client.predictions.get(PID)
    assert route.call_count == 1 and clock.sleeps == []


# --- the pure policy ------------------------------------------------------------------------------

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "detail", "expected"),
    [
        ({"Retry-After": "2"}, None, 2.0),
        ({"retry-after": "0.5"}, None, 0.5),
        (
            {"Retry-After": format_datetime(datetime.fromtimestamp(NOW + 7, UTC), usegmt=True)},
            None,
            7.0,
        ),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None, 0.0),  # in the past
        ({"retry-after-ms": "1500"}, None, 1.5),
        ({"retry-after-ms": "250", "Retry-After": "9"}, None, 0.25),  # ms is more precise
        ({"ratelimit-reset": "4"}, None, 4.0),
        ({"ratelimit-reset": str(int(NOW + 12))}, None, 12.0),  # an epoch time
        ({}, "Request was throttled. Expected available in 1 second.", 1.0),
        ({}, "Request was throttled. Expected available in 13 seconds.", 13.0),
        ({"Retry-After": "soon"}, None, None),
        ({}, None, None),
    ],
)
def test_retry_after_hint(
    headers: dict[str, str], detail: str | None, expected: float | None
) -> None:
    hint = retry_after_hint(headers, detail=detail, now=lambda: NOW)
    assert hint == (None if expected is None else pytest.approx(expected, abs=1e-6))


def test_delay_backoff_cap_and_jitter() -> None:
    policy = RetryPolicy(max_retries=10, initial_delay=0.5, max_delay=8.0, jitter=lambda: 0.0)
    assert [policy.delay(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    jittered = RetryPolicy(jitter=lambda: 1.0)
    assert jittered.delay(1) == pytest.approx(0.75)  # at most 25 % shorter, never longer
    capped = RetryPolicy(max_retry_after=60.0)
    assert capped.delay(0, {"Retry-After": "3600"}) == 60.0
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=-1)


def test_should_retry_is_the_one_rule() -> None:
    assert should_retry("read", status=503) and should_retry("cancel", status=408)
    assert not should_retry("read", status=404)
    assert should_retry("create", status=429) and not should_retry("create", status=503)
    request = httpx.Request("POST", "https://x")
    assert should_retry("create", exc=httpx.ConnectError("x", request=request))
    assert not should_retry("create", exc=httpx.ReadTimeout("x", request=request))
    assert not should_retry("read", exc=httpx.UnsupportedProtocol("x", request=request))
    policy = RetryPolicy(max_retries=1)
    assert policy.should_retry("read", 0, status=500) and not policy.should_retry(
        "read", 1, status=500
    )
