"""schemathesis against the built-in mock server with **Replicate's own document**
(``contract_tests/fixtures/upstream/replicate-openapi.json``, 37 operations): the mock answers
only what the document allows, except where the document is itself wrong.

Every operation gets a few generated requests (positive data, bounded examples). Each is sent
twice: as generated (mostly unknown models, versions and ids), and again pointed at things the
mock knows (:class:`Known`: a prediction, a trainer, an account model with a trained version, a
deployment, a training, a file) so the success answers are exercised too. Checks:

* a status the document gives the operation: no server error, a documented content type, and
  the body conforms to the response schema (schemathesis' own checks);
* a status the document does not give: only one of the error answers CONTRACT.md describes
  (400/401/403/404/409/413/422/429), with problem details (``application/problem+json``,
  ``title``/``detail``, ``status`` matching). 5xx is never allowed;
* pointed at known things, the answer is a documented success.

The document's own gaps are patched before the run, one function each in :data:`GAPS`; every
one is listed in ``docs/api-differences.md`` (a test checks), and nothing else is patched.
``QUERY /models`` (``models.search``) is generated like the rest (schemathesis knows the method).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
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

from replicate_typed.mock import MockServer
from replicate_typed.models import registry

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM: dict[str, Any] = json.loads(
    (ROOT / "contract_tests/fixtures/upstream/replicate-openapi.json").read_text()
)
DIFFERENCES = ROOT / "docs" / "api-differences.md"
TOKEN = "r8_schemathesis_mock_token_0123456789"
ERROR_STATUSES = {400, 401, 403, 404, 409, 413, 422, 429}
MAX_EXAMPLES = 5
SDXL = registry["stability-ai/sdxl"]
TRAINER = registry["ostris/flux-dev-lora-trainer"]
PROBLEM_SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "status": {"type": "integer"},
        "invalid_fields": {"type": "array", "items": {"type": "object"}},
    },
}

# --- the document's own gaps -----------------------------------------------------------------


def _walk(node: Any, fn: Callable[[dict[str, Any]], None]) -> None:
    if isinstance(node, dict):
        fn(node)
        for value in node.values():
            _walk(value, fn)
    elif isinstance(node, list):
        for value in node:
            _walk(value, fn)


def nullable_in_3_1(doc: dict[str, Any]) -> None:
    """``nullable: true`` is OpenAPI 3.0; in a 3.1 document it means nothing, so ``error:
    null`` would be invalid. Read as 3.0 meant it: the type admits null."""

    def fix(node: dict[str, Any]) -> None:
        if node.pop("nullable", False) is True and isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]

    _walk(doc, fix)


_NULL_UNTIL_SET = ("started_at", "completed_at", "deadline", "metrics", "logs", "output")


def unset_fields_are_null(doc: dict[str, Any]) -> None:
    """A prediction or training not yet started (or never given a deadline) has ``null``
    ``started_at``/``completed_at``/``deadline``/``metrics``, and ``logs``/``output`` once
    its data is removed; the document types them as non-null strings and objects (its own
    examples show ``"started_at": null``)."""
    schemas = doc["components"]["schemas"]
    for name in ("schemas_prediction_response", "schemas_training_response"):
        props = schemas[name]["properties"]
        for key in _NULL_UNTIL_SET:
            if key in props and props[key]:
                props[key] = {"anyOf": [props[key], {"type": "null"}]}


def hidden_version_is_one_of_two(doc: dict[str, Any]) -> None:
    """A prediction's ``version`` is ``oneOf: [string, enum ["hidden"]]``: ``"hidden"`` (every
    model-path prediction) matches both branches, so ``oneOf`` refuses it. ``anyOf`` was meant."""
    props = doc["components"]["schemas"]["schemas_prediction_response"]["properties"]
    version = props["version"]
    version["anyOf"] = version.pop("oneOf")


def download_is_the_files_type(doc: dict[str, Any]) -> None:
    """``files.download`` documents ``application/octet-stream``; a file is served with the
    media type it was uploaded with (``image/png``...), octet-stream only when it has none."""
    responses = doc["paths"]["/files/{file_id}/download"]["get"]["responses"]
    responses["200"]["content"] = {"*/*": responses["200"]["content"]["application/octet-stream"]}


GAPS: dict[str, Callable[[dict[str, Any]], None]] = {
    "nullable-in-openapi-3-1": nullable_in_3_1,
    "unset-fields-are-null": unset_fields_are_null,
    "hidden-version-one-of": hidden_version_is_one_of_two,
    "download-content-type": download_is_the_files_type,
}
"""Each gap of Replicate's document, by the anchor its entry has in docs/api-differences.md."""


