"""Turn a model version's ``openapi_schema`` into self-contained JSON Schemas.

Two products per model:
* ``input_schema`` / ``output_schema``: clean JSON Schema (draft 2020-12) with the sibling schemas
  they use under ``$defs`` — embedded in the generated module, used by the mock server, the
  property tests and drift detection;
* ``codegen_document``: the same definitions annotated with ``customTypePath`` so that
  datamodel-code-generator types ``format: uri`` inputs as FileInput, uri outputs as FileOutput and
  secrets as Secret.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

REF_PREFIX = "#/components/schemas/"
DEF_PREFIX = "#/$defs/"
LIB_TYPES = "replicate_typed.core.field_types"


@dataclass(frozen=True)
class NormalisedModel:
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    codegen_document: dict[str, Any]


def _rewrite(node: Any) -> Any:
    """Rewrite refs to ``#/$defs/`` and OpenAPI 3.0 ``nullable`` to JSON Schema."""
    if isinstance(node, list):
        return [_rewrite(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _rewrite(v) for k, v in node.items() if k != "nullable"}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        out["$ref"] = DEF_PREFIX + ref[len(REF_PREFIX) :]
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if isinstance(out.get("enum"), list) and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            keep = {
                k: out.pop(k) for k in ("title", "description", "default", "x-order") if k in out
            }
            out = {"anyOf": [out, {"type": "null"}], **keep}
    return out


def _refs(node: Any, found: list[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if (
            isinstance(ref, str)
            and ref.startswith(DEF_PREFIX)
            and ref[len(DEF_PREFIX) :] not in found
        ):
            found.append(ref[len(DEF_PREFIX) :])
        for value in node.values():
            _refs(value, found)
    elif isinstance(node, list):
        for item in node:
            _refs(item, found)


def _reachable(root: Any, defs: dict[str, Any]) -> list[str]:
    names: list[str] = []
    _refs(root, names)
    index = 0
    while index < len(names):
        _refs(defs[names[index]], names)
        index += 1
    return names


def _self_contained(root: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """``root`` with the sibling schemas it uses under ``$defs``. A root that refers to itself
    (a recursive Input) is one of them: its refs stay ``#/$defs/<name>``."""
    schema = copy.deepcopy(root)
    used = _reachable(root, defs)
    if used:
        schema["$defs"] = {name: copy.deepcopy(defs[name]) for name in used}
    return schema


def is_secret(node: dict[str, Any]) -> bool:
    return node.get("format") == "password" or bool(node.get("x-cog-secret"))


def custom_string_type(node: dict[str, Any], uri_type: str = "FileInput") -> str | None:
    """The runtime type of a secret or ``format: uri`` string (``Secret``, ``uri_type``), or None.
    An ``enum``/``const`` keeps its exact values: such a field stays a Literal."""
    types = node.get("type")
    is_string = types == "string" or (isinstance(types, list) and "string" in types)
    if not is_string or "enum" in node or "const" in node:
        return None
    if is_secret(node):
        return f"{LIB_TYPES}.Secret"
    if node.get("format") == "uri":
        return f"{LIB_TYPES}.{uri_type}"
    return None


def _accepts_null(node: dict[str, Any]) -> bool:
    types = node.get("type")
    if types == "null" or (isinstance(types, list) and "null" in types):
        return True
    if None in node.get("enum", [0]):
        return True
    return any(
        isinstance(option, dict) and _accepts_null(option)
        for key in ("anyOf", "oneOf")
        for option in node.get(key, [])
    )


def _merge_optional(node: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [X, {type: null}]`` (pydantic-2 Cog) -> X with ``type: [X, "null"]``.

    datamodel-code-generator wraps a constrained branch of such an anyOf in a RootModel class
    (``maybe: Maybe | None``); merged, the field is ``Annotated[int | None, Field(ge=1)]``.
    """
    options = node.get("anyOf")
    if not isinstance(options, list) or len(options) != 2 or {"type": "null"} not in options:
        return node
    other = options[1] if options[0] == {"type": "null"} else options[0]
    if (
        not isinstance(other, dict)
        or not isinstance(other.get("type"), str)
        or other["type"] in ("object", "array")
        or any(k in other for k in ("$ref", "anyOf", "oneOf", "allOf"))
    ):
        return node
    merged = {**other, **{k: v for k, v in node.items() if k != "anyOf"}}
    merged["type"] = [other["type"], "null"]
    if isinstance(merged.get("enum"), list) and None not in merged["enum"]:
        merged["enum"] = [*merged["enum"], None]
    return merged


_BOUNDS: dict[str, Any] = {
    "minimum": lambda v, b: v >= b,
    "maximum": lambda v, b: v <= b,
    "exclusiveMinimum": lambda v, b: v > b,
    "exclusiveMaximum": lambda v, b: v < b,
}


def _enum_within_bounds(node: dict[str, Any]) -> dict[str, Any]:
    """An enum with bounds as well: the Literal keeps only the values the bounds allow.

    (pydantic cannot put ``le`` on a Literal; without this the client would accept a value the
    schema rejects.)"""
    enum = node.get("enum")
    bounds = {k: node[k] for k in _BOUNDS if isinstance(node.get(k), int | float)}
    if not isinstance(enum, list) or not bounds:
        return node
    kept = [
        v
        for v in enum
        if not isinstance(v, int | float)
        or isinstance(v, bool)
        or all(_BOUNDS[k](v, b) for k, b in bounds.items())
    ]
    if not kept:
        return node  # nothing satisfies both: a spec error (codegen.schema_checks)
    return {**{k: v for k, v in node.items() if k not in bounds}, "enum": kept}


_JSON_TYPES = ("array", "boolean", "integer", "null", "number", "object", "string")


def _enum_of_its_type(node: dict[str, Any]) -> dict[str, Any]:
    """The enum/const values the declared type admits, integral floats as ints (``2.0`` is the
    JSON value 2, and a Literal cannot hold a float). Values of another type can never be sent:
    they are left out (codegen.schema_checks warns about them)."""
    if "enum" not in node and "const" not in node:
        return node
    types = node.get("type")
    type_list = [types] if isinstance(types, str) else types if isinstance(types, list) else None
    checker = Draft202012Validator.TYPE_CHECKER

    known = [t for t in type_list or () if t in _JSON_TYPES]

    def fits(value: Any) -> bool:
        return not known or any(checker.is_type(value, t) for t in known)

    def exact(value: Any) -> Any:
        return int(value) if isinstance(value, float) and value.is_integer() else value

    out = dict(node)
    if isinstance(node.get("enum"), list):
        kept = [exact(v) for v in node["enum"] if fits(v)]
        if kept:
            out["enum"] = kept
    if "const" in node and fits(node["const"]):
        out["const"] = exact(node["const"])
    return out


# Python's splitlines() breaks lines at these, tokenizers and linters do not: in a docstring
# they would leave trailing whitespace or odd line structure.
_ODD_BREAKS = re.compile("[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


def docstring_text(text: str) -> str:
    """A description as it can sit in a docstring: line breaks normalised, control characters
    and tabs replaced, no trailing whitespace on any line (ruff's W291/W293)."""
    text = _ODD_BREAKS.sub("\n", text.replace("\r\n", "\n"))
    text = _CONTROL.sub(" ", text).expandtabs(4)
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_ONE = ("items", "additionalItems", "additionalProperties", "not", "contains")


def _map_schemas(node: Any, fn: Any) -> Any:
    """Apply ``fn`` to every schema object in ``node``, children first; values that are not
    schemas (``default``, ``enum``, ``examples`` ...) are kept as they are."""
    if not isinstance(node, dict):
        return node
    out = dict(node)
    for key in _SCHEMA_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {k: _map_schemas(v, fn) for k, v in out[key].items()}
    for key in _SCHEMA_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_map_schemas(v, fn) for v in out[key]]
    for key in _SCHEMA_ONE:
        if isinstance(out.get(key), dict):
            out[key] = _map_schemas(out[key], fn)
        elif key == "items" and isinstance(out.get(key), list):
            out[key] = [_map_schemas(v, fn) for v in out[key]]
    result: dict[str, Any] = fn(out)
    return result


def property_keys(node: Any, found: list[str] | None = None) -> list[str]:
    """Every property key of every object schema in ``node``, outer before inner, each once
    (the keys a generated class may have as fields)."""
    found = [] if found is None else found
    if not isinstance(node, dict):
        return found
    properties = node.get("properties")
    if isinstance(properties, dict):
        found.extend(k for k in properties if k not in found)
    for key in _SCHEMA_MAPS:
        if isinstance(node.get(key), dict):
            for value in node[key].values():
                property_keys(value, found)
    for key in (*_SCHEMA_LISTS, *_SCHEMA_ONE):
        value = node.get(key)
        for item in value if isinstance(value, list) else [value]:
            property_keys(item, found)
    return found


def property_path(openapi_schema: dict[str, Any], key: str) -> list[str | int]:
    """Where in a spec's ``openapi_schema`` the property ``key`` is (the Input's own first), as
    path parts for a JSON pointer; the schemas section when no object has it."""
    base: list[str | int] = ["openapi_schema", "components", "schemas"]
    schemas = openapi_schema.get("components", {}).get("schemas", {})
    order = sorted(schemas, key=lambda name: name != "Input")

    def find(node: Any, path: list[str | int]) -> list[str | int] | None:
        if isinstance(node, dict):
            if isinstance(node.get("properties"), dict) and key in node["properties"]:
                return [*path, "properties", key]
            items = list(node.items())
        elif isinstance(node, list):
            items = list(enumerate(node))
        else:
            return None
        for name, value in items:
            if name in ("default", "enum", "const", "examples", "example"):
                continue
            found = find(value, [*path, name])
            if found is not None:
                return found
        return None

    for name in order:
        found = find(schemas[name], [*base, name])
        if found is not None:
            return found
    return base


INPUT_OBJECT_BASE = "replicate_typed.core.model.InputObject"


def _annotate(node: Any, uri_type: str) -> Any:
    input_side = uri_type == "FileInput"

    def one(out: dict[str, Any]) -> dict[str, Any]:
        out = _merge_optional(out)
        out = _enum_of_its_type(out)
        out = _enum_within_bounds(out)
        if isinstance(out.get("description"), str):
            out["description"] = docstring_text(out["description"])
            if not out["description"]:
                del out["description"]
        if "default" in out and out["default"] is None and not _accepts_null(out):
            # Older Cog writes `"default": null` on a non-nullable field: it means "optional, no
            # default". Typed as `X | None = None`; INPUT_SCHEMA keeps the published text.
            del out["default"]
        custom = custom_string_type(out, uri_type)
        if custom is not None:
            out["customTypePath"] = custom
            if _accepts_null(out) and isinstance(out.get("type"), list):
                # A custom type replaces the whole annotation: null is kept as its own branch
                # (a required nullable secret is `Secret | None`, not `Secret`).
                keep = ("title", "description", "default", "x-order")
                inner = {k: v for k, v in out.items() if k not in keep}
                inner["type"] = "string"
                out = {"anyOf": [inner, {"type": "null"}], **{k: out[k] for k in keep if k in out}}
        elif input_side and "format" in out:
            # JSON Schema does not assert formats: a date-time, uuid or email input is any
            # string, as the schema says (datamodel-code-generator would make it a datetime,
            # UUID ... that a strict Input refuses as text).
            del out["format"]
        if input_side and (out.get("type") == "object" or "properties" in out):
            out["customBasePath"] = INPUT_OBJECT_BASE
        return out

    return _map_schemas(node, one)


def _class_key(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


# Names the model module template defines or imports: a sibling schema whose class name would
# shadow one of them is renamed in the codegen document (INPUT_SCHEMA keeps the published names).
RESERVED_CLASS_NAMES = frozenset(
    _class_key(n)
    for n in (
        "Input",
        "Output",
        "OutputValue",
        "Prediction",
        "Model",
        "ModelInfo",
        "ModelInput",
        "TypedPrediction",
        "INPUT_SCHEMA",
        "OUTPUT_SCHEMA",
        "MODEL",
        "json",
        "Any",
        "Final",
        "TypeAlias",
        "Annotated",
        "Literal",
        "BaseModel",
        "ConfigDict",
        "Field",
        "RootModel",
        "FileInput",
        "FileOutput",
        "Secret",
    )
)


def _codegen_names(names: list[str]) -> dict[str, str]:
    """Sibling schema name -> the name used in the codegen document (renamed if reserved)."""
    taken = {_class_key(n) for n in names}
    out: dict[str, str] = {}
    for name in names:
        new = name
        if name in ("Input", "Output"):
            out[name] = name
            continue
        safe = re.sub(r"[^0-9A-Za-z_]+", "_", name).strip("_")
        if not safe or not safe[0].isalpha():
            safe = f"Schema_{safe}" if safe else "Schema"
        if safe != name or _class_key(name) in RESERVED_CLASS_NAMES:
            base = safe if safe != name else f"{name}_schema"
            new, suffix = base, 0
            while _class_key(new) in RESERVED_CLASS_NAMES or (
                _class_key(new) in taken and new != name
            ):
                suffix += 1
                new = f"{base}{suffix}"
            taken.add(_class_key(new))
        out[name] = new
    return out


def _rename_refs(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, list):
        return [_rename_refs(item, names) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _rename_refs(v, names) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith(DEF_PREFIX):
        out["$ref"] = DEF_PREFIX + names.get(ref[len(DEF_PREFIX) :], ref[len(DEF_PREFIX) :])
    return out


def _tolerant_objects(node: Any) -> Any:
    """Output objects accept fields the schema does not list (a server may add some)."""
    if isinstance(node, list):
        return [_tolerant_objects(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _tolerant_objects(v) for k, v in node.items()}
    if (out.get("type") == "object" or "properties" in out) and "additionalProperties" not in out:
        out["additionalProperties"] = True
    return out


def _input_copy_name(name: str, taken: set[str]) -> str:
    new, suffix = f"{name}Input", 1
    while new in taken:
        suffix += 1
        new = f"{name}Input{suffix}"
    return new


def normalise(openapi_schema: dict[str, Any]) -> NormalisedModel:
    """Normalise a model version's ``openapi_schema`` (OpenAPI 3.0 flavoured, Cog-made)."""
    defs = _rewrite(openapi_schema["components"]["schemas"])
    input_root, output_root = defs["Input"], defs["Output"]
    input_schema = _self_contained(input_root, defs)
    output_schema = _self_contained(output_root, defs)

    input_used = [n for n in _reachable(input_root, defs) if n != "Input"]
    output_used = [n for n in _reachable(output_root, defs) if n != "Output"]
    # A sibling schema both sides use gets its own input-side copy when the two sides type it
    # differently (FileInput vs FileOutput, strict input objects vs tolerant output objects).
    output_side = {n: _tolerant_objects(_annotate(defs[n], "FileOutput")) for n in output_used}
    input_side = {n: _annotate(defs[n], "FileInput") for n in input_used}
    copies: dict[str, str] = {}
    taken = set(defs)
    for name in input_used:
        if name in output_side and output_side[name] != input_side[name]:
            copies[name] = _input_copy_name(name, taken)
            taken.add(copies[name])
    names = _codegen_names([*defs, *copies.values()])
    out_names = {n: names[n] for n in defs}
    in_names = {**out_names, **{n: names[c] for n, c in copies.items()}}

    doc_defs: dict[str, Any] = {}
    # Output first, so the generated module defines the output type before Input uses it.
    doc_defs["Output"] = _rename_refs(
        _tolerant_objects(_annotate(output_root, "FileOutput")), out_names
    )
    for name in output_used:
        doc_defs[out_names[name]] = _rename_refs(output_side[name], out_names)
    # The Input itself rejects unknown fields (the client never sends what the model ignores).
    annotated_input = {**_annotate(input_root, "FileInput"), "additionalProperties": False}
    annotated_input.pop("customBasePath", None)  # its base is ModelInput (see pymodels)
    doc_defs["Input"] = _rename_refs(annotated_input, in_names)
    for name in input_used:
        doc_defs.setdefault(in_names[name], _rename_refs(input_side[name], in_names))
    return NormalisedModel(
        input_schema=input_schema,
        output_schema=output_schema,
        codegen_document={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": doc_defs,
        },
    )
