"""Running the mock: MockServer in a thread, and ``python -m replicate_typed.mock``."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import httpx
import pytest

from replicate_typed.mock import FakeClock, MockBackend, MockConfig, MockServer


def test_mock_server_context_manager() -> None:
    with MockServer(default_timing=(0.0, 0.0)) as server:
        assert server.running
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", server.url)
        response = httpx.post(
            f"{server.url}/replicate/v1/models/black-forest-labs/flux-schnell/predictions",
            json={"input": {"prompt": "x"}},
            headers={"Authorization": "Bearer anything", "Prefer": "wait=5"},
        )
        assert response.status_code == 201
        assert response.json()["status"] == "succeeded"
        assert server.backend.stats()["creates"] == 1
        url = server.url
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v1/predictions", timeout=2)


def test_mock_server_options() -> None:
    backend = MockBackend(MockConfig(api_tokens=("only-this",)), clock=FakeClock())
    server = MockServer(backend=backend)
    with pytest.raises(TypeError):
        MockServer(backend=backend, default_timing=(1.0, 1.0))
    server.start()
    try:
        assert server.backend is backend
        assert httpx.get(f"{server.url}/v1/predictions").status_code == 401
        ok = httpx.get(
            f"{server.url}/v1/predictions", headers={"Authorization": "Bearer only-this"}
        )
        assert ok.status_code == 200
        fresh = MockBackend(MockConfig())
        assert server.swap(fresh) is backend
        assert server.backend is fresh
        assert (
            httpx.get(
                f"{server.url}/v1/predictions", headers={"Authorization": "Bearer other"}
            ).status_code
            == 200
        )
    finally:
        server.stop()


@pytest.mark.slow  # subprocesses: `make test-slow`
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_standalone_process_prints_url_and_stops_on_signal(signum: int) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "replicate_typed.mock", "--port", "0", "--token", "tok-123"],
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
        url = match.group(1)
        response = httpx.get(f"{url}/v1/predictions", headers={"Authorization": "Bearer tok-123"})
        assert response.status_code == 200
        assert httpx.get(f"{url}/v1/predictions").status_code == 401
        process.send_signal(signum)
        out, err = process.communicate(timeout=20)
        assert process.returncode == 0, err
        assert "stopped" in out
        assert "tok-123" not in out + err  # the token is never printed
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
