"""``replicate-typed run --out`` and ``download --out`` against a server answering ids meant to
escape the output folder (``out/<prediction id>/``): one clear error line, nothing written
outside ``--out`` (nor anything at all)."""

from __future__ import annotations

from pathlib import Path

import pytest
import respx
from typer.testing import CliRunner

from .test_cli import BASE, FAST, FILE_URL, PID, SDXL, assert_one_line_error, invoke, prediction

ESCAPES = ["../../escaped", "/tmp/abs-escape", "..", "a/b", "a\\b"]


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.mark.parametrize("hostile", ESCAPES)
def test_run_out_refuses_an_escaping_prediction_id(
    respx_mock: respx.MockRouter, tmp_path: Path, hostile: str
) -> None:
    out = tmp_path / "sandbox" / "out"
    respx_mock.post(f"{BASE}/v1/predictions").respond(
        201, json=prediction("succeeded", id=hostile, output=[FILE_URL])
    )
    fetch = respx_mock.get(FILE_URL).respond(200, content=b"png")
    result = invoke(CliRunner(), ["run", SDXL, "--prompt", "x", "--out", str(out), *FAST])
    assert_one_line_error(result, 1, "is not a prediction id")
    assert files_under(tmp_path) == set()
    assert not fetch.called


def test_download_out_refuses_an_escaping_prediction_id(
    respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    out = tmp_path / "sandbox" / "out"
    respx_mock.get(f"{BASE}/v1/predictions/{PID}").respond(
        200, json=prediction("succeeded", id="../../escaped", output=[FILE_URL])
    )
    fetch = respx_mock.get(FILE_URL).respond(200, content=b"png")
    result = invoke(CliRunner(), ["download", PID, "--out", str(out)])
    assert_one_line_error(result, 1, "'../../escaped' is not a prediction id")
    assert files_under(tmp_path) == set()
    assert not fetch.called
