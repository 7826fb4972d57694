"""What a handler is given (:class:`MockRequest`) and what it answers (:class:`MockResponse`),
plus the problem-details answers every handler shares. No state, no imports from the mock."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from replicate_typed.mock.streams import MockStream

__all__ = [
    "MockRequest",
    "MockResponse",
    "decode_cursor",
    "dumps",
    "encode_cursor",
    "dumps_text",
    "field_error",
    "invalid",
    "iso",
    "json_response",
    "not_found",
    "problem",
    "unauthenticated",
]

_PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class MockRequest:
    """One routed request: ``params`` from the path template, lower-case ``headers``.

    ``prefix`` is the router prefix the request came with (``""`` or ``"/replicate"``) and
    ``base`` the ``scheme://host[:port]`` it was sent to: URLs in answers are built from both.
    ``max_json_depth``: how deep a JSON body may nest (:func:`replicate_typed.mock.bodies.json_body`).
    """

    params: Mapping[str, str]
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes
    prefix: str
    base: str
    max_json_depth: int = 64


@dataclass
class MockResponse:
    """What the mock answers: status, headers (lower-case names), body or stream.

    ``reset``: close the connection without answering. ``delay``: real seconds to hold the
    answer first (the ``slow`` fault).
    """

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | MockStream = b""
    reset: bool = False
    delay: float = 0.0

    def json(self) -> Any:
        """The body parsed as JSON (only for byte bodies)."""
        if not isinstance(self.body, bytes):
            raise TypeError("streamed body: read it through a transport")
        return json.loads(self.body)


def iso(ts: float | None) -> str | None:
    """A clock time as the API writes it (``2026-01-01T00:00:00.000000Z``)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dumps_text(value: Any) -> str:
    """Compact strict JSON: a non-finite number raises ``ValueError`` instead of being written
    as ``NaN``/``Infinity``, which strict parsers (JavaScript's ``JSON.parse``) reject."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(value: Any) -> bytes:
    """Compact strict JSON, UTF-8 (see :func:`dumps_text`)."""
    return dumps_text(value).encode()


def json_response(
    status: int, value: Any, headers: Mapping[str, str] | None = None
) -> MockResponse:
    return MockResponse(
        status, {"content-type": "application/json", **(headers or {})}, dumps(value)
    )


def problem(
    status: int,
    title: str,
    detail: str,
    invalid_fields: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> MockResponse:
    """A problem-details answer (``application/problem+json``)."""
    body: dict[str, Any] = {"title": title, "detail": detail, "status": status}
    if invalid_fields is not None:
        body["invalid_fields"] = invalid_fields
    return MockResponse(status, {"content-type": _PROBLEM, **(headers or {})}, dumps(body))


def unauthenticated() -> MockResponse:
    return problem(401, "Unauthenticated", "You did not pass a valid authentication token")


def not_found(detail: str = "The requested resource could not be found.") -> MockResponse:
    return problem(404, "Not found", detail)


def field_error(name: str, description: str, kind: str = "invalid") -> dict[str, str]:
    """One entry of a 422's ``invalid_fields``."""
    return {"type": kind, "field": name, "description": description}


def invalid(fields: list[dict[str, str]], title: str = "Input validation failed") -> MockResponse:
    """422 listing ``fields`` (each from :func:`field_error`)."""
    detail = "".join(f"- {f['field']}: {f['description']}\n" for f in fields)
    return problem(422, title, detail, invalid_fields=fields)


def encode_cursor(direction: str, mark: int) -> str:
    """A page cursor: ``b`` (pages before ``mark``) or ``a`` (after it), opaque to clients."""
    return base64.urlsafe_b64encode(f"{direction}{mark}".encode()).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[str, int]:
    """``(direction, mark)`` of :func:`encode_cursor`; ``ValueError`` for anything else."""
    try:
        decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        direction, mark = decoded[0], int(decoded[1:])
    except (ValueError, UnicodeDecodeError, IndexError):
        raise ValueError(f"invalid cursor {token!r}") from None
    if direction not in ("a", "b") or mark < 0:
        raise ValueError(f"invalid cursor {token!r}")
    return direction, mark
