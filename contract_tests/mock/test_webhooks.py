"""Webhooks: signed deliveries to a local receiver (a real server, or a respx route), retries."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from contract_tests.mock.conftest import Env, Receiver
from replicate_typed.client.webhooks import verify


def _wait_stat(env: Env, key: str, value: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while env.backend.webhook_stats[key] < value and time.monotonic() < deadline:
        time.sleep(0.005)


def test_signed_start_and_completed(
    make_env: Callable[..., Env], receiver: Callable[..., Receiver]
) -> None:
    env = make_env(default_timing=(0.5, 1.0))
    rec = receiver(env)
    created = env.create(
        {"prompt": "x"}, webhook=rec.url, webhook_events_filter=["start", "completed"]
    ).json()
    first = rec.wait_for(1)
    assert len(first) == 1
    env.clock.advance(5)
    calls = rec.wait_for(2)
    assert len(calls) == 2
    secret = env.backend.config.webhook_secret
    bodies = []
    for headers, body in calls:
        assert headers["content-type"] == "application/json"
        assert headers["webhook-signature"].startswith("v1,")
        prediction = verify(body, headers, secret)  # raises unless the signature is valid
        assert prediction.id == created["id"]
        bodies.append(json.loads(body))
    assert bodies[0]["status"] == "starting"
    assert bodies[1]["status"] == "succeeded" and bodies[1]["output"]
    assert calls[0][0]["webhook-id"] != calls[1][0]["webhook-id"]
    # a tampered body does not verify
    tampered = calls[1][1].replace(b"succeeded", b"failed")
    try:
        verify(tampered, calls[1][0], secret)
    except Exception as error:  # noqa: BLE001 - the verifier's own error type
        assert "signature" in str(error).lower() or "match" in str(error).lower()
    else:
        raise AssertionError("a tampered webhook verified")


def test_default_filter_sends_completion(
    make_env: Callable[..., Env], receiver: Callable[..., Receiver]
) -> None:
    env = make_env(default_timing=(0.0, 1.0))
    rec = receiver(env)
    env.create({"prompt": "x"}, webhook=rec.url)
    env.clock.advance(2)
    calls = rec.wait_for(1)
    assert json.loads(calls[0][1])["status"] == "succeeded"
    _wait_stat(env, "delivered", 1)
    assert len(rec.calls) == 1  # no start event without asking for it


def test_logs_events_while_processing(
    make_env: Callable[..., Env], receiver: Callable[..., Receiver]
) -> None:
    env = make_env(default_timing=(0.0, 4.0), log_interval=0.5)
    rec = receiver(env)
    env.create({"prompt": "x"}, webhook=rec.url, webhook_events_filter=["logs", "completed"])
    env.clock.advance(1.0)
    first = rec.wait_for(1)
    env.clock.advance(1.0)
    second = rec.wait_for(2)
    env.clock.advance(5.0)
    calls = rec.wait_for(3)
    assert len(first) >= 1 and len(second) >= 2
    statuses = [json.loads(body)["status"] for _, body in calls]
    assert statuses[0] == "processing" and statuses[-1] == "succeeded"
    logs = [json.loads(body)["logs"] for _, body in calls]
    assert len(logs[1]) > len(logs[0])


def test_cancel_sends_completed_at_once(
    make_env: Callable[..., Env], receiver: Callable[..., Receiver]
) -> None:
    env = make_env(default_timing=(0.0, 100.0))
    rec = receiver(env)
    pid = env.create({"prompt": "x"}, webhook=rec.url, webhook_events_filter=["completed"]).json()[
        "id"
    ]
    env.client.post(f"/v1/predictions/{pid}/cancel")
    calls = rec.wait_for(1)
    assert json.loads(calls[0][1])["status"] == "canceled"


def test_retried_on_non_2xx_with_the_same_id(
    make_env: Callable[..., Env], receiver: Callable[..., Receiver]
) -> None:
    env = make_env(default_timing=(0.0, 0.5))
    rec = receiver(env, script=[500, 503])
    env.create({"prompt": "x"}, webhook=rec.url, webhook_events_filter=["completed"])
    env.clock.advance(1)
    calls = rec.wait_for(3)
    assert len(calls) == 3
    assert len({headers["webhook-id"] for headers, _ in calls}) == 1
    _wait_stat(env, "delivered", 1)
    stats = env.backend.stats()["webhooks"]
    assert stats["attempts"] == 3 and stats["retries"] == 2 and stats["delivered"] == 1


def test_retries_are_bounded(
    make_env: Callable[..., Env], receiver: Callable[..., Receiver]
) -> None:
    env = make_env(default_timing=(0.0, 0.5), webhook_retry_delays=(0.01, 0.01))
    rec = receiver(env, script=[500] * 10)
    env.create({"prompt": "x"}, webhook=rec.url, webhook_events_filter=["completed"])
    env.clock.advance(1)
    _wait_stat(env, "gave_up", 1)
    assert env.backend.webhook_stats["gave_up"] == 1
    assert len(rec.calls) == 3  # first try + one per delay, then given up
