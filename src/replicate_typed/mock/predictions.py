"""Predictions: ``predictions.create`` / ``models.predictions.create`` (validation, ``Prefer:
wait``, ``Cancel-After``, the ``X-Mock-*`` overrides), ``get``, ``cancel``, ``list`` (cursor
pages), ``stream`` (SSE), and the two browser views: output files and the web page."""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from replicate_typed.core.model import ModelInfo
from replicate_typed.mock.bodies import json_body
from replicate_typed.mock.clock import Clock
from replicate_typed.mock.config import MockConfig, Outcome
from replicate_typed.mock.lifecycle import TERMINAL, Lifecycle, Prediction
from replicate_typed.mock.messages import (
    MockRequest,
    MockResponse,
    decode_cursor,
    encode_cursor,
    field_error,
    invalid,
    json_response,
    not_found,
)
from replicate_typed.mock.models import Models
from replicate_typed.mock.outputs import encode_file, plan_output
from replicate_typed.mock.prediction_streams import HoldStream, SSEStream
from replicate_typed.mock.store import Store
from replicate_typed.mock.streams import Signals
from replicate_typed.mock.webhooks import DEFAULT_WEBHOOK_EVENTS, WEBHOOK_EVENTS, Webhooks

__all__ = ["Predictions", "fingerprint"]

_CANCEL_AFTER = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")
_CREATE_KEYS = frozenset({"version", "input", "webhook", "webhook_events_filter", "stream"})
_MODEL_CREATE_KEYS = frozenset({"input", "webhook", "webhook_events_filter", "stream"})
_MARKERS: tuple[tuple[str, Outcome], ...] = (
    ("mock:fail", "failed"),
    ("mock:cancel", "canceled"),
    ("mock:abort", "aborted"),
)


def fingerprint(ref: str, input: Mapping[str, Any]) -> str:
    """The key duplicate creates are counted under: model and input."""
    text = json.dumps({"model": ref, "input": input}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _parse_cancel_after(value: str) -> float | None:
    text = value.strip().lower()
    if not text:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    match = _CANCEL_AFTER.fullmatch(text)
    if not match or not any(match.groups()):
        return None
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0)


def _parse_prefer(value: str) -> tuple[int | None, str | None]:
    """``(seconds, error)``: ``wait`` is 60 s, ``wait=N`` is N in 1..60; other preferences ignored."""
    for part in value.split(","):
        token = part.strip()
        if token == "wait":
            return 60, None
        if token.startswith("wait="):
            raw = token[5:].strip()
            if not raw.isdigit() or not 1 <= int(raw) <= 60:
                return None, "Prefer: wait=N takes N between 1 and 60"
            return int(raw), None
    return None, None


