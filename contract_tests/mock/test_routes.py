"""The route table: every row of the generated operation table is routed (under ``/v1`` and
``/replicate/v1``) to a handler under the spec's ``operationId``; other paths answer 404, other
methods on a known path 405 with ``Allow``. A property test compares the router with a
segment-by-segment oracle on random paths."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import replicate_typed.mock.backend as backend_module
from contract_tests.mock.conftest import AUTH, Env
from replicate_typed.mock import MockBackend, MockConfig
from replicate_typed.mock.config import OPERATIONS
from replicate_typed.mock.routes import (
    ROUTES,
    MethodNotAllowed,
    Route,
    RouteMatch,
    Router,
    api_route,
)
from replicate_typed.types.operations import OPERATIONS as SPEC
from replicate_typed.types.operations import Operation

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
_PARAM = re.compile(r"\{([^}]+)\}")


def _concrete(template: str) -> tuple[str, dict[str, str]]:
    """``template`` with each ``{name}`` replaced by a distinct value."""
    values: dict[str, str] = {}

    def value(match: re.Match[str]) -> str:
        values[match.group(1)] = f"v{len(values)}-{match.group(1)}"
        return values[match.group(1)]

    return _PARAM.sub(value, template), values


def test_operation_names_are_the_spec_ids_then_the_mock_routes() -> None:
    assert OPERATIONS[: len(SPEC)] == tuple(SPEC)
    assert set(OPERATIONS) == {r.id for r in ROUTES if r.kind != "admin"}
    assert "webhooks.default.secret.get" in OPERATIONS
    assert {"predictions.stream", "files.get", "files.download", "outputs.get", "web"} <= set(
        OPERATIONS
    )
    assert not any(name.startswith("admin.") for name in OPERATIONS)


@pytest.mark.parametrize("op", list(SPEC.values()), ids=lambda op: op.id)
def test_every_spec_operation_is_routed_with_its_parameters(op: Operation) -> None:
    path, values = _concrete(f"/v1{op.path}")
    found = Router().match(op.method, path)
    assert isinstance(found, RouteMatch), (op.id, path, found)
    assert found.route.id == op.id and found.route.kind == "api"
    assert found.params == values and tuple(values) == op.path_params


@pytest.mark.parametrize("prefix", ["", "/replicate"])
@pytest.mark.parametrize("route", [r for r in ROUTES if r.kind != "admin"], ids=lambda r: r.id)
def test_every_operation_reaches_its_handler(route: Route, prefix: str) -> None:
    """Through ``handle``: counted under the operation's name and its template, never 404
    "no route" or 405 (a handler's own 404 for an unknown id is fine)."""
    backend = MockBackend(MockConfig())
    path, _ = _concrete(prefix + route.template)
    result = backend.handle(
        route.method, path, {**AUTH, "host": "h"}, {}, b"{}", base_url="http://h"
    )
    assert result.status != 405
    assert backend.operations == {route.id: 1}
    assert backend.requests == {route.key: 1}
    if result.status == 404:
        assert "could not be found" not in result.json()["detail"]  # the handler's, not routing's


def test_every_route_has_a_handler_and_a_missing_one_stops_the_backend(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    MockBackend(MockConfig())  # the real table: complete
    extra = Route("predictions.delete", "DELETE", "/v1/predictions/{prediction_id}")
    monkeypatch.setattr(backend_module, "_ROUTER", Router((*ROUTES, extra)))
    with pytest.raises(RuntimeError, match="no handler for \\['predictions.delete'\\]"):
        MockBackend(MockConfig())


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/v1/predictions", "GET, POST"),
        ("PUT", "/replicate/v1/predictions/abc", "GET"),
        ("GET", "/v1/predictions/abc/cancel", "POST"),
        ("POST", "/v1/models/o/n", "DELETE, GET, PATCH"),
        ("PUT", "/v1/files", "GET, POST"),
        ("POST", "/v1/files/abc", "DELETE, GET"),
        ("POST", "/v1/webhooks/default/secret", "GET"),
        ("DELETE", "/_mock/faults", "GET, POST, PUT"),
        ("GET", "/_mock/clock/advance", "POST"),
    ],
)
def test_wrong_method_is_405_with_allow(env: Env, method: str, path: str, allow: str) -> None:
    response = env.client.request(method, path)
    assert response.status_code == 405, response.text
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 405
    assert env.backend.stats()["requests"] == {}  # a 405 is not an operation


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/v1",
        "/v1/",
        "/v2/predictions",
        "/v1/predictions/",
        "/v1/predictions//cancel",
        "/v1/predictions/a/b/c",
        "/v1/models/owner",
        "/replicate",
        "/replicate/v1/nothing",
        "/files/only-one-segment",
    ],
)
def test_unknown_path_is_404(env: Env, path: str) -> None:
    response = env.client.get(path)
    assert response.status_code == 404, response.text
    assert response.json()["detail"] == "The requested resource could not be found."
    assert env.backend.stats()["requests"] == {"GET <unmatched>": 1}
    assert env.backend.stats()["operations"] == {}


