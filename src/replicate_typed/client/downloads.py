"""Download prediction outputs (``FileOutput`` URLs) safely, before their links expire.

- Only ``http``, ``https`` and ``data`` URLs; ``data:`` URIs are decoded locally.
- Streamed to a temporary file in the target directory, then renamed into place: a failed
  download never leaves a partial file behind.
- ``max_bytes`` is enforced from ``Content-Length`` up front and again while streaming, on the
  bytes received and on the bytes written: the body is read raw and decoded here with bounded
  output (:mod:`._decoding`), so a compression bomb costs constant memory whatever its
  ``Content-Encoding`` (gzip, deflate, br, zstd).
- Redirects are followed by hand (at most 10): each target is checked like the first URL
  (``http``/``https`` with a host; never from https down to http), and credentials given in
  ``headers`` do not follow a redirect to another origin. Every failure is a
  :class:`~replicate_typed.client.errors.DownloadError`.
- Files named after the URL get a sanitised name (no path traversal, no separators, no hidden
  or empty names, length-limited, a sensible extension).
- Downloading again is idempotent. ``if_exists`` says what happens when the name is taken:
  ``"keep-both"`` (the default) keeps the existing file and saves under a free name
  (``out.png`` → ``out-1.png``) *unless* that file, or one of its numbered siblings up to the
  first free name, already holds the same content (sha256): then nothing is written and that
  file's path is returned. ``"overwrite"`` replaces the file (left untouched when its content is
  the same). ``"skip"`` keeps the existing file whatever it holds, without reading the body.
  A file written earlier by the same :func:`download_all` call is never skipped or replaced (two
  outputs sharing a name both arrive). ``on_file(path, outcome)`` is told each file's
  :data:`Outcome`.
- The API token is never sent to the file host: an ``Authorization`` header of the given
  client is removed from download requests.

Output links expire (about an hour after the prediction); a 4xx/5xx answer raises
:class:`DownloadHTTPError` saying so.
"""

from __future__ import annotations

from replicate_typed.client._async_downloads import adownload, adownload_all
from replicate_typed.client._download_core import (
    DEFAULT_MAX_BYTES,
    MAX_NAME_LENGTH,
    DownloadHTTPError,
    DownloadTooLargeError,
    IfExists,
    OnFile,
    Outcome,
    file_urls,
    output_dir,
    safe_filename,
)
from replicate_typed.client._sync_downloads import download, download_all

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_NAME_LENGTH",
    "DownloadHTTPError",
    "DownloadTooLargeError",
    "IfExists",
    "OnFile",
    "Outcome",
    "adownload",
    "adownload_all",
    "download",
    "download_all",
    "file_urls",
    "output_dir",
    "safe_filename",
]
