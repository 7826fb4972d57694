"""Download memory under compression bombs (``make bench-downloads``). Not a test: prints a table.

A file host answers with a small body that decodes to 1 GiB of zeros (gzip and deflate in about
1 MB; br and zstd when their packages are installed); the download has ``max_bytes`` = 10 MiB.
Each measurement runs in a fresh process (served in-process by an ``httpx.MockTransport``, so only
the client's decoding is measured) and reports the peak resident set size above the process's
size after imports:

* ``httpx decoding`` -- what ``download`` did before: ``response.iter_bytes()`` (httpx decodes
  each network chunk whole), bytes counted as they come;
* ``download()`` -- now: raw bytes decoded with bounded output (``client/_decoding.py``).

Usage: ``python -m benchmarks.downloads``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

import httpx

URL = "https://files.example/out.bin"
MAX_BYTES = 10 << 20
GIB = 1 << 30


def bomb(encoding: str) -> bytes:
    zeros = b"\0" * (4 << 20)
    if encoding == "gzip":
        member = zlib.compressobj(9, zlib.DEFLATED, 31)
        return (member.compress(zeros) + member.flush()) * (GIB // len(zeros))
    if encoding == "deflate":
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        first = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
        again = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
        return first + again * (GIB // len(zeros) - 2) + c.flush()
    if encoding == "br":
        import brotli

        compressor = brotli.Compressor(quality=1)
        parts = [compressor.process(zeros) for _ in range(GIB // len(zeros))]
        return b"".join(parts) + compressor.finish()
    if encoding == "zstd":
        import zstandard

        obj = zstandard.ZstdCompressor(level=1).compressobj()
        parts = [obj.compress(zeros) for _ in range(GIB // len(zeros))]
        return b"".join(parts) + obj.flush()
    raise ValueError(encoding)


def peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def measure(encoding: str, how: str, body_file: str) -> dict[str, Any]:
    """One measurement, in this (fresh) process."""
    from replicate_typed.client.downloads import DownloadTooLargeError, download

    body = Path(body_file).read_bytes()

    def handler(request: httpx.Request) -> httpx.Response:
        chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
        return httpx.Response(200, headers={"content-encoding": encoding}, stream=_Iter(chunks))

    http = httpx.Client(transport=httpx.MockTransport(handler))
    before = peak_kib()
    outcome = "?"
    with tempfile.TemporaryDirectory() as tmp:
        if how == "httpx":
            size = 0
            with http.stream("GET", URL) as response:
                for chunk in response.iter_bytes(65536):
                    size += len(chunk)
                    if size > MAX_BYTES:
                        outcome = f"stopped after {size >> 20} MiB decoded"
                        break
        else:
            try:
                download(URL, tmp, http=http, max_bytes=MAX_BYTES)
                outcome = "downloaded?!"
            except DownloadTooLargeError:
                outcome = "DownloadTooLargeError"
    return {"before_mb": before / 1024, "peak_mb": peak_kib() / 1024, "outcome": outcome}


class _Iter(httpx.SyncByteStream):
    def __init__(self, chunks: Any) -> None:
        self.chunks = chunks

    def __iter__(self) -> Any:
        yield from self.chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--one", nargs=3, metavar=("ENCODING", "HOW", "BODY"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(*args.one)))
        return
    from replicate_typed.client import _decoding

    encodings = ["gzip", "deflate"] + [e for e in ("br", "zstd") if _decoding.available()[e]]
    print(f"max_bytes = {MAX_BYTES >> 20} MiB; each body decodes to 1 GiB of zeros")
    print(
        "| encoding | body | httpx decoding: peak RSS above start | download(): peak RSS above start | ratio |"
    )
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for encoding in encodings:
            path = Path(tmp) / encoding
            path.write_bytes(bomb(encoding))
            rows = {}
            for how in ("httpx", "download"):
                out = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "benchmarks.downloads",
                        "--one",
                        encoding,
                        how,
                        str(path),
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                rows[how] = json.loads(out.stdout)
            grow = {k: v["peak_mb"] - v["before_mb"] for k, v in rows.items()}
            ratio = grow["httpx"] / max(grow["download"], 0.1)
            print(
                f"| {encoding} | {path.stat().st_size / 1024:,.0f} KiB | {grow['httpx']:.1f} MB "
                f"| {grow['download']:.1f} MB ({rows['download']['outcome']}) | {ratio:.0f}x |"
            )


if __name__ == "__main__":
    main()
