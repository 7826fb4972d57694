"""client/validation.py: the rules for values that reach a file path, a URL or a header.

Property tests with hostile ids (dot segments, separators of every kind, NUL, unicode slashes,
device names, very long), hostile URLs (other host, user info, port or scheme change, IDNA and
look-alike tricks) and hostile header values: nothing escapes the output folder, the token goes
to no origin but the trusted ones, and no header value is sent that could split a header.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replicate_typed.client import Client, errors
from replicate_typed.client import _requests as rq
from replicate_typed.client.validation import (
    ID_MAX_LENGTH,
    Origin,
    UnsafeValueError,
    check_header_value,
    check_id,
    confined_dir,
    id_problem,
    origin_of,
    rebase_api_url,
    token_allowed,
    trusted_origins,
)
from replicate_typed.resources import _calls
from replicate_typed.types.api import Prediction

TOKEN = "r8_VALIDATION_token_0123456789abcdefXYZ"
OFFICIAL = "https://api.replicate.com"
ROUTER = "http://127.0.0.1:8000/replicate"

# --- hostile ids -----------------------------------------------------------------------------

HOSTILE_IDS = [
    "",
    ".",
    "..",
    "../escaped",
    "../../escaped",
    "..\\..\\escaped",
    "/etc/passwd",
    "/abs",
    "C:\\Windows",
    "c:",
    "a/b",
    "a\\b",
    "a\x00b",
    "\x00",
    "a\nb",
    "a b",
    "\u2215etc",  # DIVISION SLASH
    "\u2044etc",  # FRACTION SLASH
    "\uff0fetc",  # FULLWIDTH SOLIDUS
    "\uff0e\uff0e",  # FULLWIDTH FULL STOPs
    "%2e%2e",
    "%2F",
    ".hidden",
    "...",
    "con",
    "NUL",
    "aux.txt",
    "COM1",
    "lpt9.log",
    "x" * (ID_MAX_LENGTH + 1),
    "é",
    "a?b",
    "a#b",
]
SAFE_IDS = ["gm3qorzdhgbfurvjtvhg6dckhu", "dp-0123abcd", "a", "x" * ID_MAX_LENGTH, "a.b", "a..b"]

id_pieces = st.sampled_from(
    ["..", ".", "/", "\\", "\x00", "a", "Z", "0", "\u2215", "\uff0f", "%2e", "%2f", "~", "-", "_"]
    + ["con", "nul", ":", " ", "\n", "é"]
)
hostile_id = st.one_of(
    st.sampled_from(HOSTILE_IDS),
    st.lists(id_pieces, min_size=1, max_size=12).map("".join),
    st.text(max_size=40),
    st.text(alphabet="abc./\\", min_size=ID_MAX_LENGTH - 2, max_size=ID_MAX_LENGTH + 3),
)


@pytest.mark.parametrize("value", HOSTILE_IDS)
def test_hostile_ids_are_refused_naming_field_value_and_rule(value: str) -> None:
    with pytest.raises(UnsafeValueError) as caught:
        check_id(value, "prediction id")
    message = str(caught.value)
    assert message.startswith("prediction id: ") and "is not a prediction id" in message
    assert "\x00" not in message and "\n" not in message  # shown escaped


@pytest.mark.parametrize("value", SAFE_IDS)
def test_safe_ids_pass(value: str) -> None:
    assert check_id(value) == value


class _Text(str):
    """A str subclass: :func:`id_problem` takes its rule-by-rule path, not the one-match one."""


@given(
    st.one_of(hostile_id, st.sampled_from(SAFE_IDS), st.sampled_from(["CON.txt", "com1", "Lpt9.a"]))
)
@settings(max_examples=300)
def test_property_the_fast_path_agrees_with_the_rules_one_by_one(value: str) -> None:
    assert id_problem(value) == id_problem(_Text(value))


@given(st.one_of(hostile_id, st.text()))
@settings(max_examples=300)
def test_property_path_segments_are_quoted_as_quote_does(value: str) -> None:
    assert rq._segment(value) == quote(value, safe="")


@given(hostile_id)
@settings(max_examples=150)
def test_property_an_accepted_id_is_one_url_segment_and_one_file_name(value: str) -> None:
    try:
        check_id(value)
    except UnsafeValueError:
        return
    assert quote(value, safe="") == value  # sent as it is, nothing to escape
    url = httpx.URL(f"https://h.example/v1/predictions/{value}")
    assert url.path == f"/v1/predictions/{value}"  # no dot segment httpx would fold away
    assert os.sep not in value and "/" not in value and "\\" not in value
    assert Path(value).name == value and value not in (".", "..")


@given(hostile_id)
@settings(max_examples=150)
def test_property_nothing_escapes_the_output_folder(value: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:  # a fresh sandbox for every example
        sandbox = Path(tmp)
        out = sandbox / "out"
        out.mkdir()
        try:
            folder = confined_dir(out, value)
        except UnsafeValueError as exc:
            assert exc.field == "prediction id"
            assert set(sandbox.rglob("*")) == {out}
            return
        assert folder.resolve().parent == out.resolve()
        folder.mkdir()
        (folder / "output.json").write_text("{}")
        created = set(sandbox.rglob("*")) - {out}
        assert created == {folder, folder / "output.json"}
        assert all(out.resolve() in p.resolve().parents for p in created)


def test_a_symlink_inside_the_output_folder_pointing_out_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "abc123").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(UnsafeValueError, match="outside the folder"):
        confined_dir(out, "abc123")


def test_ids_sent_by_the_caller_use_the_same_rule() -> None:
    for value in ("..", "a/b", "con", "x" * 201):
        with pytest.raises(errors.InputError, match="id: .* is not a prediction id"):
            rq.spec_of(_calls.predictions_get(value))
    assert rq.spec_of(_calls.predictions_get("abc")).url == "/v1/predictions/abc"


# --- URLs that receive the token -------------------------------------------------------------

hosts = st.sampled_from(
    [
        "api.replicate.com",
        "API.Replicate.COM",
        "api.replicate.com.",
        "stream.replicate.com",
        "api.replicate.com.evil.example",
        "evil.example",
        "apireplicate.com",
        "xn--pi-7ka.replicate.com",
        "\u0430pi.replicate.com",  # Cyrillic a
        "api\u3002replicate\u3002com",  # ideographic full stops
        "api.replicate.co",
        "127.0.0.1",
        "localhost",
        "127.0.0.2",
        "[::1]",
        "evil.example#@api.replicate.com",
        "api.replicate.com@evil.example",
    ]
)
schemes = st.sampled_from(["https", "http", "HTTPS", "ftp", "ws", "wss", ""])
ports = st.sampled_from(["", ":443", ":80", ":8000", ":8443", ":0443", ":"])
userinfos = st.sampled_from(["", "user@", "user:pass@", "api.replicate.com@", ":@"])
paths = st.sampled_from(["/v1/predictions/abc/stream", "/replicate/v1/x", "", "/..//x", "?x=1"])


@st.composite
def hostile_urls(draw: st.DrawFn) -> str:
    scheme = draw(schemes)
    prefix = f"{scheme}://" if scheme else draw(st.sampled_from(["//", "", "https:/"]))
    return prefix + draw(userinfos) + draw(hosts) + draw(ports) + draw(paths)


def _sent_origin(url: httpx.URL) -> tuple[str, str, int]:
    return (url.scheme, url.host, url.port or {"http": 80, "https": 443}[url.scheme])


@pytest.mark.parametrize(
    ("url", "base", "allowed"),
    [
        ("https://api.replicate.com/v1/predictions/x/stream", OFFICIAL, True),
        ("https://stream.replicate.com/v1/files/abc", OFFICIAL, True),
        ("https://stream.replicate.com:443/v1/files/abc", OFFICIAL, True),
        ("https://API.REPLICATE.COM/v1/x", OFFICIAL, True),
        ("http://stream.replicate.com/v1/files/abc", OFFICIAL, False),  # scheme change
        ("https://stream.replicate.com:8443/v1/files/abc", OFFICIAL, False),  # port change
        ("https://other.replicate.com/v1/files/abc", OFFICIAL, False),  # not the stream host
        ("https://user:pw@api.replicate.com/v1/x", OFFICIAL, False),  # user info
        ("https://api.replicate.com.evil.example/v1/x", OFFICIAL, False),
        ("https://\u0430pi.replicate.com/v1/x", OFFICIAL, False),  # IDNA look-alike
        ("https://stream.replicate.com/v1/files/abc", ROUTER, False),  # not for a router
        ("http://127.0.0.1:8000/anything", ROUTER, True),
        ("http://127.0.0.1/anything", ROUTER, False),
        ("https://127.0.0.1:8000/anything", ROUTER, False),
        ("data:text/plain,x", ROUTER, False),
        ("not a url", ROUTER, False),
    ],
)
def test_token_goes_only_to_the_exact_trusted_origin(url: str, base: str, allowed: bool) -> None:
    assert token_allowed(url, trusted_origins(base)) is allowed


def test_trusted_origins() -> None:
    assert trusted_origins(OFFICIAL) == {
        Origin("https", "api.replicate.com", 443),
        Origin("https", "stream.replicate.com", 443),
    }
    assert trusted_origins(ROUTER) == {Origin("http", "127.0.0.1", 8000)}
    assert str(Origin("https", "h.example", 443)) == "https://h.example"
    assert origin_of("https://u@h.example/") is None


def _stream_prediction(url: str) -> Prediction:
    return Prediction.model_validate(
        {
            "id": "abc",
            "model": "o/m",
            "version": "v",
            "input": {},
            "output": None,
            "error": None,
            "data_removed": False,
            "status": "processing",
            "created_at": "2025-01-15T10:03:39Z",
            "urls": {"get": "", "cancel": "", "web": "", "stream": url},
        }
    )


@pytest.mark.parametrize("base", [OFFICIAL, ROUTER])
@given(url=hostile_urls())
@settings(max_examples=150, deadline=None)
def test_property_the_client_sends_the_token_to_no_other_origin(base: str, url: str) -> None:
    """Whatever stream URL a server hands out, a request that carries the token goes to a
    trusted origin -- judged by where httpx actually sent it."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, content=b"event: done\ndata: {}\n\n"
        )

    trusted = {(o.scheme, o.host, o.port) for o in trusted_origins(base)}
    with Client(api_token=TOKEN, base_url=base, transport=httpx.MockTransport(handler)) as client:
        try:
            list(client.predictions.stream(_stream_prediction(url)))
        except (errors.ReplicateError, httpx.HTTPError, httpx.InvalidURL):
            pass
    for request in sent:
        if TOKEN in request.headers.get("authorization", ""):
            assert _sent_origin(request.url) in trusted, request.url


