"""One rule for a succeeded prediction's output (the client's, as ``run()``), and a resumed batch
removes the temporary files an interrupted download left behind."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from replicate_typed.batch import Journal, arun_many, item_key
from replicate_typed.client import AsyncClient, errors
from replicate_typed.client._download_core import _Sink
from replicate_typed.mock import MockBackend, MockServer
from replicate_typed.models.stability_ai import sdxl

from .conftest import TOKEN
from .test_runner import FAST, assert_exactly_once, inputs

MakeMock = Callable[..., MockBackend]


class NullOutput(httpx.AsyncBaseTransport):
    """Real HTTP to the mock; a succeeded prediction's answer carries ``output: null``."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        path = request.url.path
        if "/predictions" not in path or "stream" in path or "outputs" in path:
            return response
        body = json.loads(await response.aread())
        if isinstance(body, dict) and body.get("status") == "succeeded":
            body["output"] = None
        return httpx.Response(response.status_code, json=body)

    async def aclose(self) -> None:
        await self.inner.aclose()


@pytest.mark.parametrize("download", [True, False])
async def test_a_success_without_output_fails_as_in_run_never_succeeded_with_0_files(
    server: MockServer, mock: MakeMock, tmp_path: Path, download: bool
) -> None:
    backend = mock()
    async with AsyncClient(api_token=TOKEN, base_url=server.url, transport=NullOutput()) as client:
        with pytest.raises(errors.NoOutputError) as in_run:
            await client.run(sdxl.Input(prompt="run", width=64, height=64))
        report = await arun_many(
            client, inputs(2, "null"), out_dir=tmp_path, download=download, **FAST
        )
    rule = "succeeded but produced no output"
    assert rule in str(in_run.value)
    assert not report.ok and report.failed == 2 and report.succeeded == 0
    for result in report.results:
        assert result.status == "succeeded" and not result.ok and not result.files
        assert result.prediction_id and result.prediction_id in (result.error or "")
        assert rule in (result.error or "") and "0 file" not in result.describe()
        assert result.outcome == "failed"
    assert not any(tmp_path.glob("*/output_*"))
    # final: a later run reports it, does not create or download it again
    async with AsyncClient(api_token=TOKEN, base_url=server.url) as client:
        again = await arun_many(client, inputs(2, "null"), out_dir=tmp_path, **FAST)
    assert again.skipped == 2 and again.created == 0
    assert again.outcomes()["already_failed"] == 2
    assert_exactly_once(backend, 3)  # the run() above and the two batch inputs


async def test_a_resumed_batch_removes_the_interrupted_downloads_temporary_files(
    server: MockServer, mock: MakeMock, tmp_path: Path
) -> None:
    backend = mock()
    items = inputs(2, "tmp")
    async with AsyncClient(api_token=TOKEN, base_url=server.url) as client:
        # the predictions finished; then the process died while saving their outputs ...
        first = await arun_many(client, items, out_dir=tmp_path, download=False, **FAST)
        assert first.ok
        left: list[Path] = []
        kept = []
        for result in first.results:
            assert result.prediction_id
            folder = tmp_path / result.prediction_id
            sink = _Sink(folder, 1 << 20, "https://example.com/x.png")  # the client's own
            sink.write(b"half a png")
            sink.file.close()  # ... no commit, no abort: SIGKILL
            left += [sink.path, folder / ".output.json.4242.tmp"]
            left[-1].write_text("{")
            kept.append(folder / "notes.txt")
            kept[-1].write_text("mine")
        assert all(p.exists() for p in left)
        again = await arun_many(client, items, out_dir=tmp_path, **FAST)
    assert again.ok and again.downloaded == 2 and again.created == 0
    assert again.cleaned == 2 * 2 and again.activity()["temporary files removed"] == 4
    assert not any(p.exists() for p in left)
    assert all(p.read_text() == "mine" for p in kept)  # only the runner's temporaries go
    for result in again.results:
        assert [Path(f.path).name for f in result.files] == ["output_0.png"]
    assert_exactly_once(backend, 2)
    with Journal.in_dir(tmp_path) as journal:
        entry = journal.get(item_key(sdxl.MODEL, items[0]))
        assert entry is not None and entry.state == "downloaded"
