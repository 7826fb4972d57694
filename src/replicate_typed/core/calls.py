"""What a generated API method hands the client: one call, described without doing it.

The generated resources (:mod:`replicate_typed.resources`) sit below the client: they build an
:class:`APICall` from their typed arguments and give it to a :class:`Requester` (the client),
which validates, sends, retries and parses. They import nothing of the client, only this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APICall",
    "AsyncRequester",
    "InvalidItem",
    "Page",
    "RawResponse",
    "RequestOptions",
    "Requester",
    "ResponseKind",
    "given",
    "request_options",
]

T = TypeVar("T")

ResponseKind = Literal["model", "list", "text", "bytes", "empty", "json"]
"""How a 2xx answer is read: a typed object (``model``), a list of them, text, bytes, nothing
(204) or any JSON."""


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """Per-call options every generated method takes (None: the client's own)."""

    timeout: float | None = None
    max_retries: int | None = None
    extra_headers: Mapping[str, str] | None = None


@dataclass(slots=True)
class APICall:
    """One call of an operation (its ``operationId``): the values as the caller gave them.

    ``path_params`` are keyed by the Python name (``model`` stands for ``{model_owner}`` and
    ``{model_name}`` as ``owner/name``); ``headers`` may hold typed values (``Prefer``: a wait);
    the client checks and encodes everything before sending. A list operation names its
    ``item`` type: its pages are read item by item.
    """

    operation: str
    path_params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, object] | None = None
    json: Mapping[str, object] | None = None
    form: Mapping[str, object] | None = None
    content: str | None = None
    headers: Mapping[str, object] | None = None
    kind: ResponseKind = "model"
    cast_to: Any = None
    item: Any = None
    options: RequestOptions | None = None


def given(values: Mapping[str, object]) -> dict[str, object] | None:
    """The values a caller gave (None means "not given": left to the server); None if none."""
    out = {name: value for name, value in values.items() if value is not None}
    return out or None


def request_options(
    extra_headers: Mapping[str, str] | None, timeout: float | None, max_retries: int | None
) -> RequestOptions | None:
    """The per-call options, or None when the call uses the client's own (the common case)."""
    if extra_headers is None and timeout is None and max_retries is None:
        return None
    return RequestOptions(timeout=timeout, max_retries=max_retries, extra_headers=extra_headers)


@dataclass(frozen=True)
class InvalidItem:
    """An item of a page that did not parse: its index on the page and why (no value shown)."""

    index: int
    reason: str
    id: str | None = None


@dataclass
class Page(Generic[T]):
    """One page: ``results`` (the items that parsed), ``next``/``previous`` links, ``invalid``."""

    results: list[T]
    next: str | None = None
    previous: str | None = None
    invalid: list[InvalidItem] = field(default_factory=list)

    @property
    def has_next(self) -> bool:
        return bool(self.next)

    def __iter__(self) -> Iterator[T]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)


class RawResponse(Generic[T]):
    """The HTTP answer of a call (``client.with_raw_response...``): status, headers and body as
    received, and :meth:`parse` for the typed value the plain call returns."""

    def __init__(self, http_response: httpx.Response, parse: Callable[[], T]) -> None:
        self.http_response = http_response
        self._parse = parse

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def content(self) -> bytes:
        return self.http_response.content

    @property
    def text(self) -> str:
        return self.http_response.text

    def parse(self) -> T:
        """The answer typed as the plain call returns it (checked as the plain call checks it)."""
        return self._parse()

    def __repr__(self) -> str:
        return f"<RawResponse [{self.status_code}]>"


class Requester(Protocol):
    """What the generated synchronous resources call (``Client`` implements it)."""

    def _call(self, call: APICall) -> Any: ...

    def _call_raw(self, call: APICall) -> RawResponse[Any]: ...

    def _call_page(self, call: APICall, url: str | None, seen: set[str]) -> Page[Any]: ...

    def _left_out(self, call: APICall, invalid: list[InvalidItem]) -> None: ...


class AsyncRequester(Protocol):
    """What the generated asynchronous resources call (``AsyncClient`` implements it)."""

    async def _call(self, call: APICall) -> Any: ...

    async def _call_raw(self, call: APICall) -> RawResponse[Any]: ...

    async def _call_page(self, call: APICall, url: str | None, seen: set[str]) -> Page[Any]: ...

    def _left_out(self, call: APICall, invalid: list[InvalidItem]) -> None: ...
