"""Webhook delivery: POST one message, signed (Standard Webhooks), retried with backoff.

A delivery is retried on a non-2xx answer or a connection error, after each of
:attr:`DeliveryPolicy.retry_delays` (real seconds), then given up. Redirects are not followed.
It needs an ``httpx.AsyncClient``, a :class:`DeliveryPolicy` and a :class:`DeliveryRecord` to
count into: plain data, no backend. The secret never appears in reprs, logs or the record.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from replicate_typed.client.webhooks import signed_headers

__all__ = ["DeliveryPolicy", "DeliveryRecord", "deliver"]

USER_AGENT = "replicate-typed-mock-webhooks/1"


@dataclass(frozen=True)
class DeliveryPolicy:
    """How to deliver: the ``whsec_`` signing secret and the delays between attempts."""

    secret: str = field(repr=False)
    retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0)


@dataclass
class DeliveryRecord:
    """What deliveries did: ``stats`` (attempts, retries, delivered, gave_up) and the last
    ``log`` entries (message id, event, attempt, status; ``None`` for a connection error)."""

    stats: Counter[str] = field(default_factory=Counter)
    log: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=1000))


async def deliver(
    client: httpx.AsyncClient,
    policy: DeliveryPolicy,
    record: DeliveryRecord,
    url: str,
    body: bytes,
    msg_id: str,
    reason: str,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.time,
) -> bool:
    """Deliver one webhook message (the same ``msg_id`` on every attempt); True once a 2xx came
    back. ``clock`` gives the signature's timestamp (real time: receivers check it)."""
    delays = policy.retry_delays
    stats = record.stats
    for attempt in range(len(delays) + 1):
        headers = signed_headers(policy.secret, body, msg_id=msg_id, timestamp=int(clock()))
        headers["content-type"] = "application/json"
        headers["user-agent"] = USER_AGENT
        stats["attempts"] += 1
        status: int | None = None
        try:
            response = await client.post(url, content=body, headers=headers)
            status = response.status_code
        except httpx.HTTPError:
            status = None
        record.log.append(
            {"msg_id": msg_id, "event": reason, "attempt": attempt + 1, "status": status}
        )
        if status is not None and 200 <= status < 300:
            stats["delivered"] += 1
            return True
        if attempt < len(delays):
            stats["retries"] += 1
            await sleep(delays[attempt])
    stats["gave_up"] += 1
    return False
