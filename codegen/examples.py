"""The usage example in a generated model's docstring: an input the model accepts, verified.

A field's value comes from the spec's first example, or else from candidates derived from its
schema (default, enum, const, bounds, lengths, item counts): the first candidate the field's own
schema accepts is used. Long strings are cut for the docstring only when the cut value is still
accepted. A required field that no candidate satisfies stops generation with a
:class:`~codegen.errors.SpecError` naming it (give the spec an ``examples`` entry), and the whole
example is checked against the input schema before it is written: the generator never prints an
example it has not validated.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import jsonschema
from pydantic import TypeAdapter, ValidationError

from .errors import SpecError, pointer
from .naming import is_plain_field_name
from .schema_checks import validator_for
from .spec import ModelSpec

EXAMPLE_URL = "https://example.com/input.png"
EXAMPLE_CHARS = 40
_DEPTH = 4  # nested arrays/objects followed this deep for a candidate
_INPUT = ["openapi_schema", "components", "schemas", "Input"]


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value if math.isfinite(value) else None


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """``prop`` with a ``$ref`` (plain or as Cog's ``allOf: [{$ref}]``) merged in."""
    for part in prop.get("allOf", []):
        if isinstance(part, dict) and isinstance(part.get("$ref"), str):
            target = defs.get(part["$ref"].rsplit("/", 1)[-1], {})
            prop = {**target, **{k: v for k, v in prop.items() if k != "allOf"}}
    if isinstance(prop.get("$ref"), str):
        target = defs.get(prop["$ref"].rsplit("/", 1)[-1], {})
        prop = {**target, **{k: v for k, v in prop.items() if k != "$ref"}}
    return prop


def _numbers(prop: dict[str, Any], integer: bool) -> Iterator[int | float]:
    """Numbers near the bounds (inclusive or exclusive), their midpoint, 1 and 0, each moved onto
    ``multipleOf`` when there is one; integers rounded both ways."""
    low, high = _number(prop.get("minimum")), _number(prop.get("maximum"))
    xlow, xhigh = _number(prop.get("exclusiveMinimum")), _number(prop.get("exclusiveMaximum"))
    bases: list[float] = []
    if low is not None:
        bases.append(low)
    if xlow is not None:
        bases += [xlow + 1, xlow + 0.5]
    if high is not None:
        bases.append(high)
    if xhigh is not None:
        bases += [xhigh - 1, xhigh - 0.5]
    lower = max((b for b in (low, xlow) if b is not None), default=None)
    upper = min((b for b in (high, xhigh) if b is not None), default=None)
    if lower is not None and upper is not None:
        bases.append((lower + upper) / 2)
    bases += [1, 0]
    step = _number(prop.get("multipleOf"))
    for base in bases:
        values: list[float] = [math.ceil(base), math.floor(base)] if integer else [base]
        if step is not None and step > 0:
            values = [math.ceil(v / step) * step for v in values] + [
                math.floor(v / step) * step for v in values
            ]
        for value in values:
            if integer:
                if float(value).is_integer():
                    yield int(value)
            else:
                yield float(value)


def _strings(prop: dict[str, Any]) -> Iterator[str]:
    low = prop.get("minLength")
    low = low if isinstance(low, int) and not isinstance(low, bool) and low >= 0 else 0
    if prop.get("format") == "uri":
        yield EXAMPLE_URL
        yield EXAMPLE_URL + "?" + "a" * max(0, low - len(EXAMPLE_URL) - 1)
    high = prop.get("maxLength")
    high = high if isinstance(high, int) and not isinstance(high, bool) else None
    size = max(low, 3) if high is None else min(max(low, 3), high)
    yield "a" * size
    yield "a" * low
    yield "1" * max(low, 1)


def candidates(prop: Any, defs: dict[str, Any], depth: int = 0) -> Iterator[Any]:
    """Values worth trying for ``prop``, most telling first (not all of them valid)."""
    if not isinstance(prop, dict):
        yield "..."
        return
    prop = _resolve(prop, defs)
    if prop.get("default") is not None:
        yield prop["default"]
    if isinstance(prop.get("enum"), list):
        yield from prop["enum"]
    if "const" in prop:
        yield prop["const"]
    for key in ("anyOf", "oneOf"):
        for branch in prop.get(key, []) if isinstance(prop.get(key), list) else []:
            if isinstance(branch, dict) and branch.get("type") != "null":
                rest = {k: v for k, v in prop.items() if k not in (key, "default")}
                yield from candidates({**rest, **branch}, defs, depth + 1)
    kinds = prop.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds] if isinstance(kinds, str) else []
    for kind in sorted(kinds, key=lambda k: k == "null"):
        if kind == "string":
            yield from _strings(prop)
        elif kind in ("integer", "number"):
            yield from _numbers(prop, integer=kind == "integer")
        elif kind == "boolean":
            yield from (True, False)
        elif kind == "array":
            yield []
            count = prop.get("minItems")
            if isinstance(count, int) and not isinstance(count, bool) and 0 < count <= 8:
                if depth < _DEPTH:
                    for item in itertools.islice(
                        candidates(prop.get("items", {}), defs, depth + 1), 1
                    ):
                        yield [item] * count
        elif kind == "object":
            yield {}
            props = prop.get("properties", {}) if isinstance(prop.get("properties"), dict) else {}
            needed = [n for n in prop.get("required", []) if n in props]
            if needed and depth < _DEPTH:
                yield {n: next(iter(candidates(props[n], defs, depth + 1)), None) for n in needed}
        elif kind == "null":
            yield None
    if not kinds:
        yield "..."


