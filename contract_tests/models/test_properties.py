"""Properties of every generated model in the registry (the router's models).

* inputs drawn from the model's INPUT_SCHEMA (hypothesis-jsonschema) are accepted by ``Input``,
  and everything ``Input`` serialises validates against INPUT_SCHEMA: the client never sends what
  the model rejects;
* a value breaking one rule (minimum, maximum, enum, multipleOf, type, required, unknown field) is
  rejected with a pydantic error naming the field and the rule, and INPUT_SCHEMA rejects it too;
* the defaults of ``Input`` are the schema's; every example of the spec is a valid input.
"""

from __future__ import annotations

import copy
import math
import sys
import types
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning
from hypothesis_jsonschema import from_schema
from pydantic import ValidationError

from codegen import generate as gen
from codegen.spec import validate_spec_data
from contract_tests.models._values import minimal_input, resolve, types_of
from replicate_typed.core.model import ModelInfo
from replicate_typed.models import registry

ROOT = Path(__file__).resolve().parents[2]
REFS = sorted(registry)

# FileInput takes http(s) URLs and data: URIs only: uri inputs are drawn as http(s) URLs.
URLS = st.builds(
    "{}://{}.example/{}".format,
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_./-]{0,20}", fullmatch=True),
)


def _info(ref: str) -> ModelInfo[Any, Any]:
    return registry.get_model(ref)


@cache
def _strategy(ref: str) -> st.SearchStrategy[dict[str, Any]]:
    # The client forbids unknown fields by design, so draw only the model's own fields.
    # A deep copy: hypothesis-jsonschema resolves $refs by assigning into the schema it is given,
    # and a shallow copy would share (and rewrite) the model's INPUT_SCHEMA properties.
    schema = {**copy.deepcopy(_info(ref).input_schema), "additionalProperties": False}
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", HypothesisWarning
        )  # we override the 'uri' format on purpose
        return from_schema(schema, custom_formats={"uri": URLS})


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema)


def _schema_errors(schema: dict[str, Any], instance: Any) -> list[str]:
    return [
        f"{list(e.absolute_path)}: {e.message}" for e in _validator(schema).iter_errors(instance)
    ]


@pytest.mark.parametrize("ref", REFS)
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(data=st.data())
def test_schema_instances_are_accepted_and_what_is_sent_validates(
    ref: str, data: st.DataObject
) -> None:
    info = _info(ref)
    instance = data.draw(_strategy(ref), label="input")
    value = info.input_type.model_validate(instance)
    sent = value.to_request_input()
    assert set(sent) == set(instance)  # only what was given is sent
    for key, given_value in instance.items():
        if not isinstance(given_value, float | int) or isinstance(given_value, bool):
            assert sent[key] == given_value, key
        else:
            assert math.isclose(sent[key], given_value, rel_tol=1e-12), key
    assert _schema_errors(info.input_schema, sent) == []
    full = value.model_dump(mode="json", by_alias=True)
    assert _schema_errors(info.input_schema, full) == []


# --- one broken rule at a time ------------------------------------------------------------------

TYPE_BREAKERS: dict[str, tuple[Any, set[str]]] = {
    "integer": ("not-a-number", {"int_parsing", "int_type"}),
    "number": ("not-a-number", {"float_parsing", "float_type"}),
    "string": (12345, {"string_type"}),
    "boolean": ("maybe", {"bool_parsing", "bool_type"}),
    "array": (7, {"list_type"}),
}


def _step(kind: str) -> float:
    return 1 if kind == "integer" else 0.5