# --- next links --------------------------------------------------------------------------------


@given(
    st.one_of(
        hostile_urls().map(lambda u: u.split("?")[0] + "/v1/predictions?cursor=c"),
        hostile_urls(),
        st.text(max_size=60),
        st.sampled_from(
            [
                "https://evil.example/v1/predictions?cursor=a",
                "https://api.replicate.com/v1/webhooks/default/secret",
                "https://api.replicate.com/v1/predictions/../webhooks/default/secret",
                "https://api.replicate.com/v1/predictions%2F..%2Fwebhooks",
                "javascript:alert(1)//v1/predictions",
                "https://api.replicate.com/v1/predictions?cursor=a\r\nX-Evil: 1",
            ]
        ),
    )
)
@settings(max_examples=200)
def test_property_next_links_stay_on_the_base_and_the_list_path(next_url: str) -> None:
    for base in (OFFICIAL, ROUTER):
        try:
            url = rebase_api_url(next_url, base, "/v1/predictions")
        except UnsafeValueError:
            continue
        parsed = httpx.URL(url)
        assert _sent_origin(parsed) == _sent_origin(httpx.URL(base))
        assert parsed.path == httpx.URL(base).path.rstrip("/") + "/v1/predictions"


# --- header values ----------------------------------------------------------------------------


