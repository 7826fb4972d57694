"""``Client`` and ``AsyncClient``: the typed client of a Replicate-format prediction API.

::

    from replicate_typed.client._client import Client
    from replicate_typed.models.stability_ai import sdxl

    with Client() as client:                      # REPLICATE_API_TOKEN, REPLICATE_BASE_URL
        images = client.run(sdxl.Input(prompt="a lighthouse"))   # -> list[FileOutput]

Both clients share request building and response parsing (:mod:`._requests`), the retry policy
(:mod:`.retries`) and the wait strategy (:mod:`.polling`); only sending and sleeping differ.
The API token is sent only to the configured base URL (and Replicate's own stream host) and
never appears in a repr, a log record or an error.
"""

from __future__ import annotations

import asyncio
import math
import mimetypes
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError

from replicate_typed.client import _requests as rq
from replicate_typed.client import errors
from replicate_typed.client._logging import logger, redact_headers, register_secret
from replicate_typed.client.polling import Poller, PollPolicy, is_terminal
from replicate_typed.client.retries import RetryPolicy, was_sent
from replicate_typed.client.streaming import StreamEvent, aiter_events, iter_events
from replicate_typed.client.uploads import aprepare_input, prepare_input
from replicate_typed.core.model import ModelInfo, ModelInput
from replicate_typed.core.predictions import TypedPrediction
from replicate_typed.types.api import (
    File,
    Model,
    ModelVersion,
    Prediction,
    PredictionPage,
    WebhookSecret,
)

if TYPE_CHECKING:
    from replicate_typed.batch.runner import BatchReport

__all__ = ["Client", "AsyncClient", "DEFAULT_TIMEOUT", "DEFAULT_MAX_RETRIES"]

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 4
T = TypeVar("T")

InputLike = Mapping[str, Any] | ModelInput[Any]
FileContent = bytes | bytearray | Path | IO[bytes]


# --- shared, I/O-free parts -------------------------------------------------------------------


