"""Targets of the live contract suite: the same checks over real HTTP against

* ``mock``: the built-in mock server, started and stopped by this suite;
* ``router``: the built-in mock server in its router profile (``profile="router"``: only create
  by version, create by model path and get by id, answered like the router's documents; see
  ``replicate_typed.mock.profiles``), also started by this suite, so it always runs;
* ``prism`` / ``prism-dynamic``: Prism serving Replicate's own OpenAPI document (static
  examples, and a second Prism generating responses from the schemas, ``--dynamic``); every
  request must pass Prism's validation;
* ``env``: any server given by ``REPLICATE_LIVE_BASE_URL`` and ``REPLICATE_LIVE_API_TOKEN``
  (skipped, saying so, when they are not set);
* ``env-router``: the same server in the router checks, when ``REPLICATE_LIVE_PROFILE=router``
  says it is a router that serves only create and get (skipped otherwise).

Tests that need a server that keeps state (a created prediction can be fetched, runs finish,
bad tokens are refused) run against ``STATEFUL`` targets only; Prism answers from examples.
``RUNS``: the stateful targets plus the router (whole runs need only create and get).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest

from contract_tests.live.prism import (
    PrismServer,
    load_upstream,
    prefer_pattern,
    prism_binary,
    prism_document,
)
from contract_tests.live.transport import RecordingTransport
from replicate_typed.client import Client
from replicate_typed.mock import MockServer

MOCK_TOKEN = "r8_live_suite_mock_token_0123456789abcdef"
PRISM_TOKEN = "r8_live_suite_prism_token_0123456789abcdef"
ENV_BASE = "REPLICATE_LIVE_BASE_URL"
ENV_TOKEN = "REPLICATE_LIVE_API_TOKEN"
ENV_PROFILE = "REPLICATE_LIVE_PROFILE"
# The model the cancel check creates stays in `starting` on the mock long enough to cancel it.
SLOW_MODEL = "stability-ai/stable-diffusion"

ALL_TARGETS = ["mock", "prism", "prism-dynamic", pytest.param("env", marks=pytest.mark.live)]
STATEFUL = ["mock", pytest.param("env", marks=pytest.mark.live)]
ROUTERS = ["router", pytest.param("env-router", marks=pytest.mark.live)]
RUNS = [*STATEFUL, "router"]
PRISM = ["prism", "prism-dynamic"]
PREFER = prefer_pattern(load_upstream())

Kind = Literal["mock", "prism", "env", "router"]


@dataclass
class LiveTarget:
    name: str
    kind: Kind
    base_url: str
    token: str
    transport: RecordingTransport

    @property
    def stateful(self) -> bool:
        return self.kind != "prism"

    def client(self, *, token: str | None = None, max_retries: int = 2) -> Client:
        return Client(
            api_token=token if token is not None else self.token,
            base_url=self.base_url,
            transport=self.transport,
            max_retries=max_retries,
            timeout=60.0,
        )

    def __repr__(self) -> str:  # the token never shows up in pytest output
        return f"LiveTarget({self.name!r}, {self.base_url!r})"


@dataclass
class PrismPair:
    static: PrismServer
    dynamic: PrismServer
    document: dict[str, Any]


@pytest.fixture(scope="session")
def live_mock() -> Iterator[MockServer]:
    server = MockServer(
        host="127.0.0.1",
        port=0,
        api_tokens=(MOCK_TOKEN,),
        default_timing=(0.05, 0.2),
        timings={SLOW_MODEL: (30.0, 1.0)},
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def live_router() -> Iterator[MockServer]:
    server = MockServer(
        host="127.0.0.1",
        port=0,
        api_tokens=(MOCK_TOKEN,),
        default_timing=(0.05, 0.2),
        profile="router",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def prism_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrismPair]:
    prism_binary()  # skip or fail (CI) before starting anything
    folder = tmp_path_factory.mktemp("prism")
    upstream = load_upstream()
    document_path = folder / "replicate-openapi.v1-paths.json"
    document_path.write_text(json.dumps(prism_document(upstream)), encoding="utf-8")
    static = PrismServer(document_path, folder / "static.log", dynamic=False)
    dynamic = PrismServer(document_path, folder / "dynamic.log", dynamic=True)
    try:
        static.start()
        dynamic.start()  # both boot at the same time
        static.wait_ready()
        dynamic.wait_ready()
        yield PrismPair(static, dynamic, upstream)
    finally:
        static.stop()
        dynamic.stop()


def env_target_config() -> tuple[str, str]:
    base, token = os.environ.get(ENV_BASE, "").strip(), os.environ.get(ENV_TOKEN, "").strip()
    if not base and not token:
        pytest.skip(
            f"live target not configured: set {ENV_BASE} (e.g. https://api.replicate.com or "
            f"https://host/replicate) and {ENV_TOKEN} to run these checks against a real server"
        )
    if not base or not token:
        missing = ENV_BASE if not base else ENV_TOKEN
        pytest.fail(f"live target half configured: {missing} is not set", pytrace=False)
    return base.rstrip("/"), token


@pytest.fixture
def target(request: pytest.FixtureRequest) -> Iterator[LiveTarget]:
    name = str(request.param)
    if name == "mock":
        server: MockServer = request.getfixturevalue("live_mock")
        transport = RecordingTransport(base_path="/replicate", prefer_pattern=PREFER)
        live = LiveTarget(name, "mock", server.url + "/replicate", MOCK_TOKEN, transport)
    elif name in ("prism", "prism-dynamic"):
        pair: PrismPair = request.getfixturevalue("prism_pair")
        prism = pair.dynamic if name == "prism-dynamic" else pair.static
        transport = RecordingTransport(prism=True, prefer_pattern=prefer_pattern(pair.document))
        live = LiveTarget(name, "prism", prism.url, PRISM_TOKEN, transport)
    elif name == "router":
        server = request.getfixturevalue("live_router")
        transport = RecordingTransport(base_path="/replicate", prefer_pattern=PREFER)
        live = LiveTarget(name, "router", server.url + "/replicate", MOCK_TOKEN, transport)
    elif name in ("env", "env-router"):
        base, token = env_target_config()
        if name == "env-router" and os.environ.get(ENV_PROFILE, "").strip() != "router":
            pytest.skip(f"the live target is not a router: set {ENV_PROFILE}=router to run these")
        transport = RecordingTransport(base_path=urlsplit(base).path, prefer_pattern=PREFER)
        live = LiveTarget(name, "router" if name == "env-router" else "env", base, token, transport)
    else:  # pragma: no cover
        raise ValueError(name)
    try:
        yield live
    finally:
        live.transport.close()
    assert not live.transport.problems, "contract violations in transit:\n" + "\n".join(
        live.transport.problems
    )


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "out"
