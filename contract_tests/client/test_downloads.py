"""lib/downloads.py: streamed, atomic, size-limited, scheme-checked downloads with safe names."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from replicate_typed.client.downloads import (
    DownloadHTTPError,
    DownloadTooLargeError,
    adownload,
    adownload_all,
    download,
    download_all,
    file_urls,
    safe_filename,
)
from replicate_typed.client.errors import DownloadError
from replicate_typed.core.field_types import FileOutput

URL = "https://replicate.delivery/pbxt/abc123/out-0.png"
CONTENT = bytes(range(256)) * 1000  # 256 000 bytes, several chunks


class Chunks(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body sent in pieces; optionally the connection breaks after them."""

    def __init__(self, pieces: list[bytes], *, fail: bool = False) -> None:
        self.pieces = pieces
        self.fail = fail

    def __iter__(self) -> Iterator[bytes]:
        yield from self.pieces
        if self.fail:
            raise httpx.ReadError("connection reset")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for piece in self.pieces:
            yield piece
        if self.fail:
            raise httpx.ReadError("connection reset")


def listing(directory: Path) -> list[str]:
    """Every entry, hidden temporary files included."""
    return sorted(p.name for p in directory.iterdir())


def test_streamed_content_equals_bytes(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    respx_mock.get(URL).mock(
        return_value=httpx.Response(200, headers={"content-type": "image/png"}, content=CONTENT)
    )
    path = download(FileOutput(URL), tmp_path)
    assert path == tmp_path / "out-0.png"
    assert path.read_bytes() == CONTENT
    assert listing(tmp_path) == ["out-0.png"]


def test_explicit_file_path_and_parent_created(
    respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    respx_mock.get(URL).mock(return_value=httpx.Response(200, content=b"img"))
    target = tmp_path / "sub" / "dir" / "mine.png"
    assert download(URL, target) == target
    assert target.read_bytes() == b"img"
    assert download(URL, str(tmp_path / "new") + "/") == tmp_path / "new" / "out-0.png"


def test_api_token_not_sent_to_file_host(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    route = respx_mock.get(URL).mock(return_value=httpx.Response(200, content=b"x"))
    with httpx.Client(headers={"Authorization": "Bearer r8_token"}) as http:
        download(URL, tmp_path, http=http)
        download(URL, tmp_path, http=http, headers={"X-Extra": "1"})
    assert all("authorization" not in call.request.headers for call in route.calls)
    assert route.calls.last.request.headers["x-extra"] == "1"


def test_failure_mid_stream_leaves_no_file(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    respx_mock.get(URL).mock(
        return_value=httpx.Response(200, stream=Chunks([b"a" * 70_000, b"b" * 70_000], fail=True))
    )
    with pytest.raises(DownloadError, match="ReadError"):
        download(URL, tmp_path)
    assert listing(tmp_path) == []


def test_failure_does_not_touch_existing_file(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    existing = tmp_path / "out-0.png"
    existing.write_bytes(b"old")
    respx_mock.get(URL).mock(return_value=httpx.Response(200, stream=Chunks([b"new"], fail=True)))
    with pytest.raises(DownloadError):
        download(URL, existing, overwrite=True)
    assert existing.read_bytes() == b"old"
    assert listing(tmp_path) == ["out-0.png"]


def test_size_limit_from_content_length(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    route = respx_mock.get(URL).mock(return_value=httpx.Response(200, content=b"z" * 1001))
    with pytest.raises(DownloadTooLargeError, match="1001 bytes"):
        download(URL, tmp_path, max_bytes=1000)
    assert listing(tmp_path) == []
    assert route.call_count == 1
    assert download(URL, tmp_path, max_bytes=1001).stat().st_size == 1001


def test_size_limit_while_streaming(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    # no Content-Length: a chunked body that keeps going
    respx_mock.get(URL).mock(
        return_value=httpx.Response(200, stream=Chunks([b"q" * 600, b"q" * 600, b"q" * 600]))
    )
    with pytest.raises(DownloadTooLargeError, match="exceeded max_bytes=1000"):
        download(URL, tmp_path, max_bytes=1000)
    assert listing(tmp_path) == []


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("file:///etc/passwd", "file"),
        ("ftp://example.com/a.png", "ftp"),
        ("javascript:alert(1)", "javascript"),
        ("/local/path.png", "none"),
        ("HTTPS:/no-host.png", None),
    ],
)
def test_scheme_rejected(
    respx_mock: respx.MockRouter, tmp_path: Path, url: str, scheme: str | None
) -> None:
    with pytest.raises(DownloadError) as info:
        download(url, tmp_path)
    if scheme is not None:
        assert f"scheme {scheme!r}" in str(info.value)
    assert listing(tmp_path) == []
    assert not respx_mock.calls


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://h.example/a/../../etc/passwd", "passwd"),
        ("https://h.example/x/..", "output"),
        ("https://h.example/x/%2e%2e%2f", "output"),
        ("https://h.example/x/%2e%2e%2fetc%2fpasswd", "passwd"),
        ("https://h.example/x/..%5c..%5cwin.ini", "win.ini"),
        ("https://h.example/x/.hidden", "hidden"),
        ("https://h.example/", "output"),
        ("https://h.example/x/" + "a" * 400 + ".png", "a" * 116 + ".png"),
        ("https://h.example/x/out.png?sig=abc/../../x", "out.png"),
    ],
)
def test_traversal_and_odd_names_stay_inside(
    respx_mock: respx.MockRouter, tmp_path: Path, url: str, name: str
) -> None:
    respx_mock.get(url=url).mock(return_value=httpx.Response(200, content=b"data"))
    dest = tmp_path / "dest"
    dest.mkdir()
    path = download(url, dest)
    assert path.parent == dest
    assert path.name == name
    assert path.read_bytes() == b"data"
    assert listing(tmp_path) == ["dest"]


def test_filename_argument_is_sanitised(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    respx_mock.get(URL).mock(return_value=httpx.Response(200, content=b"d"))
    assert download(URL, tmp_path, filename="../../evil.sh") == tmp_path / "evil.sh"
    assert download(URL, tmp_path, filename="picked") == tmp_path / "picked"


def test_extension_from_content_type_when_url_has_none(
    respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    url = "https://h.example/files/abcdef"
    respx_mock.get(url).mock(
        return_value=httpx.Response(200, headers={"content-type": "image/webp"}, content=b"w")
    )
    assert download(url, tmp_path).name == "abcdef.webp"


@given(name=st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_property_safe_filename(name: str) -> None:
    safe = safe_filename(name)
    assert 0 < len(safe) <= 120
    assert "/" not in safe and "\\" not in safe
    assert not safe.startswith((".", "-"))
    assert safe not in {".", ".."}
    assert safe.isascii() and safe.isprintable()
    assert safe_filename(safe) == safe  # idempotent


def test_data_uri_base64_and_percent(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\xff" * 10
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    path = download(FileOutput(uri), tmp_path)
    assert path == tmp_path / "output.png"
    assert path.read_bytes() == png
    path2 = download("data:text/plain;charset=utf-8,hello%20world%21%0A", tmp_path)
    assert path2 == tmp_path / "output.txt"
    assert path2.read_bytes() == b"hello world!\n"
    # percent-encoded base64 and missing padding are accepted
    assert download("data:application/json;base64,e30", tmp_path).read_bytes() == b"{}"
    assert download("data:;base64,YWI%3D", tmp_path / "x.bin").read_bytes() == b"ab"


def test_data_uri_errors(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="no ','"):
        download("data:image/png;base64", tmp_path)
    with pytest.raises(DownloadError, match="bad base64"):
        download("data:image/png;base64,@@@@", tmp_path)
    with pytest.raises(DownloadTooLargeError):
        download("data:text/plain," + "a" * 50, tmp_path, max_bytes=10)
    assert listing(tmp_path) == []


def test_name_collision_picks_a_free_name(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    respx_mock.get(URL).mock(
        side_effect=[httpx.Response(200, content=c) for c in (b"1", b"2", b"3")]
    )
    (tmp_path / "out-0.png").write_bytes(b"keep")
    first = download(URL, tmp_path)
    second = download(URL, tmp_path)
    assert first.name == "out-0-1.png" and second.name == "out-0-2.png"
    assert (tmp_path / "out-0.png").read_bytes() == b"keep"
    assert (first.read_bytes(), second.read_bytes()) == (b"1", b"2")
    third = download(URL, tmp_path, overwrite=True)
    assert third == tmp_path / "out-0.png" and third.read_bytes() == b"3"


def test_collision_for_explicit_path(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    respx_mock.get(URL).mock(return_value=httpx.Response(200, content=b"new"))
    (tmp_path / "out.png").write_bytes(b"old")
    assert download(URL, tmp_path / "out.png") == tmp_path / "out-1.png"
    assert (tmp_path / "out.png").read_bytes() == b"old"


@pytest.mark.parametrize("status", [403, 404, 410, 500])
def test_http_error_says_link_may_have_expired(
    respx_mock: respx.MockRouter, tmp_path: Path, status: int
) -> None:
    signed = URL + "?X-Amz-Signature=deadbeef"
    respx_mock.get(signed).mock(return_value=httpx.Response(status, text="<Error>expired</Error>"))
    with pytest.raises(DownloadHTTPError) as info:
        download(signed, tmp_path)
    assert info.value.status_code == status
    assert f"HTTP {status}" in str(info.value)
    assert "may have expired" in str(info.value)
    assert "deadbeef" not in str(info.value)  # query strings are never shown
    assert listing(tmp_path) == []


def test_redirect_followed(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    respx_mock.get(URL).mock(
        return_value=httpx.Response(302, headers={"location": "https://cdn.example/blob"})
    )
    respx_mock.get("https://cdn.example/blob").mock(return_value=httpx.Response(200, content=b"r"))
    path = download(URL, tmp_path)
    assert path.name == "out-0.png" and path.read_bytes() == b"r"


class Out(BaseModel):
    image: FileOutput
    caption: str
    extra: list[str]


def test_file_urls_walks_values_in_order() -> None:
    data = "data:text/plain,hi"
    value = {
        "a": [FileOutput("https://x.example/1.png"), "just text", "https://x.example/2.png"],
        "b": Out(
            image=FileOutput("https://x.example/3.png"), caption="a cat", extra=[data, "ftp://no"]
        ),
        "n": 3,
    }
    assert file_urls(value) == [
        "https://x.example/1.png",
        "https://x.example/2.png",
        "https://x.example/3.png",
        data,
    ]
    assert file_urls("plain text output") == []
    assert file_urls(FileOutput("https://x.example/4.png")) == ["https://x.example/4.png"]


def test_download_all(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    for i in range(3):
        respx_mock.get(f"https://x.example/o/out-{i}.png").mock(
            return_value=httpx.Response(200, content=f"img{i}".encode())
        )
    value = [FileOutput(f"https://x.example/o/out-{i}.png") for i in range(3)]
    value.append(FileOutput("data:image/png;base64," + base64.b64encode(b"inline").decode()))
    paths = download_all({"images": value, "text": "no file"}, tmp_path / "outdir")
    assert [p.name for p in paths] == ["out-0.png", "out-1.png", "out-2.png", "output.png"]
    assert [p.read_bytes() for p in paths] == [b"img0", b"img1", b"img2", b"inline"]


async def test_adownload_streams_and_is_atomic(
    respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    route = respx_mock.get(URL).mock(
        side_effect=[
            httpx.Response(200, stream=Chunks([CONTENT[:100_000], CONTENT[100_000:]])),
            httpx.Response(200, stream=Chunks([b"partial"], fail=True)),
            httpx.Response(200, stream=Chunks([b"x" * 800, b"x" * 800])),
            httpx.Response(404),
        ]
    )
    async with httpx.AsyncClient(headers={"Authorization": "Bearer r8_token"}) as http:
        path = await adownload(URL, tmp_path, http=http)
        assert path.read_bytes() == CONTENT
        with pytest.raises(DownloadError):
            await adownload(URL, tmp_path, http=http)
        with pytest.raises(DownloadTooLargeError):
            await adownload(URL, tmp_path, http=http, max_bytes=1000)
        with pytest.raises(DownloadHTTPError, match="may have expired"):
            await adownload(URL, tmp_path, http=http)
    assert listing(tmp_path) == ["out-0.png"]
    assert all("authorization" not in c.request.headers for c in route.calls)
    with pytest.raises(DownloadError, match="scheme 'file'"):
        await adownload("file:///etc/passwd", tmp_path)


async def test_adownload_all(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    respx_mock.get("https://x.example/a.wav").mock(return_value=httpx.Response(200, content=b"A"))
    respx_mock.get("https://x.example/b.wav").mock(return_value=httpx.Response(200, content=b"B"))
    paths = await adownload_all(
        ["https://x.example/a.wav", "text", ("https://x.example/b.wav",)], tmp_path
    )
    assert [(p.name, p.read_bytes()) for p in paths] == [("a.wav", b"A"), ("b.wav", b"B")]


def test_file_urls_of_a_prediction_walks_only_its_output() -> None:
    from replicate_typed.models.cjwbw import rembg
    from replicate_typed.predictions import TypedPrediction
    from replicate_typed.types.api import Prediction

    raw = Prediction.model_validate(
        {
            "id": "p1",
            "model": "cjwbw/rembg",
            "version": rembg.MODEL.version,
            "input": {"image": "https://x.example/in.png"},
            "output": "https://x.example/out.png",
            "data_removed": False,
            "error": None,
            "status": "succeeded",
            "created_at": "2024-11-19T10:00:00Z",
            "urls": {
                "get": "https://api.example/v1/predictions/p1",
                "cancel": "https://api.example/v1/predictions/p1/cancel",
                "web": "https://example/p/p1",
            },
        }
    )
    assert file_urls(raw) == ["https://x.example/out.png"]
    typed = TypedPrediction(raw=raw, model=rembg.MODEL)
    assert file_urls(typed) == ["https://x.example/out.png"]
    assert file_urls([typed, raw]) == ["https://x.example/out.png"] * 2
