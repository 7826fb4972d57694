"""API-document drift: mutate a copy of Replicate's OpenAPI document; each change is reported once
and classified (specs/api/openapi.json is the old side)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.api_spec import TOLERATED_MISSING, trim
from codegen.drift import changes as k
from codegen.drift.api_diff import DriftError, diff_api_documents
from codegen.drift.changes import Severity
from codegen.errors import pointer

ROOT = Path(__file__).resolve().parents[2]
UPSTREAM: dict[str, Any] = json.loads(
    (ROOT / "contract_tests" / "fixtures" / "upstream" / "replicate-openapi.json").read_text(
        encoding="utf-8"
    )
)
SPEC: dict[str, Any] = json.loads((ROOT / "specs" / "api" / "openapi.json").read_text("utf-8"))
PREDICTION = UPSTREAM["components"]["schemas"]["schemas_prediction_response"]
FIELDS = sorted(PREDICTION["properties"])
REQUIRED = set(PREDICTION["required"])
CREATE_OPS = [
    ("/deployments/{deployment_owner}/{deployment_name}/predictions", "post"),
    ("/models/{model_owner}/{model_name}/predictions", "post"),
    ("/predictions", "post"),
]


def field_path(name: str, *rest: str) -> str:
    return pointer(["components", "schemas", "Prediction", "properties", name, *rest])


def diff(mutate: Callable[[dict[str, Any]], None]) -> list[tuple[str, str, Severity]]:
    doc = copy.deepcopy(UPSTREAM)
    mutate(doc)
    return sorted((c.kind, c.path, c.severity) for c in diff_api_documents(SPEC, doc))


def prediction(doc: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = doc["components"]["schemas"]["schemas_prediction_response"]
    return result


def test_the_specs_api_document_is_the_trimmed_upstream() -> None:
    assert trim(UPSTREAM) == SPEC
    assert diff_api_documents(SPEC, UPSTREAM) == []


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([f for f in FIELDS if f != "status"]))
def test_a_removed_prediction_field_is_breaking(name: str) -> None:
    def mutate(doc: dict[str, Any]) -> None:
        del prediction(doc)["properties"][name]
        if name in prediction(doc)["required"]:
            prediction(doc)["required"].remove(name)

    assert diff(mutate) == [(k.PROPERTY_REMOVED, field_path(name), Severity.BREAKING)]


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([f for f in FIELDS if f != "status"]), st.data())
def test_a_prediction_field_type_change_is_breaking(name: str, data: st.DataObject) -> None:
    old_type = PREDICTION["properties"][name].get("type")
    new_type = data.draw(
        st.sampled_from([t for t in ("string", "integer", "array") if t != old_type])
    )

    def mutate(doc: dict[str, Any]) -> None:
        prediction(doc)["properties"][name]["type"] = new_type

    assert diff(mutate) == [(k.TYPE_CHANGED, field_path(name, "type"), Severity.BREAKING)]


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(FIELDS))
def test_prediction_required_flips(name: str) -> None:
    def mutate(doc: dict[str, Any]) -> None:
        required = prediction(doc)["required"]
        if name in required:
            required.remove(name)
        else:
            required.append(name)

    if name in TOLERATED_MISSING:
        # The client already reads these as possibly missing (routers leave them out): whether
        # upstream requires them changes nothing for it, so it is not drift.
        assert diff(mutate) == []
        return
    # A response field that may now be missing breaks readers; a newly guaranteed one does not.
    severity = Severity.BREAKING if name in REQUIRED else Severity.COMPATIBLE
    assert diff(mutate) == [(k.REQUIRED_CHANGED, field_path(name, "required"), severity)]


def test_only_the_id_is_required_of_a_prediction() -> None:
    schema = SPEC["components"]["schemas"]["Prediction"]
    assert schema["required"] == ["id"]
    assert REQUIRED - {"id"} <= set(TOLERATED_MISSING)
    assert "required" not in schema["properties"]["urls"]


def test_a_new_prediction_field_is_compatible_and_a_description_edit_cosmetic() -> None:
    def add(doc: dict[str, Any]) -> None:
        prediction(doc)["properties"]["queue_position"] = {"type": "integer"}

    assert diff(add) == [(k.PROPERTY_ADDED, field_path("queue_position"), Severity.COMPATIBLE)]

    def describe(doc: dict[str, Any]) -> None:
        prediction(doc)["properties"]["logs"]["description"] = "Logs."

    assert diff(describe) == [
        (k.ANNOTATION_CHANGED, field_path("logs", "description"), Severity.COSMETIC)
    ]


STATUS_ENUM = pointer(["components", "schemas", "PredictionStatus", "enum"])


def test_a_new_status_value_is_breaking_and_named() -> None:
    doc = copy.deepcopy(UPSTREAM)
    prediction(doc)["properties"]["status"]["enum"].append("queued")
    found = diff_api_documents(SPEC, doc)
    assert [(c.kind, c.path, c.severity, c.new) for c in found] == [
        (k.ENUM_VALUE_ADDED, STATUS_ENUM, Severity.BREAKING, "queued")
    ]
    assert "terminal" in found[0].message


def test_a_status_value_no_longer_listed_is_compatible() -> None:
    def mutate(doc: dict[str, Any]) -> None:
        prediction(doc)["properties"]["status"]["enum"].remove("aborted")

    assert diff(mutate) == [(k.ENUM_VALUE_REMOVED, STATUS_ENUM, Severity.COMPATIBLE)]


def _params_path(path: str, method: str, key: str) -> str:
    return pointer(["paths", path, method, "parameters", key])


def test_dropping_the_cancel_after_header_is_breaking_on_both_creates() -> None:
    def mutate(doc: dict[str, Any]) -> None:
        for path, method in CREATE_OPS:
            op = doc["paths"][path][method]
            op["parameters"] = [p for p in op["parameters"] if "cancel_after" not in json.dumps(p)]

    assert diff(mutate) == sorted(
        (k.PARAMETER_REMOVED, _params_path(p, m, "header:Cancel-After"), Severity.BREAKING)
        for p, m in CREATE_OPS
    )


def test_a_tighter_prefer_header_pattern_is_breaking() -> None:
    def mutate(doc: dict[str, Any]) -> None:
        params = doc["components"]["parameters"]
        params["parameters_prefer_header"]["schema"]["pattern"] = "^wait$"

    assert diff(mutate) == sorted(
        (
            k.CONSTRAINT_TIGHTENED,
            _params_path(p, m, "header:Prefer") + "/schema/pattern",
            Severity.BREAKING,
        )
        for p, m in CREATE_OPS
    )


@pytest.mark.parametrize("required", [False, True])
def test_a_new_query_parameter(required: bool) -> None:
    def mutate(doc: dict[str, Any]) -> None:
        doc["paths"]["/predictions"]["get"]["parameters"].append(
            {"in": "query", "name": "model", "required": required, "schema": {"type": "string"}}
        )

    severity = Severity.BREAKING if required else Severity.COMPATIBLE
    assert diff(mutate) == [
        (k.PARAMETER_ADDED, _params_path("/predictions", "get", "query:model"), severity)
    ]


def test_operations_removed_and_method_changed() -> None:
    def remove(doc: dict[str, Any]) -> None:
        del doc["paths"]["/predictions"]["get"]

    assert diff(remove) == [
        (k.OPERATION_REMOVED, pointer(["paths", "/predictions", "get"]), Severity.BREAKING)
    ]

    def move(doc: dict[str, Any]) -> None:
        item = doc["paths"]["/predictions/{prediction_id}/cancel"]
        item["put"] = item.pop("post")

    assert diff(move) == [
        (
            k.OPERATION_METHOD_CHANGED,
            pointer(["paths", "/predictions/{prediction_id}/cancel", "post"]),
            Severity.BREAKING,
        )
    ]


def test_request_bodies() -> None:
    def new_required_key(doc: dict[str, Any]) -> None:
        body = doc["components"]["schemas"]["schemas_version_prediction_request"]
        body["properties"]["priority"] = {"type": "integer"}
        body["required"].append("priority")

    assert diff(new_required_key) == [
        (
            k.PROPERTY_ADDED,
            pointer(["components", "schemas", "PredictionRequest", "properties", "priority"]),
            Severity.BREAKING,
        )
    ]

    def no_multipart(doc: dict[str, Any]) -> None:
        content = doc["paths"]["/files"]["post"]["requestBody"]["content"]
        content["application/octet-stream"] = content.pop("multipart/form-data")

    body = ["paths", "/files", "post", "requestBody", "content"]
    assert diff(no_multipart) == sorted(
        [
            (k.REQUEST_BODY_CHANGED, pointer([*body, "multipart/form-data"]), Severity.BREAKING),
            (
                k.REQUEST_BODY_CHANGED,
                pointer([*body, "application/octet-stream"]),
                Severity.COMPATIBLE,
            ),
        ]
    )

    def shorter_filename(doc: dict[str, Any]) -> None:
        content = doc["paths"]["/files"]["post"]["requestBody"]["content"]
        content["multipart/form-data"]["schema"]["properties"]["filename"]["maxLength"] = 100

    assert diff(shorter_filename) == [
        (
            k.CONSTRAINT_TIGHTENED,
            pointer(
                [*body, "multipart/form-data", "schema", "properties", "filename", "maxLength"]
            ),
            Severity.BREAKING,
        )
    ]


def test_document_version_is_cosmetic_and_a_missing_prediction_schema_is_an_error() -> None:
    def bump(doc: dict[str, Any]) -> None:
        doc["info"]["version"] = "9.9.9"

    assert diff(bump) == [
        (k.DOCUMENT_VERSION_CHANGED, pointer(["info", "version"]), Severity.COSMETIC)
    ]
    doc = copy.deepcopy(UPSTREAM)
    del doc["components"]["schemas"]["schemas_prediction_response"]
    with pytest.raises(DriftError, match="lacks"):
        diff_api_documents(SPEC, doc)


def test_a_new_upstream_operation_is_kept_and_reported_added() -> None:
    def add(doc: dict[str, Any]) -> None:
        doc["paths"]["/predictions/{prediction_id}/pause"] = {
            "post": {
                "operationId": "predictions.pause",
                "summary": "Pause a prediction",
                "parameters": [
                    {
                        "in": "path",
                        "name": "prediction_id",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {"200": {"description": "Success"}},
            }
        }

    path = "/predictions/{prediction_id}/pause"
    assert diff(add) == [(k.OPERATION_ADDED, pointer(["paths", path, "post"]), Severity.COMPATIBLE)]
    doc = copy.deepcopy(UPSTREAM)
    add(doc)
    kept = trim(doc)["paths"][path]["post"]
    assert kept["operationId"] == "predictions.pause"
    assert kept["x-retry"] == "create"
