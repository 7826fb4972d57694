"""The error hierarchy. Every message is safe to log: it never contains the API token (a token
the client knows is masked in messages, bodies and snippets, even when a server echoes it).

ReplicateError
├── APIError                      a request went wrong
│   ├── APIConnectionError        no answer (connect/read failure)
│   │   └── APITimeoutError
│   ├── APIStatusError            an HTTP error status; carries status, problem details, body snippet
│   │   ├── BadRequestError (400), AuthenticationError (401), PermissionDeniedError (403),
│   │   ├── NotFoundError (404), ConflictError (409), UnprocessableEntityError (422, field errors),
│   │   └── RateLimitError (429, retry_after), InternalServerError (5xx)
│   ├── APIResponseValidationError  a 2xx answer that is not JSON or does not fit the API type
│   └── ResponseTooLargeError     an answer or SSE event above the client's size limit
├── PredictionError               the prediction ended failed / canceled / aborted (carries it)
│   └── OutputRemovedError        it succeeded but the server already removed its output
├── OutputValidationError         a prediction's output does not fit the model's Output type
│   └── NoOutputError             it succeeded with output null where the model needs a value
├── PredictionTimeoutError        waiting gave up (carries id and last status)
├── InputError                    bad input caught before any request was sent
├── DownloadError                 an output could not be downloaded
├── StreamError                   an SSE stream broke or reported an error
└── WebhookVerificationError      a webhook's signature, timestamp or headers are wrong
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from replicate_typed.client._logging import redact

if TYPE_CHECKING:
    import httpx

    from replicate_typed.types.api import Prediction


class ReplicateError(Exception):
    """Base of every error this package raises.

    ``prediction_id`` is set on every error raised after a prediction was created (and on errors
    of calls about one prediction), so the id is never lost. ``prediction_may_exist`` is True
    when a create request failed in a way that leaves open whether the (paid) prediction exists.
    """

    prediction_id: str | None = None
    prediction_may_exist: bool = False

    def __init__(self, *args: object) -> None:
        super().__init__(*(redact(arg) for arg in args))

    def attach_prediction_id(self, prediction_id: str | None) -> None:
        """Record the prediction this error is about and name it in the message."""
        if not prediction_id:
            return
        self.prediction_id = prediction_id
        if self.args and prediction_id in str(self.args[0]):
            return
        message = (
            f"{self.args[0] if self.args else type(self).__name__} [prediction {prediction_id}]"
        )
        self.args = (message, *self.args[1:])
        if isinstance(getattr(self, "message", None), str):
            self.message = message


class APIError(ReplicateError):
    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.message: str = self.args[0]
        self.request = request


class APIConnectionError(APIError):
    """The request got no HTTP answer. ``sent`` tells whether the request may have reached the server."""

    def __init__(
        self,
        message: str = "Connection error.",
        *,
        request: httpx.Request | None = None,
        sent: bool = True,
    ) -> None:
        super().__init__(message, request=request)
        self.sent = sent


class APITimeoutError(APIConnectionError):
    """No complete answer in time: a request's own timeout, or its call's deadline
    (``deadline`` is then the :class:`~replicate_typed.client.limits.Deadline` reached)."""

    deadline: object | None = None

    def __init__(
        self,
        message: str = "Request timed out.",
        *,
        request: httpx.Request | None = None,
        sent: bool = True,
    ) -> None:
        super().__init__(message, request=request, sent=sent)


class APIStatusError(APIError):
    """An error HTTP status. ``body`` is the parsed problem details (or None), ``snippet`` raw text."""

    status_code: int

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request: httpx.Request | None = None,
        response: httpx.Response | None = None,
        body: Any = None,
        snippet: str = "",
        prediction_id: str | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.status_code = status_code
        self.response = response
        self.body = redact(body)
        self.snippet: str = redact(snippet)
        self.prediction_id = prediction_id


class BadRequestError(APIStatusError):
    pass


class AuthenticationError(APIStatusError):
    pass


class PermissionDeniedError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class ConflictError(APIStatusError):
    pass


class UnprocessableEntityError(APIStatusError):
    """422: the server rejected the input. ``field_errors`` maps field -> message where known."""

    def __init__(
        self, message: str, *, field_errors: dict[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(message, **kwargs)
        self.field_errors: dict[str, str] = redact(dict(field_errors or {}))


class RateLimitError(APIStatusError):
    """429. ``retry_after`` is the server's hint in seconds (headers or detail text), if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class InternalServerError(APIStatusError):
    pass


class APIResponseValidationError(APIError):
    """A success answer that is not JSON, or JSON that does not fit the expected API type."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        request: httpx.Request | None = None,
        snippet: str = "",
        prediction_id: str | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.status_code = status_code
        self.snippet: str = redact(snippet)
        self.prediction_id = prediction_id


class ResponseTooLargeError(APIError):
    """An API answer (or one SSE event) is larger than the client's limit; reading stopped at
    the limit (memory stays bounded). ``limit`` in bytes; ``prediction_id`` where known."""

    def __init__(
        self,
        message: str,
        *,
        limit: int,
        request: httpx.Request | None = None,
        prediction_id: str | None = None,
    ) -> None:
        super().__init__(message, request=request)
        self.limit = limit
        self.prediction_id = prediction_id


class PredictionError(ReplicateError):
    """A prediction ended without success (failed, canceled or aborted)."""

    def __init__(self, message: str, *, prediction: Prediction) -> None:
        super().__init__(message)
        self.prediction = prediction
        self.prediction_id = prediction.id
        status = prediction.status
        self.status: str = "unknown" if status is None else str(status)
        self.error = prediction.error
        self.logs = prediction.logs


class OutputRemovedError(PredictionError):
    """The prediction succeeded but its output is gone (``data_removed: true``, ``output: null``).

    The API drops inputs, outputs and logs about an hour after a prediction ends.
    """


class OutputValidationError(ReplicateError):
    """A succeeded prediction's output does not fit the model's generated Output type."""

    def __init__(self, message: str, *, prediction: Prediction, snippet: str = "") -> None:
        super().__init__(message)
        self.prediction = prediction
        self.prediction_id = prediction.id
        self.snippet: str = redact(snippet)


class NoOutputError(OutputValidationError):
    """The prediction succeeded with ``output: null`` and the model's Output type needs a value
    (the one rule: :func:`replicate_typed.client.outputs.succeeded_output`)."""


class PredictionTimeoutError(ReplicateError):
    """Waiting for a prediction gave up; the prediction may still be running (see ``prediction_id``)."""

    def __init__(self, message: str, *, prediction_id: str, last_status: str | None) -> None:
        super().__init__(message)
        self.prediction_id = prediction_id
        self.last_status = last_status


class InputError(ReplicateError, ValueError):
    """Input rejected before any request was sent; names the field, the value and the rule."""


class DownloadError(ReplicateError):
    pass


class StreamError(ReplicateError):
    pass


class WebhookVerificationError(ReplicateError):
    pass


class TrainingError(ReplicateError):
    """A training ended without success (failed or canceled); carries it."""

    def __init__(self, message: str, *, training: Any) -> None:
        super().__init__(message)
        self.training = training
        self.prediction_id = training.id
        self.status: str = str(training.status or "unknown")
        self.error = training.error
