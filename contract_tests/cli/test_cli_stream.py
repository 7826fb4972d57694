"""``replicate-typed run`` waits on the prediction's stream: create, the stream, one GET (counted by
the mock over real HTTP); the logs it shows come from the stream; without a stream it polls;
``--timeout`` holds while the stream is quiet."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from typer.testing import CliRunner, Result

from replicate_typed.cli.app import app
from replicate_typed.mock import MockBackend, MockConfig, MockServer

TOKEN = "r8_CLIstream_0a1b2c3d4e5f6a7b8c9dSECRET"
BASE = "https://router.example.test/replicate"
PID = "cli0stream0prediction00001"
STREAM = f"{BASE}/v1/predictions/{PID}/stream"
SDXL_VERSION = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"


def invoke(base_url: str, args: list[str]) -> Result:
    env: dict[str, str | None] = {
        "REPLICATE_API_TOKEN": TOKEN,
        "REPLICATE_BASE_URL": base_url,
        "REPLICATE_TYPED_DEBUG": None,
        "COLUMNS": "200",
    }
    return CliRunner().invoke(app, args, env=env)


@pytest.fixture
def backend() -> Iterator[tuple[MockServer, MockBackend]]:
    backend = MockBackend(
        MockConfig(api_tokens=(TOKEN,), default_timing=(0.05, 0.3), log_interval=0.05)
    )
    with MockServer(backend=backend) as server:
        yield server, backend
    backend.close()


def test_run_creates_streams_and_gets_once(
    backend: tuple[MockServer, MockBackend], tmp_path: Path
) -> None:
    server, mock = backend
    result = invoke(
        server.url + "/replicate",
        ["run", "stability-ai/sdxl", "--prompt", "a lighthouse", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert len([line for line in result.stdout.splitlines() if line.strip()]) == 1
    ops = mock.operations
    assert (ops["predictions.create"], ops["predictions.stream"], ops["predictions.get"]) == (
        1,
        1,
        1,
    )
    assert TOKEN not in result.output


def prediction(status: str, *, stream: bool = True, **extra: Any) -> dict[str, Any]:
    urls = {"get": f"{BASE}/v1/predictions/{PID}", "cancel": f"{BASE}/v1/predictions/{PID}/cancel"}
    if stream:
        urls["stream"] = STREAM
    return {
        "id": PID,
        "model": "stability-ai/sdxl",
        "version": SDXL_VERSION,
        "input": {"prompt": "x"},
        "logs": "",
        "output": None,
        "data_removed": False,
        "error": None,
        "status": status,
        "created_at": "2025-01-15T10:03:39.896Z",
        "urls": urls,
        **extra,
    }


SSE = {"content-type": "text/event-stream"}
EVENTS = (
    "id: 1:0\nevent: logs\ndata: Using seed: 4242\n\n"
    "id: 1:1\nevent: logs\ndata: step 2/2 from the stream\n\n"
    "id: 1:2\nevent: done\ndata: {}\n\n"
)


def test_run_shows_the_streamed_logs(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    respx_mock.post(f"{BASE}/v1/predictions").respond(201, json=prediction("starting"))
    stream = respx_mock.get(STREAM).mock(
        return_value=httpx.Response(200, headers=SSE, content=EVENTS.encode())
    )
    get = respx_mock.get(f"{BASE}/v1/predictions/{PID}").respond(
        200, json=prediction("succeeded", output=[])
    )
    result = invoke(BASE, ["run", "stability-ai/sdxl", "--prompt", "x", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert stream.call_count == 1 and get.call_count == 1
    assert "step 2/2 from the stream" in result.stderr
    assert stream.calls.last.request.headers["authorization"] == f"Bearer {TOKEN}"


def test_run_without_a_stream_polls(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    respx_mock.post(f"{BASE}/v1/predictions").respond(
        201, json=prediction("starting", stream=False)
    )
    get = respx_mock.get(f"{BASE}/v1/predictions/{PID}").mock(
        side_effect=[
            httpx.Response(200, json=prediction("processing", stream=False)),
            httpx.Response(200, json=prediction("succeeded", stream=False, output=[])),
        ]
    )
    result = invoke(
        BASE,
        ["run", "stability-ai/sdxl", "--out", str(tmp_path), "--poll-interval", "0.05"],
    )
    assert result.exit_code == 0, result.output
    assert get.call_count == 2 and len(respx_mock.calls) == 3


class Quiet(httpx.SyncByteStream):
    def __init__(self, release: threading.Event) -> None:
        self.release = release

    def __iter__(self) -> Iterator[bytes]:
        yield b"id: 1:0\nevent: logs\ndata: starting\n\n"
        self.release.wait(10)


def test_run_timeout_holds_on_a_quiet_stream(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    release = threading.Event()
    respx_mock.post(f"{BASE}/v1/predictions").respond(201, json=prediction("starting"))
    respx_mock.get(STREAM).mock(
        return_value=httpx.Response(200, headers=SSE, stream=Quiet(release))
    )
    respx_mock.get(f"{BASE}/v1/predictions/{PID}").respond(200, json=prediction("processing"))
    cancel = respx_mock.post(f"{BASE}/v1/predictions/{PID}/cancel").respond(
        200, json=prediction("canceled")
    )
    try:
        result = invoke(
            BASE, ["run", "stability-ai/sdxl", "--timeout", "0.5", "--out", str(tmp_path)]
        )
    finally:
        release.set()
    assert result.exit_code == 1, result.output
    [line] = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert PID in line and "still processing" in line and f"cancel {PID}" in line
    assert cancel.call_count == 0
