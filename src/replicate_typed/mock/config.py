"""Configuration of the mock: timings, outcomes, limits, faults. Secrets never appear in reprs."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from replicate_typed.mock.bodies import JSON_DEPTH_CEILING
from replicate_typed.mock.profiles import PROFILES, ProfileName
from replicate_typed.mock.routes import OPERATION_IDS

__all__ = ["MockConfig", "FaultConfig", "Outcome", "FAULT_KINDS", "OPERATIONS"]

Outcome = Literal["succeeded", "failed", "canceled", "aborted"]

FAULT_KINDS: tuple[str, ...] = ("429", "500", "502", "503", "504", "reset", "slow")
"""Fault kinds: an HTTP status, ``reset`` (connection closed without an answer) or ``slow``."""

OPERATIONS: tuple[str, ...] = OPERATION_IDS
"""Operation names the mock routes to (fault filters, statistics): the spec's ``operationId`` for
every API operation, then the mock's own routes (:mod:`replicate_typed.mock.routes`)."""


@dataclass(frozen=True)
class FaultConfig:
    """Faults injected at random, reproducibly (``seed``).

    Each request to an operation in ``operations`` (all API operations when ``None``) draws once:
    with ``rate_429`` it is throttled (429 + ``Retry-After``), with ``rate_5xx`` it gets one of
    ``statuses_5xx`` (500/502/504 with an HTML body, 503 with a JSON body and ``Retry-After``), with
    ``rate_reset`` the connection is closed without an answer, and with ``slow_rate`` the answer
    is held ``slow_seconds`` (real seconds) first. On creates, ``after_create_ratio`` of the 5xx and
    reset faults happen *after* the prediction was created (a server that failed to answer), so a
    retrying client can create duplicates; the backend counts them.
    """

    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_reset: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 0.5
    statuses_5xx: tuple[int, ...] = (500, 502, 503)
    retry_after: int = 1
    after_create_ratio: float = 0.5
    operations: frozenset[str] | None = None
    seed: int | None = 0

    def __post_init__(self) -> None:
        for name in ("rate_429", "rate_5xx", "rate_reset", "slow_rate", "after_create_ratio"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value}")
        if self.rate_429 + self.rate_5xx + self.rate_reset > 1.0:
            raise ValueError("rate_429 + rate_5xx + rate_reset must not exceed 1")
        unknown = set(self.operations or ()) - set(OPERATIONS)
        if unknown:
            raise ValueError(
                f"unknown operations {sorted(unknown)}; known: {', '.join(OPERATIONS)}"
            )
        bad = [s for s in self.statuses_5xx if s not in (500, 502, 503, 504)]
        if bad or not self.statuses_5xx:
            raise ValueError("statuses_5xx must be a non-empty subset of 500, 502, 503, 504")

    @property
    def active(self) -> bool:
        return bool(self.rate_429 or self.rate_5xx or self.rate_reset or self.slow_rate)


def _default_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(hashlib.sha256(b"replicate-typed mock").digest()).decode()


@dataclass(frozen=True)
class MockConfig:
    """How the mock behaves. Every field has a default that works for a demo.

    * ``api_tokens``: accepted bearer tokens; ``None`` accepts any non-empty token.
    * ``timings``: ``{"owner/name": (start_s, run_s)}``; others use ``default_timing``. A prediction
      is ``starting`` for ``start_s``, ``processing`` for ``run_s``, then done.
    * ``outcomes``: ``{"owner/name": "failed" | "canceled" | "aborted"}`` (default ``succeeded``).
      Per request: header ``X-Mock-Outcome`` / ``X-Mock-Timing: start_s,run_s``, or any string input
      containing ``mock:fail``, ``mock:cancel`` or ``mock:abort``.
    * ``output_ttl``: seconds after completion until outputs, input and logs are removed
      (file URLs answer 404, ``data_removed: true``, ``output: null``).
    * ``max_image_side``: generated images are at most this many pixels on a side (the requested
      aspect ratio is kept).
    * ``reject_unknown_inputs``: 422 for input keys the model's schema does not list (the published
      schemas allow them, so this is off by default).
    * ``public_base_url``: the base URL put in answers (default: where the request was sent).
    * ``rate_limits``: ``(creates, other requests)`` allowed per minute of the clock (the API's are
      ``(600, 3000)``); over them a request gets 429 with ``Retry-After``. Off by default.
    * ``max_body_bytes``: the largest request body except uploads (10 MiB); ``max_upload_bytes``
      the largest upload (100 MiB). Larger bodies are answered 413 with problem details.
    * ``max_json_depth``: how deep a JSON body may nest (64, at most 200); deeper is a 400.
    * ``profile``: ``"replicate"`` (the official API) or ``"router"`` (only create by version, create
      by model path and get by id; create answers ``{id, status}``; get answers seed 003's fields
      with ``urls`` on api.replicate.com; ``Prefer: wait`` ignored; everything else 404). See
      :mod:`replicate_typed.mock.profiles`.
    """

    api_tokens: tuple[str, ...] | None = field(default=None, repr=False)
    webhook_secret: str = field(default_factory=_default_webhook_secret, repr=False)
    timings: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    default_timing: tuple[float, float] = (0.05, 0.2)
    outcomes: Mapping[str, Outcome] = field(default_factory=dict)
    output_ttl: float = 3600.0
    upload_ttl: float = 86400.0
    prediction_timeout: float = 1800.0
    max_upload_bytes: int = 100 * 1024 * 1024
    max_body_bytes: int = 10 * 1024 * 1024
    max_json_depth: int = 64
    max_image_side: int = 256
    page_size: int = 100
    log_interval: float = 0.1
    stream_idle_timeout: float = 30.0
    webhook_retry_delays: tuple[float, ...] = (0.2, 0.5, 1.0, 2.0)
    webhook_timeout: float = 5.0
    webhook_throttle: float = 0.5
    faults: FaultConfig = field(default_factory=FaultConfig)
    public_base_url: str | None = None
    reject_unknown_inputs: bool = False
    rate_limits: tuple[int, int] | None = None
    seed: int | None = None
    profile: ProfileName = "replicate"

    def __post_init__(self) -> None:
        if self.api_tokens is not None and not all(self.api_tokens):
            raise ValueError("api_tokens must be non-empty strings")
        if not self.webhook_secret.startswith("whsec_"):
            raise ValueError("webhook_secret must start with whsec_")
        for ref, timing in {"default": self.default_timing, **dict(self.timings)}.items():
            if len(timing) != 2 or min(timing) < 0:
                raise ValueError(f"timing for {ref} must be (start_s, run_s), both >= 0")
        if self.max_image_side < 8:
            raise ValueError("max_image_side must be at least 8")
        if self.page_size < 1:
            raise ValueError("page_size must be at least 1")
        for name in ("max_body_bytes", "max_upload_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 byte")
        if not 1 <= self.max_json_depth <= JSON_DEPTH_CEILING:
            raise ValueError(f"max_json_depth must be between 1 and {JSON_DEPTH_CEILING}")
        if self.profile not in PROFILES:
            raise ValueError(f"profile must be one of {', '.join(PROFILES)}, not {self.profile!r}")
        if self.rate_limits is not None and min(self.rate_limits) < 1:
            raise ValueError("rate_limits must be (creates per minute, others per minute), >= 1")

    def timing_for(self, ref: str) -> tuple[float, float]:
        start, run = self.timings.get(ref, self.default_timing)
        return float(start), float(run)
