"""The generated operation table is the spec's operations, and a spec it cannot hold is an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codegen.errors import SpecError
from codegen.generate import operation_rows
from contract_tests.conftest import ROOT
from replicate_typed.types import operations

SPEC = ROOT / "specs" / "api" / "openapi.json"


def test_the_table_is_every_operation_of_the_spec() -> None:
    doc = json.loads(SPEC.read_text(encoding="utf-8"))
    expected = {
        op["operationId"]: (method.upper(), path, op["x-retry"])
        for path, item in doc["paths"].items()
        for method, op in item.items()
    }
    table = {o.id: (o.method, o.path, o.retry) for o in operations.OPERATIONS.values()}
    assert table == expected
    assert operations.PREDICTIONS_CANCEL.retry == "cancel"
    assert operations.PREDICTIONS_GET.path_params == ("prediction_id",)
    assert operations.WEBHOOKS_DEFAULT_SECRET_GET.id == "webhooks.default.secret.get"


@pytest.mark.parametrize(
    ("operation", "rule"),
    [
        ({"operationId": "predictions.create"}, "x-retry None is not one of"),
        ({"operationId": "predictions.create", "x-retry": "maybe"}, "x-retry 'maybe'"),
        ({"x-retry": "read"}, "operationId None is not dotted.lower_case"),
        ({"operationId": "Bad Name", "x-retry": "read"}, "operationId 'Bad Name'"),
    ],
)
def test_an_operation_the_table_cannot_hold_is_a_spec_error(
    operation: dict[str, str], rule: str
) -> None:
    doc = {"paths": {"/predictions": {"post": operation}}}
    with pytest.raises(SpecError) as caught:
        operation_rows(Path("api.json"), doc)
    assert rule in caught.value.rule
    assert caught.value.pointer.startswith("/paths/~1predictions/post/")


def test_colliding_operation_ids_are_a_spec_error() -> None:
    doc = {
        "paths": {
            "/a": {"get": {"operationId": "a.b_c", "x-retry": "read"}},
            "/b": {"get": {"operationId": "a_b.c", "x-retry": "read"}},
        }
    }
    with pytest.raises(SpecError, match="collide"):
        operation_rows(Path("api.json"), doc)
