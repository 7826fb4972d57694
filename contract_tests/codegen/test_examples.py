"""The docstring's usage example (codegen/examples.py): always an input the model accepts.

Each case is a field shape the old placeholder got wrong (a fractional or exclusive bound on an
integer, a step, a length limit, an enum value too long for the docstring); the property test
in test_schema_fuzz.py draws the rest of the class.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from codegen import examples
from codegen.errors import SpecError
from codegen.spec import validate_spec_data

LONG = "a very long enum value, longer than the docstring cut of forty"


def spec_of(props: dict[str, Any], examples_: list[dict[str, Any]] | None = None) -> Any:
    data: dict[str, Any] = {
        "model": "odd/model",
        "call": "path",
        "version": None,
        "openapi_schema": {
            "components": {
                "schemas": {
                    "Input": {"type": "object", "properties": props, "required": sorted(props)},
                    "Output": {"type": "string"},
                }
            }
        },
    }
    if examples_ is not None:
        data["examples"] = [{"input": e} for e in examples_]
    return validate_spec_data(Path("spec.json"), data)


def schema_of(props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": sorted(props)}


@pytest.mark.parametrize(
    "field",
    [
        {"type": "integer", "maximum": 0.5},
        {"type": "integer", "minimum": -2.5, "maximum": -1.5},
        {"type": "integer", "exclusiveMinimum": 5},
        {"type": "integer", "exclusiveMaximum": 0},
        {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 0.001},
        {"type": "integer", "minimum": 3, "multipleOf": 4},
        {"type": "number", "minimum": 0.1, "multipleOf": 0.25},
        {"type": "string", "maxLength": 2},
        {"type": "string", "minLength": 70},
        {"type": "string", "maxLength": 0},
        {"type": "array", "items": {"type": "integer", "minimum": 7}, "minItems": 2},
        {"type": "string", "format": "uri", "minLength": 80},
        {"type": "array", "items": {"type": "string", "format": "uri"}, "minItems": 1},
        {"type": "string", "enum": [LONG]},
        {"anyOf": [{"type": "integer", "maximum": -3}, {"type": "null"}]},
        {"type": ["null", "boolean"]},
    ],
    ids=repr,
)
def test_placeholder_is_accepted_by_the_field(field: dict[str, Any]) -> None:
    props = {"x": field}
    value = examples.example_input(spec_of(props), schema_of(props))
    assert jsonschema.Draft202012Validator(schema_of(props)).is_valid(value), value


def test_a_long_enum_value_is_not_cut() -> None:
    props = {"x": {"type": "string", "enum": [LONG]}}
    assert examples.example_input(spec_of(props), schema_of(props)) == {"x": LONG}


def test_a_long_free_string_is_still_cut() -> None:
    props = {"x": {"type": "string"}}
    value = examples.example_input(spec_of(props, [{"x": "b" * 90}]), schema_of(props))
    assert value == {"x": "b" * (examples.EXAMPLE_CHARS - 3) + "..."}


@pytest.mark.parametrize(
    "field",
    [
        {"type": "integer", "minimum": 1, "maximum": 0.5},
        {"type": "string", "minLength": 5, "maxLength": 2},
        {"type": "integer", "minimum": 1, "maximum": 3, "multipleOf": 5},
        {"type": "string", "format": "uri", "maxLength": 0},  # a file input takes no ''
    ],
    ids=repr,
)
def test_an_unsatisfiable_field_stops_with_its_pointer(field: dict[str, Any]) -> None:
    props = {"size": field}
    with pytest.raises(SpecError) as caught:
        examples.example_input(spec_of(props), schema_of(props))
    text = str(caught.value)
    assert text.startswith("spec.json: at /openapi_schema/components/schemas/Input/properties/size")
    assert "examples" in text


def test_a_spec_example_wins_over_placeholders() -> None:
    props = {"x": {"type": "integer", "minimum": 0, "maximum": 100}}
    assert examples.example_input(spec_of(props, [{"x": 42}]), schema_of(props)) == {"x": 42}
