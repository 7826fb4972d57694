"""Property tests of the drift detector on the real schemas (11 specs + 24 corpus versions).

Hypothesis applies one random mutation to a real ``openapi_schema`` -- the kind of change a model
author publishes -- and the detector must report exactly that change: one change (or one per
input sharing a mutated sibling schema), the right kind, the right JSON path, the right class.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from codegen.drift import changes as k
from codegen.drift.changes import Change, Severity
from codegen.drift.schema_diff import diff_model_schemas

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "contract_tests" / "fixtures"


def _load() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path in sorted((ROOT / "specs" / "models").glob("*/*/spec.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out.append((data["model"], data["openapi_schema"]))
    for path in sorted((FIXTURES / "corpus").glob("*.version.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out.append((path.name.split(".")[0].replace("__", "/"), data["openapi_schema"]))
    return out


SCHEMAS = _load()
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
REF = "#/components/schemas/"

Expected = tuple[str, str, Severity]


def test_the_real_schemas_are_all_here() -> None:
    assert len(SCHEMAS) == 36  # 12 specs (the trainer included) + 24 corpus versions


def found(changes: list[Change]) -> list[Expected]:
    return sorted((c.kind, c.path, c.severity) for c in changes)


def comps(schema: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = schema["components"]["schemas"]
    return result


def props(schema: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = comps(schema)["Input"].setdefault("properties", {})
    return result


def ref_name(prop: dict[str, Any]) -> str | None:
    for item in prop.get("allOf", []):
        ref = item.get("$ref", "")
        if ref.startswith(REF):
            return str(ref[len(REF) :])
    ref = prop.get("$ref", "")
    return str(ref[len(REF) :]) if ref.startswith(REF) else None


def enum_holder(schema: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The dict that carries the enum of input ``name`` (the property itself, or its sibling)."""
    prop = props(schema)[name]
    if "enum" in prop:
        return prop
    target = ref_name(prop)
    if target is not None and "enum" in comps(schema)[target]:
        result: dict[str, Any] = comps(schema)[target]
        return result
    return None


def users_of(schema: dict[str, Any], name: str) -> list[str]:
    """Inputs whose enum lives in the same place as input ``name``'s."""
    target = ref_name(props(schema)[name])
    if target is None:
        return [name]
    return [p for p, s in props(schema).items() if ref_name(s) == target]


def inline_enum(schema: dict[str, Any], name: str) -> None:
    """Move an enum from its sibling schema into the property (what older Cog versions publish)."""
    prop = props(schema)[name]
    target = comps(schema)[ref_name(prop) or ""]
    prop.pop("allOf", None)
    prop["type"] = target["type"]
    prop["enum"] = list(target["enum"])


def is_required(schema: dict[str, Any], name: str) -> bool:
    return name in (comps(schema)["Input"].get("required") or [])


def ptr(name: str, *rest: str) -> str:
    return "/".join(["/input/properties", name.replace("~", "~0").replace("/", "~1"), *rest])


models = st.sampled_from(SCHEMAS)


def check(ref: str, old: dict[str, Any], new: dict[str, Any], expected: list[Expected]) -> None:
    assert found(diff_model_schemas(ref, old, new)) == sorted(expected), ref


# -- unchanged / cosmetic ------------------------------------------------------------------------


def reorder_keys(node: Any, keep_properties: bool) -> Any:
    if isinstance(node, list):
        return [reorder_keys(item, keep_properties) for item in node]
    if not isinstance(node, dict):
        return node
    items = list(node.items())
    out = {}
    for key, value in reversed(items):
        if key == "properties" and keep_properties and isinstance(value, dict):
            out[key] = {n: reorder_keys(v, keep_properties) for n, v in value.items()}
        else:
            out[key] = reorder_keys(value, keep_properties)
    return out


@pytest.mark.parametrize(("ref", "schema"), SCHEMAS, ids=[r for r, _ in SCHEMAS])
def test_unchanged_and_key_reordered_schemas_report_nothing(
    ref: str, schema: dict[str, Any]
) -> None:
    assert diff_model_schemas(ref, schema, copy.deepcopy(schema)) == []
    assert diff_model_schemas(ref, schema, reorder_keys(schema, keep_properties=True)) == []
    # Reversing the order of the properties too is at most cosmetic.
    reordered = diff_model_schemas(ref, schema, reorder_keys(schema, keep_properties=False))
    assert all(c.severity is Severity.COSMETIC for c in reordered)
    if len(props(schema)) > 1:
        assert ("properties_reordered", "/input/properties") in [
            (c.kind, c.path) for c in reordered
        ]


