"""The official clients against our mock: one real mock server (127.0.0.1, a free port) for the
session, started and stopped by the ``MockServer`` context manager; each test gets a fresh
backend swapped into it (pages of 2, short timings, one slow model to cancel).

The clients are development dependencies only: ``replicate==1.0.7`` (PyPI, ``.[dev]``) and the
npm package ``replicate`` (``package.json``, run by ``node``). Neither is a runtime dependency of
replicate-typed (``contract_tests/test_packaging.py`` checks that). Without them the tests skip
saying so, except in CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from contract_tests.mock.conftest import Receiver, ThreadServer
from replicate_typed.mock import MockBackend, MockConfig, MockServer
from replicate_typed.models import registry

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).resolve().parent / "driver.mjs"
TOKEN = "r8_interop_suite_token_0123456789abcdef"
SDXL = registry["stability-ai/sdxl"]
SLOW = registry["stability-ai/stable-diffusion"]  # stays in `starting` long enough to cancel
FLUX = registry["black-forest-labs/flux-schnell"]  # an official model: called by path
IMG2IMG = registry["stability-ai/stable-diffusion-img2img"]  # an image input: an upload
PNG_MAGIC = "89504e470d0a1a0a"
PAGE_SIZE = 2


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def need(what: str, how: str) -> None:
    message = f"{what} is not installed: {how}"
    if in_ci():
        pytest.fail(message + " -- required in CI (CI=true)", pytrace=False)
    pytest.skip(message)


def config() -> MockConfig:
    return MockConfig(
        api_tokens=(TOKEN,),
        page_size=PAGE_SIZE,
        default_timing=(0.05, 0.15),
        log_interval=0.03,
        timings={SLOW.ref: (60.0, 60.0)},
        webhook_retry_delays=(0.05, 0.05),
    )


@pytest.fixture(scope="session")
def server() -> Iterator[MockServer]:
    with MockServer(config=config()) as running:
        yield running


@dataclass
class Mock:
    server: MockServer
    backend: MockBackend

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture
def mock(server: MockServer) -> Iterator[Mock]:
    backend = MockBackend(config())
    server.swap(backend)
    yield Mock(server, backend)
    backend.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 that records what the mock delivers."""
    rec = Receiver()
    server = ThreadServer(rec.asgi).start()
    rec.url = f"http://127.0.0.1:{server.port}/hook"
    yield rec
    server.stop()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


# --- the JavaScript client ------------------------------------------------------------------------


@dataclass
class Node:
    binary: str

    def run(self, scenario: str, base_url: str, **args: Any) -> Any:
        """Run one scenario of ``driver.mjs``; its result, or fail with the client's error."""
        env = {
            "PATH": os.environ.get("PATH", ""),
            "INTEROP_BASE_URL": base_url,
            "INTEROP_TOKEN": TOKEN,
            "INTEROP_ARGS": json.dumps(args),
        }
        done = subprocess.run(
            [self.binary, str(DRIVER), scenario],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        try:
            answer = json.loads(done.stdout)
        except ValueError:
            pytest.fail(f"driver.mjs {scenario}: no JSON (exit {done.returncode}): {done.stderr}")
        if not answer["ok"]:
            pytest.fail(f"driver.mjs {scenario}: the JS client failed: {answer['error']}")
        return answer["result"]


@pytest.fixture(scope="session")
def node() -> Node:
    binary = shutil.which("node")
    if binary is None:
        need("Node.js", "install Node.js 20 to run the JavaScript client's interop tests")
    if not (ROOT / "node_modules" / "replicate" / "package.json").exists():
        need("the npm package replicate", "run `make setup` (npm ci of package.json)")
    assert binary is not None
    return Node(binary)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
