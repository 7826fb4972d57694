"""Uploaded files: ``files.create`` (``multipart/form-data``, parsed by python-multipart),
``files.get``, ``files.list``, ``files.delete`` and ``files.download``; uploads expire after
``MockConfig.upload_ttl``."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from replicate_typed.mock.bodies import InvalidJSON, loads_strict, too_large
from replicate_typed.mock.clock import Clock
from replicate_typed.mock.config import MockConfig
from replicate_typed.mock.messages import (
    MockRequest,
    MockResponse,
    decode_cursor,
    encode_cursor,
    field_error,
    invalid,
    iso,
    json_response,
    not_found,
)
from replicate_typed.mock.store import Store, Upload

__all__ = ["Files", "MalformedMultipart", "Part", "parse_multipart"]

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MEDIA_TYPE = re.compile(rf"{_TOKEN}/{_TOKEN}(?:[ \t]*;[\x20-\x7e]*)?")
"""RFC 9110's ``type "/" subtype`` (tokens of tchar) with printable-ASCII parameters. A ``type``
is served back as the download's ``Content-Type`` only when it is one: the spec allows any
string, so the file's JSON keeps it as given and the header falls back to
``application/octet-stream``."""


@dataclass(frozen=True)
class Part:
    """One part of a form: its bytes and, if given, its file name and content type."""

    data: bytes
    filename: str | None = None
    content_type: str | None = None


class MalformedMultipart(ValueError):
    """The body is not ``multipart/form-data`` as its ``Content-Type`` announces."""


def parse_multipart(content_type: str, body: bytes) -> dict[str, Part]:
    """``multipart/form-data`` -> ``{name: Part}`` (a later part of the same name wins).

    One pass over ``body`` in C-speed searches (100 MB in well under a second). Parts without a
    ``name`` are skipped; a body without its closing boundary raises :class:`MalformedMultipart`.
    """
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise MalformedMultipart("the Content-Type has no boundary")
    parts: dict[str, Part] = {}
    headers: dict[bytes, bytes] = {}
    field_name: list[bytes] = []
    field_value: list[bytes] = []
    chunks: list[bytes] = []
    ended = False

    def on_part_begin() -> None:
        headers.clear()
        chunks.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        field_name.append(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        field_value.append(data[start:end])

    def on_header_end() -> None:
        headers[b"".join(field_name).strip().lower()] = b"".join(field_value).strip()
        field_name.clear()
        field_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunks.append(data[start:end])

    def on_part_end() -> None:
        _, disposition = parse_options_header(headers.get(b"content-disposition", b""))
        name = disposition.get(b"name")
        if name is None:
            return
        filename = disposition.get(b"filename")
        media_type = parse_options_header(headers.get(b"content-type", b""))[0].decode("latin-1")
        parts[name.decode("utf-8", "replace")] = Part(
            chunks[0] if len(chunks) == 1 else b"".join(chunks),
            filename.decode("utf-8", "replace") if filename is not None else None,
            media_type if _MEDIA_TYPE.fullmatch(media_type) else None,
        )

    def on_end() -> None:
        nonlocal ended
        ended = True

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_end": on_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except FormParserError as error:
        raise MalformedMultipart(
            f"the multipart body is malformed ({type(error).__name__})"
        ) from None
    if not ended:
        raise MalformedMultipart("the multipart body ends before its closing boundary")
    return parts


def _text(parts: dict[str, Part], name: str) -> str | None:
    part = parts.get(name)
    return None if part is None else part.data.decode("utf-8")


class Files:
    """``files.*`` over the uploads in ``store``."""

    def __init__(self, config: MockConfig, clock: Clock, store: Store) -> None:
        self.config = config
        self.clock = clock
        self.store = store

    def create(self, req: MockRequest) -> MockResponse:
        """``files.create`` (the body's size is checked before, see :mod:`.bodies`)."""
        limit = self.config.max_upload_bytes
        content_type = req.headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            return invalid([field_error("content", "send multipart/form-data with a content part")])
        try:
            parts = parse_multipart(content_type, req.body)
        except MalformedMultipart as error:
            return invalid([field_error("content", str(error))])
        if "content" not in parts:
            return invalid([field_error("content", "content is required", "required")])
        content = parts["content"]
        if len(content.data) > limit:
            return too_large(limit)
        texts: dict[str, str | None] = {}
        for name in ("filename", "type"):
            try:
                texts[name] = _text(parts, name)
            except UnicodeDecodeError:
                return invalid([field_error(name, f"{name} must be UTF-8 text")])
        filename = texts["filename"]
        filename = filename if filename is not None else (content.filename or "file")
        given_type = (texts["type"] or "").strip()
        if len(filename) > 255:
            return invalid([field_error("filename", "at most 255 characters")])
        ctype = given_type or content.content_type or "application/octet-stream"
        metadata: Any = {}
        if "metadata" in parts:
            try:
                metadata = loads_strict(parts["metadata"].data or b"{}", req.max_json_depth)
            except InvalidJSON as error:
                return invalid([field_error("metadata", f"metadata must be JSON: {error}")])
            if not isinstance(metadata, dict):
                return invalid([field_error("metadata", "metadata must be a JSON object")])
        now = self.clock.now()
        upload = Upload(
            id=self.store.new_id(),
            content=content.data,
            filename=filename,
            content_type=ctype,
            metadata=metadata,
            created_at=now,
            expires_at=now + self.config.upload_ttl,
            sha256=hashlib.sha256(content.data).hexdigest(),
            md5=hashlib.md5(content.data, usedforsecurity=False).hexdigest(),
            prefix=req.prefix,
        )
        self.store.add_upload(upload)
        return json_response(201, self._json(upload, req.prefix, req.base))

    @staticmethod
    def _json(upload: Upload, prefix: str, base: str) -> dict[str, Any]:
        """The file as the API shows it: the upstream schema's fields, plus ``name`` and
        ``etag`` (the content's MD5, as the API sends it; replicate-python 1.0.7 requires both)
        and ``checksums.md5``."""
        return {
            "id": upload.id,
            "name": upload.filename,
            "content_type": upload.content_type,
            "size": len(upload.content),
            "etag": upload.md5,
            "checksums": {"sha256": upload.sha256, "md5": upload.md5},
            "metadata": upload.metadata,
            "created_at": iso(upload.created_at),
            "expires_at": iso(upload.expires_at),
            "urls": {"get": f"{base}{prefix}/v1/files/{upload.id}"},
        }

    def _live(self, fid: str) -> Upload | None:
        upload = self.store.uploads.get(fid)
        if upload is None or self.clock.now() >= upload.expires_at:
            return None
        return upload

    def get(self, req: MockRequest) -> MockResponse:
        """``files.get``"""
        fid = req.params["file_id"]
        upload = self._live(fid)
        if upload is None:
            return not_found(f"File {fid} not found")
        return json_response(200, self._json(upload, req.prefix, req.base))

    def delete(self, req: MockRequest) -> MockResponse:
        """``files.delete``: 204; the file is gone (``get``, ``download`` and ``list`` no
        longer show it)."""
        fid = req.params["file_id"]
        if self._live(fid) is None:
            return not_found(f"File {fid} not found")
        del self.store.uploads[fid]
        return MockResponse(204)

    def list(self, req: MockRequest) -> MockResponse:
        """``files.list``: live uploads, newest first, ``config.page_size`` per page; ``next``
        carries a cursor (``previous`` is always null)."""
        top: int | None = None
        cursor = req.query.get("cursor")
        if cursor is not None:
            try:
                direction, top = decode_cursor(cursor)
            except ValueError:
                direction = ""
            if direction != "b":
                return invalid([field_error("cursor", "invalid cursor")], "Invalid query")
        now = self.clock.now()
        live = [
            u
            for u in reversed(self.store.uploads.values())
            if now < u.expires_at and (top is None or u.seq < top)
        ]
        page = live[: self.config.page_size]
        next_url = None
        if len(live) > len(page):
            token = encode_cursor("b", page[-1].seq)
            next_url = f"{req.base}{req.prefix}/v1/files?cursor={token}"
        return json_response(
            200,
            {
                "next": next_url,
                "previous": None,
                "results": [self._json(u, req.prefix, req.base) for u in page],
            },
        )

    def download(self, req: MockRequest) -> MockResponse:
        """``files.download``"""
        expiry = req.query.get("expiry")
        if expiry is not None and not re.fullmatch(r"-?[0-9]{1,19}", expiry):
            # owner, expiry and signature sign a link; a link without them is the token's
            return invalid([field_error("expiry", "must be an integer (int64)")], "Invalid query")
        fid = req.params["file_id"]
        upload = self._live(fid)
        if upload is None:
            return not_found(f"File {fid} not found")
        ctype = upload.content_type
        if not _MEDIA_TYPE.fullmatch(ctype):  # "0", "text", control bytes: not a media type
            ctype = "application/octet-stream"
        return MockResponse(200, {"content-type": ctype}, upload.content)
