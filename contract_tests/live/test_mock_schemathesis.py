"""schemathesis against the built-in mock server with our API spec (specs/api/openapi.json):
the mock answers only what the spec allows.

Every operation of the spec gets a few generated requests (positive data, bounded examples).
Each is sent twice: as generated (mostly unknown models, versions and ids), and again pointed at
things the mock knows (a generated model, a created prediction) so the success answers are
exercised too. Checks:

* a status the spec documents for the operation: no server error, a documented content type,
  and the body conforms to the response schema (schemathesis' own checks);
* a status the spec does not document: only allowed if it is one of the error answers
  CONTRACT.md describes (400/401/403/404/409/413/422/429) *and* its body is problem details
  (``application/problem+json``, valid against the spec's ``ProblemDetails`` schema, ``status``
  matching). The spec documents 401/404/429 (and 422 on creates) as problem details; other
  error answers of the contract (400/403/409/413) are checked against the same rule here.
  5xx is never allowed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

from replicate_typed.client import Client
from replicate_typed.mock import MockServer
from replicate_typed.models.stability_ai import sdxl

ROOT = Path(__file__).resolve().parents[2]
SPEC: dict[str, Any] = json.loads((ROOT / "specs" / "api" / "openapi.json").read_text())
TOKEN = "r8_schemathesis_mock_token_0123456789"
ERROR_STATUSES = {400, 401, 403, 404, 409, 413, 422, 429}
MAX_EXAMPLES = 6


schema = schemathesis.openapi.from_dict(SPEC)
schema.config.generation.update(modes=[GenerationMode.POSITIVE], max_examples=MAX_EXAMPLES)
PROBLEM_SCHEMA = {
    **SPEC["components"]["schemas"]["ProblemDetails"],
    "components": SPEC["components"],
}


def documented(path: str, method: str) -> set[int]:
    responses = SPEC["paths"][path][method.lower()]["responses"]
    return {int(code) for code in responses if code.isdigit()}


class Known:
    """Things the mock knows: a prediction created up front, a generated model and version."""

    def __init__(self, server: MockServer) -> None:
        with Client(api_token=TOKEN, base_url=server.url) as client:
            self.prediction_id = client.create(sdxl.Input(prompt="schemathesis")).id
        self.owner, self.name = "stability-ai", "sdxl"
        self.version = str(sdxl.MODEL.version)


@pytest.fixture(scope="module")
def mock() -> Iterator[tuple[MockServer, Known]]:
    with MockServer(host="127.0.0.1", port=0, default_timing=(0.0, 0.05)) as server:
        yield server, Known(server)


def check_answer(case: Any, response: Any) -> None:
    status = response.status_code
    if status in documented(case.operation.path, case.method):
        case.validate_response(
            response,
            checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
        )
        return
    request = f"{case.method} {case.formatted_path}"
    assert status in ERROR_STATUSES, (
        f"{request}: status {status} is neither documented nor a contract error: {response.text[:300]}"
    )
    values = response.headers.get("content-type") or [""]
    content_type = values[0] if isinstance(values, list) else str(values)
    assert content_type.startswith("application/problem+json"), (
        f"{request}: {status} answered with {content_type!r}, not problem details"
    )
    body = response.json()
    jsonschema.validate(body, PROBLEM_SCHEMA)
    assert body.get("status") in (None, status), f"{request}: problem status {body.get('status')}"
    assert body.get("title") or body.get("detail"), f"{request}: problem without title/detail"


def _wait_over_60(prefer: str) -> bool:
    match = re.fullmatch(r"wait=(\d+)", prefer.strip())
    return bool(match) and int(match.group(1)) > 60


def point_at_known(case: Any, known: Known) -> Any:
    """A copy of the case aimed at the model, version and prediction the mock knows, which the
    mock must answer with a documented success. Left out, because the mock rightly refuses them
    with 422: a generated ``Cancel-After`` (``""`` fits the spec's plain string), and
    ``Prefer: wait=61``..``99``, which the spec's pattern admits although the contract (and the
    pattern's own description) says N is 1..60."""
    headers = {
        k: v
        for k, v in (case.headers or {}).items()
        if k.lower() != "cancel-after" and not (k.lower() == "prefer" and _wait_over_60(str(v)))
    }
    copy = case.derive(headers=headers)
    params = dict(case.path_parameters or {})
    if "prediction_id" in params:
        params["prediction_id"] = known.prediction_id
    if "model_owner" in params:
        params["model_owner"], params["model_name"] = known.owner, known.name
    if "version_id" in params:
        params["version_id"] = known.version
    copy.path_parameters = params
    if case.operation.path in ("/predictions", "/models/{model_owner}/{model_name}/predictions"):
        body = dict(case.body) if isinstance(case.body, dict) else {}
        if "version" in body or case.operation.path == "/predictions":
            body["version"] = known.version
        body["input"] = {}  # every sdxl input is optional
        body.pop("webhook", None)  # no deliveries to example.com from the mock
        body.pop("webhook_events_filter", None)
        copy.body = body
    return copy


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_mock_answers_only_what_the_spec_allows(case: Any, mock: tuple[MockServer, Known]) -> None:
    server, known = mock
    base_url = server.url + "/v1"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    check_answer(case, case.call(base_url=base_url, headers=headers))
    known_case = point_at_known(case, known)
    response = known_case.call(base_url=base_url, headers=headers)
    check_answer(known_case, response)
    if case.operation.path == "/files" and not isinstance(case.body, dict):
        return  # the spec leaves the multipart body optional; the mock rightly wants `content`
    assert response.status_code in documented(case.operation.path, case.method), (
        f"{known_case.method} {known_case.formatted_path}: the mock refused a request for things "
        f"it knows with {response.status_code}: {response.text[:300]}"
    )