class _Core:
    """Configuration and every decision that does not need I/O, shared by both clients."""

    def __init__(
        self,
        api_token: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        retry_policy: RetryPolicy | None,
        poll_policy: PollPolicy | None,
    ) -> None:
        self.base_url = rq.resolve_base_url(base_url)
        self._api_token = rq.resolve_api_token(api_token)
        register_secret(self._api_token)
        self._headers = rq.auth_headers(self._api_token)
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        if retry_policy is None:
            retry_policy = RetryPolicy(max_retries=max_retries)
        self.retry_policy = retry_policy
        self.poll_policy = poll_policy or PollPolicy()
        self._direct_headers: dict[str, str] | None = None

    def bind(self, http: httpx.Client | httpx.AsyncClient, owned: bool) -> None:
        """Remember whether requests may be built directly (only for our own httpx client)."""
        merged = {**dict(http.headers.items()), **self._headers}
        self._direct_headers = {k.lower(): v for k, v in merged.items()} if owned else None

    def __repr__(self) -> str:
        token = "set" if self._api_token else "unset"
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_token=<{token}>)"

    # requests

    def build(self, http: httpx.Client | httpx.AsyncClient, spec: rq.RequestSpec) -> httpx.Request:
        timeout = self.timeout
        if spec.read_timeout is not None and timeout.read is not None:
            timeout = httpx.Timeout(
                connect=timeout.connect,
                read=max(timeout.read, spec.read_timeout),
                write=timeout.write,
                pool=timeout.pool,
            )
        files: Any = (
            {k: (name, data, ctype) for k, (name, data, ctype) in spec.files.items()}
            if spec.files
            else None
        )
        try:
            if self._direct_headers is not None:
                # our own httpx client has no base URL, params or cookies to merge: build the
                # request directly (what build_request would produce, without its merging work)
                return httpx.Request(
                    spec.method,
                    rq.join_url(self.base_url, spec.url),
                    params=dict(spec.params) if spec.params else None,
                    json=spec.json,
                    files=files,
                    data=dict(spec.data) if spec.data else None,
                    headers={
                        **self._direct_headers,
                        **{k.lower(): v for k, v in spec.headers.items()},
                    }
                    if spec.headers
                    else self._direct_headers,
                    extensions={"timeout": timeout.as_dict()},
                )
            return http.build_request(
                spec.method,
                rq.join_url(self.base_url, spec.url),
                params=dict(spec.params) if spec.params else None,
                json=spec.json,
                files=files,
                data=dict(spec.data) if spec.data else None,
                headers={**self._headers, **spec.headers} if spec.headers else self._headers,
                timeout=timeout,
            )
        except (TypeError, ValueError) as exc:
            if spec.json is None:
                raise
            raise errors.InputError(f"input: not JSON-serialisable: {exc}") from None

    def log_request(self, request: httpx.Request, attempt: int) -> None:
        if logger.isEnabledFor(10):
            logger.debug(
                "%s %s attempt %d headers=%s",
                request.method,
                request.url,
                attempt + 1,
                redact_headers(request.headers.items()),
            )

    def after_failure(
        self,
        spec: rq.RequestSpec,
        request: httpx.Request,
        attempt: int,
        *,
        response: httpx.Response | None = None,
        exc: httpx.RequestError | None = None,
    ) -> float:
        """Seconds to wait before retrying, or raise the error this failure maps to."""
        policy = self.retry_policy
        if exc is not None:
            if policy.should_retry(spec.kind, attempt, exc=exc):
                delay = policy.delay(attempt)
                logger.info(
                    "%s: %s, retrying in %.2fs (retry %d of %d)",
                    spec.operation, type(exc).__name__, delay, attempt + 1, policy.max_retries,
                )  # fmt: skip
                return delay
            raise self.connection_error(spec, request, exc) from exc
        assert response is not None
        if policy.should_retry(spec.kind, attempt, status=response.status_code):
            detail = None
            if response.status_code == 429:
                detail = rq.snippet_of(response.content)
            delay = policy.delay(attempt, response.headers, detail=detail)
            logger.info(
                "%s: HTTP %d, retrying in %.2fs (retry %d of %d)",
                spec.operation, response.status_code, delay, attempt + 1, policy.max_retries,
            )  # fmt: skip
            return delay
        error = rq.error_from_response(
            response, operation=spec.operation, prediction_id=spec.prediction_id
        )
        if spec.kind == "create" and (response.status_code >= 500 or response.status_code == 408):
            self._may_exist(error, spec)
        raise error

    def connection_error(
        self, spec: rq.RequestSpec, request: httpx.Request, exc: httpx.RequestError
    ) -> errors.APIConnectionError:
        sent = was_sent(exc)
        if isinstance(exc, httpx.TimeoutException):
            what = "timed out"
        elif isinstance(exc, httpx.DecodingError):
            what = "got an answer whose body could not be decoded"
        else:
            what = "connection failed"
        message = f"{spec.operation}: {request.method} {request.url} {what} ({type(exc).__name__})"
        error: errors.APIConnectionError
        if isinstance(exc, httpx.TimeoutException):
            error = errors.APITimeoutError(message, request=request, sent=sent)
        else:
            error = errors.APIConnectionError(message, request=request, sent=sent)
        if spec.prediction_id:
            error.attach_prediction_id(spec.prediction_id)
        if spec.kind == "create" and sent:
            self._may_exist(error, spec)
        return error

    @staticmethod
    def _may_exist(error: errors.APIError, spec: rq.RequestSpec) -> None:
        error.prediction_may_exist = True
        what = "file" if spec.operation == "files.create" else "prediction"
        error.message = (
            f"{error.message} -- the {what} may have been created anyway; it was not retried "
            f"to avoid a duplicate (look for it with "
            f"{'client.predictions.list()' if what == 'prediction' else 'the files API'})"
        )
        error.args = (error.message, *error.args[1:])

    # waiting

    def run_wait(self, wait: bool | int | None, timeout: float | None) -> bool | int | None:
        """A ``Prefer: wait`` that does not outlast the caller's ``timeout``."""
        if wait is True and timeout is not None:
            return max(1, min(60, math.floor(timeout)))
        if isinstance(wait, int) and not isinstance(wait, bool) and timeout is not None:
            return max(1, min(wait, math.floor(timeout)))
        return wait

    def timeout_error(
        self, prediction: Prediction, timeout: float, cancel_note: str
    ) -> errors.PredictionTimeoutError:
        return errors.PredictionTimeoutError(
            f"prediction {prediction.id} still {prediction.status!s} after waiting {timeout:g}s"
            f"{cancel_note}",
            prediction_id=prediction.id,
            last_status=str(prediction.status),
        )

    def stream_headers(self, url: str) -> dict[str, str]:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        host = urlsplit(url).hostname or ""
        base_host = urlsplit(self.base_url).hostname or ""
        trusted = rq.same_origin(url, self.base_url) or (
            base_host == "api.replicate.com" and host.endswith(".replicate.com")
        )
        if trusted and "Authorization" in self._headers:
            headers["Authorization"] = self._headers["Authorization"]
        return headers


