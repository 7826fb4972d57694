"""``replicate-typed``: run generated models from the command line (Typer + Rich).

    replicate-typed run stability-ai/sdxl --prompt "a lighthouse" --width 768 --out ./out
    replicate-typed run black-forest-labs/flux-schnell --prompt "..." --megapixels 0.25
    replicate-typed get ID | cancel ID | list --limit 5 | models | download ID --out DIR
    replicate-typed batch inputs.jsonl --model stability-ai/sdxl --out DIR
    replicate-typed mock --port 8080          # the built-in mock server, in the foreground
    replicate-typed mcp                       # every model as a typed MCP tool (stdio)

This module only assembles the application: the global options (kept in
:mod:`replicate_typed.cli.context`) and one command group per module of
:mod:`replicate_typed.cli.commands`. Failures become one line and an exit code in
:class:`replicate_typed.cli.root.RootGroup` (2 for bad usage or input, 1 for everything else,
130 when interrupted); the API token is never printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from replicate_typed.cli import context
from replicate_typed.cli.commands.batch import batch_command
from replicate_typed.cli.commands.download import download_outputs
from replicate_typed.cli.commands.mcp import run_mcp
from replicate_typed.cli.commands.mock import run_mock
from replicate_typed.cli.commands.models import list_models
from replicate_typed.cli.commands.predictions import (
    cancel_prediction,
    get_prediction,
    list_predictions,
)
from replicate_typed.cli.commands.run import run_app
from replicate_typed.cli.help import HelpCommand
from replicate_typed.cli.root import RootGroup
from replicate_typed.client.defaults import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT

__all__ = ["app", "main"]

_HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    cls=RootGroup,
    name="replicate-typed",
    help="Typed client for Replicate-format prediction APIs: run generated models, inspect "
    "predictions, download outputs, start the built-in mock server.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings=_HELP_OPTIONS,
)


def _version_callback(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"replicate-typed {version('replicate-typed')}")
        except PackageNotFoundError:
            typer.echo("replicate-typed (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            envvar="REPLICATE_BASE_URL",
            help="API base URL: https://api.replicate.com (the default) or a router's "
            "https://host/replicate; requests go to {base}/v1/...",
        ),
    ] = None,
    api_token_file: Annotated[
        Path | None,
        typer.Option(
            "--api-token-file",
            help="Read the API token from this file instead of REPLICATE_API_TOKEN.",
            dir_okay=False,
        ),
    ] = None,
    request_timeout: Annotated[
        float,
        typer.Option("--request-timeout", help="Seconds one HTTP request may take.", min=0.1),
    ] = DEFAULT_TIMEOUT,
    max_retries: Annotated[
        int,
        typer.Option(
            "--max-retries",
            help="Retries of one request after a connection error, 429 or 5xx (with backoff).",
            min=0,
        ),
    ] = DEFAULT_MAX_RETRIES,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Show the version and exit.",
            callback=_version_callback,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Global options. The token comes from REPLICATE_API_TOKEN or --api-token-file only."""
    cli_state = context.state(ctx)
    cli_state.base_url = base_url or None
    cli_state.api_token_file = api_token_file
    cli_state.request_timeout = request_timeout
    cli_state.max_retries = max_retries


for _name, _function in (
    ("get", get_prediction),
    ("cancel", cancel_prediction),
    ("list", list_predictions),
    ("download", download_outputs),
    ("models", list_models),
    ("mock", run_mock),
    ("batch", batch_command),
    ("mcp", run_mcp),
):
    app.command(_name, cls=HelpCommand, context_settings=_HELP_OPTIONS)(_function)
app.add_typer(run_app, name="run")


def main() -> None:
    """Console entry point (``replicate-typed``)."""
    command = typer.main.get_command(app)
    command.main(prog_name="replicate-typed")


if __name__ == "__main__":  # pragma: no cover
    main()
