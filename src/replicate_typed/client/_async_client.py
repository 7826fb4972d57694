"""``AsyncClient``: the asynchronous client of a Replicate-format prediction API.

::

    from replicate_typed import AsyncClient
    from replicate_typed.models.stability_ai import sdxl

    async with AsyncClient() as client:           # REPLICATE_API_TOKEN, REPLICATE_BASE_URL
        images = await client.run(sdxl.Input(prompt="a lighthouse"))   # -> list[FileOutput]

``_async_client.py`` is the one source of both clients: ``scripts/unasync.py`` (run by
``make generate``) writes ``_sync_client.py`` (``Client``) from it, and ``make check`` fails when
that file differs from what the script writes. Everything that needs no I/O (configuration, request building and
response parsing, retry decisions, ``Prefer: wait`` clamping, output typing) is in
:mod:`._base` and :mod:`._requests`; the retry policy is :mod:`.retries`, the wait strategy
:mod:`.polling`. The API token is sent only to the configured base URL (and Replicate's own
stream host) and never appears in a repr, a log record or an error.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx

from replicate_typed.client import _requests as rq
from replicate_typed.client import errors
from replicate_typed.client._base import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    AsyncDeadlineScope,
    AsyncSleep,
    BodyReader,
    ClientOptions,
    Core,
    FileContent,
    InputLike,
    StreamProgress,
    file_parts,
    input_values,
    model_info,
    note_running,
    parse_created,
    plain_json,
    prediction_of,
    typed_output,
    within,
)
from replicate_typed.client._http import AsyncAPIHTTPClient
from replicate_typed.client._logging import logger
from replicate_typed.client._transport import AsyncGatedTransport
from replicate_typed.client.limits import Deadline, Limits
from replicate_typed.client.polling import Poller, PollPolicy, is_terminal
from replicate_typed.client.retries import RetryPolicy
from replicate_typed.core.calls import APICall, RawResponse
from replicate_typed.predictions import TypedPrediction, status_of
from replicate_typed.resources._async_resources import (
    AsyncAPIResources,
    AsyncAPIResourcesWithRawResponse,
    AsyncDeploymentsPredictionsResource,
    AsyncDeploymentsResource,
    AsyncFilesResource,
    AsyncModelsPredictionsResource,
    AsyncModelsResource,
    AsyncPredictionsResource,
    AsyncTrainingsResource,
    AsyncWebhooksResource,
)
from replicate_typed.types import operations as ops

# Constructing a client stays cheap: the pydantic models (API types, model inputs), uploads and
# streaming are imported where they are first used, and the httpx client on the first request.
if TYPE_CHECKING:
    from replicate_typed.client.streaming import StreamEvent
    from replicate_typed.core.calls import InvalidItem, Page
    from replicate_typed.core.model import ModelInput
    from replicate_typed.core.training import TrainingOutput
    from replicate_typed.types.api import File, Prediction, Training, WebhookSecret

__all__ = ["AsyncClient"]

T = TypeVar("T")

CREATE_GRACE = 5.0
"""Seconds ``run()``'s create may take even when its ``timeout`` is shorter (the create's answer
carries the id of a paid prediction)."""

CANCEL_DEADLINE = 10.0
"""Seconds the cancel of ``cancel_on_timeout`` may take after a wait's deadline."""


