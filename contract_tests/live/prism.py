"""Prism (``@stoplight/prism-cli``, pinned in package.json) serving Replicate's OpenAPI document.

Prism ignores the document's ``servers`` entirely: an operation ``/predictions`` is served at
``http://host:port/predictions`` although the server is ``https://api.replicate.com/v1``
(Prism's FAQ: base paths are not supported; put them into the paths). Our client always sends
``{base}/v1/...``, so the suite serves a copy of the document whose paths carry the server's
base path (``/v1/predictions``) -- nothing else changes -- and the client's base URL is
``http://127.0.0.1:<port>``. ``test_prism.py`` checks that mapping.

Servers bind 127.0.0.1 on a free port, run in their own process group, and are stopped by PID.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

__all__ = [
    "ROOT",
    "UPSTREAM_DOCUMENT",
    "load_upstream",
    "in_ci",
    "PrismServer",
    "prism_binary",
    "prism_document",
    "prefer_pattern",
    "server_base_path",
]

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM_DOCUMENT = ROOT / "contract_tests" / "fixtures" / "upstream" / "replicate-openapi.json"
_CI_VALUES = {"1", "true", "yes"}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in _CI_VALUES


def prism_binary() -> Path:
    """The pinned Prism; skip (outside CI) or fail (in CI) when it is not installed."""
    binary = ROOT / "node_modules" / ".bin" / "prism"
    if binary.exists():
        return binary
    message = (
        "Prism is not installed: run `make prism` (npm ci of package.json; needs Node.js 20 and "
        "npm) to run the contract tests against Replicate's OpenAPI document"
    )
    if in_ci():
        pytest.fail(message + " -- required in CI (CI=true)", pytrace=False)
    pytest.skip(message)


def load_upstream() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(UPSTREAM_DOCUMENT.read_text(encoding="utf-8"))
    return document


def server_base_path(document: dict[str, Any]) -> str:
    """``/v1`` for ``servers: [{url: https://api.replicate.com/v1}]``."""
    url = str(document["servers"][0]["url"])
    return urlsplit(url).path.rstrip("/")


# Replicate's prediction and file ids are lowercase base32 ("cneqzikepnug6xezperrr4z55o"); the
# document types them as bare strings, so Prism's dynamic mode would invent ids such as
# "esse aute dolore", which the client refuses by design (ids end up in URLs and folder names:
# client/validation.py). The document Prism serves says what real ids look like.
ID_PATTERN = "^[a-z0-9]{26}$"
ID_SCHEMAS = ("schemas_prediction_response", "schemas_file_response")


def prism_document(document: dict[str, Any]) -> dict[str, Any]:
    """The same document with the server's base path folded into every path (see module doc)
    and the format of prediction and file ids (:data:`ID_PATTERN`) stated."""
    derived = copy.deepcopy(document)
    base = server_base_path(document)
    derived["paths"] = {base + path: item for path, item in document["paths"].items()}
    for name in ID_SCHEMAS:
        id_schema = derived["components"]["schemas"][name]["properties"]["id"]
        id_schema.setdefault("pattern", ID_PATTERN)
    return derived


def prefer_pattern(document: dict[str, Any]) -> str:
    """The document's own rule for the ``Prefer`` header of prediction creates."""
    pattern = document["components"]["parameters"]["parameters_prefer_header"]["schema"]["pattern"]
    return str(pattern)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrismServer:
    """One ``prism mock`` process on 127.0.0.1."""

    def __init__(self, document_path: Path, log_path: Path, *, dynamic: bool) -> None:
        self.document_path = document_path
        self.log_path = log_path
        self.dynamic = dynamic
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [
            str(prism_binary()),
            "mock",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-v",
            "warn",
        ]
        if self.dynamic:
            args += ["--dynamic", "--seed", "replicate-typed"]
        args.append(str(self.document_path))
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=ROOT,
            )

    def wait_ready(self, deadline_seconds: float = 120.0) -> None:
        """Poll until Prism answers (an unauthenticated request gets its 401)."""
        assert self.process is not None
        deadline = time.monotonic() + deadline_seconds
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"Prism exited with {self.process.returncode} before it was ready: "
                    + self.log_path.read_text(errors="replace")[-2000:]
                )
            try:
                httpx.get(f"{self.url}/v1/webhooks/default/secret", timeout=2.0)
                return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"Prism did not answer within {deadline_seconds:g}s")
            time.sleep(0.2)

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)  # its own session: Prism and its children
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
