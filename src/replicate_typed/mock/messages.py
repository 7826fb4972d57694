"""What a handler is given (:class:`MockRequest`) and what it answers (:class:`MockResponse`),
plus the problem-details answers every handler shares. No state, no imports from the mock."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from replicate_typed.mock.streams import MockStream

__all__ = [
    "MockRequest",
    "MockResponse",
    "dumps",
    "field_error",
    "invalid",
    "iso",
    "json_response",
    "not_found",
    "problem",
    "too_large",
    "unauthenticated",
]

_PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class MockRequest:
    """One routed request: ``params`` from the path template, lower-case ``headers``.

    ``prefix`` is the router prefix the request came with (``""`` or ``"/replicate"``) and
    ``base`` the ``scheme://host[:port]`` it was sent to: URLs in answers are built from both.
    """

    params: Mapping[str, str]
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes
    prefix: str
    base: str


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


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


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


def too_large(limit: int) -> MockResponse:
    return problem(
        413, "Request Entity Too Large", f"The file is larger than the limit of {limit} bytes"
    )
