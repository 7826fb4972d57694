"""Durable batch runs: many predictions, none paid twice, none lost (see :mod:`.runner`).

::

    report = client.run_many([sdxl.Input(prompt=p) for p in prompts], out_dir="out", concurrency=8)
    report = await async_client.run_many(inputs, out_dir="out")
    replicate-typed batch inputs.jsonl --model stability-ai/sdxl --out out/

Started again on the same ``out_dir`` after a crash (even SIGKILL), a run resumes from its
journal (``out_dir/journal.sqlite3``): nothing is created twice, nothing is lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from replicate_typed.batch.journal import Journal, JournalEntry, OutputFile, fingerprint
from replicate_typed.batch.ratelimit import TokenBucket
from replicate_typed.batch.runner import (
    BatchItem,
    BatchOptions,
    BatchReport,
    BatchResult,
    InvalidInput,
    arun_many,
    item_key,
    prepare_items,
    secret_fields,
)
from replicate_typed.core.model import ModelInput

if TYPE_CHECKING:
    from replicate_typed.client._client import Client

__all__ = [
    "BatchItem",
    "BatchOptions",
    "BatchReport",
    "BatchResult",
    "InvalidInput",
    "Journal",
    "JournalEntry",
    "OutputFile",
    "TokenBucket",
    "arun_many",
    "fingerprint",
    "item_key",
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
    ``client`` (same token, base URL, timeout, retry and poll policies)."""
    from replicate_typed.client._client import AsyncClient

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            "Client.run_many cannot run inside an event loop; use AsyncClient.run_many"
        )

    async def main() -> BatchReport:
        core = client._core
        async with AsyncClient(
            api_token=core._api_token,
            base_url=core.base_url,
            timeout=core.timeout,
            retry_policy=core.retry_policy,
            poll_policy=core.poll_policy,
        ) as aclient:
            return await arun_many(aclient, inputs, **kwargs)

    return asyncio.run(main())
