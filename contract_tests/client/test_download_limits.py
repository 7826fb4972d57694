"""Downloads bound memory and disk by ``max_bytes`` whatever the ``Content-Encoding``, and every
failure is a ``DownloadError``.

Compression bombs (gzip and deflate of 1 GiB of zeros in ~1 MB; br and zstd), decoded from the
raw bytes with bounded output: the tests count what the server's stream handed out and what
reached the file (no timing, no memory measurement: that is ``make bench-downloads``).
Redirects to ``data:``/``file:``/other schemes, downgrades, loops; truncated and corrupt bodies.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import threading
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replicate_typed.client import _decoding, _download_core
from replicate_typed.client.downloads import DownloadTooLargeError, adownload, download
from replicate_typed.client.errors import DownloadError

URL = "https://replicate.delivery/pbxt/abc123/out-0.png"
MAX = 1 << 20  # 1 MiB
PIECE = _decoding.PIECE

try:
    import brotli
except ImportError:  # pragma: no cover - brotli is a dev dependency
    brotli = None
try:
    import zstandard
except ImportError:  # pragma: no cover - zstandard is a dev dependency
    zstandard = None

needs_br = pytest.mark.skipif(
    not _decoding.available()["br"], reason="brotli >= 1.2 (bounded output) not installed"
)
needs_zstd = pytest.mark.skipif(not _decoding.available()["zstd"], reason="zstandard missing")


@functools.cache
def bomb(encoding: str) -> bytes:
    """A small body that decodes to far more than MAX (gzip/deflate: 1 GiB in ~1 MB)."""
    zeros = b"\0" * (4 << 20)
    if encoding == "gzip":  # 256 gzip members of 4 MiB of zeros each
        member = zlib.compressobj(9, zlib.DEFLATED, 31)
        return (member.compress(zeros) + member.flush()) * 256
    if encoding == "deflate":  # one raw deflate stream: identical blocks after full flushes
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        first = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
        again = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
        return first + again * 254 + c.flush()
    if encoding == "br":
        return bytes(brotli.compress(b"\0" * (32 << 20), quality=1))
    if encoding == "zstd":
        return bytes(zstandard.ZstdCompressor(level=1).compress(b"\0" * (32 << 20)))
    raise AssertionError(encoding)


def encode(encoding: str, data: bytes) -> bytes:
    if encoding in ("gzip", "x-gzip"):
        return gzip.compress(data)
    if encoding == "deflate":
        return zlib.compress(data)
    if encoding == "raw-deflate":
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        return c.compress(data) + c.flush()
    if encoding == "br":
        return bytes(brotli.compress(data, quality=1))
    if encoding == "zstd":
        return bytes(zstandard.ZstdCompressor(level=1).compress(data))
    if encoding == "identity":
        return data
    raise AssertionError(encoding)


class Counting(httpx.SyncByteStream, httpx.AsyncByteStream):
    """The server's body in 64 KiB pieces; counts the bytes the client pulled."""

    def __init__(self, body: bytes, piece: int = 64 * 1024) -> None:
        self.body = body
        self.piece = piece
        self.pulled = 0

    def _pieces(self) -> Iterator[bytes]:
        for start in range(0, len(self.body), self.piece):
            chunk = self.body[start : start + self.piece]
            self.pulled += len(chunk)
            yield chunk

    def __iter__(self) -> Iterator[bytes]:
        yield from self._pieces()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._pieces():
            yield chunk


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every piece written to a download's file."""
    sizes: list[int] = []
    original: Callable[[Any, bytes], None] = _download_core._Sink.write

    def record(self: Any, chunk: bytes) -> None:
        sizes.append(len(chunk))
        original(self, chunk)

    monkeypatch.setattr(_download_core._Sink, "write", record)
    return sizes


def serve(respx_mock: respx.MockRouter, body: bytes, **headers: str) -> Counting:
    stream = Counting(body)
    respx_mock.get(URL).mock(return_value=httpx.Response(200, headers=headers, stream=stream))
    return stream


