"""Every wait ends and every answer is bounded, against a server that misbehaves on purpose
(:mod:`contract_tests.client._fault_server`): drips, hangs, huge answers, 429 storms with long or
absurd ``Retry-After``, a status the client has never seen, endless or dripping stream events.

Assertions are bounds (seconds: the deadline plus a generous margin for a loaded machine;
bytes read), never timings of normal work.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_tests.client._fault_server import _BOMB, PID, FaultServer, fault_server
from replicate_typed.client import AsyncClient, Client, errors
from replicate_typed.client.limits import DEFAULT_WAIT_TIMEOUT, Limits, deadline
from replicate_typed.client.polling import PollPolicy
from replicate_typed.client.retries import RetryPolicy, on_rate_limit_pause, retry_after_hint
from replicate_typed.types.api import Prediction

TOKEN = "r8_LIMITS_token_0123456789abcdef"
MARGIN = 3.0  # seconds on top of a deadline: a bound, not a timing


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with fault_server() as running:
        yield running


def client(server: FaultServer, mode: str, **kw: Any) -> Client:
    return Client(api_token=TOKEN, base_url=f"{server.url}/{mode}", **kw)


def aclient(server: FaultServer, mode: str, **kw: Any) -> AsyncClient:
    return AsyncClient(api_token=TOKEN, base_url=f"{server.url}/{mode}", **kw)


class Elapsed:
    def __enter__(self) -> Elapsed:
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.monotonic() - self.start


# --- deadlines ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["drip", "hang", "headerdrip"])
def test_wait_timeout_holds_against_a_drip_or_a_hang(server: FaultServer, mode: str) -> None:
    with client(server, mode) as c, Elapsed() as took:
        with pytest.raises(errors.PredictionTimeoutError) as caught:
            c.predictions.wait(PID, timeout=0.5)
    assert took.seconds < 0.5 + MARGIN
    assert caught.value.prediction_id == PID
    assert f"waiting for prediction {PID} to finish" in str(caught.value)


@pytest.mark.parametrize("mode", ["drip", "hang", "headerdrip"])
async def test_async_wait_timeout_holds_against_a_drip_or_a_hang(
    server: FaultServer, mode: str
) -> None:
    async with aclient(server, mode) as c:
        with Elapsed() as took, pytest.raises(errors.PredictionTimeoutError) as caught:
            await c.predictions.wait(PID, timeout=0.5)
    assert took.seconds < 0.5 + MARGIN
    assert caught.value.prediction_id == PID


@pytest.mark.parametrize("mode", ["drip", "hang", "headerdrip"])
def test_a_single_call_has_its_own_deadline(server: FaultServer, mode: str) -> None:
    with client(server, mode, limits=Limits(request_deadline=0.5)) as c, Elapsed() as took:
        with pytest.raises(errors.APITimeoutError, match="deadline") as caught:
            c.predictions.get(PID)
    assert took.seconds < 0.5 + MARGIN
    assert caught.value.prediction_id == PID


def test_a_deadline_block_bounds_every_call(server: FaultServer) -> None:
    with client(server, "drip") as c, Elapsed() as took, deadline(0.5):
        with pytest.raises(errors.APITimeoutError):
            c.predictions.get(PID)
    assert took.seconds < 1 + MARGIN


@pytest.mark.slow  # 5 s: the create's grace
def test_run_timeout_bounds_the_create(server: FaultServer) -> None:
    from replicate_typed.models.stability_ai import sdxl

    with client(server, "hang") as c, Elapsed() as took:
        with pytest.raises(errors.APITimeoutError) as caught:
            c.run(sdxl.Input(prompt="x"), timeout=1)
    assert took.seconds < 5 + MARGIN  # the create is given at least 5 s (CREATE_GRACE)
    assert caught.value.prediction_may_exist  # a create cut off may have been paid for


@pytest.mark.parametrize("retry_after", ["30", "10000", "inf", "nan", "-5", "1e400",
                                         "Wed, 21 Oct 2099 07:28:00 GMT", "soon"])  # fmt: skip
def test_a_429_storm_never_sleeps_past_the_deadline(server: FaultServer, retry_after: str) -> None:
    server.retry_after["storm"] = retry_after
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(min(seconds, 0.05))  # stand-in: record the request, do not wait it out

    policy = RetryPolicy(max_retries=100)
    with client(server, "storm", retry_policy=policy, sleep=sleep) as c, Elapsed() as took:
        with pytest.raises(errors.PredictionTimeoutError) as caught:
            c.predictions.wait(PID, timeout=1)
    assert took.seconds < 1 + MARGIN
    assert caught.value.prediction_id == PID
    assert all(0 <= s <= policy.max_retry_after and math.isfinite(s) for s in slept), slept
    assert sum(slept) <= 1.0 + 1e-6  # never asked to sleep past the deadline


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
async def test_a_create_stopped_between_429_retries_says_nothing_was_created(
    server: FaultServer, sync: bool
) -> None:
    """A create is retried only when it cannot have created anything (a 429 here): when the
    deadline leaves no room for the next retry, the error says no prediction was created (not
    "may have been created") and ``sent`` is False, so a caller (the batch runner) does not
    go looking for a paid prediction that cannot exist."""
    from replicate_typed.models.stability_ai import sdxl

    server.retry_after["storm"] = "3600"  # capped at 60 s: more than the create's 5 s
    with Elapsed() as took, pytest.raises(errors.APITimeoutError) as caught:
        if sync:
            with client(server, "storm") as c:
                c.run(sdxl.Input(prompt="x"), timeout=1)
        else:
            async with aclient(server, "storm") as ac:
                await ac.run(sdxl.Input(prompt="x"), timeout=1)
    assert took.seconds < 1 + MARGIN  # fails at once: the 60 s pause is not slept
    error = caught.value
    assert "HTTP 429; the next retry would be in 60.0s" in str(error)
    assert "no prediction was created" in str(error) and "may have been" not in str(error)
    assert not error.prediction_may_exist and error.sent is False
    assert error.deadline is not None


@pytest.mark.slow
def test_a_storm_with_a_real_sleep_ends_at_the_deadline(server: FaultServer) -> None:
    server.retry_after["storm"] = "1"
    with client(server, "storm") as c, Elapsed() as took:
        with pytest.raises(errors.PredictionTimeoutError, match="429"):
            c.predictions.wait(PID, timeout=2.5)
    assert took.seconds < 2.5 + MARGIN


class FakeClock:
    """Time moves only when the client sleeps (requests are instant for it)."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert math.isfinite(seconds) and seconds >= 0
        self.now += seconds


