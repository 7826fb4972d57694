"""The pure request layer shared by both clients: URLs, validation, exact bodies, headers."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_tests.client.test_client_helpers import OFFICIAL, ROUTER, SDXL_VERSION
from replicate_typed.client import _requests as rq
from replicate_typed.client import errors
from replicate_typed.resources import _calls

hex64 = st.text("0123456789abcdef", min_size=64, max_size=64)
slug = st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,20}", fullmatch=True)


@pytest.mark.parametrize(
    ("given_url", "expected"),
    [
        (None, OFFICIAL),
        ("https://api.replicate.com/", OFFICIAL),
        ("https://router.example/replicate", ROUTER),
        ("https://router.example/replicate/", ROUTER),
        ("https://router.example/replicate/v1", ROUTER),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ],
)
def test_resolve_base_url(
    given_url: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REPLICATE_BASE_URL", raising=False)
    assert rq.resolve_base_url(given_url) == expected


@pytest.mark.parametrize("bad", ["router.example", "ftp://x", "https://", "https://h/r?x=1"])
def test_bad_base_urls(bad: str) -> None:
    with pytest.raises(errors.InputError, match="base_url"):
        rq.resolve_base_url(bad)


def test_token_from_env_and_control_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", " r8_env ")
    assert rq.resolve_api_token(None) == "r8_env"
    assert rq.resolve_api_token("given") == "given"
    with pytest.raises(errors.InputError) as info:
        rq.resolve_api_token("r8_abc\r\nX-Evil: 1")
    assert "r8_abc" not in str(info.value)
    monkeypatch.delenv("REPLICATE_API_TOKEN")
    assert rq.resolve_api_token(None) is None
    assert "Authorization" not in rq.auth_headers(None)


@pytest.mark.parametrize("base", [ROUTER, OFFICIAL])
def test_join_keeps_the_prefix(base: str) -> None:
    assert rq.join_url(base, "/v1/predictions") == f"{base}/v1/predictions"
    assert rq.join_url(base, "https://elsewhere/x") == "https://elsewhere/x"


@settings(max_examples=50, deadline=None)
@given(owner=slug, name=slug, vid=hex64)
def test_valid_versions(owner: str, name: str, vid: str) -> None:
    assert rq.validate_version(vid) == vid
    assert rq.validate_version(f"{owner}/{name}:{vid}") == f"{owner}/{name}:{vid}"
    assert rq.validate_version(f"{owner}/{name}") == f"{owner}/{name}"


@settings(max_examples=50, deadline=None)
@given(value=st.text(max_size=80))
def test_invalid_versions_are_named(value: str) -> None:
    try:
        rq.validate_version(value)
    except errors.InputError as exc:
        assert str(exc).startswith("version: ")
    else:  # accepted values have one of the three shapes
        name, _, vid = value.strip().partition(":")
        assert len(value.strip()) == 64 or "/" in name


def test_create_prediction_body_is_exact() -> None:
    spec = rq.spec_of(_calls.predictions_create(version=SDXL_VERSION, input={"a": 1}))
    assert (spec.method, spec.url, spec.kind) == ("POST", "/v1/predictions", "create")
    assert spec.json == {"version": SDXL_VERSION, "input": {"a": 1}}
    assert spec.headers == {} and spec.read_timeout is None
    spec = rq.spec_of(
        _calls.predictions_create(
            version=SDXL_VERSION,
            input={},
            webhook="https://h/x",
            webhook_events_filter=("logs",),
            wait=30,
            cancel_after="10m",
        )
    )
    assert spec.json == {
        "version": SDXL_VERSION,
        "input": {},
        "webhook": "https://h/x",
        "webhook_events_filter": ["logs"],
    }
    assert (
        spec.headers == {"Prefer": "wait=30", "Cancel-After": "10m"} and spec.read_timeout == 40.0
    )


def test_model_prediction_body_has_no_version() -> None:
    spec = rq.spec_of(
        _calls.models_predictions_create(
            "black-forest-labs/flux-schnell", input={"prompt": "x"}, wait=True
        )
    )
    assert spec.url == "/v1/models/black-forest-labs/flux-schnell/predictions"
    assert spec.json == {"input": {"prompt": "x"}}
    assert spec.headers == {"Prefer": "wait"}


def test_input_must_be_an_object() -> None:
    with pytest.raises(errors.InputError, match="input: a list is not a JSON object"):
        rq.spec_of(_calls.predictions_create(version=SDXL_VERSION, input=[1]))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "ok"),
    [("5s", True), ("30s", True), ("5m", True), ("1h30m", True), ("1h", True), ("1m5s", True),
     ("4s", False), ("0m", False), ("5", False), ("5 m", False), ("1m1h", False), ("-5s", False),
     ("5ms", False), ("", False), ("h", False)],
)  # fmt: skip
def test_cancel_after_format(value: str, ok: bool) -> None:
    if ok:
        assert rq.validate_cancel_after(value) == value
    else:
        with pytest.raises(errors.InputError, match="cancel_after"):
            rq.validate_cancel_after(value)


@pytest.mark.parametrize("base", [ROUTER, OFFICIAL])
def test_next_page_stays_on_the_base(base: str) -> None:
    same = rq.next_page(f"{base}/v1/predictions?cursor=abc", base)
    assert same.url == f"{base}/v1/predictions?cursor=abc"
    upstream = rq.next_page("https://api.replicate.com/v1/predictions?cursor=abc", base)
    assert upstream.url == f"{base}/v1/predictions?cursor=abc"
    other = rq.next_page("https://evil.example/steal/v1/predictions?cursor=abc", base)
    assert other.url == f"{base}/v1/predictions?cursor=abc"  # the token never leaves the base
    with pytest.raises(errors.APIResponseValidationError, match="does not point at"):
        rq.next_page("https://evil.example/other", base)
    # only the list endpoint: a link elsewhere on the API (the webhook secret ...) is refused
    for path in ("/v1/webhooks/default/secret", "/v1/predictions/x/cancel", "/v1/predictions/../x"):
        with pytest.raises(errors.APIResponseValidationError, match="does not point at"):
            rq.next_page(f"{base}{path}?cursor=abc", base)


def test_list_filters() -> None:
    spec = rq.spec_of(_calls.predictions_list(created_after="2025-01-01T00:00:00Z"))
    assert spec.params == {"created_after": "2025-01-01T00:00:00Z"}
    assert rq.spec_of(_calls.predictions_list()).params is None
    with pytest.raises(errors.InputError, match="created_before: 'yesterday'"):
        rq.spec_of(_calls.predictions_list(created_before="yesterday"))
    with pytest.raises(errors.InputError, match="no time zone"):
        rq.spec_of(_calls.predictions_list(created_after=datetime(2025, 1, 1)))


def test_get_cancel_and_models_paths() -> None:
    assert rq.spec_of(_calls.predictions_get("abc")).url == "/v1/predictions/abc"
    cancel = rq.spec_of(_calls.predictions_cancel("abc"))
    assert (cancel.method, cancel.url, cancel.kind) == (
        "POST",
        "/v1/predictions/abc/cancel",
        "cancel",
    )
    assert rq.spec_of(_calls.models_get("a/b")).url == "/v1/models/a/b"
    version = rq.spec_of(_calls.models_versions_get("a/b", SDXL_VERSION))
    assert version.url == f"/v1/models/a/b/versions/{SDXL_VERSION}"
    secret = rq.spec_of(_calls.webhooks_default_secret_get())
    assert secret.url == "/v1/webhooks/default/secret"
    with pytest.raises(errors.InputError, match="version_id: 'abc' is not a 64-hex version id"):
        rq.spec_of(_calls.models_versions_get("a/b", "abc"))
    with pytest.raises(errors.InputError, match="deployment: 'a' is not owner/name"):
        rq.spec_of(_calls.deployments_get("a"))


def test_create_file_spec() -> None:
    spec = rq.spec_of(
        _calls.files_create(content=b"x", filename="a.txt", type="text/plain", metadata={"k": 1})
    )
    assert spec.files == {"content": ("a.txt", b"x", "text/plain")}
    assert spec.data == {"filename": "a.txt", "type": "text/plain", "metadata": '{"k": 1}'}
    assert spec.kind == "create"
    with pytest.raises(errors.InputError, match="metadata"):
        rq.spec_of(
            _calls.files_create(content=b"x", filename="a", type="t", metadata={"k": object()})
        )


def test_snippet_is_short_and_single_line() -> None:
    assert rq.snippet_of(b"a\n\n  b\tc") == "a b c"
    assert len(rq.snippet_of(b"x" * 1000)) == 200
    assert rq.snippet_of(b"\xff\xfe") == "\ufffd\ufffd"
