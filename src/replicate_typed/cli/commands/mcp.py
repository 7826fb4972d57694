"""``mcp``: every model as a typed tool for AI agents (Model Context Protocol), over stdio or,
with ``--http PORT``, streamable HTTP on 127.0.0.1.

Needs the ``[mcp]`` extra; the SDK is imported only when this command runs. The token and the
base URL are the global ones (``REPLICATE_API_TOKEN`` / ``--api-token-file``,
``REPLICATE_BASE_URL`` / ``--base-url``), checked before the server starts. On stdio, stdout
belongs to the protocol: notes go to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from replicate_typed.cli import context
from replicate_typed.cli.errors import EXIT_USAGE, CliError

__all__ = ["run_mcp"]


def run_mcp(
    ctx: typer.Context,
    http: Annotated[
        int | None,
        typer.Option(
            "--http",
            metavar="PORT",
            min=0,
            max=65535,
            help="Serve streamable HTTP on this port (0 picks one) at /mcp instead of stdio.",
        ),
    ] = None,
    host: Annotated[
        str, typer.Option("--host", metavar="HOST", help="Interface for --http (keep it local).")
    ] = "127.0.0.1",
    models: Annotated[
        list[str] | None,
        typer.Option(
            "--models",
            "-m",
            metavar="OWNER/NAME",
            help="Offer only these models (owner/name; repeat, or separate with commas).",
        ),
    ] = None,
    project: Annotated[
        Path | None,
        typer.Option(
            "--project",
            metavar="DIR",
            help="A project whose pyproject.toml names its generated models in "
            "\\[tool.replicate-typed] (default: the current folder, when it does).",
            file_okay=False,
            exists=True,
        ),
    ] = None,
    builtin: Annotated[
        bool,
        typer.Option(
            "--builtin/--no-builtin",
            help="Offer the built-in models too when a project's models are offered.",
        ),
    ] = False,
    deadline: Annotated[
        float,
        typer.Option(
            "--deadline",
            metavar="SECONDS",
            min=1.0,
            help="Seconds one model call may wait for its prediction; then it is canceled.",
        ),
    ] = 1800.0,
    inline_images: Annotated[
        int,
        typer.Option(
            "--inline-images", metavar="N", min=0, max=16, help="Images returned inline per call."
        ),
    ] = 4,
    inline_max_bytes: Annotated[
        int,
        typer.Option(
            "--inline-max-bytes",
            metavar="BYTES",
            min=1024,
            help="Largest image returned inline (bytes).",
        ),
    ] = 1024 * 1024,
) -> None:
    """Serve every generated model as an MCP tool (stdio by default)."""
    from replicate_typed._extras import require

    require("mcp", "replicate-typed mcp")
    from replicate_typed.mcp import (
        CatalogError,
        ServerSettings,
        load_catalog,
        serve_http,
        serve_stdio,
    )
    from replicate_typed.mcp.results import InlineLimits

    cli_state = context.state(ctx)
    # token and base URL checked now (exit 2), not at the first tool call
    client = context.make_async_client(cli_state)
    chosen = [ref.strip() for item in models or [] for ref in item.split(",") if ref.strip()]
    try:
        catalog = load_catalog(project=project or Path.cwd(), builtin=builtin, models=chosen)
    except CatalogError as exc:
        raise CliError(str(exc), exit_code=EXIT_USAGE) from None
    settings = ServerSettings(
        deadline=deadline,
        inline=InlineLimits(max_images=inline_images, max_image_bytes=inline_max_bytes),
    )
    if http is None:
        print(f"replicate-typed mcp: {len(catalog)} models on stdio", file=sys.stderr, flush=True)
        serve_stdio(catalog, lambda: client, settings)
        return

    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: --host {host}: the MCP endpoint has no authentication; anyone who can "
            "reach it runs models on your token",
            file=sys.stderr,
            flush=True,
        )

    def ready(url: str) -> None:
        print(f"MCP server listening on {url} ({len(catalog)} models)", flush=True)

    serve_http(catalog, http, host, lambda: client, settings, on_ready=ready)
