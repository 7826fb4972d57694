"""One-line CLI errors; the API token is masked in everything the CLI prints about a failure."""

from __future__ import annotations

import os
import sys
import traceback
from typing import TextIO

from replicate_typed.client.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    PredictionError,
    PredictionTimeoutError,
    ReplicateError,
)

__all__ = [
    "CliError",
    "EXIT_USAGE",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "REDACTED",
    "Redactor",
    "redactor",
    "describe",
    "debug_enabled",
    "print_debug_traceback",
]

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
REDACTED = "<redacted>"


class CliError(Exception):
    """An error the CLI reports as one line (``error: ...``) and a non-zero exit code."""

    def __init__(self, message: str, *, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class Redactor:
    """Masks every secret it was told about (the API token) in text before it is printed."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, secret: str | None) -> None:
        if secret and secret.strip():
            self._secrets.add(secret)
            self._secrets.add(secret.strip())

    def clear(self) -> None:
        self._secrets.clear()

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text


redactor = Redactor()
"""The process-wide redactor: the CLI registers the token here as soon as it reads it."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


def describe(exc: BaseException) -> str:
    """A one-line description of ``exc`` for the user (the token is masked)."""
    if isinstance(exc, CliError):
        text = exc.message
    elif isinstance(exc, AuthenticationError):
        text = (
            f"authentication failed ({exc.status_code}): {exc.message} "
            "(set REPLICATE_API_TOKEN or --api-token-file)"
        )
    elif isinstance(exc, APIStatusError):
        text = (
            f"{exc.message}"
            if str(exc.status_code) in exc.message
            else f"{exc.status_code}: {exc.message}"
        )
    elif isinstance(exc, APITimeoutError) and exc.deadline is not None:
        text = f"deadline reached: {exc.message}"  # the call's deadline, not the network
    elif isinstance(exc, APIConnectionError):
        text = f"cannot reach the API: {exc.message}"
    elif isinstance(exc, PredictionError):
        detail = f": {exc.error}" if exc.error else ""
        text = f"prediction {exc.prediction_id} {exc.status}{detail}"
    elif isinstance(exc, PredictionTimeoutError):
        text = str(exc)
    elif isinstance(exc, ReplicateError):
        text = str(exc) or type(exc).__name__
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    prediction_id = getattr(exc, "prediction_id", None)
    if prediction_id and prediction_id not in text:
        text = f"{text} (prediction {prediction_id})"
    return redactor(_one_line(text))


def debug_enabled() -> bool:
    """``REPLICATE_TYPED_DEBUG=1`` shows tracebacks (token still masked)."""
    return os.environ.get("REPLICATE_TYPED_DEBUG", "").strip().lower() in {"1", "true", "yes"}


def print_debug_traceback(exc: BaseException, stream: TextIO | None = None) -> None:
    text = "".join(traceback.format_exception(exc))
    (stream or sys.stderr).write(redactor(text))
