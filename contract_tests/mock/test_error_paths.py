"""Every operation of the spec is served, and every error path answers problem details: unknown
methods (405 with ``Allow``), OPTIONS, odd bytes in a path segment, bad query parameters (422),
no token (401) -- derived from the operation table, so a new operation is covered without an edit.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.mock.conftest import Env
from replicate_typed.mock import MockBackend, MockConfig
from replicate_typed.mock.routes import ROUTES
from replicate_typed.types.operations import OPERATIONS, Operation

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM = json.loads(
    (ROOT / "contract_tests/fixtures/upstream/replicate-openapi.json").read_text()
)
PROBLEM = "application/problem+json"


def upstream_operations() -> set[str]:
    return {
        op["operationId"]
        for item in UPSTREAM["paths"].values()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }


def path_of(op: Operation, value: str = "x") -> str:
    path = op.path
    for name in op.path_params:
        path = path.replace("{" + name + "}", value)
    return f"/v1{path}"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.request.method, response.text)
    assert response.headers["content-type"] == PROBLEM, response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"]
    return body


def test_every_operation_of_replicates_document_is_routed_and_handled() -> None:
    served = {route.id for route in ROUTES if route.kind == "api"}
    assert upstream_operations() <= set(OPERATIONS) == served
    backend = MockBackend(MockConfig())
    assert set(OPERATIONS) <= set(backend._handlers)


@pytest.mark.parametrize("op", OPERATIONS.values(), ids=lambda op: op.id)
def test_every_operation_answers_and_refuses_with_problem_details(env: Env, op: Operation) -> None:
    path = path_of(op)
    answer = env.client.request(op.method, path)
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert answer.headers["content-type"] == PROBLEM
    unauthenticated = env.client.request(op.method, path, headers={"Authorization": ""})
    assert_problem(unauthenticated, 401)
    options = env.client.request("OPTIONS", path)
    body = assert_problem(options, 405)
    assert "OPTIONS" in body["detail"]
    assert op.method in options.headers["allow"].split(", ")
    other = next(
        m for m in ("PUT", "TRACE", "QUERY", "DELETE") if m not in options.headers["allow"]
    )
    assert_problem(env.client.request(other, path), 405)
    if op.path_params:
        assert_problem(env.client.request(op.method, path_of(op, "x%0Ay")), 404)


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/models", {"sort_by": "name"}, "sort_by"),
        ("/v1/models", {"sort_direction": "up"}, "sort_direction"),
        ("/v1/models", {"cursor": "%%%"}, "cursor"),
        ("/v1/predictions", {"created_after": "yesterday"}, "created_after"),
        ("/v1/predictions", {"source": "api"}, "source"),
        ("/v1/deployments", {"cursor": "nope"}, "cursor"),
        ("/v1/trainings", {"cursor": "nope"}, "cursor"),
        ("/v1/collections", {"cursor": "nope"}, "cursor"),
        ("/v1/search", {"query": "x", "limit": "100"}, "limit"),
        ("/v1/files/abc/download", {"expiry": "soon"}, "expiry"),
    ],
)
def test_query_parameters_are_validated(
    env: Env, path: str, params: dict[str, str], field: str
) -> None:
    body = assert_problem(env.client.get(path, params=params), 422)
    assert [f["field"] for f in body["invalid_fields"]] == [field]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    op=st.sampled_from([op for op in OPERATIONS.values() if op.path_params]),
    segment=st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters="/?#"), min_size=1, max_size=12
    ),
)
def test_any_path_segment_is_answered_or_refused_with_problem_details(
    op: Operation, segment: str
) -> None:
    """Whatever bytes a path segment holds, the answer is a success or problem details
    (never a 5xx, never plain text)."""
    from urllib.parse import quote

    backend = MockBackend(MockConfig(api_tokens=("t",)))
    path = path_of(op, quote(segment, safe=string.ascii_letters))
    from urllib.parse import unquote

    response = backend.handle(op.method, unquote(path), {"authorization": "Bearer t"}, {}, b"")
    assert response.status < 500
    if response.status >= 400:
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["status"] == response.status
    backend.close()
