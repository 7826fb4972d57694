"""Valid and invalid values read off a model's JSON Schema (no hypothesis: deterministic)."""

from __future__ import annotations

import math
from typing import Any

SAMPLE_URL = "https://example.com/input.png"


def resolve(prop: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """A property with its ``$ref`` / single-``allOf`` refs merged in (Cog writes enums that way)."""
    if not isinstance(prop, dict):
        return {}
    out = {k: v for k, v in prop.items() if k not in ("allOf", "$ref")}
    refs = [prop["$ref"]] if isinstance(prop.get("$ref"), str) else []
    for part in prop.get("allOf", []):
        if isinstance(part, dict) and isinstance(part.get("$ref"), str):
            refs.append(part["$ref"])
        elif isinstance(part, dict):
            out = {**resolve(part, defs), **out}
    for ref in refs:
        target = resolve(defs.get(ref.rsplit("/", 1)[-1], {}), defs)
        out = {**target, **out}
    return out


def types_of(prop: dict[str, Any]) -> list[str]:
    kind = prop.get("type")
    if isinstance(kind, list):
        return [k for k in kind if isinstance(k, str)]
    return [kind] if isinstance(kind, str) else []


def sample_value(prop: Any, defs: dict[str, Any]) -> Any:
    """One value the property accepts."""
    prop = resolve(prop, defs)
    if "enum" in prop and prop["enum"]:
        return next((v for v in prop["enum"] if v is not None), prop["enum"][0])
    if "const" in prop:
        return prop["const"]
    for key in ("anyOf", "oneOf"):
        options = [o for o in prop.get(key, []) if resolve(o, defs).get("type") != "null"]
        if options:
            return sample_value(options[0], defs)
    kinds = [k for k in types_of(prop) if k != "null"] or ["string"]
    kind = kinds[0]
    if kind == "string":
        if prop.get("format") == "uri":
            return SAMPLE_URL
        return "x" * max(1, int(prop.get("minLength", 1)))
    if kind in ("integer", "number"):
        high = prop.get("maximum", prop.get("exclusiveMaximum"))
        low = prop.get("minimum", prop.get("exclusiveMinimum"))
        if low is None:
            low = high - 100 if high is not None else 0
        step = prop.get("multipleOf", 1 if kind == "integer" else None)
        value = low if step is None else math.ceil(low / step) * step
        if "exclusiveMinimum" in prop and value <= prop["exclusiveMinimum"]:
            value += step or 1
        if high is not None and value > high:
            value = high if step is None else math.floor(high / step) * step
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return False
    if kind == "array":
        return [sample_value(prop.get("items", {}), defs)] * int(prop.get("minItems", 0))
    if kind == "object":
        return {
            name: sample_value(sub, defs)
            for name, sub in prop.get("properties", {}).items()
            if name in prop.get("required", [])
        }
    return None


def minimal_input(schema: dict[str, Any]) -> dict[str, Any]:
    """Only the required fields, each with a valid value."""
    defs = schema.get("$defs", {})
    props = schema.get("properties", {})
    return {name: sample_value(props[name], defs) for name in schema.get("required", [])}


def accepts_null(prop: dict[str, Any], defs: dict[str, Any]) -> bool:
    prop = resolve(prop, defs)
    if "null" in types_of(prop) or None in prop.get("enum", [0]):
        return True
    return any(
        accepts_null(option, defs)
        for key in ("anyOf", "oneOf")
        for option in prop.get(key, [])
        if isinstance(option, dict)
    )
