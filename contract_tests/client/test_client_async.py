"""Async variants of the key client contract tests (same requests, same outcomes)."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest
import respx

from contract_tests.client.test_client_helpers import (
    BASES,
    OUT_URL,
    PID,
    ROUTER,
    SDXL_VERSION,
    TOKEN,
    FakeTime,
    body_of,
    prediction,
    problem,
    succeeded,
)
from replicate_typed.client import AsyncClient, errors
from replicate_typed.client.retries import RetryPolicy
from replicate_typed.models.black_forest_labs import flux_schnell
from replicate_typed.models.stability_ai import sdxl
from replicate_typed.types.api import Prediction


def make(base: str, clock: FakeTime, **kw: object) -> AsyncClient:
    return AsyncClient(api_token=TOKEN, base_url=base, sleep=clock.asleep, clock=clock.clock, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("base", BASES)
async def test_create_get_cancel(respx_mock: respx.MockRouter, base: str) -> None:
    create = respx_mock.post(f"{base}/v1/predictions").respond(201, json=prediction())
    get = respx_mock.get(f"{base}/v1/predictions/{PID}").respond(200, json=succeeded())
    respx_mock.post(f"{base}/v1/predictions/{PID}/cancel").respond(200, json=prediction("canceled"))
    async with make(base, FakeTime()) as client:
        created = await client.predictions.create(
            version=SDXL_VERSION, input={"prompt": "x"}, wait=5, cancel_after="30s"
        )
        got = await client.predictions.get(created.id)
        canceled = await client.predictions.cancel(created.id)
    request = create.calls.last.request
    assert body_of(request) == {"version": SDXL_VERSION, "input": {"prompt": "x"}}
    assert request.headers["Prefer"] == "wait=5" and request.headers["Cancel-After"] == "30s"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.extensions["timeout"]["read"] == 60.0  # max(default 60, 5 + 10)
    assert got.output == [OUT_URL] and canceled.status == "canceled"
    assert get.calls.last.request.url == f"{base}/v1/predictions/{PID}"


@pytest.mark.parametrize("base", BASES)
async def test_typed_create_routes(respx_mock: respx.MockRouter, base: str) -> None:
    by_version = respx_mock.post(f"{base}/v1/predictions").respond(201, json=prediction())
    by_path = respx_mock.post(
        f"{base}/v1/models/black-forest-labs/flux-schnell/predictions"
    ).respond(201, json=prediction())
    async with make(base, FakeTime()) as client:
        await client.create(sdxl.Input(prompt="a"))
        await client.create(flux_schnell.Input(prompt="b"))
    assert body_of(by_version.calls.last.request) == {
        "version": SDXL_VERSION,
        "input": {"prompt": "a"},
    }
    assert body_of(by_path.calls.last.request) == {"input": {"prompt": "b"}}


async def test_run_polls_then_returns_typed_output(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=prediction("starting"))
    get = respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").mock(
        side_effect=[
            httpx.Response(200, json=prediction("processing")),
            httpx.Response(200, json=prediction("something_new")),
            httpx.Response(200, json=succeeded()),
        ]
    )
    clock = FakeTime()
    async with make(ROUTER, clock) as client:
        output = await client.run(sdxl.Input(prompt="p"))
    assert output == [OUT_URL] and get.call_count == 3
    assert clock.sleeps == pytest.approx([0.25, 0.375, 0.5625])


@pytest.mark.parametrize("status", ["failed", "aborted"])
async def test_run_raises_prediction_error(respx_mock: respx.MockRouter, status: str) -> None:
    respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=prediction(status, error="bad"))
    async with make(ROUTER, FakeTime()) as client:
        with pytest.raises(errors.PredictionError) as info:
            await client.run(sdxl.Input(prompt="p"))
    assert info.value.prediction_id == PID and info.value.status == status


async def test_run_timeout_and_cancel(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=prediction("starting"))
    respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").respond(200, json=prediction("starting"))
    cancel = respx_mock.post(f"{ROUTER}/v1/predictions/{PID}/cancel").respond(
        200, json=prediction("canceled")
    )
    clock = FakeTime()
    async with make(ROUTER, clock) as client:
        with pytest.raises(errors.PredictionTimeoutError) as info:
            await client.run(sdxl.Input(prompt="p"), timeout=2.0, cancel_on_timeout=True)
    assert info.value.prediction_id == PID and info.value.last_status == "starting"
    assert cancel.call_count == 1 and sum(clock.sleeps) == pytest.approx(2.0)


async def test_list_pages(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{ROUTER}/v1/predictions", params={"cursor": "2"}).respond(
        200, json={"next": None, "results": [succeeded(id="b")]}
    )
    respx_mock.get(f"{ROUTER}/v1/predictions").respond(
        200,
        json={
            "next": "https://api.replicate.com/v1/predictions?cursor=2",
            "results": [prediction(id="a")],
        },
    )
    async with make(ROUTER, FakeTime()) as client:
        ids = [p.id async for p in client.predictions.list()]
    assert ids == ["a", "b"]


async def test_retries_and_create_safety(respx_mock: respx.MockRouter) -> None:
    get = respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "2"}),
            httpx.Response(200, json=succeeded()),
        ]
    )
    create = respx_mock.post(f"{ROUTER}/v1/predictions").mock(side_effect=httpx.ReadTimeout)
    clock = FakeTime()
    policy = RetryPolicy(max_retries=3, jitter=lambda: 0.0)
    async with make(ROUTER, clock, retry_policy=policy) as client:
        assert (await client.predictions.get(PID)).status == "succeeded"
        with pytest.raises(errors.APITimeoutError) as info:
            await client.predictions.create(version=SDXL_VERSION, input={})
    assert get.call_count == 2 and clock.sleeps == [2.0]
    assert create.call_count == 1 and info.value.prediction_may_exist
    assert "may have been created" in str(info.value)


async def test_error_mapping_and_secrecy(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="replicate_typed")
    respx_mock.post(f"{ROUTER}/v1/predictions").mock(
        return_value=problem(
            422,
            "Input validation failed",
            "- input.width: too big",
            invalid_fields=[{"field": "input.width", "description": "too big"}],
        )
    )
    client = make(ROUTER, FakeTime())
    with pytest.raises(errors.UnprocessableEntityError) as info:
        await client.predictions.create(version=SDXL_VERSION, input={"width": 99999})
    await client.close()
    assert info.value.field_errors == {"input.width": "too big"}
    assert all(TOKEN not in t for t in (repr(client), str(info.value), caplog.text))


async def test_stream(respx_mock: respx.MockRouter) -> None:
    body = prediction("processing")
    body["urls"]["web"] = ""
    pred = Prediction.model_validate(body)
    assert pred.urls.stream
    respx_mock.get(pred.urls.stream).respond(
        200,
        content=b"event: output\ndata: hi\n\nevent: done\ndata: {}\n\n",
        headers={"content-type": "text/event-stream"},
    )
    async with make(ROUTER, FakeTime()) as client:
        events = [(e.event, e.data) async for e in client.predictions.stream(pred)]
    assert events == [("output", "hi"), ("done", "{}")]


async def test_cancelled_wait_still_names_the_prediction(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=prediction("starting"))

    async def cancelled(seconds: float) -> None:
        raise asyncio.CancelledError

    async with AsyncClient(api_token=TOKEN, base_url=ROUTER, sleep=cancelled) as client:
        with pytest.raises(asyncio.CancelledError) as info:
            await client.run(sdxl.Input(prompt="p"))
    assert any(PID in note for note in getattr(info.value, "__notes__", []))
