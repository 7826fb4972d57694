"""``Client`` and ``AsyncClient``: the typed clients of a Replicate-format prediction API.

::

    from replicate_typed import Client
    from replicate_typed.models.stability_ai import sdxl

    with Client() as client:                      # REPLICATE_API_TOKEN, REPLICATE_BASE_URL
        images = client.run(sdxl.Input(prompt="a lighthouse"))   # -> list[FileOutput]

The clients are written once: :mod:`._async_client` (``AsyncClient``) is the source and
:mod:`._sync_client` (``Client``) is generated from it by ``scripts/unasync.py``. What needs no
I/O is shared in :mod:`._base`. This module gathers both; the public root re-exports them.
"""

from __future__ import annotations

from replicate_typed.client._async_client import AsyncClient
from replicate_typed.client._base import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, ClientOptions
from replicate_typed.client._sync_client import Client

__all__ = ["Client", "AsyncClient", "ClientOptions", "DEFAULT_TIMEOUT", "DEFAULT_MAX_RETRIES"]
