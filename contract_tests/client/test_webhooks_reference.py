"""Webhook verification agrees with the reference implementation, ``standardwebhooks`` (PyPI),
used here as a test oracle only.

Hypothesis builds deliveries around a valid one -- ids, timestamps (tolerance edges, odd
spellings), signature headers (several ``v1,`` entries, other versions, whitespace, bad base64),
right and wrong secrets with and without ``whsec_``, bodies -- and both verify them at the same
instant. Every delivery the reference accepts, we accept, unless it falls under one of the
rules where we are stricter on purpose (docs/client.md, "Webhooks"); everything the reference rejects
-- including by crashing on a malformed header -- we reject.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from replicate_typed.client.webhooks import WebhookRejected, verify_signature

standardwebhooks = pytest.importorskip("standardwebhooks")
reference_module = pytest.importorskip("standardwebhooks.webhooks")

NOW = 1_732_000_000
KEY = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
OTHER_KEY = b"another key, not the one that signed"
B64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def mac(key: bytes, msg_id: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def reference_accepts(secret: str, body: bytes, headers: dict[str, str], now: float) -> bool:
    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> FrozenDatetime:  # type: ignore[override]
            return cls.fromtimestamp(now, tz=UTC)

    original = reference_module.datetime
    reference_module.datetime = FrozenDatetime
    try:
        standardwebhooks.Webhook(secret).verify(body, headers, json_parse=False)
    except Exception:  # noqa: BLE001 - the reference crashes on some malformed input: rejected
        return False
    finally:
        reference_module.datetime = original
    return True


def ours_accepts(secret: str, body: bytes, headers: dict[str, str], now: float) -> bool:
    try:
        verify_signature(body, headers, secret, now=now)
    except WebhookRejected:
        return False
    return True  # any other exception fails the test: ours never crashes


# --- where we are stricter on purpose (each listed in docs/client.md) -----------------------------


def stricter_rule(secret: str, headers: dict[str, str]) -> str | None:
    """Which documented rule of ours refuses this delivery, if any."""
    lowered: dict[str, list[str]] = {}
    for name, value in headers.items():
        lowered.setdefault(name.lower(), []).append(value)
    if any(len(v) > 1 for v in lowered.values()):
        return "a header given twice"
    raw = secret[len("whsec_") :] if secret.startswith("whsec_") else secret
    if secret != secret.strip() or not B64.fullmatch(raw) or len(raw.rstrip("=")) % 4 == 1:
        return "secret not strict base64"
    msg_id = (lowered.get("webhook-id") or [""])[0]
    if not re.fullmatch(r"[\x21-\x7e]{1,256}", msg_id):
        return "id not visible ASCII"
    timestamp = (lowered.get("webhook-timestamp") or [""])[0]
    if not re.fullmatch(r"0|[1-9][0-9]{0,11}", timestamp):
        return "timestamp not canonical"
    signature = (lowered.get("webhook-signature") or [""])[0]
    for entry in signature.split(" "):
        version, sep, encoded = entry.partition(",")
        if not (sep and re.fullmatch("[A-Za-z0-9]+", version) and encoded):
            return "malformed signature entry"
        if not B64.fullmatch(encoded) or len(encoded) % 4:
            return "signature entry not strict base64"
        try:
            base64.b64decode(encoded, validate=True)
        except ValueError:
            return "signature entry not strict base64"
    return None


# --- deliveries ----------------------------------------------------------------------------------

hostile_ids = st.one_of(
    st.sampled_from(["", " ", "msg 1", " msg_1", "msg_1 ", "msg_é", "msg\t1", "a.b", "x" * 257]),
    st.text(max_size=10),
)
hostile_offsets = st.sampled_from([299, 300, 301, -299, -300, -301, 10**6, -(10**6)])
hostile_spellings = st.sampled_from(
    ["0{}", "+{}", " {}", "{} ", "{}.0", "{}.9", "{}e0", "{:_}", "-{}", "", "x{}"]
)
hostile_secrets = st.sampled_from(
    [
        "{b64}",
        "whsec_{b64_nopad}",
        "{b64_nopad}",
        " whsec_{b64}",
        "whsec_{b64}\n",
        "whsec_{b64}!",
        "whsec_{b64_urlsafe}",
        "whsec_",
        "whsec_{other}",
        "{other}",
    ]
)
bodies = st.one_of(
    st.just(b'{"id": "abc", "status": "succeeded"}'),
    st.text(max_size=40).map(str.encode),
    st.binary(max_size=20),
)


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[str, bytes, dict[str, str], float]:
    """A valid delivery with, on each axis, a hostile variant one time in six."""

    def mostly(valid: Any, hostile: st.SearchStrategy[Any]) -> Any:
        return valid if draw(st.integers(0, 5)) else draw(hostile)

    now = NOW + draw(st.integers(0, 999_999)) / 1_000_000  # microsecond resolution, as datetime
    msg_id = mostly(draw(st.from_regex(r"msg_[A-Za-z0-9]{1,24}", fullmatch=True)), hostile_ids)
    ts_value = NOW + mostly(draw(st.integers(-290, 290)), hostile_offsets)
    ts_text = mostly("{}", hostile_spellings).format(ts_value)
    body = draw(bodies)
    signed_ts = mostly(ts_text, st.just(str(ts_value)))  # as sent, or as the reference parses it
    signer = mostly(KEY, st.just(OTHER_KEY))
    good = mac(signer, msg_id, signed_ts, body) if msg_id.isprintable() else "AAAA"
    bogus = base64.b64encode(b"\x00" * 32).decode()
    hostile_entries = st.sampled_from(
        [
            f"v1,{bogus}",
            f"v2,{good}",
            f"v1a,{bogus}",
            "v1",
            "v1,",
            ",x",
            f"v1,{good.rstrip('=')}",
            f"v1,{good}==",
            f"v1,{good[:10]}!{good[10:]}",
            f"v1,{good},x",
            "",
        ]
    )
    entries: list[str] = mostly([], st.lists(hostile_entries, min_size=1, max_size=3))
    if draw(st.integers(0, 5)):  # usually one correct entry, anywhere
        entries.insert(draw(st.integers(0, len(entries))), f"v1,{good}")
    separator = mostly(" ", st.sampled_from(["  ", "\t"]))
    signature = mostly("", st.sampled_from([" ", "\t"])) + separator.join(entries)
    key_b64 = base64.b64encode(KEY).decode()
    secret = mostly("whsec_{b64}", hostile_secrets).format(
        b64=key_b64,
        b64_nopad=key_b64.rstrip("="),
        b64_urlsafe=base64.urlsafe_b64encode(KEY + b"\xfb\xff").decode(),
        other=base64.b64encode(OTHER_KEY).decode(),
    )
    names = mostly(
        ("webhook-id", "webhook-timestamp", "webhook-signature"),
        st.just(("Webhook-Id", "WEBHOOK-TIMESTAMP", "Webhook-Signature")),
    )
    headers = dict(zip(names, (msg_id, ts_text, signature), strict=True))
    if not draw(st.integers(0, 11)):
        del headers[draw(st.sampled_from(names))]
    if not draw(st.integers(0, 11)):  # the same header twice, in another case
        headers["WEBHOOK-ID"] = "msg_other"
    return secret, body, headers, now


def _valid(
    ts: int, msg_id: str = "msg_1", body: bytes = b"{}"
) -> tuple[str, bytes, dict[str, str], float]:
    key_b64 = base64.b64encode(KEY).decode()
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": f"v1,{mac(KEY, msg_id, str(ts), body)}",
    }
    return f"whsec_{key_b64}", body, headers, float(NOW)


@given(deliveries())
@settings(max_examples=150, deadline=None)
@example(_valid(NOW - 300))  # the tolerance edges, at an exact instant
@example(_valid(NOW + 300))
@example(_valid(NOW - 301))
@example(_valid(NOW + 301))
def test_property_we_agree_with_the_reference_or_are_stricter_on_purpose(
    delivery: tuple[str, bytes, dict[str, str], float],
) -> None:
    secret, body, headers, now = delivery
    reference = reference_accepts(secret, body, headers, now)
    ours = ours_accepts(secret, body, headers, now)
    event(f"reference {'accepts' if reference else 'rejects'}, we {'accept' if ours else 'reject'}")
    if ours:
        assert reference, "we accept a delivery the reference rejects"
    elif reference:
        rule = stricter_rule(secret, headers)
        assert rule is not None, "we reject what the reference accepts"
        event(f"stricter on purpose: {rule}")


def test_the_oracle_and_ours_accept_a_valid_delivery_and_reject_its_tampering() -> None:
    secret, body, headers, now = _valid(NOW - 12)
    assert reference_accepts(secret, body, headers, now) and ours_accepts(
        secret, body, headers, now
    )
    tampered = body + b" "
    assert not reference_accepts(secret, tampered, headers, now)
    assert not ours_accepts(secret, tampered, headers, now)


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"webhook-timestamp": f"0{NOW}"}, "timestamp not canonical"),
        ({"webhook-timestamp": f"{NOW}.0"}, "timestamp not canonical"),
        ({"webhook-id": " msg_1"}, "id not visible ASCII"),
        ({"webhook-signature": "v1,{sig} garbage"}, "malformed signature entry"),
        ({"webhook-signature": "v1,{sig}  v1,{sig}"}, "malformed signature entry"),
        ({"webhook-signature": "v1,{sig_junk}"}, "signature entry not strict base64"),
    ],
)
def test_each_stricter_rule_is_a_real_difference(change: dict[str, str], rule: str) -> None:
    """Deliveries the reference accepts and we refuse on purpose (docs/client.md, "Webhooks")."""
    msg_id = change.get("webhook-id", "msg_1")
    ts_text = change.get("webhook-timestamp", str(NOW))
    signed_ts = str(int(float(ts_text)))
    sig = mac(KEY, msg_id, signed_ts, b"{}")
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": ts_text,
        "webhook-signature": change.get("webhook-signature", "v1,{sig}").format(
            sig=sig, sig_junk=sig[:5] + "!" + sig[5:]
        ),
    }
    secret = "whsec_" + base64.b64encode(KEY).decode()
    assert reference_accepts(secret, b"{}", headers, float(NOW))
    assert not ours_accepts(secret, b"{}", headers, float(NOW))
    assert stricter_rule(secret, headers) == rule
