"""What generated per-model modules are made of: the input base class and the model descriptor."""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_serializer,
)
from pydantic_core import PydanticCustomError, ValidationError

__all__ = ["ModelInput", "InputObject", "ModelInfo", "CallBy", "OutputT", "InputT"]

OutputT = TypeVar("OutputT")
InputT = TypeVar("InputT", bound="ModelInput[Any]")
CallBy = Literal["version", "path"]


# Strict: an Input accepts the values the model's JSON Schema accepts and no others -- no
# "7" -> 7, True -> 1.0 or "true"/1 -> True conversions (an int stays valid for a number, as in
# JSON Schema). NaN and infinities are refused: JSON cannot carry them.
_STRICT = ConfigDict(
    strict=True,
    allow_inf_nan=False,
    extra="forbid",
    validate_assignment=True,
    validate_default=False,
    populate_by_name=True,
    arbitrary_types_allowed=True,
)


class InputObject(BaseModel):
    """Base of the object classes an ``Input`` nests (sibling schemas and inline objects of the
    input side): strict like the Input itself; unknown keys are refused unless the schema says
    ``additionalProperties: true``."""

    model_config = _STRICT


class ModelInput(BaseModel, Generic[OutputT]):
    """Base of every generated ``Input``: strict, unknown fields are rejected, assignments
    validated.

    ``OutputT`` is the type :meth:`Client.run` returns for this model, so
    ``client.run(sdxl.Input(prompt=...))`` is typed without naming the model twice.

    Deliberate differences from the published schema: unknown fields are refused (typo
    protection); a ``format: uri`` input takes what the API fetches (http(s) URLs, ``data:``
    URIs, local files); ``None`` on an optional field whose schema accepts no null means "not
    set" and is never sent.
    """

    model_config = _STRICT

    __model_info__: ClassVar[ModelInfo[Any, Any]]

    @field_validator("*", mode="before")
    @classmethod
    def _as_json_values(cls, value: Any, info: ValidationInfo) -> Any:
        """Values compared as JSON Schema compares them: an integral float is the JSON number
        it equals (``7.0`` is a valid integer; ``1.0`` matches the enum value ``1``, never
        ``true``), and a boolean where the schema accepts none is refused (pydantic's
        ``Literal[1, 2]`` would take ``True`` as 1; JSON Schema's enum does not)."""
        value = _integral_floats_as_ints(value)
        if info.field_name is not None and _has_bool(value):
            where = _bool_refused(cls, info.field_name, value)
            if where is not None:
                raise PydanticCustomError(
                    "bool_not_allowed",
                    "a boolean is not allowed here{where}: the schema accepts no boolean",
                    {"where": f" (at {where})" if where else ""},
                )
        return value

    @model_serializer(mode="wrap")
    def _omit_unsendable_none(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        """Leave out ``None`` where the model's schema does not accept null.

        An optional field without a default is typed ``X | None`` (``None`` = "let the model
        decide"); the published schema accepts no null there, so a dump never carries one --
        nor does an object the Input nests.
        """
        data = handler(self)
        if isinstance(data, dict):
            cls = type(self)
            fields = cls.model_fields
            for name in _none_means_unset(cls):
                field = fields[name]
                key = _wire_name(name, field) if info.by_alias else name
                if key in data and data[key] is None:
                    del data[key]
            if info.by_alias:
                schema = _input_schema(cls)
                if schema is not None:
                    defs = schema.get("$defs", {})
                    for key, prop in schema.get("properties", {}).items():
                        if key in data:
                            data[key] = _drop_unsendable_none(data[key], prop, defs)
        return data

    def to_request_input(self) -> dict[str, Any]:
        """The JSON ``input`` object sent to the API.

        Only fields set explicitly (or required) are sent; unset fields are left to the model's
        own defaults, which the server applies. Secrets are revealed here and only here;
        local files are inlined as data URIs (the client uploads large ones first).
        """
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def request_values(self) -> dict[str, Any]:
        """The fields to send (set explicitly or required), keyed by wire name, values untouched.

        Unlike a python-mode ``model_dump`` this hands file objects, paths and secrets over as
        they are, so :func:`replicate_typed.client.uploads.prepare_input` can upload large files
        under their own names.
        """
        cls = type(self)
        fields = cls.model_fields
        unset_if_none = _none_means_unset(cls)
        schema = _input_schema(cls) or {}
        properties, defs = schema.get("properties", {}), schema.get("$defs", {})
        values: dict[str, Any] = {}
        for name in sorted(self.model_fields_set, key=list(fields).index):
            value = getattr(self, name)
            if value is None and name in unset_if_none:
                continue  # None means "not set": the schema accepts no null here
            key = _wire_name(name, fields[name])
            if isinstance(value, BaseModel) or isinstance(value, list | dict):
                value = _drop_unsendable_none(_python_dump(value), properties.get(key, {}), defs)
            values[key] = value
        return values


@dataclass(frozen=True, eq=False)
class ModelInfo(Generic[InputT, OutputT]):
    """Everything the runtime knows about one model: how to call it and how to type its data."""

    owner: str
    name: str
    version: str | None
    call_by: CallBy
    input_type: type[InputT]
    output_type: Any
    input_schema: dict[str, Any] = field(repr=False)
    output_schema: dict[str, Any] = field(repr=False)
    examples: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    training: ModelInfo[Any, Any] | None = field(default=None, repr=False)
    """A trainer's training side (``TrainingInput`` -> ``TrainingOutput``), None for others."""

    @property
    def ref(self) -> str:
        """``owner/name``."""
        return f"{self.owner}/{self.name}"

    @property
    def version_ref(self) -> str:
        """``owner/name:version`` for versioned models, else ``owner/name``."""
        return f"{self.ref}:{self.version}" if self.version else self.ref

    @property
    def output_concatenate(self) -> bool:
        """True when the output is a text iterator the API says to join (``x-cog-array-display``)."""
        return self.output_schema.get("x-cog-array-display") == "concatenate"

    @property
    def output_is_iterator(self) -> bool:
        return self.output_schema.get("x-cog-array-type") == "iterator"

    @property
    def output_adapter(self) -> TypeAdapter[Any]:
        adapter = _ADAPTERS.get(self)
        if adapter is None:
            adapter = _ADAPTERS[self] = TypeAdapter(self.output_type)
        return adapter

    def parse_output(self, raw: Any) -> OutputT:
        """Validate a prediction's raw ``output`` into this model's typed output value.

        Text iterators marked ``concatenate`` are joined into one string (:func:`join_text`):
        null chunks are skipped, a chunk that is not text is an error naming its index.
        """
        if self.output_concatenate and isinstance(raw, list):
            raw = join_text(raw)
        value: OutputT = self.output_adapter.validate_python(raw)
        return value


def join_text(chunks: list[Any]) -> str:
    """The text of a text iterator's chunks: strings joined, nulls skipped; any other chunk
    (a number, a list, an object) raises a pydantic ``ValidationError`` naming its index, never
    joined as its Python repr."""
    parts: list[str] = []
    for index, chunk in enumerate(chunks):
        if chunk is None:
            continue
        if not isinstance(chunk, str):
            raise ValidationError.from_exception_data(
                "output",
                [
                    {
                        "type": PydanticCustomError(
                            "text_chunk",
                            "a text iterator's chunk must be a string or null; got {kind}",
                            {"kind": type(chunk).__name__},
                        ),
                        "loc": (index,),
                        "input": chunk,
                    }
                ],
            )
        parts.append(chunk)
    return "".join(parts)


# keyed by the (identity-hashed) ModelInfo itself, weakly: an id() key could be reused by a
# later ModelInfo once the first is collected, handing it another model's adapter
_ADAPTERS: weakref.WeakKeyDictionary[ModelInfo[Any, Any], TypeAdapter[Any]] = (
    weakref.WeakKeyDictionary()
)
_NONE_MEANS_UNSET: dict[type[Any], frozenset[str]] = {}
_BOOL_OK: dict[tuple[type[Any], str, bool], bool] = {}


def _input_schema(cls: type[ModelInput[Any]]) -> dict[str, Any] | None:
    info = getattr(cls, "__model_info__", None)
    return info.input_schema if info is not None else None


def _python_dump(value: Any) -> Any:
    """Nested models as plain data (wire names, only what was set); files and secrets kept."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python", by_alias=True, exclude_unset=True)
    if isinstance(value, list):
        return [_python_dump(item) for item in value]
    if isinstance(value, dict):
        return {key: _python_dump(item) for key, item in value.items()}
    return value


def _resolve(schema: Any, defs: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """A schema with its ``$ref`` / ``allOf`` members merged in, and an ``anyOf``/``oneOf`` of
    one real option plus null reduced to that option (enough to find properties and items)."""
    if not isinstance(schema, dict) or depth > 32:
        return {}
    out = {k: v for k, v in schema.items() if k not in ("$ref", "allOf")}
    parts: list[Any] = [{"$ref": schema["$ref"]}] if isinstance(schema.get("$ref"), str) else []
    parts += [p for p in schema.get("allOf", []) if isinstance(p, dict)]
    for part in parts:
        ref = part.get("$ref")
        target = defs.get(ref.rsplit("/", 1)[-1], {}) if isinstance(ref, str) else part
        out = {**_resolve(target, defs, depth + 1), **out}
    for key in ("anyOf", "oneOf"):
        options = [o for o in out.get(key, []) if o != {"type": "null"}]
        if len(options) == 1:
            rest = {k: v for k, v in out.items() if k != key}
            out = {**_resolve(options[0], defs, depth + 1), **rest}
    return out


def _accepts(schema: dict[str, Any], defs: dict[str, Any], value: Any) -> bool:
    from jsonschema import Draft202012Validator

    return Draft202012Validator({**schema, "$defs": defs}).is_valid(value)


def _drop_unsendable_none(value: Any, schema: Any, defs: dict[str, Any], depth: int = 0) -> Any:
    """``value`` without the ``None`` entries of objects whose property schema accepts no null
    (None = "not set"), at any depth of nesting."""
    if depth > 32 or not isinstance(value, dict | list):
        return value
    resolved = _resolve(schema, defs)
    if isinstance(value, dict):
        properties = resolved.get("properties", {})
        out = {}
        for key, item in value.items():
            prop = properties.get(key)
            if item is None and isinstance(prop, dict) and not _accepts(prop, defs, None):
                continue
            out[key] = _drop_unsendable_none(item, prop or {}, defs, depth + 1)
        return out
    items = resolved.get("items", {})
    return [_drop_unsendable_none(item, items, defs, depth + 1) for item in value]


def _integral_floats_as_ints(value: Any) -> Any:
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, list) and any(isinstance(item, float | list | dict) for item in value):
        return [_integral_floats_as_ints(item) for item in value]
    if isinstance(value, dict) and any(isinstance(v, float | list | dict) for v in value.values()):
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    return value


def _has_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, list):
        return any(_has_bool(item) for item in value)
    if isinstance(value, dict):
        return any(_has_bool(item) for item in value.values())
    return False


def _bool_refused(cls: type[ModelInput[Any]], field_name: str, value: Any) -> str | None:
    """Where in ``value`` a boolean sits that the field's schema refuses ("" = the value
    itself), or None when every boolean in it is allowed."""
    schema = _input_schema(cls)
    if schema is None:
        return None
    field = cls.model_fields[field_name]
    prop = schema.get("properties", {}).get(_wire_name(field_name, field))
    if not isinstance(prop, dict):
        return None
    if isinstance(value, bool):  # the common case (a boolean field): answered once per class
        key = (cls, field_name, value)
        if key not in _BOOL_OK:
            _BOOL_OK[key] = _accepts(prop, schema.get("$defs", {}), value)
        return None if _BOOL_OK[key] else ""
    return _find_refused_bool(value, prop, schema.get("$defs", {}), "")


def _find_refused_bool(value: Any, schema: Any, defs: dict[str, Any], where: str) -> str | None:
    if isinstance(value, bool):
        ok = isinstance(schema, dict) and _accepts(schema, defs, value)
        return None if ok else where
    resolved = _resolve(schema, defs)
    if isinstance(value, list) and isinstance(resolved.get("items"), dict):
        for index, item in enumerate(value):
            found = _find_refused_bool(item, resolved["items"], defs, f"{where}/{index}")
            if found is not None:
                return found
    if isinstance(value, dict) and isinstance(resolved.get("properties"), dict):
        for key, item in value.items():
            prop = resolved["properties"].get(key)
            if prop is not None:
                found = _find_refused_bool(item, prop, defs, f"{where}/{key}")
                if found is not None:
                    return found
    return None


def _none_means_unset(cls: type[ModelInput[Any]]) -> frozenset[str]:
    """Fields of ``cls`` whose property in the model's input schema does not accept null."""
    cached = _NONE_MEANS_UNSET.get(cls)
    if cached is not None:
        return cached
    info = getattr(cls, "__model_info__", None)
    names: set[str] = set()
    if info is not None:
        schema = info.input_schema
        properties = schema.get("properties", {})
        defs = schema.get("$defs", {})
        for name, field in cls.model_fields.items():
            prop = properties.get(_wire_name(name, field))
            if isinstance(prop, dict) and not accepts_null(prop, defs):
                names.add(name)
    result = frozenset(names)
    if info is not None:
        _NONE_MEANS_UNSET[cls] = result
    return result


