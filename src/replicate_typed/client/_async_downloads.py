"""The asynchronous download loops: :func:`adownload` and :func:`adownload_all`.

``_async_downloads.py`` is the one source of both loops: ``_sync_downloads.py`` is generated from
it by ``scripts/unasync.py`` (``make generate``; ``make check`` fails when it differs). Import
them from :mod:`replicate_typed.client.downloads`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from replicate_typed.client._download_core import (
    _CHUNK,
    _FAILURES,
    _MAX_REDIRECTS,
    _REDIRECTS,
    _TIMEOUT,
    DEFAULT_MAX_BYTES,
    IfExists,
    OnFile,
    _check_headers,
    _display,
    _done,
    _mode,
    _parse_data_uri,
    _prepare_dir,
    _redirect,
    _redirect_failure,
    _request,
    _save_bytes,
    _scheme,
    _skip,
    _Transfer,
    _wrap,
    file_urls,
)
from replicate_typed.client.errors import DownloadError

__all__ = ["adownload", "adownload_all"]


async def adownload(
    output: str,
    dest: Path | str,
    *,
    http: httpx.AsyncClient | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    overwrite: bool = False,
    filename: str | None = None,
    headers: Mapping[str, str] | None = None,
    if_exists: IfExists | None = None,
    on_file: OnFile | None = None,
) -> Path:
    """Download one output file; returns the path of the file holding it.

    ``dest``: an existing directory (the file is named after the URL, sanitised, or after
    ``filename``) or the file path to write (a path ending in ``/`` is a directory, created if
    needed). ``if_exists`` (default ``"keep-both"``; ``overwrite=True`` means ``"overwrite"``):
    what happens when that name is taken; the same content is never saved twice (see
    :mod:`replicate_typed.client.downloads`). ``headers`` are sent as given (the client's
    ``Authorization`` is not).
    """
    return await _adownload(
        output,
        dest,
        http,
        max_bytes,
        _mode(if_exists, overwrite),
        filename,
        headers,
        set(),
        on_file,
    )


async def adownload_all(
    value: Any,
    dest_dir: Path | str,
    *,
    http: httpx.AsyncClient | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    overwrite: bool = False,
    headers: Mapping[str, str] | None = None,
    if_exists: IfExists | None = None,
    on_file: OnFile | None = None,
) -> list[Path]:
    """Download every file of an output value (see :func:`file_urls`) into ``dest_dir``
    (created if missing), one at a time; returns the paths in output order. Stops at the first
    failure (files already written stay, complete). Run again on the same folder, nothing is
    saved twice (``if_exists``, ``on_file``: see :func:`adownload`)."""
    mode = _mode(if_exists, overwrite)
    urls = file_urls(value)
    directory = _prepare_dir(dest_dir)
    client = http if http is not None else httpx.AsyncClient(timeout=_TIMEOUT)
    taken: set[Path] = set()
    try:
        return [
            await _adownload(url, directory, client, max_bytes, mode, None, headers, taken, on_file)
            for url in urls
        ]
    finally:
        if http is None:
            await client.aclose()


async def _adownload(
    output: str,
    dest: Path | str,
    http: httpx.AsyncClient | None,
    max_bytes: int,
    mode: IfExists,
    filename: str | None,
    headers: Mapping[str, str] | None,
    taken: set[Path],
    on_file: OnFile | None,
) -> Path:
    url = str(output)
    if _scheme(url) == "data":
        data_mime, data = _parse_data_uri(url, max_bytes)
        return _save_bytes(data, url, data_mime, dest, filename, mode, max_bytes, taken, on_file)
    current, sent = url, _check_headers(headers)
    client = http if http is not None else httpx.AsyncClient(timeout=_TIMEOUT)
    try:
        for _ in range(_MAX_REDIRECTS + 1):
            request = _request(client, current, sent)
            try:
                response = await client.send(request, stream=True, follow_redirects=False)
            except (httpx.InvalidURL, httpx.RemoteProtocolError) as exc:
                failure = _redirect_failure(exc, current)
                if failure is None:
                    raise
                raise failure from exc
            try:
                if response.status_code in _REDIRECTS:
                    current, sent = _redirect(response, current, sent)
                    continue
                transfer = _Transfer(current, url, dest, filename, max_bytes, response)
                if _skip(transfer.target, mode, taken):
                    return _done(transfer.target, "skipped", taken, on_file)  # body never read
                try:
                    transfer.open()
                    async for chunk in response.aiter_raw(_CHUNK):
                        transfer.feed(chunk)
                    path, outcome = transfer.finish(mode, taken)
                except BaseException:
                    transfer.abort()
                    raise
                return _done(path, outcome, taken, on_file)
            finally:
                await response.aclose()
        raise DownloadError(f"download of {_display(url)}: more than {_MAX_REDIRECTS} redirects")
    except _FAILURES as exc:
        raise _wrap(exc, current) from exc
    finally:
        if http is None:
            await client.aclose()
