"""``mock --port 8080``: the built-in mock server in the foreground (Ctrl-C or SIGTERM stops it).

The server (Starlette, uvicorn) is imported only when this command runs.
"""

from __future__ import annotations

import signal
import sys
import threading
from enum import StrEnum
from types import FrameType
from typing import Annotated

import typer

from replicate_typed.cli import context

__all__ = ["run_mock", "MockProfile"]


class MockProfile(StrEnum):
    """Which server the mock plays (:mod:`replicate_typed.mock.profiles`)."""

    replicate = "replicate"
    router = "router"


def run_mock(
    port: Annotated[
        int, typer.Option("--port", "-p", help="Port (0 picks a free one).", min=0, max=65535)
    ] = 8080,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
    max_body_bytes: Annotated[
        int,
        typer.Option(
            "--max-body-bytes", min=1, help="Largest request body except uploads (larger: 413)."
        ),
    ] = 10 * 1024 * 1024,
    max_upload_bytes: Annotated[
        int,
        typer.Option(
            "--max-upload-bytes", min=1, help="Largest upload, files.create (larger: 413)."
        ),
    ] = 100 * 1024 * 1024,
    profile: Annotated[
        MockProfile,
        typer.Option(
            "--profile",
            help="replicate: the official API. router: only create (by version, by model path) "
            "and get, answered like the router's documents; everything else 404.",
        ),
    ] = MockProfile.replicate,
) -> None:
    """Start the built-in mock server in the foreground (Ctrl-C stops it)."""
    from replicate_typed.mock import MockConfig, MockServer

    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _on_signal)
    config = MockConfig(
        max_body_bytes=max_body_bytes, max_upload_bytes=max_upload_bytes, profile=profile.value
    )
    server = MockServer(host=host, port=port, config=config)
    server.start()
    try:
        out = context.stdout()
        out.print(f"mock server listening on {server.url}", markup=False)
        if profile is not MockProfile.replicate:
            out.print(f"  profile: {profile.value}", markup=False)
        out.print(f"  export REPLICATE_BASE_URL={server.url}", markup=False)
        out.print("  (any REPLICATE_API_TOKEN works; Ctrl-C stops the server)", markup=False)
        out.print(
            f"  serving {len(server.backend.registry)} models; models added with add-model "
            "are picked up on the next request",
            markup=False,
        )
        sys.stdout.flush()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
        context.stderr().print("mock server stopped", markup=False)
