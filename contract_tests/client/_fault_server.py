"""A small local HTTP server that misbehaves on purpose (test-only; no tests here).

The first path segment picks the fault; the rest is the API path under that base, so
``Client(base_url=f"{server.url}/drip")`` sends its requests to the dripping server:

==============  ===================================================================
``ok``          a GET answers a ``starting`` prediction, a POST creates one
``drip``        headers at once, then the body one byte every ``DRIP`` seconds
``headerdrip``  the status line and headers one byte every ``DRIP`` seconds
``hang``        reads the request, never answers
``huge``        ``Content-Length`` of 1 GiB (the body never comes)
``flood``       a chunked body of zeros, as fast as the client reads (counted)
``storm``       every request: 429 with ``Retry-After`` from ``RETRY_AFTER`` (default 30)
``unknown``     a prediction whose status is ``pondering`` forever (stream URL: none)
``ssehuge``     create/get as ``ok`` with a stream URL; the stream sends one endless event
``ssedrip``     the stream drips an event's bytes and never ends it
==============  ===================================================================

The server counts the body bytes it sent (``sent``) so tests can bound what a client read.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

DRIP = 0.05
PID = "faultpid0000000000000000001"


class FaultServer:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self.sent = Counter[str]()
        self.requests = Counter[str]()
        self.retry_after: dict[str, str] = {}
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="fault-server")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, limit=1 << 20)
        )
        self.port = server.sockets[0].getsockname()[1]
        self.server = server
        self.ready.set()
        self.loop.run_forever()

    def prediction(self, mode: str, status: str = "starting") -> dict[str, Any]:
        body: dict[str, Any] = {"id": PID, "status": status, "output": None, "logs": ""}
        if mode in ("ssehuge", "ssedrip"):
            body["urls"] = {"stream": f"{self.url}/{mode}/stream/{PID}"}
        return body

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                if length:
                    await reader.readexactly(length)
                mode = target.strip("/").split("/", 1)[0]
                self.requests[mode] += 1
                if not await self._answer(mode, method, target, writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass  # shutting down: end quietly (the server gathers its tasks)
        finally:
            writer.close()

    async def _send(
        self, writer: asyncio.StreamWriter, status: str, body: bytes, headers: str = ""
    ) -> None:
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{headers}\r\n".encode()
            + body
        )
        await writer.drain()

    async def _answer(
        self, mode: str, method: str, target: str, writer: asyncio.StreamWriter
    ) -> bool:
        if mode == "hang":
            await asyncio.sleep(3600)
            return False
        if mode == "storm":
            wait = self.retry_after.get(mode, "30")
            body = json.dumps(
                {"title": "Request was throttled.", "status": 429, "retry_after": 30}
            ).encode()
            await self._send(writer, "429 Too Many Requests", body, f"Retry-After: {wait}\r\n")
            return True
        if mode == "huge":
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 1073741824\r\n\r\n{"
            )
            await writer.drain()
            await asyncio.sleep(3600)
            return False
        if mode == "flood":
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n"
            )
            chunk = b"0" * 65536
            frame = b"10000\r\n" + chunk + b"\r\n"
            for _ in range(32768):  # up to 2 GiB, unless the client stops reading
                writer.write(frame)
                await writer.drain()
                self.sent[mode] += len(chunk)
            return False
        if mode == "drip":
            body = json.dumps(self.prediction(mode)).encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(body) + 100000}\r\n\r\n".encode()
            )
            for byte in body + b" " * 100000:
                writer.write(bytes([byte]))
                await writer.drain()
                self.sent[mode] += 1
                await asyncio.sleep(DRIP)
            return False
        if mode == "headerdrip":
            body = json.dumps(self.prediction(mode)).encode()
            head = (
                "HTTP/1.1 200 OK\r\n"
                + "X-Padding: " + "p" * 50000 + "\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()  # fmt: skip
            for byte in head:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(DRIP)
            return False
        if "/stream/" in target:
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                b"Cache-Control: no-store\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            if mode == "ssehuge":
                data = b"event: output\nid: 1\ndata: " + b"x" * 65536
                writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.sent[mode] += len(data)
                piece = b"y" * 65536
                for _ in range(32768):
                    writer.write(b"10000\r\n" + piece + b"\r\n")
                    await writer.drain()
                    self.sent[mode] += len(piece)
            else:
                data = b"event: output\nid: 1\ndata: "
                writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                for _ in range(100000):
                    writer.write(b"1\r\nz\r\n")
                    await writer.drain()
                    self.sent[mode] += 1
                    await asyncio.sleep(DRIP)
            return False
        status = "pondering" if mode == "unknown" else "starting"
        code = "201 Created" if method == "POST" else "200 OK"
        await self._send(writer, code, json.dumps(self.prediction(mode, status)).encode())
        return True

    async def _shutdown(self) -> None:
        self.server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self.loop).result(timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


@contextmanager
def fault_server() -> Iterator[FaultServer]:
    server = FaultServer()
    server.thread.start()
    server.ready.wait(5)
    try:
        yield server
    finally:
        server.stop()
