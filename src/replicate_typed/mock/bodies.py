"""Request bodies, in one place for both transports (the Starlette app and the respx adapter):
how large a body a route takes, and how a JSON body is read.

* **Limits.** Uploads (``files.create``) may be ``MockConfig.max_upload_bytes`` (plus room for
  the multipart framing); every other body ``MockConfig.max_body_bytes``. A larger body is
  answered ``413`` with problem details. :meth:`MockBackend.body_limit
  <replicate_typed.mock.backend.MockBackend.body_limit>` tells the app the limit before it reads
  (it drains a larger body without keeping it); :meth:`MockBackend.handle` checks it again, so
  respx tests see the same answer.
* **Strict JSON** (RFC 8259): UTF-8, no ``NaN``/``Infinity``/``-Infinity`` (nor a number so large
  it only fits as infinity), no lone surrogates, nested at most ``MockConfig.max_json_depth``
  levels. Anything else is ``400`` with problem details naming the rule, never a ``500``.

What the mock sends is strict JSON too: :func:`replicate_typed.mock.messages.dumps` refuses
non-finite numbers (``allow_nan=False``).
"""

from __future__ import annotations

import math
from typing import Any

import pydantic_core

from replicate_typed.mock.messages import MockRequest, MockResponse, problem

__all__ = [
    "JSON_DEPTH_CEILING",
    "MULTIPART_SLACK",
    "UPLOAD_ROUTES",
    "InvalidJSON",
    "json_body",
    "loads_strict",
    "route_body_limit",
    "too_large",
]

UPLOAD_ROUTES: frozenset[str] = frozenset({"files.create"})
"""Routes whose body is an upload (``multipart/form-data``) rather than a JSON document."""

MULTIPART_SLACK = 64 * 1024
"""Room for the multipart framing and the small form fields around an upload's content."""

JSON_DEPTH_CEILING = 200
"""The parser's own nesting limit: ``max_json_depth`` can be set up to this."""


class InvalidJSON(ValueError):
    """A body that is not strict JSON; the message says which rule it breaks."""


def route_body_limit(route_id: str | None, max_body_bytes: int, max_upload_bytes: int) -> int:
    """The largest body (bytes) the route takes; an unknown route gets the JSON limit."""
    if route_id in UPLOAD_ROUTES:
        return max_upload_bytes + MULTIPART_SLACK
    return max_body_bytes


def too_large(limit: int) -> MockResponse:
    """``413`` with problem details (the body was drained, not kept)."""
    return problem(
        413,
        "Request Entity Too Large",
        f"The request body is larger than the limit of {limit} bytes",
    )


def loads_strict(data: bytes | str, max_depth: int = JSON_DEPTH_CEILING) -> Any:
    """Parse strict JSON or raise :class:`InvalidJSON` (see the module doc for the rules)."""
    try:
        value = pydantic_core.from_json(data, allow_inf_nan=False)
    except ValueError as error:
        try:  # only to name the rule: the lenient parse is never used as the value
            pydantic_core.from_json(data, allow_inf_nan=True)
        except ValueError:
            reason = str(error)
            if "recursion limit" in reason:
                raise InvalidJSON(
                    f"the JSON is nested deeper than {min(max_depth, JSON_DEPTH_CEILING)} levels"
                ) from None
            raise InvalidJSON(f"not valid JSON ({reason})") from None
        raise InvalidJSON(_NON_FINITE) from None
    _check(value, max_depth)
    return value


_NON_FINITE = "NaN, Infinity and -Infinity are not JSON numbers"


def _check(value: Any, max_depth: int) -> None:
    """Depth and finiteness of a parsed value (iterative: no recursion on hostile input)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, float):
            if not math.isfinite(node):
                raise InvalidJSON(f"a number is too large for a finite double ({_NON_FINITE})")
        elif isinstance(node, dict | list):
            if depth > max_depth:
                raise InvalidJSON(f"the JSON is nested deeper than {max_depth} levels")
            items = node.values() if isinstance(node, dict) else node
            stack.extend(
                (item, depth + 1) for item in items if isinstance(item, dict | list | float)
            )


def json_body(req: MockRequest) -> Any:
    """The request's JSON body (``None`` when empty), or a ``400`` problem-details answer."""
    if not req.body:
        return None
    try:
        return loads_strict(req.body, req.max_json_depth)
    except InvalidJSON as error:
        return problem(400, "Bad request", f"The request body is not valid JSON: {error}")
