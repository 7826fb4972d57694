"""Faults: queued (:meth:`Faults.inject`), per request (``X-Mock-Fault``), at random
(:class:`~replicate_typed.mock.config.FaultConfig`), and the API's rate limits (:class:`RateLimiter`).

Both classes hold only their own state and a counter they add to; the backend asks them per
request and turns a :class:`Fault` into an answer with :meth:`Faults.response`.
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from replicate_typed.mock.clock import Clock
from replicate_typed.mock.config import FAULT_KINDS, OPERATIONS, FaultConfig
from replicate_typed.mock.messages import MockResponse, json_response, problem
from replicate_typed.mock.routes import Route

__all__ = ["Fault", "Faults", "RateLimiter", "parse_fault_header"]

_HTML_TITLES = {
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    504: "504 Gateway Time-out",
}


@dataclass(frozen=True)
class Fault:
    """One injected fault: ``kind`` in FAULT_KINDS; ``after``: answer it after doing the work."""

    kind: str
    after: bool = False
    retry_after: int = 1
    seconds: float = 0.5
    send_retry_after: bool = True


def parse_fault_header(value: str) -> Fault | None:
    """``X-Mock-Fault: <kind>[; after][; retry-after=N|none][; seconds=S]`` -> :class:`Fault`.

    ``retry-after=none`` leaves the ``Retry-After`` / ``ratelimit-*`` headers out (the API does not
    promise them); the 429 body still says when to come back.
    """
    parts = [p.strip().lower() for p in value.split(";") if p.strip()]
    if not parts or parts[0] not in FAULT_KINDS:
        return None
    kind, after, retry_after, seconds, send = parts[0], False, 1, 0.5, True
    for part in parts[1:]:
        key, _, raw = part.partition("=")
        key = key.strip()
        try:
            if key == "after":
                after = True
            elif key == "retry-after" and raw.strip() == "none":
                send = False
            elif key == "retry-after":
                retry_after = max(0, int(raw))
            elif key == "seconds":
                seconds = max(0.0, float(raw))
        except ValueError:
            return None
    return Fault(kind, after=after, retry_after=retry_after, seconds=seconds, send_retry_after=send)


def _throttled(wait: int, headers: bool = True) -> MockResponse:
    detail = (
        f"Request was throttled. Expected available in {wait} second{'' if wait == 1 else 's'}."
    )
    return json_response(
        429,
        {"detail": detail, "status": 429, "title": "Too Many Requests"},
        (
            {"retry-after": str(wait), "ratelimit-remaining": "0", "ratelimit-reset": str(wait)}
            if headers
            else {}
        ),
    )


class Faults:
    """Which fault (if any) a request gets, and the answer a fault gives.

    ``injected``: counts the faults answered, by kind (the backend's ``faults_injected``).
    """

    def __init__(self, config: FaultConfig, injected: Counter[str]) -> None:
        self.injected = injected
        self._config = config
        self._rng = random.Random(config.seed)
        self._queue: dict[str, deque[Fault]] = {}

    @property
    def config(self) -> FaultConfig:
        return self._config

    @config.setter
    def config(self, config: FaultConfig) -> None:
        """Replace the random fault configuration (its ``seed`` restarts the draw)."""
        self._config = config
        self._rng = random.Random(config.seed)

    def inject(self, operation: str, kind: str, *, times: int = 1, after: bool = False) -> None:
        """Queue ``times`` faults for the next requests to ``operation`` (``predictions.create``...)."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; known: {', '.join(OPERATIONS)}")
        if times < 0:
            raise ValueError(f"times must be >= 0, not {times}")
        fault = parse_fault_header(kind + ("; after" if after else ""))
        if fault is None:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
        self._queue.setdefault(operation, deque()).extend([fault] * times)

    def describe(self) -> dict[str, Any]:
        """The random rates and the queued faults (the admin ``GET /_mock/faults`` answer)."""
        cfg = self._config
        rates = {k: getattr(cfg, k) for k in cfg.__dataclass_fields__}
        rates["operations"] = sorted(cfg.operations) if cfg.operations is not None else None
        queued = {op: [f.kind for f in q] for op, q in self._queue.items() if q}
        return {"rates": rates, "queued": queued}

    def pick(self, route: Route, headers: Mapping[str, str]) -> Fault | None:
        """``X-Mock-Fault`` first, then a queued fault, then the random draw."""
        explicit = headers.get("x-mock-fault")
        if explicit:
            return parse_fault_header(explicit)
        queued = self._queue.get(route.id)
        if queued:
            return queued.popleft()
        cfg = self._config
        if not cfg.active or (not route.faults and cfg.operations is None):
            return None
        if cfg.operations is not None and route.id not in cfg.operations:
            return None
        rng = self._rng
        draw = rng.random()
        if draw < cfg.rate_429:
            return Fault("429", retry_after=cfg.retry_after)
        draw -= cfg.rate_429
        after = route.creates_prediction and rng.random() < cfg.after_create_ratio
        if draw < cfg.rate_5xx:
            status = rng.choice(cfg.statuses_5xx)
            return Fault(str(status), after=after, retry_after=cfg.retry_after)
        draw -= cfg.rate_5xx
        if draw < cfg.rate_reset:
            return Fault("reset", after=after)
        if cfg.slow_rate and rng.random() < cfg.slow_rate:
            return Fault("slow", seconds=cfg.slow_seconds)
        return None

    def response(self, fault: Fault) -> MockResponse:
        """The answer of a fault (``slow`` is not an answer: the backend delays the real one)."""
        self.injected[fault.kind] += 1
        if fault.kind == "reset":
            return MockResponse(0, reset=True)
        if fault.kind == "429":
            return _throttled(fault.retry_after, fault.send_retry_after)
        status = int(fault.kind)
        if status == 503:
            return problem(
                503,
                "Service Unavailable",
                "The service is temporarily unavailable. Please try again.",
                headers={"retry-after": str(fault.retry_after)} if fault.send_retry_after else {},
            )
        title = _HTML_TITLES.get(status, f"{status} Error")
        html = (
            f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
            "</body>\r\n</html>\r\n"
        )
        return MockResponse(status, {"content-type": "text/html"}, html.encode())


class RateLimiter:
    """``MockConfig.rate_limits``: fixed one-minute windows of the clock, one for prediction
    creates and one for every other request to a route with ``faults``."""

    def __init__(
        self, limits: tuple[int, int] | None, clock: Clock, injected: Counter[str]
    ) -> None:
        self.limits = limits
        self.clock = clock
        self.injected = injected
        self._windows: list[tuple[float, int]] = [(-math.inf, 0), (-math.inf, 0)]

    def check(self, route: Route) -> MockResponse | None:
        """A 429 when ``route``'s window is full, else None (and the request is counted)."""
        limits = self.limits
        if limits is None or not route.faults:
            return None
        kind = 0 if route.creates_prediction else 1
        now = self.clock.now()
        start, count = self._windows[kind]
        if now - start >= 60.0:
            start, count = now, 0
        if count >= limits[kind]:
            self._windows[kind] = (start, count)
            self.injected["rate_limited"] += 1
            return _throttled(max(1, math.ceil(start + 60.0 - now)))
        self._windows[kind] = (start, count + 1)
        return None
