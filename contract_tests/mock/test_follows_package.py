"""A running mock serves models added with add-model after it started, and its 404 says which
models it serves."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from contract_tests.codegen._repo import CORPUS, copy_repo, run_codegen
from replicate_typed.mock import MockBackend

# add-model in a subprocess while a mock server runs: `make test-slow` (CI runs it)
pytestmark = pytest.mark.slow

TOKEN = "r8_follows_package_0123"


def test_the_404_names_the_models_served() -> None:
    backend = MockBackend()
    response = backend.handle(
        "POST",
        "/v1/models/nobody/nothing/predictions",
        {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"},
        {},
        b'{"input": {}}',
    )
    assert response.status == 404
    detail = response.json()["detail"]
    assert "nobody/nothing not found" in detail
    assert f"serves {len(backend.registry)} models" in detail
    assert "picked up on the next request" in detail


def test_a_model_added_while_the_mock_runs_is_served(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo")
    env = {**os.environ, "PYTHONPATH": str(repo / "src")}
    server = subprocess.Popen(
        [sys.executable, "-m", "replicate_typed.mock", "--host", "127.0.0.1", "--port", "0"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(3)]
        url = lines[0].split()[-1]
        assert "picked up on the next request" in lines[2]
        headers = {"authorization": f"Bearer {TOKEN}"}
        create = f"{url}/v1/models/openai/gpt-4o/predictions"
        body = {"input": {"prompt": "hello"}}
        assert httpx.post(create, json=body, headers=headers).status_code == 404

        version = CORPUS / "openai__gpt-4o.version.json"
        added = run_codegen(
            "add-model", "--from-file", str(version), "--model", "openai/gpt-4o",
            "--call", "path", "--root", str(repo),
            process=True,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        time.sleep(0.01)  # a new mtime even on coarse file systems
        created = httpx.post(create, json=body, headers=headers)
        assert created.status_code == 201, created.text
        assert created.json()["model"] == "openai/gpt-4o"
    finally:
        server.terminate()
        server.wait(timeout=30)