def test_an_unknown_status_ends_at_the_default_deadline(server: FaultServer) -> None:
    fake = FakeClock()
    with client(server, "unknown", sleep=fake.sleep, clock=fake.clock) as c:
        with pytest.raises(errors.PredictionTimeoutError, match="pondering") as caught:
            # no timeout given: Limits.wait_timeout (long polls: a few GETs, not 700)
            c.predictions.wait(PID, poll_policy=PollPolicy(initial=60, max_interval=300))
    assert caught.value.last_status == "pondering"
    assert DEFAULT_WAIT_TIMEOUT <= fake.now <= DEFAULT_WAIT_TIMEOUT + 1
    assert DEFAULT_WAIT_TIMEOUT == 35 * 60  # 30 minutes upstream + 5 minutes' margin


# --- bounded answers ------------------------------------------------------------------------


def test_a_huge_content_length_is_refused_before_reading(server: FaultServer) -> None:
    with client(server, "huge") as c, Elapsed() as took:
        with pytest.raises(errors.ResponseTooLargeError, match="Content-Length") as caught:
            c.predictions.get(PID)
    assert took.seconds < MARGIN
    assert caught.value.prediction_id == PID and caught.value.limit == 16 * 1024 * 1024


@pytest.mark.parametrize("use_async", [False, True])
async def test_a_flood_stops_at_the_limit(server: FaultServer, use_async: bool) -> None:
    limit = 1024 * 1024
    server.sent["flood"] = 0
    limits = Limits(max_response_bytes=limit)
    with pytest.raises(errors.ResponseTooLargeError) as caught:
        if use_async:
            async with aclient(server, "flood", limits=limits) as ac:
                await ac.predictions.get(PID)
        else:
            with client(server, "flood", limits=limits) as c:
                c.predictions.get(PID)
    assert caught.value.limit == limit
    time.sleep(0.2)
    # what the server got out before the client stopped: the limit plus socket buffers
    assert server.sent["flood"] < 16 * limit


def test_a_compressed_answer_cannot_expand_past_the_limit(server: FaultServer) -> None:
    import tracemalloc

    limit = 1024 * 1024
    _BOMB()  # made (by the server, in this process) before memory is traced
    tracemalloc.start()
    try:
        with client(server, "gzipbomb", limits=Limits(max_response_bytes=limit)) as c:
            with pytest.raises(errors.ResponseTooLargeError):
                c.predictions.get(PID)  # 100 KiB on the wire, 100 MiB decoded
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * limit  # decoded piece by piece: memory near the limit, not 100 MiB


# --- streams --------------------------------------------------------------------------------


def stream_prediction(server: FaultServer, mode: str) -> Prediction:
    return Prediction.model_validate(server.prediction(mode))


def test_an_endless_stream_event_is_refused_at_the_limit(server: FaultServer) -> None:
    limit = 256 * 1024
    server.sent["ssehuge"] = 0
    with client(server, "ssehuge", limits=Limits(max_event_bytes=limit)) as c:
        with pytest.raises(errors.ResponseTooLargeError, match="event") as caught:
            list(c.predictions.stream(stream_prediction(server, "ssehuge")))
    assert caught.value.prediction_id == PID
    time.sleep(0.2)
    assert server.sent["ssehuge"] < 64 * limit


async def test_async_endless_stream_event_is_refused(server: FaultServer) -> None:
    async with aclient(server, "ssehuge", limits=Limits(max_event_bytes=256 * 1024)) as c:
        with pytest.raises(errors.ResponseTooLargeError):
            async for _ in c.predictions.stream(stream_prediction(server, "ssehuge")):
                pass


