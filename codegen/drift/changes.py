"""What drift detection reports: one classified change per difference."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final


class Severity(IntEnum):
    """How a change affects an existing caller (ordered: a larger value is worse)."""

    COSMETIC = 1
    COMPATIBLE = 2
    BREAKING = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


class _Missing:
    """The absence of a value (a keyword not present), distinct from JSON null."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<absent>"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()


# Change kinds (the vocabulary of the report; docs/codegen.md lists their classification).
PROPERTY_ADDED = "property_added"
PROPERTY_REMOVED = "property_removed"
TYPE_CHANGED = "type_changed"
NULLABLE_CHANGED = "nullable_changed"
REQUIRED_CHANGED = "required_changed"
DEFAULT_CHANGED = "default_changed"
ENUM_VALUE_ADDED = "enum_value_added"
ENUM_VALUE_REMOVED = "enum_value_removed"
ENUM_ADDED = "enum_added"
ENUM_REMOVED = "enum_removed"
ENUM_REORDERED = "enum_reordered"
CONSTRAINT_TIGHTENED = "constraint_tightened"
CONSTRAINT_LOOSENED = "constraint_loosened"
FORMAT_CHANGED = "format_changed"
ANNOTATION_CHANGED = "annotation_changed"
PROPERTIES_REORDERED = "properties_reordered"
KEYWORD_CHANGED = "keyword_changed"
VERSION_PUBLISHED = "version_published"
VERSION_UNAVAILABLE = "version_unavailable"
MODEL_UNAVAILABLE = "model_unavailable"
SCHEMA_ADDED = "schema_added"
SCHEMA_REMOVED = "schema_removed"
OPERATION_ADDED = "operation_added"
OPERATION_REMOVED = "operation_removed"
OPERATION_METHOD_CHANGED = "operation_method_changed"
OPERATION_ID_CHANGED = "operation_id_changed"
PARAMETER_ADDED = "parameter_added"
PARAMETER_REMOVED = "parameter_removed"
REQUEST_BODY_CHANGED = "request_body_changed"
RESPONSE_ADDED = "response_added"
RESPONSE_REMOVED = "response_removed"
DOCUMENT_VERSION_CHANGED = "document_version_changed"


def show(value: Any) -> str:
    """A value as the report prints it (compact JSON; an absent value as 'absent')."""
    if value is MISSING:
        return "absent"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class Change:
    """One difference between the spec (old) and upstream (new).

    ``path`` is a JSON pointer: for a model, into the normalised schemas ``/input/...`` and
    ``/output/...`` (the pointer of the field followed by the keyword that changed, e.g.
    ``/input/properties/width/maximum``); for the API, into the trimmed OpenAPI document.
    """

    subject: str
    kind: str
    path: str
    old: Any
    new: Any
    severity: Severity
    message: str

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "subject": self.subject,
            "severity": self.severity.label,
            "kind": self.kind,
            "path": self.path,
            "message": self.message,
        }
        if self.old is not MISSING:
            out["old"] = self.old
        if self.new is not MISSING:
            out["new"] = self.new
        return out


def worst(changes: list[Change]) -> Severity | None:
    return max((c.severity for c in changes), default=None)
