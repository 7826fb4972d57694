"""Logging for the runtime: one logger (``replicate_typed``), secrets never written.

The client logs each request at DEBUG (method, URL, attempt, redacted headers), each retry at
INFO and nothing at all by default (the standard library drops DEBUG/INFO unless configured).
Header values that carry credentials are replaced by ``<redacted>`` before they are formatted,
and :class:`RedactingFilter` masks any token the client knows about if it still reaches a
record through an exception message or a user's own log call. :func:`redact` applies the same
masking to any text; every error of :mod:`replicate_typed.client.errors` passes its message, body
and snippet through it, so a server that echoes the token back cannot put it into an exception.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar, cast

T = TypeVar("T")

__all__ = [
    "logger",
    "redact",
    "redact_headers",
    "register_secret",
    "RedactingFilter",
    "SENSITIVE_HEADERS",
    "REDACTED",
]

logger = logging.getLogger("replicate_typed")

REDACTED = "<redacted>"
MIN_SECRET_LENGTH = 8
SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}
)


def redact_headers(headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
    """A copy of ``headers`` that is safe to log (credential headers replaced by ``<redacted>``)."""
    items = headers.items() if isinstance(headers, Mapping) else headers
    return {
        name: (REDACTED if name.lower() in SENSITIVE_HEADERS else value) for name, value in items
    }


class RedactingFilter(logging.Filter):
    """Masks the given secrets in a record's formatted message (defence in depth)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__("replicate_typed")
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        # short strings would mask ordinary words; real tokens are long (r8_ + 37 chars)
        if secret and len(secret) >= MIN_SECRET_LENGTH:
            self._secrets.add(secret)

    def mask(self, text: str) -> str:
        """``text`` with every secret replaced by ``<redacted>``."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        masked = self.mask(message)
        if masked != message:
            record.msg = masked
            record.args = None
        return True


_FILTER = RedactingFilter()
logger.addFilter(_FILTER)


def register_secret(secret: str | None) -> None:
    """Make the module filter mask ``secret`` in every record of the ``replicate_typed`` logger."""
    _FILTER.add(secret)


def redact(value: T) -> T:
    """``value`` with every registered secret masked: strings, and the strings inside JSON-like
    lists and dicts (keys included); anything else is returned as it is."""
    masked: Any = value
    if isinstance(value, str):
        masked = _FILTER.mask(value)
    elif isinstance(value, list):
        masked = [redact(item) for item in value]
    elif isinstance(value, dict):
        masked = {redact(key): redact(item) for key, item in value.items()}
    return cast(T, masked)
