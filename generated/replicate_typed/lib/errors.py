"""The error hierarchy. Every message is safe to log: it never contains the API token.

ReplicateError
├── APIError                      a request went wrong
│   ├── APIConnectionError        no answer (connect/read failure)
│   │   └── APITimeoutError
│   └── APIStatusError            an HTTP error status; carries status, problem details, body snippet
│       ├── BadRequestError (400), AuthenticationError (401), PermissionDeniedError (403),
│       ├── NotFoundError (404), ConflictError (409), UnprocessableEntityError (422, field errors),
│       ├── RateLimitError (429), InternalServerError (5xx)
├── PredictionError               the prediction ended failed / canceled / aborted (carries it)
├── PredictionTimeoutError        waiting gave up (carries id and last status)
├── InputError                    bad input caught before any request was sent
├── DownloadError                 an output could not be downloaded
├── StreamError                   an SSE stream broke or reported an error
└── WebhookVerificationError      a webhook's signature, timestamp or headers are wrong
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from replicate_typed.types.api import Prediction


class ReplicateError(Exception):
    """Base of every error this package raises."""

    prediction_id: str | None = None


class APIError(ReplicateError):
    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.message = message
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
    def __init__(
        self, message: str = "Request timed out.", *, request: httpx.Request | None = None
    ) -> None:
        super().__init__(message, request=request, sent=True)


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
        self.body = body
        self.snippet = snippet
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

    field_errors: dict[str, str]


class RateLimitError(APIStatusError):
    retry_after: float | None = None


class InternalServerError(APIStatusError):
    pass


class PredictionError(ReplicateError):
    """A prediction ended without success (failed, canceled or aborted)."""

    def __init__(self, message: str, *, prediction: Prediction) -> None:
        super().__init__(message)
        self.prediction = prediction
        self.prediction_id = prediction.id
        self.status = str(prediction.status)
        self.error = prediction.error
        self.logs = prediction.logs


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