BOMBS = [
    pytest.param("gzip", id="gzip"),
    pytest.param("deflate", id="deflate"),
    pytest.param("br", id="br", marks=needs_br),
    pytest.param("zstd", id="zstd", marks=needs_zstd),
]


@pytest.mark.parametrize("encoding", BOMBS)
def test_a_compression_bomb_stops_at_max_bytes_with_bounded_pieces(
    respx_mock: respx.MockRouter, tmp_path: Path, written: list[int], encoding: str
) -> None:
    body = bomb(encoding)
    stream = serve(respx_mock, body, **{"content-encoding": encoding})
    with pytest.raises(DownloadTooLargeError, match=f"max_bytes={MAX}"):
        download(URL, tmp_path, max_bytes=MAX)
    assert list(tmp_path.iterdir()) == []  # the partial file is gone
    assert max(written) <= 2 * PIECE  # no chunk was decoded whole into memory
    assert sum(written) <= MAX + 2 * PIECE  # the limit fired at once
    assert stream.pulled <= 2 * 64 * 1024  # and the rest of the body was never read
    if encoding in ("gzip", "deflate"):
        assert len(body) > 10 * stream.pulled


@pytest.mark.parametrize("encoding", BOMBS)
async def test_async_compression_bomb_is_bounded_too(
    respx_mock: respx.MockRouter, tmp_path: Path, written: list[int], encoding: str
) -> None:
    stream = serve(respx_mock, bomb(encoding), **{"content-encoding": encoding})
    with pytest.raises(DownloadTooLargeError):
        await adownload(URL, tmp_path, max_bytes=MAX)
    assert list(tmp_path.iterdir()) == []
    assert max(written) <= 2 * PIECE and sum(written) <= MAX + 2 * PIECE
    assert stream.pulled <= 2 * 64 * 1024