def test_unknown_admin_path_is_404_and_not_counted(make_env: Callable[..., Env]) -> None:
    env = make_env()
    response = env.client.get("/replicate/_mock/nothing")
    assert response.status_code == 404
    assert response.json()["detail"] == "Unknown mock admin endpoint"
    assert env.backend.stats()["requests"] == {}


def test_api_route_refuses_a_table_row_that_disagrees_with_its_path() -> None:
    op = Operation(
        id="x.get", method="GET", path="/x/{a}", retry="read", path_params=("b",), summary=""
    )
    with pytest.raises(ValueError, match="x.get"):
        api_route(op)


def test_router_refuses_two_routes_for_the_same_requests() -> None:
    twin = Route("predictions.fetch", "GET", "/v1/predictions/{id}")
    with pytest.raises(ValueError, match="predictions.get and predictions.fetch"):
        Router((*ROUTES, twin))


def _oracle(method: str, path: str) -> tuple[str, frozenset[str]]:
    """Segment by segment: ``("match", {id})``, ``("405", allowed)`` or ``("404", {})``."""
    segments = path.split("/")
    ids: set[str] = set()
    allowed: set[str] = set()
    for route in ROUTES:
        pattern = route.template.split("/")
        if len(pattern) != len(segments):
            continue
        fits = all(
            (p.startswith("{") and s != "") or p == s
            for p, s in zip(pattern, segments, strict=True)
        )
        if fits and route.method == method:
            ids.add(route.id)
        elif fits:
            allowed.add(route.method)
    if ids:
        return "match", frozenset(ids)
    if allowed:
        return "405", frozenset(allowed)
    return "404", frozenset()


_LITERALS = sorted(
    {s for r in ROUTES for s in r.template.split("/") if s and not s.startswith("{")}
)
_SEGMENT = st.one_of(
    st.sampled_from(_LITERALS),
    st.text(st.characters(blacklist_characters="/", blacklist_categories=("Cs",)), max_size=6),
)


@settings(max_examples=400, deadline=None)
@given(method=st.sampled_from(METHODS), segments=st.lists(_SEGMENT, min_size=1, max_size=6))
def test_router_agrees_with_a_segment_oracle(method: str, segments: list[str]) -> None:
    path = "/" + "/".join(segments)
    kind, expected = _oracle(method, path)
    found = Router().match(method, path)
    if kind == "match":
        assert isinstance(found, RouteMatch) and {found.route.id} == expected
        pairs = zip(found.route.template.split("/"), path.split("/"), strict=True)
        values = [s for p, s in pairs if p.startswith("{")]
        assert found.params == dict(zip(found.route.params, values, strict=True))
    elif kind == "405":
        assert isinstance(found, MethodNotAllowed) and set(found.allowed) == expected
        assert list(found.allowed) == sorted(found.allowed)
    else:
        assert found is None
