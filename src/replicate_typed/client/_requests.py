"""Request building and response parsing shared by :class:`Client` and :class:`AsyncClient`.

Everything here is pure: functions take arguments (and, for parsing, an already-read
``httpx.Response``) and return a :class:`RequestSpec` or a parsed object, or raise a typed
error. The clients only add I/O (send, retry, sleep) on top.

Every request is a generated call (:mod:`replicate_typed.resources`: one method per operation
of ``specs/api/openapi.json``) turned into a :class:`RequestSpec` by :func:`spec_of`, from its
row of the generated operation table (:mod:`replicate_typed.types.operations`): method, path
template, retry class and the operation's name (its ``operationId``, used in errors and logs)
live in the spec and nowhere else. Values are checked here by name, whatever the operation:
path ids (:mod:`.validation`), ``owner/name`` and version ids (:mod:`replicate_typed.core.refs`),
``webhook``/``webhook_events_filter``, ``Prefer: wait``, ``Cancel-After``, extra headers.

A prediction's ``input`` holds only the fields a caller set: for a generated ``Input`` the dump uses
``exclude_unset=True`` (defaults are left to the server, which applies the model's own), local
files become data URIs or uploaded file URLs (:mod:`replicate_typed.client.uploads`) and secrets
are revealed.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx
import pydantic_core
from pydantic_core import ValidationError

from replicate_typed.client import errors
from replicate_typed.client import validation as safe
from replicate_typed.client._logging import logger, redact
from replicate_typed.client.polling import prefer_header, validate_wait, wait_read_timeout
from replicate_typed.client.retries import RequestKind, retry_after_hint
from replicate_typed.core.calls import InvalidItem, Page
from replicate_typed.core.refs import is_model_ref, is_version_id, split_model_ref
from replicate_typed.types import operations as ops
from replicate_typed.types.operations import Operation

# the API types (pydantic models) are imported where answers are parsed: building requests, and
# so constructing a client, does not need pydantic's model machinery
if TYPE_CHECKING:
    from pydantic import BaseModel

    from replicate_typed.core.calls import APICall
    from replicate_typed.types.api import Prediction, ProblemDetails

__all__ = [
    "DEFAULT_BASE_URL",
    "RequestSpec",
    "API_PREFIX",
    "operation_path",
    "resolve_base_url",
    "resolve_api_token",
    "join_url",
    "auth_headers",
    "validate_version",
    "validate_model_ref",
    "validate_prediction_id",
    "validate_file_id",
    "validate_cancel_after",
    "validate_webhook",
    "validate_create",
    "next_page",
    "page_spec",
    "spec_of",
    "parse_call",
    "parse_page_items",
    "check_extra_headers",
    "validate_version_id",
    "error_from_response",
    "parse_response",
    "parse_prediction",
    "snippet_of",
]

DEFAULT_BASE_URL = "https://api.replicate.com"
API_PREFIX = "/v1"
"""The spec's server is ``{base}/v1``; its paths (and the operation table's) are under it."""


@functools.cache
def user_agent() -> str:
    """``replicate-typed/<version>``: the version the installed distribution has (pyproject's
    ``version``, its one home), read once."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"replicate-typed/{version('replicate-typed')}"
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "replicate-typed"


SNIPPET_CHARS = 200
# bytes read for a snippet: whitespace is folded and secrets masked before it is cut
SNIPPET_WINDOW = 64 * 1024
WEBHOOK_EVENTS = ("start", "output", "logs", "completed")

_CANCEL_AFTER = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_SEGMENT = r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*"  # one path segment of a safe value (no dot segment)
_DOT_SEGMENTS = frozenset({".", ".."})

T = TypeVar("T", bound="BaseModel")


@dataclass(slots=True)
class RequestSpec:
    """One API call, described without doing it.

    ``url`` is a path under the base URL (``/v1/...``) or, for ``next`` pages, an absolute URL
    already rewritten onto the base. ``read_timeout`` is a minimum read timeout for this call
    (``Prefer: wait``). ``method``, ``kind`` (the retry rule, see
    :mod:`replicate_typed.client.retries`) and ``operation`` (the ``operationId``) come from the
    operation's row of the generated table (:func:`_request`).
    """

    method: str
    url: str
    kind: RequestKind
    operation: str
    json: Any = None
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    data: Mapping[str, str] | None = None
    read_timeout: float | None = None
    prediction_id: str | None = None
    content: bytes | None = None
    timeout: float | None = None
    max_retries: int | None = None
    """Per-call options (``timeout=``, ``max_retries=`` of a generated method): None, the
    client's own."""


