"""What a value must be before it is used for a side effect: the one set of rules for every
value -- from the user or from a server -- that reaches a file path, a URL or a request header.

The client, the downloads, the stream reader, the webhook checker, the batch runner and the CLI
all call these functions; none has rules of its own.

* **Ids** (prediction ids, file ids; sent *and* received): 1-200 characters from
  ``A-Z a-z 0-9 . _ ~ -`` (RFC 3986's unreserved set: one URL path segment as it is, and one
  file name on every operating system), not starting with ``.`` (so never ``.``, ``..`` or a
  hidden name) and not a Windows device name (``CON``, ``NUL``, ``COM1`` ...). An id that breaks
  the rule is never put in a URL or a path, whoever sent it.
* **Output folders** (``out/<prediction id>/``): the id must be an id, and the folder, resolved
  (symbolic links followed), must lie strictly inside the resolved output folder.
* **URLs that receive the API token**: exactly the scheme, host and port of a trusted origin
  (the configured base URL; for the official API also ``https://stream.replicate.com``), parsed
  the way httpx will send them (IDNA, case, default ports), with no user info. Anything else is
  sent without the token -- or, for ``next`` page links, re-rooted onto the base URL with the
  expected path only (:func:`rebase_api_url`).
* **Header values**: printable ASCII (space and tab inside), no surrounding whitespace, no
  control characters, at most 8 KiB; header names are RFC 9110 tokens.

Every refusal is an :class:`UnsafeValueError` naming the field, the value (escaped, cut) and the
rule; callers turn it into their own error (``InputError`` for what the user gave,
``APIResponseValidationError`` for what a server answered ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

__all__ = [
    "ID_MAX_LENGTH",
    "HEADER_MAX_LENGTH",
    "Origin",
    "UnsafeValueError",
    "check_header_name",
    "check_header_value",
    "check_id",
    "confined_dir",
    "id_problem",
    "origin_of",
    "rebase_api_url",
    "shown",
    "token_allowed",
    "trusted_origins",
]

ID_MAX_LENGTH = 200
HEADER_MAX_LENGTH = 8192
OFFICIAL_API = "https://api.replicate.com"
OFFICIAL_STREAM = "https://stream.replicate.com"

UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")
"""Characters a URL path segment carries as they are (RFC 3986 unreserved)."""
_SAFE_ID = re.compile(rf"[A-Za-z0-9_~-][A-Za-z0-9._~-]{{0,{ID_MAX_LENGTH - 1}}}")
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"[\x20-\x7e\t]*")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class UnsafeValueError(ValueError):
    """A value that must not be used where it was going: ``field``, the value and the rule."""

    def __init__(self, field: str, value: object, rule: str) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        super().__init__(f"{field}: {shown(value)} {rule}")


def shown(value: object, limit: int = 80) -> str:
    """A value fit for a message: escaped (control and non-ASCII characters visible), cut."""
    text = ascii(value) if isinstance(value, str) else f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 2] + "…" + text[-1]


# --- ids ---------------------------------------------------------------------------------------


def id_problem(value: object) -> str | None:
    """Why ``value`` is not a safe id, or None when it is one."""
    if type(value) is str and _SAFE_ID.fullmatch(value):
        # the common case in one match; only a device name is left to rule out
        stem = value.split(".", 1)[0]
        if len(stem) not in (3, 4) or stem.lower() not in _WINDOWS_DEVICES:
            return None
    if not isinstance(value, str):
        return "is not a string"
    if not value:
        return "is empty"
    if len(value) > ID_MAX_LENGTH:
        return f"is longer than {ID_MAX_LENGTH} characters"
    if not UNRESERVED.fullmatch(value):
        return "holds a character other than letters, digits, '.', '_', '~' and '-'"
    if value.startswith("."):
        return "starts with '.' (not '.', '..' or a hidden name)"
    if value.split(".", 1)[0].lower() in _WINDOWS_DEVICES:
        return "is a device name on Windows"
    return None


def check_id(value: object, field: str = "id", what: str = "prediction id") -> str:
    """``value`` if it is a safe id (see the module docstring), else :class:`UnsafeValueError`
    (``'..' is not a prediction id: it starts with '.' ...``)."""
    problem = id_problem(value)
    if problem is not None:
        raise UnsafeValueError(field, value, f"is not a {what}: it {problem}")
    assert isinstance(value, str)
    return value


def confined_dir(root: Path | str, name: object, field: str = "prediction id") -> Path:
    """``root / name`` for a folder named after an id (``out/<prediction id>``), refused unless
    ``name`` is a safe id and the folder, resolved, lies strictly inside resolved ``root``
    (a symbolic link pointing elsewhere is refused too)."""
    safe = check_id(name, field)
    base = Path(root)
    target = base / safe
    real_base, real_target = base.resolve(), target.resolve()
    if real_target.parent != real_base:
        raise UnsafeValueError(
            field, name, f"resolves to {str(real_target)!r}, outside the folder {str(real_base)!r}"
        )
    return target


# --- URLs that carry the API token ------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Scheme, host (IDNA-encoded, lower case) and port (explicit, default filled in)."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        default = _DEFAULT_PORTS.get(self.scheme)
        return f"{self.scheme}://{self.host}" + ("" if self.port == default else f":{self.port}")


def origin_of(url: str | httpx.URL) -> Origin | None:
    """The origin httpx will connect to for ``url``; None for a URL that is not plain http(s)
    with a host (user info, other schemes, unparsable)."""
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    scheme = parsed.scheme
    if scheme not in _DEFAULT_PORTS or not parsed.host or parsed.userinfo:
        return None
    host = parsed.raw_host.decode("ascii", "replace").lower()  # exact: no trailing-dot folding
    if not host or any(c in host for c in "\\/@?#% "):
        return None
    return Origin(scheme, host, parsed.port or _DEFAULT_PORTS[scheme])


def trusted_origins(base_url: str) -> frozenset[Origin]:
    """Where the token may go for a client configured with ``base_url``: that origin, plus
    Replicate's stream host when the base is the official API."""
    base = origin_of(base_url)
    if base is None:
        return frozenset()
    found = {base}
    if base == origin_of(OFFICIAL_API):
        stream = origin_of(OFFICIAL_STREAM)
        assert stream is not None
        found.add(stream)
    return frozenset(found)


