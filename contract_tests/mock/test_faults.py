"""Fault injection: per request (header), queued per operation, and by seeded rates."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable

import httpx
import pytest

from contract_tests.mock.conftest import SDXL_VERSION, Env
from replicate_typed.mock import FaultConfig, MockBackend, MockConfig

THROTTLED = "Request was throttled. Expected available in 1 second."


def test_429_with_retry_after(env: Env) -> None:
    response = env.client.get("/v1/predictions", headers={"X-Mock-Fault": "429"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert response.headers["ratelimit-remaining"] == "0"
    assert response.json()["detail"] == THROTTLED
    response = env.client.get("/v1/predictions", headers={"X-Mock-Fault": "429; retry-after=3"})
    assert response.headers["retry-after"] == "3"
    assert env.backend.stats()["faults"]["429"] == 2
    bare = env.client.get("/v1/predictions", headers={"X-Mock-Fault": "429; retry-after=none"})
    assert bare.status_code == 429 and "retry-after" not in bare.headers
    assert bare.json()["detail"] == THROTTLED


@pytest.mark.parametrize("status", [500, 502, 504])
def test_5xx_with_an_html_body(env: Env, status: int) -> None:
    response = env.client.get("/v1/predictions", headers={"X-Mock-Fault": str(status)})
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.lstrip().startswith("<html>")
    with pytest.raises(json.JSONDecodeError):
        response.json()  # the crash the official client had


def test_503_is_json_with_retry_after(env: Env) -> None:
    response = env.client.get("/v1/predictions", headers={"X-Mock-Fault": "503"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["status"] == 503


def test_reset_closes_without_an_answer(env: Env) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        env.client.get("/v1/predictions", headers={"X-Mock-Fault": "reset"})
    # the mock keeps serving afterwards
    assert env.client.get("/v1/predictions").status_code == 200
    assert env.backend.stats()["faults"]["reset"] == 1


def test_slow_answers(env: Env) -> None:
    if env.transport == "http":
        client = httpx.Client(base_url=env.base, headers=env.client.headers, timeout=0.2)
        with pytest.raises(httpx.ReadTimeout):
            client.get("/v1/predictions", headers={"X-Mock-Fault": "slow; seconds=3"})
        client.close()
    response = env.client.get("/v1/predictions", headers={"X-Mock-Fault": "slow; seconds=0.01"})
    assert response.status_code == 200 and "results" in response.json()
    assert env.backend.stats()["faults"]["slow"] >= 1


def test_5xx_after_create_really_creates(env: Env) -> None:
    body = {"version": SDXL_VERSION, "input": {"prompt": "counted"}}
    failed = env.client.post("/v1/predictions", json=body, headers={"X-Mock-Fault": "502; after"})
    assert failed.status_code == 502
    assert len(env.client.get("/v1/predictions").json()["results"]) == 1  # it exists
    with pytest.raises(httpx.RemoteProtocolError):
        env.client.post("/v1/predictions", json=body, headers={"X-Mock-Fault": "reset; after"})
    retried = env.client.post("/v1/predictions", json=body)
    assert retried.status_code == 201
    stats = env.backend.stats()
    assert stats["creates"] == 3
    assert stats["duplicate_creates"] == 2
    fingerprint = MockBackend.fingerprint("stability-ai/sdxl", {"prompt": "counted"})
    assert stats["creates_by_fingerprint"][fingerprint] == 3
    # a throttled create creates nothing
    env.client.post("/v1/predictions", json=body, headers={"X-Mock-Fault": "429"})
    assert env.backend.stats()["creates"] == 3


def test_queued_faults_per_operation(env: Env) -> None:
    env.backend.inject("predictions.list", "503", times=2)
    codes = [env.client.get("/v1/predictions").status_code for _ in range(3)]
    assert codes == [503, 503, 200]
    assert env.create().status_code == 201  # other operations untouched


def test_admin_endpoints(env: Env) -> None:
    env.create()
    stats = env.client.get("/_mock/stats").json()
    assert stats["creates"] == 1
    assert stats["requests"]["POST /v1/predictions"] == 1
    assert stats["operations"]["predictions.create"] == 1
    queued = env.client.post(
        "/replicate/_mock/faults", json={"operation": "predictions.get", "kind": "500", "times": 1}
    )
    assert queued.status_code == 200 and queued.json()["queued"] == {"predictions.get": ["500"]}
    pid = env.client.get("/v1/predictions").json()["results"][0]["id"]
    assert env.client.get(f"/v1/predictions/{pid}").status_code == 500
    rates = env.client.put("/_mock/faults", json={"rate_429": 1.0, "seed": 3})
    assert rates.status_code == 200 and rates.json()["rates"]["rate_429"] == 1.0
    assert env.client.get(f"/v1/predictions/{pid}").status_code == 429
    assert env.client.put("/_mock/faults", json={"rate_429": 2}).status_code == 422
    env.client.put("/_mock/faults", json={})
    assert env.client.get(f"/v1/predictions/{pid}").status_code == 200
    env.client.post("/_mock/stats/reset")
    assert env.client.get("/_mock/stats").json()["requests"] == {}
    advanced = env.client.post("/_mock/clock/advance", json={"seconds": 5})
    assert advanced.json()["now"] == env.clock.now()


def _draw(backend: MockBackend, n: int) -> list[int]:
    statuses = []
    for _ in range(n):
        result = backend.handle(
            "GET", "/v1/predictions", {"authorization": "Bearer t", "host": "h"}, {}, b""
        )
        statuses.append(-1 if result.reset else result.status)
    return statuses


def test_rates_are_seeded_and_reproducible() -> None:
    faults = FaultConfig(rate_429=0.2, rate_5xx=0.2, rate_reset=0.1, seed=42)
    first = _draw(MockBackend(MockConfig(faults=faults)), 300)
    second = _draw(MockBackend(MockConfig(faults=faults)), 300)
    assert first == second
    counts = Counter(first)
    assert counts[429] > 20 and counts[-1] > 5 and counts[200] > 80
    assert sum(counts[s] for s in (500, 502, 503)) > 20
    other = _draw(MockBackend(MockConfig(faults=FaultConfig(rate_429=0.2, seed=7))), 300)
    assert other != first


def test_rates_by_operation(make_env: Callable[..., Env]) -> None:
    faults = FaultConfig(
        rate_5xx=1.0,
        statuses_5xx=(502,),
        after_create_ratio=1.0,
        operations=frozenset({"predictions.create"}),
    )
    env = make_env(faults=faults)
    assert [env.create().status_code for _ in range(3)] == [502, 502, 502]
    page = env.client.get("/v1/predictions")
    assert page.status_code == 200 and len(page.json()["results"]) == 3  # created anyway


def test_rates_over_transport(make_env: Callable[..., Env]) -> None:
    env = make_env(faults=FaultConfig(rate_429=0.3, rate_reset=0.2, seed=5))
    outcomes = Counter()
    for _ in range(40):
        try:
            outcomes[env.client.get("/v1/predictions").status_code] += 1
        except httpx.RemoteProtocolError:
            outcomes["reset"] += 1
    assert outcomes[429] > 0 and outcomes["reset"] > 0 and outcomes[200] > 0
    faults = env.backend.stats()["faults"]
    assert faults["429"] == outcomes[429] and faults["reset"] == outcomes["reset"]


def test_fault_config_is_checked() -> None:
    with pytest.raises(ValueError):
        FaultConfig(rate_429=0.7, rate_5xx=0.7)
    with pytest.raises(ValueError):
        FaultConfig(operations=frozenset({"predictions.explode"}))
    with pytest.raises(ValueError):
        FaultConfig(statuses_5xx=(418,))


def test_rate_limits_per_minute(make_env: Callable[..., Env]) -> None:
    env = make_env(rate_limits=(2, 3))
    assert [env.create().status_code for _ in range(3)] == [201, 201, 429]
    throttled = env.create()
    assert throttled.headers["retry-after"] == "60"
    assert throttled.json()["detail"] == "Request was throttled. Expected available in 60 seconds."
    codes = [env.client.get("/v1/predictions").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]  # other requests have their own budget
    env.clock.advance(45)
    assert env.create().headers["retry-after"] == "15"
    env.clock.advance(15)
    assert env.create().status_code == 201  # a new minute
    assert env.backend.stats()["faults"]["rate_limited"] == 4