def _model_info(input: ModelInput[T]) -> ModelInfo[Any, T]:
    info = getattr(type(input), "__model_info__", None)
    if not isinstance(input, ModelInput) or not isinstance(info, ModelInfo):
        raise errors.InputError(
            f"input: {type(input).__name__} is not a generated model Input "
            "(use replicate_typed.models.<owner>.<name>.Input, or predictions.create for dicts)"
        )
    return info


def _input_values(input: object) -> dict[str, Any]:
    """What the caller set, values untouched (unset defaults are not sent)."""
    if isinstance(input, ModelInput):
        return input.request_values()
    if isinstance(input, Mapping):
        return dict(input)
    raise errors.InputError(
        f"input: a {type(input).__name__} is not a mapping or a generated model Input"
    )


def _note_running(exc: BaseException, prediction_id: str) -> None:
    """Name the prediction on an exception that is not ours (it may still be running, and paid)."""
    exc.add_note(
        f"prediction {prediction_id} was created and may still be running "
        "(cancel it with client.predictions.cancel)"
    )
    logger.warning("waiting for prediction %s interrupted by %s", prediction_id, type(exc).__name__)


_SCALARS = (str, int, float, bool, type(None))


def _plain_json(values: dict[str, Any]) -> bool:
    """True when every value is a plain JSON scalar: nothing for the uploader to do."""
    return all(type(v) in _SCALARS for v in values.values())


def _typed_output(prediction: Prediction, info: ModelInfo[Any, T]) -> T:
    status = str(prediction.status)
    if status != "succeeded":
        reason = f": {prediction.error}" if prediction.error else ""
        raise errors.PredictionError(
            f"prediction {prediction.id} ({info.ref}) {status}{reason}", prediction=prediction
        )
    if prediction.output is None and prediction.data_removed:
        raise errors.OutputRemovedError(
            f"prediction {prediction.id} ({info.ref}) succeeded but its output was removed "
            "(data_removed: the API deletes outputs about an hour after a prediction ends)",
            prediction=prediction,
        )
    try:
        return info.parse_output(prediction.output)
    except ValidationError as exc:
        snippet = rq.snippet_of(repr(prediction.output).encode())
        raise errors.OutputValidationError(
            f"prediction {prediction.id} ({info.ref}): output does not fit the model's Output "
            f"type: {exc.errors()[0]['msg'] if exc.errors() else exc}; output: {snippet}",
            prediction=prediction,
            snippet=snippet,
        ) from None


def _file_parts(
    content: FileContent, filename: str | None, content_type: str | None
) -> tuple[bytes, str, str]:
    if isinstance(content, (bytes, bytearray)):
        data, name = bytes(content), None
    elif isinstance(content, Path):
        try:
            data, name = content.read_bytes(), content.name
        except OSError as exc:
            raise errors.InputError(f"content: cannot read {str(content)!r}: {exc}") from None
    elif hasattr(content, "read"):
        raw = content.read()
        if not isinstance(raw, bytes):
            raise errors.InputError("content: the file object is not binary (open it with 'rb')")
        data = raw
        given = getattr(content, "name", None)
        name = Path(given).name if isinstance(given, str) else None
    else:
        raise errors.InputError(
            f"content: a {type(content).__name__} is not bytes, a Path or a binary file object"
        )
    filename = filename or name or "file"
    if content_type is None:
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return data, filename, content_type


