"""Webhook delivery and scheduling work without a MockBackend: ``deliver`` takes an HTTP client,
a policy and a record (plain data), ``Webhooks`` a lifecycle and a clock. Receivers are respx
routes; the retry delays go to a recording ``sleep``."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from replicate_typed.client.webhooks import verify, verify_signature
from replicate_typed.mock import FakeClock, MockConfig
from replicate_typed.mock.delivery import DeliveryPolicy, DeliveryRecord, deliver
from replicate_typed.mock.lifecycle import Lifecycle, Prediction
from replicate_typed.mock.outputs import plan_output
from replicate_typed.mock.webhooks import Webhooks
from replicate_typed.models import registry

SECRET = "whsec_" + "c2VjcmV0LWZvci1kZWxpdmVyeS10ZXN0cw=="
URL = "https://hooks.test/hook"


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def _answers(route: respx.Route, statuses: list[int | None]) -> list[httpx.Request]:
    """Answer with ``statuses`` in turn (``None``: a connection error); returns the requests."""
    seen: list[httpx.Request] = []
    script = list(statuses)

    def effect(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = script.pop(0) if script else 200
        if status is None:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(status)

    route.side_effect = effect
    return seen


async def test_deliver_retries_with_the_same_signed_message(respx_mock: respx.MockRouter) -> None:
    requests = _answers(respx_mock.post(URL), [500, None, 503, 204])
    policy = DeliveryPolicy(SECRET, retry_delays=(0.1, 0.2, 0.4, 0.8))
    record = DeliveryRecord()
    sleeps = Sleeps()
    body = json.dumps({"id": "p1", "status": "succeeded"}).encode()
    async with httpx.AsyncClient() as client:
        ok = await deliver(client, policy, record, URL, body, "msg_p1_1", "completed", sleep=sleeps)
    assert ok is True
    assert sleeps.calls == [0.1, 0.2, 0.4]
    assert dict(record.stats) == {"attempts": 4, "retries": 3, "delivered": 1}
    assert [(e["attempt"], e["status"]) for e in record.log] == [
        (1, 500),
        (2, None),
        (3, 503),
        (4, 204),
    ]
    assert {e["msg_id"] for e in record.log} == {"msg_p1_1"}
    assert {e["event"] for e in record.log} == {"completed"}
    assert len(requests) == 4
    for request in requests:
        assert request.content == body
        assert request.headers["webhook-id"] == "msg_p1_1"
        assert request.headers["content-type"] == "application/json"
        assert verify_signature(body, request.headers, SECRET) == body
    with pytest.raises(Exception, match="(?i)signature"):
        verify_signature(body.replace(b"succeeded", b"failed"), requests[0].headers, SECRET)


async def test_deliver_gives_up_after_the_last_delay(respx_mock: respx.MockRouter) -> None:
    requests = _answers(respx_mock.post(URL), [500] * 10)
    record = DeliveryRecord()
    sleeps = Sleeps()
    async with httpx.AsyncClient() as client:
        ok = await deliver(
            client,
            DeliveryPolicy(SECRET, retry_delays=(0.5, 1.0)),
            record,
            URL,
            b"{}",
            "m",
            "output",
            sleep=sleeps,
        )
    assert ok is False
    assert len(requests) == 3 and sleeps.calls == [0.5, 1.0]
    assert dict(record.stats) == {"attempts": 3, "retries": 2, "gave_up": 1}


async def test_deliver_signs_with_the_given_clock(respx_mock: respx.MockRouter) -> None:
    requests = _answers(respx_mock.post(URL), [200])
    async with httpx.AsyncClient() as client:
        await deliver(
            client,
            DeliveryPolicy(SECRET, ()),
            DeliveryRecord(),
            URL,
            b"{}",
            "m",
            "start",
            clock=lambda: 1_700_000_000.9,
        )
    assert requests[0].headers["webhook-timestamp"] == "1700000000"
    assert verify_signature(b"{}", requests[0].headers, SECRET, now=1_700_000_000)


def test_the_secret_stays_out_of_the_policy_repr_and_the_record() -> None:
    policy = DeliveryPolicy(SECRET, (1.0,))
    assert SECRET not in repr(policy) and "c2VjcmV0" not in repr(policy)
    assert "c2VjcmV0" not in repr(DeliveryRecord())


def _prediction(clock: FakeClock, lifecycle: Lifecycle, run_s: float) -> Prediction:
    info = registry["stability-ai/sdxl"]
    inputs = {"prompt": "no backend", "width": 64, "height": 64}
    now = clock.now()
    p = Prediction(
        id="pwebhooktest",
        seq=0,
        ref=info.ref,
        info=info,
        version=info.version or "hidden",
        input=inputs,
        created_at=now,
        start_at=now,
        run_s=run_s,
        outcome="succeeded",
        deadline=None,
        prefix="/replicate",
        base="https://mock.test",
        webhook=URL,
        webhook_events=frozenset({"start", "completed"}),
        plan=plan_output(
            ref=info.ref,
            seed=1,
            inputs=inputs,
            input_schema=info.input_schema,
            output_schema=info.output_schema,
            max_side=64,
        ),
        fingerprint="f",
        log_lines=2,
    )
    p.end = lifecycle.end(p)
    return p


async def test_webhooks_schedule_a_prediction_without_a_backend(
    respx_mock: respx.MockRouter,
) -> None:
    requests = _answers(respx_mock.post(URL), [])
    clock = FakeClock()
    lifecycle = Lifecycle(MockConfig())
    record = DeliveryRecord()
    webhooks = Webhooks(lifecycle, clock, DeliveryPolicy(SECRET, (0.01,)), record, throttle=0.1)
    p = _prediction(clock, lifecycle, run_s=2.0)
    webhooks.start(p)
    for _ in range(200):  # the start event goes out at once
        if requests:
            break
        await webhooks.wait(0.01)
    assert len(requests) == 1
    clock.advance(3.0)
    assert await webhooks.wait(5.0)
    await webhooks.aclose()
    bodies = [verify(r.content, r.headers, SECRET) for r in requests]
    assert [b.status for b in bodies] == ["processing", "succeeded"]
    assert all(b.id == p.id for b in bodies)
    assert bodies[1].urls is not None and bodies[1].urls.get == (
        f"https://mock.test/replicate/v1/predictions/{p.id}"
    )
    assert dict(record.stats) == {"attempts": 2, "delivered": 2}
    assert webhooks.pending == 0
