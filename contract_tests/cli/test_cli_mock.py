"""The CLI end to end over real HTTP against the built-in mock server: the model options reach
the server, real image files land in the output folder, ``mock`` serves in the foreground."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from replicate_typed.cli.app import app
from replicate_typed.mock import MockServer

TOKEN = "r8_CLImock_0a1b2c3d4e5f6a7b8c9dSECRET"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(host="127.0.0.1", port=0, default_timing=(0.05, 0.15)) as running:
        yield running


def invoke(base_url: str, args: list[str]) -> Result:
    env: dict[str, str | None] = {
        "REPLICATE_API_TOKEN": TOKEN,
        "REPLICATE_BASE_URL": base_url,
        "REPLICATE_TYPED_DEBUG": None,
    }
    if args[0] == "run":
        args = [*args, "--poll-interval", "0.05"]
    return CliRunner().invoke(app, args, env=env)


def saved_files(result: Result) -> list[Path]:
    return [Path(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.mark.parametrize("prefix", ["", "/replicate"])
def test_sdxl_by_version_writes_real_images(
    server: MockServer, tmp_path: Path, prefix: str
) -> None:
    result = invoke(
        server.url + prefix,
        [
            "run",
            "stability-ai/sdxl",
            "--prompt",
            "a lighthouse at dusk",
            "--width",
            "768",
            "--height",
            "512",
            "--num-outputs",
            "2",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    files = saved_files(result)
    assert len(files) == 2
    for path in files:
        assert path.parent.parent == tmp_path and path.is_file()
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            width, height = image.size
        assert abs(width / height - 768 / 512) < 0.05  # the requested size reached the model
    assert TOKEN not in result.output


def test_flux_schnell_by_model_path_writes_a_real_image(server: MockServer, tmp_path: Path) -> None:
    result = invoke(
        server.url,
        [
            "run",
            "black-forest-labs/flux-schnell",
            "--prompt",
            "a red fox",
            "--aspect-ratio",
            "16:9",
            "--megapixels",
            "0.25",
            "--output-format",
            "png",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    [path] = saved_files(result)
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
    assert abs(width / height - 16 / 9) < 0.05
    # The prediction is visible through the other commands too.
    prediction_id = path.parent.name
    shown = invoke(server.url, ["get", prediction_id, "--json"])
    assert shown.exit_code == 0, shown.output
    assert '"black-forest-labs/flux-schnell"' in shown.stdout
    again = invoke(server.url, ["download", prediction_id, "--out", str(tmp_path / "again")])
    assert again.exit_code == 0, again.output
    [copy] = saved_files(again)
    assert copy.read_bytes() == path.read_bytes()


def test_failed_prediction_against_the_mock(server: MockServer, tmp_path: Path) -> None:
    result = invoke(
        server.url,
        ["run", "black-forest-labs/flux-schnell", "--prompt", "mock:fail", "--out", str(tmp_path)],
    )
    assert result.exit_code == 1
    [line] = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert "failed" in line
    assert not any(tmp_path.iterdir())


def test_mock_command_serves_until_terminated(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "replicate_typed.cli", "mock", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("mock server listening on http://127.0.0.1:"), first
        url = first.rsplit(" ", 1)[-1].strip()
        response = httpx.get(
            f"{url}/v1/predictions", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
        )
        assert response.status_code == 200
        assert "results" in response.json()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "mock server stopped" in err


def test_interrupt_names_the_running_prediction(tmp_path: Path) -> None:
    with MockServer(host="127.0.0.1", port=0, default_timing=(600.0, 1.0)) as slow:
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "REPLICATE_API_TOKEN": TOKEN,
            "REPLICATE_BASE_URL": slow.url,
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "replicate_typed.cli", "run", "stability-ai/sdxl"]
            + ["--out", str(tmp_path), "--poll-interval", "0.2"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            assert proc.stderr is not None
            first = proc.stderr.readline()  # "stability-ai/sdxl <id>: starting (0.0s)"
            assert ": starting" in first, first
            prediction_id = first.split(":")[0].split()[-1]
            # Ctrl-C while it waits: once it reads the prediction's stream (or polls it)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                seen = slow.backend.stats()["operations"]
                if seen.get("predictions.stream") or seen.get("predictions.get"):
                    break
                time.sleep(0.02)
            time.sleep(0.1)
        finally:
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=30)
        assert proc.returncode == 130, err
        assert "still running" not in err, err  # ended by the interrupt, not by the watchdog
        [line] = [x for x in err.splitlines() if x.startswith("error:")]
        assert prediction_id in line and "keeps running" in line
        assert TOKEN not in out + err + first
        assert slow.backend.status(prediction_id) == "starting"  # not canceled behind our back
