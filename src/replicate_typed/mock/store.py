"""The records one mock keeps (predictions, trainings, uploads) and the counters its statistics read.

Plain containers shared by the handlers: each handler adds what it creates, and nothing here
knows about requests or answers.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from replicate_typed.mock.delivery import DeliveryRecord
from replicate_typed.mock.lifecycle import Prediction

__all__ = ["Counters", "Store", "Upload"]

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(eq=False)
class Upload:
    """One file created with ``POST /v1/files``."""

    id: str
    content: bytes
    filename: str
    content_type: str
    metadata: Any
    created_at: float
    expires_at: float
    sha256: str
    prefix: str
    md5: str = ""
    seq: int = 0
    """Creation order (``files.list`` pages by it, newest first)."""


@dataclass
class Counters:
    """Request and outcome counters (``reset`` clears all but the per-model run counts, which
    models report as ``run_count``, and the webhook log)."""

    requests: Counter[str] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)
    creates_by_fingerprint: Counter[str] = field(default_factory=Counter)
    runs_by_model: Counter[str] = field(default_factory=Counter)
    faults_injected: Counter[str] = field(default_factory=Counter)
    webhooks: DeliveryRecord = field(default_factory=DeliveryRecord)

    def reset(self) -> None:
        for counter in (
            self.requests,
            self.operations,
            self.creates_by_fingerprint,
            self.faults_injected,
            self.webhooks.stats,
        ):
            counter.clear()


class Store:
    """Predictions (by id, and in creation order with their creation times for listing) and
    uploads; ids are drawn from ``seed`` and unique across both."""

    def __init__(self, seed: int | None) -> None:
        self._rng = random.Random(seed)
        self.predictions: dict[str, Prediction] = {}
        self.order: list[Prediction] = []
        self.created: list[float] = []
        self.uploads: dict[str, Upload] = {}
        self.upload_count = 0
        self.trainings: dict[str, Prediction] = {}
        """Trainings by id, in creation order (a training is a prediction of a trainer)."""

    def new_id(self) -> str:
        while True:
            new = "".join(self._rng.choice(_ID_ALPHABET) for _ in range(26))
            if (
                new not in self.predictions
                and new not in self.uploads
                and new not in self.trainings
            ):
                return new

    def add_upload(self, upload: Upload) -> None:
        self.upload_count += 1
        upload.seq = self.upload_count
        self.uploads[upload.id] = upload

    def add_prediction(self, p: Prediction) -> None:
        self.predictions[p.id] = p
        self.order.append(p)
        self.created.append(p.created_at)
