"""The batch runner waits on each prediction's stream: per input one create, one stream, one GET
(counted by the mock over real HTTP); with ``use_stream=False`` it polls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from replicate_typed.batch import arun_many, run_many
from replicate_typed.client import AsyncClient, Client
from replicate_typed.client.polling import PollPolicy
from replicate_typed.mock import MockBackend, MockServer
from replicate_typed.models.stability_ai import sdxl

from .conftest import TOKEN

FAST = dict(
    creates_per_minute=None, reads_per_minute=None, reconcile_delay=0.05, error_backoff=0.05
)


def inputs(n: int) -> list[sdxl.Input]:
    return [sdxl.Input(prompt=f"stream {i}", width=64, height=64) for i in range(n)]


def test_each_input_is_created_streamed_and_got_once(
    server: MockServer, mock: Callable[..., MockBackend], tmp_path: Path
) -> None:
    backend = mock(default_timing=(0.02, 0.3), log_interval=0.05)
    with Client(api_token=TOKEN, base_url=server.url + "/replicate") as client:
        report = run_many(client, inputs(6), out_dir=tmp_path, concurrency=6, **FAST)
    assert report.ok and report.downloaded == 6, [r.describe() for r in report.failures]
    ops = backend.operations
    assert (ops["predictions.create"], ops["predictions.stream"], ops["predictions.get"]) == (
        6,
        6,
        6,
    )


@pytest.mark.parametrize("use_stream", [True, False])
async def test_async_batch_and_use_stream_false(
    server: MockServer, mock: Callable[..., MockBackend], tmp_path: Path, use_stream: bool
) -> None:
    backend = mock(default_timing=(0.02, 0.3), log_interval=0.05)
    policy = PollPolicy(initial=0.02, max_interval=0.1, use_stream=use_stream)
    async with AsyncClient(api_token=TOKEN, base_url=server.url) as client:
        report = await arun_many(
            client, inputs(3), out_dir=tmp_path, concurrency=3, poll_policy=policy, **FAST
        )
    assert report.ok and report.succeeded == 3
    ops = backend.operations
    if use_stream:
        assert (ops["predictions.stream"], ops["predictions.get"]) == (3, 3)
    else:
        assert ops["predictions.stream"] == 0 and ops["predictions.get"] > 3
