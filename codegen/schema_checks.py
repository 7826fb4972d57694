"""Rules a model's schemas must meet before code is generated from them, one per schema class.

Every rule here turns an odd schema into either a spec error (``file: at /pointer: rule``, exit 2)
or a named warning, never into a module that would not work:

* ``pattern`` must compile in the dialect that enforces it: pydantic-core's Rust regex (linear
  time; no look-around, no back-references). Defaults and examples are matched with that engine
  too (:func:`validator_for`): no backtracking engine ever runs an untrusted pattern;
* ranges must be satisfiable (``minimum`` <= ``maximum``, lengths and item counts likewise);
* an ``enum`` must not be empty; its values must fit the declared ``type`` (values that do not
  are dropped, with a warning; none left is an error); only strings, integers, booleans and
  null can be Literal values (a fractional number cannot);
* ``$ref`` cycles must pass through an object or array (``A -> B -> A`` alone is no type), and
  ``Input``/``Output`` may refer to themselves (recursive models) but not to each other;
* keywords outside JSON Schema / OpenAPI (``ge``, ``le``, ``choices`` ...) and standard keywords
  the generated classes cannot enforce (``uniqueItems`` ...) are named in warnings.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator
from pydantic_core import SchemaError, SchemaValidator, core_schema

from .errors import SpecError, SpecErrors, SpecWarning, pointer

SCHEMAS = ["openapi_schema", "components", "schemas"]
REF_PREFIX = "#/components/schemas/"

# Keywords of JSON Schema (2020-12 and the drafts Cog's OpenAPI 3.0 documents borrow from) and
# OpenAPI 3.0's schema object. Anything else that does not start with "x-" is non-standard.
STANDARD_KEYWORDS = frozenset(
    {
        "$schema", "$id", "$ref", "$defs", "$anchor", "$dynamicRef", "$dynamicAnchor",
        "$comment", "$vocabulary", "definitions", "allOf", "anyOf", "oneOf", "not", "if",
        "then", "else", "dependentSchemas", "prefixItems", "items", "additionalItems",
        "contains", "properties", "patternProperties", "additionalProperties", "propertyNames",
        "unevaluatedItems", "unevaluatedProperties", "type", "const", "enum", "multipleOf",
        "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength",
        "pattern", "maxItems", "minItems", "uniqueItems", "maxContains", "minContains",
        "maxProperties", "minProperties", "required", "dependentRequired", "dependencies",
        "title", "description", "default", "deprecated", "readOnly", "writeOnly", "examples",
        "format", "contentEncoding", "contentMediaType", "contentSchema",
        # OpenAPI 3.0 schema object
        "nullable", "discriminator", "xml", "externalDocs", "example",
    }
)  # fmt: skip

# Standard keywords the generated pydantic classes do not enforce: the model still does.
NOT_ENFORCED = frozenset(
    {
        "uniqueItems", "contains", "minContains", "maxContains", "propertyNames",
        "minProperties", "maxProperties", "dependentRequired", "dependentSchemas",
        "dependencies", "not", "if", "then", "else", "unevaluatedItems",
        "unevaluatedProperties", "patternProperties",
    }
)  # fmt: skip

# What authors meant by the non-standard keywords seen most (pydantic's and Cog's spellings).
MEANT = {
    "ge": "minimum",
    "le": "maximum",
    "gt": "exclusiveMinimum",
    "lt": "exclusiveMaximum",
    "min": "minimum",
    "max": "maximum",
    "min_length": "minLength",
    "max_length": "maxLength",
    "min_items": "minItems",
    "max_items": "maxItems",
    "multiple_of": "multipleOf",
    "regex": "pattern",
    "choices": "enum",
}

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = (
    "items",
    "additionalItems",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
)
_TYPES = Draft202012Validator.TYPE_CHECKER
_JSON_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")
_BOUNDS: dict[str, Any] = {
    "minimum": lambda v, b: v >= b,
    "maximum": lambda v, b: v <= b,
    "exclusiveMinimum": lambda v, b: v > b,
    "exclusiveMaximum": lambda v, b: v < b,
}


# --- patterns: pydantic-core's engine ------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def compiled_pattern(pattern: str) -> SchemaValidator | str:
    """A validator matching ``pattern`` with pydantic-core's Rust regex (what a generated
    ``Field(pattern=...)`` uses), or the compile error as text."""
    try:
        return SchemaValidator(core_schema.str_schema(pattern=pattern, strict=True))
    except SchemaError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        return lines[-1] if lines else "cannot be compiled"


def pattern_matches(pattern: str, text: str) -> bool:
    """JSON Schema's ``pattern`` (unanchored search) with the Rust engine: linear time."""
    compiled = compiled_pattern(pattern)
    if isinstance(compiled, str):
        raise ValueError(f"pattern {pattern!r}: {compiled}")
    return compiled.isinstance_python(text)


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    if validator.is_type(instance, "string") and not pattern_matches(pattern, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Any, patterns: dict[str, Any], instance: Any, schema: dict[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if pattern_matches(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


# JSON Schema validation (draft 2020-12) whose patterns run on the Rust engine.
RustRegexValidator = jsonschema.validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator,
    {"pattern": _pattern, "patternProperties": _pattern_properties},
)


def validator_for(schema: dict[str, Any]) -> Any:
    """A validator of ``schema`` (draft 2020-12) that never runs a backtracking regex engine."""
    return RustRegexValidator(schema)


# --- walking schemas -----------------------------------------------------------------------------


def subschemas(
    node: Any, where: list[str | int]
) -> Iterator[tuple[dict[str, Any], list[str | int]]]:
    """Every schema object in ``node`` (itself included) with its path; iterative, and it reads
    only schema positions (``properties`` values, ``items`` ...), never ``default``/``enum``."""
    stack = [(node, where)]
    while stack:
        current, path = stack.pop()
        if not isinstance(current, dict):
            continue
        yield current, path
        for key in _SCHEMA_MAPS:
            children = current.get(key)
            if isinstance(children, dict):
                stack.extend((v, [*path, key, k]) for k, v in reversed(children.items()))
        for key in _SCHEMA_LISTS:
            children = current.get(key)
            if isinstance(children, list):
                stack.extend((v, [*path, key, i]) for i, v in reversed(list(enumerate(children))))
        for key in _SCHEMA_ONE:
            child = current.get(key)
            if isinstance(child, dict):
                stack.append((child, [*path, key]))
            elif key == "items" and isinstance(child, list):
                stack.extend((v, [*path, key, i]) for i, v in enumerate(child))


def _refs_in(node: Any) -> Iterator[str]:
    for schema, _ in subschemas(node, []):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            yield ref[len(REF_PREFIX) :]


def reachable(schemas: dict[str, Any], roots: tuple[str, ...] = ("Input", "Output")) -> list[str]:
    """The schema names ``roots`` use, roots first (the generator reads no others)."""
    found = [r for r in roots if r in schemas]
    index = 0
    while index < len(found):
        for name in _refs_in(schemas[found[index]]):
            if name in schemas and name not in found:
                found.append(name)
        index += 1
    return found


# --- the rules -----------------------------------------------------------------------------------


@dataclass
class _Findings:
    path: Path | str
    errors: list[SpecError]
    warnings: list[SpecWarning]

    def error(self, where: list[str | int], rule: str) -> None:
        self.errors.append(SpecError(self.path, pointer(where), rule))

    def warn(self, where: list[str | int], rule: str) -> None:
        self.warnings.append(SpecWarning(self.path, pointer(where), rule))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_ranges(node: dict[str, Any], where: list[str | int], out: _Findings) -> None:
    def num(key: str) -> float | None:
        value = node.get(key)
        return value if _is_number(value) else None

    low, high = num("minimum"), num("maximum")
    xlow, xhigh = num("exclusiveMinimum"), num("exclusiveMaximum")
    # (lower bound, upper bound, whether equal bounds still leave a value)
    pairs: list[tuple[str, float | None, str, float | None, bool]] = [
        ("minimum", low, "maximum", high, True),
        ("exclusiveMinimum", xlow, "exclusiveMaximum", xhigh, False),
        ("minimum", low, "exclusiveMaximum", xhigh, False),
        ("exclusiveMinimum", xlow, "maximum", high, False),
    ]
    for low_key, a, high_key, b, equal_ok in pairs:
        if a is not None and b is not None and (a > b or (a == b and not equal_ok)):
            out.error(
                [*where, low_key],
                f"unsatisfiable range: {low_key} {a} and {high_key} {b} leave no value",
            )
            return
    if node.get("type") == "integer":
        lowest: float = -math.inf if low is None else math.ceil(low)
        if xlow is not None:
            lowest = max(lowest, math.floor(xlow) + 1)
        highest: float = math.inf if high is None else math.floor(high)
        if xhigh is not None:
            highest = min(highest, math.ceil(xhigh) - 1)
        if lowest > highest:
            out.error(
                [*where, "minimum" if low is not None else "exclusiveMinimum"],
                "unsatisfiable range: no integer lies within the bounds",
            )
    for low_key, high_key in (("minLength", "maxLength"), ("minItems", "maxItems")):
        a, b = num(low_key), num(high_key)
        if a is not None and b is not None and a > b:
            out.error([*where, low_key], f"unsatisfiable range: {low_key} {a} > {high_key} {b}")


def _type_names(node: dict[str, Any]) -> list[str] | None:
    types = node.get("type")
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list):
        return None
    names = [t for t in types if isinstance(t, str) and t in _JSON_TYPES]
    if not names:
        return None  # no known type (an unknown one is the meta-schema check's to report)
    if node.get("nullable") is True and "null" not in names:
        names.append("null")
    return names


def fits_type(value: Any, types: list[str] | None) -> bool:
    return types is None or any(_TYPES.is_type(value, t) for t in types)


def literal_value_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a ``Literal`` parameter (None when it can)."""
    if value is None or isinstance(value, str | bool | int):
        return None
    if isinstance(value, float):
        return None if value.is_integer() else "a fractional number cannot be a Literal value"
    return f"a{'n object' if isinstance(value, dict) else 'n array'} cannot be a Literal value"


def _check_enum(node: dict[str, Any], where: list[str | int], out: _Findings, role: str) -> None:
    if "enum" not in node and "const" not in node:
        return
    key = "enum" if "enum" in node else "const"
    values = node["enum"] if key == "enum" else [node["const"]]
    if not isinstance(values, list):
        return  # the meta-schema check reports it
    if not values:
        out.error([*where, "enum"], "empty enum: no value is allowed, the field can never be set")
        return
    types = _type_names(node)
    fitting = [v for v in values if fits_type(v, types)]
    if not fitting:
        out.error(
            [*where, key],
            f"{key} and type disagree: no value of {values!r} is of type {node.get('type')!r}",
        )
        return
    for index, value in enumerate(values):
        if value not in fitting:
            out.warn(
                [*where, key, index] if key == "enum" else [*where, key],
                f"{key} value {value!r} is not of type {node.get('type')!r}: no instance can "
                "take it, the generated Literal leaves it out",
            )
    bounds = {k: node[k] for k in _BOUNDS if _is_number(node.get(k))}
    if bounds and not any(
        not _is_number(v) or all(_BOUNDS[k](v, b) for k, b in bounds.items()) for v in fitting
    ):
        out.error(
            [*where, key],
            f"{key} and bounds disagree: no value of {fitting!r} lies within "
            + ", ".join(f"{k} {b}" for k, b in bounds.items()),
        )
        return
    if role == "Output":
        return  # outputs are parsed tolerantly; their enums only document values
    for value in fitting:
        problem = literal_value_problem(value)
        if problem is not None:
            out.error(
                [*where, key, values.index(value)] if key == "enum" else [*where, key],
                f"{key} value {value!r}: {problem} (enums of strings, integers, booleans and "
                "null are supported)",
            )


def _check_keywords(node: dict[str, Any], where: list[str | int], out: _Findings) -> None:
    for key in node:
        if not isinstance(key, str) or key.startswith("x-") or key == "customTypePath":
            continue
        if key not in STANDARD_KEYWORDS:
            meant = MEANT.get(key)
            hint = f" (JSON Schema spells it {meant!r})" if meant else ""
            out.warn(
                [*where, key],
                f"non-standard keyword {key!r} is ignored: neither the generated classes nor "
                f"JSON Schema validators enforce it{hint}",
            )
        elif key in NOT_ENFORCED:
            out.warn(
                [*where, key],
                f"keyword {key!r} is not enforced by the generated classes (the model still "
                "checks it)",
            )


def _check_pattern(node: dict[str, Any], where: list[str | int], out: _Findings) -> None:
    pattern = node.get("pattern")
    if isinstance(pattern, str):
        compiled = compiled_pattern(pattern)
        if isinstance(compiled, str):
            out.error(
                [*where, "pattern"],
                f"pattern {pattern!r} is not valid in pydantic-core's regex dialect (Rust "
                f"regex, which enforces it): {compiled}",
            )
    for key in (
        node.get("patternProperties", {}) if isinstance(node.get("patternProperties"), dict) else ()
    ):
        compiled = compiled_pattern(key)
        if isinstance(compiled, str):
            out.error(
                [*where, "patternProperties", key],
                f"pattern {key!r} is not valid in pydantic-core's regex dialect: {compiled}",
            )


def _check_required(node: dict[str, Any], where: list[str | int], out: _Findings) -> None:
    required, properties = node.get("required"), node.get("properties")
    if not isinstance(required, list) or not isinstance(properties, dict):
        return
    for index, name in enumerate(required):
        if isinstance(name, str) and name not in properties:
            out.error(
                [*where, "required", index],
                f"{name!r} is required but is not one of the object's properties",
            )


def _direct_refs(node: Any) -> Iterator[str]:
    """Refs a schema *is* (its own ``$ref``, its ``allOf``/``anyOf``/``oneOf`` members), not
    the ones it holds in properties or items."""
    stack = [node]
    while stack:
        current = stack.pop()
        if not isinstance(current, dict):
            continue
        ref = current.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF_PREFIX):
            yield ref[len(REF_PREFIX) :]
        for key in ("allOf", "anyOf", "oneOf"):
            if isinstance(current.get(key), list):
                stack.extend(current[key])


def _check_refs(schemas: dict[str, Any], names: list[str], out: _Findings) -> None:
    for root, other in (("Input", "Output"), ("Output", "Input")):
        if root in schemas and other in reachable(schemas, (root,))[1:]:
            out.error(
                [*SCHEMAS, root],
                f"{root} refers to {other} ($ref): the input and output sides cannot share "
                "the root schemas",
            )
    # A cycle of refs with no object or array in between defines no type at all.
    graph = {name: [r for r in _direct_refs(schemas[name]) if r in schemas] for name in names}
    done: set[str] = set()
    for start in names:
        if start in done:
            continue
        path: list[str] = []
        on_path: set[str] = set()
        stack: list[tuple[str, int]] = [(start, 0)]
        while stack:
            name, index = stack.pop()
            if index == 0:
                if name in on_path:
                    cycle = path[path.index(name) :] + [name]
                    out.error(
                        [*SCHEMAS, cycle[0]],
                        "$ref cycle with no object or array in between: "
                        + " -> ".join(cycle)
                        + " (such a schema has no values)",
                    )
                    return
                if name in done:
                    continue
                path.append(name)
                on_path.add(name)
            if index < len(graph.get(name, [])):
                stack.append((name, index + 1))
                stack.append((graph[name][index], 0))
            else:
                path.pop()
                on_path.discard(name)
                done.add(name)


def check_schemas(path: Path | str, schemas: dict[str, Any]) -> list[SpecWarning]:
    """Apply every rule to the schemas ``Input`` and ``Output`` use. Raises :class:`SpecErrors`
    with all errors found; returns the warnings."""
    out = _Findings(path, [], [])
    names = reachable(schemas)
    _check_refs(schemas, names, out)
    input_side = set(reachable(schemas, ("Input",)))
    for name in names:
        role = "Input" if name in input_side else "Output"
        for node, where in subschemas(schemas[name], [*SCHEMAS, name]):
            _check_keywords(node, where, out)
            _check_pattern(node, where, out)
            _check_ranges(node, where, out)
            _check_enum(node, where, out, role)
            _check_required(node, where, out)
    if out.errors:
        raise SpecErrors(out.errors)
    return out.warnings
