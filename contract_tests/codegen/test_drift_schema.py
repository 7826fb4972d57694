"""Example-based edge cases of the semantic schema diff (the property tests cover the common ones)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from codegen.drift import changes as k
from codegen.drift.changes import Severity
from codegen.drift.schema_diff import diff_model_schemas


def model(
    inputs: dict[str, Any], output: dict[str, Any] | None = None, **defs: Any
) -> dict[str, Any]:
    return {
        "openapi": "3.0.2",
        "components": {
            "schemas": {
                "Input": {"type": "object", "title": "Input", "properties": inputs},
                "Output": output or {"type": "string", "title": "Output"},
                **defs,
            }
        },
    }


def found(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, Severity]]:
    return sorted((c.kind, c.path, c.severity) for c in diff_model_schemas("o/m", old, new))


@pytest.mark.parametrize(
    ("old", "new", "kind", "severity"),
    [
        ({"multipleOf": 4}, {"multipleOf": 2}, k.CONSTRAINT_LOOSENED, Severity.COMPATIBLE),
        ({"multipleOf": 2}, {"multipleOf": 4}, k.CONSTRAINT_TIGHTENED, Severity.BREAKING),
        ({"multipleOf": 2}, {"multipleOf": 3}, k.CONSTRAINT_TIGHTENED, Severity.BREAKING),
        ({"multipleOf": 0.5}, {"multipleOf": 0.25}, k.CONSTRAINT_LOOSENED, Severity.COMPATIBLE),
        # OpenAPI 3.0 boolean exclusive bounds
        ({"minimum": 0}, {"minimum": 0, "exclusiveMinimum": True}, k.CONSTRAINT_TIGHTENED,
         Severity.BREAKING),
        ({"maximum": 1, "exclusiveMaximum": True}, {"maximum": 1, "exclusiveMaximum": False},
         k.CONSTRAINT_LOOSENED, Severity.COMPATIBLE),
        # JSON Schema 2020-12 numeric exclusive bounds
        ({"exclusiveMaximum": 10}, {"exclusiveMaximum": 5}, k.CONSTRAINT_TIGHTENED,
         Severity.BREAKING),
    ],
)  # fmt: skip
def test_numeric_constraints(
    old: dict[str, Any], new: dict[str, Any], kind: str, severity: Severity
) -> None:
    base = {"type": "number", "title": "X", "x-order": 0}
    [(got_kind, path, got_severity)] = found(
        model({"x": {**base, **old}}), model({"x": {**base, **new}})
    )
    assert (got_kind, got_severity) == (kind, severity)
    changed = {key for key in {**old, **new} if old.get(key) != new.get(key)}
    assert path.rsplit("/", 1)[1] in changed


def test_the_three_spellings_of_nullable_are_the_same_thing() -> None:
    spellings = [
        {"type": "string", "nullable": True},
        {"type": ["string", "null"]},
        {"anyOf": [{"type": "string"}, {"type": "null"}]},
    ]
    for a in spellings:
        for b in spellings:
            assert found(model({"x": a}), model({"x": b})) == []


def test_an_enum_moved_between_a_sibling_schema_and_the_property_is_compared_by_value() -> None:
    by_ref = model(
        {"fmt": {"allOf": [{"$ref": "#/components/schemas/fmt"}], "default": "png"}},
        fmt={"type": "string", "title": "fmt", "enum": ["png", "jpg"]},
    )
    renamed = model(
        {"fmt": {"allOf": [{"$ref": "#/components/schemas/Format"}], "default": "png"}},
        Format={"type": "string", "title": "fmt", "enum": ["png", "jpg"]},
    )
    inline = model(
        {"fmt": {"type": "string", "title": "fmt", "enum": ["png", "jpg"], "default": "png"}}
    )
    assert found(by_ref, renamed) == []
    assert found(by_ref, inline) == []
    smaller = copy.deepcopy(inline)
    smaller["components"]["schemas"]["Input"]["properties"]["fmt"]["enum"] = ["png"]
    assert found(by_ref, smaller) == [
        (k.ENUM_VALUE_REMOVED, "/input/properties/fmt/enum", Severity.BREAKING)
    ]


def test_an_enum_shared_by_two_inputs_is_reported_for_each() -> None:
    shared = {"type": "integer", "title": "size", "enum": [256, 512]}
    old = model(
        {
            "width": {"allOf": [{"$ref": "#/components/schemas/size"}]},
            "height": {"allOf": [{"$ref": "#/components/schemas/size"}]},
        },
        size=shared,
    )
    new = copy.deepcopy(old)
    new["components"]["schemas"]["size"]["enum"].append(1024)
    assert found(old, new) == [
        (k.ENUM_VALUE_ADDED, "/input/properties/height/enum", Severity.COMPATIBLE),
        (k.ENUM_VALUE_ADDED, "/input/properties/width/enum", Severity.COMPATIBLE),
    ]


def test_output_shapes_that_change_what_run_returns_are_breaking() -> None:
    chunks = {"type": "array", "items": {"type": "string"}, "x-cog-array-type": "iterator"}
    joined = {**chunks, "x-cog-array-display": "concatenate"}
    assert found(model({}, chunks), model({}, joined)) == [
        (k.TYPE_CHANGED, "/output/x-cog-array-display", Severity.BREAKING)
    ]
    assert found(model({}, {"type": "string"}), model({}, {"type": "string", "format": "uri"})) == [
        (k.FORMAT_CHANGED, "/output/format", Severity.BREAKING)
    ]
    assert found(model({}, {"type": "integer"}), model({}, {"type": "integer", "maximum": 10})) == [
        (k.CONSTRAINT_TIGHTENED, "/output/maximum", Severity.COMPATIBLE)
    ]
    assert found(model({}, {"type": "integer", "maximum": 10}), model({}, {"type": "integer"})) == [
        (k.CONSTRAINT_LOOSENED, "/output/maximum", Severity.BREAKING)
    ]


def test_a_secret_input_and_unknown_keywords() -> None:
    plain = model({"key": {"type": "string"}})
    secret = model({"key": {"type": "string", "x-cog-secret": True}})
    assert found(plain, secret) == [
        (k.FORMAT_CHANGED, "/input/properties/key/x-cog-secret", Severity.BREAKING)
    ]
    odd = model({"key": {"type": "string", "x-vendor": 1}})
    changes = diff_model_schemas("o/m", plain, odd)
    assert [(c.kind, c.severity) for c in changes] == [(k.KEYWORD_CHANGED, Severity.COMPATIBLE)]
    assert "review" in changes[0].message


def test_recursive_refs_terminate() -> None:
    node = {
        "type": "object",
        "properties": {"child": {"$ref": "#/components/schemas/Node"}, "name": {"type": "string"}},
    }
    old = model({}, {"$ref": "#/components/schemas/Node"}, Node=node)
    assert found(old, copy.deepcopy(old)) == []
    new = copy.deepcopy(old)
    new["components"]["schemas"]["Node"]["properties"]["name"]["type"] = "integer"
    assert (k.TYPE_CHANGED, "/output/properties/name/type", Severity.BREAKING) in found(old, new)
