"""Webhook signatures (the Standard Webhooks scheme Replicate uses): verify and sign.

Headers: ``webhook-id``, ``webhook-timestamp`` (epoch seconds) and ``webhook-signature``
(space-separated ``v1,<base64>`` entries; any one matching is enough). The signed content is
``"{id}.{timestamp}.{raw body}"``; the key is the base64-decoded part of the secret after
``whsec_``; the MAC is HMAC-SHA256. Signatures are compared in constant time and timestamps
outside ``tolerance`` seconds of now are rejected (replay protection).

No message produced here contains the secret or an expected signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import SecretStr, ValidationError

from replicate_typed.client.errors import WebhookVerificationError
from replicate_typed.client.validation import UnsafeValueError, check_id

if TYPE_CHECKING:
    from replicate_typed.types.api import Prediction

__all__ = [
    "DEFAULT_TOLERANCE",
    "HEADER_ID",
    "HEADER_SIGNATURE",
    "HEADER_TIMESTAMP",
    "WebhookRejected",
    "sign",
    "signed_headers",
    "verify",
    "verify_signature",
]

HEADER_ID = "webhook-id"
HEADER_TIMESTAMP = "webhook-timestamp"
HEADER_SIGNATURE = "webhook-signature"
DEFAULT_TOLERANCE = 300
SECRET_PREFIX = "whsec_"

Reason = Literal[
    "missing_header",
    "malformed_header",
    "bad_secret",
    "stale_timestamp",
    "future_timestamp",
    "no_matching_signature",
    "invalid_body",
]

# canonical decimal seconds: what the sender signed is exactly what the header says
_TIMESTAMP = re.compile(r"0|[1-9][0-9]{0,11}")
_MSG_ID = re.compile(r"[\x21-\x7e]{1,256}")  # visible ASCII, no whitespace
_VERSION = re.compile(r"[A-Za-z0-9]+")


class WebhookRejected(WebhookVerificationError):
    """A webhook failed verification; ``reason`` says why (the message never holds secrets)."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reason={self.reason!r}, message={str(self)!r})"


def _key(secret: str | SecretStr) -> bytes:
    if isinstance(secret, SecretStr):  # e.g. ``client.webhooks.default_secret().key``
        secret = secret.get_secret_value()
    if not isinstance(secret, str):
        raise WebhookRejected("bad_secret", "webhook secret must be a str like 'whsec_<base64>'")
    raw = secret
    if raw != raw.strip():
        # not stripped silently: the reference decodes such a secret into another key
        raise WebhookRejected(
            "bad_secret", "webhook secret has leading or trailing whitespace (value not shown)"
        )
    if raw.startswith(SECRET_PREFIX):
        raw = raw[len(SECRET_PREFIX) :]
    try:
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        # Say what is wrong without echoing any part of the secret.
        raise WebhookRejected(
            "bad_secret", "webhook secret is not in the 'whsec_<base64>' format"
        ) from None
    return key


def _mac(key: bytes, msg_id: str, timestamp: int | str, body: bytes) -> bytes:
    content = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(key, content, hashlib.sha256).digest()


def _as_bytes(body: bytes | bytearray | memoryview | str) -> bytes:
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def sign(secret: str | SecretStr, msg_id: str, timestamp: int, body: bytes | str) -> str:
    """The ``v1,<base64>`` signature of one delivery."""
    digest = _mac(_key(secret), msg_id, int(timestamp), _as_bytes(body))
    return "v1," + base64.b64encode(digest).decode("ascii")


