"""Logging for the runtime: one logger (``replicate_typed``), secrets never written.

The client logs each request at DEBUG (method, URL, attempt, redacted headers), each retry at
INFO and nothing at all by default (the standard library drops DEBUG/INFO unless configured).
Header values that carry credentials are replaced by ``<redacted>`` before they are formatted,
and :class:`RedactingFilter` masks any token the client knows about if it still reaches a
record through an exception message or a user's own log call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

__all__ = ["logger", "redact_headers", "RedactingFilter", "SENSITIVE_HEADERS", "REDACTED"]

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

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        masked = message
        for secret in self._secrets:
            masked = masked.replace(secret, REDACTED)
        if masked != message:
            record.msg = masked
            record.args = None
        return True


_FILTER = RedactingFilter()
logger.addFilter(_FILTER)


def register_secret(secret: str | None) -> None:
    """Make the module filter mask ``secret`` in every record of the ``replicate_typed`` logger."""
    _FILTER.add(secret)
