"""What the sync and async downloads share (see :mod:`replicate_typed.client.downloads`): names,
limits, the ``data:`` decoder, redirect and header checks, the bounded sink and the transfer of
one response to a file, the walk over an output value. The loops that send requests are written
once, asynchronously, in ``_async_downloads.py``; ``_sync_downloads.py`` is generated from it
(scripts/unasync.py)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, Literal, get_args
from urllib.parse import unquote, unquote_to_bytes, urlsplit

import httpx
from pydantic import BaseModel

from replicate_typed.client import _decoding, validation
from replicate_typed.client.errors import DownloadError, InputError
from replicate_typed.core.field_types import ALLOWED_URL_SCHEMES, FileOutput
from replicate_typed.predictions import TypedPrediction

DEFAULT_MAX_BYTES = 1 << 31
IfExists = Literal["keep-both", "skip", "overwrite"]
"""What to do when the target name exists (see the module docstring)."""
Outcome = Literal["saved", "same", "skipped", "replaced"]
"""``saved``: a new file; ``same``: the same content was already there, nothing written;
``skipped``: the name exists (``if_exists="skip"``), not downloaded; ``replaced``: a file with other
content was overwritten."""
OnFile = Callable[[Path, Outcome], None]
MAX_NAME_LENGTH = 120
_CHUNK = 64 * 1024
_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
_SAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_WINDOWS_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}
# Extensions mimetypes does not know or guesses oddly.
_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/wave": ".wav",
    "audio/mpeg": ".mp3",
    "audio/flac": ".flac",
    "audio/ogg": ".ogg",
    "video/mp4": ".mp4",
    "text/plain": ".txt",
    "application/json": ".json",
    "model/gltf-binary": ".glb",
}


class DownloadHTTPError(DownloadError):
    """The file host answered with an error status (often: the link has expired)."""

    def __init__(self, message: str, *, status_code: int, url: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.url = url


class DownloadTooLargeError(DownloadError):
    """The file is larger than ``max_bytes``."""

    def __init__(self, message: str, *, max_bytes: int) -> None:
        super().__init__(message)
        self.max_bytes = max_bytes


# ---------------------------------------------------------------------------------------------
# Pure helpers (shared by sync and async)


def _display(url: str) -> str:
    """A URL fit for messages: no query or fragment (they may be signatures), data URIs cut."""
    if url[:5].lower() == "data:":
        return f"{url[:40].split(',', 1)[0]},… ({len(url)} chars)"
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else url.split("?")[0]
    return shown if len(shown) <= 200 else shown[:180] + "…"


def _scheme(url: str) -> str:
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ALLOWED_URL_SCHEMES:
        shown = scheme or "none"
        raise DownloadError(
            f"refusing to download {_display(url)!r}: scheme {shown!r} is not allowed "
            "(only http, https and data)"
        )
    if scheme != "data" and not urlsplit(url).netloc:
        raise DownloadError(f"refusing to download {_display(url)!r}: no host")
    return scheme


def _extension_for(mime: str | None) -> str:
    if not mime:
        return ""
    mime = mime.split(";", 1)[0].strip().lower()
    if mime in ("application/octet-stream", ""):
        return ""
    return _EXTENSIONS.get(mime) or mimetypes.guess_extension(mime, strict=False) or ""


def safe_filename(name: str, *, default: str = "output", max_length: int = MAX_NAME_LENGTH) -> str:
    """A file name that is safe to create in a directory: the last path component of ``name``
    (percent-decoded once), with only ``A-Z a-z 0-9 . _ -``, no leading dot, not ``.``/``..``, not a
    Windows device name, at most ``max_length`` characters with the extension kept."""
    text = unicodedata.normalize("NFKD", unquote(name))
    # drop accents (é -> e) and control / format characters
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] not in "CM")
    text = re.split(r"[/\\]", text.rstrip("/\\"))[-1]
    text = re.sub(r"_{2,}", "_", _SAFE_CHARS.sub("_", text)).rstrip("._- ")
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or not ext.isalnum() or len(ext) > 16:
        stem, ext = text, ""  # no usable extension (".bashrc" is a stem, not an extension)
    stem = stem.strip("._-")
    if stem.split(".")[0].lower() in _WINDOWS_RESERVED:
        stem = "_" + stem
    suffix = f".{ext}" if ext else ""
    stem = stem[: max(1, max_length - len(suffix))].rstrip("._-") or default
    return (stem + suffix)[:max_length]


def _url_basename(url: str) -> str:
    if url[:5].lower() == "data:":
        return ""
    path = urlsplit(url).path.rstrip("/")
    return path.rsplit("/", 1)[-1]


def _resolve_target(dest: Path | str, url: str, filename: str | None, mime: str | None) -> Path:
    """Where to write: ``dest`` itself, or a sanitised name inside the directory ``dest``."""
    dest_path = Path(dest)
    as_dir = dest_path.is_dir() or str(dest).endswith(("/", os.sep))
    if not as_dir:
        if dest_path.exists() and not dest_path.is_file():
            raise DownloadError(f"cannot write to {str(dest_path)!r}: not a regular file")
        return dest_path
    name = safe_filename(filename if filename is not None else _url_basename(url))
    if not Path(name).suffix:
        name = safe_filename(name + _extension_for(mime))
    return dest_path / name


def _mode(if_exists: str | None, overwrite: bool) -> IfExists:
    """The ``if_exists`` mode; the older ``overwrite=True`` means ``"overwrite"``."""
    allowed = get_args(IfExists)
    if if_exists is None:
        return "overwrite" if overwrite else "keep-both"
    if if_exists not in allowed:
        raise InputError(f"if_exists: {if_exists!r} is not one of {', '.join(map(repr, allowed))}")
    if overwrite and if_exists != "overwrite":
        raise InputError(f"if_exists: {if_exists!r} contradicts overwrite=True")
    mode: IfExists = if_exists  # type: ignore[assignment]
    return mode


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _holds(path: Path, size: int, digest: str) -> bool:
    """``path`` is a regular file with exactly this content."""
    try:
        if not path.is_file() or path.stat().st_size != size:
            return False
        return _sha256(path) == digest
    except OSError:
        return False


def _same_content(target: Path, size: int, digest: str) -> Path | None:
    """``target`` or a numbered sibling (``out-1.png`` ...) up to the first free name that holds
    this content."""
    for candidate in _candidates(target):
        if not candidate.exists():
            return None
        if _holds(candidate, size, digest):
            return candidate
    return None  # pragma: no cover - _candidates raises first


def _skip(target: Path, mode: IfExists, taken: set[Path]) -> bool:
    return mode == "skip" and target not in taken and target.exists()


def _done(path: Path, outcome: Outcome, taken: set[Path], on_file: OnFile | None) -> Path:
    taken.add(path)
    if on_file is not None:
        on_file(path, outcome)
    return path


def _candidates(target: Path) -> Iterator[Path]:
    yield target
    stem, suffix = target.stem, target.suffix
    for i in range(1, 10_000):
        yield target.with_name(f"{stem}-{i}{suffix}")
    raise DownloadError(f"no free file name like {str(target)!r}")


def _parse_data_uri(url: str, max_bytes: int) -> tuple[str, bytes]:
    header, comma, payload = url[5:].partition(",")
    if not comma:
        raise DownloadError(f"malformed data: URI {_display(url)!r}: no ','")
    params = [p.strip() for p in header.split(";")]
    mime = params[0].lower() or "text/plain"
    is_base64 = any(p.lower() == "base64" for p in params[1:])
    estimate = len(payload) * 3 // 4 if is_base64 else len(payload) // 3
    if estimate > max_bytes:
        raise DownloadTooLargeError(
            f"data: URI holds more than max_bytes={max_bytes} bytes", max_bytes=max_bytes
        )
    raw = unquote_to_bytes(payload)
    if is_base64:
        compact = re.sub(rb"[\t\n\f\r ]", b"", raw)
        try:
            raw = base64.b64decode(compact + b"=" * (-len(compact) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise DownloadError(f"malformed data: URI {_display(url)!r}: bad base64") from exc
    if len(raw) > max_bytes:
        raise DownloadTooLargeError(
            f"data: URI holds {len(raw)} bytes, more than max_bytes={max_bytes}",
            max_bytes=max_bytes,
        )
    return mime, raw


def _check_response(response: httpx.Response, url: str, max_bytes: int) -> str | None:
    """Raise for an error status or a too-large Content-Length; return the MIME type."""
    if not 200 <= response.status_code < 300:
        hint = (
            "the link may have expired (output files are deleted about an hour after the "
            "prediction); fetch the prediction again for fresh URLs"
        )
        raise DownloadHTTPError(
            f"download of {_display(url)} failed with HTTP {response.status_code}: {hint}",
            status_code=response.status_code,
            url=_display(url),
        )
    length = response.headers.get("content-length")
    if length is not None and length.strip().isdigit() and int(length) > max_bytes:
        raise DownloadTooLargeError(
            f"download of {_display(url)} is {int(length)} bytes, more than max_bytes={max_bytes}",
            max_bytes=max_bytes,
        )
    content_type = response.headers.get("content-type")
    return content_type.split(";", 1)[0].strip().lower() if content_type else None


class _Sink:
    """A temporary file next to the target, renamed into place only when complete."""

    def __init__(self, directory: Path, max_bytes: int, url: str) -> None:
        self.max_bytes = max_bytes
        self.url = url
        self.size = 0
        self.digest = hashlib.sha256()
        directory.mkdir(parents=True, exist_ok=True)
        for _ in range(100):
            self.path = directory / f".{secrets.token_hex(8)}.download"
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                continue
            break
        else:  # pragma: no cover - 100 random collisions
            raise DownloadError(f"cannot create a temporary file in {str(directory)!r}")
        self.file: IO[bytes] = os.fdopen(fd, "wb")

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise DownloadTooLargeError(
                f"download of {_display(self.url)} exceeded max_bytes={self.max_bytes}",
                max_bytes=self.max_bytes,
            )
        self.digest.update(chunk)
        self.file.write(chunk)

    def abort(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)

    def commit(self, target: Path, mode: IfExists, taken: set[Path]) -> tuple[Path, Outcome]:
        """Move the complete file into place per ``mode`` (see the module docstring)."""
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        digest = self.digest.hexdigest()
        if mode == "overwrite" and target not in taken:
            if _holds(target, self.size, digest):
                self.path.unlink(missing_ok=True)
                return target, "same"
            existed = target.exists()
            os.replace(self.path, target)
            return target, "replaced" if existed else "saved"
        same = _same_content(target, self.size, digest)
        if same is not None:
            self.path.unlink(missing_ok=True)
            return same, "same"
        for candidate in _candidates(target):
            try:
                os.link(self.path, candidate)  # atomic: fails if the name exists
            except FileExistsError:
                continue
            except OSError:
                # No hard links here (some network / FAT file systems): best effort instead.
                if candidate.exists():
                    continue
                os.replace(self.path, candidate)
                return candidate, "saved"
            self.path.unlink(missing_ok=True)
            return candidate, "saved"
        raise AssertionError("unreachable")  # pragma: no cover


def _save_bytes(
    data: bytes,
    url: str,
    mime: str | None,
    dest: Path | str,
    filename: str | None,
    mode: IfExists,
    max_bytes: int,
    taken: set[Path],
    on_file: OnFile | None,
) -> Path:
    target = _resolve_target(dest, url, filename, mime)
    if _skip(target, mode, taken):
        return _done(target, "skipped", taken, on_file)
    sink = _Sink(target.parent, max_bytes, url)
    try:
        sink.write(data)
        path, outcome = sink.commit(target, mode, taken)
    except BaseException:
        sink.abort()
        raise
    return _done(path, outcome, taken, on_file)


_MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CREDENTIALS = frozenset({"authorization", "proxy-authorization", "cookie"})


def _check_headers(headers: Mapping[str, str] | None) -> dict[str, str] | None:
    """The caller's headers, each name and value checked by the header rule (values are never
    shown: they may be credentials)."""
    if headers is None:
        return None
    checked: dict[str, str] = {}
    for name, value in headers.items():
        try:
            validation.check_header_name(name, "headers")
            validation.check_header_value(value, f"headers[{name!r}]")
        except validation.UnsafeValueError as exc:
            where = exc.field if exc.field == "headers" else f"headers[{name!r}]"
            what = f"{validation.shown(name)} " if exc.field == "headers" else ""
            raise DownloadError(f"refusing to download: {where}: {what}{exc.rule}") from None
        checked[name] = value
    return checked


def _request(
    http: httpx.Client | httpx.AsyncClient, url: str, headers: Mapping[str, str] | None
) -> httpx.Request:
    request = http.build_request("GET", url, headers=headers)
    if not headers or not any(k.lower() == "authorization" for k in headers):
        request.headers.pop("authorization", None)  # never leak the API token to a file host
    if not headers or not any(k.lower() == "accept-encoding" for k in headers):
        # only encodings decoded with bounded output (see _decoding)
        request.headers["accept-encoding"] = _decoding.accept_encoding()
    return request


def _redirect(
    response: httpx.Response, url: str, headers: dict[str, str] | None
) -> tuple[str, dict[str, str] | None]:
    """Where a redirect leads, checked like the first URL (http/https with a host, never from
    https down to http); credentials the caller gave do not follow it to another origin."""
    location = response.headers.get("location")
    if not location:
        raise DownloadError(
            f"download of {_display(url)}: HTTP {response.status_code} redirect without Location"
        )
    try:
        target = str(httpx.URL(url).join(location))
    except (httpx.InvalidURL, TypeError, ValueError):
        raise DownloadError(
            f"download of {_display(url)}: redirect refused: invalid URL {_display(location)!r}"
        ) from None
    parts = urlsplit(target)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.netloc:
        raise DownloadError(
            f"download of {_display(url)}: redirect to {_display(target)!r} refused "
            "(only http and https URLs with a host are followed)"
        )
    if scheme == "http" and urlsplit(url).scheme.lower() == "https":
        raise DownloadError(
            f"download of {_display(url)}: redirect from https down to {_display(target)!r} refused"
        )
    if headers and validation.origin_of(target) != validation.origin_of(url):
        headers = {k: v for k, v in headers.items() if k.lower() not in _CREDENTIALS}
    return target, headers


def _redirect_failure(exc: Exception, url: str) -> DownloadError | None:
    """httpx builds a redirect's request even when not following it, and fails on a Location
    it cannot parse (``data:``, ``javascript:``, a broken URL) before we can check it."""
    if isinstance(exc, httpx.InvalidURL) or "location" in str(exc).lower():
        return DownloadError(
            f"download of {_display(url)}: redirect refused: its Location is not an http(s) URL "
            f"with a host ({type(exc).__name__}: {exc})"
        )
    return None


class _Transfer:
    """One download after its last redirect: response checks, the target name, bounded decoding
    of the raw bytes, ``max_bytes`` on both the raw and the decoded bytes, the temporary file."""

    def __init__(
        self,
        url: str,
        first_url: str,
        dest: Path | str,
        filename: str | None,
        max_bytes: int,
        response: httpx.Response,
    ) -> None:
        self.url = url
        self.max_bytes = max_bytes
        self.raw = 0
        self.response = response
        mime = _check_response(response, url, max_bytes)
        # named after the URL the caller gave, not where a redirect led
        self.target = _resolve_target(dest, first_url, filename, mime)
        self.sink: _Sink | None = None
        self.decoders: list[_decoding.Decoder] = []

    def open(self) -> None:
        self.decoders = _decoding.decoders_for(self.response.headers.get("content-encoding"))
        self.sink = _Sink(self.target.parent, self.max_bytes, self.url)

    def feed(self, chunk: bytes) -> None:
        assert self.sink is not None
        self.raw += len(chunk)
        if self.raw > self.max_bytes:
            raise DownloadTooLargeError(
                f"download of {_display(self.url)} exceeded max_bytes={self.max_bytes} "
                "(bytes received)",
                max_bytes=self.max_bytes,
            )
        for piece in _decoding.run(self.decoders, chunk):
            self.sink.write(piece)

    def finish(self, mode: IfExists, taken: set[Path]) -> tuple[Path, Outcome]:
        assert self.sink is not None
        for piece in _decoding.finish(self.decoders):
            self.sink.write(piece)
        return self.sink.commit(self.target, mode, taken)

    def abort(self) -> None:
        if self.sink is not None:
            self.sink.abort()


def _wrap(exc: Exception, url: str) -> DownloadError:
    if isinstance(exc, _decoding.DecodeError):
        return DownloadError(f"download of {_display(url)} failed: {exc}")
    return DownloadError(f"download of {_display(url)} failed: {type(exc).__name__}: {exc}")


# every failure of a transfer becomes a DownloadError (httpx.InvalidURL and StreamError are
# not httpx.HTTPError)
_FAILURES = (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, _decoding.DecodeError)


# ---------------------------------------------------------------------------------------------
# Whole outputs


def _is_file_url(value: str) -> bool:
    if isinstance(value, FileOutput):
        return True
    lowered = value[:8].lower()
    return lowered.startswith(("http://", "https://", "data:"))


def file_urls(value: Any) -> list[str]:
    """The file URLs in a typed output value, in order: every ``FileOutput`` and every ``str``
    that is an http(s) URL or ``data:`` URI, in lists, tuples, dicts and pydantic models.
    Other text is not a file and is skipped. For a prediction, only its ``output`` is walked."""
    from replicate_typed.types.api import Prediction  # generated: imported when used

    found: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, (Prediction, TypedPrediction)):
            walk(item.output)  # only the output: never its urls (API endpoints) or input
        elif isinstance(item, str):
            if _is_file_url(item):
                found.append(str(item))
        elif isinstance(item, BaseModel):
            for name in type(item).model_fields:
                walk(getattr(item, name))
            for extra in (item.model_extra or {}).values():
                walk(extra)
        elif isinstance(item, Mapping):
            for sub in item.values():
                walk(sub)
        elif isinstance(item, (list, tuple)):
            for sub in item:
                walk(sub)

    walk(value)
    return found


def output_dir(root: Path | str, prediction_id: str) -> Path:
    """``root/<prediction id>``, the folder of one prediction's outputs (CLI, batch runner):
    refused with a :class:`DownloadError` unless the id is a safe id and the folder, resolved,
    lies inside ``root`` (see :mod:`replicate_typed.client.validation`)."""
    try:
        return validation.confined_dir(root, prediction_id, "prediction id")
    except validation.UnsafeValueError as exc:
        raise DownloadError(
            f"refusing to save outputs under {str(root)!r}: {exc}; nothing was written"
        ) from None


def _prepare_dir(dest_dir: Path | str) -> Path:
    directory = Path(dest_dir)
    if directory.exists() and not directory.is_dir():
        raise DownloadError(f"{str(directory)!r} exists and is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    return directory
