"""Durable batch runs: many predictions, none paid twice, none lost (see :mod:`.runner`).

::

    from replicate_typed.batch import arun_many, run_many

    report = run_many(client, [sdxl.Input(prompt=p) for p in prompts], out_dir="out", concurrency=8)
    report = await arun_many(async_client, inputs, out_dir="out")
    replicate-typed batch inputs.jsonl --model stability-ai/sdxl --out out/

Started again on the same ``out_dir`` after a crash (even SIGKILL), a run resumes from its
journal (``out_dir/journal.sqlite3``): nothing is created twice, nothing is lost. One runner
per journal: a second one on the same folder raises :class:`JournalLockedError` (or waits:
``wait_for_lock=SECONDS``). Limits and defaults: ``docs/batch-limits.md``.

The batch runner is an application on top of the client: it uses the client's public API only
(``client.options`` and ``AsyncClient.from_options``), and the client never imports it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import Any

from replicate_typed.batch.journal import Journal, JournalEntry, OutputFile, fingerprint
from replicate_typed.batch.lock import JournalLock, JournalLockedError, LockOwner
from replicate_typed.batch.ratelimit import TokenBucket
from replicate_typed.batch.runner import (
    DEFAULT_JOB_TIMEOUT,
    BatchItem,
    BatchOptions,
    BatchReport,
    BatchResult,
    InvalidInput,
    arun_many,
    item_key,
    iter_items,
    prepare_items,
    secret_fields,
)
from replicate_typed.client import AsyncClient, Client
from replicate_typed.core.model import ModelInput

__all__ = [
    "DEFAULT_JOB_TIMEOUT",
    "BatchItem",
    "BatchOptions",
    "BatchReport",
    "BatchResult",
    "InvalidInput",
    "Journal",
    "JournalEntry",
    "JournalLock",
    "JournalLockedError",
    "LockOwner",
    "OutputFile",
    "TokenBucket",
    "arun_many",
    "fingerprint",
    "item_key",
    "iter_items",
    "prepare_items",
    "run_many",
    "secret_fields",
]


def run_many(
    client: Client,
    inputs: Iterable[ModelInput[Any] | Mapping[str, Any]],
    **kwargs: Any,
) -> BatchReport:
    """Synchronous :func:`arun_many`: runs an event loop with an ``AsyncClient`` configured like
    ``client`` (``AsyncClient.from_options(client.options)``: same token, base URL, timeout,
    retry and poll policies; its own connection, so a custom transport of ``client`` is not
    used). Keyword arguments are :func:`arun_many`'s. Not inside a running event loop: there,
    ``await arun_many(async_client, ...)``."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            "run_many cannot run inside an event loop; use `await arun_many(async_client, ...)`"
        )

    async def main() -> BatchReport:
        async with AsyncClient.from_options(client.options) as aclient:
            return await arun_many(aclient, inputs, **kwargs)

    return asyncio.run(main())
