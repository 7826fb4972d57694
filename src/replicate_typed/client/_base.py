"""What :class:`Client` and :class:`AsyncClient` share: configuration and every step that needs no I/O.

The two clients (``_async_client.py``, the one source, and ``_sync_client.py``, generated from it
by ``scripts/unasync.py``) only send, sleep and iterate; configuration (:class:`ClientOptions`),
request building, retry decisions, error mapping, ``Prefer: wait`` clamping, stream headers and
output typing live here, written once.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
import mimetypes
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar, cast
from urllib.parse import urlsplit

import httpx

from replicate_typed.client import _decoding, errors, validation
from replicate_typed.client import _requests as rq
from replicate_typed.client._logging import logger, redact_headers, register_secret
from replicate_typed.client._urls import BaseURL
from replicate_typed.client.defaults import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from replicate_typed.client.limits import Deadline, Limits, current_deadline
from replicate_typed.client.polling import PollPolicy
from replicate_typed.client.retries import RetryPolicy, retry_after_hint, was_sent
from replicate_typed.predictions import TypedPrediction, status_of
from replicate_typed.types import operations as ops
from replicate_typed.types.operations import Operation

# Constructing a client stays cheap: pydantic's model machinery (the API types, model inputs,
# SecretStr) and the SSE reader are imported where first used, not by this module.
if TYPE_CHECKING:
    from pydantic import SecretStr

    from replicate_typed.client.streaming import StreamEvent
    from replicate_typed.core.model import ModelInfo, ModelInput
    from replicate_typed.types.api import Prediction

__all__ = [
    "DEFAULT_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "ClientOptions",
    "FileContent",
    "InputLike",
    "Sleep",
    "AsyncSleep",
    "Core",
    "BodyReader",
    "AsyncDeadlineScope",
    "DeadlineScope",
    "within",
    "STREAM_READ_TIMEOUT",
    "StreamProgress",
    "file_parts",
    "follow_page",
    "input_values",
    "model_info",
    "note_running",
    "parse_created",
    "plain_json",
    "prediction_of",
    "typed_output",
]

T = TypeVar("T")

InputLike: TypeAlias = "Mapping[str, Any] | ModelInput[Any]"
FileContent = bytes | bytearray | Path | IO[bytes]
Sleep = Callable[[float], None]
AsyncSleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, repr=False)
class ClientOptions:
    """A client's configuration, resolved (arguments, then ``REPLICATE_*`` variables, then
    defaults): everything but its HTTP connection and its injected ``sleep``/``clock``.

    ``client.options`` gives it; ``Client.from_options(options)`` and
    ``AsyncClient.from_options(options)`` make another client configured alike (the batch runner
    runs a :class:`Client`'s batch on an :class:`AsyncClient` this way). The token is a
    ``SecretStr``: neither this object's repr nor its ``str`` shows it.
    """

    base_url: str
    api_token: SecretStr | None
    timeout: httpx.Timeout
    retry_policy: RetryPolicy
    poll_policy: PollPolicy
    limits: Limits = Limits()

    @classmethod
    def resolve(
        cls,
        api_token: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_policy: RetryPolicy | None = None,
        poll_policy: PollPolicy | None = None,
        limits: Limits | None = None,
    ) -> ClientOptions:
        """The options a client built with these arguments has (validated; see ``Client``)."""
        from pydantic import SecretStr

        token = rq.resolve_api_token(api_token)
        if retry_policy is None:
            retry_policy = RetryPolicy(max_retries=max_retries)
        return cls(
            base_url=rq.resolve_base_url(base_url),
            api_token=SecretStr(token) if token is not None else None,
            timeout=timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            retry_policy=retry_policy,
            poll_policy=poll_policy or PollPolicy(),
            limits=limits or Limits(),
        )

    def __repr__(self) -> str:
        token = "set" if self.api_token is not None else "unset"
        return f"ClientOptions(base_url={self.base_url!r}, api_token=<{token}>)"


class Core:
    """A client's configuration and every decision that needs no I/O (one per client)."""

    def __init__(self, options: ClientOptions) -> None:
        token = options.api_token.get_secret_value() if options.api_token is not None else None
        self._setup(
            options.base_url,
            token,
            options.timeout,
            options.retry_policy,
            options.poll_policy,
            options.limits,
        )
        self._options: ClientOptions | None = options

    @classmethod
    def resolve(
        cls,
        api_token: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        retry_policy: RetryPolicy | None,
        poll_policy: PollPolicy | None,
        limits: Limits | None = None,
    ) -> Core:
        """The core of a client built with these arguments, validated as
        :meth:`ClientOptions.resolve` does; its :attr:`options` (whose token is a pydantic
        ``SecretStr``, a costly import) are made when first asked for."""
        core = cls.__new__(cls)
        core._setup(
            rq.resolve_base_url(base_url),
            rq.resolve_api_token(api_token),
            timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
            retry_policy or RetryPolicy(max_retries=max_retries),
            poll_policy or PollPolicy(),
            limits or Limits(),
        )
        core._options = None
        return core

    def _setup(
        self,
        base_url: str,
        token: str | None,
        timeout: httpx.Timeout,
        retry_policy: RetryPolicy,
        poll_policy: PollPolicy,
        limits: Limits,
    ) -> None:
        self.base_url = base_url
        self._urls = BaseURL(base_url)
        self._token = token
        register_secret(token)
        self._headers = rq.auth_headers(token)
        self.timeout = timeout
        self.retry_policy = retry_policy
        self.poll_policy = poll_policy
        self.limits = limits
        self._timeout_parts = timeout.as_dict()
        self._direct_headers: dict[str, str] | None = None
        self._direct: tuple[httpx.Headers, httpx.Headers] | None = None

    def add_headers(self, headers: Mapping[str, str]) -> None:
        """Send ``headers`` with every request of this client (``with_options(extra_headers)``;
        already checked)."""
        self._headers = {**self._headers, **headers}
        if self._direct_headers is not None:
            self._set_direct({**self._direct_headers, **{k.lower(): v for k, v in headers.items()}})

    def _set_direct(self, headers: dict[str, str] | None) -> None:
        """The headers of every request built directly, as a dict and as ready-made
        ``httpx.Headers`` (copied by each request, not normalised again): without and with
        the JSON body's ``Content-Type``."""
        self._direct_headers = headers
        self._direct = (
            None
            if headers is None
            else (
                httpx.Headers(headers),
                httpx.Headers({**headers, "content-type": "application/json"}),
            )
        )

    @property
    def has_token(self) -> bool:
        return self._token is not None

    @property
    def options(self) -> ClientOptions:
        options = self._options
        if options is None:
            from pydantic import SecretStr

            token = self._token
            options = self._options = ClientOptions(
                base_url=self.base_url,
                api_token=SecretStr(token) if token is not None else None,
                timeout=self.timeout,
                retry_policy=self.retry_policy,
                poll_policy=self.poll_policy,
                limits=self.limits,
            )
        return options

    def bind(self, http: httpx.Client | httpx.AsyncClient, owned: bool) -> None:
        """Remember whether requests may be built directly (only for our own httpx client)."""
        merged = {**dict(http.headers.items()), **self._headers}
        self._set_direct({k.lower(): v for k, v in merged.items()} if owned else None)
        if owned:
            from replicate_typed.client import _deadline_io

            _deadline_io.install(http)  # sync: every socket read ends by the call's deadline

    # requests

    def deadline(self, clock: Callable[[], float], until: Deadline | None) -> Deadline:
        """One API call's deadline: :attr:`Limits.request_deadline` or the caller's, if sooner."""
        return Deadline(self.limits.request_deadline, clock).earliest(until)

    def build(
        self,
        http: httpx.Client | httpx.AsyncClient,
        spec: rq.RequestSpec,
        deadline: Deadline | None = None,
    ) -> httpx.Request:
        parts = self._timeout_parts if spec.timeout is None else _parts_of(spec.timeout)
        if spec.read_timeout is not None and parts["read"] is not None:
            parts = {**parts, "read": max(parts["read"], spec.read_timeout)}
        if deadline is not None:
            parts = deadline.clamp_parts(parts)  # no single read outlasts the call's deadline
        files: Any = (
            {k: (name, data, ctype) for k, (name, data, ctype) in spec.files.items()}
            if spec.files
            else None
        )
        # JSON bodies are encoded here as httpx 0.28 encodes them (compact, UTF-8, no NaN or
        # Infinity) whatever httpx is installed: 0.27 would send NaN, which is not JSON
        body: bytes | None = spec.content
        headers = spec.headers
        if spec.json is not None:
            try:
                body = json.dumps(
                    spec.json, ensure_ascii=False, separators=(",", ":"), allow_nan=False
                ).encode("utf-8")
            except (TypeError, ValueError) as exc:
                raise errors.InputError(f"input: not JSON-serialisable: {exc}") from None
            headers = {**headers, "Content-Type": "application/json"}
        direct = self._direct
        if direct is not None:
            # our own httpx client has no base URL, params or cookies to merge: build the
            # request directly (what build_request would produce, without its merging work),
            # with the base URL parsed once and the headers normalised once
            if not spec.headers:
                ready: Any = direct[1] if spec.json is not None else direct[0]
            else:
                ready = {**self._direct_headers, **{k.lower(): v for k, v in headers.items()}}  # type: ignore[dict-item]
            return httpx.Request(
                spec.method,
                self._urls.join(spec.url),
                params=dict(spec.params) if spec.params else None,
                content=body,
                files=files,
                data=dict(spec.data) if spec.data else None,
                headers=ready,
                extensions={"timeout": parts},
            )
        return http.build_request(
            spec.method,
            rq.join_url(self.base_url, spec.url),
            params=dict(spec.params) if spec.params else None,
            content=body,
            files=files,
            data=dict(spec.data) if spec.data else None,
            headers={**self._headers, **headers} if headers else self._headers,
            timeout=httpx.Timeout(**parts),
        )

    def log_request(self, request: httpx.Request, attempt: int) -> None:
        if logger.isEnabledFor(logging.DEBUG):
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
        deadline: Deadline | None = None,
    ) -> float:
        """Seconds to wait before retrying, or raise the error this failure maps to (an
        :class:`APITimeoutError` when the retry would not start before ``deadline``)."""
        policy = self.retry_policy
        if spec.max_retries is not None and spec.max_retries != policy.max_retries:
            policy = dataclasses.replace(policy, max_retries=spec.max_retries)
        if exc is not None:
            if policy.should_retry(spec.kind, attempt, exc=exc):
                delay = policy.delay(attempt)
                self._check_sleep(spec, request, deadline, delay, type(exc).__name__, exc)
                logger.info(
                    "%s: %s, retrying in %.2fs (retry %d of %d)",
                    spec.operation, type(exc).__name__, delay, attempt + 1, policy.max_retries,
                )  # fmt: skip
                return delay
            if (
                deadline is not None
                and deadline.expired()
                and isinstance(exc, httpx.TimeoutException)
            ):
                raise self.deadline_error(spec, request, deadline, type(exc).__name__) from exc
            raise self.connection_error(spec, request, exc) from exc
        assert response is not None
        if policy.should_retry(spec.kind, attempt, status=response.status_code):
            if response.status_code == 429:
                hint = retry_after_hint(response.headers, body=response.content, now=policy.now)
                delay = policy.rate_limit_delay(hint, attempt)
                self._check_sleep(spec, request, deadline, delay, "HTTP 429", None)
                policy.announce_pause(delay, hint, spec.operation)  # only a pause that happens
            else:
                delay = policy.delay(attempt, response.headers)
            self._check_sleep(spec, request, deadline, delay, f"HTTP {response.status_code}", None)
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

    def _check_sleep(
        self,
        spec: rq.RequestSpec,
        request: httpx.Request,
        deadline: Deadline | None,
        delay: float,
        last: str,
        exc: BaseException | None,
    ) -> None:
        if deadline is not None and not deadline.allows_sleep(delay):
            # A retry is only considered when the failed attempt cannot have created anything
            # (the retry table), and the next one is not sent: a create created nothing.
            raise self.deadline_error(
                spec,
                request,
                deadline,
                f"{last}; the next retry would be in {delay:.1f}s",
                nothing_created=spec.kind == "create",
            ) from exc

    def deadline_error(
        self,
        spec: rq.RequestSpec,
        request: httpx.Request,
        deadline: Deadline,
        last: str,
        *,
        nothing_created: bool = False,
    ) -> errors.APITimeoutError:
        """The call did not complete within its deadline (names the request, the last failure
        and the prediction). A create cut off may have created its prediction (said, and
        ``prediction_may_exist``); one stopped between retries (``nothing_created``: its last
        attempt was a 429 or never connected, and no other is sent) created nothing
        (``sent=False``)."""
        seconds = f" ({deadline.seconds:g}s)" if deadline.seconds is not None else ""
        what = "file" if spec.operation == ops.FILES_CREATE.id else "prediction"
        error = errors.APITimeoutError(
            f"{spec.operation}: {request.method} {request.url} got no complete answer before "
            f"its deadline{seconds} (last: {last})"
            + (f" -- no {what} was created" if nothing_created else ""),
            request=request,
            sent=not nothing_created,
        )
        error.deadline = deadline
        if spec.prediction_id:
            error.attach_prediction_id(spec.prediction_id)
        if spec.kind == "create" and not nothing_created:
            self._may_exist(error, spec)
        return error

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
        what = "file" if spec.operation == ops.FILES_CREATE.id else "prediction"
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
        self, pid: str, prediction: Prediction | None, deadline: Deadline, cancel_note: str
    ) -> errors.PredictionTimeoutError:
        """The wait for ``pid`` to finish passed its deadline (``prediction``: the last state
        seen, None when no answer came at all)."""
        status = status_of(prediction) if prediction is not None else None
        seen = (
            f"still {status or 'of unknown status'}"
            if prediction is not None
            else "no answer about it came"
        )
        seconds = deadline.seconds if deadline.seconds is not None else 0.0
        return errors.PredictionTimeoutError(
            f"waiting for prediction {pid} to finish: {seen} after {seconds:g}s{cancel_note}",
            prediction_id=pid,
            last_status=status,
        )

    def trusts(self, url: str) -> bool:
        """May the token go to ``url``? Only to the exact scheme, host and port of a trusted
        origin: the base URL's, and from the official API its stream host
        ``https://stream.replicate.com`` (:mod:`.validation`)."""
        return validation.token_allowed(url, validation.trusted_origins(self.base_url))

    def stream_headers(self, url: str) -> dict[str, str]:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        if self.trusts(url) and "Authorization" in self._headers:
            headers["Authorization"] = self._headers["Authorization"]
        return headers

    def stream_timeout(self) -> httpx.Timeout:
        """Timeouts of a stream connection: the client's, with a read timeout of at least
        :data:`STREAM_READ_TIMEOUT` (a stream is quiet between events)."""
        t = self.timeout
        read = None if t.read is None else max(t.read, STREAM_READ_TIMEOUT)
        return httpx.Timeout(connect=t.connect, read=read, write=t.write, pool=t.pool)

    def wait_stream(self, prediction: Prediction, policy: PollPolicy) -> str | None:
        """The stream URL a wait reads for ``done``, or None: poll (the reason is logged)."""
        if not policy.use_stream:
            return None
        urls = getattr(prediction, "urls", None)
        url = getattr(urls, "stream", None)
        if not url:
            return None
        reason = None
        if not isinstance(url, str) or not _http_url(url):
            reason = "not an absolute http(s) URL"
        elif "Authorization" in self._headers and not self.trusts(url):
            reason = "its host is not one the API token may be sent to"
        if reason is not None:
            logger.info(
                "prediction %s: not waiting on its stream %s (%s); polling",
                prediction.id, _display_url(str(url)), reason,
            )  # fmt: skip
            return None
        return url