def _parse_time(value: str) -> float | None:
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class Predictions:
    """The ``predictions.*`` handlers over ``store`` (see the module doc)."""

    def __init__(
        self,
        config: MockConfig,
        clock: Clock,
        store: Store,
        lifecycle: Lifecycle,
        models: Models,
        webhooks: Webhooks,
        creates_by_fingerprint: Counter[str],
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.lifecycle = lifecycle
        self.models = models
        self.webhooks = webhooks
        self.creates_by_fingerprint = creates_by_fingerprint
        self.changes = Signals()  # wakes streams and holds when a prediction is canceled
        self.trained_versions: Callable[[str], tuple[str, ModelInfo[Any, Any]] | None] = (
            lambda version_id: None
        )
        """``(destination, trainer)`` of a version a training made (the catalog's)."""

    # ------------------------------------------------------------------ create

    def create(self, req: MockRequest) -> MockResponse:
        """``predictions.create``: the model from the body's ``version``."""
        return self._create(None, req)

    def create_for_model(self, req: MockRequest) -> MockResponse:
        """``models.predictions.create``: the model from the path."""
        return self._create(f"{req.params['model_owner']}/{req.params['model_name']}", req)

    def _trained_version(self, version: str) -> tuple[str, str, ModelInfo[Any, Any]] | None:
        """``(model, version id, runner)`` for ``owner/name:<id>`` or ``<id>`` of a trained
        version: it runs like its trainer."""
        name, sep, vid = version.strip().partition(":")
        if not sep:
            name, vid = "", name
        found = self.trained_versions(vid)
        if found is None or (sep and found[0] != name):
            return None
        return found[0], vid, found[1]

    def create_for_deployment(
        self,
        req: MockRequest,
        deployment: str,
        runner: ModelInfo[Any, Any],
        model: str,
        version: str,
    ) -> MockResponse:
        """``deployments.predictions.create``: ``version`` of ``model`` (the deployment's
        current release), run by ``runner``; the prediction carries ``deployment``."""
        return self._create(runner.ref, req, deployment=(deployment, runner, model, version))

    def _create(
        self,
        path_ref: str | None,
        req: MockRequest,
        *,
        deployment: tuple[str, ModelInfo[Any, Any], str, str] | None = None,
    ) -> MockResponse:
        headers = req.headers
        body = json_body(req)
        if isinstance(body, MockResponse):
            return body
        if not isinstance(body, dict):
            return invalid([field_error("body", "The request body must be a JSON object")])
        allowed = _CREATE_KEYS if path_ref is None else _MODEL_CREATE_KEYS
        fields = [
            field_error(key, f"Additional property {key} is not allowed", "additional_property")
            for key in body
            if key not in allowed
        ]
        info: ModelInfo[Any, Any] | None = None
        shown: tuple[str, str] | None = None  # (model, version) when not the runner's own
        if path_ref is None:
            version = body.get("version")
            if not isinstance(version, str) or not version.strip():
                fields.append(field_error("version", "version is required", "required"))
            else:
                info, error = self.models.resolve_version(version)
                if error == "404":
                    trained = self._trained_version(version)
                    if trained is None:
                        return not_found(self.models.missing(f"The requested version {version}"))
                    shown, info, error = trained[:2], trained[2], None
                if error:
                    fields.append(field_error("version", error))
        elif deployment is not None:
            info = deployment[1]
            shown = (deployment[2], deployment[3])
        else:
            info = self.models.lookup(path_ref)
            if info is None or info.ref != path_ref:
                return not_found(self.models.missing(f"Model {path_ref}"))
        inputs = body.get("input")
        if not isinstance(inputs, dict):
            text = "input is required" if inputs is None else "input must be a JSON object"
            kind = "required" if inputs is None else "invalid_type"
            fields.append(field_error("input", text, kind))
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
        if "stream" in body and not isinstance(body["stream"], bool):
            fields.append(field_error("stream", "stream must be a boolean"))
        wait, prefer_error = _parse_prefer(headers.get("prefer", ""))
        if prefer_error:
            fields.append(field_error("Prefer", prefer_error))
        deadline_s: float | None = None
        cancel_after = headers.get("cancel-after")
        if cancel_after is not None:
            deadline_s = _parse_cancel_after(cancel_after)
            if deadline_s is None:
                fields.append(
                    field_error("Cancel-After", "use a duration such as 30s, 5m or 1h30m")
                )
            elif deadline_s < 5:
                fields.append(field_error("Cancel-After", "the minimum duration is 5s"))
        if info is not None and isinstance(inputs, dict):
            fields.extend(self.models.input_errors(info, inputs))
        if fields:
            return invalid(fields)
        assert info is not None and isinstance(inputs, dict)
        timing, outcome, timing_error = self.overrides(info, headers, inputs)
        if timing_error:
            return invalid([field_error("X-Mock-Timing", timing_error)])
        starting_status = headers.get("x-mock-starting-status", "starting").strip() or "starting"
        if not re.fullmatch(r"[a-z_]{1,32}", starting_status) or starting_status in TERMINAL:
            return invalid(
                [field_error("X-Mock-Starting-Status", "a lower-case word, not terminal")]
            )
        now = self.clock.now()
        pid = self.store.new_id()
        start_s, run_s = timing
        seed = int(hashlib.sha256(pid.encode()).hexdigest()[:8], 16)
        plan = plan_output(
            ref=info.ref,
            seed=seed,
            inputs=inputs,
            input_schema=info.input_schema,
            output_schema=info.output_schema,
            max_side=self.config.max_image_side,
        )
        key = fingerprint(info.ref, inputs)
        prediction = Prediction(
            id=pid,
            seq=len(self.store.order),
            ref=shown[0] if shown else info.ref,
            info=info,
            version=shown[1] if shown else info.version or "hidden",
            input=inputs,
            created_at=now,
            start_at=now + start_s,
            run_s=run_s,
            outcome=outcome,
            deadline=now + deadline_s if deadline_s is not None else None,
            prefix=req.prefix,
            base=req.base,
            webhook=webhook if isinstance(webhook, str) else None,
            webhook_events=frozenset(events) if events is not None else DEFAULT_WEBHOOK_EVENTS,
            plan=plan,
            fingerprint=key,
            log_lines=max(1, min(20, int(run_s / max(self.config.log_interval, 1e-3)))),
            data_uri=headers.get("x-mock-output", "").strip().lower() == "data-uri",
            starting_status=starting_status,
            deployment=deployment[0] if deployment else None,
        )
        prediction.end = self.lifecycle.end(prediction)
        self.store.add_prediction(prediction)
        self.creates_by_fingerprint[key] += 1
        self.models.runs[info.ref] += 1
        if prediction.webhook:
            self.webhooks.start(prediction)
        if wait is not None:
            hold = HoldStream(
                self.lifecycle, self.clock, prediction, now + wait, req.prefix, req.base,
                changes=self.changes,
            )  # fmt: skip
            return MockResponse(
                201,
                {"content-type": "application/json", "preference-applied": f"wait={wait}"},
                hold,
            )
        return json_response(201, self.lifecycle.render(prediction, now, req.prefix, req.base))

    def overrides(
        self, info: ModelInfo[Any, Any], headers: Mapping[str, str], inputs: Mapping[str, Any]
    ) -> tuple[tuple[float, float], Outcome, str | None]:
        """``(start, run)`` seconds, the planned outcome and an ``X-Mock-Timing`` error: the
        configuration's, changed by the ``X-Mock-*`` headers and ``mock:`` input markers."""
        timing = self.config.timing_for(info.ref)
        raw_timing = headers.get("x-mock-timing")
        if raw_timing:
            try:
                start_s, run_s = (float(x) for x in raw_timing.split(","))
            except ValueError:
                return timing, "succeeded", "use start_seconds,run_seconds (e.g. 0.1,0.5)"
            if start_s < 0 or run_s < 0 or math.isinf(start_s + run_s):
                return timing, "succeeded", "timings must be finite and >= 0"
            timing = (start_s, run_s)
        outcome: Outcome = self.config.outcomes.get(info.ref, "succeeded")
        for value in inputs.values():
            if isinstance(value, str):
                for marker, marked in _MARKERS:
                    if marker in value:
                        outcome = marked
        raw_outcome = headers.get("x-mock-outcome", "").strip().lower()
        if raw_outcome in ("succeeded", "failed", "canceled", "aborted"):
            outcome = raw_outcome  # type: ignore[assignment]
        return timing, outcome, None

    # ------------------------------------------------------------------ read, cancel

    def _find(self, req: MockRequest) -> Prediction | MockResponse:
        pid = req.params["prediction_id"]
        p = self.store.predictions.get(pid)
        return p if p is not None else not_found(f"Prediction {pid} not found")

    def get(self, req: MockRequest) -> MockResponse:
        """``predictions.get``"""
        p = self._find(req)
        if isinstance(p, MockResponse):
            return p
        return json_response(200, self.lifecycle.render(p, self.clock.now(), req.prefix, req.base))

    def cancel(self, req: MockRequest) -> MockResponse:
        """``predictions.cancel``: ends a running prediction now (a no-op once it has ended)."""
        p = self._find(req)
        if isinstance(p, MockResponse):
            return p
        now = self.clock.now()
        if self.lifecycle.state(p, now).status not in TERMINAL:
            p.canceled_at = now
            p.end = self.lifecycle.end(p)
            self.webhooks.wake(p.id)
            self.changes.notify(p.id)
        return json_response(200, self.lifecycle.render(p, now, req.prefix, req.base))

    def stream(self, req: MockRequest) -> MockResponse:
        """``predictions.stream``: server-sent events (see :class:`SSEStream`)."""
        p = self._find(req)
        if isinstance(p, MockResponse):
            return p
        stream = SSEStream(
            self.lifecycle,
            self.clock,
            p,
            req.prefix,
            req.base,
            idle_timeout=self.config.stream_idle_timeout,
            last_event_id=req.headers.get("last-event-id"),
            changes=self.changes,
        )
        return MockResponse(
            200, {"content-type": "text/event-stream", "cache-control": "no-store"}, stream
        )

    def list(self, req: MockRequest) -> MockResponse:
        """``predictions.list``: newest first, ``config.page_size`` per page, cursors that stay
        valid while predictions are created (they point into the creation order)."""
        query, prefix, base = req.query, req.prefix, req.base
        store = self.store
        fields: list[dict[str, str]] = []
        lo, hi = 0, len(store.order)
        after_raw, before_raw = query.get("created_after"), query.get("created_before")
        if after_raw is not None:
            after = _parse_time(after_raw)
            if after is None:
                fields.append(field_error("created_after", "must be an ISO 8601 date-time"))
            else:
                lo = bisect.bisect_left(store.created, after)
        if before_raw is not None:
            before = _parse_time(before_raw)
            if before is None:
                fields.append(field_error("created_before", "must be an ISO 8601 date-time"))
            else:
                hi = bisect.bisect_left(store.created, before)
        if query.get("source", "web") != "web":
            fields.append(
                field_error("source", "must be web (the only source to filter by)", "enum")
            )
        cursor = query.get("cursor")
        direction, mark = "b", hi
        if cursor is not None:
            try:
                direction, mark = decode_cursor(cursor)
            except ValueError:
                fields.append(field_error("cursor", "invalid cursor"))
        if fields:
            return invalid(fields, "Invalid query")
        if query.get("source") == "web":
            hi = lo
        size = self.config.page_size
        if direction == "b":
            top = min(hi, mark)
            bottom = max(lo, top - size)
        else:
            bottom = max(lo, mark + 1)
            top = min(hi, bottom + size)
        top = max(top, bottom)
        now = self.clock.now()
        render = self.lifecycle.render
        page = [render(store.order[i], now, prefix, base) for i in range(top - 1, bottom - 1, -1)]
        extra = {
            k: v for k, v in query.items() if k in ("created_after", "created_before", "source")
        }

        def url(direction: str, mark: int) -> str:
            token = encode_cursor(direction, mark)
            params = "&".join(
                f"{k}={quote(v, safe='')}" for k, v in {**extra, "cursor": token}.items()
            )
            return f"{base}{prefix}/v1/predictions?{params}"

        next_url = url("b", bottom) if bottom > lo else None
        previous_url = url("a", top - 1) if cursor is not None and top < hi else None
        return json_response(200, {"next": next_url, "previous": previous_url, "results": page})

    # ------------------------------------------------------------------ browser views

    def web(self, req: MockRequest) -> MockResponse:
        """``web``: the prediction's (or training's) page (``urls.web``)."""
        pid = req.params["prediction_id"]
        p = self.store.predictions.get(pid) or self.store.trainings.get(pid)
        if p is None:
            return not_found(f"Prediction {pid} not found")
        status = self.lifecycle.state(p, self.clock.now()).status
        html = f"<!doctype html><title>{p.ref} {p.id}</title><p>{p.ref}: {status}</p>"
        return MockResponse(200, {"content-type": "text/html; charset=utf-8"}, html.encode())

    def output_file(self, req: MockRequest) -> MockResponse:
        """``outputs.get``: an output file, once its item is visible and until outputs expire."""
        pid = req.params["prediction_id"]
        p = self.store.predictions.get(pid) or self.store.trainings.get(pid)
        if p is None:
            return not_found("No such file")
        st = self.lifecycle.state(p, self.clock.now())
        name = req.params["filename"]
        spec = next((f for f in p.plan.files if f.name == name), None)
        if spec is None or st.removed:
            return not_found("No such file (output files expire)")
        index = p.plan.files.index(spec)
        visible = st.status == "succeeded" or (
            p.plan.progressive
            and st.started_at is not None
            and index < p.plan.item_count(st.fraction)
        )
        if not visible:
            return not_found("No such file")
        return MockResponse(
            200,
            {
                "content-type": spec.content_type,
                "content-disposition": f'inline; filename="{spec.name}"',
                "cache-control": "private, max-age=3600",
            },
            encode_file(spec),
        )
