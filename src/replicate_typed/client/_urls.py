"""Request URLs under the client's base URL, made without parsing the base again.

Building an ``httpx.Request`` from a string parses the whole URL (about half the cost of the
request object). The base URL is parsed once; a path made only of plain segments (letters,
digits, ``-._~``, no segment empty or starting with ``.``: what every operation path with
validated ids is) is appended to the parsed base path, which is what parsing the joined
string yields for such a path. That shortcut uses httpx's parsed form (``URL._uri_reference``),
so it is taken only when a probe made both ways agrees at construction (another httpx falls
back to parsing); anything else (a percent-encoded id, a page link) is parsed as before.
``contract_tests/client/test_urls.py`` proves the two ways agree.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

__all__ = ["BaseURL"]

_PLAIN_PATH = re.compile(r"(?:/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+")
_PROBE = "/v1/predictions/probe-0.x_~"


class BaseURL:
    """The API base URL (no trailing ``/``, no query) and the URLs of paths under it."""

    __slots__ = ("text", "_reference")

    def __init__(self, base_url: str) -> None:
        self.text = base_url
        self._reference = _reference_of(base_url)

    @property
    def fast(self) -> bool:
        """Whether plain paths are joined without parsing (see the module's docstring)."""
        return self._reference is not None

    def join(self, path: str) -> httpx.URL | str:
        """The URL of ``path`` (``/v1/...``) under the base; an absolute URL is returned as
        given (httpx parses it)."""
        reference = self._reference
        if reference is None or not _PLAIN_PATH.fullmatch(path):
            if path.startswith(("http://", "https://")):
                return path
            return f"{self.text}{path}"
        url = httpx.URL.__new__(httpx.URL)
        url._uri_reference = reference._replace(path=reference.path + path)
        return url


def _reference_of(base_url: str) -> Any:
    """httpx's parsed form of ``base_url`` when joining onto it agrees with parsing (checked
    on a probe path), else None."""
    try:
        reference = httpx.URL(base_url)._uri_reference
        if reference.query is not None or reference.fragment is not None:
            return None
        probe = httpx.URL.__new__(httpx.URL)
        probe._uri_reference = reference._replace(path=reference.path + _PROBE)
        parsed = httpx.URL(f"{base_url}{_PROBE}")
    except Exception:  # noqa: BLE001  (another httpx: parse every URL)
        return None
    same = str(probe) == str(parsed) and probe.raw_path == parsed.raw_path
    return reference if same and probe.netloc == parsed.netloc else None