class AsyncClient(AsyncAPIResources):
    """Asynchronous client of a Replicate-format prediction API.

    ``api_token`` / ``base_url`` default to ``REPLICATE_API_TOKEN`` / ``REPLICATE_BASE_URL``
    (then the official API); a router base such as ``https://host/replicate`` keeps its prefix.
    ``timeout``: seconds (or an ``httpx.Timeout``) per request; a ``Prefer: wait`` create gets a
    read timeout of at least its wait + 10 s. ``max_retries``: retries of one request (see
    :mod:`replicate_typed.client.retries`; ``retry_policy`` replaces it). ``transport`` or
    ``http_client``: the httpx transport or client to send with (a given ``http_client`` is not
    closed by :meth:`close`). ``sleep``/``clock`` are injectable (tests, simulations).
    ``limits``: the bounds of every call and answer (:class:`~replicate_typed.client.limits.Limits`:
    a call's deadline, the default wait deadline, answer and stream-event sizes).

    Resources: one method per operation of the API document, generated
    (:mod:`replicate_typed.resources`; docs/api-operations.md lists them): ``predictions``,
    ``models`` (``versions``, ``predictions``, ``examples``, ``readme``), ``deployments``
    (``predictions``), ``trainings``, ``files``, ``collections``, ``hardware``, ``account``,
    ``webhooks``, ``search(...)``. Every method takes ``extra_headers=``, ``timeout=``,
    ``max_retries=``; :meth:`with_options` and :attr:`with_raw_response` as in openai-python.
    Many inputs, durably: :func:`replicate_typed.batch.arun_many`.
    """

    predictions: AsyncPredictions
    models: AsyncModels
    deployments: AsyncDeployments
    trainings: AsyncTrainings
    files: AsyncFiles
    webhooks: AsyncWebhooks

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
        sleep: AsyncSleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        limits: Limits | None = None,
    ) -> None:
        core = Core.resolve(
            api_token, base_url, timeout, max_retries, retry_policy, poll_policy, limits
        )
        self._setup(core, transport, http_client, sleep, clock)

    @classmethod
    def from_options(
        cls,
        options: ClientOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        sleep: AsyncSleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> AsyncClient:
        """A client configured by ``options`` (another client's :attr:`options`), with its own
        connection: base URL, token, timeout, retry and poll policies are the same."""
        client = cls.__new__(cls)
        client._setup(Core(options), transport, http_client, sleep, clock)
        return client

    def _setup(
        self,
        core: Core,
        transport: httpx.AsyncBaseTransport | None,
        http_client: httpx.AsyncClient | None,
        sleep: AsyncSleep,
        clock: Callable[[], float],
    ) -> None:
        self._core = core
        self._owns_http = http_client is None
        # our own httpx client (its TLS context costs about as much as importing this package) is
        # made on the first request, so constructing a client stays cheap
        self._http_client = http_client
        self._transport = transport
        self._http_lock = threading.Lock()
        if http_client is not None:
            self._core.bind(http_client, False)
        self._sleep = sleep
        self._clock = clock
        self._raw: AsyncAPIResourcesWithRawResponse | None = None
        self._init_resources(self)  # the generated resources, then what is written by hand
        self.predictions = AsyncPredictions(self)
        self.models = AsyncModels(self)
        self.deployments = AsyncDeployments(self)
        self.trainings = AsyncTrainings(self)
        self.files = AsyncFiles(self)
        self.webhooks = AsyncWebhooks(self)

    def with_options(
        self,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> AsyncClient:
        """A client like this one (same connection pool, token and base URL) with other
        defaults: ``client.with_options(timeout=5, max_retries=0).predictions.get(id)``."""
        options = self.options
        changes: dict[str, Any] = {}
        if timeout is not None:
            changes["timeout"] = (
                timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
            )
        if max_retries is not None:
            changes["retry_policy"] = dataclasses.replace(
                options.retry_policy, max_retries=max_retries
            )
        client = type(self).from_options(
            dataclasses.replace(options, **changes),
            http_client=self._http,
            sleep=self._sleep,
            clock=self._clock,
        )
        if extra_headers:
            client._core.add_headers(rq.check_extra_headers(extra_headers))
        return client

    @property
    def with_raw_response(self) -> AsyncAPIResourcesWithRawResponse:
        """The same calls, each returning the HTTP answer (:class:`RawResponse`: status,
        headers, body, ``.parse()``): ``client.with_raw_response.predictions.get(id)``."""
        raw = self._raw
        if raw is None:
            raw = self._raw = AsyncAPIResourcesWithRawResponse(self)
        return raw

    # the requester of the generated resources (replicate_typed.core.calls.AsyncRequester)

    async def _call(self, call: APICall) -> Any:
        spec = rq.spec_of(call)
        return self._parse(call, spec, await self._send(spec))

    async def _call_raw(self, call: APICall) -> RawResponse[Any]:
        spec = rq.spec_of(call)
        response = await self._send(spec)
        return RawResponse(response, functools.partial(self._parse, call, spec, response))

    async def _call_page(self, call: APICall, url: str | None, seen: set[str]) -> Page[Any]:
        spec = rq.spec_of(call)
        if url is not None:
            spec = rq.page_spec(spec, url, self.base_url, seen)
        return rq.parse_page_items(await self._send(spec), call)

    def _left_out(self, call: APICall, invalid: list[InvalidItem]) -> None:
        raise rq.left_out_error(call, invalid)

    @staticmethod
    def _parse(call: APICall, spec: rq.RequestSpec, response: httpx.Response) -> Any:
        if spec.kind == "create" and call.cast_to == "Prediction":
            return parse_created(response, spec)  # the id reaches the user, whatever follows
        return rq.parse_call(response, call, spec)

    @property
    def options(self) -> ClientOptions:
        """This client's resolved configuration (see :meth:`from_options`; the token is masked)."""
        return self._core.options

    @property
    def base_url(self) -> str:
        """The API base URL requests go to (no trailing ``/``, no ``/v1``)."""
        return self._core.base_url

    @property
    def _http(self) -> httpx.AsyncClient:
        http = self._http_client
        if http is None:
            with self._http_lock:
                http = self._http_client
                if http is None:
                    # the gate keeps httpcore's pool from more waiters than connections
                    gated = AsyncGatedTransport.around(self._transport)
                    http = AsyncAPIHTTPClient(transport=gated, follow_redirects=False)
                    self._core.bind(http, True)
                    self._http_client = http
        return http

    @property
    def http(self) -> httpx.AsyncClient:
        """The underlying httpx client (it carries no credentials; they are added per request)."""
        return self._http

    def __repr__(self) -> str:
        token = "set" if self._core.has_token else "unset"
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_token=<{token}>)"

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection pool (unless the httpx client was passed in)."""
        if self._owns_http and self._http_client is not None:
            await self._http_client.aclose()

    async def _send(self, spec: rq.RequestSpec) -> httpx.Response:
        """Send ``spec`` (retried by the policy) within its deadline: the request deadline of
        :class:`Limits`, or the enclosing ``run``/``wait``'s, whichever comes first."""
        core = self._core
        deadline = core.deadline(self._clock, within.get())
        attempt = 0
        while True:
            request = core.build(self._http, spec, deadline)
            core.log_request(request, attempt)
            try:
                async with AsyncDeadlineScope(deadline) as scope:
                    response = await self._receive(spec, request, deadline)
            except httpx.RequestError as exc:  # no answer, or one whose body cannot be decoded
                if scope.expired:
                    raise core.deadline_error(spec, request, deadline, "cut off") from None
                delay = core.after_failure(spec, request, attempt, exc=exc, deadline=deadline)
            except TimeoutError:
                if not scope.expired:
                    raise
                raise core.deadline_error(spec, request, deadline, "cut off") from None
            else:
                if logger.isEnabledFor(logging.DEBUG):
                    logger.debug("%s %s -> %d", request.method, request.url, response.status_code)
                if response.is_success:
                    return response
                delay = core.after_failure(
                    spec, request, attempt, response=response, deadline=deadline
                )
            await self._sleep(delay)
            attempt += 1

    async def _receive(
        self, spec: rq.RequestSpec, request: httpx.Request, deadline: Deadline
    ) -> httpx.Response:
        """One attempt: the answer with its whole body, read within the deadline and the size
        limit (:class:`BodyReader`)."""
        token = within.set(deadline)  # the sync client's socket reads end by it too
        try:
            response = await self._http.send(request, stream=True)
            try:
                reader = BodyReader(self._core, spec, request, response, deadline)
                try:
                    async for chunk in response.aiter_raw():
                        reader.feed(chunk)
                except httpx.StreamConsumed:  # a transport that answered with a body read
                    return reader.whole(response.content)
                return reader.finish()
            finally:
                await response.aclose()
        finally:
            within.reset(token)

    async def _upload(self, data: bytes, filename: str | None) -> str:
        file = await self.files.create(data, filename=filename)
        if not file.urls.get:
            raise errors.APIResponseValidationError(
                f"{ops.FILES_CREATE.id}: file {file.id} has no urls.get to pass as input",
                status_code=201,
            )
        return file.urls.get

    async def _prepare_input(self, input: InputLike) -> dict[str, Any]:
        from replicate_typed.client.uploads import aprepare_input

        values = input_values(input)
        if plain_json(values):
            return values
        return await aprepare_input(values, self._upload)

    async def _create_prediction(
        self,
        build: Callable[..., rq.RequestSpec],
        target: dict[str, Any],
        input: InputLike,
        **options: Any,
    ) -> Prediction:
        """Validate everything, then prepare the input (uploads), then send one create."""
        rq.validate_create(**target, **options)
        spec = build(**target, input=await self._prepare_input(input), **options)
        return parse_created(await self._send(spec), spec)

    # typed calls

    async def create(
        self, input: ModelInput[T], *, deployment: str | None = None, **create_options: Any
    ) -> TypedPrediction[Any, T]:
        """Create a prediction of a generated model (by version or by model path, per its spec;
        or on ``deployment``, ``owner/name`` of a deployment running that model).

        ``create_options``: ``webhook``, ``webhook_events_filter``, ``wait``, ``cancel_after``
        (see ``predictions.create``). Returns at once with the prediction as created.
        """
        info = model_info(input)
        if deployment is not None:
            raw = await self.deployments.predictions.create(
                deployment, input=input, **create_options
            )
        elif info.call_by == "version":
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
        deployment: str | None = None,
        **create_options: Any,
    ) -> T:
        """Create, wait (``Prefer: wait``, then the prediction's stream or adaptive polling) and
        return the typed output.

        ``timeout`` (seconds; None: ``Limits.wait_timeout``, 35 minutes) bounds the whole call:
        the create (given at least 5 s: its answer carries the id of a paid prediction), every
        request, retry and rate-limit pause, the wait.

        Raises :class:`PredictionError` (failed/canceled/aborted), :class:`OutputRemovedError`,
        :class:`NoOutputError`, :class:`PredictionTimeoutError` after ``timeout`` seconds (or
        :class:`APITimeoutError` when the create itself did not finish in time; its
        prediction may exist); every error after the create carries the id.
        """
        info = model_info(input)
        deadline = Deadline(self._core.limits.wait_seconds(timeout), self._clock)
        deadline = deadline.earliest(within.get())
        # the create brings back the id of a paid prediction: it is given at least
        # CREATE_GRACE seconds, however little of the deadline is left
        token = within.set(deadline.at_least(CREATE_GRACE))
        try:
            prediction = await self.create(
                input,
                deployment=deployment,
                wait=self._core.run_wait(wait, None if timeout is None else deadline.left()),
                **create_options,
            )
        finally:
            within.reset(token)
        final = await self.predictions.wait(
            prediction.raw,
            timeout=max(0.0, deadline.left() or 0.0) if deadline.at is not None else math.inf,
            cancel_on_timeout=cancel_on_timeout,
        )
        return typed_output(final, info)

    async def train(
        self,
        input: ModelInput[Any],
        *,
        destination: str,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
    ) -> Training:
        """Start a training of a generated trainer model from its typed ``TrainingInput`` (the
        trainer and its version come from the input's model): ``client.train(
        flux_dev_lora_trainer.TrainingInput(input_images=...), destination="me/my-lora")``."""
        info = model_info(input)
        if not info.version:
            raise errors.InputError(f"model {info.ref}: its spec has no version to train")
        return await self.trainings.create(
            info.ref, info.version, destination=destination, input=input, webhook=webhook,
            webhook_events_filter=webhook_events_filter,
        )  # fmt: skip

    async def run_training(
        self,
        input: ModelInput[Any],
        *,
        destination: str,
        timeout: float | None = None,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
    ) -> TrainingOutput:
        """:meth:`train`, wait, and return the typed output (``version``: the destination's new
        ``owner/name:<id>``, ``weights``). A failed or canceled training raises
        :class:`TrainingError` carrying it."""
        from replicate_typed.core.training import TrainingOutput

        training = await self.train(
            input, destination=destination, webhook=webhook,
            webhook_events_filter=webhook_events_filter,
        )  # fmt: skip
        done = await self.trainings.wait(training, timeout=timeout)
        if done.status != "succeeded":
            raise errors.TrainingError(
                f"training {done.id} {done.status}: {done.error or 'no error given'}",
                training=done,
            )
        output = done.output.model_dump(mode="json") if done.output is not None else {}
        return TrainingOutput.model_validate(output)