def test_raw_bytes_count_too(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    """A body that decodes to little but is itself larger than max_bytes is not read on."""
    member = gzip.compress(b"")  # 20 bytes, decodes to nothing
    stream = serve(respx_mock, member * 200_000, **{"content-encoding": "gzip"})
    with pytest.raises(DownloadTooLargeError, match="bytes received"):
        download(URL, tmp_path, max_bytes=MAX)
    assert stream.pulled <= MAX + 64 * 1024


ENCODINGS = ["identity", "gzip", "x-gzip", "deflate", "raw-deflate"]
if _decoding.available()["br"]:
    ENCODINGS.append("br")
if _decoding.available()["zstd"]:
    ENCODINGS.append("zstd")


@given(
    data=st.one_of(st.binary(max_size=3000), st.just(bytes(range(256)) * 700)),
    stack=st.lists(st.sampled_from(ENCODINGS), min_size=1, max_size=2),
    piece=st.integers(1, 70_000),
)
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_property_every_encoding_and_chunking_decodes_exactly(
    tmp_path: Path, data: bytes, stack: list[str], piece: int
) -> None:
    body = data
    for name in stack:
        body = encode(name, body)
    header = ", ".join("deflate" if n == "raw-deflate" else n for n in stack)
    stream = Counting(body, piece)
    with respx.mock:
        respx.get(URL).mock(
            return_value=httpx.Response(200, headers={"content-encoding": header}, stream=stream)
        )
        path = download(URL, tmp_path, overwrite=True)
    assert path.read_bytes() == data


@pytest.mark.parametrize(
    "encoding",
    [
        "gzip",
        "deflate",
        pytest.param("br", marks=needs_br),
        pytest.param("zstd", marks=needs_zstd),
    ],
)
def test_truncated_compressed_body_is_an_error(
    respx_mock: respx.MockRouter, tmp_path: Path, encoding: str
) -> None:
    body = encode(encoding, bytes(range(256)) * 400)
    serve(respx_mock, body[: len(body) - 6], **{"content-encoding": encoding})
    with pytest.raises(DownloadError, match="truncated|corrupt"):
        download(URL, tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("header", "body", "match"),
    [
        ("gzip", b"not gzip at all", "corrupt gzip"),
        ("deflate", b"\xff\xff\xff\xff", "corrupt deflate"),
        ("compress", b"x", "unsupported Content-Encoding 'compress'"),
        ("gzip, snappy", b"x", "unsupported Content-Encoding 'snappy'"),
    ],
)
def test_corrupt_or_unknown_encodings_are_errors(
    respx_mock: respx.MockRouter, tmp_path: Path, header: str, body: bytes, match: str
) -> None:
    serve(respx_mock, body, **{"content-encoding": header})
    with pytest.raises(DownloadError, match=match):
        download(URL, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_only_boundedly_decodable_encodings_are_asked_for(
    respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    route = respx_mock.get(URL).respond(200, content=b"x")
    download(URL, tmp_path)
    asked = route.calls.last.request.headers["accept-encoding"]
    assert asked == _decoding.accept_encoding()
    assert set(asked.split(", ")) <= {"gzip", "deflate", "br", "zstd"}


# --- redirects --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "match"),
    [
        ("data:text/plain;base64,aGVsbG8=", "refused"),
        ("file:///etc/passwd", "refused"),
        ("ftp://files.example/x", "refused"),
        ("javascript:alert(1)", "refused"),
        ("http://cdn.example/x.png", "down to"),
        ("https://[::1", "refused"),
        ("", "without Location"),
    ],
)
@pytest.mark.parametrize("run", ["sync", "async"])
async def test_bad_redirects_are_download_errors(
    respx_mock: respx.MockRouter, tmp_path: Path, location: str, match: str, run: str
) -> None:
    headers = {"location": location} if location else {}
    respx_mock.get(URL).respond(302, headers=headers)
    with pytest.raises(DownloadError, match=match):
        if run == "sync":
            download(URL, tmp_path)
        else:
            await adownload(URL, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_redirect_loop_is_cut(respx_mock: respx.MockRouter, tmp_path: Path) -> None:
    route = respx_mock.get(URL).respond(302, headers={"location": URL})
    with pytest.raises(DownloadError, match="more than 10 redirects"):
        download(URL, tmp_path)
    assert route.call_count == 11


def test_credentials_do_not_follow_a_redirect_to_another_origin(
    respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    same = "https://replicate.delivery/other/out-0.png"
    other = "https://cdn.example/blob.png"
    respx_mock.get(URL).respond(302, headers={"location": "/other/out-0.png"})
    respx_mock.get(same).respond(307, headers={"location": other})
    last = respx_mock.get(other).respond(200, content=b"ok")
    headers = {"Authorization": "Bearer file-host-secret", "Cookie": "c=1", "X-Trace": "t"}
    path = download(URL, tmp_path, headers=headers)
    assert path.read_bytes() == b"ok" and path.name == "out-0.png"
    hops = [call.request for call in respx_mock.calls]
    assert [str(r.url) for r in hops] == [URL, same, other]
    assert hops[1].headers["authorization"] == "Bearer file-host-secret"  # same origin
    assert "authorization" not in hops[2].headers and "cookie" not in hops[2].headers
    assert hops[2].headers["x-trace"] == "t"
    assert last.called


@pytest.mark.parametrize(
    "headers",
    [{"X-A": "a\r\nX-Injected: 1"}, {"X-A": "\x00"}, {"X A": "v"}, {"X-A": "é"}],
)
def test_header_values_are_checked_before_any_request(
    respx_mock: respx.MockRouter, tmp_path: Path, headers: dict[str, str]
) -> None:
    route = respx_mock.get(URL).respond(200, content=b"x")
    with pytest.raises(DownloadError, match="refusing to download: headers"):
        download(URL, tmp_path, headers=headers)
    assert not route.called


# --- a real socket: the body ends before its Content-Length -------------------------------------


class _Short(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b"x" * 1000)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


def test_body_shorter_than_its_content_length_is_an_error(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Short)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/out.png"
        with pytest.raises(DownloadError, match="RemoteProtocolError|incomplete|closed"):
            download(url, tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    assert list(tmp_path.iterdir()) == []
