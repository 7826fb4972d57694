"""The mock's state machine: every operation of the contract, independent of any transport.

``MockBackend.handle(method, path, headers, query, body) -> MockResponse`` is synchronous, O(1)
per request (listing: O(page)) and never blocks: a prediction's state is a pure function of the
clock and of what happened to it (created, canceled), computed when it is looked at. Whatever
takes time (``Prefer: wait`` holds, SSE streams, slow faults) is a :class:`MockStream` the
transport drives. Webhooks are the only background work (one task per prediction with a webhook).

The Starlette app (:mod:`.app`) and the respx adapter (:mod:`.respx_adapter`) are thin layers
over this class, so real-HTTP tests and respx tests see the very same behaviour.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import email.parser
import hashlib
import hmac
import json
import math
import random
import re
import threading
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import httpx
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError

from replicate_typed.core.model import ModelInfo
from replicate_typed.core.registry import Registry, UnknownModelError
from replicate_typed.mock.clock import Clock, SystemClock
from replicate_typed.mock.config import FaultConfig, MockConfig, Outcome
from replicate_typed.mock.outputs import FileSpec, OutputPlan, encode_file, plan_output
from replicate_typed.mock.streams import MockStream, Pause

__all__ = ["MockBackend", "MockResponse", "Fault", "TERMINAL"]

TERMINAL = frozenset({"succeeded", "failed", "canceled", "aborted"})
WEBHOOK_EVENTS = ("start", "output", "logs", "completed")
DEFAULT_WEBHOOK_EVENTS = frozenset({"output", "completed"})
"""Without a filter, webhooks go out for new output and on completion (as the API documents)."""
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CANCEL_AFTER = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?$")
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_PROBLEM = "application/problem+json"
_EPS = 1e-6  # progress steps count as reached this early (float error at epoch-sized times)
_HTML_TITLES = {
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    504: "504 Gateway Time-out",
}
_CREATE_KEYS = frozenset({"version", "input", "webhook", "webhook_events_filter", "stream"})
_MODEL_CREATE_KEYS = frozenset({"input", "webhook", "webhook_events_filter", "stream"})
_MARKERS: tuple[tuple[str, Outcome], ...] = (
    ("mock:fail", "failed"),
    ("mock:cancel", "canceled"),
    ("mock:abort", "aborted"),
)


@dataclass
class MockResponse:
    """What the mock answers: status, headers (lower-case names), body or stream.

    ``reset``: close the connection without answering. ``delay``: real seconds to hold the
    answer first (the ``slow`` fault).
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | MockStream = b""
    reset: bool = False
    delay: float = 0.0

    def json(self) -> Any:
        """The body parsed as JSON (only for byte bodies)."""
        if not isinstance(self.body, bytes):
            raise TypeError("streamed body: read it through a transport")
        return json.loads(self.body)


@dataclass(frozen=True)
class Fault:
    """One injected fault: ``kind`` in FAULT_KINDS; ``after``: answer it after doing the work."""

    kind: str
    after: bool = False
    retry_after: int = 1
    seconds: float = 0.5
    send_retry_after: bool = True


@dataclass(eq=False)
class _Prediction:
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


@dataclass(frozen=True)
class _State:
    status: str
    started_at: float | None
    completed_at: float | None
    fraction: float
    error: str | None
    removed: bool


@dataclass(eq=False)
class _Upload:
    id: str
    content: bytes
    filename: str
    content_type: str
    metadata: Any
    created_at: float
    expires_at: float
    sha256: str
    prefix: str


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _json(status: int, value: Any, headers: Mapping[str, str] | None = None) -> MockResponse:
    return MockResponse(
        status, {"content-type": "application/json", **(headers or {})}, _dumps(value)
    )


