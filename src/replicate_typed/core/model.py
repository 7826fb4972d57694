"""What generated per-model modules are made of: the input base class and the model descriptor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    model_serializer,
)

__all__ = ["ModelInput", "ModelInfo", "CallBy", "OutputT", "InputT"]

OutputT = TypeVar("OutputT")
InputT = TypeVar("InputT", bound="ModelInput[Any]")
CallBy = Literal["version", "path"]


class ModelInput(BaseModel, Generic[OutputT]):
    """Base of every generated ``Input``: unknown fields are rejected, assignments validated.

    ``OutputT`` is the type :meth:`Client.run` returns for this model, so
    ``client.run(sdxl.Input(prompt=...))`` is typed without naming the model twice.
    """

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        validate_default=False,
        populate_by_name=True,
        arbitrary_types_allowed=True,
    )

    __model_info__: ClassVar[ModelInfo[Any, Any]]

    @model_serializer(mode="wrap")
    def _omit_unsendable_none(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> Any:
        """Leave out ``None`` where the model's schema does not accept null.

        An optional field without a default is typed ``X | None`` (``None`` = "let the model
        decide"); the published schema accepts no null there, so a dump never carries one.
        """
        data = handler(self)
        if isinstance(data, dict):
            fields = type(self).model_fields
            for name in _none_means_unset(type(self)):
                field = fields[name]
                key = (field.serialization_alias or field.alias or name) if info.by_alias else name
                if key in data and data[key] is None:
                    del data[key]
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
        fields = type(self).model_fields
        values: dict[str, Any] = {}
        for name in sorted(self.model_fields_set, key=list(fields).index):
            value = getattr(self, name)
            if isinstance(value, BaseModel):
                value = value.model_dump(mode="python", by_alias=True, exclude_unset=True)
            values[fields[name].alias or name] = value
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
        adapter = _ADAPTERS.get(id(self))
        if adapter is None:
            adapter = _ADAPTERS[id(self)] = TypeAdapter(self.output_type)
        return adapter

    def parse_output(self, raw: Any) -> OutputT:
        """Validate a prediction's raw ``output`` into this model's typed output value.

        Text iterators marked ``concatenate`` are joined into one string.
        """
        if self.output_concatenate and isinstance(raw, list):
            raw = "".join(str(part) for part in raw)
        value: OutputT = self.output_adapter.validate_python(raw)
        return value


_ADAPTERS: dict[int, TypeAdapter[Any]] = {}
_NONE_MEANS_UNSET: dict[type[Any], frozenset[str]] = {}


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
            prop = properties.get(field.alias or name)
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