@SETTINGS
@given(models, st.data())
def test_description_title_and_x_order_edits_are_cosmetic(
    model: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    ref, old = model
    assume(props(old))
    new = copy.deepcopy(old)
    name = data.draw(st.sampled_from(sorted(props(new))))
    key = data.draw(st.sampled_from(["description", "title", "x-order"]))
    prop = props(new)[name]
    prop[key] = 999 if key == "x-order" else f"{prop.get(key, '')} (edited)"
    check(ref, old, new, [(k.ANNOTATION_CHANGED, ptr(name, key), Severity.COSMETIC)])


@SETTINGS
@given(models, st.data())
def test_reordering_properties_is_one_cosmetic_change(
    model: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    ref, old = model
    names = list(props(old))
    assume(len(names) > 1)
    order = data.draw(st.permutations(names))
    assume(list(order) != names)
    new = copy.deepcopy(old)
    comps(new)["Input"]["properties"] = {n: props(new)[n] for n in order}
    check(ref, old, new, [(k.PROPERTIES_REORDERED, "/input/properties", Severity.COSMETIC)])


# -- inputs added / removed / required -------------------------------------------------------------


@SETTINGS
@given(models, st.booleans(), st.booleans(), st.sampled_from(["string", "integer", "boolean"]))
def test_a_new_input_is_breaking_only_when_required_without_default(
    model: tuple[str, dict[str, Any]], required: bool, with_default: bool, type_: str
) -> None:
    ref, old = model
    new = copy.deepcopy(old)
    name = "zz_new_input"
    assume(name not in props(old))
    schema: dict[str, Any] = {"type": type_, "title": "Zz New Input", "x-order": len(props(old))}
    if with_default:
        schema["default"] = {"string": "", "integer": 1, "boolean": False}[type_]
    props(new)[name] = schema
    if required:
        comps(new)["Input"].setdefault("required", []).append(name)
    breaking = required and not with_default
    check(
        ref,
        old,
        new,
        [(k.PROPERTY_ADDED, ptr(name), Severity.BREAKING if breaking else Severity.COMPATIBLE)],
    )


@SETTINGS
@given(models, st.data())
def test_a_removed_input_is_breaking(
    model: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    ref, old = model
    assume(props(old))
    new = copy.deepcopy(old)
    name = data.draw(st.sampled_from(sorted(props(new))))
    del props(new)[name]
    required = comps(new)["Input"].get("required")
    if required and name in required:
        required.remove(name)
    check(ref, old, new, [(k.PROPERTY_REMOVED, ptr(name), Severity.BREAKING)])


@SETTINGS
@given(models, st.data())
def test_flipping_required(model: tuple[str, dict[str, Any]], data: st.DataObject) -> None:
    ref, old = model
    assume(props(old))
    new = copy.deepcopy(old)
    name = data.draw(st.sampled_from(sorted(props(new))))
    required = comps(new)["Input"].setdefault("required", [])
    if name in required:
        required.remove(name)
        severity = Severity.COMPATIBLE  # required -> optional
    else:
        required.append(name)
        severity = Severity.COMPATIBLE if "default" in props(new)[name] else Severity.BREAKING
    check(ref, old, new, [(k.REQUIRED_CHANGED, ptr(name, "required"), severity)])


# -- types, formats, nullability -------------------------------------------------------------------

TYPES = ["string", "integer", "number", "boolean", "array", "object"]


@SETTINGS
@given(models, st.data())
def test_a_changed_input_type_is_breaking(
    model: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    ref, old = model
    typed = sorted(n for n, p in props(old).items() if isinstance(p.get("type"), str))
    assume(typed)
    new = copy.deepcopy(old)
    name = data.draw(st.sampled_from(typed))
    prop = props(new)[name]
    prop["type"] = data.draw(st.sampled_from([t for t in TYPES if t != prop["type"]]))
    check(ref, old, new, [(k.TYPE_CHANGED, ptr(name, "type"), Severity.BREAKING)])


@SETTINGS
@given(models, st.data())
def test_a_changed_output_type_is_breaking(
    model: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    ref, old = model
    new = copy.deepcopy(old)
    output = comps(new)["Output"]
    target = comps(new)[ref_name(output) or ""] if "type" not in output else output
    target["type"] = data.draw(st.sampled_from([t for t in TYPES if t != target.get("type")]))
    check(ref, old, new, [(k.TYPE_CHANGED, "/output/type", Severity.BREAKING)])


@SETTINGS
@given(models, st.data())
def test_a_format_change_is_breaking(
    model: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    ref, old = model
    strings = sorted(n for n, p in props(old).items() if p.get("type") == "string")
    assume(strings)
    new = copy.deepcopy(old)
    name = data.draw(st.sampled_from(strings))
    prop = props(new)[name]
    choices = [f for f in ["uri", "date-time", "password", None] if f != prop.get("format")]
    fmt = data.draw(st.sampled_from(choices))
    if fmt is None:
        del prop["format"]
    else:
        prop["format"] = fmt
    check(ref, old, new, [(k.FORMAT_CHANGED, ptr(name, "format"), Severity.BREAKING)])


@SETTINGS
@given(models, st.data())
def test_nullable_toggled(model: tuple[str, dict[str, Any]], data: st.DataObject) -> None:
    ref, old = model
    assume(props(old))
    new = copy.deepcopy(old)
    name = data.draw(st.sampled_from(sorted(props(new))))
    prop = props(new)[name]
    was = prop.pop("nullable", False) is True
    if not was:
        prop["nullable"] = True
    # An input that stops accepting null breaks callers; accepting null is compatible.
    severity = Severity.BREAKING if was else Severity.COMPATIBLE
    check(ref, old, new, [(k.NULLABLE_CHANGED, ptr(name, "nullable"), severity)])


# -- defaults ----------------------------------------------------------------------------------------


def _other(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, str):
        return value + "_changed"
    if isinstance(value, list):
        return [*value, "x"]
    return "changed"


@SETTINGS
@given(models, st.data(), st.booleans())
def test_default_changed_or_removed_is_compatible(
    model: tuple[str, dict[str, Any]], data: st.DataObject, remove: bool
) -> None:
    ref, old = model
    with_default = sorted(n for n, p in props(old).items() if "default" in p)
    assume(with_default)
    new = copy.deepcopy(old)
    name = data.draw(st.sampled_from(with_default))
    prop = props(new)[name]
    if remove:
        del prop["default"]
    else:
        prop["default"] = _other(prop["default"])
    check(ref, old, new, [(k.DEFAULT_CHANGED, ptr(name, "default"), Severity.COMPATIBLE)])


# -- enums (inline and in sibling schemas) --------------------------------------------------------


def _enum_inputs(schema: dict[str, Any]) -> list[str]:
    return sorted(n for n in props(schema) if enum_holder(schema, n) is not None)


@SETTINGS
@given(models, st.data(), st.booleans(), st.booleans())
def test_enum_value_added_or_removed(
    model: tuple[str, dict[str, Any]], data: st.DataObject, add: bool, inline: bool
) -> None:
    ref, base = model
    candidates = _enum_inputs(base)
    assume(candidates)
    name = data.draw(st.sampled_from(candidates))
    old = copy.deepcopy(base)
    if inline and ref_name(props(old)[name]) is not None:
        inline_enum(old, name)
    users = users_of(old, name)
    new = copy.deepcopy(old)
    holder = enum_holder(new, name)
    assert holder is not None
    values = holder["enum"]
    if add:
        new_value: Any = (
            max(values) + 1 if all(isinstance(v, int) for v in values) else "zz_new_value"
        )
        values.append(new_value)
        expected = [(k.ENUM_VALUE_ADDED, ptr(u, "enum"), Severity.COMPATIBLE) for u in users]
    else:
        assume(len(values) > 1)
        values.remove(data.draw(st.sampled_from(values)))
        expected = [(k.ENUM_VALUE_REMOVED, ptr(u, "enum"), Severity.BREAKING) for u in users]
    check(ref, old, new, expected)


@SETTINGS
@given(models, st.data())
def test_enum_order_and_place_are_cosmetic(
    model: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    ref, old = model
    candidates = [n for n in _enum_inputs(old) if len(enum_holder(old, n)["enum"]) > 1]  # type: ignore[index]
    assume(candidates)
    name = data.draw(st.sampled_from(candidates))
    # Moved from the sibling schema into the property: compared by value, so at most cosmetic.
    moved = copy.deepcopy(old)
    if ref_name(props(moved)[name]) is not None:
        inline_enum(moved, name)
        assert all(c.severity is Severity.COSMETIC for c in diff_model_schemas(ref, old, moved))
    # Reversed values: exactly one cosmetic change per input using that enum.
    new = copy.deepcopy(old)
    holder = enum_holder(new, name)
    assert holder is not None
    holder["enum"] = list(reversed(holder["enum"]))
    expected = [(k.ENUM_REORDERED, ptr(u, "enum"), Severity.COSMETIC) for u in users_of(old, name)]
    check(ref, old, new, expected)


# -- bounds --------------------------------------------------------------------------------------

BOUNDS = {
    "integer": ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"],
    "number": ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"],
    "string": ["minLength", "maxLength"],
    "array": ["minItems", "maxItems"],
}
LOWER = {"minimum", "exclusiveMinimum", "minLength", "minItems"}


@SETTINGS
@given(models, st.data(), st.booleans())
def test_bounds_tightened_or_loosened(
    model: tuple[str, dict[str, Any]], data: st.DataObject, tighten: bool
) -> None:
    ref, old = model
    candidates = sorted(n for n, p in props(old).items() if p.get("type") in BOUNDS)
    assume(candidates)
    new = copy.deepcopy(old)
    name = data.draw(st.sampled_from(candidates))
    prop = props(new)[name]
    key = data.draw(st.sampled_from(BOUNDS[prop["type"]]))
    current = prop.get(key)
    if tighten:
        if current is None:
            prop[key] = {"multipleOf": 2}.get(key, 0 if key in LOWER else 1000)
        elif key == "multipleOf":
            prop[key] = current * 2 + 1  # not a divisor of the old step: fewer values allowed
        else:
            prop[key] = current + 1 if key in LOWER else current - 1
    else:
        assume(current is not None)
        if data.draw(st.booleans()) or key == "multipleOf":
            del prop[key]
        else:
            prop[key] = current - 1 if key in LOWER else current + 1
    kind = k.CONSTRAINT_TIGHTENED if tighten else k.CONSTRAINT_LOOSENED
    severity = Severity.BREAKING if tighten else Severity.COMPATIBLE
    check(ref, old, new, [(kind, ptr(name, key), severity)])


# -- outputs --------------------------------------------------------------------------------------


@SETTINGS
@given(models, st.data())
def test_output_fields_and_item_formats(
    model: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    ref, old = model
    new = copy.deepcopy(old)
    output = comps(new)["Output"]
    if isinstance(output.get("items"), dict) and output["items"].get("type") == "string":
        items = output["items"]
        was = items.get("format")
        if was is None:
            items["format"] = "uri"
        else:
            del items["format"]
        check(ref, old, new, [(k.FORMAT_CHANGED, "/output/items/format", Severity.BREAKING)])
    elif isinstance(output.get("properties"), dict) and output["properties"]:
        name = data.draw(st.sampled_from(sorted(output["properties"])))
        del output["properties"][name]
        if name in output.get("required", []):
            output["required"].remove(name)
        check(
            ref,
            old,
            new,
            [(k.PROPERTY_REMOVED, f"/output/properties/{name}", Severity.BREAKING)],
        )
    else:
        output["title"] = "Renamed"
        check(ref, old, new, [(k.ANNOTATION_CHANGED, "/output/title", Severity.COSMETIC)])


@SETTINGS
@given(models)
def test_output_direction_is_reversed_for_null(model: tuple[str, dict[str, Any]]) -> None:
    """An output that may now be null breaks readers (an input that accepts null does not)."""
    ref, old = model
    new = copy.deepcopy(old)
    output = comps(new)["Output"]
    was = output.pop("nullable", False) is True
    if not was:
        output["nullable"] = True
    severity = Severity.COMPATIBLE if was else Severity.BREAKING
    check(ref, old, new, [(k.NULLABLE_CHANGED, "/output/nullable", severity)])


@SETTINGS
@given(models, st.booleans())
def test_a_new_output_field_is_compatible(
    model: tuple[str, dict[str, Any]], required: bool
) -> None:
    ref, old = model
    output = comps(old)["Output"]
    target_name = ref_name(output) if "type" not in output else None
    target = comps(old)[target_name] if target_name else output
    assume(target.get("type") == "object" and isinstance(target.get("properties"), dict))
    new = copy.deepcopy(old)
    target = comps(new)[target_name] if target_name else comps(new)["Output"]
    target["properties"]["zz_extra"] = {"type": "string", "title": "Zz Extra"}
    if required:
        target.setdefault("required", []).append("zz_extra")
    check(ref, old, new, [(k.PROPERTY_ADDED, "/output/properties/zz_extra", Severity.COMPATIBLE)])