def patched() -> dict[str, Any]:
    doc = copy.deepcopy(UPSTREAM)
    for fix in GAPS.values():
        fix(doc)
    return doc


SPEC = patched()
schema = schemathesis.openapi.from_dict(SPEC)
schema.config.generation.update(modes=[GenerationMode.POSITIVE], max_examples=MAX_EXAMPLES)


def test_every_gap_is_listed_as_a_deliberate_difference() -> None:
    text = DIFFERENCES.read_text()
    for anchor in GAPS:
        assert f'<a id="{anchor}"></a>' in text, f"{anchor} is not in {DIFFERENCES.name}"


def test_the_run_covers_every_operation_of_the_document() -> None:
    upstream = {
        op["operationId"]
        for item in UPSTREAM["paths"].values()
        for op in item.values()
        if isinstance(op, dict) and "operationId" in op
    }
    from schemathesis.core.result import Ok

    generated = set()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # an operation schemathesis cannot read
        generated.add(result.ok().definition.raw["operationId"])
    assert len(upstream) == 37
    assert generated == upstream  # QUERY /models included


# --- the mock and the things it knows --------------------------------------------------------


class Known:
    """Things the mock knows, made through its API; ``fresh_*`` make one more to delete."""

    def __init__(self, server: MockServer) -> None:
        self.http = httpx.Client(
            base_url=server.url + "/v1", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        self.names = (f"n{i}" for i in itertools.count())
        self.owner = self.ok("GET", "/account")["username"]
        self.prediction_id = self.ok(
            "POST", "/predictions", json={"version": SDXL.version, "input": {}}
        )["id"]
        self.model = self.fresh_model()
        self.training_id, self.version_id = self.trained(self.model)
        self.deployment = self.fresh_deployment()
        self.file_id = self.fresh_file()

    def ok(self, method: str, path: str, **kw: Any) -> Any:
        response = self.http.request(method, path, **kw)
        assert response.is_success, response.text
        return response.json() if response.content else None

    def fresh_model(self) -> str:
        name = next(self.names)
        body = {"owner": self.owner, "name": name, "visibility": "private", "hardware": "cpu"}
        self.ok("POST", "/models", json=body)
        return name

    def trained(self, model: str) -> tuple[str, str]:
        path = f"/models/{TRAINER.ref}/versions/{TRAINER.version}/trainings"
        body = {
            "destination": f"{self.owner}/{model}",
            "input": {"input_images": "https://x.test/a.zip"},
        }
        training = self.ok("POST", path, json=body)
        for _ in range(500):
            got = self.ok("GET", f"/trainings/{training['id']}")
            if got["status"] == "succeeded":
                return training["id"], got["output"]["version"].split(":")[1]
            import time

            time.sleep(0.01)
        raise AssertionError("the training did not finish")

    def fresh_deployment(self) -> str:
        name = next(self.names)
        body = {
            "name": name,
            "model": SDXL.ref,
            "version": SDXL.version,
            "hardware": "gpu-t4",
            "min_instances": 0,
            "max_instances": 1,
        }
        self.ok("POST", "/deployments", json=body)
        return name

    def fresh_file(self) -> str:
        made = self.ok("POST", "/files", files={"content": ("a.txt", b"hello", "text/plain")})
        return str(made["id"])


@pytest.fixture(scope="module")
def mock() -> Iterator[tuple[MockServer, Known]]:
    with MockServer(
        host="127.0.0.1", port=0, default_timing=(0.0, 0.02), api_tokens=(TOKEN,)
    ) as server:
        known = Known(server)
        yield server, known
        known.http.close()


def documented(path: str, method: str) -> set[int]:
    responses = SPEC["paths"][path][method.lower()]["responses"]
    return {int(code) for code in responses if code.isdigit()}


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


def _prefer_over_60(value: Any) -> bool:
    match = re.fullmatch(r"wait=(\d+)", str(value).strip())
    return match is not None and int(match.group(1)) > 60


_BODIES: dict[str, Callable[[Known, dict[str, Any]], dict[str, Any]]] = {
    "predictions.create": lambda k, b: {"version": SDXL.version, "input": {}},
    "models.predictions.create": lambda k, b: {"input": {}},
    "deployments.predictions.create": lambda k, b: {"input": {}},
    "trainings.create": lambda k, b: {
        "destination": f"{k.owner}/{k.model}",
        "input": {"input_images": "https://x.test/a.zip"},
    },
    "models.create": lambda k, b: {
        **{key: b[key] for key in ("description",) if isinstance(b.get(key), str)},
        "owner": k.owner,
        "name": next(k.names),
        "visibility": b.get("visibility", "public"),
        "hardware": "cpu",
    },
    "models.update": lambda k, b: {
        key: b[key] for key in ("description", "readme") if isinstance(b.get(key), str)
    },
    "deployments.create": lambda k, b: {
        "name": next(k.names),
        "model": SDXL.ref,
        "version": SDXL.version,
        "hardware": "cpu",
        "min_instances": b.get("min_instances", 0),
        "max_instances": max(b.get("max_instances", 1), b.get("min_instances", 0)),
    },
    "deployments.update": lambda k, b: (
        {key: b[key] for key in ("min_instances",) if isinstance(b.get(key), int)}
        | {"max_instances": 20}
    ),
}


def point_at_known(case: Any, known: Known) -> Any:
    """A copy of the case aimed at things the mock knows, which it must answer with a
    documented success. Left out, because the mock rightly refuses them with 422: a generated
    ``Cancel-After`` (``""`` fits the document's plain string) and ``Prefer: wait=61``..``99``
    (the document's pattern admits them; its description says 1..60)."""
    op_id = case.operation.definition.raw["operationId"]
    headers = {
        k: v
        for k, v in (case.headers or {}).items()
        if k.lower() != "cancel-after" and not (k.lower() == "prefer" and _prefer_over_60(v))
    }
    copy_ = case.derive(headers=headers)
    params = dict(case.path_parameters or {})
    owner_name: dict[str, tuple[str, str]] = {
        "models.delete": (known.owner, known.fresh_model()),
        "models.update": (known.owner, known.model),
        "models.readme.get": (SDXL.owner, SDXL.name),
    }
    if "prediction_id" in params:
        params["prediction_id"] = known.prediction_id
    if "training_id" in params:
        params["training_id"] = known.training_id
    if "file_id" in params:
        params["file_id"] = known.fresh_file() if op_id == "files.delete" else known.file_id
    if "collection_slug" in params:
        params["collection_slug"] = "official"
    if "deployment_owner" in params:
        name = known.fresh_deployment() if op_id == "deployments.delete" else known.deployment
        params["deployment_owner"], params["deployment_name"] = known.owner, name
    if "model_owner" in params:
        params["model_owner"], params["model_name"] = owner_name.get(op_id, (SDXL.owner, SDXL.name))
    if "version_id" in params:
        params["version_id"] = SDXL.version
        if op_id == "trainings.create":
            params["model_owner"], params["model_name"] = TRAINER.owner, TRAINER.name
            params["version_id"] = TRAINER.version
        elif op_id == "models.versions.delete":
            model = known.fresh_model()
            params["model_owner"], params["model_name"] = known.owner, model
            params["version_id"] = known.trained(model)[1]
    copy_.path_parameters = params
    if op_id in _BODIES:
        body = case.body if isinstance(case.body, dict) else {}
        copy_.body = _BODIES[op_id](known, body)
    if op_id == "models.search":
        copy_.body = "flux"
    if op_id == "search":
        copy_.query = {**(case.query or {}), "query": "flux"}
    if op_id == "files.download":
        copy_.query = {**(case.query or {}), "expiry": "1708515345"}
    return copy_


@pytest.mark.slow  # 37 operations x 5 examples x 2 requests: `make test-slow` (CI runs it)
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_mock_answers_only_what_the_document_allows(
    case: Any, mock: tuple[MockServer, Known]
) -> None:
    server, known = mock
    base_url = server.url + "/v1"
    headers = {"Authorization": f"Bearer {TOKEN}"}
    check_answer(case, case.call(base_url=base_url, headers=headers))
    known_case = point_at_known(case, known)
    response = known_case.call(base_url=base_url, headers=headers)
    check_answer(known_case, response)
    if case.operation.path == "/files" and not isinstance(case.body, dict):
        return  # the document leaves the multipart body optional; the mock rightly wants `content`
    assert response.status_code in documented(case.operation.path, case.method), (
        f"{known_case.method} {known_case.formatted_path}: the mock refused a request for things "
        f"it knows with {response.status_code}: {response.text[:300]}"
    )
