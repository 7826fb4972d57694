"""The API layer: request building, the clients, retries, polling, streaming, uploads, downloads,
webhooks and errors. Built on :mod:`replicate_typed.core`, the generated API types and the
generated resources; never imports the applications (CLI, batch runner, mock server).

``Client`` and ``AsyncClient`` are written once: :mod:`._async_client` is the source and
:mod:`._sync_client` is generated from it by ``scripts/unasync.py``. The public names are here
(imported on first use, so ``import replicate_typed.client.errors`` stays cheap) and at the
package root (``from replicate_typed import Client``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from replicate_typed.client._async_client import AsyncClient
    from replicate_typed.client._base import ClientOptions
    from replicate_typed.client._requests import (
        resolve_base_url,
        validate_cancel_after,
        validate_prediction_id,
    )
    from replicate_typed.client._sync_client import Client
    from replicate_typed.client.defaults import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT

__all__ = [
    "Client",
    "AsyncClient",
    "ClientOptions",
    "DEFAULT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "resolve_base_url",
    "validate_cancel_after",
    "validate_prediction_id",
]

_LAZY = {
    "Client": "_sync_client",
    "AsyncClient": "_async_client",
    "ClientOptions": "_base",
    "DEFAULT_TIMEOUT": "defaults",
    "DEFAULT_MAX_RETRIES": "defaults",
    # the rules a command line checks its arguments by, before making a client
    "resolve_base_url": "_requests",
    "validate_cancel_after": "_requests",
    "validate_prediction_id": "_requests",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
