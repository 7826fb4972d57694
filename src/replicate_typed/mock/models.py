"""The served models: lookup in the registry, ``version`` references, each model's version
object, and validation of a prediction's input against the model's schema (the model handlers
are in :mod:`.catalog`)."""

from __future__ import annotations

import hashlib
import importlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError

from replicate_typed.core.model import ModelInfo
from replicate_typed.core.refs import is_model_ref, is_version_id
from replicate_typed.core.registry import Registry, UnknownModelError
from replicate_typed.mock.messages import field_error

__all__ = ["Models", "mock_version_id", "watch_generated_registry"]

RegistryReloader = Callable[[], Registry | None]
"""Returns the registry again when the models it comes from changed since the last call, else None."""


def watch_generated_registry() -> RegistryReloader:
    """A reloader for ``replicate_typed.models.registry``: when ``add-model`` (or ``generate``)
    rewrote the package's registry module, the next lookup of an unknown model re-reads it, so a
    running mock serves models added after it started."""
    import replicate_typed.models as package

    path = Path(package.__file__ or "")
    lock = threading.Lock()

    def stamp() -> int | None:
        try:
            return path.stat().st_mtime_ns
        except OSError:
            return None

    seen = [stamp()]

    def reload() -> Registry | None:
        with lock:
            now = stamp()
            if now is None or now == seen[0]:
                return None
            seen[0] = now
            importlib.invalidate_caches()  # new model modules on disk become importable
            fresh: Registry = importlib.reload(package).registry
            return fresh

    return reload


def _uri_format(value: object) -> bool:
    """``format: uri`` as the API means it: an absolute http(s) URL or a ``data:`` URI."""
    if not isinstance(value, str):
        return True
    if value.startswith("data:"):
        return "," in value
    scheme, sep, rest = value.partition("://")
    return bool(sep) and scheme.lower() in ("http", "https") and bool(rest.split("/")[0])


_FORMATS = FormatChecker(formats=())
_FORMATS.checks("uri")(_uri_format)


def mock_version_id(ref: str) -> str:
    """A stable 64-hex version id for models called by path (their API version is hidden)."""
    return hashlib.sha256(f"replicate-typed mock version {ref}".encode()).hexdigest()


