"""Statistics and the ``/_mock/...`` admin endpoints: counters, the fault configuration, the
clock. (The routes are in :mod:`replicate_typed.mock.routes`; no token, never faulted.)"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from typing import Any

from replicate_typed.mock.bodies import json_body
from replicate_typed.mock.clock import Clock
from replicate_typed.mock.config import FaultConfig
from replicate_typed.mock.faults import Faults
from replicate_typed.mock.lifecycle import Lifecycle
from replicate_typed.mock.messages import MockRequest, MockResponse, json_response, problem
from replicate_typed.mock.store import Counters, Store

__all__ = ["Admin"]


class Admin:
    """What a mock reports about itself, and the knobs a test or tool turns over HTTP."""

    def __init__(
        self,
        clock: Clock,
        store: Store,
        counters: Counters,
        lifecycle: Lifecycle,
        faults: Faults,
    ) -> None:
        self.clock = clock
        self.store = store
        self.counters = counters
        self.lifecycle = lifecycle
        self.faults = faults

    def stats(self) -> dict[str, Any]:
        """Counters: requests per route, creates per input fingerprint, faults, webhooks."""
        now = self.clock.now()
        c = self.counters
        # copy first (one C-level step each): the server thread may be adding entries meanwhile
        predictions = list(self.store.order)
        by_fingerprint = dict(c.creates_by_fingerprint)
        statuses = Counter(self.lifecycle.state(p, now).status for p in predictions)
        duplicates = sum(n - 1 for n in by_fingerprint.values() if n > 1)
        return {
            "requests": dict(c.requests),
            "operations": dict(c.operations),
            "creates": len(predictions),
            "creates_by_fingerprint": by_fingerprint,
            "duplicate_creates": duplicates,
            "statuses": dict(statuses),
            "faults": dict(c.faults_injected),
            "webhooks": dict(c.webhooks.stats),
            "uploads": len(self.store.uploads),
        }

    # ------------------------------------------------------------------ endpoints

    def stats_get(self, req: MockRequest) -> MockResponse:
        """``GET /_mock/stats``"""
        return json_response(200, self.stats())

    def stats_reset(self, req: MockRequest) -> MockResponse:
        """``POST /_mock/stats/reset``"""
        self.counters.reset()
        return json_response(200, self.stats())

    def faults_get(self, req: MockRequest) -> MockResponse:
        """``GET /_mock/faults``: rates and queued faults."""
        return json_response(200, self.faults.describe())

    def faults_set(self, req: MockRequest) -> MockResponse:
        """``PUT|POST /_mock/faults``: ``{"operation", "kind", "times", "after"}`` queues faults;
        any other object replaces the random rates (fields of :class:`FaultConfig`)."""
        payload = _payload(req)
        if isinstance(payload, MockResponse):
            return payload
        try:
            if "kind" in payload:
                self.faults.inject(
                    str(payload.get("operation", "predictions.create")),
                    str(payload["kind"]),
                    times=int(payload.get("times", 1)),
                    after=bool(payload.get("after", False)),
                )
            else:
                values = dict(payload)
                if values.get("operations") is not None:
                    values["operations"] = frozenset(values["operations"])
                if "statuses_5xx" in values:
                    values["statuses_5xx"] = tuple(values["statuses_5xx"])
                self.faults.config = replace(FaultConfig(), **values)
        except (TypeError, ValueError) as error:
            return problem(422, "Invalid fault configuration", str(error))
        return self.faults_get(req)

    def clock_advance(self, req: MockRequest) -> MockResponse:
        """``POST /_mock/clock/advance`` ``{"seconds": S}`` (only on a fake clock)."""
        payload = _payload(req)
        if isinstance(payload, MockResponse):
            return payload
        advance = getattr(self.clock, "advance", None)
        if advance is None:
            return problem(409, "Conflict", "this mock runs on the real clock")
        seconds = payload.get("seconds", 0)
        if (
            isinstance(seconds, bool)
            or not isinstance(seconds, int | float)
            or not math.isfinite(seconds)
            or seconds < 0
        ):
            return problem(
                422,
                "Invalid clock advance",
                f"seconds must be a finite number >= 0, not {seconds!r}",
            )
        return json_response(200, {"now": advance(float(seconds))})


def _payload(req: MockRequest) -> dict[str, Any] | MockResponse:
    payload = json_body(req)
    if isinstance(payload, MockResponse):
        return payload
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        return problem(400, "Bad request", "send a JSON object")
    return payload
