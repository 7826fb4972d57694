"""An httpx transport that records every exchange of the live suite and checks it in transit.

Against Prism it also enforces the contract Prism itself reports: a request Prism finds invalid
(its generated 422 ``UNPROCESSABLE_ENTITY`` problem, or an ``sl-violations`` entry located in
the request) is recorded as a problem, and the suite fails on any problem.

``Prefer`` is handled deliberately. The API uses ``Prefer: wait[=N]`` (sync mode); Prism uses
``Prefer`` for its own negotiation (``code=202``, ``example=...``, ``dynamic=true``). Measured
with the pinned Prism: it validates the header against the document's pattern
(``parameters_prefer_header``: ``^wait(=...)?$``) and ignores the ``wait`` preference it does not
know -- so the client's ``Prefer: wait=N`` is forwarded unchanged (Prism's validation covers it,
and the transport checks it too, including the documented 1..60 range the pattern is looser
than), while ``Prefer: code=202`` would itself be a contract violation (422). Prism's own
preferences are therefore sent as its documented query-string form (``?__code=202``), set per
test with ``prism_query``, never as ``Prefer``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["Exchange", "RecordingTransport", "redacted_headers"]

_SENSITIVE = {"authorization", "cookie", "proxy-authorization"}


def redacted_headers(headers: httpx.Headers) -> dict[str, str]:
    return {k: ("<redacted>" if k.lower() in _SENSITIVE else v) for k, v in headers.items()}


@dataclass
class Exchange:
    method: str
    url: str
    path: str
    """The path below the base URL's own prefix: ``/v1/predictions``."""
    request_headers: dict[str, str]
    request_body: bytes
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    violations: list[dict[str, Any]] = field(default_factory=list)
    prefer_sent: str | None = None
    """The ``Prefer`` header the client sent."""

    def json(self) -> Any:
        return json.loads(self.response_body)

    def request_json(self) -> Any:
        return json.loads(self.request_body)


class RecordingTransport(httpx.BaseTransport):
    """Records exchanges; with ``prism=True`` also collects Prism's validation findings."""

    def __init__(
        self, *, prism: bool = False, prefer_pattern: str | None = None, base_path: str = ""
    ) -> None:
        self._inner = httpx.HTTPTransport()
        self.base_path = base_path.rstrip("/")
        self.prism = prism
        self.prefer_pattern = prefer_pattern
        self.prism_query: dict[str, str] = {}
        """Prism's own preferences as query parameters, e.g. ``{"__code": "202"}``."""
        self.exchanges: list[Exchange] = []
        self.problems: list[str] = []
        self.response_violations: list[str] = []
        """Prism's findings about its *own* generated responses (dynamic mode): not ours."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        exchange = Exchange(
            method=request.method,
            url=str(request.url),
            path=request.url.path.removeprefix(self.base_path),
            request_headers=redacted_headers(request.headers),
            request_body=request.content,
        )
        label = f"{request.method} {request.url.path}"
        prefer = request.headers.get("Prefer")
        if prefer is not None:
            exchange.prefer_sent = prefer
            self._check_prefer(label, prefer)
        if self.prism and self.prism_query:
            request.url = request.url.copy_merge_params(self.prism_query)
        self.exchanges.append(exchange)
        response = self._inner.handle_request(request)
        try:
            raw = b"".join(response.iter_raw())
        finally:
            response.close()
        probe = httpx.Response(
            response.status_code, headers=response.headers, stream=httpx.ByteStream(raw)
        )
        probe.read()
        exchange.status = response.status_code
        exchange.response_headers = dict(response.headers.items())
        exchange.response_body = probe.content
        if self.prism:
            self._check_prism(label, exchange)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            extensions=response.extensions,
            request=request,
        )

    def _check_prefer(self, label: str, prefer: str) -> None:
        if self.prefer_pattern and not re.fullmatch(self.prefer_pattern, prefer):
            self.problems.append(
                f"{label}: Prefer {prefer!r} does not match the document's pattern "
                f"{self.prefer_pattern!r}"
            )
        match = re.fullmatch(r"wait=(\d+)", prefer)
        if match and not 1 <= int(match.group(1)) <= 60:
            self.problems.append(f"{label}: Prefer {prefer!r}: N must be 1..60")

    def _check_prism(self, label: str, exchange: Exchange) -> None:
        header = exchange.response_headers.get("sl-violations")
        if header:
            try:
                exchange.violations = list(json.loads(header))
            except ValueError:
                self.problems.append(f"{label}: unreadable sl-violations header {header[:200]!r}")
        for violation in exchange.violations:
            where = violation.get("location") or ["?"]
            text = f"{label}: {'.'.join(map(str, where))}: {violation.get('message')}"
            if where[0] == "request":
                self.problems.append(text)
            else:
                self.response_violations.append(text)
        if exchange.status == 422:
            try:
                body = exchange.json()
            except ValueError:
                body = {}
            if "UNPROCESSABLE_ENTITY" in str(body.get("type", "")):
                details = "; ".join(
                    f"{'.'.join(map(str, v.get('location', [])))}: {v.get('message')}"
                    for v in body.get("validation", [])
                )
                self.problems.append(f"{label}: Prism rejected the request: {details}")

    def last(self, method: str, path: str) -> Exchange:
        for exchange in reversed(self.exchanges):
            if exchange.method == method and exchange.path == path:
                return exchange
        seen = [f"{e.method} {e.path}" for e in self.exchanges]
        raise AssertionError(f"no {method} {path} was sent; sent: {seen}")

    def close(self) -> None:
        self._inner.close()
