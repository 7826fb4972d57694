"""Content-decoding with bounded output, for downloads.

httpx decodes each network chunk in one call: a 64 KiB chunk of a gzip bomb becomes ~64 MiB in
memory before anyone can count it (brotli and zstd expand further). Downloads therefore read the
*raw* bytes and decode them here, where every decoder hands out pieces of at most about
:data:`PIECE` bytes however much a chunk expands, so a ``max_bytes`` limit fires with memory
use independent of the compression ratio.

Supported: ``identity``, ``gzip``/``x-gzip`` (several members), ``deflate`` (zlib-wrapped or
raw), ``br`` (with ``brotli`` >= 1.2 installed, whose decoder can bound its output) and ``zstd``
(with ``zstandard`` installed; input is fed in small slices, window limited to 8 MiB as RFC 8878
allows). :func:`accept_encoding` names exactly these. A body that is corrupt, truncated
(compressed stream without its end) or in another encoding raises :class:`DecodeError`.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

__all__ = ["PIECE", "DecodeError", "Decoder", "accept_encoding", "decoders_for", "run", "finish"]

PIECE = 64 * 1024
_ZSTD_SLICE = 128  # compressed bytes per zstd call: at most 32 blocks of 128 KiB (4 MiB) come out
_ZSTD_MAX_WINDOW = 8 * 1024 * 1024


class DecodeError(Exception):
    """The body cannot be decoded (corrupt, truncated or an unsupported encoding)."""


class Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...

    def finish(self) -> Iterator[bytes]: ...


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        for start in range(0, len(data), PIECE):
            yield data[start : start + PIECE]

    def finish(self) -> Iterator[bytes]:
        return iter(())


class _Zlib:
    """gzip (``wbits`` 16+15, concatenated members) or deflate (zlib-wrapped, else raw)."""

    def __init__(self, encoding: str) -> None:
        self.gzip = encoding != "deflate"
        self.name = "gzip" if self.gzip else "deflate"
        self.first = True
        self.members = 0  # complete gzip members
        self.member_input = False  # the current member (decompressor) has taken input
        # deflate ended, or garbage after the last gzip member (ignored, as gzip(1) does)
        self.done = False
        self.obj = self._new()

    def _new(self, raw: bool = False) -> Any:
        if self.gzip:
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if raw else zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if data:
            self.member_input = True
        fresh = False  # ``data`` is what followed a complete gzip member
        while not self.done:
            try:
                out = self.obj.decompress(data, PIECE)
            except zlib.error as exc:
                if self.first and not self.gzip:  # deflate without the zlib wrapper
                    self.first = False
                    self.obj = self._new(raw=True)
                    continue
                if fresh and self.members:  # not another member: trailing garbage
                    self.done = True
                    return
                raise DecodeError(f"corrupt {self.name} body: {exc}") from None
            self.first = fresh = False
            if out:
                yield out
            data = self.obj.unconsumed_tail
            if self.obj.eof:
                self.members += 1
                rest = self.obj.unused_data
                if not self.gzip:
                    self.done = True  # deflate: one stream; anything after it is ignored
                    return
                self.obj = self._new()  # the next gzip member, if any
                self.member_input = bool(rest)
                if not rest:
                    return
                data, fresh = rest, True
                continue
            if not data and len(out) < PIECE:
                return  # all input taken and no output left waiting

    def finish(self) -> Iterator[bytes]:
        yield from self.feed(b"")
        if not (self.done or not self.member_input):
            raise DecodeError(f"truncated {self.name} body: it ends before its end marker")


class _Brotli:
    def __init__(self) -> None:
        self.module = _optional("brotli")
        self.obj = self.module.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            # Each call returns at most about PIECE bytes and keeps the rest of its input: drain
            # with empty input until nothing comes out (then it needs more input).
            out = self.obj.process(data, output_buffer_limit=PIECE)
            while out:
                yield out
                out = self.obj.process(b"", output_buffer_limit=PIECE)
        except self.module.error as exc:
            raise DecodeError(f"corrupt br body: {exc}") from None

    def finish(self) -> Iterator[bytes]:
        yield from self.feed(b"")
        if not self.obj.is_finished():
            raise DecodeError("truncated br body: it ends before its end marker")


class _Zstd:
    """zstd, frame after frame; each call gets at most a small slice of compressed input."""

    def __init__(self) -> None:
        self.module = _optional("zstandard")
        self.factory = self.module.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW)
        self.obj = self.factory.decompressobj()
        self.frame_input = False  # the current frame has begun and not ended

    def feed(self, data: bytes) -> Iterator[bytes]:
        view = memoryview(data)
        for start in range(0, len(view), _ZSTD_SLICE):
            piece = view[start : start + _ZSTD_SLICE].tobytes()
            while piece:
                self.frame_input = True
                try:
                    out = self.obj.decompress(piece)
                except self.module.ZstdError as exc:
                    raise DecodeError(f"corrupt zstd body: {exc}") from None
                for at in range(0, len(out), PIECE):
                    yield out[at : at + PIECE]
                piece = b""
                if self.obj.eof:  # the frame ended: what follows starts the next one
                    piece = self.obj.unused_data
                    self.obj = self.factory.decompressobj()
                    self.frame_input = False

    def finish(self) -> Iterator[bytes]:
        if self.frame_input:
            raise DecodeError("truncated zstd body: it ends inside a frame")
        return iter(())


def _optional(name: str) -> Any:
    """An optional codec module (untyped, maybe absent), imported when a body needs it."""
    return importlib.import_module(name)


def _brotli_bounded() -> bool:
    try:
        brotli = _optional("brotli")
    except ImportError:
        return False
    # brotli >= 1.2 bounds each call's output; older versions (and brotlicffi < 1.2) cannot
    return hasattr(brotli.Decompressor(), "can_accept_more_data")


def _zstd_available() -> bool:
    try:
        return hasattr(_optional("zstandard"), "ZstdDecompressor")
    except ImportError:
        return False


_AVAILABLE: dict[str, bool] = {}


def available() -> dict[str, bool]:
    if not _AVAILABLE:
        _AVAILABLE.update(br=_brotli_bounded(), zstd=_zstd_available())
    return _AVAILABLE


def accept_encoding() -> str:
    """The ``Accept-Encoding`` of downloads: only what can be decoded with bounded output."""
    names = ["gzip", "deflate"] + [name for name in ("br", "zstd") if available()[name]]
    return ", ".join(names)


def decoders_for(content_encoding: str | None) -> list[Decoder]:
    """The decoders for a ``Content-Encoding`` value, in the order to apply them."""
    names = [p.strip().lower() for p in (content_encoding or "").split(",") if p.strip()]
    decoders: list[Decoder] = []
    for name in reversed(names):  # the last encoding applied is undone first
        if name == "identity":
            continue
        if name in ("gzip", "x-gzip", "deflate"):
            decoders.append(_Zlib(name))
        elif name == "br" and available()["br"]:
            decoders.append(_Brotli())
        elif name == "zstd" and available()["zstd"]:
            decoders.append(_Zstd())
        else:
            raise DecodeError(
                f"unsupported Content-Encoding {name!r} (this client decodes {accept_encoding()})"
            )
    return decoders or [_Identity()]


def _through(decoder: Decoder, pieces: Iterable[bytes]) -> Iterator[bytes]:
    for piece in pieces:
        yield from decoder.feed(piece)


def run(decoders: list[Decoder], chunk: bytes) -> Iterator[bytes]:
    """The decoded pieces of one raw chunk (each at most about :data:`PIECE` bytes)."""
    pieces: Iterable[bytes] = (chunk,)
    for decoder in decoders:
        pieces = _through(decoder, pieces)
    return iter(pieces)


def finish(decoders: list[Decoder]) -> Iterator[bytes]:
    """The last pieces once the body has ended; raises :class:`DecodeError` if truncated."""
    for index, decoder in enumerate(decoders):
        pieces: Iterable[bytes] = decoder.finish()
        for later in decoders[index + 1 :]:
            pieces = _through(later, pieces)
        yield from pieces
