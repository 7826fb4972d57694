"""Downloading again is idempotent: the same content is never saved twice; ``if_exists`` chooses
keep-both (default), skip or overwrite."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from replicate_typed.client.downloads import (
    Outcome,
    adownload_all,
    download,
    download_all,
)
from replicate_typed.client.errors import InputError

URL = "https://replicate.delivery/pbxt/abc123/output_0.png"


class Exploding(httpx.SyncByteStream):
    """A body that must never be read."""

    def __iter__(self) -> Iterator[bytes]:
        raise AssertionError("the body was read")


def files(directory: Path) -> dict[str, bytes]:
    """Every entry (hidden temporary files included) and its content."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def data_uri(content: bytes) -> str:
    return "data:application/octet-stream;base64," + base64.b64encode(content).decode()


class Seen:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Outcome]] = []

    def __call__(self, path: Path, outcome: Outcome) -> None:
        self.calls.append((path.name, outcome))


def test_downloading_twice_keeps_one_file(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    respx_mock.get(URL).respond(200, content=b"image")
    seen = Seen()
    first = download(URL, tmp_path, on_file=seen)
    second = download(URL, tmp_path, on_file=seen)
    assert first == second == tmp_path / "output_0.png"
    assert files(tmp_path) == {"output_0.png": b"image"}  # no output_0-1.png, no temp file
    assert seen.calls == [("output_0.png", "saved"), ("output_0.png", "same")]


def test_keep_both_keeps_different_content_and_finds_an_earlier_copy(
    respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    respx_mock.get(URL).mock(
        side_effect=[httpx.Response(200, content=c) for c in (b"one", b"two", b"two", b"one")]
    )
    seen = Seen()
    paths = [download(URL, tmp_path, if_exists="keep-both", on_file=seen) for _ in range(4)]
    assert [p.name for p in paths] == [
        "output_0.png",
        "output_0-1.png",
        "output_0-1.png",
        "output_0.png",
    ]
    assert files(tmp_path) == {"output_0.png": b"one", "output_0-1.png": b"two"}
    assert [o for _, o in seen.calls] == ["saved", "saved", "same", "same"]


def test_skip_keeps_the_existing_file_without_reading_the_body(
    respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    route = respx_mock.get(URL).respond(200, stream=Exploding())
    (tmp_path / "output_0.png").write_bytes(b"older, different")
    seen = Seen()
    path = download(URL, tmp_path, if_exists="skip", on_file=seen)
    assert path == tmp_path / "output_0.png"
    assert files(tmp_path) == {"output_0.png": b"older, different"}
    assert seen.calls == [("output_0.png", "skipped")] and route.call_count == 1


def test_skip_still_saves_a_missing_file(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    respx_mock.get(URL).respond(200, content=b"new")
    assert download(URL, tmp_path, if_exists="skip").read_bytes() == b"new"


def test_overwrite_replaces_other_content_and_leaves_the_same_untouched(
    respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    respx_mock.get(URL).mock(side_effect=[httpx.Response(200, content=c) for c in (b"new", b"new")])
    target = tmp_path / "output_0.png"
    target.write_bytes(b"old")
    seen = Seen()
    assert download(URL, tmp_path, if_exists="overwrite", on_file=seen) == target
    assert files(tmp_path) == {"output_0.png": b"new"}
    os.utime(target, (1_000_000, 1_000_000))
    assert download(URL, tmp_path, if_exists="overwrite", on_file=seen) == target
    assert target.stat().st_mtime == 1_000_000  # same content: not rewritten
    assert [o for _, o in seen.calls] == ["replaced", "same"]


@pytest.mark.parametrize("mode", ["keep-both", "skip", "overwrite"])
def test_outputs_sharing_a_name_all_arrive_in_every_mode(
    respx_mock: respx.MockRouter, tmp_path: Path, mode: str
) -> None:
    """Two outputs named out.png in one call: neither is skipped nor replaced by the other."""
    respx_mock.get("https://a.example/x/out.png").respond(200, content=b"A")
    respx_mock.get("https://b.example/y/out.png").respond(200, content=b"B")
    value = ["https://a.example/x/out.png", "https://b.example/y/out.png"]
    paths = download_all(value, tmp_path, if_exists=mode)  # type: ignore[arg-type]
    assert [p.read_bytes() for p in paths] == [b"A", b"B"]
    assert files(tmp_path) == {"out.png": b"A", "out-1.png": b"B"}
    again = download_all(value, tmp_path, if_exists=mode)  # type: ignore[arg-type]
    assert files(tmp_path) == {"out.png": b"A", "out-1.png": b"B"}
    assert again == paths  # skip: the second out.png is not skipped for the first's sake


def test_data_uris_follow_the_same_rules(tmp_path: Path) -> None:
    seen = Seen()
    for content, mode in [(b"x", None), (b"x", None), (b"y", "skip"), (b"y", "overwrite")]:
        download(data_uri(content), tmp_path, filename="inline.bin", if_exists=mode, on_file=seen)  # type: ignore[arg-type]
    assert [o for _, o in seen.calls] == ["saved", "same", "skipped", "replaced"]
    assert files(tmp_path) == {"inline.bin": b"y"}


def test_overwrite_flag_still_means_overwrite(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    respx_mock.get(URL).respond(200, content=b"new")
    (tmp_path / "output_0.png").write_bytes(b"old")
    assert download(URL, tmp_path, overwrite=True).read_bytes() == b"new"
    assert files(tmp_path) == {"output_0.png": b"new"}


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"if_exists": "replace"}, "if_exists: 'replace' is not one of 'keep-both', 'skip'"),
        ({"if_exists": "skip", "overwrite": True}, "'skip' contradicts overwrite=True"),
    ],
)
def test_a_bad_mode_is_refused_before_any_request(
    respx_mock: respx.MockRouter, tmp_path: Path, kwargs: dict[str, object], words: str
) -> None:
    route = respx_mock.get(URL).respond(200, content=b"x")
    with pytest.raises(InputError, match=words):
        download(URL, tmp_path, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=words):
        download_all([URL], tmp_path / "d", **kwargs)  # type: ignore[arg-type]
    assert route.call_count == 0 and files(tmp_path) == {}


async def test_async_download_all_twice_is_idempotent(
    respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    respx_mock.get("https://x.example/a.wav").respond(200, content=b"A")
    respx_mock.get("https://x.example/b.wav").respond(200, content=b"B")
    value = ["https://x.example/a.wav", "https://x.example/b.wav"]
    seen = Seen()
    first = await adownload_all(value, tmp_path, on_file=seen)
    second = await adownload_all(value, tmp_path, on_file=seen)
    assert first == second
    assert files(tmp_path) == {"a.wav": b"A", "b.wav": b"B"}
    assert [o for _, o in seen.calls] == ["saved", "saved", "same", "same"]


@settings(max_examples=30, deadline=None)
@given(contents=st.lists(st.sampled_from([b"", b"a", b"b", b"ab", bytes(range(256))]), max_size=12))
def test_any_sequence_of_downloads_saves_each_content_once(
    tmp_path_factory: pytest.TempPathFactory, contents: list[bytes]
) -> None:
    """Default mode: the folder ends with exactly the distinct contents, one file each, and every
    call returns a file holding what it downloaded."""
    folder = tmp_path_factory.mktemp("idem")
    for content in contents:
        path = download(data_uri(content), folder, filename="out.bin")
        assert path.read_bytes() == content
    saved = files(folder)
    assert sorted(saved.values()) == sorted(set(contents))
    digests = [hashlib.sha256(v).hexdigest() for v in saved.values()]
    assert len(digests) == len(set(digests))