def rule_cases(schema: dict[str, Any]) -> list[tuple[str, str, Any, set[str]]]:
    """(field, rule, breaking value, pydantic error types that name the rule) for every rule."""
    defs = schema.get("$defs", {})
    cases: list[tuple[str, str, Any, set[str]]] = []
    for name, raw in schema.get("properties", {}).items():
        prop = resolve(raw, defs)
        kinds = [k for k in types_of(prop) if k != "null"]
        kind = kinds[0] if kinds else None
        if "enum" in prop:
            values = [v for v in prop["enum"] if v is not None]
            if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                bad: Any = max(values) + 1
            else:
                bad = "not-one-of-the-choices"
            cases.append((name, "enum", bad, {"literal_error", "enum"}))
            cases.append((name, "type", [values[0]] if values else [], {"literal_error", "enum"}))
            continue
        if kind in ("integer", "number"):
            step = prop.get("multipleOf", _step(kind))  # break only the bound, not multipleOf
            if "minimum" in prop:
                cases.append((name, "minimum", prop["minimum"] - step, {"greater_than_equal"}))
            if "exclusiveMinimum" in prop:
                cases.append((name, "exclusiveMinimum", prop["exclusiveMinimum"], {"greater_than"}))
            if "maximum" in prop:
                cases.append((name, "maximum", prop["maximum"] + step, {"less_than_equal"}))
            if "exclusiveMaximum" in prop:
                cases.append((name, "exclusiveMaximum", prop["exclusiveMaximum"], {"less_than"}))
            if "multipleOf" in prop:
                low = prop.get("minimum", 0)
                bad = math.ceil(low / step) * step + step / 2
                if kind == "integer" and bad != int(bad):
                    bad = math.ceil(low / step) * step + 1 if step > 1 else None
                elif kind == "integer":
                    bad = int(bad)  # an integer field takes an int (Inputs are strict)
                if bad is not None and bad <= prop.get("maximum", math.inf):
                    cases.append((name, "multipleOf", bad, {"multiple_of"}))
        if kind == "string" and "maxLength" in prop:
            cases.append((name, "maxLength", "x" * (prop["maxLength"] + 1), {"string_too_long"}))
        if kind == "string" and "minLength" in prop and prop["minLength"] > 0:
            cases.append((name, "minLength", "", {"string_too_short"}))
        if kind == "string" and prop.get("format") == "uri":
            cases.append((name, "type", 12345, {"file_input_type"}))
            cases.append((name, "format", "ftp://example.com/x", {"file_input_url"}))
        elif kind in TYPE_BREAKERS:
            bad, expected = TYPE_BREAKERS[kind]
            cases.append((name, "type", bad, expected))
    for name in schema.get("required", []):
        cases.append((name, "required", None, {"missing"}))
    return cases


RULE_CASES = [
    pytest.param(ref, field, rule, bad, expected, id=f"{ref}:{field}:{rule}")
    for ref in REFS
    for field, rule, bad, expected in rule_cases(_info(ref).input_schema)
]


def assert_rejected(
    Input: Any, schema: dict[str, Any], field: str, rule: str, bad: Any, expected: set[str]
) -> None:
    base = minimal_input(schema)
    attempt = {k: v for k, v in base.items() if k != field}
    if rule != "required":
        attempt[field] = bad
    with pytest.raises(ValidationError) as info:
        Input.model_validate(attempt)
    errors = info.value.errors()
    named = [e for e in errors if e["loc"] and e["loc"][0] == field]
    assert named, f"no error names {field}: {errors}"
    assert {e["type"] for e in named} & expected, f"{field} {rule}: {named}"
    message = str(info.value)
    assert field in message
    if rule == "required":
        assert "Field required" in message
    if rule == "format":
        assert f"got '{bad}'" in message  # the rejected value is named
    # the published schema rejects the same input: the client refuses only what the model would
    if rule not in ("format", "type") or not isinstance(bad, list):
        if rule != "format":  # jsonschema does not assert formats; FileInput is stricter by design
            assert _schema_errors(schema, attempt), f"INPUT_SCHEMA accepts {field}={bad!r}"


@pytest.mark.parametrize(("ref", "field", "rule", "bad", "expected"), RULE_CASES)
def test_a_broken_rule_is_rejected_naming_field_and_rule(
    ref: str, field: str, rule: str, bad: Any, expected: set[str]
) -> None:
    info = _info(ref)
    assert_rejected(info.input_type, info.input_schema, field, rule, bad, expected)


def test_the_rules_are_covered() -> None:
    rules = {case.values[2] for case in RULE_CASES}
    assert {"minimum", "maximum", "enum", "type", "required"} <= rules