# --- configuration ---------------------------------------------------------------------------


def resolve_base_url(base_url: str | None) -> str:
    """``base_url``, else ``REPLICATE_BASE_URL``, else the official API; no trailing ``/``.

    A router base such as ``https://host/replicate`` keeps its path prefix; a trailing ``/v1``
    is dropped because the client adds it to every path.
    """
    raw = base_url if base_url is not None else os.environ.get("REPLICATE_BASE_URL") or ""
    value = raw.strip() or DEFAULT_BASE_URL
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise errors.InputError(
            f"base_url: {value!r} is not an http(s) URL such as {DEFAULT_BASE_URL} "
            "or https://host/replicate"
        )
    if parts.query or parts.fragment:
        raise errors.InputError(f"base_url: {value!r} must not carry a query or fragment")
    value = value.rstrip("/")
    if value.endswith("/v1"):
        value = value[: -len("/v1")]
    return value


def resolve_api_token(api_token: str | None) -> str | None:
    """``api_token``, else ``REPLICATE_API_TOKEN`` (None when neither is set)."""
    token = api_token if api_token is not None else os.environ.get("REPLICATE_API_TOKEN")
    if token is not None:
        token = token.strip()
        try:
            safe.check_header_value(token, "api_token")
        except safe.UnsafeValueError as exc:
            # the rule, never the value
            raise errors.InputError(f"api_token: {exc.rule} (value not shown)") from None
    return token or None


def join_url(base_url: str, path: str) -> str:
    """``{base}{path}``; an absolute URL is returned unchanged."""
    if path.startswith(("http://", "https://")):
        return path
    return f"{base_url}{path}"


def auth_headers(api_token: str | None) -> dict[str, str]:
    headers = {"User-Agent": user_agent(), "Accept": "application/json"}
    if api_token:
        headers["Authorization"] = f"Bearer {api_token}"
    return headers


# --- validation (before anything is sent) -----------------------------------------------------


def validate_version(version: str) -> str:
    """``owner/name``, ``owner/name:<64-hex>`` or a bare 64-hex version id."""
    if not isinstance(version, str):
        raise errors.InputError(f"version: {version!r} must be a string")
    value = version.strip()
    if is_version_id(value):
        return value
    name, sep, vid = value.partition(":")
    if is_model_ref(name) and (not sep or is_version_id(vid)):
        return value
    raise errors.InputError(
        f"version: {version!r} is not a 64-hex version id, owner/name:<64-hex id> or owner/name"
    )


def validate_model_ref(model: object, name: str = "model") -> tuple[str, str]:
    """``owner/name`` → (owner, name) (``name``: the argument, for the message)."""
    parts = split_model_ref(model.strip()) if isinstance(model, str) else None
    if parts is None:
        raise errors.InputError(
            f"{name}: {model!r} is not owner/name (e.g. black-forest-labs/flux-schnell)"
        )
    return parts


def validate_prediction_id(prediction_id: str) -> str:
    """An id the caller gives, checked by the rule of :mod:`.validation` (as ids received):
    letters, digits, ``-_.~``, not starting with ``.`` (so never ``.``/``..``), at most 200."""
    try:
        return safe.check_id(prediction_id, "id")
    except safe.UnsafeValueError as exc:
        raise errors.InputError(str(exc)) from None


def validate_file_id(file_id: str) -> str:
    """A file id goes into a URL path as a prediction id does: the same rule."""
    try:
        return safe.check_id(file_id, "file_id", "file id")
    except safe.UnsafeValueError as exc:
        raise errors.InputError(str(exc)) from None


def validate_cancel_after(cancel_after: str | None) -> str | None:
    """``30s``, ``5m``, ``1h30m`` ...: hours, minutes, seconds in that order; at least 5 s."""
    if cancel_after is None:
        return None
    value = cancel_after.strip() if isinstance(cancel_after, str) else ""
    match = _CANCEL_AFTER.match(value)
    if not value or match is None:
        raise errors.InputError(
            f"cancel_after: {cancel_after!r} is not a duration like 30s, 5m or 1h30m"
        )
    h, m, s = (int(g) if g else 0 for g in match.groups())
    if h * 3600 + m * 60 + s < 5:
        raise errors.InputError(f"cancel_after: {cancel_after!r} is shorter than the minimum 5s")
    return value


