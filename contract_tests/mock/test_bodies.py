"""Request bodies at the mock's boundary: strict JSON in, strict JSON out, limits.

Every answer to a hostile body is a success or problem details (``application/problem+json``,
``status`` matching the HTTP status), always strict JSON (RFC 8259: no ``NaN``/``Infinity``),
never a plain-text 500. The same checks run over real HTTP (the Starlette app, which reads at
most the route's limit) and through respx (the backend alone).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.mock.conftest import AUTH, SDXL_VERSION, Env
from replicate_typed.mock import FakeClock, MockBackend, MockConfig, MockServer
from replicate_typed.mock.bodies import InvalidJSON, loads_strict
from replicate_typed.mock.messages import MockResponse, dumps

PROBLEM = "application/problem+json"


def _no_constant(name: str) -> Any:
    raise ValueError(f"non-strict JSON constant {name}")


def strict_json(body: bytes) -> Any:
    """What a strict parser (JavaScript's ``JSON.parse``) accepts, in Python."""
    return json.loads(body.decode("utf-8"), parse_constant=_no_constant)


def assert_well_formed(status: int, headers: httpx.Headers | dict[str, str], body: bytes) -> Any:
    """A success with strict JSON, or problem details with the same status; never a 500."""
    ctype = headers.get("content-type", "")
    assert status != 500, body[:300]
    if status >= 400:
        assert ctype == PROBLEM, (status, ctype, body[:300])
        problem = strict_json(body)
        assert problem["status"] == status
        assert isinstance(problem["title"], str) and isinstance(problem["detail"], str)
        return problem
    if ctype.startswith("application/json"):
        return strict_json(body)
    return None


def post_raw(env: Env, path: str, body: bytes, ctype: str = "application/json") -> httpx.Response:
    return env.client.post(path, content=body, headers={"content-type": ctype})


# --- strict JSON in ------------------------------------------------------------------------------

NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"]


@pytest.mark.parametrize("token", NON_FINITE)
def test_non_finite_numbers_in_a_create_are_400_and_create_nothing(env: Env, token: str) -> None:
    body = f'{{"version": "{SDXL_VERSION}", "input": {{"prompt": "x", "guidance_scale": {token}}}}}'
    response = post_raw(env, "/v1/predictions", body.encode())
    assert response.status_code == 400, response.text
    problem = assert_well_formed(response.status_code, response.headers, response.content)
    assert "NaN, Infinity and -Infinity are not JSON numbers" in problem["detail"]
    assert env.backend.stats()["creates"] == 0


@pytest.mark.parametrize("depth", [65, 201, 100_000])
def test_deep_nesting_is_400_problem_details(env: Env, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    body = f'{{"version": "{SDXL_VERSION}", "input": {{"prompt": {nested}}}}}'
    response = post_raw(env, "/v1/predictions", body.encode())
    assert response.status_code == 400, response.text[:300]
    problem = assert_well_formed(response.status_code, response.headers, response.content)
    assert "nested deeper than 64 levels" in problem["detail"]


def test_the_depth_limit_is_configurable(make_env: Callable[..., Env]) -> None:
    env = make_env(max_json_depth=4)
    ok = f'{{"version": "{SDXL_VERSION}", "input": {{"prompt": "x", "a": [[1]]}}}}'
    deep = f'{{"version": "{SDXL_VERSION}", "input": {{"prompt": "x", "a": [[[1]]]}}}}'
    assert post_raw(env, "/v1/predictions", ok.encode()).status_code == 201
    response = post_raw(env, "/v1/predictions", deep.encode())
    assert response.status_code == 400 and "deeper than 4 levels" in response.json()["detail"]
    with pytest.raises(ValueError, match="max_json_depth"):
        MockConfig(max_json_depth=201)


@pytest.mark.parametrize(
    "body",
    [b"{", b"\xff\xfe{}", b'{"a": 1,}', b'"\\ud800"', b"1" * 5000, b"{} {}"],
    ids=["cut", "not-utf8", "trailing-comma", "lone-surrogate", "huge-int", "two-documents"],
)
def test_malformed_json_is_400(env: Env, body: bytes) -> None:
    response = post_raw(env, "/v1/predictions", body)
    assert response.status_code == 400, response.text
    assert_well_formed(response.status_code, response.headers, response.content)


@pytest.mark.parametrize(
    ("path", "body"),
    [("/_mock/clock/advance", b'{"seconds": NaN}'), ("/_mock/faults", b'{"rate_5xx": Infinity}')],
)
def test_admin_endpoints_read_bodies_the_same_way(env: Env, path: str, body: bytes) -> None:
    response = post_raw(env, path, body)
    assert response.status_code == 400
    assert_well_formed(response.status_code, response.headers, response.content)


def test_upload_metadata_must_be_strict_json(env: Env) -> None:
    response = env.client.post(
        "/v1/files",
        files={"content": ("a.txt", b"abc", "text/plain")},
        data={"metadata": '{"n": NaN}'},
    )
    assert response.status_code == 422
    problem = assert_well_formed(response.status_code, response.headers, response.content)
    assert problem["invalid_fields"][0]["field"] == "metadata"
    assert "NaN" in problem["detail"]


def test_loads_strict_accepts_what_strict_parsers_accept() -> None:
    text = '{"a": [1, -0.5, 1e308, 123456789012345678901234567890], "b": "\\u00e9", "c": null}'
    assert loads_strict(text) == json.loads(text)
    for bad in ("NaN", "[1e309]", "[" * 300 + "]" * 300):
        with pytest.raises(InvalidJSON):
            loads_strict(bad)


# --- strict JSON out -----------------------------------------------------------------------------


def test_the_mock_never_writes_non_finite_numbers() -> None:
    for value in (math.nan, math.inf, {"a": [-math.inf]}):
        with pytest.raises(ValueError, match="not JSON compliant"):
            dumps(value)


def test_a_failing_handler_is_a_500_with_problem_details(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(req: Any) -> MockResponse:
        raise RuntimeError("a bug")

    monkeypatch.setitem(env.backend._handlers, "predictions.get", broken)
    response = env.client.get("/v1/predictions/abc")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert response.json() == {
        "title": "Internal Server Error",
        "detail": "the mock failed: RuntimeError",
        "status": 500,
    }


# --- limits --------------------------------------------------------------------------------------


def test_a_create_over_the_body_limit_is_413_and_creates_nothing(
    make_env: Callable[..., Env],
) -> None:
    env = make_env(max_body_bytes=4096)
    response = env.create({"prompt": "x" * 5000})
    assert response.status_code == 413
    problem = assert_well_formed(response.status_code, response.headers, response.content)
    assert problem["detail"] == "The request body is larger than the limit of 4096 bytes"
    assert env.backend.stats()["creates"] == 0
    assert env.create({"prompt": "x" * 3000}).status_code == 201  # under the limit: fine


def test_uploads_have_their_own_limit(make_env: Callable[..., Env]) -> None:
    env = make_env(max_body_bytes=1024, max_upload_bytes=8192)
    ok = env.client.post("/v1/files", files={"content": ("a.bin", b"x" * 6000, "x/y")})
    assert ok.status_code == 201, ok.text
    too_big = env.client.post("/v1/files", files={"content": ("a.bin", b"x" * 9000, "x/y")})
    assert too_big.status_code == 413
    assert "8192 bytes" in too_big.json()["detail"]
    assert env.backend.body_limit("POST", "/replicate/v1/files") > 8192
    assert env.backend.body_limit("POST", "/v1/predictions") == 1024
    assert env.backend.body_limit("GET", "/no/such/route") == 1024


def test_default_limit_over_real_http_drains_and_answers(shared_server: MockServer) -> None:
    """The issue's case at the default limit, over real HTTP (the drain is the app's): an 11 MB
    prompt is read no further than the limit, drained and answered 413; the connection stays
    usable."""
    backend = MockBackend(MockConfig(), clock=FakeClock())
    shared_server.swap(backend)
    try:
        with httpx.Client(base_url=shared_server.url, headers=AUTH, timeout=30) as client:
            body = {"version": SDXL_VERSION, "input": {"prompt": "x" * (11 * 1024 * 1024)}}
            response = client.post("/v1/predictions", json=body)
            assert response.status_code == 413
            assert "10485760 bytes" in response.json()["detail"]
            assert client.get("/v1/predictions").status_code == 200
    finally:
        backend.close()
    assert backend.stats()["creates"] == 0


# --- property: hostile bodies --------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities included: json.dumps writes them as bare tokens
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)

FRAGMENTS = ["{", "}", "[", "]", ",", ":", '"', "NaN", "-Infinity", "1e999", "null", '"input"']


@st.composite
def hostile_bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "value", "create", "nested", "fragments", "large"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "value":
        return json.dumps(draw(json_values)).encode()
    if kind == "create":
        inputs = draw(
            st.dictionaries(st.sampled_from(["prompt", "width", "seed", "x"]), json_values)
        )
        body = {"version": draw(st.sampled_from([SDXL_VERSION, "x", 1])), "input": inputs}
        return json.dumps(body).encode()
    if kind == "nested":
        depth = draw(st.integers(1, 3000))
        close = draw(st.integers(0, depth))
        return ("[" * depth + "]" * close).encode()
    if kind == "fragments":
        return "".join(draw(st.lists(st.sampled_from(FRAGMENTS), max_size=30))).encode()
    return b'{"input": {"prompt": "' + b"x" * draw(st.integers(2000, 3000)) + b'"}}'


ENDPOINTS = [
    ("POST", "/v1/predictions"),
    ("POST", "/replicate/v1/predictions"),
    ("POST", "/v1/models/black-forest-labs/flux-schnell/predictions"),
    ("POST", "/v1/predictions/nope/cancel"),
    ("GET", "/v1/predictions"),
    ("GET", "/v1/files"),
    ("DELETE", "/v1/files/nope"),
    ("PUT", "/_mock/faults"),
    ("POST", "/_mock/clock/advance"),
]

_BACKEND = MockBackend(MockConfig(max_body_bytes=2048), clock=FakeClock())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(endpoint=st.sampled_from(ENDPOINTS), body=hostile_bodies())
def test_every_answer_to_a_hostile_body_is_strict_json_success_or_problem(
    endpoint: tuple[str, str], body: bytes
) -> None:
    method, path = endpoint
    headers = {**AUTH, "content-type": "application/json"}
    result = _BACKEND.handle(method, path, headers, {}, body, base_url="http://mock.test")
    assert isinstance(result.body, bytes)  # no Prefer: wait, no stream: a plain answer
    assert_well_formed(result.status, result.headers, result.body)
    if len(body) > 2048:
        assert result.status == 413


@settings(max_examples=100, deadline=None)
@given(metadata=hostile_bodies())
def test_every_answer_to_hostile_upload_metadata_is_well_formed(metadata: bytes) -> None:
    request = httpx.Request(
        "POST",
        "http://mock.test/v1/files",
        files={"content": ("a.txt", b"abc", "text/plain")},
        data={"metadata": metadata.decode("utf-8", "replace")},
    )
    body = request.read()
    result = _BACKEND.handle(
        "POST", "/v1/files", {**AUTH, **request.headers}, {}, body, base_url="http://mock.test"
    )
    assert isinstance(result.body, bytes)
    answer = assert_well_formed(result.status, result.headers, result.body)
    assert result.status in (201, 422), answer
