"""``replicate-typed mcp``: every model of the package as a typed tool for AI agents (MCP).

An application on top of the client (like ``cli/`` and ``batch/``): it imports the client, the
generated models and ``core/``; nothing below imports it. It needs the ``[mcp]`` extra (the
official ``mcp`` SDK), imported only when the server is built.

    from replicate_typed.mcp import serve_stdio, load_catalog
    serve_stdio(load_catalog(project=None, builtin=True))
"""

from __future__ import annotations

from replicate_typed._extras import require

require("mcp", "replicate_typed.mcp")

from replicate_typed.mcp.catalog import CatalogError, load_catalog  # noqa: E402
from replicate_typed.mcp.run import serve_http, serve_stdio  # noqa: E402
from replicate_typed.mcp.server import ServerSettings, build_server  # noqa: E402

__all__ = [
    "CatalogError",
    "ServerSettings",
    "build_server",
    "load_catalog",
    "serve_http",
    "serve_stdio",
]
