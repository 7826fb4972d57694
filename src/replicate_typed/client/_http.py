"""The httpx clients a Replicate client makes for itself: httpx's, without a cookie jar.

The API is authenticated by its token, and the client builds its requests itself
(:meth:`replicate_typed.client._base.Core.build`), never through httpx's cookie merging: a
cookie a server sets is never sent back. httpx still parses every answer's ``Set-Cookie``
into its jar (about a tenth of a request's cost); these clients keep no jar, so that work is
not done. A caller's own ``http_client=`` is used as given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from httpx._types import CookieTypes

__all__ = ["APIHTTPClient", "AsyncAPIHTTPClient", "NoCookies"]


class NoCookies(httpx.Cookies):
    """A cookie jar that keeps nothing (answers' cookies are not read)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class APIHTTPClient(httpx.Client):
    """``httpx.Client`` whose jar keeps nothing (see the module's docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._jar: httpx.Cookies = NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: CookieTypes) -> None:
        self._jar = NoCookies(cookies)


class AsyncAPIHTTPClient(httpx.AsyncClient):
    """``httpx.AsyncClient`` whose jar keeps nothing (see the module's docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._jar: httpx.Cookies = NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: CookieTypes) -> None:
        self._jar = NoCookies(cookies)