def signed_headers(
    secret: str | SecretStr,
    body: bytes | str,
    *,
    msg_id: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """The three headers that deliver ``body`` signed with ``secret`` (id and time made up if
    not given). Used by the mock server to send webhooks."""
    msg_id = msg_id if msg_id is not None else f"msg_{secrets.token_urlsafe(18)}"
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return {
        HEADER_ID: msg_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: sign(secret, msg_id, timestamp, body),
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    """The one value of header ``name`` (any case), exactly as received. A header given twice
    (two keys differing in case, or a multi-valued mapping) is refused: which one was signed
    would be a guess."""
    values = [item for key, item in headers.items() if isinstance(key, str) and key.lower() == name]
    if not values:
        getter = getattr(headers, "get", None)
        found = getter(name) if getter is not None else None  # case-insensitive mappings
        values = [found] if found is not None else []
    if len(values) > 1:
        raise WebhookRejected("malformed_header", f"{name} header given {len(values)} times")
    if not values or not isinstance(values[0], str) or not values[0]:
        raise WebhookRejected("missing_header", f"missing {name} header")
    return values[0]


def _signatures(header: str) -> list[bytes]:
    """The ``v1`` signatures of a ``webhook-signature`` header: entries separated by single
    spaces, each ``<version>,<base64>`` (strict base64, padded). One malformed entry refuses
    the whole header, wherever it is."""
    found: list[bytes] = []
    for entry in header.split(" "):
        version, sep, encoded = entry.partition(",")
        if not (sep and _VERSION.fullmatch(version) and encoded):
            raise WebhookRejected(
                "malformed_header",
                f"{HEADER_SIGNATURE} header entry is not '<version>,<base64>' "
                "(entries are separated by single spaces)",
            )
        try:
            decoded = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise WebhookRejected(
                "malformed_header", f"{HEADER_SIGNATURE} header entry is not valid base64"
            ) from None
        if version == "v1":
            found.append(decoded)
    return found


def verify_signature(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | SecretStr,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bytes:
    """Check headers and signature only; returns the raw body bytes. See :func:`verify`."""
    key = _key(secret)
    msg_id = _header(headers, HEADER_ID)
    timestamp_text = _header(headers, HEADER_TIMESTAMP)
    signature_header = _header(headers, HEADER_SIGNATURE)
    if not _MSG_ID.fullmatch(msg_id):
        raise WebhookRejected(
            "malformed_header",
            f"{HEADER_ID} header is not 1-256 visible ASCII characters without whitespace",
        )
    if not _TIMESTAMP.fullmatch(timestamp_text):
        raise WebhookRejected(
            "malformed_header",
            f"{HEADER_TIMESTAMP} header is not an integer epoch time in canonical form",
        )
    timestamp = int(timestamp_text)
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise WebhookRejected(
            "stale_timestamp",
            f"webhook timestamp is {int(current - timestamp)} s old (tolerance {tolerance} s)",
        )
    if timestamp > current + tolerance:
        raise WebhookRejected(
            "future_timestamp",
            f"webhook timestamp is {int(timestamp - current)} s in the future "
            f"(tolerance {tolerance} s)",
        )
    candidates = _signatures(signature_header)
    raw = _as_bytes(body)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected("invalid_body", "webhook body is not UTF-8 text") from None
    expected = _mac(key, msg_id, timestamp_text, raw)
    matched = False
    for candidate in candidates:  # check every entry: the time taken does not reveal which matched
        matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise WebhookRejected(
            "no_matching_signature",
            f"no matching v1 signature among {len(candidates)} given",
        )
    return raw


def verify(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | SecretStr,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Prediction:
    """Verify a webhook delivery and return the prediction it carries.

    ``body`` must be the raw request body, exactly as received (not re-serialised JSON).
    Raises :class:`WebhookRejected` (a :class:`WebhookVerificationError`) with a ``reason``:
    a missing or malformed header, a secret not in ``whsec_<base64>`` form, a timestamp more
    than ``tolerance`` seconds from ``now`` (default: the current time), no matching
    signature, or a body that is not a prediction.
    """
    from replicate_typed.types.api import Prediction  # generated: imported when used

    raw = verify_signature(body, headers, secret, tolerance=tolerance, now=now)
    try:
        prediction = Prediction.model_validate_json(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<body>'}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)[:3]
        )
        raise WebhookRejected(
            "invalid_body", f"webhook body is not a prediction ({problems})"
        ) from None
    try:  # its id may end up in a URL or a folder name: the same rule as every id received
        check_id(prediction.id, "id")
    except UnsafeValueError as exc:
        raise WebhookRejected("invalid_body", f"webhook body refused: {exc}") from None
    return prediction
