"""The batch runner never writes outside ``out_dir``, whatever id a server answers or a journal
holds: an unsafe id is refused before it becomes a folder, and the input is reported."""

from __future__ import annotations

from pathlib import Path

import respx

from replicate_typed.batch import Journal, arun_many, item_key
from replicate_typed.client import AsyncClient
from replicate_typed.models.stability_ai import sdxl

from ..client.test_hostile_server import BASE, TOKEN, prediction
from .test_runner import FAST

FILE_URL = "https://delivery.example.test/out-0.png"


def files_under(root: Path) -> set[Path]:
    return set(root.rglob("*"))


async def test_a_create_answered_with_an_escaping_id_writes_nothing(
    respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    out = tmp_path / "sandbox" / "out"
    respx_mock.post(f"{BASE}/v1/predictions").respond(
        201, json=prediction("../../escaped", "succeeded", output=[FILE_URL])
    )
    listing = respx_mock.get(f"{BASE}/v1/predictions").respond(
        200, json={"next": None, "results": [prediction("../../escaped", "succeeded")]}
    )
    fetch = respx_mock.get(FILE_URL).respond(200, content=b"png")
    async with AsyncClient(api_token=TOKEN, base_url=BASE, max_retries=0) as client:
        report = await arun_many(
            client,
            [sdxl.Input(prompt="x", width=64, height=64)],
            out_dir=out,
            max_consecutive_errors=2,
            **FAST,
        )
    (result,) = report.results
    assert not result.ok and result.prediction_id is None
    assert "not a prediction id" in (result.error or "")
    assert report.unresolved == 1  # it may exist: left in the journal, not created again
    assert listing.called and not fetch.called
    assert {p.relative_to(out) for p in files_under(tmp_path / "sandbox") if p != out} <= {
        Path("journal.sqlite3"),
        Path("journal.sqlite3-wal"),
        Path("journal.sqlite3-shm"),
        Path("journal.sqlite3.lock"),
    }


async def test_an_escaping_id_in_the_journal_is_refused_at_download(
    respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    """A journal written by an older version (or edited) holds an unsafe prediction id."""
    out = tmp_path / "sandbox" / "out"
    item = sdxl.Input(prompt="journaled", width=64, height=64)
    key = item_key(sdxl.MODEL, item)
    with Journal.in_dir(out) as journal:
        journal.add(key, 1, sdxl.MODEL.ref)
        journal.mark_creating(key)
        journal.mark_created(key, "../../escaped")
        journal.mark_finished(key, "succeeded", [FILE_URL])
    fetch = respx_mock.get(FILE_URL).respond(200, content=b"png")
    async with AsyncClient(api_token=TOKEN, base_url=BASE, max_retries=0) as client:
        report = await arun_many(client, [item], out_dir=out, **FAST)
    (result,) = report.results
    assert not result.ok
    assert "refusing to save outputs" in (result.error or "")
    assert "'../../escaped' is not a prediction id" in (result.error or "")
    assert not fetch.called
    assert all(out in p.parents for p in files_under(tmp_path / "sandbox") if p != out)