@pytest.mark.parametrize("ref", REFS)
def test_unknown_fields_are_rejected(ref: str) -> None:
    info = _info(ref)
    with pytest.raises(ValidationError) as exc:
        info.input_type.model_validate({**minimal_input(info.input_schema), "not_a_field": 1})
    assert [(e["loc"], e["type"]) for e in exc.value.errors()] == [
        (("not_a_field",), "extra_forbidden")
    ]


# --- defaults and examples ----------------------------------------------------------------------


@pytest.mark.parametrize("ref", REFS)
def test_defaults_are_the_schemas(ref: str) -> None:
    info = _info(ref)
    fields = {(f.alias or name): f for name, f in info.input_type.model_fields.items()}
    schema = info.input_schema
    assert set(fields) == set(schema.get("properties", {}))
    for name, prop in schema.get("properties", {}).items():
        field = fields[name]
        if name in schema.get("required", []):
            assert field.is_required(), name
        elif "default" in prop:
            assert field.default == prop["default"], name
            assert type(field.default) is type(prop["default"]) or (
                isinstance(prop["default"], int) and isinstance(field.default, float)
            ), name
        else:
            assert field.default is None, name  # optional: left to the model
    # unset defaults are not sent: the server applies its own
    assert info.input_type.model_validate(
        minimal_input(schema)
    ).to_request_input() == minimal_input(schema)


EXAMPLES = [
    pytest.param(ref, index, id=f"{ref}:{index}")
    for ref in REFS
    for index in range(len(_info(ref).examples))
]


@pytest.mark.parametrize(("ref", "index"), EXAMPLES)
def test_spec_examples_are_valid_inputs(ref: str, index: int) -> None:
    info = _info(ref)
    example = info.examples[index]["input"]
    assert _schema_errors(info.input_schema, example) == []
    value = info.input_type.model_validate(example)
    assert value.to_request_input() == example


def test_there_are_examples() -> None:
    assert len(EXAMPLES) >= 5


# --- the rule mapping on a synthetic model (rules the router's models lack) ---------------------


SYNTHETIC = {
    "model": "acme/rules",
    "call": "path",
    "version": None,
    "openapi_schema": {
        "components": {
            "schemas": {
                "Input": {
                    "type": "object",
                    "required": ["text"],
                    "properties": {
                        "text": {"type": "string", "minLength": 2, "maxLength": 5},
                        "width": {
                            "type": "integer",
                            "multipleOf": 64,
                            "minimum": 64,
                            "default": 512,
                        },
                        "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
                        "mode": {"type": "integer", "enum": [1, 2, 4]},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "image": {"type": "string", "format": "uri"},
                        "flag": {"type": "boolean", "default": False},
                        "token": {"type": "string", "format": "password"},
                    },
                },
                "Output": {"type": "string"},
            }
        }
    },
}


@cache
def _synthetic() -> Any:
    spec = validate_spec_data(Path("spec.json"), SYNTHETIC)
    module = types.ModuleType("_synthetic_rules")
    sys.modules[module.__name__] = module
    exec(compile(gen.render_model(gen._env(), spec, ROOT), "<rules>", "exec"), module.__dict__)
    return module


def _synthetic_cases() -> list[Any]:
    schema = SYNTHETIC["openapi_schema"]["components"]["schemas"]["Input"]  # type: ignore[index]
    return [
        pytest.param(field, rule, bad, expected, id=f"{field}:{rule}")
        for field, rule, bad, expected in rule_cases(schema)
    ]


@pytest.mark.parametrize(("field", "rule", "bad", "expected"), _synthetic_cases())
def test_every_rule_kind_on_a_synthetic_model(
    field: str, rule: str, bad: Any, expected: set[str]
) -> None:
    module = _synthetic()
    assert_rejected(module.Input, module.INPUT_SCHEMA, field, rule, bad, expected)


def test_synthetic_cases_cover_every_rule() -> None:
    rules = {p.values[1] for p in _synthetic_cases()}
    assert rules >= {
        "minimum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "enum",
        "type",
        "required",
        "minLength",
        "maxLength",
        "format",
    }


def test_secret_is_masked_but_sent() -> None:
    module = _synthetic()
    value = module.Input(text="abc", token="tok-secret-123")
    assert "tok-secret-123" not in repr(value) and "tok-secret-123" not in str(value)
    assert value.to_request_input() == {"text": "abc", "token": "tok-secret-123"}