within = current_deadline
"""The deadline of the enclosing ``run``/``wait`` (see :data:`.limits.current_deadline`)."""


class AsyncDeadlineScope:
    """Cancels an async attempt at its deadline (whatever phase it is in: a server that drips
    its headers is cut off too); ``expired`` tells whether it did. The sync client's
    :class:`DeadlineScope` cannot cancel a blocking read: there every read's timeout is clamped
    to the time left and the body is read under a deadline check (:class:`BodyReader`)."""

    def __init__(self, deadline: Deadline) -> None:
        left = deadline.left()
        self._scope = _asyncio().timeout(max(left, 0.0)) if left is not None else None
        self.expired = False

    async def __aenter__(self) -> AsyncDeadlineScope:
        if self._scope is not None:
            await self._scope.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        if self._scope is None:
            return
        try:
            await self._scope.__aexit__(*exc_info)
        finally:
            self.expired = self._scope.expired()


class DeadlineScope:
    """Sync :class:`AsyncDeadlineScope`: nothing to cancel (see there)."""

    def __init__(self, deadline: Deadline) -> None:
        self._deadline = deadline
        self.expired = False

    def __enter__(self) -> DeadlineScope:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.expired = exc_info[0] is not None and self._deadline.expired()


STREAM_READ_TIMEOUT = 60.0
"""Seconds a wait's stream connection may stay silent (servers close idle streams after ~30 s)."""

