"""Pages of a list operation, and the pagers that walk them (sync and async).

A page holds the items that parsed; an item that did not is reported in :attr:`Page.invalid`
(index, reason) and logged, and costs only itself: walking ``pages()`` shows every page with
its ``invalid``. Iterating the items yields every item that parsed and then, if any was left
out, raises the client's error naming each (a caller who only iterates is never silently
handed a partial list: a reconciliation must not conclude "not there" from one). A pager follows each page's ``next`` link
(the client keeps it on the configured base URL and refuses a link that repeats) up to a bound:
``max_pages`` (default :data:`DEFAULT_MAX_PAGES`) and, when iterating items, ``max_items``.
Reaching the bound stops the walk, sets ``truncated`` and logs a warning.

::

    for prediction in client.predictions.list():            # every item, page after page
        ...
    page = client.predictions.list().first_page()             # one page: .results, .next
    async for model in client.models.list().items(max_items=50):
        ...
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Generator, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from replicate_typed.core.calls import InvalidItem, Page

if TYPE_CHECKING:
    from replicate_typed.core.calls import APICall, AsyncRequester, Requester

__all__ = ["DEFAULT_MAX_PAGES", "AsyncPager", "InvalidItem", "Page", "Pager"]

T = TypeVar("T")
DEFAULT_MAX_PAGES = 1000
"""Pages one walk reads at most unless told otherwise (every read is bounded)."""

_log = logging.getLogger("replicate_typed")


def _bound(name: str, value: int | None) -> int | None:
    if value is not None and (not isinstance(value, int) or value < 1):
        raise ValueError(f"{name}: {value!r} must be a positive integer or None")
    return value


class _Walk:
    def __init__(self, operation: str, max_pages: int | None, max_items: int | None) -> None:
        self.operation = operation
        self.max_pages = _bound("max_pages", max_pages) or DEFAULT_MAX_PAGES
        self.max_items = _bound("max_items", max_items)
        self.truncated = False

    def stop(self, what: str) -> None:
        self.truncated = True
        _log.warning("%s: stopped after %s (more pages follow)", self.operation, what)


class Pager(Generic[T]):
    """The pages of one list call (synchronous). Iterating it yields every item."""

    def __init__(self, requester: Requester, call: APICall, *, max_pages: int | None = None):
        self._requester = requester
        self._call = call
        self._max_pages = _bound("max_pages", max_pages)
        self.truncated = False

    def first_page(self) -> Page[T]:
        """The first page only."""
        page: Page[T] = self._requester._call_page(self._call, None, set())
        return page

    def pages(self, *, max_pages: int | None = None) -> Iterator[Page[T]]:
        """Page after page, following ``next`` (at most ``max_pages``)."""
        _bound("max_pages", max_pages)
        walk = _Walk(
            self._call.operation, self._max_pages if max_pages is None else max_pages, None
        )
        seen: set[str] = set()
        url: str | None = None
        for count in range(1, walk.max_pages + 1):
            page: Page[T] = self._requester._call_page(self._call, url, seen)
            yield page
            if not page.next:
                return
            if count == walk.max_pages:
                walk.stop(f"{count} pages")
                self.truncated = True
                return
            url = page.next

    def items(self, *, max_items: int | None = None, max_pages: int | None = None) -> Iterator[T]:
        """Every item across pages (at most ``max_items``, reading at most ``max_pages``); then
        the client's error if an item was left out (see :meth:`pages` to tolerate them)."""
        _bound("max_items", max_items)
        count = 0
        left_out: list[InvalidItem] = []
        for page in self.pages(max_pages=max_pages):
            left_out += page.invalid
            for item in page.results:
                if max_items is not None and count >= max_items:
                    self.truncated = True
                    return
                count += 1
                yield item
        if left_out:
            self._requester._left_out(self._call, left_out)

    def __iter__(self) -> Iterator[T]:
        return self.items()


class AsyncPager(Generic[T]):
    """The pages of one list call (asynchronous). ``async for`` yields every item; ``await``
    gives the first page."""

    def __init__(
        self, requester: AsyncRequester, call: APICall, *, max_pages: int | None = None
    ) -> None:
        self._requester = requester
        self._call = call
        self._max_pages = _bound("max_pages", max_pages)
        self.truncated = False

    async def first_page(self) -> Page[T]:
        """The first page only."""
        page: Page[T] = await self._requester._call_page(self._call, None, set())
        return page

    def __await__(self) -> Generator[Any, None, Page[T]]:
        return self.first_page().__await__()

    async def pages(self, *, max_pages: int | None = None) -> AsyncIterator[Page[T]]:
        """Page after page, following ``next`` (at most ``max_pages``)."""
        _bound("max_pages", max_pages)
        walk = _Walk(
            self._call.operation, self._max_pages if max_pages is None else max_pages, None
        )
        seen: set[str] = set()
        url: str | None = None
        for count in range(1, walk.max_pages + 1):
            page: Page[T] = await self._requester._call_page(self._call, url, seen)
            yield page
            if not page.next:
                return
            if count == walk.max_pages:
                walk.stop(f"{count} pages")
                self.truncated = True
                return
            url = page.next

    async def items(
        self, *, max_items: int | None = None, max_pages: int | None = None
    ) -> AsyncIterator[T]:
        """Every item across pages (at most ``max_items``, reading at most ``max_pages``); then
        the client's error if an item was left out (see :meth:`pages` to tolerate them)."""
        _bound("max_items", max_items)
        count = 0
        left_out: list[InvalidItem] = []
        async for page in self.pages(max_pages=max_pages):
            left_out += page.invalid
            for item in page.results:
                if max_items is not None and count >= max_items:
                    self.truncated = True
                    return
                count += 1
                yield item
        if left_out:
            self._requester._left_out(self._call, left_out)

    def __aiter__(self) -> AsyncIterator[T]:
        return self.items()
