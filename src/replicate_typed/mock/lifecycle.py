"""A prediction's life as a pure function of the clock.

A :class:`Prediction` records what happened to it (created, when it starts, how long it runs,
its planned outcome, a cancel); :class:`Lifecycle` computes from that and a time what anyone
looking at it sees: status, logs, output, the API's JSON. Nothing here runs in the background
or holds a reference to the backend.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Any

from replicate_typed.core.model import ModelInfo
from replicate_typed.mock.config import MockConfig, Outcome
from replicate_typed.mock.messages import iso
from replicate_typed.mock.outputs import FileSpec, OutputPlan, encode_file

__all__ = ["EPS", "TERMINAL", "Lifecycle", "Prediction", "State", "TrainingTarget"]

TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})
EPS = 1e-6
"""Progress steps count as reached this early (float error at epoch-sized times)."""


@dataclass(frozen=True)
class TrainingTarget:
    """What a training makes when it succeeds: version ``version_id`` of ``destination``
    (``owner/name``), with its weights as the output file ``weights``."""

    destination: str
    version_id: str
    weights: FileSpec

    @property
    def version_ref(self) -> str:
        return f"{self.destination}:{self.version_id}"


@dataclass(eq=False)
class Prediction:
    """One created prediction (``end``: when it ends, how, with which error: see
    :meth:`Lifecycle.end`)."""

    id: str
    seq: int
    ref: str
    info: ModelInfo[Any, Any]
    version: str
    input: dict[str, Any]
    created_at: float
    start_at: float
    run_s: float
    outcome: Outcome
    deadline: float | None
    prefix: str
    base: str
    webhook: str | None
    webhook_events: frozenset[str]
    plan: OutputPlan
    fingerprint: str
    log_lines: int
    data_uri: bool = False
    starting_status: str = "starting"
    canceled_at: float | None = None
    end: tuple[float, str, str | None] = (0.0, "succeeded", None)
    deployment: str | None = None
    """``owner/name`` of the deployment it was created through."""
    training: TrainingTarget | None = None
    """Set for a training (``trainings.create``): its output is ``{version, weights}``."""


@dataclass(frozen=True)
class State:
    """What a prediction looks like at one time (``fraction``: progress through its run)."""

    status: str
    started_at: float | None
    completed_at: float | None
    fraction: float
    error: str | None
    removed: bool


class Lifecycle:
    """Status, logs, output and JSON of predictions under one :class:`MockConfig`."""

    def __init__(self, config: MockConfig) -> None:
        self.config = config

    def end(self, p: Prediction) -> tuple[float, str, str | None]:
        """When ``p`` ends, its terminal status and error: the earliest of its planned outcome,
        the prediction timeout, its deadline (``Cancel-After``) and a cancel."""
        start, run = p.start_at, p.run_s
        timeout = self.config.prediction_timeout
        best: tuple[float, str, str | None]
        if p.outcome == "aborted":
            best = (start, "aborted", None)
        elif p.outcome == "canceled":
            best = (start + run / 2, "canceled", None)
        elif run > timeout:
            best = (start + timeout, "failed", "Prediction timed out")
        elif p.outcome == "failed":
            best = (start + run, "failed", "Mock failure: the model raised an error (requested)")
        else:
            best = (start + run, "succeeded", None)
        if p.deadline is not None and p.deadline < best[0]:
            best = (p.deadline, "aborted" if p.deadline <= start else "canceled", None)
        if p.canceled_at is not None and p.canceled_at < best[0]:
            best = (p.canceled_at, "canceled", None)
        return best

    def state(self, p: Prediction, now: float) -> State:
        end_at, end_status, error = p.end
        if now >= end_at:
            started = p.start_at if (p.start_at < end_at or p.run_s == 0) else None
            if end_status == "aborted":
                started = None
            if end_status == "succeeded":
                fraction = 1.0
            elif started is not None and p.run_s > 0:
                fraction = min(max((end_at - p.start_at) / p.run_s, 0.0), 1.0)
            else:
                fraction = 0.0
            removed = now >= end_at + self.config.output_ttl
            return State(end_status, started, end_at, fraction, error, removed)
        if now >= p.start_at:
            fraction = (now - p.start_at) / p.run_s if p.run_s > 0 else 1.0
            return State("processing", p.start_at, None, min(fraction, 1.0), None, False)
        return State(p.starting_status, None, None, 0.0, None, False)

    @staticmethod
    def logs(p: Prediction, st: State) -> str:
        if st.started_at is None:
            return ""
        total = p.log_lines
        done = int(math.floor(st.fraction * total + EPS))
        lines = ["Starting prediction"]
        for i in range(1, done + 1):
            pct = int(100 * i / total)
            bar = "#" * (pct // 10)
            lines.append(f"{pct:3d}%|{bar:<10}| {i}/{total}")
        if st.status == "succeeded":
            lines.append("Prediction succeeded")
        elif st.status == "failed":
            lines.append(f"Error: {st.error}")
        elif st.status == "canceled":
            lines.append("Prediction canceled")
        return "\n".join(lines) + "\n"

    @staticmethod
    def next_change(p: Prediction, now: float) -> float:
        """The next time something observable about ``p`` changes (its end if nothing sooner)."""
        end_at = p.end[0]
        if now >= end_at:
            return end_at
        if now < p.start_at:
            return min(p.start_at, end_at)
        if p.run_s <= 0:
            return end_at
        fraction = (now - p.start_at) / p.run_s
        steps = [p.log_lines]
        if p.plan.progressive and isinstance(p.plan.template, list) and p.plan.template:
            steps.append(len(p.plan.template))
        best = end_at
        for n in steps:
            k = math.floor(fraction * n + EPS) + 1
            best = min(best, p.start_at + p.run_s * k / n)
        return max(best, now + 1e-3)

    @staticmethod
    def file_url(p: Prediction, spec: FileSpec, prefix: str, base: str) -> str:
        """Where an output file is served (or the file itself as a ``data:`` URI)."""
        if p.data_uri:
            data = base64.b64encode(encode_file(spec)).decode()
            return f"data:{spec.content_type};base64,{data}"
        return f"{base}{prefix}/files/{p.id}/{spec.name}"

    def output(self, p: Prediction, st: State, prefix: str, base: str) -> Any:
        if st.removed:
            return None
        if p.training is not None:
            if st.status != "succeeded":
                return None
            weights = self.file_url(p, p.training.weights, prefix, base)
            return {"version": p.training.version_ref, "weights": weights}
        if st.status == "succeeded":
            fraction = 1.0
        elif p.plan.progressive and st.started_at is not None:
            fraction = st.fraction
        else:
            return None
        return p.plan.render(lambda spec: self.file_url(p, spec, prefix, base), fraction)

    def render(self, p: Prediction, now: float, prefix: str, base: str) -> dict[str, Any]:
        """``p`` as the API shows it at ``now``, with URLs under ``base`` + ``prefix``."""
        st = self.state(p, now)
        api = f"{base}{prefix}/v1"
        metrics: dict[str, Any] | None = None
        if st.completed_at is not None:
            metrics = {"total_time": round(st.completed_at - p.created_at, 6)}
            if st.started_at is not None:
                metrics["predict_time"] = round(st.completed_at - st.started_at, 6)
            if st.status == "succeeded":
                images = sum(1 for f in p.plan.files if f.is_image)
                if images:
                    metrics["image_count"] = images
        kind = "trainings" if p.training is not None else "predictions"
        answer: dict[str, Any] = {
            "id": p.id,
            "model": p.ref,
            "version": p.version,
            "input": {} if st.removed else p.input,
            "output": self.output(p, st, prefix, base),
            "logs": None if st.removed else self.logs(p, st),
            "error": st.error,
            "status": st.status,
            "data_removed": st.removed,
            "created_at": iso(p.created_at),
            "started_at": iso(st.started_at),
            "completed_at": iso(st.completed_at),
            "deadline": iso(p.deadline),
            "source": "api",
            "metrics": metrics,
            "urls": {
                "get": f"{api}/{kind}/{p.id}",
                "cancel": f"{api}/{kind}/{p.id}/cancel",
                "stream": f"{api}/predictions/{p.id}/stream",
                "web": f"{base}{prefix}/p/{p.id}",
            },
        }
        if p.deployment is not None:
            answer["deployment"] = p.deployment
        if p.training is not None:
            answer["destination"] = p.training.destination
            del answer["urls"]["stream"]  # a training has no output stream
        return answer
