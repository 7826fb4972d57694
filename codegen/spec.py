"""Load and validate model specs (specs/models/<owner>/<name>/spec.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

# owner/name and version ids: the one home of both rules (the client, registry and mock use it)
from replicate_typed.core.refs import MODEL_REF as MODEL_REF
from replicate_typed.core.refs import VERSION_ID as VERSION_ID

from .errors import SpecError, SpecErrors, pointer

SPEC_FILE = "spec.json"

# The format of a spec file, checked before anything else reads it.
SPEC_FORMAT: dict[str, Any] = {
    "type": "object",
    "required": ["model", "call", "version", "openapi_schema"],
    "additionalProperties": False,
    "properties": {
        "model": {"type": "string", "pattern": MODEL_REF.pattern},
        "call": {"enum": ["version", "path"]},
        "version": {"anyOf": [{"type": "string", "pattern": VERSION_ID.pattern}, {"type": "null"}]},
        "provenance": {"type": "string"},
        "examples": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["input"],
                "additionalProperties": False,
                "properties": {"title": {"type": "string"}, "input": {"type": "object"}},
            },
        },
        "openapi_schema": {
            "type": "object",
            "required": ["components"],
            "properties": {
                "components": {
                    "type": "object",
                    "required": ["schemas"],
                    "properties": {
                        "schemas": {
                            "type": "object",
                            "required": ["Input", "Output"],
                            "properties": {
                                "Input": {
                                    "type": "object",
                                    "properties": {
                                        "properties": {
                                            "type": "object",
                                            "additionalProperties": {"type": "object"},
                                        },
                                        "required": {"type": "array", "items": {"type": "string"}},
                                    },
                                },
                                "Output": {"type": "object"},
                            },
                            "additionalProperties": {"type": "object"},
                        }
                    },
                }
            },
        },
    },
}


@dataclass(frozen=True)
class ModelSpec:
    """One model as the compiler sees it."""

    ref: str
    call: str
    version: str | None
    openapi_schema: dict[str, Any]
    examples: tuple[dict[str, Any], ...] = ()
    provenance: str = ""
    path: Path = field(default=Path("."), compare=False)

    @property
    def owner(self) -> str:
        return self.ref.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.ref.split("/", 1)[1]

    @property
    def schemas(self) -> dict[str, Any]:
        result: dict[str, Any] = self.openapi_schema["components"]["schemas"]
        return result


# Deeper JSON than any real spec (Cog's are about 10 levels): a spec nested more deeply is
# refused before any recursive step (normalisation, validation, code generation) walks it.
MAX_DEPTH = 64


def read_json(path: Path, *, depth_check: bool = True) -> Any:
    """A JSON file's value; unreadable, undecodable, invalid or absurdly deep files are spec
    errors (never an internal error)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecError(path, "", f"cannot read file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise SpecError(
            path,
            "",
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start} (line {line})",
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(
            path, "", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise SpecError(path, "", f"JSON nested more than {MAX_DEPTH} levels deep") from None
    if depth_check:
        check_depth(path, data)
    return data


def check_depth(path: Path | str, data: Any, limit: int = MAX_DEPTH) -> None:
    """Refuse JSON nested more than ``limit`` levels deep, naming where (iteratively: no
    recursion, whatever the depth)."""
    stack: list[tuple[Any, list[str | int]]] = [(data, [])]
    while stack:
        node, where = stack.pop()
        if len(where) > limit:
            raise SpecError(
                path,
                pointer(where[: limit + 1]),
                f"nested more than {limit} levels deep (a spec is about 10): refused",
            )
        if isinstance(node, dict):
            stack.extend((value, [*where, key]) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((value, [*where, index]) for index, value in enumerate(node))


def _check_refs(path: Path, schemas: dict[str, Any]) -> None:
    def walk(node: Any, where: list[str | int]) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                prefix = "#/components/schemas/"
                if not ref.startswith(prefix) or ref[len(prefix) :] not in schemas:
                    raise SpecError(
                        path,
                        pointer(where + ["$ref"]),
                        f"$ref {ref!r} does not resolve to a schema in components.schemas",
                    )
            for key, value in node.items():
                walk(value, where + [key])
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, where + [index])

    walk(schemas, ["openapi_schema", "components", "schemas"])


def _message(error: jsonschema.ValidationError) -> str:
    """The rule a spec breaks, in the words of the spec format (not the validator's)."""
    where = list(error.absolute_path)
    value = error.instance
    if where == ["version"]:
        return f"{value!r} is not a 64-character lowercase hex version id (or null)"
    if where == ["model"]:
        return (
            f"{value!r} is not owner/name (letters, digits, '.', '_' or '-'; the owner starts "
            "with a letter or digit)"
        )
    if where == ["call"]:
        return f"{value!r} is not one of 'version', 'path'"
    if error.validator == "additionalProperties" and not where:
        return f"{error.message} (allowed: {', '.join(SPEC_FORMAT['properties'])})"
    return error.message


def validate_spec_data(path: Path, data: Any, expected_ref: str | None = None) -> ModelSpec:
    """Check a parsed spec against the format and its own consistency rules."""
    check_depth(path, data)
    validator = jsonschema.Draft202012Validator(SPEC_FORMAT)
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        first = errors[0]
        raise SpecError(path, pointer(first.absolute_path), _message(first))
    ref: str = data["model"]
    if expected_ref is not None and ref != expected_ref:
        raise SpecError(
            path, "/model", f"model {ref!r} does not match the spec's folder {expected_ref!r}"
        )
    if data["call"] == "version" and not data["version"]:
        raise SpecError(path, "/version", "a model called by version needs a 64-hex version id")
    schemas = data["openapi_schema"]["components"]["schemas"]
    if schemas["Input"].get("type") != "object":
        raise SpecError(
            path, "/openapi_schema/components/schemas/Input/type", "Input must be an object schema"
        )
    properties = schemas["Input"].get("properties", {})
    for index, name in enumerate(schemas["Input"].get("required", [])):
        if name not in properties:
            raise SpecError(
                path,
                f"/openapi_schema/components/schemas/Input/required/{index}",
                f"{name!r} is required but is not a property of Input",
            )
    _check_refs(path, schemas)
    return ModelSpec(
        ref=ref,
        call=data["call"],
        version=data["version"],
        openapi_schema=data["openapi_schema"],
        examples=tuple(data.get("examples", [])),
        provenance=data.get("provenance", ""),
        path=path,
    )


def load_model_spec(path: Path, specs_root: Path | None = None) -> ModelSpec:
    expected = None
    if specs_root is not None:
        rel = path.parent.relative_to(specs_root)
        expected = "/".join(rel.parts)
    return validate_spec_data(path, read_json(path), expected)


def load_model_specs(specs_dir: Path) -> list[ModelSpec]:
    """Every spec under specs/models, sorted by ref; all errors are collected and raised together."""
    root = specs_dir / "models"
    specs: list[ModelSpec] = []
    errors: list[SpecError] = []
    for path in sorted(root.glob(f"*/*/{SPEC_FILE}")):
        try:
            specs.append(load_model_spec(path, root))
        except SpecError as exc:
            errors.append(exc)
    if errors:
        raise SpecErrors(errors)
    return sorted(specs, key=lambda s: s.ref)


@dataclass(frozen=True)
class SpecEntry:
    """What the registry needs of a spec (``add-model`` reads the others' specs this far only)."""

    ref: str
    call: str
    version: str | None
    path: Path

    @property
    def owner(self) -> str:
        return self.ref.split("/", 1)[0]

    @property
    def name(self) -> str:
        return self.ref.split("/", 1)[1]


def index_model_specs(specs_dir: Path) -> list[SpecEntry]:
    """model, call and version of every spec, each checked (a cheap read: no schema work)."""
    root = specs_dir / "models"
    entries: list[SpecEntry] = []
    errors: list[SpecError] = []
    for path in sorted(root.glob(f"*/*/{SPEC_FILE}")):
        try:
            data = read_json(path, depth_check=False)  # only top-level keys are read here
            expected = "/".join(path.parent.relative_to(root).parts)
            if not isinstance(data, dict):
                raise SpecError(path, "", "a spec is a JSON object")
            ref, call, version = data.get("model"), data.get("call"), data.get("version")
            if ref != expected or not isinstance(ref, str) or not MODEL_REF.match(ref):
                raise SpecError(
                    path, "/model", f"model {ref!r} does not match the spec's folder {expected!r}"
                )
            if call not in ("version", "path"):
                raise SpecError(path, "/call", f"{call!r} is not one of 'version', 'path'")
            if version is not None and (
                not isinstance(version, str) or not VERSION_ID.match(version)
            ):
                raise SpecError(
                    path,
                    "/version",
                    f"{version!r} is not a 64-character lowercase hex version id (or null)",
                )
            entries.append(SpecEntry(ref, call, version, path))
        except SpecError as exc:
            errors.append(exc)
    if errors:
        raise SpecErrors(errors)
    return sorted(entries, key=lambda e: e.ref)


def spec_path(specs_dir: Path, ref: str) -> Path:
    owner, name = ref.split("/", 1)
    return specs_dir / "models" / owner / name / SPEC_FILE


def dump_spec(data: dict[str, Any]) -> str:
    """The canonical text of a spec file."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
