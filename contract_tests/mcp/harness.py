"""The SDK's own client driving ``replicate-typed mcp`` over stdio, shareable across tests.

``ClientSession`` + ``stdio_client`` live in one task of an event loop on a background thread
(anyio's scopes must be entered and left by the same task), and each test sends coroutines to
that loop. One server process then serves a whole module, which keeps ``make test`` quick.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from mcp import ClientSession, StdioServerParameters, stdio_client

T = TypeVar("T")
START_TIMEOUT = 60.0
CALL_TIMEOUT = 60.0


class McpHarness:
    """``replicate-typed [global...] mcp [args...]`` as a child process, with its session."""

    def __init__(
        self,
        args: Sequence[str],
        env: Mapping[str, str],
        *,
        global_args: Sequence[str] = (),
        cwd: Path | None = None,
        errlog: Path,
    ) -> None:
        self.params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "replicate_typed.cli", *global_args, "mcp", *args],
            env=dict(env),
            cwd=cwd,
        )
        self.errlog = errlog
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.session: ClientSession | None = None
        self._stop: asyncio.Event | None = None
        self._holder: Future[None] | None = None

    def start(self) -> McpHarness:
        self.thread.start()
        ready: Future[None] = Future()
        self._holder = asyncio.run_coroutine_threadsafe(self._hold(ready), self.loop)
        ready.result(START_TIMEOUT)
        return self

    async def _hold(self, ready: Future[None]) -> None:
        self._stop = asyncio.Event()
        try:
            with self.errlog.open("w", encoding="utf-8") as errlog:
                async with stdio_client(self.params, errlog=errlog) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        self.session = session
                        ready.set_result(None)
                        await self._stop.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    def run(
        self, work: Callable[[ClientSession], Awaitable[T]], timeout: float = CALL_TIMEOUT
    ) -> T:
        """``await work(session)`` on the session's loop; its result."""
        assert self.session is not None
        session = self.session

        async def go() -> T:
            return await work(session)

        return asyncio.run_coroutine_threadsafe(go(), self.loop).result(timeout)

    def call(self, name: str, arguments: dict[str, Any] | None = None, **options: Any) -> Any:
        return self.run(lambda s: s.call_tool(name, arguments, **options))

    def stderr(self) -> str:
        return self.errlog.read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        if self._holder is not None:
            try:
                self._holder.result(20)
            except Exception:
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