def accepts_null(schema: Any, defs: Mapping[str, Any], _seen: frozenset[str] = frozenset()) -> bool:
    """Whether JSON ``null`` is valid against ``schema`` (JSON Schema 2020-12, local ``$defs``).

    Only the keywords that can reject null matter (``type``, ``enum``, ``const``, the
    combinators, ``$ref``); the rest apply to other kinds of value. The runtime needs no JSON
    Schema library for this; tests hold it equal to ``jsonschema``'s verdict.
    """
    if isinstance(schema, bool):
        return schema
    if not isinstance(schema, dict):
        return True
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        name = ref[len("#/$defs/") :].replace("~1", "/").replace("~0", "~")
        target = defs.get(name)
        if name not in _seen and target is not None:
            if not accepts_null(target, defs, _seen | {name}):
                return False
    kind = schema.get("type")
    if isinstance(kind, str) and kind != "null":
        return False
    if isinstance(kind, list) and "null" not in kind:
        return False
    enum = schema.get("enum")
    if isinstance(enum, list) and not any(value is None for value in enum):
        return False
    if "const" in schema and schema["const"] is not None:
        return False
    all_of, any_of, one_of = schema.get("allOf"), schema.get("anyOf"), schema.get("oneOf")
    if isinstance(all_of, list) and not all(accepts_null(s, defs, _seen) for s in all_of):
        return False
    if isinstance(any_of, list) and not any(accepts_null(s, defs, _seen) for s in any_of):
        return False
    if isinstance(one_of, list) and sum(accepts_null(s, defs, _seen) for s in one_of) != 1:
        return False
    if "not" in schema and accepts_null(schema["not"], defs, _seen):
        return False
    if "if" in schema:
        branch = "then" if accepts_null(schema["if"], defs, _seen) else "else"
        if branch in schema and not accepts_null(schema[branch], defs, _seen):
            return False
    return True


def _wire_name(name: str, field: Any) -> str:
    """The key a field (a pydantic ``FieldInfo``) is sent under: its alias (even an empty
    one), else its name."""
    alias = field.serialization_alias if field.serialization_alias is not None else field.alias
    return name if alias is None else str(alias)
