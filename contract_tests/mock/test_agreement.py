"""Real HTTP and respx never disagree: the same script gives the same answers byte for byte
(after swapping base URLs), and the server keeps up with concurrent held creates."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import respx

from contract_tests.mock.conftest import AUTH, RESPX_BASE, SDXL_VERSION, TOKEN
from replicate_typed.mock import FakeClock, MockBackend, MockConfig, MockServer, install

SCRIPT: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/v1/predictions", {"json": {"version": SDXL_VERSION, "input": {"prompt": "a"}}}),
    (
        "POST",
        "/replicate/v1/models/black-forest-labs/flux-schnell/predictions",
        {"json": {"input": {"prompt": "b", "num_outputs": 2}}},
    ),
    ("ADVANCE", "0.12", {}),
    ("GET", "/v1/predictions", {}),
    ("POST", "/v1/predictions", {"json": {"version": SDXL_VERSION, "input": {"width": "x"}}}),
    (
        "POST",
        "/v1/predictions",
        {
            "json": {"version": SDXL_VERSION, "input": {"prompt": "c"}},
            "headers": {"Prefer": "wait=5", "Cancel-After": "10s"},
        },
    ),
    ("ADVANCE", "1", {}),
    ("GET", "/replicate/v1/predictions?created_after=2026-01-01T00:00:00Z", {}),
    ("GET", "/v1/models/stability-ai/sdxl", {}),
    ("GET", "/v1/predictions/nope", {}),
    ("GET", "/v1/predictions", {"headers": {"Authorization": "Bearer nope"}}),
    ("GET", "/v1/predictions", {"headers": {"X-Mock-Fault": "429"}}),
    ("GET", "/_mock/stats", {}),
]


def _play(client: httpx.Client, clock: FakeClock, base: str) -> list[tuple[int, str]]:
    answers = []
    for method, path, options in SCRIPT:
        if method == "ADVANCE":
            clock.advance(float(path))
            continue
        response = client.request(method, path, **options)
        text = response.text.replace(base, "{BASE}")
        answers.append((response.status_code, text))
    return answers


def _backend() -> tuple[MockBackend, FakeClock]:
    clock = FakeClock()
    config = MockConfig(api_tokens=(TOKEN,), seed=11, default_timing=(0.05, 0.5), log_interval=0.1)
    return MockBackend(config, clock=clock), clock


def test_http_and_respx_answer_the_same() -> None:
    backend, clock = _backend()
    with MockServer(backend=backend) as server:
        with httpx.Client(base_url=server.url, headers=AUTH) as client:
            over_http = _play(client, clock, server.url)
    backend, clock = _backend()
    with respx.mock(assert_all_called=False) as router:
        install(router, backend, RESPX_BASE)
        with httpx.Client(base_url=RESPX_BASE, headers=AUTH) as client:
            over_respx = _play(client, clock, RESPX_BASE)
    backend.close()
    assert len(over_http) == len(SCRIPT) - 2
    assert over_http == over_respx
    statuses = [status for status, _ in over_http]
    assert statuses == [201, 201, 200, 422, 201, 200, 200, 404, 401, 429, 200]
    assert json.loads(over_http[4][1])["status"] == "succeeded"


def test_concurrent_held_creates() -> None:
    async def main(url: str) -> list[str]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(base_url=url, headers=AUTH, limits=limits) as client:

            async def one(i: int) -> str:
                response = await client.post(
                    "/v1/predictions",
                    json={"version": SDXL_VERSION, "input": {"prompt": f"p{i}"}},
                    headers={"Prefer": "wait=30"},
                )
                status: str = response.json()["status"]
                return status

            return await asyncio.gather(*(one(i) for i in range(100)))

    with MockServer(default_timing=(0.02, 0.1)) as server:
        statuses = asyncio.run(main(server.url))
        stats = server.backend.stats()
    assert statuses == ["succeeded"] * 100
    assert stats["creates"] == 100 and stats["duplicate_creates"] == 0