class Models:
    """The models a mock serves (``registry``); ``runs``: predictions created per model."""

    def __init__(
        self,
        registry: Registry,
        runs: Counter[str],
        *,
        reject_unknown_inputs: bool = False,
        reload: RegistryReloader | None = None,
    ) -> None:
        self.runs = runs
        self.reject_unknown_inputs = reject_unknown_inputs
        self._reload = reload
        self._validators: dict[str, Draft202012Validator] = {}
        self._use(registry)

    def _use(self, registry: Registry) -> None:
        self.registry = registry
        self._mock_versions = {mock_version_id(ref): ref for ref in registry}

    def lookup(self, ref: str) -> ModelInfo[Any, Any] | None:
        """The model for ``ref``; an unknown one makes the reloader look for newly added models."""
        for attempt in range(2):
            try:
                return self.registry.get_model(ref)
            except UnknownModelError:
                fresh = self._reload() if self._reload is not None and attempt == 0 else None
                if fresh is None:
                    return None
                self._use(fresh)
        return None

    def missing(self, what: str) -> str:
        """The 404 detail for an unknown model: which models this mock serves, and why."""
        served = sorted(self.registry)
        names = ", ".join(served[:5]) + (f" and {len(served) - 5} more" if len(served) > 5 else "")
        how = (
            "a model added with add-model is picked up on the next request"
            if self._reload is not None
            else "it serves the registry it was started with"
        )
        return f"{what} not found: this mock serves {len(served)} models ({names}); {how}"

    def resolve_version(self, version: str) -> tuple[ModelInfo[Any, Any] | None, str | None]:
        """``(model, error)`` for a ``version`` body field; error is ``"404"`` or a 422 text."""
        value = version.strip()
        if is_version_id(value):
            ref = self._mock_versions.get(value)
            info = self.lookup(ref) if ref else self.lookup(value)
            return (info, None) if info else (None, "404")
        name, sep, vid = value.partition(":")
        if not is_model_ref(name):
            return None, "version must be owner/name, owner/name:<64-hex id> or a 64-hex id"
        info = self.lookup(name)
        if info is None:
            return None, "404"
        if sep:
            if not is_version_id(vid):
                return None, "the version id after ':' must be 64 hex characters"
            if vid not in (info.version, mock_version_id(info.ref)):
                return None, "404"
            return info, None
        if info.call_by != "path":
            return None, (
                f"{info.ref} is not an official model: pass owner/name:<version id> "
                f"(its version is {info.version})"
            )
        return info, None

    @staticmethod
    def version_id(info: ModelInfo[Any, Any]) -> str:
        return info.version or mock_version_id(info.ref)

    @staticmethod
    def openapi_schema(info: ModelInfo[Any, Any]) -> dict[str, Any]:
        """The version's ``openapi_schema``: INPUT/OUTPUT_SCHEMA with ``$defs`` back in components."""
        schemas: dict[str, Any] = {}

        def lift(schema: dict[str, Any]) -> dict[str, Any]:
            text = json.dumps({k: v for k, v in schema.items() if k != "$defs"})
            for name, sub in (schema.get("$defs") or {}).items():
                sub_text = json.dumps(sub).replace('"#/$defs/', '"#/components/schemas/')
                schemas.setdefault(name, json.loads(sub_text))
            lifted: dict[str, Any] = json.loads(text.replace('"#/$defs/', '"#/components/schemas/'))
            return lifted

        input_schema = lift(info.input_schema)
        output_schema = lift(info.output_schema)
        components = {"Input": input_schema, "Output": output_schema, **schemas}
        training = info.training
        if training is not None:  # a trainer publishes its training side beside predict's
            components["TrainingInput"] = lift(training.input_schema)
            components["TrainingOutput"] = {
                "type": "object",
                "title": "TrainingOutput",
                "required": ["weights"],
                "properties": {"weights": {"type": "string", "format": "uri", "title": "Weights"}},
            }
        return {
            "openapi": "3.0.2",
            "info": {"title": "Cog", "version": "0.1.0"},
            "paths": {},
            "components": {"schemas": components},
        }

    def version_object(self, info: ModelInfo[Any, Any]) -> dict[str, Any]:
        """The model's one version as ``models.versions.get`` shows it."""
        return {
            "id": self.version_id(info),
            "created_at": "2024-01-01T00:00:00.000000Z",
            "cog_version": "0.9.0",
            "openapi_schema": self.openapi_schema(info),
        }

    def _validator(self, info: ModelInfo[Any, Any]) -> Draft202012Validator:
        # by schema: a trainer's TrainingInput shares the model's ref, not its schema
        key = f"{info.ref}#{id(info.input_schema)}"
        validator = self._validators.get(key)
        if validator is None:
            validator = Draft202012Validator(info.input_schema, format_checker=_FORMATS)
            self._validators[key] = validator
        return validator

    def input_errors(
        self, info: ModelInfo[Any, Any], value: dict[str, Any]
    ) -> list[dict[str, str]]:
        """``invalid_fields`` entries for ``value`` against the model's input schema."""
        fields: list[dict[str, str]] = []
        errors: list[SchemaError] = sorted(
            self._validator(info).iter_errors(value), key=lambda e: [str(p) for p in e.path]
        )
        for error in errors:
            path = ".".join(str(p) for p in error.absolute_path)
            if error.validator == "required" and isinstance(error.validator_value, list):
                instance = error.instance if isinstance(error.instance, dict) else {}
                missing = [k for k in error.validator_value if k not in instance]
                for key in missing:
                    name = f"input.{path}.{key}" if path else f"input.{key}"
                    fields.append(field_error(name, f"{key} is required", "required"))
                continue
            if error.validator == "additionalProperties" and isinstance(error.instance, dict):
                schema = error.schema if isinstance(error.schema, Mapping) else {}
                known = set(schema.get("properties", {}))
                for key in sorted(set(error.instance) - known):
                    name = f"input.{path}.{key}" if path else f"input.{key}"
                    fields.append(field_error(name, "Additional property is not allowed"))
                continue
            name = f"input.{path}" if path else "input"
            fields.append(field_error(name, error.message, str(error.validator)))
        if self.reject_unknown_inputs:
            known = set(info.input_schema.get("properties") or {})
            for key in sorted(set(value) - known):
                fields.append(
                    field_error(f"input.{key}", "Unexpected input", "additional_property")
                )
        return fields