_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def _http_url(url: str) -> bool:
    if _CONTROL.search(url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises for a port that is not a number or out of range)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _display_url(url: str) -> str:
    return url.split("?", 1)[0][:200]


class StreamProgress:
    """What a wait on a stream knows of its prediction: the last answer, with the ``logs``
    events read so far as its logs (a stream repeats the logs from the start) and status
    ``processing`` once the model has written something."""

    def __init__(self, prediction: Prediction) -> None:
        self.prediction = prediction
        self._logs: list[str] = []

    def apply(self, event: StreamEvent) -> Prediction | None:
        """The prediction as this event leaves it, or None when nothing shown changed."""
        if event.event not in ("logs", "output"):
            return None
        if event.event == "logs":
            self._logs.append(event.data if event.data.endswith("\n") else event.data + "\n")
        update: dict[str, Any] = {"logs": "".join(self._logs)}
        if status_of(self.prediction) in (None, "starting"):
            update["status"] = "processing"
        self.prediction = self.prediction.model_copy(update=update)
        return self.prediction


class BodyReader:
    """Reads one answer's raw body within the call's deadline and the size limit.

    Content-Length above the limit fails before any byte is read; the decoded size is counted
    piece by piece (:mod:`._decoding`: a compressed body cannot expand past the limit in
    memory); the deadline is checked after every chunk, so a server that drips its answer ends
    the call at the deadline. The client's I/O loop feeds :meth:`feed` and calls :meth:`finish`.
    """

    def __init__(
        self,
        core: Core,
        spec: rq.RequestSpec,
        request: httpx.Request,
        response: httpx.Response,
        deadline: Deadline | None,
    ) -> None:
        self.core, self.spec, self.request, self.deadline = core, spec, request, deadline
        self.response = response
        self.limit = core.limits.max_response_bytes
        self.size = 0
        self.chunks: list[bytes] = []
        length = response.headers.get("content-length", "")
        self.length = int(length) if length.strip().isdigit() else None
        self.raw = 0
        if self.length is not None and self.length > self.limit:
            raise self.too_large(f"Content-Length {self.length}")
        encoding = response.headers.get("content-encoding")
        # no Content-Encoding (the common case): each chunk is counted and kept as it is
        self.plain = encoding is None
        try:
            self.decoders = [] if self.plain else _decoding.decoders_for(encoding)
        except _decoding.DecodeError as exc:
            raise httpx.DecodingError(str(exc), request=request) from None

    def too_large(self, seen: str) -> errors.ResponseTooLargeError:
        spec = self.spec
        error = errors.ResponseTooLargeError(
            f"{spec.operation}: the answer ({seen}) is larger than the client's limit of "
            f"{self.limit} bytes (Limits.max_response_bytes); reading stopped",
            limit=self.limit,
            request=self.request,
        )
        if spec.prediction_id:
            error.attach_prediction_id(spec.prediction_id)
        if spec.kind == "create":
            self.core._may_exist(error, spec)
        return error

    def feed(self, chunk: bytes) -> None:
        self.raw += len(chunk)
        if self.plain:
            self._add(chunk)
        else:
            try:
                for piece in _decoding.run(self.decoders, chunk):
                    self._add(piece)
            except _decoding.DecodeError as exc:
                raise httpx.DecodingError(str(exc), request=self.request) from None
        deadline = self.deadline
        complete = self.length is not None and self.raw >= self.length
        if deadline is not None and not complete and deadline.expired():
            raise self.core.deadline_error(
                self.spec, self.request, deadline, f"{self.size} bytes of the answer read"
            )

    def _add(self, piece: bytes) -> None:
        self.size += len(piece)
        if self.size > self.limit:
            raise self.too_large(f"more than {self.limit} bytes")
        self.chunks.append(piece)

    def whole(self, content: bytes) -> httpx.Response:
        """The response whose (decoded) body a transport had read already: only its size is
        checked."""
        if len(content) > self.limit:
            raise self.too_large(f"{len(content)} bytes")
        return self.response

    def finish(self) -> httpx.Response:
        """The response, its ``content`` set to the decoded body."""
        try:
            for piece in _decoding.finish(self.decoders):
                self._add(piece)
        except _decoding.DecodeError as exc:
            raise httpx.DecodingError(str(exc), request=self.request) from None
        self.response._content = b"".join(self.chunks)
        self.chunks = []
        return self.response


