"""``files.create`` bodies, parsed with python-multipart: whatever httpx encodes comes back part
for part (property test); a cut or boundary-less body or a non-UTF-8 field is a 422 naming the field;
a ``type`` that cannot be a header is kept but never served as one."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.mock.conftest import Env
from replicate_typed.mock.files import MalformedMultipart, parse_multipart


def _encode(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[str, bytes]:
    request = httpx.Request("POST", "https://x.test/v1/files", data=fields, files=files)
    return request.headers["content-type"], request.read()


_NAME = st.text(
    st.characters(min_codepoint=0x21, max_codepoint=0x7E, blacklist_characters='"\\'),
    min_size=1,
    max_size=8,
)
_FILENAME = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\/'),
    min_size=1,
    max_size=12,
)
_CONTENT = st.one_of(
    st.binary(max_size=300),
    # bytes that look like delimiters: CRLF, dashes, a boundary-ish run
    st.lists(
        st.sampled_from([b"\r\n", b"--", b"\r\n--", b"-", b"\r", b"\n", b"x"]), max_size=40
    ).map(b"".join),
)


@settings(max_examples=150, deadline=None)
@given(
    fields=st.dictionaries(_NAME, st.text(max_size=40), max_size=3),
    files=st.dictionaries(
        _NAME,
        st.tuples(_FILENAME, _CONTENT, st.sampled_from(["image/png", "application/octet-stream"])),
        min_size=1,
        max_size=3,
    ),
)
def test_parses_what_httpx_encodes(
    fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]
) -> None:
    fields = {k: v for k, v in fields.items() if k not in files}
    content_type, body = _encode(fields, files)
    parts = parse_multipart(content_type, body)
    assert set(parts) == set(fields) | set(files)
    for name, value in fields.items():
        assert parts[name].data == value.encode()
        assert parts[name].filename is None
    for name, (filename, content, ctype) in files.items():
        assert parts[name].data == content
        assert parts[name].filename == filename
        assert parts[name].content_type == ctype


def test_a_large_part_survives_intact() -> None:
    content = (b"\r\n--not-the-boundary\r\n" + bytes(range(256))) * 20_000  # ~5.5 MB
    content_type, body = _encode({"filename": "big.bin"}, {"content": ("b", content, "a/b")})
    parts = parse_multipart(content_type, body)
    assert parts["content"].data == content
    assert parts["filename"].data == b"big.bin"


def test_a_cut_body_or_a_missing_boundary_is_malformed() -> None:
    content_type, body = _encode({}, {"content": ("a", b"hello", "text/plain")})
    with pytest.raises(MalformedMultipart, match="closing boundary"):
        parse_multipart(content_type, body[:-10])
    with pytest.raises(MalformedMultipart, match="no boundary"):
        parse_multipart("multipart/form-data", body)


def _post(env: Env, body: bytes, content_type: str) -> httpx.Response:
    return env.client.post("/v1/files", content=body, headers={"content-type": content_type})


def _invalid_fields(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    return {f["field"]: f["description"] for f in response.json()["invalid_fields"]}


def test_files_create_refuses_a_cut_body(env: Env) -> None:
    content_type, body = _encode({}, {"content": ("a", b"hello", "text/plain")})
    assert "closing boundary" in _invalid_fields(_post(env, body[:-10], content_type))["content"]
    assert env.backend.stats()["uploads"] == 0


@pytest.mark.parametrize("given", ["text/plain\r\nx-injected: 1", "a/b\x00", "\x08", "tëxt/plain"])
def test_a_type_that_cannot_be_a_header_is_kept_but_not_served_as_one(env: Env, given: str) -> None:
    """The spec allows any string for ``type``: the file's JSON keeps it as given; the download's
    ``Content-Type`` header falls back to application/octet-stream."""
    content_type, body = _encode({"type": given}, {"content": ("a", b"x", "text/plain")})
    created = _post(env, body, content_type)
    assert created.status_code == 201, created.text
    assert created.json()["content_type"] == given.strip()
    download = env.client.get(f"/v1/files/{created.json()['id']}/download")
    assert download.status_code == 200 and download.content == b"x"
    assert download.headers["content-type"] == "application/octet-stream"
    assert "x-injected" not in download.headers


@pytest.mark.parametrize(
    ("given", "served"),
    [
        ("0", "application/octet-stream"),
        ("text", "application/octet-stream"),
        ("image/png", "image/png"),
        ("text/plain; charset=utf-8", "text/plain; charset=utf-8"),
    ],
)
def test_a_media_type_is_served_as_given_anything_else_as_octet_stream(
    env: Env, given: str, served: str
) -> None:
    content_type, body = _encode({"type": given}, {"content": ("a", b"x", "text/plain")})
    created = _post(env, body, content_type)
    assert created.status_code == 201 and created.json()["content_type"] == given
    download = env.client.get(f"/v1/files/{created.json()['id']}/download")
    assert download.headers["content-type"] == served


def test_files_create_refuses_fields_that_are_not_utf8(env: Env) -> None:
    for name in ("filename", "type"):
        content_type, body = _encode({}, {"content": ("a", b"x", "text/plain")})
        boundary = content_type.split("boundary=")[1].encode()
        extra = (
            b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + name.encode()
            + b'"\r\n\r\n\xff\xfe\r\n'
        )  # fmt: skip
        assert set(_invalid_fields(_post(env, extra + body, content_type))) == {name}


def test_files_create_ignores_a_part_content_type_that_cannot_be_a_header(env: Env) -> None:
    content_type, body = _encode({}, {"content": ("a", b"x", "text/plain")})
    body = body.replace(b"Content-Type: text/plain", b"Content-Type: text\x01plain")
    response = _post(env, body, content_type)
    assert response.status_code == 201, response.text
    assert response.json()["content_type"] == "application/octet-stream"
    download = env.client.get(f"/v1/files/{response.json()['id']}/download")
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.content == b"x"


_TOKEN_CHARS = "!#$%&'*+.^_`|~-" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _is_media_type(value: str) -> bool:
    """RFC 9110 ``type "/" subtype *( OWS ";" OWS parameter )``, checked by hand (not the
    mock's regex): tokens of tchar, parameters printable ASCII."""
    head, _, params = value.partition(";")
    kind, slash, sub = head.rstrip(" \t").partition("/")
    tokens_ok = bool(kind) and bool(sub) and all(c in _TOKEN_CHARS for c in kind + sub)
    return bool(slash) and tokens_ok and all(" " <= c <= "~" for c in params)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(given_type=st.text(max_size=30) | st.sampled_from(["image/png", "a/b; q=1", "a/b\r\nx: 1"]))
def test_a_download_is_served_as_a_media_type_whatever_type_was_given(given_type: str) -> None:
    from replicate_typed.mock import MockBackend, MockConfig

    backend = MockBackend(MockConfig(api_tokens=("t",)))
    auth = {"authorization": "Bearer t"}
    content_type, body = _encode({"type": given_type}, {"content": ("a", b"x", "text/plain")})
    created = backend.handle("POST", "/v1/files", {**auth, "content-type": content_type}, {}, body)
    if created.status != 201:  # a type the multipart form cannot carry: refused, nothing stored
        assert created.status in (400, 422)
        return
    fid, stored = created.json()["id"], created.json()["content_type"]  # the part's if empty
    download = backend.handle("GET", f"/v1/files/{fid}/download", auth, {}, b"")
    served = download.headers["content-type"]
    assert served == "application/octet-stream" or (served == stored and _is_media_type(served))
    assert _is_media_type(stored) <= (served == stored)  # a media type is never replaced
    backend.close()
