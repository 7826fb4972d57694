"""The types of special model fields: file inputs (``FileInput``), file outputs (``FileOutput``)
and secrets (``Secret``). Generated models annotate their fields with them."""

from __future__ import annotations

import base64
import io
import mimetypes
from pathlib import Path
from typing import IO, Annotated, Any, TypeAlias
from urllib.parse import urlsplit

from pydantic import (
    GetCoreSchemaHandler,
    PlainSerializer,
    PlainValidator,
    SecretStr,
    SerializationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError, core_schema

__all__ = ["FileInput", "FileOutput", "Secret", "LocalFile", "ALLOWED_URL_SCHEMES"]

ALLOWED_URL_SCHEMES = ("http", "https", "data")

LocalFile: TypeAlias = Path | bytes | bytearray | IO[bytes]
"""A local file given to a ``format: uri`` input: sent as a data URI or uploaded by the client."""


def _check_url(value: str) -> str:
    scheme = urlsplit(value).scheme.lower()
    if scheme not in ALLOWED_URL_SCHEMES or (scheme != "data" and "://" not in value):
        raise PydanticCustomError(
            "file_input_url",
            "must be an http(s) URL, a data: URI or a local file (Path, bytes, file object); got '{value}'",
            {"value": value[:80]},
        )
    return value


def _validate_file_input(value: Any) -> str | LocalFile:
    if isinstance(value, str):
        return _check_url(value)
    if isinstance(value, (Path, bytes, bytearray)):
        return value
    if hasattr(value, "read"):
        return value  # type: ignore[no-any-return]  # a binary file object
    raise PydanticCustomError(
        "file_input_type",
        "must be a URL string, a data: URI, a Path, bytes or a binary file object; got {type_name}",
        {"type_name": type(value).__name__},
    )


def _guess_mime(name: str | None) -> str:
    if name:
        guessed, _ = mimetypes.guess_type(name)
        if guessed:
            return guessed
    return "application/octet-stream"


def local_file_bytes(value: LocalFile) -> tuple[bytes, str | None]:
    """Read a local file input; returns its bytes and file name (if known)."""
    if isinstance(value, Path):
        return value.read_bytes(), value.name
    if isinstance(value, (bytes, bytearray)):
        return bytes(value), None
    data = value.read()
    name = getattr(value, "name", None)
    if isinstance(value, io.IOBase) and value.seekable():
        value.seek(0)
    return data, Path(name).name if isinstance(name, str) else None


def to_data_uri(data: bytes, name: str | None = None) -> str:
    """Encode bytes as a ``data:`` URI (base64), the MIME type guessed from the name."""
    return f"data:{_guess_mime(name)};base64,{base64.b64encode(data).decode('ascii')}"


def _serialize_file_input(value: str | LocalFile, info: SerializationInfo) -> str | LocalFile:
    """JSON dumps inline local files as data URIs; python dumps keep the object untouched
    (so the client can upload large files with their names)."""
    if isinstance(value, str) or info.mode != "json":
        return value
    data, name = local_file_bytes(value)
    return to_data_uri(data, name)


FileInput = Annotated[
    str | Path | bytes | bytearray | IO[bytes],
    PlainValidator(_validate_file_input),
    PlainSerializer(_serialize_file_input, return_type=Any, when_used="always"),
    WithJsonSchema({"type": "string", "format": "uri"}),
]
"""A ``format: uri`` input: an http(s) URL, a ``data:`` URI, or a local file the client sends."""


def _reveal(secret: SecretStr) -> str:
    return secret.get_secret_value()


Secret = Annotated[
    SecretStr,
    SerializationInfo,
    PlainSerializer(_reveal, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "password", "writeOnly": True}),
]
"""A secret input (``format: password`` / ``x-cog-secret``): masked in repr and str, sent in JSON."""


def _file_output(value: str) -> FileOutput:
    """Only an absolute http(s) URL with a host, or a ``data:`` URI, is a file output: an empty
    string, a bare path or another scheme (``file:``, ``ftp:``, ``javascript:``) is refused."""
    scheme = urlsplit(value).scheme.lower() if ":" in value else ""
    ok = False
    if scheme == "data":
        ok = "," in value
    elif scheme in ("http", "https"):
        try:
            ok = bool(urlsplit(value).hostname) and value[len(scheme) : len(scheme) + 3] == "://"
        except ValueError:
            ok = False
    if not ok:
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise PydanticCustomError(
            "file_output_url",
            "a file output must be an http(s) URL or a data: URI; got '{value}'",
            {"value": shown},
        )
    return FileOutput(value)


class FileOutput(str):
    """A file URL (or ``data:`` URI) in a prediction's output.

    It is a ``str`` (so it compares and serialises as the URL), with helpers to fetch it before
    the link expires (Replicate deletes outputs after an hour): see
    :func:`replicate_typed.client.downloads.download`.
    """

    __slots__ = ()

    @property
    def url(self) -> str:
        return str(self)

    @property
    def scheme(self) -> str:
        return urlsplit(self).scheme.lower()

    @property
    def is_data_uri(self) -> bool:
        return self.scheme == "data"

    @property
    def filename(self) -> str:
        """The last path segment of the URL (``output.png``), or ``output`` for a data URI."""
        if self.is_data_uri:
            return "output"
        name = urlsplit(self).path.rstrip("/").rsplit("/", 1)[-1]
        return name or "output"

    def __repr__(self) -> str:
        shown = self if len(self) <= 120 else f"{self[:100]}…({len(self)} chars)"
        return f"FileOutput({str(shown)!r})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            _file_output,
            core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(
                str, return_schema=core_schema.str_schema()
            ),
        )
