"""Local files in ``format: uri`` inputs: inline small ones as data URIs, upload large ones.

The API accepts http(s) URLs and ``data:`` URIs for file inputs. Data URIs should stay small
(about 256 KB, :data:`INLINE_LIMIT`); anything larger goes through ``files.create`` and the
file's URL is sent instead.

:func:`prepare_input` and :func:`aprepare_input` share one pure planning step
(:func:`plan_input`): it walks the input, reads every local file once, inlines the small ones
and leaves a placeholder for each large one. Only the upload calls differ between sync and
async; :meth:`InputPlan.resolve` then puts the uploaded URLs in place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from pydantic import AnyUrl, BaseModel, SecretBytes, SecretStr
from pydantic_core import Url

from replicate_typed.client.errors import InputError
from replicate_typed.core.field_types import FileOutput, local_file_bytes, to_data_uri

__all__ = [
    "INLINE_LIMIT",
    "InputPlan",
    "PendingUpload",
    "aprepare_input",
    "plan_input",
    "prepare_input",
    "sniff_mime",
]

INLINE_LIMIT = 256 * 1024
"""Local files up to this many bytes are sent inline as data URIs; larger ones are uploaded."""

Upload = Callable[[bytes, str | None], str]
AsyncUpload = Callable[[bytes, str | None], Awaitable[str]]

# Magic numbers of common media types, for bytes given without a file name.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"%PDF-", "pdf"),
    (b"fLaC", "flac"),
    (b"OggS", "ogg"),
    (b"ID3", "mp3"),
)


def sniff_mime(data: bytes) -> str | None:
    """The file extension of well-known binary formats (png, jpg, gif, webp, wav, ...), or None."""
    for magic, ext in _SIGNATURES:
        if data.startswith(magic):
            return ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[4:8] == b"ftyp":
        return "mp4"
    return None


@dataclass(frozen=True)
class PendingUpload:
    """A local file too large to inline: ``upload(data, filename)`` must turn it into a URL."""

    data: bytes = field(repr=False)
    filename: str | None
    fields: tuple[str, ...]
    """Where it occurs in the input (``image``, ``images[2]``), for error messages."""

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True)
class _Placeholder:
    index: int


@dataclass(frozen=True)
class InputPlan:
    """The input with small files inlined and a placeholder for each pending upload."""

    template: Any = field(repr=False)
    uploads: tuple[PendingUpload, ...]

    def resolve(self, urls: list[str]) -> dict[str, Any]:
        """The final input: each placeholder replaced by the URL of its upload (same order)."""
        if len(urls) != len(self.uploads):
            raise ValueError(f"expected {len(self.uploads)} upload URLs, got {len(urls)}")
        result = _substitute(self.template, urls)
        assert isinstance(result, dict)
        return result


def _field_name(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "<input>"


class _Planner:
    def __init__(self, inline_limit: int) -> None:
        self.inline_limit = inline_limit
        self.uploads: list[PendingUpload] = []
        self._by_content: dict[tuple[str, str | None], int] = {}

    def local_file(self, value: Any, path: tuple[str | int, ...]) -> Any:
        where = _field_name(path)
        try:
            data, name = local_file_bytes(value)
        except (OSError, ValueError) as exc:
            reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
            shown = str(value) if isinstance(value, PurePath) else type(value).__name__
            raise InputError(
                f"input {where!r}: cannot read local file {shown!r}: {reason}"
            ) from exc
        if not isinstance(data, (bytes, bytearray)):
            raise InputError(
                f"input {where!r}: file object returned {type(data).__name__}, not bytes; "
                "open files in binary mode ('rb')"
            )
        data = bytes(data)
        if name is None:
            ext = sniff_mime(data)
            shown_name = f"file.{ext}" if ext else None
        else:
            shown_name = name
        if len(data) <= self.inline_limit:
            return to_data_uri(data, shown_name)
        key = (hashlib.sha256(data).hexdigest(), shown_name)
        index = self._by_content.get(key)
        if index is None:
            index = self._by_content[key] = len(self.uploads)
            self.uploads.append(PendingUpload(data=data, filename=shown_name, fields=(where,)))
        else:
            known = self.uploads[index]
            self.uploads[index] = PendingUpload(
                data=known.data, filename=known.filename, fields=(*known.fields, where)
            )
        return _Placeholder(index)

    def walk(self, value: Any, path: tuple[str | int, ...]) -> Any:
        if isinstance(value, FileOutput):
            return str(value)
        if isinstance(value, str):
            return value
        if isinstance(value, (SecretStr, SecretBytes)):
            secret = value.get_secret_value()
            return secret.decode() if isinstance(secret, bytes) else secret
        if isinstance(value, (Url, AnyUrl)):
            return str(value)
        if isinstance(value, (PurePath, bytes, bytearray)):
            if isinstance(value, PurePath) and not isinstance(value, Path):
                value = Path(value)
            return self.local_file(value, path)
        if isinstance(value, BaseModel):
            dumped = value.model_dump(mode="python", by_alias=True, exclude_unset=True)
            return self.walk(dumped, path)
        if isinstance(value, Mapping):
            return {key: self.walk(item, (*path, str(key))) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.walk(item, (*path, i)) for i, item in enumerate(value)]
        if hasattr(value, "read") and callable(value.read):
            return self.local_file(value, path)
        if _is_serialization_iterator(value):
            return self.local_file(_drain(value, path), path)
        return value


def _is_serialization_iterator(value: Any) -> bool:
    kind = type(value)
    return kind.__name__ == "SerializationIterator" and kind.__module__.startswith("pydantic_core")


def _drain(value: Any, path: tuple[str | int, ...]) -> bytes:
    """The bytes of a file object that a python-mode ``model_dump`` wrapped in pydantic's
    ``SerializationIterator`` (it iterates the file's lines; its name is lost)."""
    chunks = list(value)
    if not all(isinstance(chunk, (bytes, bytearray)) for chunk in chunks):
        raise InputError(
            f"input {_field_name(path)!r}: file object returned text, not bytes; "
            "open files in binary mode ('rb')"
        )
    return b"".join(chunks)


def plan_input(values: Mapping[str, Any], *, inline_limit: int = INLINE_LIMIT) -> InputPlan:
    """Walk an input (python-mode dump or plain dict): reveal secrets, stringify URLs, read local
    files, inline those of at most ``inline_limit`` bytes and list the rest as pending uploads.

    Pure apart from reading the local files. Raises :class:`InputError` for an unreadable file.
    Identical large files (same bytes and name) are uploaded once.
    """
    planner = _Planner(inline_limit)
    template = {key: planner.walk(value, (str(key),)) for key, value in values.items()}
    return InputPlan(template=template, uploads=tuple(planner.uploads))


def _substitute(value: Any, urls: list[str]) -> Any:
    if isinstance(value, _Placeholder):
        return urls[value.index]
    if isinstance(value, dict):
        return {key: _substitute(item, urls) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, urls) for item in value]
    return value


def _check_url(url: object, pending: PendingUpload) -> str:
    if not isinstance(url, str) or not url:
        raise InputError(
            f"input {', '.join(pending.fields)!r}: upload returned {type(url).__name__}, not a URL"
        )
    return url


def prepare_input(
    values: dict[str, Any], upload: Upload, *, inline_limit: int = INLINE_LIMIT
) -> dict[str, Any]:
    """The JSON-serialisable ``input`` to send: local files inlined (≤ ``inline_limit`` bytes) or
    uploaded with ``upload(data, filename) -> url``; secrets revealed; URL objects as strings."""
    plan = plan_input(values, inline_limit=inline_limit)
    urls = [_check_url(upload(p.data, p.filename), p) for p in plan.uploads]
    return plan.resolve(urls)


async def aprepare_input(
    values: dict[str, Any], upload: AsyncUpload, *, inline_limit: int = INLINE_LIMIT
) -> dict[str, Any]:
    """Async :func:`prepare_input`: ``upload`` is awaited once per large file, in order."""
    plan = plan_input(values, inline_limit=inline_limit)
    urls = [_check_url(await upload(p.data, p.filename), p) for p in plan.uploads]
    return plan.resolve(urls)