# Modules a call needs that importing the package does not: imported on first use, then
# looked up once (an import statement in a function costs a lookup on every call).


@functools.cache
def _asyncio() -> Any:
    import asyncio  # only the async client gets here: importing the package stays cheap

    return asyncio


@functools.cache
def _model() -> Any:
    from replicate_typed.core import model

    return model


@functools.cache
def _outputs() -> Any:
    from replicate_typed.client import outputs

    return outputs


def model_info(input: ModelInput[T]) -> ModelInfo[Any, T]:
    model = _model()
    info = getattr(type(input), "__model_info__", None)
    if not isinstance(input, model.ModelInput) or not isinstance(info, model.ModelInfo):
        raise errors.InputError(
            f"input: {type(input).__name__} is not a generated model Input "
            "(use replicate_typed.models.<owner>.<name>.Input, or predictions.create for dicts)"
        )
    found: ModelInfo[Any, T] = info
    return found


def input_values(input: object) -> dict[str, Any]:
    """What the caller set, values untouched (unset defaults are not sent)."""
    if isinstance(input, Mapping):
        return dict(input)
    if isinstance(input, _model().ModelInput):
        values: dict[str, Any] = input.request_values()
        return values
    raise errors.InputError(
        f"input: a {type(input).__name__} is not a mapping or a generated model Input"
    )


