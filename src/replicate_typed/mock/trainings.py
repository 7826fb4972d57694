"""Trainings: ``trainings.create / get / list / cancel``.

A training is a prediction of a trainer version (a model whose ``openapi_schema`` has
``TrainingInput``; its generated module sets ``MODEL.training``): the same lifecycle (starting,
processing, a terminal status, ``Cancel``, webhooks, ``X-Mock-Outcome`` / ``X-Mock-Timing``),
its input validated against the trainer's ``TrainingInput``. When it succeeds its output is
``{"version": "<destination>:<id>", "weights": <url>}`` and the destination model (an account
model, see :mod:`.catalog`) has that version from then on.
"""

from __future__ import annotations

import hashlib
from typing import Any

from replicate_typed.core.model import ModelInfo
from replicate_typed.core.refs import is_model_ref
from replicate_typed.mock.bodies import json_body
from replicate_typed.mock.catalog import Catalog, forbidden, page
from replicate_typed.mock.clock import Clock
from replicate_typed.mock.config import MockConfig
from replicate_typed.mock.lifecycle import TERMINAL, Lifecycle, Prediction, TrainingTarget
from replicate_typed.mock.messages import (
    MockRequest,
    MockResponse,
    field_error,
    invalid,
    json_response,
    not_found,
)
from replicate_typed.mock.outputs import FileSpec, OutputPlan
from replicate_typed.mock.predictions import Predictions, fingerprint
from replicate_typed.mock.store import Store
from replicate_typed.mock.webhooks import DEFAULT_WEBHOOK_EVENTS, WEBHOOK_EVENTS, Webhooks

__all__ = ["Trainings", "training_of"]

_KEYS = frozenset({"destination", "input", "webhook", "webhook_events_filter"})


def training_of(info: ModelInfo[Any, Any]) -> ModelInfo[Any, Any] | None:
    """The training side of a trainer model (``TrainingInput``), None for other models."""
    return info.training


class Trainings:
    """The ``trainings.*`` handlers over ``store.trainings``."""

    def __init__(
        self,
        config: MockConfig,
        clock: Clock,
        store: Store,
        lifecycle: Lifecycle,
        catalog: Catalog,
        predictions: Predictions,
        webhooks: Webhooks,
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.lifecycle = lifecycle
        self.catalog = catalog
        self.predictions = predictions
        self.webhooks = webhooks

    def create(self, req: MockRequest) -> MockResponse:
        """``trainings.create`` on a trainer version (201)."""
        ref = f"{req.params['model_owner']}/{req.params['model_name']}"
        vid = req.params["version_id"]
        body = json_body(req)
        if isinstance(body, MockResponse):
            return body
        if not isinstance(body, dict):
            return invalid([field_error("body", "The request body must be a JSON object")])
        fields = [
            field_error(k, f"Additional property {k} is not allowed", "additional_property")
            for k in body
            if k not in _KEYS
        ]
        destination = body.get("destination")
        if not isinstance(destination, str):
            fields.append(field_error("destination", "destination is required", "required"))
        elif not is_model_ref(destination):
            fields.append(field_error("destination", "destination must be owner/name"))
        inputs = body.get("input")
        if not isinstance(inputs, dict):
            text = "input is required" if inputs is None else "input must be a JSON object"
            fields.append(
                field_error("input", text, "required" if inputs is None else "invalid_type")
            )
        webhook = body.get("webhook")
        if webhook is not None and not (
            isinstance(webhook, str) and webhook.startswith(("http://", "https://"))
        ):
            fields.append(field_error("webhook", "webhook must be an http(s) URL"))
        events = body.get("webhook_events_filter")
        if events is not None and not (
            isinstance(events, list)
            and all(isinstance(e, str) and e in WEBHOOK_EVENTS for e in events)
        ):
            fields.append(
                field_error(
                    "webhook_events_filter", "must be a list of: start, output, logs, completed"
                )
            )
        info = self.catalog.served(ref)
        if info is None:
            return not_found(self.catalog.models.missing(f"Model {ref}"))
        if vid != self.catalog.models.version_id(info):
            return not_found(f"Version {vid} of {ref} not found")
        trainer = training_of(info)
        if trainer is None:
            fields.append(
                field_error("version", f"{ref}:{vid} is not trainable (no TrainingInput)")
            )
        elif isinstance(inputs, dict):
            fields.extend(self.catalog.models.input_errors(trainer, inputs))
        if fields:
            return invalid(fields)
        assert isinstance(destination, str) and isinstance(inputs, dict) and trainer is not None
        if destination not in self.catalog.account_models:
            if self.catalog.served(destination) is not None:
                return forbidden(f"the destination {destination} is not a model of this account")
            return not_found(f"The destination model {destination} does not exist: create it first")
        (start_s, run_s), outcome, timing_error = self.predictions.overrides(
            info, req.headers, inputs
        )
        if timing_error:
            return invalid([field_error("X-Mock-Timing", timing_error)])
        now = self.clock.now()
        tid = self.store.new_id()
        seed = int(hashlib.sha256(tid.encode()).hexdigest()[:8], 16)
        weights = FileSpec("trained_model.tar", "tar", 0, 0, seed)
        version_id = hashlib.sha256(f"replicate-typed mock training {tid}".encode()).hexdigest()
        training = Prediction(
            id=tid,
            seq=len(self.store.trainings),
            ref=info.ref,
            info=info,
            version=vid,
            input=inputs,
            created_at=now,
            start_at=now + start_s,
            run_s=run_s,
            outcome=outcome,
            deadline=None,
            prefix=req.prefix,
            base=req.base,
            webhook=webhook if isinstance(webhook, str) else None,
            webhook_events=frozenset(events) if events is not None else DEFAULT_WEBHOOK_EVENTS,
            plan=OutputPlan(template=None, files=[weights]),
            fingerprint=fingerprint(info.ref, inputs),
            log_lines=max(1, min(20, int(run_s / max(self.config.log_interval, 1e-3)))),
            training=TrainingTarget(destination, version_id, weights),
        )
        training.end = self.lifecycle.end(training)
        self.store.trainings[tid] = training
        if training.webhook:
            self.webhooks.start(training)
        return json_response(201, self.lifecycle.render(training, now, req.prefix, req.base))

    def _find(self, req: MockRequest) -> Prediction | MockResponse:
        tid = req.params["training_id"]
        found = self.store.trainings.get(tid)
        return found if found is not None else not_found(f"Training {tid} not found")

    def get(self, req: MockRequest) -> MockResponse:
        """``trainings.get``"""
        t = self._find(req)
        if isinstance(t, MockResponse):
            return t
        return json_response(200, self.lifecycle.render(t, self.clock.now(), req.prefix, req.base))

    def list(self, req: MockRequest) -> MockResponse:
        """``trainings.list``: newest first."""
        now = self.clock.now()
        newest_first = list(reversed(self.store.trainings.values()))
        return page(
            req,
            newest_first,
            self.config.page_size,
            "/trainings",
            render=lambda t: self.lifecycle.render(t, now, req.prefix, req.base),
        )

    def cancel(self, req: MockRequest) -> MockResponse:
        """``trainings.cancel``: ends a running training now (a no-op once it has ended)."""
        t = self._find(req)
        if isinstance(t, MockResponse):
            return t
        now = self.clock.now()
        if self.lifecycle.state(t, now).status not in TERMINAL:
            t.canceled_at = now
            t.end = self.lifecycle.end(t)
            self.webhooks.wake(t.id)
        return json_response(200, self.lifecycle.render(t, now, req.prefix, req.base))