def token_allowed(url: str | httpx.URL, trusted: Iterable[Origin]) -> bool:
    """True when ``url`` goes exactly to one of the ``trusted`` origins (scheme, host, port)."""
    origin = origin_of(url)
    return origin is not None and origin in set(trusted)


def rebase_api_url(
    url: str, base_url: str, expected_path: str | re.Pattern[str], field: str = "next"
) -> str:
    """A server-given link to an API path (``next`` of a page) as a URL on ``base_url``.

    The link may sit on another host (routers hand out upstream links): only its query is
    kept, and the path from ``/v1/`` on must be exactly ``expected_path`` (or match it, for a
    pattern whose parameters are single safe segments). The result is
    ``{base_url}{path}[?query]``, so the token only goes to the configured base and only to the
    expected endpoint.
    """
    if not isinstance(url, str) or not url:
        raise UnsafeValueError(field, url, "is not a URL")
    if any(c in url for c in "\r\n\t\x00") or not url.isprintable():
        raise UnsafeValueError(field, url, "holds control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("", "http", "https"):
        raise UnsafeValueError(field, url, f"has scheme {parts.scheme!r} (only http and https)")
    at = parts.path.find("/v1/")
    path = parts.path[at:] if at >= 0 else ""
    if isinstance(expected_path, str):
        fits, shown_path = path == expected_path, expected_path
    else:  # a path with parameters: each a safe segment
        fits, shown_path = bool(expected_path.fullmatch(path)), expected_path.pattern
    if not fits:
        raise UnsafeValueError(field, url, f"does not point at {shown_path}")
    return base_url + path + (f"?{parts.query}" if parts.query else "")


# --- headers ------------------------------------------------------------------------------------


def check_header_name(name: object, field: str = "header name") -> str:
    if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
        raise UnsafeValueError(
            field, name, "is not a header name (letters, digits, !#$%&'*+.^_`|~-)"
        )
    return name


def check_header_value(value: object, field: str = "header") -> str:
    """``value`` if it can be sent as a header value as it is, else :class:`UnsafeValueError`."""
    if not isinstance(value, str):
        raise UnsafeValueError(field, value, "is not a string")
    if len(value) > HEADER_MAX_LENGTH:
        raise UnsafeValueError(field, value, f"is longer than {HEADER_MAX_LENGTH} characters")
    if not _HEADER_VALUE.fullmatch(value):
        raise UnsafeValueError(
            field, value, "holds a control or non-ASCII character (not sendable in a header)"
        )
    if value != value.strip(" \t"):
        raise UnsafeValueError(field, value, "has leading or trailing whitespace")
    return value
