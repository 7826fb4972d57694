"""lib/uploads.py: local files in inputs become data URIs (small) or uploaded URLs (large)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import AnyUrl, SecretStr

from replicate_typed.client.errors import InputError
from replicate_typed.client.uploads import (
    INLINE_LIMIT,
    aprepare_input,
    plan_input,
    prepare_input,
)
from replicate_typed.core.field_types import FileOutput

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def decode_data_uri(uri: str) -> tuple[str, bytes]:
    assert uri.startswith("data:"), uri[:40]
    header, _, payload = uri[5:].partition(",")
    mime, _, encoding = header.partition(";")
    assert encoding == "base64"
    return mime, base64.b64decode(payload, validate=True)


class Recorder:
    """An upload callable that records its calls and returns a distinct URL per call."""

    def __init__(self) -> None:
        self.calls: list[tuple[bytes, str | None]] = []

    def __call__(self, data: bytes, filename: str | None) -> str:
        self.calls.append((data, filename))
        return f"https://files.example/{len(self.calls)}/{filename}"


def no_upload(data: bytes, filename: str | None) -> str:
    raise AssertionError(f"upload must not be called (got {len(data)} bytes, {filename!r})")


def test_small_path_becomes_data_uri_with_mime_and_exact_bytes(tmp_path: Path) -> None:
    f = tmp_path / "photo.png"
    f.write_bytes(PNG)
    out = prepare_input({"image": f, "prompt": "a cat"}, no_upload)
    mime, data = decode_data_uri(out["image"])
    assert mime == "image/png"
    assert data == PNG
    assert out["prompt"] == "a cat"
    json.dumps(out)  # JSON-serialisable


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("a.jpg", "image/jpeg"),
        ("b.webp", "image/webp"),
        ("c.txt", "text/plain"),
        ("d", "application/octet-stream"),
    ],
)
def test_mime_guessed_from_name(tmp_path: Path, name: str, mime: str) -> None:
    f = tmp_path / name
    f.write_bytes(b"hello")
    got, data = decode_data_uri(prepare_input({"f": f}, no_upload)["f"])
    assert (got, data) == (mime, b"hello")


def test_large_path_uploaded_once_with_bytes_and_name(tmp_path: Path) -> None:
    big = bytes(range(256)) * (INLINE_LIMIT // 256 + 10)
    f = tmp_path / "big.bin"
    f.write_bytes(big)
    rec = Recorder()
    out = prepare_input({"image": f, "steps": 4}, rec)
    assert rec.calls == [(big, "big.bin")]
    assert out == {"image": "https://files.example/1/big.bin", "steps": 4}


def test_boundary_exactly_limit_inlined_one_more_uploaded() -> None:
    at = b"a" * INLINE_LIMIT
    over = b"b" * (INLINE_LIMIT + 1)
    rec = Recorder()
    out = prepare_input({"at": at, "over": over}, rec)
    assert decode_data_uri(out["at"])[1] == at
    assert rec.calls == [(over, None)]
    assert out["over"] == "https://files.example/1/None"


def test_nested_lists_and_dicts(tmp_path: Path) -> None:
    small = tmp_path / "s.png"
    small.write_bytes(PNG)
    big = tmp_path / "l.png"
    big_bytes = b"\x89PNG\r\n\x1a\n" + b"x" * (INLINE_LIMIT + 5)
    big.write_bytes(big_bytes)
    rec = Recorder()
    values: dict[str, Any] = {
        "images": [small, "https://example.com/keep.png", big],
        "nested": {"mask": [{"file": small}], "n": [1, 2.5, None, True]},
    }
    out = prepare_input(values, rec)
    assert decode_data_uri(out["images"][0]) == ("image/png", PNG)
    assert out["images"][1] == "https://example.com/keep.png"
    assert out["images"][2] == "https://files.example/1/l.png"
    assert decode_data_uri(out["nested"]["mask"][0]["file"])[1] == PNG
    assert out["nested"]["n"] == [1, 2.5, None, True]
    assert rec.calls == [(big_bytes, "l.png")]
    # the caller's structure is not modified
    assert values["images"][0] == small


def test_same_large_file_twice_uploaded_once(tmp_path: Path) -> None:
    f = tmp_path / "same.bin"
    f.write_bytes(b"z" * (INLINE_LIMIT + 1))
    rec = Recorder()
    out = prepare_input({"a": f, "b": [f]}, rec)
    assert len(rec.calls) == 1
    assert out["a"] == out["b"][0] == "https://files.example/1/same.bin"
    plan = plan_input({"a": f, "b": [f]})
    assert plan.uploads[0].fields == ("a", "b[0]")


def test_secret_revealed_and_urls_stringified() -> None:
    out = prepare_input(
        {
            "api_key": SecretStr("s3cr3t-value"),
            "ref": AnyUrl("https://example.com/x.png"),
            "previous": FileOutput("https://replicate.delivery/abc/out.png"),
        },
        no_upload,
    )
    assert out == {
        "api_key": "s3cr3t-value",
        "ref": "https://example.com/x.png",
        "previous": "https://replicate.delivery/abc/out.png",
    }
    assert type(out["previous"]) is str
    json.dumps(out)


def test_bytes_path_and_bytesio_give_the_same_payload(tmp_path: Path) -> None:
    f = tmp_path / "pic.png"
    f.write_bytes(PNG)
    buf = io.BytesIO(PNG)
    out = prepare_input({"p": f, "b": PNG, "ba": bytearray(PNG), "io": buf}, no_upload)
    for key in ("p", "b", "ba", "io"):
        mime, data = decode_data_uri(out[key])
        assert data == PNG, key
        assert mime == "image/png", key  # by name for the Path, sniffed for bytes / BytesIO
    assert buf.tell() == 0  # rewound for reuse


def test_unknown_bytes_are_octet_stream() -> None:
    mime, data = decode_data_uri(prepare_input({"x": b"\x00\x01plain"}, no_upload)["x"])
    assert (mime, data) == ("application/octet-stream", b"\x00\x01plain")


def test_open_binary_file_uses_its_name(tmp_path: Path) -> None:
    f = tmp_path / "clip.mp3"
    f.write_bytes(b"not really mp3")
    with f.open("rb") as fh:
        mime, data = decode_data_uri(prepare_input({"audio": fh}, no_upload)["audio"])
    assert mime == "audio/mpeg"
    assert data == b"not really mp3"


def test_text_mode_file_rejected(tmp_path: Path) -> None:
    f = tmp_path / "t.txt"
    f.write_text("hi")
    with f.open("r") as fh, pytest.raises(InputError, match="binary mode"):
        prepare_input({"doc": fh}, no_upload)


def test_missing_path_names_field_and_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.png"
    with pytest.raises(InputError) as info:
        prepare_input({"images": ["https://ok", missing]}, no_upload)
    message = str(info.value)
    assert "images[1]" in message
    assert str(missing) in message
    assert isinstance(info.value, ValueError)


def test_directory_path_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="'image'"):
        prepare_input({"image": tmp_path}, no_upload)


def test_upload_must_return_a_url() -> None:
    with pytest.raises(InputError, match="not a URL"):
        prepare_input({"f": b"x" * (INLINE_LIMIT + 1)}, lambda data, name: None)


def test_plain_values_untouched() -> None:
    values = {"prompt": "hi", "n": 3, "f": 0.5, "flag": False, "none": None, "t": (1, 2)}
    assert prepare_input(values, no_upload) == {**values, "t": [1, 2]}


async def test_async_variant(tmp_path: Path) -> None:
    small = tmp_path / "s.png"
    small.write_bytes(PNG)
    big_bytes = b"q" * (INLINE_LIMIT + 1)
    calls: list[tuple[bytes, str | None]] = []

    async def upload(data: bytes, filename: str | None) -> str:
        calls.append((data, filename))
        return "https://files.example/async"

    out = await aprepare_input({"a": small, "b": [big_bytes], "k": SecretStr("x")}, upload)
    assert decode_data_uri(out["a"]) == ("image/png", PNG)
    assert out["b"] == ["https://files.example/async"]
    assert out["k"] == "x"
    assert calls == [(big_bytes, None)]


@settings(max_examples=40, deadline=None)
@given(
    st.recursive(
        st.one_of(st.binary(max_size=64), st.text(max_size=8), st.integers(), st.none()),
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
        ),
        max_leaves=8,
    )
)
def test_property_every_byte_string_round_trips(value: Any) -> None:
    out = prepare_input({"v": value}, no_upload)
    json.dumps(out)

    def check(original: Any, got: Any) -> None:
        if isinstance(original, bytes):
            assert decode_data_uri(got)[1] == original
        elif isinstance(original, list):
            assert len(got) == len(original)
            for a, b in zip(original, got, strict=True):
                check(a, b)
        elif isinstance(original, dict):
            assert list(got) == list(original)
            for key in original:
                check(original[key], got[key])
        else:
            assert got == original

    check(value, out["v"])


def test_generated_input_dump_with_path_and_file_object(tmp_path: Path) -> None:
    from replicate_typed.models.cjwbw import rembg

    f = tmp_path / "cat.png"
    f.write_bytes(PNG)
    dumped = rembg.Input(image=f).model_dump(mode="python", by_alias=True, exclude_unset=True)
    assert decode_data_uri(prepare_input(dumped, no_upload)["image"]) == ("image/png", PNG)
    # a python-mode dump wraps file objects in pydantic's SerializationIterator
    raw = PNG + b"\nsecond line\n"
    dumped = rembg.Input(image=io.BytesIO(raw)).model_dump(
        mode="python", by_alias=True, exclude_unset=True
    )
    out = prepare_input(dumped, no_upload)
    assert decode_data_uri(out["image"]) == ("image/png", raw)
    json.dumps(out)
