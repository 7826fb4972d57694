"""The mock's router profile (``MockConfig(profile="router")``, ``--profile router``): only what
the router's documents promise, answered the way they show it (over real HTTP and respx)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests.mock.conftest import SDXL, SDXL_VERSION, Env
from replicate_typed.mock import FakeClock, MockBackend, MockConfig
from replicate_typed.mock.profiles import ROUTER_GET_FIELDS, ROUTER_ROUTES, profile_named
from replicate_typed.mock.routes import ROUTES
from replicate_typed.types.operations import OPERATIONS

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "apifox"
FLUX_PATH = "/v1/models/black-forest-labs/flux-schnell/predictions"
FLUX_INPUT = {"prompt": "a fox", "num_inference_steps": 1, "megapixels": "0.25"}


def seed_predictions(name: str) -> list[dict[str, Any]]:
    text = next(SEEDS.glob(f"{name}_*.txt")).read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    found = []
    for match in re.finditer(r"^\{", text, re.M):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict) and "id" in value and "status" in value:
            found.append(value)
    return found


SEED_001_CREATE = seed_predictions("001")[0]
SEED_003_CREATE, SEED_003_GET = seed_predictions("003")


@pytest.fixture
def router_env(make_env: Callable[..., Env]) -> Env:
    return make_env(profile="router")


def test_the_get_fields_are_seed_003s() -> None:
    assert tuple(SEED_003_GET) == ROUTER_GET_FIELDS


def test_create_answers_only_id_and_status_like_seed_001(router_env: Env) -> None:
    by_version = router_env.create()
    by_path = router_env.client.post(FLUX_PATH, json={"input": FLUX_INPUT})
    for response in (by_version, by_path):
        assert response.status_code == 201, response.text
        assert set(response.json()) == set(SEED_001_CREATE) == {"id", "status"}
        assert response.json()["status"] == "starting"
    assert by_version.json()["id"] != by_path.json()["id"]


def test_get_answers_seed_003s_fields_with_upstream_urls(router_env: Env) -> None:
    pid = router_env.client.post(FLUX_PATH, json={"input": FLUX_INPUT}).json()["id"]
    starting = router_env.get(pid)
    # as seed 003's create example: the times and metrics only once they have a value
    assert set(starting) == set(SEED_003_CREATE)
    router_env.clock.advance(60)
    done = router_env.get(pid)
    assert list(done) == list(SEED_003_GET)  # the same fields, in the same order
    assert done["status"] == "succeeded" and done["output"]
    assert re.fullmatch(r"dp-[0-9a-f]{32}", done["version"])  # model path: a deployment id
    assert done["urls"]["get"] == f"https://api.replicate.com/v1/predictions/{pid}"
    assert done["urls"]["cancel"] == f"https://api.replicate.com/v1/predictions/{pid}/cancel"
    assert done["urls"]["stream"].startswith("https://stream.replicate.com/v1/files/bcwr-")
    assert "web" not in done["urls"]


def test_a_version_call_keeps_its_version(router_env: Env) -> None:
    pid = router_env.create().json()["id"]
    assert router_env.get(pid)["version"] == SDXL.version


def test_output_files_are_served(router_env: Env) -> None:
    pid = router_env.create({"prompt": "a cat", "width": 64, "height": 64}).json()["id"]
    router_env.clock.advance(60)
    [url] = router_env.get(pid)["output"]
    response = router_env.client.get(url)
    assert response.status_code == 200 and response.content[:4] == b"\x89PNG"


def test_prefer_wait_is_ignored(router_env: Env) -> None:
    response = router_env.create(headers={"Prefer": "wait=60"})
    assert response.status_code == 201
    assert "preference-applied" not in response.headers
    assert response.json()["status"] == "starting"  # answered at once (the clock never moved)
    # the replicate profile holds the same request
    replicate = MockBackend(MockConfig(), clock=FakeClock())
    held = replicate.handle(
        "POST",
        "/v1/predictions",
        {"Authorization": "Bearer t", "Prefer": "wait=60"},
        {},
        json.dumps({"version": SDXL_VERSION, "input": {"prompt": "x"}}).encode(),
    )
    assert held.headers.get("preference-applied") == "wait=60"


OTHER_REQUESTS = [
    ("GET", "/v1/predictions"),
    ("POST", "/v1/predictions/{pid}/cancel"),
    ("GET", "/v1/predictions/{pid}/stream"),
    ("GET", "/v1/models/stability-ai/sdxl"),
    ("GET", f"/v1/models/stability-ai/sdxl/versions/{SDXL.version}"),
    ("POST", "/v1/files"),
    ("GET", "/v1/files"),
    ("GET", "/v1/files/abc"),
    ("DELETE", "/v1/files/abc"),
    ("GET", "/v1/models/stability-ai/sdxl/versions"),
    ("GET", "/v1/webhooks/default/secret"),
    ("GET", "/p/{pid}"),
    ("DELETE", "/v1/predictions/{pid}"),  # a wrong method on a served path: 404, not 405
    ("GET", FLUX_PATH),
    ("OPTIONS", "/v1/predictions"),
]


@pytest.mark.parametrize(("method", "path"), OTHER_REQUESTS)
@pytest.mark.parametrize("prefix", ["", "/replicate"])
def test_every_other_route_is_404(router_env: Env, method: str, path: str, prefix: str) -> None:
    pid = router_env.create().json()["id"]
    response = router_env.client.request(method, prefix + path.format(pid=pid))
    assert response.status_code == 404, (method, path, response.text)
    assert response.headers["content-type"] == "application/problem+json"
    assert "allow" not in response.headers


def test_no_operation_a_router_does_not_document_is_served(router_env: Env) -> None:
    """Every operation of the spec outside the router's three (deployments, trainings, models,
    collections ...) is a 404 with problem details, with and without the prefix."""
    others = [op for op in OPERATIONS.values() if op.id not in ROUTER_ROUTES]
    assert len(others) == len(OPERATIONS) - 3
    for op in others:
        for prefix in ("", "/replicate"):
            path = prefix + "/v1" + re.sub(r"\{[a-z_]+\}", "x", op.path)
            response = router_env.client.request(op.method, path)
            assert response.status_code == 404, (op.id, response.text)
            assert response.headers["content-type"] == "application/problem+json"


def test_the_profile_is_route_filtering_over_the_one_table() -> None:
    router = profile_named("router").router()
    served = {r.id for r in router.routes if r.kind != "admin"}
    assert served == ROUTER_ROUTES
    assert {r.id for r in router.routes if r.kind == "admin"} == {
        r.id for r in ROUTES if r.kind == "admin"
    }
    assert {r.id for r in profile_named("replicate").router().routes} == {r.id for r in ROUTES}


def test_faults_still_apply_to_creates(router_env: Env) -> None:
    router_env.backend.inject("predictions.create", "500", after=True)
    response = router_env.create()
    assert response.status_code == 500
    assert len(router_env.backend._order) == 1  # created, then the answer was lost


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="profile"):
        MockConfig(profile="gateway")  # type: ignore[arg-type]


@pytest.mark.slow  # two server processes: `make test-slow` (test_cli_mock serves one in make test)
@pytest.mark.parametrize(
    "command",
    [["replicate_typed.mock"], ["replicate_typed.cli", "mock"]],
    ids=["python -m replicate_typed.mock", "replicate-typed mock"],
)
def test_both_command_lines_serve_the_router_profile(command: list[str]) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", *command, "--port", "0", "--profile", "router"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert match, line
        base = match.group(1) + "/replicate"
        auth = {"Authorization": "Bearer any-token"}
        assert httpx.get(f"{base}/v1/predictions", headers=auth).status_code == 404
        created = httpx.post(
            f"{base}{FLUX_PATH}", json={"input": FLUX_INPUT}, headers=auth, timeout=10
        )
        assert created.status_code == 201 and set(created.json()) == {"id", "status"}
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err


def test_an_unknown_profile_is_a_usage_error() -> None:
    from replicate_typed.mock.__main__ import main

    with pytest.raises(SystemExit) as raised:
        main(["--profile", "gateway"])
    assert raised.value.code == 2
