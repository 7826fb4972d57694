"""Random Cog-like Input/Output schemas: the generator makes a working module or a SpecError.

Never a crash, never a module that fails to import, and what a working module accepts is what
its INPUT_SCHEMA accepts for the minimal input.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from codegen import examples
from codegen import generate as gen
from codegen.errors import SpecError, SpecErrors
from codegen.spec import validate_spec_data
from contract_tests.models._values import minimal_input

ROOT = Path(__file__).resolve().parents[2]

numbers = st.one_of(st.integers(-1000, 1000), st.floats(-1e3, 1e3, allow_nan=False))
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=5))
types_ = st.sampled_from(["string", "integer", "number", "boolean", "array", "object", "strin"])


@st.composite
def property_schema(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(types_)
    prop: dict[str, Any] = {"type": kind, "title": draw(st.text(max_size=8))}
    if kind in ("integer", "number") and draw(st.booleans()):
        prop["minimum"] = draw(numbers)
    if kind in ("integer", "number") and draw(st.booleans()):
        prop["maximum"] = draw(numbers)
    if kind in ("integer", "number") and draw(st.booleans()):
        bound = draw(st.sampled_from(["exclusiveMinimum", "exclusiveMaximum", "multipleOf"]))
        prop[bound] = draw(numbers.filter(lambda n: n > 0) if bound == "multipleOf" else numbers)
    if kind == "string" and draw(st.booleans()):
        prop[draw(st.sampled_from(["minLength", "maxLength"]))] = draw(st.integers(0, 60))
    if kind == "array" and draw(st.booleans()):
        prop["minItems"] = draw(st.integers(1, 3))
    if kind == "string":
        prop.update(
            draw(
                st.sampled_from(
                    [{}, {"format": "uri"}, {"format": "password"}, {"x-cog-secret": True}]
                )
            )
        )
    if kind == "array":
        prop["items"] = draw(
            st.sampled_from([{"type": "string"}, {"type": "string", "format": "uri"}, {}])
        )
    if draw(st.booleans()):
        values = st.one_of(scalars, st.text(min_size=41, max_size=60))  # cut in a docstring?
        prop["enum"] = draw(st.lists(values, min_size=1, max_size=4, unique_by=repr))
    if draw(st.booleans()):
        prop["nullable"] = True
    if draw(st.booleans()):
        prop["default"] = draw(scalars)
    if draw(st.booleans()):
        prop["description"] = draw(st.text(max_size=20))  # quotes, backslashes, unicode
    return prop


outputs = st.sampled_from(
    [
        {"type": "string"},
        {"type": "string", "format": "uri"},
        {"type": "array", "items": {"type": "string", "format": "uri"}},
        {
            "type": "array",
            "items": {"type": "string"},
            "x-cog-array-type": "iterator",
            "x-cog-array-display": "concatenate",
        },
        {"type": "object", "properties": {"a": {"type": "integer"}}},
        {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "number"}}]},
        {},
    ]
)

field_names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(
    st.dictionaries(field_names, property_schema(), min_size=1, max_size=4),
    st.data(),
    outputs,
)
def test_random_schemas_generate_or_fail_cleanly(
    props: dict[str, dict[str, Any]], data: st.DataObject, output: dict[str, Any]
) -> None:
    required = data.draw(st.lists(st.sampled_from(sorted(props)), unique=True, max_size=2))
    spec_data = {
        "model": "fuzz/model",
        "call": "path",
        "version": None,
        "openapi_schema": {
            "components": {
                "schemas": {
                    "Input": {"type": "object", "properties": props, "required": required},
                    "Output": output,
                }
            }
        },
    }
    try:
        spec = validate_spec_data(Path("spec.json"), spec_data)
        text = gen.render_model(gen._env(), spec, ROOT)
    except (SpecError, SpecErrors) as exc:
        assert all(str(e).startswith("spec.json: at /") for e in gen.iter_errors(exc))
        return
    name = f"_fuzz_{abs(hash(text))}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(text, name, "exec"), module.__dict__)  # the module imports
    schema = module.INPUT_SCHEMA
    # a module was written, so its docstring's usage example is an input the model accepts
    example = examples.example_input(spec, schema)
    assert jsonschema.Draft202012Validator(schema).is_valid(example), example
    module.Input.model_validate(example)
    base = minimal_input(schema)
    if jsonschema.Draft202012Validator(schema).is_valid(base):
        value = module.Input.model_validate(base)
        sent = value.to_request_input()
        assert jsonschema.Draft202012Validator(schema).is_valid(sent), sent


def compiled_model(name: str, props: dict[str, Any]) -> tuple[str, types.ModuleType]:
    """Generate and import the model module of an Input with ``props`` (all required)."""
    spec = validate_spec_data(
        Path("spec.json"),
        {
            "model": f"fuzz/{name}",
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
        },
    )
    text = gen.render_model(gen._env(), spec, ROOT)
    module = types.ModuleType(f"_fuzz_{name}")
    sys.modules[module.__name__] = module
    exec(compile(text, module.__name__, "exec"), module.__dict__)
    return text, module


def test_enum_with_bounds_keeps_only_allowed_values() -> None:
    text, module = compiled_model(
        "enum", {"n": {"type": "integer", "enum": [1, 5, 500], "maximum": 100}}
    )
    assert "Literal[1, 5]" in text
    assert module.Input(n=5).to_request_input() == {"n": 5}
    with pytest.raises(ValidationError):
        module.Input(n=500)  # the schema's maximum rejects it too
    assert not jsonschema.Draft202012Validator(module.INPUT_SCHEMA).is_valid({"n": 500})


@pytest.mark.parametrize(
    "field",
    [
        {"type": "string", "format": "uri", "enum": [""]},  # found by the property test above
        {"type": "string", "format": "uri", "enum": ["https://x.test/a.png", "https://x.test/b"]},
        {"type": "string", "format": "uri", "const": "https://x.test/only.png"},
        {"type": "string", "format": "password", "enum": ["low", "high"]},
    ],
)
def test_exact_values_win_over_file_and_secret_types(field: dict[str, Any]) -> None:
    """An enum or const on a uri/secret string is a closed list of exact values: the field is a
    Literal (every allowed value accepted as it is, anything else refused), not a FileInput or
    Secret that would refuse an allowed value or let another through."""
    allowed = field.get("enum", [field.get("const")])
    text, module = compiled_model("exact", {"a": field})
    assert "FileInput" not in text.split("class Input")[1] and "Secret" not in text
    for value in allowed:
        assert module.Input(a=value).to_request_input() == {"a": value}
    with pytest.raises(ValidationError, match="a"):
        module.Input(a="https://x.test/other.png")