header_text = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
    st.lists(
        st.sampled_from(["a", " ", "\t", "\r", "\n", "\x00", "\x7f", "é", "\u2028", ":", "Z"]),
        max_size=12,
    ).map("".join),
    st.text(max_size=30),
)


@given(header_text)
@settings(max_examples=150)
def test_property_an_accepted_header_value_is_sent_exactly(value: str) -> None:
    sendable = all(c == "\t" or 0x20 <= ord(c) <= 0x7E for c in value)
    try:
        check_header_value(value)
    except UnsafeValueError:
        assert not sendable or value != value.strip(" \t")
        return
    assert sendable and value == value.strip(" \t")
    request = httpx.Request("GET", "https://h.example/", headers={"X-Value": value})
    assert request.headers["x-value"] == value


@pytest.mark.parametrize(
    "value", ["a\r\nX-Evil: 1", "a\nb", "a\x00", "é", " lead", "trail ", "x" * 9000, "\x7f"]
)
def test_hostile_header_values_are_refused(value: str) -> None:
    with pytest.raises(UnsafeValueError):
        check_header_value(value, "Last-Event-ID")


@pytest.mark.parametrize("token", ["r8_abc\r\nX-Evil: 1", "r8_é", "r8_a\x00"])
def test_a_token_that_cannot_be_a_header_is_refused_without_showing_it(token: str) -> None:
    with pytest.raises(errors.InputError) as caught:
        Client(api_token=token, base_url=ROUTER)
    assert "r8_" not in str(caught.value) and "value not shown" in str(caught.value)
