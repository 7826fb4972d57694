"""Waiting: any status path (starting → processing → terminal, with aborted and statuses the
client has never seen) ends in the right outcome after the expected number of GETs; the poll
schedule starts fast, backs off, follows progress bars; timeouts carry the id."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.client.test_client_helpers import (
    OUT_URL,
    PID,
    ROUTER,
    TOKEN,
    FakeTime,
    prediction,
)
from replicate_typed.client import AsyncClient, Client, errors
from replicate_typed.client.polling import (
    Poller,
    PollPolicy,
    is_terminal,
    parse_progress,
    prefer_header,
    validate_wait,
    wait_read_timeout,
)
from replicate_typed.models.stability_ai import sdxl
from replicate_typed.types.api import Prediction

TERMINAL = ["succeeded", "failed", "canceled", "aborted"]
unknown = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).filter(
    lambda s: s not in TERMINAL and s not in ("starting", "processing")
)


@st.composite
def status_paths(draw: st.DrawFn) -> list[str]:
    """starting* processing* (unknown statuses anywhere before the end) terminal."""
    starting = ["starting"] * draw(st.integers(0, 4))
    processing = ["processing"] * draw(st.integers(0, 6))
    path = starting + processing
    for _ in range(draw(st.integers(0, 3))):
        path.insert(draw(st.integers(0, len(path))), draw(unknown))
    return [*path, draw(st.sampled_from(TERMINAL))]


def answer(status: str) -> dict[str, object]:
    if status == "succeeded":
        return prediction(status, output=[OUT_URL])
    return prediction(status, error="boom" if status == "failed" else None)


def check_outcome(path: list[str], gets: int, outcome: object) -> None:
    assert gets == len(path) - 1  # one GET per status after the create's answer, none after the end
    final = path[-1]
    if final == "succeeded":
        assert outcome == [OUT_URL]
    else:
        assert isinstance(outcome, errors.PredictionError)
        assert outcome.status == final and outcome.prediction_id == PID


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=status_paths())
def test_any_status_path_sync(path: list[str]) -> None:
    clock = FakeTime()
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{ROUTER}/v1/predictions").respond(201, json=answer(path[0]))
        get = router.get(f"{ROUTER}/v1/predictions/{PID}")
        get.side_effect = [httpx.Response(200, json=answer(s)) for s in path[1:]]
        with Client(
            api_token=TOKEN, base_url=ROUTER, sleep=clock.sleep, clock=clock.clock
        ) as client:
            try:
                outcome: object = client.run(sdxl.Input(prompt="p"))
            except errors.PredictionError as exc:
                outcome = exc
        check_outcome(path, get.call_count, outcome)
    assert len(clock.sleeps) == len(path) - 1
    assert all(0 < s <= 3.0 for s in clock.sleeps)
    if clock.sleeps:
        assert clock.sleeps[0] <= 0.25


@settings(max_examples=20, deadline=None)
@given(path=status_paths())
def test_any_status_path_async(path: list[str]) -> None:
    clock = FakeTime()

    async def scenario() -> tuple[int, object]:
        with respx.mock(assert_all_called=False) as router:
            router.post(f"{ROUTER}/v1/predictions").respond(201, json=answer(path[0]))
            get = router.get(f"{ROUTER}/v1/predictions/{PID}")
            get.side_effect = [httpx.Response(200, json=answer(s)) for s in path[1:]]
            async with AsyncClient(
                api_token=TOKEN, base_url=ROUTER, sleep=clock.asleep, clock=clock.clock
            ) as client:
                try:
                    outcome: object = await client.run(sdxl.Input(prompt="p"))
                except errors.PredictionError as exc:
                    outcome = exc
            return get.call_count, outcome

    gets, outcome = asyncio.run(scenario())
    check_outcome(path, gets, outcome)


def test_wait_returns_failed_prediction_without_raising(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").mock(
        side_effect=[
            httpx.Response(200, json=answer("processing")),
            httpx.Response(200, json=answer("failed")),
        ]
    )
    clock = FakeTime()
    with Client(api_token=TOKEN, base_url=ROUTER, sleep=clock.sleep, clock=clock.clock) as client:
        final = client.predictions.wait(PID)
    assert final.status == "failed" and final.error == "boom"
    assert len(clock.sleeps) == 1


def test_wait_timeout_on_a_status_never_seen(respx_mock: respx.MockRouter) -> None:
    get = respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").respond(200, json=answer("warming_up"))
    clock = FakeTime()
    with Client(api_token=TOKEN, base_url=ROUTER, sleep=clock.sleep, clock=clock.clock) as client:
        with pytest.raises(errors.PredictionTimeoutError) as info:
            client.predictions.wait(PID, timeout=10.0)
    assert info.value.prediction_id == PID and info.value.last_status == "warming_up"
    assert sum(clock.sleeps) == pytest.approx(10.0)
    # 0.25, 0.375, 0.5625, 0.84, 1.27, 1.90, 2.85 (sum 8.05), then the 1.95 s left: 9 GETs
    assert clock.sleeps[:3] == pytest.approx([0.25, 0.375, 0.5625])
    assert get.call_count == 9


# --- the schedule ---------------------------------------------------------------------------------


def test_backoff_intervals() -> None:
    poller = Poller(PollPolicy(initial=0.2, factor=1.5, max_interval=3.0))
    delays = [poller.next_delay("processing") for _ in range(10)]
    assert delays[:4] == pytest.approx([0.2, 0.3, 0.45, 0.675])
    assert delays[-1] == 3.0 and delays == sorted(delays)


TQDM = " 10%|█         | 2/20 [00:00<00:01, 10.00it/s]"
SEED_LOGS = (
    "Using seed: 62182\nrunning quantized prediction\nUsing seed: 62182\n 0%| | 0/4 [00:00<?, ?it/s]\n"
    " 75%|███████▌ | 3/4 [00:00<00:00, 15.38it/s]\n100%|██████████| 4/4 [00:00<00:00, 13.43it/s]\n"
    "Total safe images: 1 out of 1\n"
)


def test_parse_progress() -> None:
    assert parse_progress(TQDM) == (2, 20, 10.0)
    assert parse_progress(SEED_LOGS) == (4, 4, 13.43)
    assert parse_progress(" 20%|██ | 2/10 [00:10<00:40,  5.00s/it]") == (2, 10, 0.2)
    assert parse_progress("no bar here") is None and parse_progress(None) is None
    assert parse_progress(" 0%| | 0/4 [00:00<?, ?it/s]") is None  # no rate yet


def test_progress_bar_sets_the_next_poll() -> None:
    poller = Poller(PollPolicy(initial=0.2, factor=1.5, max_interval=3.0))
    # 18 steps at 10 it/s, plus the 10 % margin (smoothed rate, outputs written after the bar)
    assert poller.next_delay("processing", TQDM) == pytest.approx(1.98)
    slow = "2/100 [00:01<00:49, 2.00it/s]"
    assert poller.next_delay("processing", slow) == 3.0  # capped at max_interval
    # bar complete (post-processing): back to fast polling
    assert poller.next_delay("processing", SEED_LOGS) == pytest.approx(0.2)
    # ... or, knowing how long we waited, every 5 % of it (between initial/4 and initial)
    assert poller.next_delay("processing", SEED_LOGS, elapsed=2.0) == pytest.approx(0.1)
    assert poller.next_delay("processing", SEED_LOGS, elapsed=0.1) == pytest.approx(0.05)
    assert poller.next_delay("processing", SEED_LOGS, elapsed=60.0) == pytest.approx(0.2)
    no_progress = Poller(PollPolicy(use_progress=False))
    assert no_progress.next_delay("processing", TQDM) == pytest.approx(0.25)


def test_wait_follows_progress(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").mock(
        side_effect=[
            httpx.Response(200, json=prediction("processing", logs=TQDM)),
            httpx.Response(200, json=prediction("succeeded", output=[OUT_URL])),
        ]
    )
    clock = FakeTime()
    start = prediction("processing", logs=" 5%|▌ | 1/20 [00:00<00:01, 10.00it/s]")
    with Client(api_token=TOKEN, base_url=ROUTER, sleep=clock.sleep, clock=clock.clock) as client:
        created = Prediction.model_validate({**start, "urls": {**start["urls"], "web": ""}})  # type: ignore[dict-item]
        final = client.predictions.wait(created)
    assert final.status == "succeeded"
    assert clock.sleeps == pytest.approx([1.9 * 1.1, 1.8 * 1.1])


@pytest.mark.parametrize(
    ("wait", "header", "read"),
    [
        (None, None, None),
        (False, None, None),
        (True, "wait", 70.0),
        (1, "wait=1", 11.0),
        (60, "wait=60", 70.0),
    ],
)
def test_prefer_wait_values(
    wait: bool | int | None, header: str | None, read: float | None
) -> None:
    assert prefer_header(wait) == header and wait_read_timeout(wait) == read


@pytest.mark.parametrize("bad", [0, 61, -1, 2.5, "10"])
def test_bad_wait_values(bad: object) -> None:
    with pytest.raises(errors.InputError, match=f"wait: {bad!r}"):
        validate_wait(bad)  # type: ignore[arg-type]


def test_poll_policy_validation_and_terminals() -> None:
    with pytest.raises(errors.InputError, match="initial"):
        PollPolicy(initial=0)
    with pytest.raises(errors.InputError, match="factor"):
        PollPolicy(factor=0.5)
    with pytest.raises(errors.InputError, match="max_interval"):
        PollPolicy(initial=1.0, max_interval=0.5)
    assert all(is_terminal(s) for s in TERMINAL)
    assert not any(is_terminal(s) for s in ("starting", "processing", "queued", None))