class AsyncTrainings(AsyncTrainingsResource):
    """``client.trainings``: the generated calls (``get``, ``cancel``, ``list``), ``create``
    with uploads and a trainer's typed ``TrainingInput``, and :meth:`wait`."""

    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client)
        self._client = client

    async def create(
        self,
        model: str,
        version_id: str,
        *,
        destination: str,
        input: InputLike,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> Training:
        """``POST /v1/models/{owner}/{name}/versions/{version_id}/trainings``: train ``model``'s
        version into ``destination`` (``owner/name`` of a model of yours). ``input``: a mapping
        or the trainer's ``TrainingInput`` (local files, e.g. a zip of images, are uploaded).
        Checked before any request or upload. For a typed result see :meth:`AsyncClient.train`.
        """
        rq.validate_model_ref(model)
        rq.validate_version_id(version_id)
        rq.validate_model_ref(destination, "destination")
        rq.validate_webhook(webhook, webhook_events_filter)
        return await super().create(
            model, version_id, destination=destination,
            input=await self._client._prepare_input(input), webhook=webhook,
            webhook_events_filter=cast(Any, webhook_events_filter), extra_headers=extra_headers,
            timeout=timeout, max_retries=max_retries,
        )  # fmt: skip

    async def wait(self, training: Training | str, *, timeout: float | None = None) -> Training:
        """Poll the training until it is succeeded/failed/canceled and return it (no error for
        a failed one). ``timeout`` seconds (None: ``Limits.wait_timeout``) raises
        :class:`PredictionTimeoutError` naming the training's id; it keeps running."""
        client = self._client
        tid = training if isinstance(training, str) else training.id
        if not tid:
            raise errors.InputError("training: it has no id to wait for")
        current = await self.get(tid) if isinstance(training, str) else training
        limit = client._core.limits.wait_seconds(timeout)
        poller = Poller(client._core.poll_policy)
        started = client._clock()
        while not is_terminal(current.status):
            elapsed = client._clock() - started
            if elapsed >= limit:
                raise errors.PredictionTimeoutError(
                    f"trainings.wait: training {tid} is still {current.status} after "
                    f"{limit:g}s (it keeps running; cancel it with client.trainings.cancel)",
                    prediction_id=tid,
                    last_status=current.status,
                )
            delay = poller.next_delay(current.status, current.logs, elapsed=elapsed)
            await client._sleep(min(delay, limit - elapsed))
            current = await self.get(tid)
        return current


class AsyncPredictions(AsyncPredictionsResource):
    """``client.predictions``: the generated calls (``get``, ``cancel``, ``list``), ``create``
    with uploads and typed inputs, and waiting for and streaming predictions."""

    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client)
        self._client = client

    async def create(
        self,
        *,
        version: str,
        input: InputLike,
        stream: bool | None = None,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        wait: bool | int | None = None,
        cancel_after: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> Prediction:
        """``POST /v1/predictions``. Everything is validated before any request (or upload).

        ``version``: a 64-hex version id, ``owner/name:<id>`` or ``owner/name``. ``input``: a
        mapping or a model's ``Input`` (local files are uploaded). ``wait``: ``Prefer: wait``
        (True or 1-60 s). ``cancel_after``: ``30s``, ``5m``, ``1h30m`` ...
        """
        rq.validate_create(
            version=version, wait=wait, cancel_after=cancel_after, webhook=webhook,
            webhook_events_filter=webhook_events_filter,
        )  # fmt: skip
        return await super().create(
            version=version, input=await self._client._prepare_input(input), stream=stream,
            webhook=webhook, webhook_events_filter=cast(Any, webhook_events_filter), wait=wait,
            cancel_after=cancel_after, extra_headers=extra_headers, timeout=timeout,
            max_retries=max_retries,
        )  # fmt: skip

    async def wait(
        self,
        prediction: Prediction | TypedPrediction[Any, Any] | str,
        *,
        timeout: float | None = None,
        cancel_on_timeout: bool = False,
        poll_policy: PollPolicy | None = None,
        on_update: Callable[[Prediction], object] | None = None,
    ) -> Prediction:
        """Wait until the prediction is succeeded/failed/canceled/aborted and return it.

        Reads the prediction's event stream when it has one the client may use (its ``done``
        event ends the wait, then one GET fetches the result), else polls (see
        :mod:`replicate_typed.client.polling`; ``poll_policy``, e.g. ``use_stream=False``).
        Does not raise for a failed prediction (``run`` does). ``timeout`` (seconds; None:
        ``Limits.wait_timeout``, 35 minutes; every request, retry and pause included) raises
        :class:`PredictionTimeoutError`; with ``cancel_on_timeout`` the prediction is canceled.
        ``on_update`` is called with each newer state seen (every GET's answer; on the stream,
        the logs so far). Interrupted (Ctrl-C, a cancelled task), the exception names the id.
        """
        client = self._client
        pid, current = prediction_of(prediction)
        policy = poll_policy or client._core.poll_policy
        poller = Poller(policy)
        started = client._clock()
        deadline = Deadline(client._core.limits.wait_seconds(timeout), client._clock)
        deadline = deadline.earliest(within.get())  # an enclosing deadline still holds
        token = within.set(deadline)
        try:
            if current is None:
                current = await self._get_update(pid, on_update)
            left = deadline.left()
            if (
                not is_terminal(status_of(current))
                and (left is None or left > 0)
                and client._core.wait_stream(current, policy)
            ):
                ended = await self._until_done(current, left, policy, on_update)
                if ended or deadline.expired():
                    # the final state (or the state at the deadline: the loop below decides)
                    current = await self._get_update(pid, on_update)
                    if ended and not is_terminal(status_of(current)):
                        logger.info(
                            "prediction %s: its stream said done but it is %s; polling",
                            pid, current.status,
                        )  # fmt: skip
            while not is_terminal(status_of(current)):
                delay = poller.next_delay(
                    status_of(current), current.logs, elapsed=client._clock() - started
                )
                left = deadline.left()
                if left is not None:
                    if left <= 0:
                        raise await self._timed_out(pid, current, deadline, cancel_on_timeout)
                    delay = min(delay, left)
                await client._sleep(delay)
                current = await self._get_update(pid, on_update)
        except errors.APITimeoutError as exc:
            if exc.deadline is not deadline and not deadline.expired():
                exc.attach_prediction_id(pid)
                raise
            # the wait's own deadline came during a request (or before its next retry)
            error = await self._timed_out(pid, current, deadline, cancel_on_timeout, exc)
            raise error from exc
        except errors.ReplicateError as exc:
            exc.attach_prediction_id(pid)
            raise
        except BaseException as exc:  # interrupted (Ctrl-C, a cancelled task): keep the id
            note_running(exc, pid)
            raise
        finally:
            within.reset(token)
        return current

    async def _timed_out(
        self,
        pid: str,
        current: Prediction | None,
        deadline: Deadline,
        cancel: bool,
        cause: errors.APITimeoutError | None = None,
    ) -> errors.PredictionTimeoutError:
        within.set(None)  # the cancel has its own (short) deadline, not the expired one
        note = await self._cancel_note(pid, cancel)
        if cause is not None:
            note = f"; the last request: {cause.message}{note}"
        return self._client._core.timeout_error(pid, current, deadline, note)

    async def stream_until_done(
        self,
        prediction: Prediction | TypedPrediction[Any, Any] | str,
        *,
        timeout: float | None = None,
        poll_policy: PollPolicy | None = None,
    ) -> bool:
        """Read the prediction's event stream until its ``done`` event: True when it came (or
        the prediction had already ended); False at once when the stream cannot be used (none,
        not for this token, ``use_stream=False``), when it fails (the reason is logged) or when
        ``timeout`` seconds pass (None: ``Limits.wait_timeout``). Then fetch the prediction with
        ``get``, or poll it."""
        pid, current = prediction_of(prediction)
        deadline = Deadline(self._client._core.limits.wait_seconds(timeout), self._client._clock)
        if current is None:
            token = within.set(deadline)
            try:
                current = await self.get(pid)
            finally:
                within.reset(token)
        if is_terminal(status_of(current)):
            return True
        policy = poll_policy or self._client._core.poll_policy
        try:
            return await self._until_done(current, deadline.left(), policy, None)
        except errors.ReplicateError as exc:
            exc.attach_prediction_id(pid)
            raise

    async def _until_done(
        self,
        current: Prediction,
        timeout: float | None,
        policy: PollPolicy,
        on_update: Callable[[Prediction], object] | None,
    ) -> bool:
        from replicate_typed.client.streaming import AsyncStreamWaiter

        core = self._client._core
        url = core.wait_stream(current, policy)
        if url is None:
            return False
        waiter = AsyncStreamWaiter(
            self._client._http,
            url,
            headers=core.stream_headers(url),
            timeout=core.stream_timeout(),
            max_event_bytes=core.limits.max_event_bytes,
        )
        progress = StreamProgress(current)

        def on_event(event: StreamEvent) -> None:
            update = progress.apply(event)
            if update is not None and on_update is not None:
                on_update(update)

        try:
            done = await waiter.until_done(timeout, on_event)
        except (errors.StreamError, errors.ResponseTooLargeError) as exc:
            logger.info(
                "prediction %s: waiting on its stream failed (%s); polling", current.id, exc
            )
            return False
        return done is not None

    async def _get_update(
        self, pid: str, on_update: Callable[[Prediction], object] | None
    ) -> Prediction:
        current = await self.get(pid)
        if on_update is not None:
            on_update(current)
        return current

    async def _cancel_note(self, pid: str, cancel: bool) -> str:
        if not cancel:
            return " (it is still running; cancel it with client.predictions.cancel)"
        token = within.set(Deadline(CANCEL_DEADLINE, self._client._clock))
        try:
            await self.cancel(pid)
        except errors.ReplicateError as exc:
            return f" (cancel failed: {exc})"
        finally:
            within.reset(token)
        return " (canceled)"

    async def stream(
        self,
        prediction: Prediction | TypedPrediction[Any, Any],
        *,
        timeout: float | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """The prediction's server-sent events (``output``, ``logs``, ``error``, ``done``).

        ``timeout`` (seconds; None: ``Limits.wait_timeout``) bounds the whole stream, however
        slowly the server writes: then :class:`PredictionTimeoutError` with the id. An event
        above ``Limits.max_event_bytes`` raises :class:`ResponseTooLargeError`."""
        from replicate_typed.client.streaming import aiter_events

        pid, raw = prediction_of(prediction)
        url = raw.urls.stream if raw is not None and raw.urls is not None else None
        if not url:
            missing = errors.StreamError(f"prediction {pid} has no stream URL (urls.stream)")
            missing.prediction_id = pid
            raise missing
        core, http = self._client._core, self._client._http
        deadline = Deadline(core.limits.wait_seconds(timeout), self._client._clock)
        events = aiter_events(
            http,
            url,
            headers=core.stream_headers(url),
            timeout=core.stream_timeout(),
            deadline=deadline,
            max_event_bytes=core.limits.max_event_bytes,
        )
        try:
            async for event in events:
                yield event
        except errors.ReplicateError as exc:
            exc.attach_prediction_id(pid)
            raise


class AsyncModelPredictions(AsyncModelsPredictionsResource):
    """``client.models.predictions``: predictions of official models, by model path."""

    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client)
        self._client = client

    async def create(
        self,
        model: str,
        *,
        input: InputLike,
        stream: bool | None = None,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        wait: bool | int | None = None,
        cancel_after: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> Prediction:
        """``POST /v1/models/{owner}/{name}/predictions`` (official models); options as in
        ``predictions.create``, validated before any request (or upload)."""
        rq.validate_create(
            model=model, wait=wait, cancel_after=cancel_after, webhook=webhook,
            webhook_events_filter=webhook_events_filter,
        )  # fmt: skip
        return await super().create(
            model, input=await self._client._prepare_input(input), stream=stream,
            webhook=webhook, webhook_events_filter=cast(Any, webhook_events_filter), wait=wait,
            cancel_after=cancel_after, extra_headers=extra_headers, timeout=timeout,
            max_retries=max_retries,
        )  # fmt: skip


class AsyncModels(AsyncModelsResource):
    """``client.models``: models, their versions, examples, readme and predictions."""

    predictions: AsyncModelPredictions

    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client)
        self.predictions = AsyncModelPredictions(client)


class AsyncDeploymentPredictions(AsyncDeploymentsPredictionsResource):
    """``client.deployments.predictions``: predictions on a deployment (``owner/name``)."""

    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client)
        self._client = client

    async def create(
        self,
        deployment: str,
        *,
        input: InputLike,
        stream: bool | None = None,
        webhook: str | None = None,
        webhook_events_filter: Sequence[str] | None = None,
        wait: bool | int | None = None,
        cancel_after: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> Prediction:
        """``POST /v1/deployments/{owner}/{name}/predictions``: ``input`` as in
        ``predictions.create`` (a mapping, or the ``Input`` of the deployment's model; for a
        typed result use ``client.create(input, deployment=...)`` / ``client.run(...)``)."""
        rq.validate_create(
            model=deployment, wait=wait, cancel_after=cancel_after, webhook=webhook,
            webhook_events_filter=webhook_events_filter, model_name="deployment",
        )  # fmt: skip
        return await super().create(
            deployment, input=await self._client._prepare_input(input), stream=stream,
            webhook=webhook, webhook_events_filter=cast(Any, webhook_events_filter), wait=wait,
            cancel_after=cancel_after, extra_headers=extra_headers, timeout=timeout,
            max_retries=max_retries,
        )  # fmt: skip


class AsyncDeployments(AsyncDeploymentsResource):
    """``client.deployments``: deployments and their predictions."""

    predictions: AsyncDeploymentPredictions

    def __init__(self, client: AsyncClient) -> None:
        super().__init__(client)
        self.predictions = AsyncDeploymentPredictions(client)


class AsyncFiles(AsyncFilesResource):
    """``client.files``: uploads (large file inputs go through it automatically)."""

    async def create(
        self,
        content: FileContent,
        *,
        filename: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        type: str | None = None,
        content_type: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> File:
        """``POST /v1/files`` (multipart): bytes, a ``Path`` or a binary file object. The name
        and content type (``content_type``, or ``type`` as the API names it) default to the
        file's own (guessed from its name)."""
        data, name, ctype = file_parts(content, filename, content_type or type)
        return await super().create(
            content=data, filename=name, metadata=metadata, type=ctype,
            extra_headers=extra_headers, timeout=timeout, max_retries=max_retries,
        )  # fmt: skip


class AsyncWebhooks(AsyncWebhooksResource):
    """``client.webhooks`` (``client.webhooks.default.secret.get()``, generated)."""

    async def default_secret(self) -> WebhookSecret:
        """``GET /v1/webhooks/default/secret``: this account's webhook signing secret (its
        ``key`` is a ``SecretStr``; pass it to :func:`replicate_typed.client.webhooks.verify`)."""
        return await self.default.secret.get()
