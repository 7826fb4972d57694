"""Webhook delivery: POST the prediction, signed (Standard Webhooks), retried with backoff.

A delivery is retried on a non-2xx answer or a connection error, after each of
``MockConfig.webhook_retry_delays`` (real seconds), then given up. Redirects are not followed.
The secret never appears in logs or in the delivery log.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import httpx

from replicate_typed.client.webhooks import signed_headers

if TYPE_CHECKING:
    from replicate_typed.mock.backend import MockBackend

__all__ = ["deliver"]


async def deliver(backend: MockBackend, url: str, body: bytes, msg_id: str, reason: str) -> bool:
    """Deliver one webhook message; True once a 2xx came back."""
    config = backend.config
    delays = config.webhook_retry_delays
    client = backend.webhook_http()
    for attempt in range(len(delays) + 1):
        headers = signed_headers(
            config.webhook_secret, body, msg_id=msg_id, timestamp=int(time.time())
        )
        headers["content-type"] = "application/json"
        headers["user-agent"] = "replicate-typed-mock-webhooks/1"
        backend.webhook_stats["attempts"] += 1
        status: int | None = None
        try:
            response = await client.post(url, content=body, headers=headers)
            status = response.status_code
        except httpx.HTTPError:
            status = None
        backend.webhook_log.append(
            {"msg_id": msg_id, "event": reason, "attempt": attempt + 1, "status": status}
        )
        if status is not None and 200 <= status < 300:
            backend.webhook_stats["delivered"] += 1
            return True
        if attempt < len(delays):
            backend.webhook_stats["retries"] += 1
            await asyncio.sleep(delays[attempt])
    backend.webhook_stats["gave_up"] += 1
    return False
