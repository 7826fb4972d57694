"""The token bucket on a simulated clock: never more than burst + rate in any window; pauses."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replicate_typed.batch import TokenBucket


class SimClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


async def grant_times(bucket: TokenBucket, clock: SimClock, n: int) -> list[float]:
    times = []
    for _ in range(n):
        await bucket.acquire()
        times.append(clock.now)
    return times


@settings(max_examples=40, deadline=None)
@given(
    per_minute=st.floats(min_value=1, max_value=3000),
    burst=st.integers(min_value=1, max_value=50),
    n=st.integers(min_value=1, max_value=300),
)
def test_never_more_than_burst_plus_rate_in_any_minute(
    per_minute: float, burst: int, n: int
) -> None:
    clock = SimClock()
    bucket = TokenBucket(per_minute, burst, clock=clock, sleep=clock.sleep)
    times = asyncio.run(grant_times(bucket, clock, n))
    assert len(times) == n and times == sorted(times)
    for i, start in enumerate(times):
        in_window = sum(1 for t in times[i:] if t < start + 60.0)
        assert in_window <= burst + per_minute + 1e-9


def test_default_create_limit_stays_under_600_a_minute() -> None:
    clock = SimClock()
    bucket = TokenBucket(540.0, 10, clock=clock, sleep=clock.sleep)
    times = asyncio.run(grant_times(bucket, clock, 2000))
    worst = max(sum(1 for t in times[i:] if t < s + 60.0) for i, s in enumerate(times))
    assert worst < 600
    assert worst >= 540  # and it does not crawl


def test_pause_holds_every_acquirer_then_resumes_without_a_burst() -> None:
    clock = SimClock()
    bucket = TokenBucket(60.0, 5, clock=clock, sleep=clock.sleep)

    async def scenario() -> list[float]:
        await grant_times(bucket, clock, 5)  # burst used up at t=1000
        bucket.pause(30.0)
        return await grant_times(bucket, clock, 3)

    after = asyncio.run(scenario())
    assert after[0] >= 1030.0
    assert after[1] - after[0] == pytest.approx(1.0) and after[2] - after[1] == pytest.approx(1.0)


def test_no_limit_and_bad_arguments() -> None:
    clock = SimClock()
    bucket = TokenBucket(None, clock=clock, sleep=clock.sleep)
    assert asyncio.run(grant_times(bucket, clock, 100)) == [1000.0] * 100
    with pytest.raises(ValueError):
        TokenBucket(0)
    with pytest.raises(ValueError):
        TokenBucket(10, burst=0)