def _prediction_of(
    value: Prediction | TypedPrediction[Any, Any] | str,
) -> tuple[str, Prediction | None]:
    if isinstance(value, TypedPrediction):
        return value.id, value.raw
    if isinstance(value, Prediction):
        return value.id, value
    return rq.validate_prediction_id(value), None


# --- sync -------------------------------------------------------------------------------------


class Client:
    """Synchronous client. See :mod:`replicate_typed.client._client` and ARCHITECTURE.md.

    ``timeout``: seconds (or an ``httpx.Timeout``) per request; a ``Prefer: wait`` create gets a
    read timeout of at least its wait + 10 s. ``max_retries``: retries of one request (see
    :mod:`.retries`). ``sleep``/``clock`` are injectable (tests, simulations).
    """

    def __init__(
        self,
        api_token: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | None = None,
        *,
        http_client: httpx.Client | None = None,
        retry_policy: RetryPolicy | None = None,
        poll_policy: PollPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._core = _Core(api_token, base_url, timeout, max_retries, retry_policy, poll_policy)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(transport=transport, follow_redirects=False)
        self._core.bind(self._http, self._owns_http)
        self._sleep = sleep
        self._clock = clock
        self.predictions = Predictions(self)
        self.models = Models(self)
        self.files = Files(self)
        self.webhooks = Webhooks(self)

    @property
    def base_url(self) -> str:
        return self._core.base_url

    @property
    def http(self) -> httpx.Client:
        """The underlying ``httpx.Client`` (carries no credentials; they are added per request)."""
        return self._http

    def __repr__(self) -> str:
        return repr(self._core).replace("_Core", type(self).__name__)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def _send(self, spec: rq.RequestSpec) -> httpx.Response:
        attempt = 0
        while True:
            request = self._core.build(self._http, spec)
            self._core.log_request(request, attempt)
            try:
                response = self._http.send(request)
            except httpx.RequestError as exc:  # no answer, or one whose body cannot be decoded
                delay = self._core.after_failure(spec, request, attempt, exc=exc)
            else:
                logger.debug("%s %s -> %d", request.method, request.url, response.status_code)
                if response.is_success:
                    return response
                delay = self._core.after_failure(spec, request, attempt, response=response)
            self._sleep(delay)
            attempt += 1

    def _upload(self, data: bytes, filename: str | None) -> str:
        file = self.files.create(data, filename=filename)
        if not file.urls.get:
            raise errors.APIResponseValidationError(
                f"files.create: file {file.id} has no urls.get to pass as input", status_code=201
            )
        return file.urls.get

    def _prepare_input(self, input: InputLike) -> dict[str, Any]:
        values = _input_values(input)
        if _plain_json(values):
            return values
        return prepare_input(values, self._upload)

    # typed calls

    def create(self, input: ModelInput[T], **create_options: Any) -> TypedPrediction[Any, T]:
        """Create a prediction of a generated model (by version or by model path, per its spec)."""
        info = _model_info(input)
        if info.call_by == "version":
            if not info.version:
                raise errors.InputError(f"model {info.ref}: its spec has no version to call")
            raw = self.predictions.create(version=info.version, input=input, **create_options)
        else:
            raw = self.models.predictions.create(info.ref, input=input, **create_options)
        return TypedPrediction(raw, info)

    def run(
        self,
        input: ModelInput[T],
        *,
        timeout: float | None = None,
        wait: bool | int | None = True,
        cancel_on_timeout: bool = False,
        **create_options: Any,
    ) -> T:
        """Create, wait (``Prefer: wait``, then adaptive polling) and return the typed output.

        Raises :class:`PredictionError` (failed/canceled/aborted), :class:`OutputRemovedError`,
        :class:`PredictionTimeoutError` after ``timeout`` seconds; every error carries the id.
        """
        info = _model_info(input)
        started = self._clock()
        prediction = self.create(input, wait=self._core.run_wait(wait, timeout), **create_options)
        remaining = None if timeout is None else max(0.0, timeout - (self._clock() - started))
        final = self.predictions.wait(
            prediction.raw, timeout=remaining, cancel_on_timeout=cancel_on_timeout
        )
        return _typed_output(final, info)

    def run_many(self, inputs: Any, **options: Any) -> BatchReport:
        """Run many inputs durably (journal, resume, no duplicate creates): see
        :func:`replicate_typed.batch.run_many`. Returns a ``BatchReport``."""
        from replicate_typed.batch import run_many

        return run_many(self, inputs, **options)


class Predictions:
    def __init__(self, client: Client) -> None:
        self._client = client

    def create(
        self,
        *,
        version: str,
        input: InputLike,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        wait: bool | int | None = None,
        cancel_after: str | None = None,
    ) -> Prediction:
        """``POST /v1/predictions``. Everything is validated before any request (or upload)."""
        options: dict[str, Any] = dict(
            webhook=webhook, webhook_events_filter=webhook_events_filter, wait=wait
        )
        rq.validate_create(version=version, cancel_after=cancel_after, **options)
        spec = rq.create_prediction(
            version=version,
            input=self._client._prepare_input(input),
            cancel_after=cancel_after,
            **options,
        )
        return _created(self._client._send(spec), spec)

    def get(self, id: str) -> Prediction:
        spec = rq.get_prediction(id)
        return rq.parse_prediction(
            self._client._send(spec), operation=spec.operation, prediction_id=id
        )

    def cancel(self, id: str) -> Prediction:
        spec = rq.cancel_prediction(id)
        return rq.parse_prediction(
            self._client._send(spec), operation=spec.operation, prediction_id=id
        )

    def list(
        self,
        *,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
    ) -> Iterator[Prediction]:
        """Every prediction, newest first, following each page's ``next`` link."""
        spec: rq.RequestSpec | None = rq.list_predictions(
            created_after=created_after, created_before=created_before
        )
        seen: set[str] = set()
        while spec is not None:
            page: PredictionPage = rq.parse_page(self._client._send(spec))
            yield from page.results or []
            spec = _follow(page, self._client.base_url, seen)

    def wait(
        self,
        prediction: Prediction | TypedPrediction[Any, Any] | str,
        *,
        timeout: float | None = None,
        cancel_on_timeout: bool = False,
        poll_policy: PollPolicy | None = None,
    ) -> Prediction:
        """Poll until the prediction is succeeded/failed/canceled/aborted and return it.

        Does not raise for a failed prediction (``run`` does). ``timeout`` (seconds) raises
        :class:`PredictionTimeoutError`; with ``cancel_on_timeout`` the prediction is canceled.
        """
        client = self._client
        pid, current = _prediction_of(prediction)
        poller = Poller(poll_policy or client._core.poll_policy)
        started = client._clock()
        deadline = None if timeout is None else started + timeout
        try:
            if current is None:
                current = self.get(pid)
            while not is_terminal(str(current.status)):
                delay = poller.next_delay(
                    str(current.status), current.logs, elapsed=client._clock() - started
                )
                if deadline is not None:
                    left = deadline - client._clock()
                    if left <= 0:
                        raise client._core.timeout_error(
                            current, cast(float, timeout), self._cancel_note(pid, cancel_on_timeout)
                        )
                    delay = min(delay, left)
                client._sleep(delay)
                current = self.get(pid)
        except errors.ReplicateError as exc:
            exc.attach_prediction_id(pid)
            raise
        except BaseException as exc:  # interrupted (Ctrl-C, a bug in a callback): keep the id
            _note_running(exc, pid)
            raise
        return current

    def _cancel_note(self, pid: str, cancel: bool) -> str:
        if not cancel:
            return " (it is still running; cancel it with client.predictions.cancel)"
        try:
            self.cancel(pid)
        except errors.ReplicateError as exc:
            return f" (cancel failed: {exc})"
        return " (canceled)"

    def stream(self, prediction: Prediction | TypedPrediction[Any, Any]) -> Iterator[StreamEvent]:
        """The prediction's server-sent events (``output``, ``logs``, ``error``, ``done``)."""
        pid, raw = _prediction_of(prediction)
        url = raw.urls.stream if raw is not None else None
        if not url:
            raise errors.StreamError(f"prediction {pid} has no stream URL (urls.stream)")
        headers = self._client._core.stream_headers(url)
        try:
            yield from iter_events(self._client._http, url, headers=headers)
        except errors.ReplicateError as exc:
            exc.attach_prediction_id(pid)
            raise


def _created(response: httpx.Response, spec: rq.RequestSpec) -> Prediction:
    prediction = rq.parse_prediction(response, operation=spec.operation)
    logger.info("%s: created prediction %s (%s)", spec.operation, prediction.id, prediction.status)
    return prediction


def _follow(page: PredictionPage, base_url: str, seen: set[str]) -> rq.RequestSpec | None:
    if not page.next:
        return None
    if page.next in seen:
        raise errors.APIResponseValidationError(
            f"predictions.list: page link {page.next!r} repeats (the server's paging loops)",
            status_code=200,
        )
    seen.add(page.next)
    return rq.next_page(page.next, base_url)


class ModelPredictions:
    def __init__(self, client: Client) -> None:
        self._client = client

    def create(
        self,
        model: str,
        *,
        input: InputLike,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        wait: bool | int | None = None,
        cancel_after: str | None = None,
    ) -> Prediction:
        """``POST /v1/models/{owner}/{name}/predictions`` (official models)."""
        options: dict[str, Any] = dict(
            webhook=webhook, webhook_events_filter=webhook_events_filter, wait=wait
        )
        rq.validate_create(model=model, cancel_after=cancel_after, **options)
        spec = rq.create_model_prediction(
            model, input=self._client._prepare_input(input), cancel_after=cancel_after, **options
        )
        return _created(self._client._send(spec), spec)


class ModelVersions:
    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self, model: str, version_id: str) -> ModelVersion:
        spec = rq.get_model_version(model, version_id)
        return rq.parse_response(self._client._send(spec), ModelVersion, operation=spec.operation)