def problem(
    status: int,
    title: str,
    detail: str,
    invalid_fields: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> MockResponse:
    """A problem-details answer (``application/problem+json``)."""
    body: dict[str, Any] = {"title": title, "detail": detail, "status": status}
    if invalid_fields is not None:
        body["invalid_fields"] = invalid_fields
    return MockResponse(status, {"content-type": _PROBLEM, **(headers or {})}, _dumps(body))


def _unauthenticated() -> MockResponse:
    return problem(401, "Unauthenticated", "You did not pass a valid authentication token")


def _not_found(detail: str = "The requested resource could not be found.") -> MockResponse:
    return problem(404, "Not found", detail)


def _invalid(fields: list[dict[str, str]], title: str = "Input validation failed") -> MockResponse:
    detail = "".join(f"- {f['field']}: {f['description']}\n" for f in fields)
    return problem(422, title, detail, invalid_fields=fields)


def _field(name: str, description: str, kind: str = "invalid") -> dict[str, str]:
    return {"type": kind, "field": name, "description": description}


def _uri_format(value: object) -> bool:
    """``format: uri`` as the API means it: an absolute http(s) URL or a ``data:`` URI."""
    if not isinstance(value, str):
        return True
    if value.startswith("data:"):
        return "," in value
    scheme, sep, rest = value.partition("://")
    return bool(sep) and scheme.lower() in ("http", "https") and bool(rest.split("/")[0])


_FORMATS = FormatChecker(formats=())
_FORMATS.checks("uri")(_uri_format)


def _mock_version_id(ref: str) -> str:
    """A stable 64-hex version id for models called by path (their API version is hidden)."""
    return hashlib.sha256(f"replicate-typed mock version {ref}".encode()).hexdigest()


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


def parse_fault_header(value: str) -> Fault | None:
    """``X-Mock-Fault: <kind>[; after][; retry-after=N|none][; seconds=S]`` -> :class:`Fault`.

    ``retry-after=none`` leaves the ``Retry-After`` / ``ratelimit-*`` headers out (the API does not
    promise them); the 429 body still says when to come back.
    """
    parts = [p.strip().lower() for p in value.split(";") if p.strip()]
    if not parts or parts[0] not in ("429", "500", "502", "503", "504", "reset", "slow"):
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


_ROUTES: tuple[tuple[str, re.Pattern[str], str, str], ...] = tuple(
    (method, re.compile(pattern), op, template)
    for method, pattern, op, template in (
        ("POST", r"^/v1/predictions$", "predictions.create", "POST /v1/predictions"),
        ("GET", r"^/v1/predictions$", "predictions.list", "GET /v1/predictions"),
        ("GET", r"^/v1/predictions/(?P<id>[^/]+)$", "predictions.get", "GET /v1/predictions/{id}"),
        (
            "POST",
            r"^/v1/predictions/(?P<id>[^/]+)/cancel$",
            "predictions.cancel",
            "POST /v1/predictions/{id}/cancel",
        ),
        (
            "GET",
            r"^/v1/predictions/(?P<id>[^/]+)/stream$",
            "predictions.stream",
            "GET /v1/predictions/{id}/stream",
        ),
        (
            "POST",
            r"^/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/predictions$",
            "models.predictions.create",
            "POST /v1/models/{owner}/{name}/predictions",
        ),
        (
            "GET",
            r"^/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)$",
            "models.get",
            "GET /v1/models/{owner}/{name}",
        ),
        (
            "GET",
            r"^/v1/models/(?P<owner>[^/]+)/(?P<name>[^/]+)/versions/(?P<version>[^/]+)$",
            "models.versions.get",
            "GET /v1/models/{owner}/{name}/versions/{id}",
        ),
        ("POST", r"^/v1/files$", "files.create", "POST /v1/files"),
        ("GET", r"^/v1/files/(?P<id>[^/]+)$", "files.get", "GET /v1/files/{id}"),
        (
            "GET",
            r"^/v1/files/(?P<id>[^/]+)/download$",
            "files.download",
            "GET /v1/files/{id}/download",
        ),
        (
            "GET",
            r"^/v1/webhooks/default/secret$",
            "webhooks.default.secret.get",
            "GET /v1/webhooks/default/secret",
        ),
        ("GET", r"^/files/(?P<id>[^/]+)/(?P<name>[^/]+)$", "outputs.get", "GET /files/{id}/{name}"),
        ("GET", r"^/p/(?P<id>[^/]+)$", "web", "GET /p/{id}"),
    )
)
_ADMIN_PREFIX = "/_mock/"
_NO_AUTH = frozenset({"outputs.get", "web", "predictions.stream"})
_NO_RANDOM_FAULTS = frozenset({"outputs.get", "web"})


class MockBackend:
    """All state of one mock router: predictions, uploads, counters, faults.

    ``registry``: the models served (default: every generated model). ``clock``: injectable
    (:class:`~replicate_typed.mock.clock.FakeClock` in tests).
    """

    def __init__(
        self,
        config: MockConfig | None = None,
        *,
        clock: Clock | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.config = config or MockConfig()
        self.clock: Clock = clock or SystemClock()
        if registry is None:
            from replicate_typed.models import registry as generated

            registry = generated
        self.registry = registry
        self._rng = random.Random(self.config.seed)
        self._fault_rng = random.Random(self.config.faults.seed)
        self._faults: FaultConfig = self.config.faults
        self._fault_queue: dict[str, deque[Fault]] = {}
        self._predictions: dict[str, _Prediction] = {}
        self._order: list[_Prediction] = []
        self._created: list[float] = []
        self._uploads: dict[str, _Upload] = {}
        self._validators: dict[str, Draft202012Validator] = {}
        self._mock_versions = {_mock_version_id(ref): ref for ref in registry}
        self._tasks: set[asyncio.Task[None]] = set()
        self._http_clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}
        self._wakes: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Event]] = {}
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self._runs_by_model: Counter[str] = Counter()
        self._windows: list[tuple[float, int]] = [(-math.inf, 0), (-math.inf, 0)]
        self.operations: Counter[str] = Counter()
        self.creates_by_fingerprint: Counter[str] = Counter()
        self.faults_injected: Counter[str] = Counter()
        self.webhook_stats: Counter[str] = Counter()
        self.webhook_log: deque[dict[str, Any]] = deque(maxlen=1000)

    def __repr__(self) -> str:
        return f"MockBackend(predictions={len(self._order)}, config={self.config!r})"

    # ------------------------------------------------------------------ entry point

    def handle(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        body: bytes,
        *,
        base_url: str | None = None,
    ) -> MockResponse:
        """Answer one request. ``path`` may carry the router prefix ``/replicate``.

        ``base_url`` (``scheme://host[:port]``) is where the request was sent; URLs in answers
        point there (default: built from the ``Host`` header, or ``config.public_base_url``).
        """
        method = method.upper()
        hdrs = {k.lower(): v for k, v in headers.items()}
        prefix, rest = "", path
        if path == "/replicate" or path.startswith("/replicate/"):
            prefix, rest = "/replicate", path[len("/replicate") :] or "/"
        if rest.startswith(_ADMIN_PREFIX):
            return self._admin(method, rest, body)
        route = self._route(method, rest)
        if route is None:
            self.requests[f"{method} <unmatched>"] += 1
            return _not_found()
        if isinstance(route, MockResponse):
            return route
        op, template, params = route
        self.requests[template] += 1
        self.operations[op] += 1
        fault = self._pick_fault(op, hdrs)
        if fault is not None and fault.kind != "slow" and not fault.after:
            return self._fault_response(fault)
        throttled = self._throttle(op)
        if throttled is not None:
            return throttled
        base = self._base_url(hdrs, base_url)
        response = self._dispatch(op, params, hdrs, query, body, prefix, base)
        if fault is not None:
            if fault.kind == "slow":
                self.faults_injected["slow"] += 1
                response.delay = max(response.delay, fault.seconds)
            elif fault.after:
                self.faults_injected["after_operation"] += 1
                return self._fault_response(fault)
        return response

    def _route(
        self, method: str, path: str
    ) -> tuple[str, str, dict[str, str]] | MockResponse | None:
        allowed: list[str] = []
        for route_method, pattern, op, template in _ROUTES:
            match = pattern.match(path)
            if match is None:
                continue
            if route_method != method:
                allowed.append(route_method)
                continue
            return op, template, match.groupdict()
        if allowed:
            return problem(
                405,
                "Method not allowed",
                f"{method} is not allowed here",
                headers={"allow": ", ".join(sorted(set(allowed)))},
            )
        return None

    def _dispatch(
        self,
        op: str,
        params: dict[str, str],
        headers: dict[str, str],
        query: Mapping[str, str],
        body: bytes,
        prefix: str,
        base: str,
    ) -> MockResponse:
        if op not in _NO_AUTH and not self._authorized(headers):
            return _unauthenticated()
        if op == "predictions.create":
            return self._create(None, headers, body, prefix, base)
        if op == "models.predictions.create":
            return self._create(f"{params['owner']}/{params['name']}", headers, body, prefix, base)
        if op == "predictions.get":
            return self._get(params["id"], prefix, base)
        if op == "predictions.cancel":
            return self._cancel(params["id"], prefix, base)
        if op == "predictions.list":
            return self._list(query, prefix, base)
        if op == "predictions.stream":
            return self._stream(params["id"], headers, prefix, base)
        if op == "models.get":
            return self._model(f"{params['owner']}/{params['name']}")
        if op == "models.versions.get":
            return self._version(f"{params['owner']}/{params['name']}", params["version"])
        if op == "files.create":
            return self._file_create(headers, body, prefix, base)
        if op == "files.get":
            return self._file_get(params["id"], prefix, base)
        if op == "files.download":
            return self._file_download(params["id"])
        if op == "webhooks.default.secret.get":
            return _json(200, {"key": self.config.webhook_secret})
        if op == "outputs.get":
            return self._output_file(params["id"], params["name"])
        if op == "web":
            return self._web(params["id"], prefix, base)
        return _not_found()  # pragma: no cover - every route is dispatched above

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        value = headers.get("authorization", "")
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        if scheme.lower() not in ("bearer", "token") or not token:
            return False
        accepted = self.config.api_tokens
        if accepted is None:
            return True
        given = token.encode()
        ok = False
        for candidate in accepted:
            ok |= hmac.compare_digest(given, candidate.encode())
        return ok

    def _base_url(self, headers: Mapping[str, str], given: str | None) -> str:
        if self.config.public_base_url:
            return self.config.public_base_url.rstrip("/")
        if given:
            return given.rstrip("/")
        host = headers.get("host", "localhost")
        scheme = headers.get("x-forwarded-proto", "http")
        return f"{scheme}://{host}"

    # ------------------------------------------------------------------ rate limits

    def _throttle(self, op: str) -> MockResponse | None:
        """Fixed one-minute windows of the clock, one for creates and one for the rest."""
        limits = self.config.rate_limits
        if limits is None or op in _NO_RANDOM_FAULTS:
            return None
        kind = 0 if op in ("predictions.create", "models.predictions.create") else 1
        now = self.clock.now()
        start, count = self._windows[kind]
        if now - start >= 60.0:
            start, count = now, 0
        if count >= limits[kind]:
            self._windows[kind] = (start, count)
            wait = max(1, math.ceil(start + 60.0 - now))
            self.faults_injected["rate_limited"] += 1
            detail = f"Request was throttled. Expected available in {wait} second{'' if wait == 1 else 's'}."
            return _json(
                429,
                {"detail": detail, "status": 429, "title": "Too Many Requests"},
                {
                    "retry-after": str(wait),
                    "ratelimit-remaining": "0",
                    "ratelimit-reset": str(wait),
                },
            )
        self._windows[kind] = (start, count + 1)
        return None

    # ------------------------------------------------------------------ faults

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the random fault configuration (``seed`` restarts the draw)."""
        self._faults = faults
        self._fault_rng = random.Random(faults.seed)

    @property
    def faults(self) -> FaultConfig:
        return self._faults

    def inject(self, operation: str, kind: str, *, times: int = 1, after: bool = False) -> None:
        """Queue ``times`` faults for the next requests to ``operation`` (``predictions.create``...)."""
        fault = parse_fault_header(kind + ("; after" if after else ""))
        if fault is None:
            raise ValueError(f"unknown fault kind {kind!r}")
        self._fault_queue.setdefault(operation, deque()).extend([fault] * times)

    def _pick_fault(self, op: str, headers: Mapping[str, str]) -> Fault | None:
        explicit = headers.get("x-mock-fault")
        if explicit:
            return parse_fault_header(explicit)
        queued = self._fault_queue.get(op)
        if queued:
            return queued.popleft()
        cfg = self._faults
        if not cfg.active or (op in _NO_RANDOM_FAULTS and cfg.operations is None):
            return None
        if cfg.operations is not None and op not in cfg.operations:
            return None
        draw = self._fault_rng.random()
        is_create = op in ("predictions.create", "models.predictions.create")
        if draw < cfg.rate_429:
            return Fault("429", retry_after=cfg.retry_after)
        draw -= cfg.rate_429
        after = is_create and self._fault_rng.random() < cfg.after_create_ratio
        if draw < cfg.rate_5xx:
            status = self._fault_rng.choice(cfg.statuses_5xx)
            return Fault(str(status), after=after, retry_after=cfg.retry_after)
        draw -= cfg.rate_5xx
        if draw < cfg.rate_reset:
            return Fault("reset", after=after)
        if cfg.slow_rate and self._fault_rng.random() < cfg.slow_rate:
            return Fault("slow", seconds=cfg.slow_seconds)
        return None

    def _fault_response(self, fault: Fault) -> MockResponse:
        self.faults_injected[fault.kind] += 1
        if fault.kind == "reset":
            return MockResponse(0, reset=True)
        if fault.kind == "429":
            n = fault.retry_after
            detail = (
                f"Request was throttled. Expected available in {n} second{'' if n == 1 else 's'}."
            )
            return _json(
                429,
                {"detail": detail, "status": 429, "title": "Too Many Requests"},
                (
                    {"retry-after": str(n), "ratelimit-remaining": "0", "ratelimit-reset": str(n)}
                    if fault.send_retry_after
                    else {}
                ),
            )
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

    # ------------------------------------------------------------------ models

    def _lookup(self, ref: str) -> ModelInfo[Any, Any] | None:
        try:
            return self.registry.get_model(ref)
        except UnknownModelError:
            return None

    def _resolve_version(self, version: str) -> tuple[ModelInfo[Any, Any] | None, str | None]:
        """``(model, error)`` for a ``version`` body field; error is ``"404"`` or a 422 text."""
        value = version.strip()
        if _HEX64.match(value):
            ref = self._mock_versions.get(value)
            info = self._lookup(ref) if ref else self._lookup(value)
            return (info, None) if info else (None, "404")
        name, sep, vid = value.partition(":")
        if name.count("/") != 1 or not all(name.split("/")):
            return None, "version must be owner/name, owner/name:<64-hex id> or a 64-hex id"
        info = self._lookup(name)
        if info is None:
            return None, "404"
        if sep:
            if not _HEX64.match(vid):
                return None, "the version id after ':' must be 64 hex characters"
            if vid not in (info.version, _mock_version_id(info.ref)):
                return None, "404"
            return info, None
        if info.call_by != "path":
            return None, (
                f"{info.ref} is not an official model: pass owner/name:<version id> "
                f"(its version is {info.version})"
            )
        return info, None

    def _version_id(self, info: ModelInfo[Any, Any]) -> str:
        return info.version or _mock_version_id(info.ref)

    def openapi_schema(self, info: ModelInfo[Any, Any]) -> dict[str, Any]:
        """The version's ``openapi_schema``: INPUT/OUTPUT_SCHEMA with ``$defs`` back in components."""
        schemas: dict[str, Any] = {}

        def lift(schema: dict[str, Any]) -> dict[str, Any]:
            text = json.dumps({k: v for k, v in schema.items() if k != "$defs"})
            for name, sub in (schema.get("$defs") or {}).items():
                sub_text = json.dumps(sub).replace('"#/$defs/', '"#/components/schemas/')
                schemas.setdefault(name, json.loads(sub_text))
            lifted: dict[str, Any] = json.loads(text.replace('"#/$defs/', '"#/components/schemas/'))
            return lifted

        input_schema = lift(info.input_schema)
        output_schema = lift(info.output_schema)
        components = {"Input": input_schema, "Output": output_schema, **schemas}
        return {
            "openapi": "3.0.2",
            "info": {"title": "Cog", "version": "0.1.0"},
            "paths": {},
            "components": {"schemas": components},
        }

    def _version_object(self, info: ModelInfo[Any, Any]) -> dict[str, Any]:
        return {
            "id": self._version_id(info),
            "created_at": "2024-01-01T00:00:00.000000Z",
            "cog_version": "0.9.0",
            "openapi_schema": self.openapi_schema(info),
        }

    def _model(self, ref: str) -> MockResponse:
        info = self._lookup(ref)
        if info is None or info.ref != ref:
            return _not_found(f"Model {ref} not found")
        return _json(
            200,
            {
                "url": f"https://replicate.com/{ref}",
                "owner": info.owner,
                "name": info.name,
                "description": f"{ref} served by the replicate-typed mock",
                "visibility": "public",
                "is_official": info.call_by == "path",
                "github_url": None,
                "paper_url": None,
                "license_url": None,
                "cover_image_url": None,
                "run_count": self._runs_by_model[ref],
                "default_example": None,
                "latest_version": self._version_object(info),
            },
        )

    def _version(self, ref: str, version: str) -> MockResponse:
        info = self._lookup(ref)
        if info is None or info.ref != ref:
            return _not_found(f"Model {ref} not found")
        if version != self._version_id(info):
            return _not_found(f"Version {version} of {ref} not found")
        return _json(200, self._version_object(info))

    def _validator(self, info: ModelInfo[Any, Any]) -> Draft202012Validator:
        validator = self._validators.get(info.ref)
        if validator is None:
            validator = Draft202012Validator(info.input_schema, format_checker=_FORMATS)
            self._validators[info.ref] = validator
        return validator

    def _input_errors(
        self, info: ModelInfo[Any, Any], value: dict[str, Any]
    ) -> list[dict[str, str]]:
        fields: list[dict[str, str]] = []
        errors: list[SchemaError] = sorted(
            self._validator(info).iter_errors(value), key=lambda e: [str(p) for p in e.path]
        )
        for error in errors:
            path = ".".join(str(p) for p in error.absolute_path)
            if error.validator == "required" and isinstance(error.validator_value, list):
                instance = error.instance if isinstance(error.instance, dict) else {}
                missing = [k for k in error.validator_value if k not in instance]
                for key in missing:
                    name = f"input.{path}.{key}" if path else f"input.{key}"
                    fields.append(_field(name, f"{key} is required", "required"))
                continue
            if error.validator == "additionalProperties" and isinstance(error.instance, dict):
                schema = error.schema if isinstance(error.schema, Mapping) else {}
                known = set(schema.get("properties", {}))
                for key in sorted(set(error.instance) - known):
                    name = f"input.{path}.{key}" if path else f"input.{key}"
                    fields.append(_field(name, "Additional property is not allowed"))
                continue
            name = f"input.{path}" if path else "input"
            fields.append(_field(name, error.message, str(error.validator)))
        if self.config.reject_unknown_inputs:
            known = set(info.input_schema.get("properties") or {})
            for key in sorted(set(value) - known):
                fields.append(_field(f"input.{key}", "Unexpected input", "additional_property"))
        return fields

    # ------------------------------------------------------------------ predictions

    def _new_id(self) -> str:
        while True:
            pid = "".join(self._rng.choice(_ID_ALPHABET) for _ in range(26))
            if pid not in self._predictions and pid not in self._uploads:
                return pid

    @staticmethod
    def fingerprint(ref: str, input: Mapping[str, Any]) -> str:
        """The key duplicate creates are counted under: model and input."""
        text = json.dumps({"model": ref, "input": input}, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:24]

    def _create(
        self,
        path_ref: str | None,
        headers: Mapping[str, str],
        raw: bytes,
        prefix: str,
        base: str,
    ) -> MockResponse:
        try:
            body = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            return problem(400, "Bad request", "The request body is not valid JSON")
        if not isinstance(body, dict):
            return _invalid([_field("body", "The request body must be a JSON object")])
        allowed = _CREATE_KEYS if path_ref is None else _MODEL_CREATE_KEYS
        fields = [
            _field(key, f"Additional property {key} is not allowed", "additional_property")
            for key in body
            if key not in allowed
        ]
        info: ModelInfo[Any, Any] | None = None
        if path_ref is None:
            version = body.get("version")
            if not isinstance(version, str) or not version.strip():
                fields.append(_field("version", "version is required", "required"))
            else:
                info, error = self._resolve_version(version)
                if error == "404":
                    return _not_found(f"The requested version {version} does not exist")
                if error:
                    fields.append(_field("version", error))
        else:
            info = self._lookup(path_ref)
            if info is None or info.ref != path_ref:
                return _not_found(f"Model {path_ref} not found")
        inputs = body.get("input")
        if not isinstance(inputs, dict):
            name, text = (
                ("input", "input is required")
                if inputs is None
                else (
                    "input",
                    "input must be a JSON object",
                )
            )
            fields.append(_field(name, text, "required" if inputs is None else "invalid_type"))
        webhook = body.get("webhook")
        if webhook is not None and not (
            isinstance(webhook, str) and webhook.startswith(("http://", "https://"))
        ):
            fields.append(_field("webhook", "webhook must be an http(s) URL"))
        events = body.get("webhook_events_filter")
        if events is not None and not (
            isinstance(events, list)
            and all(isinstance(e, str) and e in WEBHOOK_EVENTS for e in events)
        ):
            fields.append(
                _field("webhook_events_filter", "must be a list of: start, output, logs, completed")
            )
        if "stream" in body and not isinstance(body["stream"], bool):
            fields.append(_field("stream", "stream must be a boolean"))
        wait, prefer_error = _parse_prefer(headers.get("prefer", ""))
        if prefer_error:
            fields.append(_field("Prefer", prefer_error))
        deadline_s: float | None = None
        cancel_after = headers.get("cancel-after")
        if cancel_after is not None:
            deadline_s = _parse_cancel_after(cancel_after)
            if deadline_s is None:
                fields.append(_field("Cancel-After", "use a duration such as 30s, 5m or 1h30m"))
            elif deadline_s < 5:
                fields.append(_field("Cancel-After", "the minimum duration is 5s"))
        if info is not None and isinstance(inputs, dict):
            fields.extend(self._input_errors(info, inputs))
        if fields:
            return _invalid(fields)
        assert info is not None and isinstance(inputs, dict)
        timing, outcome, timing_error = self._overrides(info, headers, inputs)
        if timing_error:
            return _invalid([_field("X-Mock-Timing", timing_error)])
        starting_status = headers.get("x-mock-starting-status", "starting").strip() or "starting"
        if not re.fullmatch(r"[a-z_]{1,32}", starting_status) or starting_status in TERMINAL:
            return _invalid([_field("X-Mock-Starting-Status", "a lower-case word, not terminal")])
        now = self.clock.now()
        pid = self._new_id()
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
        fingerprint = self.fingerprint(info.ref, inputs)
        prediction = _Prediction(
            id=pid,
            seq=len(self._order),
            ref=info.ref,
            info=info,
            version=info.version or "hidden",
            input=inputs,
            created_at=now,
            start_at=now + start_s,
            run_s=run_s,
            outcome=outcome,
            deadline=now + deadline_s if deadline_s is not None else None,
            prefix=prefix,
            base=base,
            webhook=webhook if isinstance(webhook, str) else None,
            webhook_events=frozenset(events) if events is not None else DEFAULT_WEBHOOK_EVENTS,
            plan=plan,
            fingerprint=fingerprint,
            log_lines=max(1, min(20, int(run_s / max(self.config.log_interval, 1e-3)))),
            data_uri=headers.get("x-mock-output", "").strip().lower() == "data-uri",
            starting_status=starting_status,
        )
        prediction.end = self._end(prediction)
        self._predictions[pid] = prediction
        self._order.append(prediction)
        self._created.append(now)
        self.creates_by_fingerprint[fingerprint] += 1
        self._runs_by_model[info.ref] += 1
        if prediction.webhook:
            self._spawn(self._webhook_loop(prediction))
        if wait is not None:
            hold = _HoldStream(self, prediction, now + wait, prefix, base)
            return MockResponse(
                201,
                {"content-type": "application/json", "preference-applied": f"wait={wait}"},
                hold,
            )
        return _json(201, self._render(prediction, now, prefix, base))

    def _overrides(
        self, info: ModelInfo[Any, Any], headers: Mapping[str, str], inputs: Mapping[str, Any]
    ) -> tuple[tuple[float, float], Outcome, str | None]:
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

    def _end(self, p: _Prediction) -> tuple[float, str, str | None]:
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

    def _state(self, p: _Prediction, now: float) -> _State:
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
            return _State(end_status, started, end_at, fraction, error, removed)
        if now >= p.start_at:
            fraction = (now - p.start_at) / p.run_s if p.run_s > 0 else 1.0
            return _State("processing", p.start_at, None, min(fraction, 1.0), None, False)
        return _State(p.starting_status, None, None, 0.0, None, False)

    def _logs(self, p: _Prediction, st: _State) -> str:
        if st.started_at is None:
            return ""
        total = p.log_lines
        done = int(math.floor(st.fraction * total + _EPS))
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

    def _next_change(self, p: _Prediction, now: float) -> float:
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
            k = math.floor(fraction * n + _EPS) + 1
            best = min(best, p.start_at + p.run_s * k / n)
        return max(best, now + 1e-3)

    def file_url(self, p: _Prediction, spec: FileSpec, prefix: str, base: str) -> str:
        if p.data_uri:
            data = base64.b64encode(encode_file(spec)).decode()
            return f"data:{spec.content_type};base64,{data}"
        return f"{base}{prefix}/files/{p.id}/{spec.name}"

    def _output(self, p: _Prediction, st: _State, prefix: str, base: str) -> Any:
        if st.removed:
            return None
        if st.status == "succeeded":
            fraction = 1.0
        elif p.plan.progressive and st.started_at is not None:
            fraction = st.fraction
        else:
            return None
        return p.plan.render(lambda spec: self.file_url(p, spec, prefix, base), fraction)

    def _render(self, p: _Prediction, now: float, prefix: str, base: str) -> dict[str, Any]:
        st = self._state(p, now)
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
        return {
            "id": p.id,
            "model": p.ref,
            "version": p.version,
            "input": {} if st.removed else p.input,
            "output": self._output(p, st, prefix, base),
            "logs": None if st.removed else self._logs(p, st),
            "error": st.error,
            "status": st.status,
            "data_removed": st.removed,
            "created_at": _iso(p.created_at),
            "started_at": _iso(st.started_at),
            "completed_at": _iso(st.completed_at),
            "deadline": _iso(p.deadline),
            "source": "api",
            "metrics": metrics,
            "urls": {
                "get": f"{api}/predictions/{p.id}",
                "cancel": f"{api}/predictions/{p.id}/cancel",
                "stream": f"{api}/predictions/{p.id}/stream",
                "web": f"{base}{prefix}/p/{p.id}",
            },
        }

    def prediction(self, pid: str) -> dict[str, Any]:
        """The prediction as the API would show it now (for tests and tools)."""
        p = self._predictions[pid]
        return self._render(p, self.clock.now(), p.prefix, p.base)

    def status(self, pid: str) -> str:
        return self._state(self._predictions[pid], self.clock.now()).status

    def _get(self, pid: str, prefix: str, base: str) -> MockResponse:
        p = self._predictions.get(pid)
        if p is None:
            return _not_found(f"Prediction {pid} not found")
        return _json(200, self._render(p, self.clock.now(), prefix, base))

    def _cancel(self, pid: str, prefix: str, base: str) -> MockResponse:
        p = self._predictions.get(pid)
        if p is None:
            return _not_found(f"Prediction {pid} not found")
        now = self.clock.now()
        if self._state(p, now).status not in TERMINAL:
            p.canceled_at = now
            p.end = self._end(p)
            self._wake(pid)
        return _json(200, self._render(p, now, prefix, base))

    def _list(self, query: Mapping[str, str], prefix: str, base: str) -> MockResponse:
        fields: list[dict[str, str]] = []
        lo, hi = 0, len(self._order)
        after_raw, before_raw = query.get("created_after"), query.get("created_before")
        if after_raw is not None:
            after = _parse_time(after_raw)
            if after is None:
                fields.append(_field("created_after", "must be an ISO 8601 date-time"))
            else:
                lo = bisect.bisect_left(self._created, after)
        if before_raw is not None:
            before = _parse_time(before_raw)
            if before is None:
                fields.append(_field("created_before", "must be an ISO 8601 date-time"))
            else:
                hi = bisect.bisect_left(self._created, before)
        cursor = query.get("cursor")
        direction, mark = "b", hi
        if cursor is not None:
            try:
                decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
                direction, mark = decoded[0], int(decoded[1:])
                if direction not in "ab":
                    raise ValueError(direction)
            except (ValueError, UnicodeDecodeError, IndexError):
                fields.append(_field("cursor", "invalid cursor"))
        if fields:
            return _invalid(fields, "Invalid query")
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
        page = [
            self._render(self._order[i], now, prefix, base) for i in range(top - 1, bottom - 1, -1)
        ]
        extra = {
            k: v for k, v in query.items() if k in ("created_after", "created_before", "source")
        }

        def url(direction: str, mark: int) -> str:
            token = base64.urlsafe_b64encode(f"{direction}{mark}".encode()).decode().rstrip("=")
            params = "&".join(f"{k}={_quote(v)}" for k, v in {**extra, "cursor": token}.items())
            return f"{base}{prefix}/v1/predictions?{params}"

        next_url = url("b", bottom) if bottom > lo else None
        previous_url = url("a", top - 1) if cursor is not None and top < hi else None
        return _json(200, {"next": next_url, "previous": previous_url, "results": page})

    def _web(self, pid: str, prefix: str, base: str) -> MockResponse:
        p = self._predictions.get(pid)
        if p is None:
            return _not_found(f"Prediction {pid} not found")
        status = self._state(p, self.clock.now()).status
        html = f"<!doctype html><title>{p.ref} {pid}</title><p>{p.ref}: {status}</p>"
        return MockResponse(200, {"content-type": "text/html; charset=utf-8"}, html.encode())

    def _output_file(self, pid: str, name: str) -> MockResponse:
        p = self._predictions.get(pid)
        if p is None:
            return _not_found("No such file")
        st = self._state(p, self.clock.now())
        spec = next((f for f in p.plan.files if f.name == name), None)
        if spec is None or st.removed:
            return _not_found("No such file (output files expire)")
        index = p.plan.files.index(spec)
        visible = st.status == "succeeded" or (
            p.plan.progressive
            and st.started_at is not None
            and index < p.plan.item_count(st.fraction)
        )
        if not visible:
            return _not_found("No such file")
        return MockResponse(
            200,
            {
                "content-type": spec.content_type,
                "content-disposition": f'inline; filename="{spec.name}"',
                "cache-control": "private, max-age=3600",
            },
            encode_file(spec),
        )

    def _stream(self, pid: str, headers: Mapping[str, str], prefix: str, base: str) -> MockResponse:
        p = self._predictions.get(pid)
        if p is None:
            return _not_found(f"Prediction {pid} not found")
        return MockResponse(
            200,
            {"content-type": "text/event-stream", "cache-control": "no-store"},
            _SSEStream(self, p, prefix, base, headers.get("last-event-id")),
        )

    # ------------------------------------------------------------------ files

    def _file_create(
        self, headers: Mapping[str, str], body: bytes, prefix: str, base: str
    ) -> MockResponse:
        limit = self.config.max_upload_bytes
        if len(body) > limit + 64 * 1024:
            return _too_large(limit)
        content_type = headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            return _invalid([_field("content", "send multipart/form-data with a content part")])
        parts = _parse_multipart(content_type, body)
        if "content" not in parts:
            return _invalid([_field("content", "content is required", "required")])
        content, part_filename, part_type = parts["content"]
        if len(content) > limit:
            return _too_large(limit)
        filename = (
            parts["filename"][0].decode() if "filename" in parts else (part_filename or "file")
        )
        if len(filename) > 255:
            return _invalid([_field("filename", "at most 255 characters")])
        given_type = parts["type"][0].decode().strip() if "type" in parts else ""
        ctype = given_type or part_type or "application/octet-stream"
        metadata: Any = {}
        if "metadata" in parts:
            try:
                metadata = json.loads(parts["metadata"][0] or b"{}")
            except ValueError:
                return _invalid([_field("metadata", "metadata must be JSON")])
            if not isinstance(metadata, dict):
                return _invalid([_field("metadata", "metadata must be a JSON object")])
        now = self.clock.now()
        upload = _Upload(
            id=self._new_id(),
            content=content,
            filename=filename,
            content_type=ctype,
            metadata=metadata,
            created_at=now,
            expires_at=now + self.config.upload_ttl,
            sha256=hashlib.sha256(content).hexdigest(),
            prefix=prefix,
        )
        self._uploads[upload.id] = upload
        return _json(201, self._file_json(upload, prefix, base))

    def _file_json(self, upload: _Upload, prefix: str, base: str) -> dict[str, Any]:
        return {
            "id": upload.id,
            "name": upload.filename,
            "content_type": upload.content_type,
            "size": len(upload.content),
            "checksums": {"sha256": upload.sha256},
            "metadata": upload.metadata,
            "created_at": _iso(upload.created_at),
            "expires_at": _iso(upload.expires_at),
            "urls": {"get": f"{base}{prefix}/v1/files/{upload.id}"},
        }

    def _live_upload(self, fid: str) -> _Upload | None:
        upload = self._uploads.get(fid)
        if upload is None or self.clock.now() >= upload.expires_at:
            return None
        return upload

    def _file_get(self, fid: str, prefix: str, base: str) -> MockResponse:
        upload = self._live_upload(fid)
        if upload is None:
            return _not_found(f"File {fid} not found")
        return _json(200, self._file_json(upload, prefix, base))

    def _file_download(self, fid: str) -> MockResponse:
        upload = self._live_upload(fid)
        if upload is None:
            return _not_found(f"File {fid} not found")
        return MockResponse(200, {"content-type": upload.content_type}, upload.content)

    # ------------------------------------------------------------------ admin + stats

    def stats(self) -> dict[str, Any]:
        """Counters: requests per route, creates per input fingerprint, faults, webhooks."""
        now = self.clock.now()
        # copy first (one C-level step each): the server thread may be adding entries meanwhile
        predictions = list(self._order)
        by_fingerprint = dict(self.creates_by_fingerprint)
        statuses = Counter(self._state(p, now).status for p in predictions)
        duplicates = sum(n - 1 for n in by_fingerprint.values() if n > 1)
        return {
            "requests": dict(self.requests),
            "operations": dict(self.operations),
            "creates": len(predictions),
            "creates_by_fingerprint": by_fingerprint,
            "duplicate_creates": duplicates,
            "statuses": dict(statuses),
            "faults": dict(self.faults_injected),
            "webhooks": dict(self.webhook_stats),
            "uploads": len(self._uploads),
        }

    def reset_stats(self) -> None:
        for counter in (
            self.requests,
            self.operations,
            self.creates_by_fingerprint,
            self.faults_injected,
            self.webhook_stats,
        ):
            counter.clear()

    def _admin(self, method: str, path: str, body: bytes) -> MockResponse:
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return problem(400, "Bad request", "The request body is not valid JSON")
        if path == "/_mock/stats" and method == "GET":
            return _json(200, self.stats())
        if path == "/_mock/stats/reset" and method == "POST":
            self.reset_stats()
            return _json(200, self.stats())
        if path == "/_mock/faults" and method == "GET":
            cfg = self._faults
            data = {k: getattr(cfg, k) for k in cfg.__dataclass_fields__}
            data["operations"] = sorted(cfg.operations) if cfg.operations is not None else None
            queued = {op: [f.kind for f in q] for op, q in self._fault_queue.items() if q}
            return _json(200, {"rates": data, "queued": queued})
        if path == "/_mock/faults" and method in ("PUT", "POST"):
            if not isinstance(payload, dict):
                return problem(400, "Bad request", "send a JSON object")
            try:
                if "kind" in payload:
                    self.inject(
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
                    self.set_faults(replace(FaultConfig(), **values))
            except (TypeError, ValueError) as error:
                return problem(422, "Invalid fault configuration", str(error))
            return self._admin("GET", "/_mock/faults", b"")
        if path == "/_mock/clock/advance" and method == "POST":
            advance = getattr(self.clock, "advance", None)
            if advance is None:
                return problem(409, "Conflict", "this mock runs on the real clock")
            seconds = payload.get("seconds", 0) if isinstance(payload, dict) else 0
            return _json(200, {"now": advance(float(seconds))})
        return _not_found("Unknown mock admin endpoint")

    # ------------------------------------------------------------------ background work

    def _spawn(self, coro: Any) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = self._background_loop()
            loop.call_soon_threadsafe(self._start_task, coro)
            return
        self._start_task(coro)

    def _start_task(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _background_loop(self) -> asyncio.AbstractEventLoop:
        with self._thread_lock:
            if self._thread_loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="replicate-typed-mock-webhooks", daemon=True
                )
                thread.start()
                self._thread_loop, self._thread = loop, thread
            return self._thread_loop

    def _wake(self, pid: str) -> None:
        entry = self._wakes.get(pid)
        if entry is not None:
            loop, event = entry
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:
                pass

    @property
    def pending_webhook_tasks(self) -> int:
        return len(self._tasks)

    async def wait_webhooks(self, timeout: float = 5.0) -> bool:
        """Wait (real time) until webhook work started in this loop is done; False on timeout."""
        current = asyncio.current_task()
        pending = [t for t in self._tasks if t is not current]
        if not pending:
            return True
        done, rest = await asyncio.wait(pending, timeout=timeout)
        return not rest

    def webhook_http(self) -> httpx.AsyncClient:
        """The HTTP client webhook deliveries use in the running loop (one per loop, reused:
        creating an httpx client costs tens of milliseconds)."""
        loop = asyncio.get_running_loop()
        client = self._http_clients.get(loop)
        if client is None:
            client = httpx.AsyncClient(
                timeout=self.config.webhook_timeout,
                follow_redirects=False,
                limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            )
            self._http_clients[loop] = client
        return client

    async def aclose(self) -> None:
        """Stop background work: in the running loop, then elsewhere (helper thread, servers)."""
        tasks = [
            t for t in self._tasks if not t.done() and t.get_loop() is asyncio.get_running_loop()
        ]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        client = self._http_clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()
        if self._tasks or self._http_clients or self._thread is not None:
            await asyncio.to_thread(self.close)

    def close(self) -> None:
        """Stop background work from synchronous code (not from inside a loop it runs in)."""
        for task in list(self._tasks):
            loop = task.get_loop()
            if not loop.is_closed():
                try:
                    loop.call_soon_threadsafe(task.cancel)
                except RuntimeError:
                    pass
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, client in list(self._http_clients.items()):
            self._http_clients.pop(loop, None)
            if loop.is_closed():
                continue
            if loop is current:
                loop.create_task(client.aclose())
            elif loop.is_running():
                future = asyncio.run_coroutine_threadsafe(client.aclose(), loop)
                try:
                    future.result(timeout=5)
                except Exception:  # noqa: BLE001 - best effort while shutting down
                    pass
        self._stop_thread()

    def _stop_thread(self) -> None:
        with self._thread_lock:
            loop, thread = self._thread_loop, self._thread
            self._thread_loop = self._thread = None
        if loop is None or thread is None:
            return

        def stop() -> None:
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.call_soon(loop.stop)

        loop.call_soon_threadsafe(stop)
        thread.join(timeout=5)
        loop.close()

    async def _webhook_loop(self, p: _Prediction) -> None:
        from replicate_typed.mock.delivery import deliver

        event = asyncio.Event()
        self._wakes[p.id] = (asyncio.get_running_loop(), event)
        events = p.webhook_events
        progress_events = bool(events & {"logs", "output"})
        throttle = self.config.webhook_throttle
        sent_logs, sent_items, sequence = 0, 0, 0
        last_progress = -math.inf

        async def send(now: float, reason: str) -> None:
            nonlocal sequence
            sequence += 1
            payload = _dumps(self._render(p, now, p.prefix, p.base))
            assert p.webhook is not None
            await deliver(self, p.webhook, payload, f"msg_{p.id}_{sequence}", reason)

        try:
            if "start" in events:
                await send(self.clock.now(), "start")
            while True:
                now = self.clock.now()
                st = self._state(p, now)
                if st.status in TERMINAL:
                    if "completed" in events:
                        await send(now, "completed")
                    return
                logs = len(self._logs(p, st))
                items = p.plan.item_count(st.fraction) if p.plan.progressive else 0
                new_output = "output" in events and items != sent_items
                new_logs = "logs" in events and logs != sent_logs
                pending = new_output or new_logs
                if pending and now - last_progress >= throttle:
                    last_progress, sent_logs, sent_items = now, logs, items
                    await send(now, "output" if new_output else "logs")
                    pending = False
                event.clear()
                end_at = p.end[0]
                if not progress_events:
                    target = end_at
                elif pending:
                    target = min(last_progress + throttle, end_at)
                else:
                    target = self._next_change(p, now)
                    target = min(max(target, last_progress + throttle), end_at)
                await self.clock.wait_until(target, event)
        finally:
            self._wakes.pop(p.id, None)


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _parse_multipart(
    content_type: str, body: bytes
) -> dict[str, tuple[bytes, str | None, str | None]]:
    """``multipart/form-data`` -> ``{name: (data, filename, content type)}``, in O(size).

    (The stdlib e-mail parser works line by line: seconds for a large binary upload.)
    """
    header = email.parser.HeaderParser().parsestr(f"Content-Type: {content_type}\r\n\r\n")
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        return {}
    delimiter = b"--" + boundary.encode("latin-1")
    parts: dict[str, tuple[bytes, str | None, str | None]] = {}
    chunks = body.split(delimiter)
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        raw_headers, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            continue
        if data.endswith(b"\r\n"):
            data = data[:-2]
        headers = email.parser.HeaderParser().parsestr(raw_headers.decode("utf-8", "replace"))
        name = headers.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        filename = headers.get_param("filename", header="content-disposition")
        ctype = headers.get_content_type() if headers.get("content-type") else None
        parts[name] = (data, filename if isinstance(filename, str) else None, ctype)
    return parts


def _too_large(limit: int) -> MockResponse:
    return problem(
        413, "Request Entity Too Large", f"The file is larger than the limit of {limit} bytes"
    )


class _HoldStream(MockStream):
    """``Prefer: wait``: hold until the prediction ends or the wait runs out, then answer."""

    def __init__(
        self, backend: MockBackend, p: _Prediction, until: float, prefix: str, base: str
    ) -> None:
        super().__init__(backend.clock)
        self.backend, self.p, self.until, self.prefix, self.base = backend, p, until, prefix, base

    def steps(self) -> Iterator[bytes | Pause]:
        backend, p = self.backend, self.p
        while True:
            now = backend.clock.now()
            st = backend._state(p, now)
            if st.status in TERMINAL or now >= self.until:
                yield _dumps(backend._render(p, now, self.prefix, self.base))
                return
            target = min(p.end[0], self.until)
            yield Pause(min(max(target - now, 1e-3), 0.5))


class _SSEStream(MockStream):
    """``urls.stream``: ``output``/``logs`` events while it runs, then ``error``/``done``.

    Event ids (``<created epoch>:<n>``) number the prediction's events in a fixed order (by the
    time each log line or output item appeared), so a client reconnecting with ``Last-Event-ID``
    gets exactly the events after that one.
    """

    def __init__(
        self,
        backend: MockBackend,
        p: _Prediction,
        prefix: str,
        base: str,
        last_event_id: str | None = None,
    ) -> None:
        super().__init__(backend.clock)
        self.backend, self.p, self.prefix, self.base = backend, p, prefix, base
        self.skip_through = -1
        if last_event_id:
            _, _, number = last_event_id.strip().rpartition(":")
            if number.isdigit():
                self.skip_through = int(number)

    def steps(self) -> Iterator[bytes | Pause]:
        backend, p = self.backend, self.p
        counter = 0
        sent_logs = 0
        sent_items = 0
        idle_since = backend.clock.now()

        def event(name: str, data: str) -> bytes:
            nonlocal counter
            number = counter
            counter += 1
            if number <= self.skip_through:
                return b""
            lines = data.split("\n") if data else [""]
            text = f"event: {name}\nid: {int(p.created_at)}:{number}\n"
            text += "".join(f"data: {line}\n" for line in lines) + "\n"
            return text.encode()

        while True:
            now = backend.clock.now()
            st = backend._state(p, now)
            end_at = p.end[0]
            batch: list[tuple[float, int, str, str]] = []
            if not st.removed:
                lines = backend._logs(p, st).splitlines()
                progress_lines = int(math.floor(st.fraction * p.log_lines + _EPS))
                for index in range(sent_logs, len(lines)):
                    if index == 0:
                        when = p.start_at
                    elif index <= progress_lines:
                        when = p.start_at + p.run_s * index / p.log_lines
                    else:
                        when = end_at
                    batch.append((when, 0, "logs", lines[index]))
                sent_logs = max(sent_logs, len(lines))
                output = backend._output(p, st, self.prefix, self.base)
                if p.plan.progressive and isinstance(output, list):
                    total = len(p.plan.template) if isinstance(p.plan.template, list) else 1
                    for index in range(sent_items, len(output)):
                        item = output[index]
                        when = p.start_at + p.run_s * (index + 1) / max(total, 1)
                        text = item if isinstance(item, str) else json.dumps(item)
                        batch.append((min(when, end_at), 1, "output", text))
                    sent_items = max(sent_items, len(output))
                elif st.status == "succeeded" and output is not None and sent_items == 0:
                    text = output if isinstance(output, str) else json.dumps(output)
                    batch.append((end_at, 1, "output", text))
                    sent_items = 1
            batch.sort(key=lambda e: (e[0], e[1]))
            out = [event(name, data) for _, _, name, data in batch]
            if st.status in TERMINAL:
                if st.status == "failed":
                    out.append(event("error", json.dumps({"detail": st.error or "failed"})))
                    out.append(event("done", json.dumps({"reason": "error"})))
                elif st.status in ("canceled", "aborted"):
                    out.append(event("done", json.dumps({"reason": "canceled"})))
                else:
                    out.append(event("done", "{}"))
                yield b"".join(out)
                return
            if batch:
                idle_since = now
                yield b"".join(out)
            elif now - idle_since >= backend.config.stream_idle_timeout:
                return
            target = min(
                backend._next_change(p, now), idle_since + backend.config.stream_idle_timeout
            )
            yield Pause(min(max(target - now, 1e-3), 0.5))