@pytest.mark.parametrize("mode", ["ssedrip", "sseheaders"])
def test_a_dripping_stream_ends_at_its_timeout(server: FaultServer, mode: str) -> None:
    with client(server, mode) as c, Elapsed() as took:
        with pytest.raises(errors.APITimeoutError, match="no 'done'") as caught:
            list(c.predictions.stream(stream_prediction(server, mode), timeout=0.5))
    assert took.seconds < 0.5 + MARGIN
    assert caught.value.prediction_id == PID


@pytest.mark.parametrize("mode", ["ssedrip", "sseheaders"])
async def test_async_dripping_stream_ends_at_its_timeout(server: FaultServer, mode: str) -> None:
    async with aclient(server, mode) as c:
        with Elapsed() as took, pytest.raises(errors.APITimeoutError, match="no 'done'"):
            async for _ in c.predictions.stream(stream_prediction(server, mode), timeout=0.5):
                pass
    assert took.seconds < 0.5 + MARGIN


@pytest.mark.parametrize("mode", ["ssedrip", "ssehuge"])
def test_waits_on_a_bad_stream_end_at_their_timeout(server: FaultServer, mode: str) -> None:
    with client(server, mode, limits=Limits(max_event_bytes=256 * 1024)) as c, Elapsed() as took:
        with pytest.raises(errors.PredictionTimeoutError):
            c.predictions.wait(stream_prediction(server, mode), timeout=0.5)
        assert c.predictions.stream_until_done(PID, timeout=0.5) is False
    assert took.seconds < 2 + 2 * MARGIN


# --- the rate-limit rule --------------------------------------------------------------------

header_values = st.one_of(
    st.text(max_size=40),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT")),
    st.sampled_from(["inf", "-inf", "nan", "1e400", "-0", "Infinity", "NaN", ""]),
)
names = st.sampled_from(["Retry-After", "retry-after-ms", "ratelimit-reset", "x-other"])
bodies = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from(["retry_after", "detail"]),
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True),
            st.integers(),
            header_values,
            st.builds(lambda n: f"Expected available in {n} seconds", st.integers(0, 10**12)),
        ),
    ).map(lambda d: __import__("json").dumps(d).encode()),
)


@settings(max_examples=150, deadline=None)
@given(headers=st.dictionaries(names, header_values, max_size=3), body=bodies,
       attempt=st.integers(0, 20), cap=st.floats(0.0, 600.0))  # fmt: skip
def test_any_rate_limit_hint_gives_a_finite_delay_within_the_cap(
    headers: dict[str, str], body: bytes | None, attempt: int, cap: float
) -> None:
    policy = RetryPolicy(max_retry_after=cap, max_delay=cap)
    delay = policy.delay(attempt, headers, body=body)
    assert math.isfinite(delay) and 0.0 <= delay <= cap
    hint = retry_after_hint(headers, body=body)
    assert hint is None or (hint >= 0 and not math.isnan(hint))
    assert 0.0 <= policy.pause_for(hint, "test") <= cap


@pytest.mark.parametrize(
    ("headers", "body", "expected"),
    [
        ({}, b'{"detail":"Request was throttled.","retry_after":7}', 7.0),
        ({}, b'{"detail":"Request was throttled. Expected available in 3 seconds."}', 3.0),
        ({"Retry-After": "nan"}, b'{"retry_after": 4}', 4.0),  # nan is no hint
        ({"Retry-After": "inf"}, None, math.inf),  # capped by the policy, below
        ({"Retry-After": "-5", "retry-after-ms": "-1"}, b'{"retry_after": -3}', "none"),
        ({"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}, None, None),  # checked below
    ],
)
def test_hint_sources(headers: dict[str, str], body: bytes | None, expected: Any) -> None:
    hint = retry_after_hint(headers, body=body)
    if expected == "none":
        assert hint is None  # negative: no hint, the policy backs off as without one
    elif expected is None:
        assert hint is not None and hint > 10**8  # years away: the policy caps it
    else:
        assert hint == expected
    assert RetryPolicy(jitter=lambda: 1.0).rate_limit_delay(hint) <= 60.0


def test_jitter_never_comes_back_early_and_never_passes_the_cap() -> None:
    policy = RetryPolicy(jitter=lambda: 1.0, max_retry_after=60.0)
    assert policy.rate_limit_delay(10.0) == pytest.approx(11.0)
    assert policy.rate_limit_delay(58.0) == 60.0
    assert RetryPolicy(jitter=lambda: 0.0).rate_limit_delay(10.0) == 10.0


def test_a_long_pause_is_announced(server: FaultServer) -> None:
    server.retry_after["storm"] = "3600"
    seen: list[str] = []
    with on_rate_limit_pause(lambda p: seen.append(p.describe())):
        with client(server, "storm", sleep=lambda s: None, max_retries=1) as c:
            with pytest.raises(errors.RateLimitError) as caught:
                c.predictions.get(PID)
    assert seen == ["rate limited on predictions.get: pausing 60s (the server asked for 3600s)"]
    assert caught.value.retry_after == 3600.0