class Models:
    def __init__(self, client: Client) -> None:
        self._client = client
        self.versions = ModelVersions(client)
        self.predictions = ModelPredictions(client)

    def get(self, model: str) -> Model:
        spec = rq.get_model(model)
        return rq.parse_response(self._client._send(spec), Model, operation=spec.operation)


class Files:
    def __init__(self, client: Client) -> None:
        self._client = client

    def create(
        self,
        content: FileContent,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> File:
        data, name, ctype = _file_parts(content, filename, content_type)
        spec = rq.create_file(data, filename=name, content_type=ctype, metadata=metadata)
        return rq.parse_response(self._client._send(spec), File, operation=spec.operation)


class Webhooks:
    def __init__(self, client: Client) -> None:
        self._client = client

    def default_secret(self) -> WebhookSecret:
        """The signing secret of this account's webhooks (its repr masks nothing: keep it safe)."""
        spec = rq.get_default_webhook_secret()
        return rq.parse_response(self._client._send(spec), WebhookSecret, operation=spec.operation)


# --- async ------------------------------------------------------------------------------------


class AsyncClient:
    """Asynchronous client: the same surface as :class:`Client` with ``await`` / ``async for``."""

    def __init__(
        self,
        api_token: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        retry_policy: RetryPolicy | None = None,
        poll_policy: PollPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._core = _Core(api_token, base_url, timeout, max_retries, retry_policy, poll_policy)
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(transport=transport, follow_redirects=False)
        self._core.bind(self._http, self._owns_http)
        self._sleep = sleep
        self._clock = clock
        self.predictions = AsyncPredictions(self)
        self.models = AsyncModels(self)
        self.files = AsyncFiles(self)
        self.webhooks = AsyncWebhooks(self)

    @property
    def base_url(self) -> str:
        return self._core.base_url

    @property
    def http(self) -> httpx.AsyncClient:
        return self._http

    def __repr__(self) -> str:
        return repr(self._core).replace("_Core", type(self).__name__)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def _send(self, spec: rq.RequestSpec) -> httpx.Response:
        attempt = 0
        while True:
            request = self._core.build(self._http, spec)
            self._core.log_request(request, attempt)
            try:
                response = await self._http.send(request)
            except httpx.RequestError as exc:  # no answer, or one whose body cannot be decoded
                delay = self._core.after_failure(spec, request, attempt, exc=exc)
            else:
                logger.debug("%s %s -> %d", request.method, request.url, response.status_code)
                if response.is_success:
                    return response
                delay = self._core.after_failure(spec, request, attempt, response=response)
            await self._sleep(delay)
            attempt += 1

    async def _upload(self, data: bytes, filename: str | None) -> str:
        file = await self.files.create(data, filename=filename)
        if not file.urls.get:
            raise errors.APIResponseValidationError(
                f"files.create: file {file.id} has no urls.get to pass as input", status_code=201
            )
        return file.urls.get

    async def _prepare_input(self, input: InputLike) -> dict[str, Any]:
        values = _input_values(input)
        if _plain_json(values):
            return values
        return await aprepare_input(values, self._upload)

    async def create(self, input: ModelInput[T], **create_options: Any) -> TypedPrediction[Any, T]:
        info = _model_info(input)
        if info.call_by == "version":
            if not info.version:
                raise errors.InputError(f"model {info.ref}: its spec has no version to call")
            raw = await self.predictions.create(version=info.version, input=input, **create_options)
        else:
            raw = await self.models.predictions.create(info.ref, input=input, **create_options)
        return TypedPrediction(raw, info)

    async def run(
        self,
        input: ModelInput[T],
        *,
        timeout: float | None = None,
        wait: bool | int | None = True,
        cancel_on_timeout: bool = False,
        **create_options: Any,
    ) -> T:
        info = _model_info(input)
        started = self._clock()
        prediction = await self.create(
            input, wait=self._core.run_wait(wait, timeout), **create_options
        )
        remaining = None if timeout is None else max(0.0, timeout - (self._clock() - started))
        final = await self.predictions.wait(
            prediction.raw, timeout=remaining, cancel_on_timeout=cancel_on_timeout
        )
        return _typed_output(final, info)

    async def run_many(self, inputs: Any, **options: Any) -> BatchReport:
        """Run many inputs durably (journal, resume, no duplicate creates): see
        :func:`replicate_typed.batch.arun_many`. Returns a ``BatchReport``."""
        from replicate_typed.batch import arun_many

        return await arun_many(self, inputs, **options)


class AsyncPredictions:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
        self,
        *,
        version: str,
        input: InputLike,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        wait: bool | int | None = None,
        cancel_after: str | None = None,
    ) -> Prediction:
        options: dict[str, Any] = dict(
            webhook=webhook, webhook_events_filter=webhook_events_filter, wait=wait
        )
        rq.validate_create(version=version, cancel_after=cancel_after, **options)
        spec = rq.create_prediction(
            version=version,
            input=await self._client._prepare_input(input),
            cancel_after=cancel_after,
            **options,
        )
        return _created(await self._client._send(spec), spec)

    async def get(self, id: str) -> Prediction:
        spec = rq.get_prediction(id)
        return rq.parse_prediction(
            await self._client._send(spec), operation=spec.operation, prediction_id=id
        )

    async def cancel(self, id: str) -> Prediction:
        spec = rq.cancel_prediction(id)
        return rq.parse_prediction(
            await self._client._send(spec), operation=spec.operation, prediction_id=id
        )

    async def list(
        self,
        *,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
    ) -> AsyncIterator[Prediction]:
        spec: rq.RequestSpec | None = rq.list_predictions(
            created_after=created_after, created_before=created_before
        )
        seen: set[str] = set()
        while spec is not None:
            page = rq.parse_page(await self._client._send(spec))
            for item in page.results or []:
                yield item
            spec = _follow(page, self._client.base_url, seen)

    async def wait(
        self,
        prediction: Prediction | TypedPrediction[Any, Any] | str,
        *,
        timeout: float | None = None,
        cancel_on_timeout: bool = False,
        poll_policy: PollPolicy | None = None,
    ) -> Prediction:
        client = self._client
        pid, current = _prediction_of(prediction)
        poller = Poller(poll_policy or client._core.poll_policy)
        started = client._clock()
        deadline = None if timeout is None else started + timeout
        try:
            if current is None:
                current = await self.get(pid)
            while not is_terminal(str(current.status)):
                delay = poller.next_delay(
                    str(current.status), current.logs, elapsed=client._clock() - started
                )
                if deadline is not None:
                    left = deadline - client._clock()
                    if left <= 0:
                        note = await self._cancel_note(pid, cancel_on_timeout)
                        raise client._core.timeout_error(current, cast(float, timeout), note)
                    delay = min(delay, left)
                await client._sleep(delay)
                current = await self.get(pid)
        except errors.ReplicateError as exc:
            exc.attach_prediction_id(pid)
            raise
        except BaseException as exc:  # cancelled task, Ctrl-C: keep the id
            _note_running(exc, pid)
            raise
        return current

    async def _cancel_note(self, pid: str, cancel: bool) -> str:
        if not cancel:
            return " (it is still running; cancel it with client.predictions.cancel)"
        try:
            await self.cancel(pid)
        except errors.ReplicateError as exc:
            return f" (cancel failed: {exc})"
        return " (canceled)"

    async def stream(
        self, prediction: Prediction | TypedPrediction[Any, Any]
    ) -> AsyncIterator[StreamEvent]:
        pid, raw = _prediction_of(prediction)
        url = raw.urls.stream if raw is not None else None
        if not url:
            raise errors.StreamError(f"prediction {pid} has no stream URL (urls.stream)")
        headers = self._client._core.stream_headers(url)
        try:
            async for event in aiter_events(self._client._http, url, headers=headers):
                yield event
        except errors.ReplicateError as exc:
            exc.attach_prediction_id(pid)
            raise


class AsyncModelPredictions:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
        self,
        model: str,
        *,
        input: InputLike,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        wait: bool | int | None = None,
        cancel_after: str | None = None,
    ) -> Prediction:
        options: dict[str, Any] = dict(
            webhook=webhook, webhook_events_filter=webhook_events_filter, wait=wait
        )
        rq.validate_create(model=model, cancel_after=cancel_after, **options)
        spec = rq.create_model_prediction(
            model,
            input=await self._client._prepare_input(input),
            cancel_after=cancel_after,
            **options,
        )
        return _created(await self._client._send(spec), spec)


class AsyncModelVersions:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get(self, model: str, version_id: str) -> ModelVersion:
        spec = rq.get_model_version(model, version_id)
        return rq.parse_response(
            await self._client._send(spec), ModelVersion, operation=spec.operation
        )


class AsyncModels:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self.versions = AsyncModelVersions(client)
        self.predictions = AsyncModelPredictions(client)

    async def get(self, model: str) -> Model:
        spec = rq.get_model(model)
        return rq.parse_response(await self._client._send(spec), Model, operation=spec.operation)


class AsyncFiles:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(
        self,
        content: FileContent,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> File:
        data, name, ctype = _file_parts(content, filename, content_type)
        spec = rq.create_file(data, filename=name, content_type=ctype, metadata=metadata)
        return rq.parse_response(await self._client._send(spec), File, operation=spec.operation)


class AsyncWebhooks:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def default_secret(self) -> WebhookSecret:
        spec = rq.get_default_webhook_secret()
        return rq.parse_response(
            await self._client._send(spec), WebhookSecret, operation=spec.operation
        )
