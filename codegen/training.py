"""A trainer's ``TrainingInput``: the typed input of ``trainings.create``.

Cog publishes a trainer version's training input beside its prediction input:
``openapi_schema.components.schemas.TrainingInput`` (and ``TrainingOutput``). When it is there,
the model module gains ``TrainingInput`` (strict like ``Input``: the same normalisation, file
and secret types), ``TRAINING_INPUT_SCHEMA`` and ``TRAINING`` (the trainer's
``ModelInfo[TrainingInput, TrainingOutput]``, also ``MODEL.training``); the output type is the
API's ``{version, weights}`` (:class:`replicate_typed.core.training.TrainingOutput`).

This is a second, separate pass over the same schema: the Input pass (``normalize`` /
``pymodels``) is untouched. The training side's sibling classes get a ``Training`` prefix, and a
name that still meets one of the Input pass's is a spec error, never a silent shadow.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datamodel_code_generator import generate
from datamodel_code_generator.enums import InputFileType

from .errors import SpecError
from .normalize import DEF_PREFIX, normalise
from .pymodels import COMMON_OPTIONS, RUNTIME_ATTRIBUTES, defined_names

__all__ = ["TRAINING_INPUT", "TrainingCode", "training_code"]

TRAINING_INPUT = "TrainingInput"
_POINTER = "/openapi_schema/components/schemas/TrainingInput"
_BASE = f"class {TRAINING_INPUT}(BaseModel):"


@dataclass(frozen=True)
class TrainingCode:
    imports: str
    body: str
    """``TrainingInput`` (last) and the classes it nests."""
    input_schema: dict[str, Any]
    """Clean JSON Schema (draft 2020-12) of ``TrainingInput``, ``$defs`` self-contained."""


def _renamed(node: Any, names: dict[str, str]) -> Any:
    if isinstance(node, list):
        return [_renamed(item, names) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _renamed(v, names) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith(DEF_PREFIX) and ref[len(DEF_PREFIX) :] in names:
        out["$ref"] = DEF_PREFIX + names[ref[len(DEF_PREFIX) :]]
    return out


def _split(code: str) -> tuple[str, str]:
    lines = code.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("class "):
            head = [x for x in lines[:index] if x and not x.startswith("#")]
            return "\n".join(x for x in head if "__future__" not in x), "\n".join(lines[index:])
    raise ValueError("datamodel-code-generator produced no class")


def training_code(
    path: Path | str,
    openapi_schema: dict[str, Any],
    settings_path: Path,
    taken: Iterable[str],
) -> TrainingCode | None:
    """The training side of a trainer's schema, or None when it has no ``TrainingInput``.

    ``taken``: the names the Input pass defines (a clash is a :class:`SpecError` on ``path``).
    """
    schemas = openapi_schema.get("components", {}).get("schemas", {})
    if TRAINING_INPUT not in schemas:
        return None
    root = schemas[TRAINING_INPUT]
    if not isinstance(root, dict) or root.get("type") != "object":
        raise SpecError(path, _POINTER, "TrainingInput must be an object schema")
    # The Input pass's normalisation, pointed at TrainingInput (Output is not this pass's).
    view = {**schemas, "Input": root, "Output": {"type": "object"}}
    try:
        norm = normalise({"components": {"schemas": view}})
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as exc:
        raise SpecError(path, _POINTER, f"cannot normalise: {type(exc).__name__}: {exc}") from None
    defs = dict(norm.codegen_document["$defs"])
    defs.pop("Output", None)
    names = {name: f"Training{name}" for name in defs if name != "Input"}
    names["Input"] = TRAINING_INPUT
    document = {
        "$schema": norm.codegen_document.get("$schema"),
        "$defs": {names[k]: _renamed(v, names) for k, v in defs.items()},
    }
    try:
        code = generate(
            json.dumps(document),
            input_file_type=InputFileType.JsonSchema,
            settings_path=settings_path,
            aliases={name: f"{name}_" for name in RUNTIME_ATTRIBUTES},
            **COMMON_OPTIONS,
        )
    except Exception as exc:  # datamodel-code-generator's own errors: name the spec
        raise SpecError(
            path, _POINTER, f"cannot generate TrainingInput: {type(exc).__name__}: {exc}"
        ) from None
    assert isinstance(code, str)
    imports, body = _split(code)
    defined = [n for n in defined_names(body) if n != "Model"]
    body = "\n".join(_without_root_any(body.splitlines()))
    if _BASE not in body:
        raise SpecError(path, _POINTER, "the generator made no TrainingInput class")
    clash = sorted(set(defined) & set(taken))
    if clash:
        raise SpecError(path, _POINTER, f"TrainingInput's classes clash with Input's: {clash}")
    body = _input_last(body).replace(
        _BASE, f"class {TRAINING_INPUT}(ModelInput[TrainingOutput]):", 1
    )
    input_schema = {**norm.input_schema, "title": root.get("title", TRAINING_INPUT)}
    return TrainingCode(imports=imports, body=body, input_schema=input_schema)


def _without_root_any(lines: list[str]) -> list[str]:
    """Drop datamodel-code-generator's ``class Model(RootModel[Any])`` for the bare document."""
    out: list[str] = []
    skip = False
    for line in lines:
        if line.startswith("class Model(RootModel[Any]):"):
            skip = True
            continue
        if skip and (line.startswith(" ") or not line.strip()):
            continue
        skip = False
        out.append(line)
    return out


def _input_last(body: str) -> str:
    """``TrainingInput`` after the classes it nests (they are defined first either way, but
    its place in the file should not depend on the generator's order)."""
    import ast

    lines = body.splitlines()
    for node in ast.parse(body).body:
        if isinstance(node, ast.ClassDef) and node.name == TRAINING_INPUT:
            start, end = node.lineno - 1 - len(node.decorator_list), node.end_lineno or node.lineno
            rest = "\n".join(lines[:start] + lines[end:]).strip()
            cls = "\n".join(lines[start:end])
            return f"{rest}\n\n\n{cls}\n" if rest else f"{cls}\n"
    return body
