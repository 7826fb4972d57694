"""replicate_typed: typed client for Replicate-format prediction APIs.

::

    from replicate_typed import Client
    from replicate_typed.models.stability_ai import sdxl

    images = Client().run(sdxl.Input(prompt="an astronaut riding a horse"))

Public names live here: :class:`Client` and :class:`AsyncClient`, the error classes,
:class:`FileInput` / :class:`FileOutput`, the model ``registry``; one generated module per model
is ``replicate_typed.models.<owner>.<name>``. Names are imported on first use, so
``import replicate_typed`` stays cheap.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import TYPE_CHECKING, Any

# The package has two halves: this hand-written one and the generator's (models/, types/). An
# installed wheel has both in one folder; in a source checkout (the editable install) the
# generated half is the sibling folder generated/replicate_typed, joined here.
_checkout_half = os.path.join(os.path.dirname(os.path.dirname(__path__[0])), "generated", __name__)
if os.path.isdir(_checkout_half) and _checkout_half not in __path__:
    __path__.append(_checkout_half)

if TYPE_CHECKING:
    from replicate_typed.client import AsyncClient, Client, ClientOptions
    from replicate_typed.client.errors import (
        APIConnectionError,
        APIError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ConflictError,
        DownloadError,
        InputError,
        InternalServerError,
        NoOutputError,
        NotFoundError,
        OutputRemovedError,
        OutputValidationError,
        PermissionDeniedError,
        PredictionError,
        PredictionTimeoutError,
        RateLimitError,
        ReplicateError,
        ResponseTooLargeError,
        StreamError,
        UnprocessableEntityError,
        WebhookVerificationError,
    )
    from replicate_typed.client.limits import Limits
    from replicate_typed.client.polling import PollPolicy
    from replicate_typed.client.retries import RetryPolicy
    from replicate_typed.client.streaming import StreamEvent
    from replicate_typed.core.field_types import FileInput, FileOutput, Secret
    from replicate_typed.core.model import ModelInfo, ModelInput
    from replicate_typed.core.registry import Registry, UnknownModelError
    from replicate_typed.models import registry
    from replicate_typed.predictions import TypedPrediction

_ERRORS = (
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "DownloadError",
    "InputError",
    "InternalServerError",
    "NoOutputError",
    "NotFoundError",
    "OutputRemovedError",
    "OutputValidationError",
    "PermissionDeniedError",
    "PredictionError",
    "PredictionTimeoutError",
    "RateLimitError",
    "ReplicateError",
    "ResponseTooLargeError",
    "StreamError",
    "UnprocessableEntityError",
    "WebhookVerificationError",
)

# public name -> module that defines it (imported on first attribute access)
_EXPORTS: dict[str, str] = {
    "Client": "replicate_typed.client",
    "AsyncClient": "replicate_typed.client",
    "ClientOptions": "replicate_typed.client",
    "PollPolicy": "replicate_typed.client.polling",
    "Limits": "replicate_typed.client.limits",
    "RetryPolicy": "replicate_typed.client.retries",
    "StreamEvent": "replicate_typed.client.streaming",
    "ModelInfo": "replicate_typed.core.model",
    "ModelInput": "replicate_typed.core.model",
    "TypedPrediction": "replicate_typed.predictions",
    "Registry": "replicate_typed.core.registry",
    "UnknownModelError": "replicate_typed.core.registry",
    "FileInput": "replicate_typed.core.field_types",
    "FileOutput": "replicate_typed.core.field_types",
    "Secret": "replicate_typed.core.field_types",
    "registry": "replicate_typed.models",
    **dict.fromkeys(_ERRORS, "replicate_typed.client.errors"),
}

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "Client",
    "ClientOptions",
    "ConflictError",
    "DownloadError",
    "FileInput",
    "FileOutput",
    "InputError",
    "InternalServerError",
    "Limits",
    "ModelInfo",
    "ModelInput",
    "NoOutputError",
    "NotFoundError",
    "OutputRemovedError",
    "OutputValidationError",
    "PermissionDeniedError",
    "PollPolicy",
    "PredictionError",
    "PredictionTimeoutError",
    "RateLimitError",
    "Registry",
    "ReplicateError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "Secret",
    "StreamError",
    "StreamEvent",
    "TypedPrediction",
    "UnknownModelError",
    "UnprocessableEntityError",
    "WebhookVerificationError",
    "registry",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'replicate_typed' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
