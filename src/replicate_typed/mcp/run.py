"""Serving: stdio (the agent starts the process) or streamable HTTP on one local port."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio

from replicate_typed.client import AsyncClient
from replicate_typed.core.model import ModelInfo
from replicate_typed.mcp.server import ServerSettings, build_server

__all__ = ["serve_http", "serve_stdio"]


def serve_stdio(
    models: list[ModelInfo[Any, Any]],
    client_factory: Callable[[], AsyncClient] = AsyncClient,
    settings: ServerSettings | None = None,
) -> None:
    """Serve over stdin/stdout until the client closes them."""
    from mcp.server.stdio import stdio_server

    server = build_server(models, client_factory, settings)

    async def main() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(main, backend="asyncio")


def serve_http(
    models: list[ModelInfo[Any, Any]],
    port: int,
    host: str = "127.0.0.1",
    client_factory: Callable[[], AsyncClient] = AsyncClient,
    settings: ServerSettings | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve streamable HTTP at ``http://host:port/mcp`` until interrupted (loopback hosts get
    the SDK's DNS-rebinding protection)."""
    import uvicorn

    server = build_server(models, client_factory, settings)
    app = server.streamable_http_app(host=host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    http = uvicorn.Server(config)

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(http.serve)
            while not http.started:
                await anyio.sleep(0.05)
                if http.should_exit:
                    return
            if on_ready is not None:
                bound = http.servers[0].sockets[0].getsockname() if http.servers else (host, port)
                on_ready(f"http://{host}:{bound[1]}/mcp")

    anyio.run(main, backend="asyncio")
