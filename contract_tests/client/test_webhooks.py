"""lib/webhooks.py: Standard Webhooks verification and signing."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replicate_typed.client.errors import WebhookVerificationError
from replicate_typed.client.webhooks import (
    WebhookRejected,
    sign,
    signed_headers,
    verify,
    verify_signature,
)
from replicate_typed.types.api import Prediction

# The Standard Webhooks reference test vector (libraries/python/tests/test_webhooks.py of
# standard-webhooks/standard-webhooks); recomputed independently with hmac/hashlib.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET = "whsec_" + base64.b64encode(b"replicate-typed test key 0123456789").decode()
NOW = 1_732_000_000

PREDICTION = {
    "id": "ufawqhfynnddngldkgtslldrkq",
    "model": "stability-ai/sdxl",
    "version": "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc",
    "input": {"prompt": "a lighthouse"},
    "output": ["https://replicate.delivery/pbxt/abc/out-0.png"],
    "data_removed": False,
    "error": None,
    "status": "succeeded",
    "created_at": "2024-11-19T10:00:00.000Z",
    "urls": {
        "get": "https://api.replicate.com/v1/predictions/ufawqhfynnddngldkgtslldrkq",
        "cancel": "https://api.replicate.com/v1/predictions/ufawqhfynnddngldkgtslldrkq/cancel",
        "web": "https://replicate.com/p/ufawqhfynnddngldkgtslldrkq",
    },
}
BODY = json.dumps(PREDICTION).encode()


def delivery(body: bytes = BODY) -> dict[str, str]:
    return signed_headers(SECRET, body, msg_id="msg_1", timestamp=NOW)


def reason_of(body: bytes | str, headers: dict[str, str], secret: str = SECRET, **kw: float) -> str:
    with pytest.raises(WebhookRejected) as info:
        verify(body, headers, secret, now=kw.get("now", NOW))
    assert isinstance(info.value, WebhookVerificationError)
    return info.value.reason


def test_reference_vector_sign() -> None:
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY) == VECTOR_SIG
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TS, VECTOR_BODY.decode()) == VECTOR_SIG


def test_reference_vector_verifies_signature() -> None:
    headers = {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TS),
        "webhook-signature": VECTOR_SIG,
    }
    assert verify_signature(VECTOR_BODY, headers, VECTOR_SECRET, now=VECTOR_TS + 10) == VECTOR_BODY
    # the reference body is not a prediction: the signature passes, the body check does not
    assert reason_of(VECTOR_BODY, headers, VECTOR_SECRET, now=VECTOR_TS) == "invalid_body"
    # the reference one-bit-off signature is rejected
    headers["webhook-signature"] = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="
    with pytest.raises(WebhookRejected) as info:
        verify_signature(VECTOR_BODY, headers, VECTOR_SECRET, now=VECTOR_TS)
    assert info.value.reason == "no_matching_signature"


def test_valid_delivery_returns_prediction() -> None:
    prediction = verify(BODY, delivery(), SECRET, now=NOW)
    assert isinstance(prediction, Prediction)
    assert prediction.id == PREDICTION["id"]
    assert prediction.status == "succeeded"
    assert prediction.output == PREDICTION["output"]
    # str body, too
    assert verify(BODY.decode(), delivery(), SECRET, now=NOW).id == PREDICTION["id"]


def test_secret_without_prefix_accepted() -> None:
    assert verify(BODY, delivery(), SECRET.removeprefix("whsec_"), now=NOW).id == PREDICTION["id"]


def test_header_lookup_is_case_insensitive() -> None:
    headers = {k.title(): v for k, v in delivery().items()}
    assert "Webhook-Signature" in headers
    assert verify(BODY, headers, SECRET, now=NOW).id == PREDICTION["id"]
    assert verify(BODY, httpx.Headers(headers), SECRET, now=NOW).id == PREDICTION["id"]


def test_multiple_signatures_one_valid() -> None:
    headers = delivery()
    good = headers["webhook-signature"]
    bogus = "v1," + base64.b64encode(b"x" * 32).decode()
    headers["webhook-signature"] = f"{bogus} v2,{good[3:]} {good} {bogus}"
    assert verify(BODY, headers, SECRET, now=NOW).id == PREDICTION["id"]
    # entries are separated by single spaces; a malformed one refuses the header
    for malformed in (f"{good}  {bogus}", f" {good}", f"{good} v1,not-base64", f"{good} x"):
        headers["webhook-signature"] = malformed
        assert reason_of(BODY, headers) == "malformed_header"
    # a correct digest under another version tag does not count
    headers["webhook-signature"] = f"{bogus} v2,{good[3:]}"
    assert reason_of(BODY, headers) == "no_matching_signature"


def test_tampered_body_id_and_timestamp() -> None:
    headers = delivery()
    tampered = BODY.replace(b"a lighthouse", b"a lightHouse")
    assert reason_of(tampered, headers) == "no_matching_signature"
    assert reason_of(BODY + b" ", headers) == "no_matching_signature"
    assert reason_of(BODY, {**headers, "webhook-id": "msg_2"}) == "no_matching_signature"
    assert (
        reason_of(BODY, {**headers, "webhook-timestamp": str(NOW + 1)}) == "no_matching_signature"
    )


def test_wrong_secret() -> None:
    other = "whsec_" + base64.b64encode(b"another key entirely").decode()
    assert reason_of(BODY, delivery(), other) == "no_matching_signature"


@pytest.mark.parametrize(
    ("offset", "reason"), [(-301, "stale_timestamp"), (301, "future_timestamp")]
)
def test_stale_and_future_timestamps(offset: int, reason: str) -> None:
    headers = delivery()
    assert reason_of(BODY, headers, now=NOW - offset) == reason
    # exactly at the tolerance still passes
    edge = -300 if offset < 0 else 300
    assert verify(BODY, headers, SECRET, now=NOW - edge).id == PREDICTION["id"]
    assert verify(BODY, headers, SECRET, now=NOW - offset, tolerance=400).id == PREDICTION["id"]


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers(missing: str) -> None:
    headers = delivery()
    del headers[missing]
    with pytest.raises(WebhookRejected) as info:
        verify(BODY, headers, SECRET, now=NOW)
    assert info.value.reason == "missing_header"
    assert missing in str(info.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("webhook-timestamp", "hello"),
        ("webhook-timestamp", "1732000000.5"),
        ("webhook-timestamp", "-1732000000"),
        ("webhook-signature", "g0hM9SsE+OTPJTGt"),
        ("webhook-signature", "v1,not base64!!"),
        ("webhook-signature", "v1,"),
        ("webhook-id", "msg 1"),
    ],
)
def test_malformed_headers(name: str, value: str) -> None:
    assert reason_of(BODY, {**delivery(), name: value}) == "malformed_header"


@pytest.mark.parametrize("bad", ["whsec_", "whsec_!!!not-base64", "", "   "])
def test_bad_secret_format(bad: str) -> None:
    assert reason_of(BODY, delivery(), bad) == "bad_secret"
    with pytest.raises(WebhookRejected):
        sign(bad, "msg", NOW, BODY)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        # only the id is certain in a prediction (routers send subsets): without it, not one
        json.dumps({k: v for k, v in PREDICTION.items() if k != "id"}).encode(),
        json.dumps({**PREDICTION, "created_at": "yesterday"}).encode(),
    ],
)
def test_body_not_a_prediction(body: bytes) -> None:
    headers = signed_headers(SECRET, body, msg_id="msg_9", timestamp=NOW)
    assert reason_of(body, headers) == "invalid_body"


def test_messages_never_reveal_secret_or_expected_signature() -> None:
    key_part = SECRET.removeprefix("whsec_")
    expected = delivery(BODY.replace(b"lighthouse", b"castle"))["webhook-signature"]
    cases: list[tuple[bytes, dict[str, str], str]] = [
        (BODY, {**delivery(), "webhook-signature": "v1,AAAA"}, SECRET),
        (BODY.replace(b"lighthouse", b"castle"), {**delivery(), "webhook-id": "x"}, SECRET),
        (BODY, delivery(), SECRET[:-3] + "!!!"),
        (BODY, {}, SECRET),
        (b"{}", signed_headers(SECRET, b"{}", msg_id="m", timestamp=NOW), SECRET),
    ]
    for body, headers, secret in cases:
        with pytest.raises(WebhookVerificationError) as info:
            verify(body, headers, secret, now=NOW)
        for text in (str(info.value), repr(info.value), repr(info.value.args)):
            assert key_part not in text
            assert key_part[:12] not in text
            assert expected[3:] not in text
            assert expected[3:15] not in text
        assert info.value.__cause__ is None or key_part not in str(info.value.__cause__)


def test_signed_headers_defaults() -> None:
    a = signed_headers(SECRET, BODY)
    b = signed_headers(SECRET, BODY)
    assert a["webhook-id"].startswith("msg_") and a["webhook-id"] != b["webhook-id"]
    assert a["webhook-timestamp"].isdigit()
    assert verify(BODY, a, SECRET).id == PREDICTION["id"]  # real clock: fresh timestamp


@settings(max_examples=30, deadline=None)
@given(
    body=st.text(max_size=200).map(str.encode),
    msg_id=st.from_regex(r"msg_[A-Za-z0-9]{1,20}", fullmatch=True),
    key=st.binary(min_size=1, max_size=64),
)
def test_property_sign_then_verify_round_trips(body: bytes, msg_id: str, key: bytes) -> None:
    secret = "whsec_" + base64.b64encode(key).decode()
    headers = signed_headers(secret, body, msg_id=msg_id, timestamp=NOW)
    assert verify_signature(body, headers, secret, now=NOW) == body
    flipped = bytes([body[0] ^ 1]) + body[1:] if body else b"x"
    with pytest.raises(WebhookRejected):
        verify_signature(flipped, headers, secret, now=NOW)
