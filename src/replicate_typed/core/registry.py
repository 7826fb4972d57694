"""Model lookup behind the generated ``replicate_typed.registry``."""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from replicate_typed.core.model import ModelInfo
from replicate_typed.core.refs import VERSION_ID as _VERSION_ID

__all__ = ["Registry", "UnknownModelError", "parse_model_ref"]


class UnknownModelError(LookupError):
    """The registry has no generated model for that reference."""


def parse_model_ref(ref: str) -> tuple[str | None, str | None]:
    """Split ``owner/name``, ``owner/name:version`` or a bare version id into (ref, version)."""
    ref = ref.strip()
    if _VERSION_ID.match(ref):
        return None, ref
    name, _, version = ref.partition(":")
    if name.count("/") != 1 or not all(name.split("/")):
        raise UnknownModelError(
            f"{ref!r} is not owner/name, owner/name:<version> or a 64-hex version id"
        )
    if version and not _VERSION_ID.match(version):
        raise UnknownModelError(f"version {version!r} in {ref!r} is not a 64-hex version id")
    return name, version or None


class Registry(Mapping[str, ModelInfo[Any, Any]]):
    """Read-only mapping ``owner/name`` -> :class:`ModelInfo`, importing modules lazily."""

    def __init__(self, modules: Mapping[str, str], versions: Mapping[str, str]) -> None:
        self._modules = dict(modules)
        self._versions = dict(versions)

    @classmethod
    def combine(cls, *registries: Registry) -> Registry:
        """One registry of the models of all (a later one wins for the same ``owner/name``),
        e.g. the package's own models and a project's generated package."""
        modules: dict[str, str] = {}
        versions: dict[str, str] = {}
        for registry in registries:
            modules.update(registry._modules)
            versions.update(registry._versions)
        return cls(modules, versions)

    def __getitem__(self, ref: str) -> ModelInfo[Any, Any]:
        return self.get_model(ref)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __contains__(self, ref: object) -> bool:
        if not isinstance(ref, str):
            return False
        try:
            self.get_model(ref)
        except UnknownModelError:
            return False
        return True

    def get_model(self, ref: str) -> ModelInfo[Any, Any]:
        """Look a model up by ``owner/name``, ``owner/name:version`` or bare version id."""
        name, version = parse_model_ref(ref)
        if name is None:
            assert version is not None
            if version not in self._versions:
                raise UnknownModelError(f"no generated model has version {version}")
            name = self._versions[version]
        module_path = self._modules.get(name)
        if module_path is None:
            close = difflib.get_close_matches(name, list(self._modules), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UnknownModelError(
                f"no generated model {name!r}{hint} (add one with `replicate-typed-codegen add-model`)"
            )
        info: ModelInfo[Any, Any] = importlib.import_module(module_path).MODEL
        if version is not None and info.version is not None and version != info.version:
            raise UnknownModelError(
                f"{name} is generated for version {info.version}, not {version}; "
                "update its spec (replicate-typed-codegen drift --update) to use another version"
            )
        return info
