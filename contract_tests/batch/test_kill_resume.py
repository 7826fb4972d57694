"""The batch CLI killed with SIGKILL mid-run (twice) and started again on the same folder:
no input created twice, none lost, every output downloaded (the small version of ``make soak``).

The mock holds create answers back (``slow`` after creating), so a kill often lands between the
server creating a prediction and the journal recording its id: the resume must reconcile.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from replicate_typed.batch import Journal
from replicate_typed.client import Client
from replicate_typed.mock import FaultConfig, MockServer

from .conftest import TOKEN

# SIGKILLs batch CLI processes and resumes them: `make test-slow` (CI runs it)
pytestmark = pytest.mark.slow

N = 30


def _command(jsonl: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "replicate_typed.cli",
        "batch",
        str(jsonl),
        "--model",
        "stability-ai/sdxl",
        "--out",
        str(out),
        "-j",
        "4",
        "--creates-per-minute",
        "6000",
    ]


def test_sigkill_twice_then_resume_creates_each_input_once(tmp_path: Path) -> None:
    faults = FaultConfig(
        slow_rate=0.5, slow_seconds=0.4, operations=frozenset({"predictions.create"}), seed=3
    )
    jsonl = tmp_path / "inputs.jsonl"
    jsonl.write_text(
        "".join(
            json.dumps({"prompt": f"kill test {i}", "width": 64, "height": 64}) + "\n"
            for i in range(N)
        )
    )
    out = tmp_path / "out"
    rng = random.Random(20261120)
    with MockServer(api_tokens=(TOKEN,), default_timing=(0.02, 0.3), faults=faults) as server:
        env = {
            **os.environ,
            "REPLICATE_API_TOKEN": TOKEN,
            "REPLICATE_BASE_URL": server.url + "/replicate",
        }
        env.pop("REPLICATE_TYPED_DEBUG", None)
        killed_at = []
        for round_ in range(2):
            target = server.backend.stats()["creates"] + rng.randint(3, 8)
            proc = subprocess.Popen(
                _command(jsonl, out), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            deadline = time.monotonic() + 60
            while (
                proc.poll() is None
                and server.backend.stats()["creates"] < target
                and time.monotonic() < deadline
            ):
                time.sleep(0.01)
            assert proc.poll() is None, f"round {round_}: the batch ended before it was killed"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            assert proc.stderr is not None
            proc.stderr.close()
            assert proc.returncode == -signal.SIGKILL
            killed_at.append(server.backend.stats()["creates"])
        assert killed_at[-1] < N  # both kills were mid-run
        final = subprocess.run(
            _command(jsonl, out), env=env, capture_output=True, text=True, timeout=180
        )
        assert final.returncode == 0, final.stderr[-2000:]
        assert TOKEN not in final.stdout + final.stderr
        stats = server.backend.stats()
        with Client(api_token=TOKEN, base_url=server.url) as client:
            server_ids = {p.id for p in client.predictions.list()}

    assert stats["duplicate_creates"] == 0, stats["creates_by_fingerprint"]
    assert stats["creates"] == N and sorted(stats["creates_by_fingerprint"].values()) == [1] * N
    with Journal.in_dir(out) as journal:
        entries = list(journal.entries())
        attempts = [a for e in entries for a in journal.attempts(e.key)]
    assert len(entries) == N
    assert {e.state for e in entries} == {"downloaded"}
    assert {e.prediction_id for e in entries} == server_ids  # none lost, none orphaned
    for entry in entries:
        assert entry.files, entry
        for file in entry.files:
            data = Path(file.path).read_bytes()
            assert hashlib.sha256(data).hexdigest() == file.sha256 and len(data) == file.size
    # every attempt that left a prediction is accounted for exactly once
    paid = [a for a in attempts if a[3] is not None]
    assert len(paid) == N and len({a[3] for a in paid}) == N