def note_running(exc: BaseException, prediction_id: str) -> None:
    """Name the prediction on an exception that is not ours (it may still be running, and paid)."""
    exc.add_note(
        f"prediction {prediction_id} was created and may still be running "
        "(cancel it with client.predictions.cancel)"
    )
    logger.warning("waiting for prediction %s interrupted by %s", prediction_id, type(exc).__name__)


def _parts_of(seconds: float) -> dict[str, float | None]:
    """The timeout extension of a per-call ``timeout=`` (every part that many seconds)."""
    return httpx.Timeout(seconds).as_dict()


_SCALARS = (str, int, float, bool, type(None))


def plain_json(values: dict[str, Any]) -> bool:
    """True when every value is a plain JSON scalar: nothing for the uploader to do."""
    return all(type(v) in _SCALARS for v in values.values())


def typed_output(prediction: Prediction, info: ModelInfo[Any, T]) -> T:
    """The typed output of a finished prediction: an error unless it succeeded, then the one
    output rule (:func:`replicate_typed.client.outputs.succeeded_output`)."""
    status = status_of(prediction)
    if status != "succeeded":
        reason = f": {prediction.error}" if prediction.error else ""
        raise errors.PredictionError(
            f"prediction {prediction.id} ({info.ref}) {status or 'has no status'}{reason}",
            prediction=prediction,
        )
    output: T = _outputs().succeeded_output(prediction, info)
    return output