@functools.cache
def _file_input() -> TypeAdapter[Any]:
    from replicate_typed.core.field_types import FileInput  # the runtime's own rule for file inputs

    return TypeAdapter(FileInput)


def _files_accept(prop: Any, value: Any, defs: dict[str, Any], depth: int = 0) -> bool:
    """Whether the runtime's file type takes ``value`` where the model types ``prop`` as a file
    (``format: uri`` without exact values; JSON Schema alone would take any string there)."""
    if not isinstance(prop, dict) or depth > _DEPTH:
        return True
    prop = _resolve(prop, defs)
    branches = [b for key in ("anyOf", "oneOf") for b in prop.get(key, []) or []]
    if branches:
        rest = {k: v for k, v in prop.items() if k not in ("anyOf", "oneOf")}
        return any(
            _files_accept({**rest, **b}, value, defs, depth + 1)
            for b in branches
            if isinstance(b, dict) and validator_for({**rest, **b, "$defs": defs}).is_valid(value)
        )
    if isinstance(value, str) and prop.get("format") == "uri":
        if "enum" in prop or "const" in prop:
            return True
        try:
            _file_input().validate_python(value)
        except ValidationError:
            return False
        return True
    if isinstance(value, list):
        return all(_files_accept(prop.get("items", {}), item, defs, depth + 1) for item in value)
    return True


def acceptor(prop: Any, defs: dict[str, Any]) -> Callable[[Any], bool]:
    """Whether the field ``prop`` takes a value: its JSON Schema (one validator, built once),
    and the file type's rule."""
    schema = prop if isinstance(prop, dict) else {}
    valid = validator_for({**schema, "$defs": defs}).is_valid
    return lambda value: bool(valid(value)) and _files_accept(prop, value, defs)


def placeholder(prop: Any, defs: dict[str, Any]) -> tuple[bool, Any]:
    """``(True, value)`` for the first candidate ``prop`` accepts, or ``(False, None)``."""
    accepts = acceptor(prop, defs)
    for value in itertools.islice(candidates(prop, defs), 200):
        if accepts(value):
            return True, value
    return False, None


def shorten(value: Any, prop: Any, defs: dict[str, Any]) -> Any:
    """A long example string cut for the docstring (a URL swapped for a short one), if the field
    still accepts the shorter value; otherwise the value as it is."""
    if not isinstance(value, str) or len(repr(value)) <= EXAMPLE_CHARS:
        return value
    schema = prop if isinstance(prop, dict) else {}
    short = EXAMPLE_URL if schema.get("format") == "uri" else value[: EXAMPLE_CHARS - 3] + "..."
    return short if acceptor(prop, defs)(short) else value


def example_input(spec: ModelSpec, input_schema: dict[str, Any]) -> dict[str, Any]:
    """The input of the docstring's usage example: every required field and at most two in all
    otherwise, from the spec's first example or a placeholder the field accepts. Raises
    :class:`SpecError` when a required field has no such value or the example is not valid."""
    properties = input_schema.get("properties", {})
    defs = input_schema.get("$defs", {})
    required = [n for n in input_schema.get("required", []) if n in properties]
    source = spec.examples[0]["input"] if spec.examples else {}
    optional = [n for n in properties if n in source and n not in required]
    values: dict[str, Any] = {}
    for name in required + optional[: max(0, 2 - len(required))]:
        if name in source:
            value = source[name]
        else:
            found, value = placeholder(properties[name], defs)
            if not found:
                raise SpecError(
                    spec.path,
                    pointer([*_INPUT, "properties", name]),
                    "no value for the docstring's usage example satisfies this field's schema "
                    "(default, enum, bounds, lengths): give the spec an `examples` entry with a "
                    "value for it",
                )
        values[name] = shorten(value, properties[name], defs)
    error = jsonschema.exceptions.best_match(validator_for(input_schema).iter_errors(values))
    if error is not None:
        raise SpecError(
            spec.path,
            pointer([*_INPUT, *error.absolute_path]),
            f"the docstring's usage example {values!r} is not a valid input: {error.message}; "
            "give the spec an `examples` entry",
        )
    return values


def _docstring_safe(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def example_args(
    spec: ModelSpec, input_schema: dict[str, Any], python_names: Mapping[str, str] | None = None
) -> str:
    """The usage example's arguments as Python source for the docstring: keyword arguments when
    every key is the field's own Python name (``python_names``: wire key -> Python name, where
    they differ), else ``**{...}`` by the schema's keys (an alias is taken under its key)."""
    values = example_input(spec, input_schema)
    names = python_names or {}
    if all(is_plain_field_name(n) and names.get(n, n) == n for n in values):
        text = ", ".join(f"{name}={value!r}" for name, value in values.items())
    else:
        text = f"**{values!r}"
    return _docstring_safe(text)
