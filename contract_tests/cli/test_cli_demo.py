"""``make demo`` (scripts/demo.sh): real images under the output folder, and the mock server it
started is stopped by PID afterwards -- also when the demo fails half-way."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

# runs make demo's script end to end: `make test-slow` (CI runs it)
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "demo.sh"


def run_demo(out: Path, run_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OUT": str(out),
        "DEMO_RUN_DIR": str(run_dir),
        "PYTHON": sys.executable,
        "REPLICATE_API_TOKEN": "r8_user_real_token_must_not_be_used",
    }
    return subprocess.run(
        ["bash", str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )


def server_pid(output: str) -> int:
    match = re.search(r"mock server \(pid (\d+)\) stopped", output)
    assert match, output
    return int(match.group(1))


def assert_gone(pid: int) -> None:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return
    raise AssertionError(f"mock server pid {pid} is still running")


def test_demo_saves_real_images_and_stops_the_server(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_demo(out, tmp_path / "run")
    assert result.returncode == 0, result.stdout + result.stderr
    images = sorted(out.rglob("*.png"))
    assert len(images) == 3  # two from sdxl (--num-outputs 2), one from flux-schnell
    sizes = set()
    for path in images:
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            sizes.add(image.size)
        assert f"  {path}  (PNG" in result.stdout  # the demo says where each file is
    # sdxl 1024x768 and flux 16:9: both requests reached the server with their own sizes.
    ratios = sorted(round(w / h, 2) for w, h in sizes)
    assert ratios == [1.33, 1.78]
    assert "called by version" in result.stdout and "called by model path" in result.stdout
    assert "r8_user_real_token_must_not_be_used" not in result.stdout + result.stderr
    assert_gone(server_pid(result.stdout))
    assert not (tmp_path / "run" / "mock.pid").exists()


def test_demo_failure_still_stops_the_server(tmp_path: Path) -> None:
    blocker = tmp_path / "out"
    blocker.write_text("a file where the output folder should go")
    result = run_demo(blocker, tmp_path / "run")
    assert result.returncode != 0
    assert "demo: FAILED" in result.stderr
    assert_gone(server_pid(result.stdout))
