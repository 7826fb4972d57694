"""``replicate-typed download ID`` twice saves nothing twice; ``--if-exists`` chooses."""

from __future__ import annotations

from pathlib import Path

import httpx
import respx
from typer.testing import CliRunner

from contract_tests.cli.test_cli import BASE, FILE_URL, PID, invoke, png_bytes, prediction

SECOND_URL = "https://delivery.example.test/pbxt/def/out-1.png"


def serve(respx_mock: respx.MockRouter, *bodies: bytes) -> respx.Route:
    respx_mock.get(f"{BASE}/v1/predictions/{PID}").respond(
        200, json=prediction("succeeded", output=[FILE_URL, SECOND_URL])
    )
    respx_mock.get(SECOND_URL).respond(
        200, content=b"second", headers={"content-type": "image/png"}
    )
    return respx_mock.get(FILE_URL).mock(
        side_effect=[
            httpx.Response(200, content=body, headers={"content-type": "image/png"})
            for body in bodies
        ]
    )


def names(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_download_twice_keeps_one_copy(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    image = png_bytes()
    serve(respx_mock, image, image)
    runner = CliRunner()
    first = invoke(runner, ["download", PID, "--out", str(tmp_path)])
    assert first.exit_code == 0, first.output
    assert f"saved 2 files in {tmp_path / PID}/" in first.stderr
    again = invoke(runner, ["download", PID, "--out", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert names(tmp_path / PID) == {"out-0.png": image, "out-1.png": b"second"}
    assert "2 files in" in again.stderr and "2 already there with the same content" in again.stderr
    assert again.stdout.split() == [
        str(tmp_path / PID / "out-0.png"),
        str(tmp_path / PID / "out-1.png"),
    ]


def test_if_exists_modes(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    route = serve(respx_mock, b"changed", b"changed again", b"changed again")
    folder = tmp_path / PID
    folder.mkdir()
    (folder / "out-0.png").write_bytes(b"original")
    runner = CliRunner()
    keep = invoke(runner, ["download", PID, "--out", str(tmp_path), "--if-exists", "keep-both"])
    assert keep.exit_code == 0, keep.output
    assert names(folder) == {
        "out-0.png": b"original",
        "out-0-1.png": b"changed",
        "out-1.png": b"second",
    }
    assert f"saved 2 files in {folder}/" in keep.stderr
    skip = invoke(runner, ["download", PID, "--out", str(tmp_path), "--if-exists", "skip"])
    assert skip.exit_code == 0, skip.output
    assert names(folder)["out-0.png"] == b"original"
    assert "2 skipped (the name exists)" in skip.stderr
    over = invoke(runner, ["download", PID, "--out", str(tmp_path), "--if-exists", "overwrite"])
    assert over.exit_code == 0, over.output
    assert names(folder) == {
        "out-0.png": b"changed again",
        "out-0-1.png": b"changed",
        "out-1.png": b"second",
    }
    assert "1 replaced" in over.stderr and "1 already there with the same content" in over.stderr
    assert route.call_count == 3  # skip still asks for the headers, it never reads a body
    bad = invoke(runner, ["download", PID, "--out", str(tmp_path), "--if-exists", "replace"])
    assert bad.exit_code == 2 and "--if-exists" in bad.stderr
