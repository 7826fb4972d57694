"""``accepts_null`` (the runtime's null check, no JSON Schema library) agrees with ``jsonschema``:
on random schemas built from every keyword that can reject null, and on every input property of
every generated model."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from replicate_typed.core.model import accepts_null
from replicate_typed.models import registry

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from(["", "a"]))
TYPES = ["null", "string", "integer", "number", "boolean", "array", "object"]
DEFS = ("A", "B/c", "D~e")


def _leaf() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.booleans(),
        st.fixed_dictionaries(
            {},
            optional={
                "type": st.one_of(
                    st.sampled_from(TYPES), st.lists(st.sampled_from(TYPES), max_size=3)
                ),
                "enum": st.lists(SCALARS, min_size=1, max_size=3),
                "const": SCALARS,
                "minimum": st.integers(0, 3),
                "format": st.just("uri"),
                "$ref": st.sampled_from(["#/$defs/A", "#/$defs/B~1c", "#/$defs/D~0e"]),
            },
        ),
    )


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    lists = st.lists(children, min_size=1, max_size=3)
    return st.fixed_dictionaries(
        {},
        optional={
            "allOf": lists,
            "anyOf": lists,
            "oneOf": lists,
            "not": children,
            "if": children,
            "then": children,
            "else": children,
            "type": st.sampled_from(TYPES),
        },
    )


SCHEMAS = st.recursive(_leaf(), _extend, max_leaves=8)


@settings(max_examples=100, deadline=None)
@given(schema=SCHEMAS, defs=st.fixed_dictionaries({name: _leaf() for name in DEFS}))
def test_agrees_with_jsonschema_on_random_schemas(schema: Any, defs: dict[str, Any]) -> None:
    # $defs hold no $ref of their own: no cycles (jsonschema would recurse forever)
    defs = {name: _strip_ref(value) for name, value in defs.items()}
    document = schema if isinstance(schema, bool) else {**schema, "$defs": defs}
    expected = Draft202012Validator(document).is_valid(None)
    assert accepts_null(schema, defs) is expected, (schema, defs)


def _strip_ref(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "$ref"}
    return value


def test_agrees_with_jsonschema_on_every_generated_input_property() -> None:
    checked = 0
    for ref in registry:
        schema = registry.get_model(ref).input_schema
        defs = schema.get("$defs", {})
        for prop in schema.get("properties", {}).values():
            expected = Draft202012Validator({**prop, "$defs": defs}).is_valid(None)
            assert accepts_null(prop, defs) is expected, (ref, prop)
            checked += 1
    assert checked > 100
