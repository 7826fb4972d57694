"""What every command group shares: the global options' state, the consoles, the token and the
client factory. Command modules import this, never the root application (no cycles in ``cli/``).

The token comes from ``REPLICATE_API_TOKEN`` or ``--api-token-file`` only; it is registered with
the :data:`~replicate_typed.cli.errors.redactor` the moment it is read, so nothing the CLI prints
can show it. Every problem with the token or the base URL is bad usage (exit 2), found before any
request is sent.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from replicate_typed.cli.errors import EXIT_USAGE, CliError, redactor
from replicate_typed.cli.validate import check_base_url
from replicate_typed.client.defaults import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from replicate_typed.client import AsyncClient, Client

__all__ = [
    "CliState",
    "state",
    "stdout",
    "stderr",
    "read_token",
    "base_url",
    "make_client",
    "make_async_client",
    "open_client",
    "close",
]

_STATE_KEY = "replicate_typed.cli"


@dataclass
class CliState:
    """The global options (``replicate-typed --base-url ... COMMAND``)."""

    base_url: str | None = None
    api_token_file: Path | None = None
    request_timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES


def state(ctx: typer.Context) -> CliState:
    """The state of this invocation, shared by the root callback and every sub-command."""
    found = ctx.meta.get(_STATE_KEY)
    if not isinstance(found, CliState):
        found = CliState(base_url=os.environ.get("REPLICATE_BASE_URL") or None)
        ctx.meta[_STATE_KEY] = found
    return found


def stdout() -> Console:
    """Results (paths, tables, JSON): stdout, no highlighting, no wrapping of long values."""
    return Console(soft_wrap=True, highlight=False)


def stderr() -> Console:
    """Progress, notes and warnings: stderr."""
    return Console(stderr=True, soft_wrap=True, highlight=False)


def read_token(cli_state: CliState) -> str:
    """The API token (exit 2 naming where it should come from when it is missing or unusable)."""
    path = cli_state.api_token_file
    if path is not None:
        source = f"--api-token-file {str(path)!r}"
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CliError(f"cannot read {source}: {exc.strerror}", exit_code=EXIT_USAGE) from None
        except UnicodeDecodeError:
            raise CliError(f"{source} is not UTF-8 text", exit_code=EXIT_USAGE) from None
        if not token:
            raise CliError(f"{source} is empty", exit_code=EXIT_USAGE)
    else:
        source = "REPLICATE_API_TOKEN"
        token = os.environ.get("REPLICATE_API_TOKEN", "").strip()
        if not token:
            raise CliError(
                "no API token: set REPLICATE_API_TOKEN or pass --api-token-file PATH",
                exit_code=EXIT_USAGE,
            )
    redactor.add(token)
    if not token.isprintable():
        raise CliError(
            f"the API token in {source} contains control characters or line breaks "
            "(value not shown); it must be one line of printable text",
            exit_code=EXIT_USAGE,
        )
    return token


def base_url(cli_state: CliState) -> str | None:
    """The checked ``--base-url`` / ``REPLICATE_BASE_URL`` (None: the official API)."""
    if cli_state.base_url is None:
        return None
    return check_base_url(cli_state.base_url)


def make_client(cli_state: CliState) -> Client:
    """A :class:`Client` from the global options (close it with :func:`close`)."""
    from replicate_typed.client import Client

    url = base_url(cli_state)
    token = read_token(cli_state)
    return Client(
        api_token=token,
        base_url=url,
        timeout=cli_state.request_timeout,
        max_retries=cli_state.max_retries,
    )


def make_async_client(cli_state: CliState) -> AsyncClient:
    """An :class:`AsyncClient` from the global options (use it as ``async with``)."""
    from replicate_typed.client import AsyncClient

    url = base_url(cli_state)
    token = read_token(cli_state)
    return AsyncClient(
        api_token=token,
        base_url=url,
        timeout=cli_state.request_timeout,
        max_retries=cli_state.max_retries,
    )


def close(client: Any, *, interrupted: bool = False) -> None:
    """Close the client's connection pool -- unless Ctrl-C interrupted the command: the code it
    interrupted may hold the pool's lock (a KeyboardInterrupt can land between a lock's acquire
    and the ``with`` that releases it), so closing could wait forever. The process is about to
    exit; the operating system closes its sockets."""
    if interrupted:
        return
    closer = getattr(client, "close", None)
    if callable(closer):
        closer()


@contextmanager
def open_client(ctx: typer.Context) -> Iterator[Client]:
    """``with open_client(ctx) as client:``: a client for this invocation, closed afterwards
    (not after Ctrl-C: see :func:`close`)."""
    client = make_client(state(ctx))
    interrupted = False
    try:
        yield client
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        close(client, interrupted=interrupted)
