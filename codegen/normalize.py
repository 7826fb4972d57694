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

REF_PREFIX = "#/components/schemas/"
DEF_PREFIX = "#/$defs/"
LIB_TYPES = "replicate_typed.core.types"


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
        return node  # nothing satisfies both: left as published
    return {**{k: v for k, v in node.items() if k not in bounds}, "enum": kept}


def _annotate(node: Any, uri_type: str) -> Any:
    if isinstance(node, list):
        return [_annotate(item, uri_type) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _annotate(v, uri_type) for k, v in node.items()}
    out = _merge_optional(out)
    out = _enum_within_bounds(out)
    if "default" in out and out["default"] is None and not _accepts_null(out):
        # Older Cog writes `"default": null` on a non-nullable field: it means "optional, no
        # default". Typed as `X | None = None`; INPUT_SCHEMA keeps the published text.
        del out["default"]
    custom = custom_string_type(out, uri_type)
    if custom is not None:
        out["customTypePath"] = custom
    return out


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


def normalise(openapi_schema: dict[str, Any]) -> NormalisedModel:
    """Normalise a model version's ``openapi_schema`` (OpenAPI 3.0 flavoured, Cog-made)."""
    defs = _rewrite(openapi_schema["components"]["schemas"])
    input_root, output_root = defs["Input"], defs["Output"]
    others = {k: v for k, v in defs.items() if k not in ("Input", "Output")}
    input_schema = _self_contained(input_root, others)
    output_schema = _self_contained(output_root, others)

    names = _codegen_names(list(defs))
    doc_defs: dict[str, Any] = {}
    # Output first, so the generated module defines the output type before Input uses it.
    doc_defs["Output"] = _tolerant_objects(_annotate(output_root, "FileOutput"))
    for name in _reachable(output_root, others):
        doc_defs[names[name]] = _tolerant_objects(_annotate(others[name], "FileOutput"))
    # The Input itself rejects unknown fields (the client never sends what the model ignores).
    doc_defs["Input"] = {**_annotate(input_root, "FileInput"), "additionalProperties": False}
    for name in _reachable(input_root, others):
        doc_defs.setdefault(names[name], _annotate(others[name], "FileInput"))
    doc_defs = _rename_refs(doc_defs, names)
    return NormalisedModel(
        input_schema=input_schema,
        output_schema=output_schema,
        codegen_document={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$defs": doc_defs,
        },
    )