def validate_webhook(
    webhook: str | None, webhook_events_filter: Sequence[str] | None
) -> tuple[str | None, list[str] | None]:
    if webhook is not None:
        parts = urlsplit(webhook) if isinstance(webhook, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise errors.InputError(f"webhook: {webhook!r} is not an http(s) URL")
    events: list[str] | None = None
    if webhook_events_filter is not None:
        if isinstance(webhook_events_filter, str):
            raise errors.InputError(
                f"webhook_events_filter: {webhook_events_filter!r} must be a list of events, "
                f"not a string (allowed: {', '.join(WEBHOOK_EVENTS)})"
            )
        events = list(webhook_events_filter)
        for event in events:
            if event not in WEBHOOK_EVENTS:
                raise errors.InputError(
                    f"webhook_events_filter: {event!r} is not one of {', '.join(WEBHOOK_EVENTS)}"
                )
        if webhook is None:
            raise errors.InputError(
                "webhook_events_filter: given without webhook (the filter needs a webhook URL)"
            )
    return webhook, events


# --- request builders -------------------------------------------------------------------------


def operation_path(operation: Operation, path_params: Mapping[str, str] | None = None) -> str:
    """``operation.path`` under :data:`API_PREFIX`, each ``{name}`` filled with its value
    percent-encoded (every character but letters, digits and ``-._~``), so a value stays in its
    own path segment.

    The values must already be validated (with a message for the user); a missing or unexpected
    name, an empty value or a dot segment (``.``, ``..``, which URL normalisation would resolve
    into another path) is a programming error here.
    """
    given = path_params or {}
    if not operation.path_params and not given:
        return API_PREFIX + operation.path  # the common case: nothing to fill in
    if len(given) != len(operation.path_params) or set(given) != set(operation.path_params):
        raise ValueError(
            f"{operation.id}: path parameters {sorted(given)} do not match "
            f"{list(operation.path_params)} of {operation.path}"
        )
    for name, value in given.items():
        if not isinstance(value, str) or not value or value in _DOT_SEGMENTS:
            raise ValueError(
                f"{operation.id}: path parameter {name}={value!r} is empty or a dot segment"
            )
    return API_PREFIX + _PLACEHOLDER.sub(lambda m: _segment(given[m.group(1)]), operation.path)


def _segment(value: str) -> str:
    """``value`` percent-encoded for one path segment (most ids need no encoding: kept as is)."""
    return value if safe.UNRESERVED.fullmatch(value) else quote(value, safe="")


def _request(
    operation: Operation, path_params: Mapping[str, str] | None = None, **fields: Any
) -> RequestSpec:
    """The request of one operation: method, path, retry class and name from its table row."""
    return RequestSpec(
        operation.method,
        operation_path(operation, path_params),
        operation.retry,
        operation.id,
        **fields,
    )


def _create_headers(wait: bool | int | None, cancel_after: str | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    prefer = prefer_header(wait)
    if prefer is not None:
        headers["Prefer"] = prefer
    if cancel_after is not None:
        headers["Cancel-After"] = cancel_after
    return headers


def _body_tail(webhook: str | None, events: list[str] | None) -> dict[str, Any]:
    tail: dict[str, Any] = {}
    if webhook is not None:
        tail["webhook"] = webhook
    if events is not None:
        tail["webhook_events_filter"] = events
    return tail


def _check_input(input: Any) -> dict[str, Any]:
    """The input must be a JSON object; values that do not serialise are reported when the
    request is built (``Client`` turns that into an :class:`InputError` before sending)."""
    if not isinstance(input, Mapping):
        raise errors.InputError(
            f"input: a {type(input).__name__} is not a JSON object (pass a dict or a model's Input)"
        )
    return dict(input)


def validate_create(
    *,
    version: str | None = None,
    model: str | None = None,
    wait: bool | int | None = None,
    cancel_after: str | None = None,
    webhook: str | None = None,
    webhook_events_filter: Sequence[str] | None = None,
    model_name: str = "model",
) -> None:
    """Check a create's options before its input is prepared (uploads) or anything is sent
    (``model_name``: what ``model`` is called in messages, e.g. ``deployment``)."""
    if version is not None or model is None:
        validate_version(version)  # type: ignore[arg-type]
    if model is not None:
        validate_model_ref(model, model_name)
    validate_wait(wait)
    validate_cancel_after(cancel_after)
    validate_webhook(webhook, webhook_events_filter)


def _when(name: str, value: datetime | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise errors.InputError(f"{name}: {value!r} has no time zone (use an aware datetime)")
        return value.isoformat()
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise errors.InputError(f"{name}: {value!r} is not an ISO 8601 date-time") from None
        return value
    raise errors.InputError(f"{name}: {value!r} must be a datetime or an ISO 8601 string")


def next_page(next_url: str, base_url: str, op: Operation = ops.PREDICTIONS_LIST) -> RequestSpec:
    """The ``next`` URL of a page of the list operation ``op``, kept on the configured base.

    A router may hand out ``next`` links on the upstream host (``https://api.replicate.com/...``);
    the token is only ever sent to the configured base, so such a link is re-rooted on it.
    """
    # only the query of the link is kept: the base and the operation's own path are ours
    parts = _PLACEHOLDER.split(op.path)  # the parameter names at odd places
    path = "".join(_SEGMENT if i % 2 else re.escape(part) for i, part in enumerate(parts))
    try:
        url = safe.rebase_api_url(next_url, base_url, re.compile(re.escape(API_PREFIX) + path))
    except safe.UnsafeValueError as exc:
        raise errors.APIResponseValidationError(
            f"{op.id}: page link refused: {exc}",
            status_code=200,
            snippet=safe.shown(next_url, SNIPPET_CHARS),
        ) from None
    return RequestSpec(op.method, url, op.retry, op.id)


def page_spec(first: RequestSpec, url: str, base_url: str, seen: set[str]) -> RequestSpec:
    """The request of the page at ``url`` (a page's ``next``) of the list call ``first``: kept
    on the configured base (:func:`next_page`), with the first request's headers, body and
    options; a link already followed (a server whose paging loops) is refused."""
    if url in seen:
        raise errors.APIResponseValidationError(
            f"{first.operation}: page link {safe.shown(url, SNIPPET_CHARS)!r} repeats "
            "(the server's paging loops)",
            status_code=200,
        )
    seen.add(url)
    link = next_page(url, base_url, ops.OPERATIONS[first.operation])
    return replace(first, url=link.url, params=None)


def check_extra_headers(extra: Mapping[str, str]) -> dict[str, str]:
    """Headers a caller adds (``extra_headers=``, ``with_options``), checked."""
    return _extra_headers(extra)


# --- response parsing -------------------------------------------------------------------------


def snippet_of(content: bytes, limit: int = SNIPPET_CHARS) -> str:
    """A short, single-line, printable excerpt of a body for error messages (known secrets are
    masked before it is cut, so no fragment of one survives)."""
    text = content[:SNIPPET_WINDOW].decode("utf-8", errors="replace")
    text = redact(re.sub(r"\s+", " ", text).strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return pydantic_core.from_json(response.content)
    except ValueError:
        return None


_STATUS_ERRORS: dict[int, type[errors.APIStatusError]] = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    409: errors.ConflictError,
    422: errors.UnprocessableEntityError,
    429: errors.RateLimitError,
}


def _field_errors(body: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    if not isinstance(body, Mapping):
        return found
    invalid = body.get("invalid_fields")
    if isinstance(invalid, list):
        for item in invalid:
            if isinstance(item, Mapping) and item.get("field") is not None:
                found[str(item["field"])] = str(item.get("description") or item.get("type") or "")
    detail = body.get("detail")
    if isinstance(detail, list):  # FastAPI / cog style: [{"loc": [...], "msg": ...}]
        for item in detail:
            if isinstance(item, Mapping) and "msg" in item:
                loc = item.get("loc")
                name = (
                    ".".join(str(p) for p in loc if p not in ("body", "input"))
                    if isinstance(loc, list)
                    else ""
                )
                found[name or "input"] = str(item["msg"])
    return found


def error_from_response(
    response: httpx.Response, *, operation: str = "request", prediction_id: str | None = None
) -> errors.APIStatusError:
    """Map an error status to the error hierarchy. Never raises; any body (HTML, empty) is fine."""
    from replicate_typed.types.api import ProblemDetails

    status = response.status_code
    body = _json_or_none(response)
    problem: ProblemDetails | None = None
    if isinstance(body, Mapping):
        try:
            problem = ProblemDetails.model_validate(body)
        except ValidationError:
            problem = None
    snippet = snippet_of(response.content)
    title = problem.title if problem and problem.title else response.reason_phrase or "HTTP error"
    detail: str | None = None
    if problem is not None and isinstance(body, Mapping):
        raw_detail = body.get("detail")
        detail = raw_detail if isinstance(raw_detail, str) else problem.detail
    described = detail or (snippet if body is None and snippet else None)
    message = f"{operation}: HTTP {status} {title}"
    if described:
        message += f": {described}"
    if body is None and response.content:
        content_type = response.headers.get("content-type", "unknown type")
        message += f" (non-JSON {content_type.split(';')[0]} body)"
    kwargs: dict[str, Any] = dict(
        status_code=status,
        request=response.request if _has_request(response) else None,
        response=response,
        body=body,
        snippet=snippet,
        prediction_id=prediction_id,
    )
    cls = _STATUS_ERRORS.get(status)
    if cls is errors.UnprocessableEntityError:
        fields = _field_errors(body)
        if fields:
            message += " (" + "; ".join(f"{k}: {v}" for k, v in fields.items()) + ")"
        error: errors.APIStatusError = errors.UnprocessableEntityError(
            message, field_errors=fields, **kwargs
        )
    elif cls is errors.RateLimitError:
        hint = retry_after_hint(response.headers, detail=detail, body=body)
        error = errors.RateLimitError(message, retry_after=hint, **kwargs)
    elif cls is not None:
        error = cls(message, **kwargs)
    elif status >= 500:
        error = errors.InternalServerError(message, **kwargs)
    else:
        error = errors.APIStatusError(message, **kwargs)
    if prediction_id:
        error.attach_prediction_id(prediction_id)
    return error


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018  (raises RuntimeError when unset)
    except RuntimeError:
        return False
    return True


def _decode(response: httpx.Response, operation: str) -> Any:
    if not response.content:
        raise errors.APIResponseValidationError(
            f"{operation}: HTTP {response.status_code} with an empty body (expected JSON)",
            status_code=response.status_code,
            request=response.request if _has_request(response) else None,
        )
    try:
        return pydantic_core.from_json(response.content)
    except ValueError:
        snippet = snippet_of(response.content)
        raise errors.APIResponseValidationError(
            f"{operation}: HTTP {response.status_code} answer is not JSON: {snippet!r}",
            status_code=response.status_code,
            request=response.request if _has_request(response) else None,
            snippet=snippet,
        ) from None


def _summarise(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['msg']}")
    more = len(exc.errors()) - 3
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def parse_response(
    response: httpx.Response,
    cls: type[T],
    *,
    operation: str,
    prediction_id: str | None = None,
) -> T:
    """Decode a 2xx answer into ``cls``; a body that is not JSON or does not fit raises
    :class:`~replicate_typed.client.errors.APIResponseValidationError` with a snippet, and
    with the prediction's id when the call was about one or the body carried a string ``id``.

    A :class:`Prediction` needs only ``id``: every other field may be missing (None on the
    object; :func:`replicate_typed.predictions.unknown_fields` lists them).

    The body (already read within the size limit) is validated in one step
    (``model_validate_json``); only an answer that fails is decoded and validated again, step
    by step, to say what is wrong (``contract_tests/client/test_parse_fast.py`` proves both
    ways agree)."""
    content = response.content
    if content:
        try:
            parsed = cls.model_validate_json(content)
        except ValidationError:
            pass  # the general path below says what is wrong
        else:
            check_received_ids(parsed, response, operation=operation)
            return parsed
    try:
        data = _decode(response, operation)
    except errors.APIResponseValidationError as undecodable:
        undecodable.attach_prediction_id(prediction_id)
        raise
    try:
        parsed = cls.model_validate(data)
    except ValidationError as exc:
        found_id = data.get("id") if isinstance(data, dict) else None
        # an id from the server is handed on only when it passes the id rule
        pid = prediction_id or (found_id if safe.id_problem(found_id) is None else None)
        error = errors.APIResponseValidationError(
            f"{operation}: HTTP {response.status_code} answer is not a {cls.__name__}: "
            f"{_summarise(exc)}; body: {snippet_of(response.content)!r}",
            status_code=response.status_code,
            request=response.request if _has_request(response) else None,
            snippet=snippet_of(response.content),
            prediction_id=pid,
        )
        error.attach_prediction_id(pid)
        raise error from None
    check_received_ids(parsed, response, operation=operation)
    return parsed


# --- ids received (strict about content: they end up in URL paths and file names) ------------


def check_received_ids(parsed: BaseModel, response: httpx.Response, *, operation: str) -> None:
    """Refuse an answer whose prediction or file id breaks the id rule (:mod:`.validation`).

    The id is never attached to the error (it must not reach a path or URL); the message shows
    it escaped. A create answered with such an id says the prediction may exist.
    """
    if type(parsed) is api_type("Prediction") and safe.id_problem(parsed.id) is None:  # type: ignore[attr-defined]
        return  # the common case, answered at once
    from replicate_typed.types.api import File, FilePage, Prediction, PredictionPage

    found: list[tuple[str, object]] = []
    what = "file id" if isinstance(parsed, (File, FilePage)) else "prediction id"
    if isinstance(parsed, (Prediction, File)):
        found.append(("id", parsed.id))
    elif isinstance(parsed, (PredictionPage, FilePage)):
        results: list[Any] = list(parsed.results or [])
        found.extend((f"results.{i}.id", item.id) for i, item in enumerate(results))
    for field_name, value in found:
        try:
            safe.check_id(value, field_name, what)
        except safe.UnsafeValueError as exc:
            error = errors.APIResponseValidationError(
                f"{operation}: HTTP {response.status_code} answer refused: {exc}; it is not used "
                "in any URL or output folder",
                status_code=response.status_code,
                request=response.request if _has_request(response) else None,
                snippet=snippet_of(response.content),
            )
            if operation.endswith("predictions.create") and isinstance(parsed, Prediction):
                error.prediction_may_exist = True
            raise error from None


def parse_prediction(
    response: httpx.Response, *, operation: str, prediction_id: str | None = None
) -> Prediction:
    prediction: Prediction = parse_response(
        response, api_type("Prediction"), operation=operation, prediction_id=prediction_id
    )
    return prediction


# --- generated calls (replicate_typed.resources) -----------------------------------------------
#
# A generated method hands over an APICall (operation, values as given); here it is checked and
# encoded by the rules of this module (ids, owner/name, version ids, webhooks, waits), so every
# operation of the spec, present or future, goes through the same checks.

_PAIR = re.compile(r"\{(\w+)_owner\}/\{\1_name\}")


@dataclass(frozen=True, slots=True)
class _PathPlan:
    """How an operation's path is filled (worked out once per operation): its ``owner/name``
    pairs, its other placeholders, and the path under :data:`API_PREFIX` as a template."""

    stems: tuple[str, ...]
    names: tuple[str, ...]
    template: str
    """``/v1`` + the operation's path: ``str.format_map`` fills its ``{name}`` placeholders."""


_PLANS: dict[tuple[str, str], _PathPlan] = {}


def _path_plan(op: Operation) -> _PathPlan:
    key = (op.id, op.path)
    plan = _PLANS.get(key)
    if plan is None:
        stems = tuple(_PAIR.findall(op.path))
        paired = {f"{stem}_{part}" for stem in stems for part in ("owner", "name")}
        names = tuple(n for n in op.path_params if n not in paired)
        plan = _PLANS[key] = _PathPlan(stems, names, API_PREFIX + op.path)
    return plan


def _path_values(op: Operation, given: Mapping[str, str]) -> tuple[str, str | None]:
    """The path of ``op`` filled with the Python-named values, each checked by its rule; and
    the prediction id when the call is about one.

    Every rule (:func:`validate_model_ref`, :func:`validate_version_id`, the id rule of
    :mod:`.validation`) admits only letters, digits and ``-._~``, never a leading ``.``: a
    checked value is one path segment as it is, so the template is filled without
    percent-encoding (``contract_tests/client/test_paths.py`` proves this agrees with
    :func:`operation_path`, which encodes)."""
    plan = _path_plan(op)
    if not plan.stems and not plan.names:
        return plan.template, None  # the common case: nothing to fill in
    values: dict[str, str] = {}
    for stem in plan.stems:
        owner, name = validate_model_ref(given.get(stem), stem)
        values[f"{stem}_owner"], values[f"{stem}_name"] = owner, name
    for name in plan.names:
        value = given.get(name)
        if name == "version_id":
            values[name] = validate_version_id(value)
        else:
            try:
                values[name] = safe.check_id(value, name, name.replace("_", " "))
            except safe.UnsafeValueError as exc:
                raise errors.InputError(str(exc)) from None
    return plan.template.format_map(values), values.get("prediction_id")


def validate_version_id(version_id: object, name: str = "version_id") -> str:
    if not isinstance(version_id, str) or not is_version_id(version_id):
        raise errors.InputError(f"{name}: {version_id!r} is not a 64-hex version id")
    return version_id


def _query_value(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return _when(name, value) or ""
    if isinstance(value, int | float | str):
        if isinstance(value, str) and name.startswith("created_"):
            return _when(name, value) or ""
        return str(value)
    raise errors.InputError(f"{name}: {value!r} is not a value a query parameter can carry")


def _body(op: Operation, body: Mapping[str, object]) -> dict[str, object]:
    """A JSON body, its fields checked by the rule each name has wherever it appears."""
    out = dict(body)
    if isinstance(out.get("version"), str):
        out["version"] = validate_version(cast_str(out["version"]))
    for name in ("model", "destination"):
        if name in out:
            owner, model_name = validate_model_ref(out[name], name)
            out[name] = f"{owner}/{model_name}"
    if "input" in out:
        out["input"] = _check_input(out["input"])
    if "webhook" in out or "webhook_events_filter" in out:
        webhook, events = validate_webhook(
            out.get("webhook"),  # type: ignore[arg-type]
            out.get("webhook_events_filter"),  # type: ignore[arg-type]
        )
        if events is not None:
            out["webhook_events_filter"] = events
    return out


def cast_str(value: object) -> str:
    assert isinstance(value, str)
    return value


def _form(form: Mapping[str, object]) -> tuple[dict[str, tuple[str, bytes, str]], dict[str, str]]:
    files: dict[str, tuple[str, bytes, str]] = {}
    data: dict[str, str] = {}
    for name, value in form.items():
        if isinstance(value, bytes | bytearray):
            filename = str(form.get("filename") or name)
            ctype = str(form.get("type") or "application/octet-stream")
            files[name] = (filename, bytes(value), ctype)
        elif isinstance(value, Mapping):
            try:
                data[name] = json.dumps(dict(value))
            except (TypeError, ValueError) as exc:
                raise errors.InputError(f"{name}: not JSON-serialisable: {exc}") from None
        else:
            data[name] = str(value)
    return files, data


def _headers(op: Operation, given: Mapping[str, object]) -> tuple[dict[str, str], float | None]:
    """Header parameters: ``Prefer`` from a wait (True or 1..60 s), ``Cancel-After`` checked,
    any other checked as a header value. Returns the headers and a minimum read timeout."""
    headers: dict[str, str] = {}
    read_timeout: float | None = None
    for name, value in given.items():
        if name == "Prefer" and not isinstance(value, str):
            wait = value if isinstance(value, bool | int) else None
            validate_wait(wait)
            prefer = prefer_header(wait)
            if prefer is not None:
                headers[name] = prefer
            read_timeout = wait_read_timeout(wait)
            continue
        if name == "Cancel-After":
            value = validate_cancel_after(value)  # type: ignore[arg-type]
        try:
            headers[name] = safe.check_header_value(value, name)
        except safe.UnsafeValueError as exc:
            raise errors.InputError(f"{name}: {exc.rule}") from None
    return headers, read_timeout


def _extra_headers(extra: Mapping[str, str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in extra.items():
        try:
            safe.check_header_name(name)
            headers[name] = safe.check_header_value(value, name)
        except safe.UnsafeValueError as exc:
            raise errors.InputError(f"extra_headers: {name!r}: {exc.rule}") from None
        if name.lower() == "authorization":
            raise errors.InputError("extra_headers: Authorization is the client's own (api_token)")
    return headers


def spec_of(call: APICall) -> RequestSpec:
    """The request of a generated call, every value checked before anything is sent."""
    op = ops.OPERATIONS[call.operation]
    path, prediction_id = _path_values(op, call.path_params)
    params = {k: _query_value(k, v) for k, v in call.query.items()} if call.query else None
    headers, read_timeout = _headers(op, call.headers) if call.headers else ({}, None)
    files = data = None
    body: Any = None
    content: bytes | None = None
    if call.json is not None:
        body = _body(op, call.json)
    elif call.form is not None:
        files, data = _form(call.form)
    elif call.content is not None:
        if not isinstance(call.content, str):
            raise errors.InputError(f"{call.operation}: {call.content!r} must be a string")
        content = call.content.encode("utf-8")
        headers["Content-Type"] = "text/plain; charset=utf-8"
    options = call.options
    timeout = max_retries = None
    if options is not None:
        if options.extra_headers:
            headers.update(_extra_headers(options.extra_headers))
        timeout, max_retries = options.timeout, options.max_retries
        if max_retries is not None and (not isinstance(max_retries, int) or max_retries < 0):
            raise errors.InputError(f"max_retries: {max_retries!r} must be an integer >= 0")
        if timeout is not None and (not isinstance(timeout, int | float) or timeout <= 0):
            raise errors.InputError(f"timeout: {timeout!r} must be a number of seconds > 0")
    return RequestSpec(
        op.method,
        path,
        op.retry,
        op.id,
        json=body,
        params=params,
        headers=headers,
        files=files,
        data=data,
        read_timeout=read_timeout,
        prediction_id=prediction_id,
        content=content,
        timeout=float(timeout) if timeout is not None else None,
        max_retries=max_retries,
    )


@functools.cache
def api_type(name: str) -> Any:
    """The API type a generated call names (``"Model"``, ``"list[Hardware]"``): a class, or a
    pydantic ``TypeAdapter`` for a list (made once)."""
    from replicate_typed.types import api

    if name.startswith("list[") and name.endswith("]"):
        from pydantic import TypeAdapter

        return TypeAdapter(list[getattr(api, name[5:-1])])  # type: ignore[misc,arg-type]
    return getattr(api, name)


def parse_call(response: httpx.Response, call: APICall, spec: RequestSpec) -> Any:
    """The typed answer of a generated call (as its method's annotation says)."""
    kind = call.kind
    if kind == "empty":
        return None
    if kind == "text":
        return response.text
    if kind == "bytes":
        return response.content
    if kind == "json":
        return _decode(response, call.operation)
    if kind == "list":
        adapter = api_type(call.cast_to)
        data = _decode(response, call.operation)
        try:
            return adapter.validate_python(data)
        except ValidationError as exc:
            raise errors.APIResponseValidationError(
                f"{call.operation}: HTTP {response.status_code} answer is not a {call.cast_to}: "
                f"{_summarise(exc)}",
                status_code=response.status_code,
                snippet=snippet_of(response.content),
            ) from None
    cls = api_type(call.cast_to)
    return parse_response(response, cls, operation=call.operation, prediction_id=spec.prediction_id)


def parse_page_items(response: httpx.Response, call: APICall) -> Page[Any]:
    """A page of a list call, read item by item: an item that does not parse (or whose id
    breaks the id rule) is left out and reported in ``invalid``; the others are kept."""
    data = _decode(response, call.operation)
    if not isinstance(data, Mapping):
        raise errors.APIResponseValidationError(
            f"{call.operation}: HTTP {response.status_code} answer is not a page object",
            status_code=response.status_code,
            snippet=snippet_of(response.content),
        )
    results = data.get("results")
    if results is None:
        results = []
    if not isinstance(results, list):
        raise errors.APIResponseValidationError(
            f"{call.operation}: HTTP {response.status_code} page has no results list",
            status_code=response.status_code,
            snippet=snippet_of(response.content),
        )
    links = {k: data.get(k) for k in ("next", "previous")}
    for key, link in links.items():
        if link is not None and not isinstance(link, str):
            raise errors.APIResponseValidationError(
                f"{call.operation}: page link {key} is not a string",
                status_code=response.status_code,
            )
    cls = api_type(call.item)
    checks_id = call.item in ("Prediction", "File")
    items: list[Any] = []
    invalid: list[InvalidItem] = []
    for index, raw in enumerate(results):
        found = raw.get("id") if isinstance(raw, Mapping) else None
        shown_id = found if isinstance(found, str) and safe.id_problem(found) is None else None
        try:
            item = cls.model_validate(raw)
        except ValidationError as exc:
            invalid.append(InvalidItem(index, _summarise(exc), shown_id))
            continue
        if checks_id and safe.id_problem(getattr(item, "id", None)) is not None:
            what = "file id" if call.item == "File" else "prediction id"
            try:
                safe.check_id(getattr(item, "id", None), f"results.{index}.id", what)
            except safe.UnsafeValueError as exc:  # the value shown escaped, never used
                invalid.append(InvalidItem(index, f"{exc} (not used)", None))
            continue
        items.append(item)
    if invalid:
        logger.warning(
            "%s: %d item(s) of the page left out: %s",
            call.operation,
            len(invalid),
            "; ".join(f"#{i.index}: {i.reason}" for i in invalid[:3]),
        )
    return Page(items, links["next"], links["previous"], invalid)


def left_out_error(call: APICall, invalid: list[InvalidItem]) -> errors.APIResponseValidationError:
    """The error a walk over a list's items ends with when items were left out."""
    shown = "; ".join(f"item {i.index}: {i.reason}" for i in invalid[:3])
    more = f"; and {len(invalid) - 3} more" if len(invalid) > 3 else ""
    return errors.APIResponseValidationError(
        f"{call.operation}: {len(invalid)} item(s) of the answer left out ({shown}{more}); the "
        "others were returned (walk .pages() to see every page's invalid items)",
        status_code=200,
    )