def file_parts(
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


def prediction_of(
    value: Prediction | TypedPrediction[Any, Any] | str,
) -> tuple[str, Prediction | None]:
    if isinstance(value, TypedPrediction):
        return value.id, value.raw
    if isinstance(value, str):
        return rq.validate_prediction_id(value), None
    if isinstance(value, rq.api_type("Prediction")):
        return value.id, value
    return rq.validate_prediction_id(cast(str, value)), None  # not an id: the rule says why


def parse_created(response: httpx.Response, spec: rq.RequestSpec) -> Prediction:
    """The prediction a create answered with. Only ``id`` is needed; an answer that cannot be
    read at all still means the server took the (paid) create: the error says it may exist,
    and carries the id when the body had one."""
    try:
        prediction = rq.parse_prediction(response, operation=spec.operation)
    except errors.APIResponseValidationError as exc:
        exc.prediction_may_exist = True
        pid = exc.prediction_id
        note = (
            f" -- prediction {pid} was created: get it with client.predictions.get({pid!r})"
            if pid
            else " -- the prediction may have been created anyway; its id is unknown (look for "
            "it with client.predictions.list())"
        )
        exc.message = f"{exc.message}{note}"
        exc.args = (exc.message, *exc.args[1:])
        raise
    if logger.isEnabledFor(logging.INFO):
        logger.info(
            "%s: created prediction %s (%s)",
            spec.operation, prediction.id, status_of(prediction) or "status unknown",
        )  # fmt: skip
    return prediction


class Page(Protocol):
    """A page of a list operation (``PredictionPage``, ``FilePage``, ``ModelVersionPage``)."""

    @property
    def next(self) -> str | None: ...


def follow_page(
    page: Page, base_url: str, seen: set[str], op: Operation = ops.PREDICTIONS_LIST
) -> rq.RequestSpec | None:
    """The request of the page after ``page`` of ``op`` (None at the end); a link that repeats
    (a server whose paging loops) raises instead of looping forever."""
    if not page.next:
        return None
    if page.next in seen:
        raise errors.APIResponseValidationError(
            f"{op.id}: page link {page.next!r} repeats (the server's paging loops)",
            status_code=200,
        )
    seen.add(page.next)
    return rq.next_page(page.next, base_url, op)
