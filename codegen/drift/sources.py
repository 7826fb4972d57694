"""Where the upstream side of a comparison comes from: recorded files or the live API."""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..spec import ModelSpec


@dataclass(frozen=True)
class VersionRecord:
    """A model version as upstream publishes it."""

    id: str | None
    openapi_schema: dict[str, Any]


@dataclass
class Upstream:
    """What upstream says about one spec's model.

    ``pinned``: the spec's own version as published now (None for models called by path, or when
    not recorded); ``latest``: the model's latest version (None when not known);
    ``unavailable``: set when upstream answered that the model or the pinned version is gone.
    """

    pinned: VersionRecord | None = None
    latest: VersionRecord | None = None
    unavailable: str | None = None
    notes: list[str] = field(default_factory=list)


class UpstreamError(Exception):
    """Upstream could not be asked (network, authentication, unreadable file)."""


class Source(Protocol):
    description: str

    def fetch(self, spec: ModelSpec) -> Upstream: ...


def _record(data: Any, where: str) -> VersionRecord:
    if not isinstance(data, dict) or not isinstance(data.get("openapi_schema"), dict):
        raise UpstreamError(f"{where}: expected an object with an openapi_schema")
    version_id = data.get("id")
    return VersionRecord(
        version_id if isinstance(version_id, str) else None, data["openapi_schema"]
    )


def file_stem(ref: str) -> str:
    owner, name = ref.split("/", 1)
    return f"{owner}__{name}"


class DirSource:
    """Recorded upstream answers: OWNER__NAME.version.json (the pinned version, as published now)
    and optionally OWNER__NAME.latest.json (the latest version), each ``{"id", "openapi_schema"}``.
    """

    def __init__(self, folder: Path) -> None:
        if not folder.is_dir():
            raise UpstreamError(f"{folder}: not a folder")
        self.folder = folder
        self.description = f"recorded versions in {folder}"

    def _load(self, path: Path) -> VersionRecord | None:
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise UpstreamError(f"{path}: cannot read: {exc}") from None
        return _record(data, str(path))

    def fetch(self, spec: ModelSpec) -> Upstream:
        stem = file_stem(spec.ref)
        version = self._load(self.folder / f"{stem}.version.json")
        latest = self._load(self.folder / f"{stem}.latest.json")
        out = Upstream()
        if spec.call == "path" or spec.version is None:
            out.latest = latest or version
        elif version is not None and version.id not in (None, spec.version):
            # A recording of another version: it can only tell us what is newer.
            out.latest = latest or version
            out.notes.append(f"{stem}.version.json records {version.id}, not the pinned version")
        else:
            out.pinned, out.latest = version, latest
        if out.pinned is None and out.latest is None:
            out.notes.append("not recorded")
        return out


def _as_dict(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return value
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        result = dump()
        return result if isinstance(result, dict) else None
    return None


class LiveSource:
    """Asks the API at the configured base URL through the runtime client.

    The token and base URL come from REPLICATE_API_TOKEN / REPLICATE_BASE_URL (or ``base_url``);
    the token is never printed.
    """

    def __init__(self, client: Any, base_url: str) -> None:
        self.client = client
        self.description = f"live API at {base_url}"
        errors = importlib.import_module("replicate_typed.client.errors")
        self._not_found: type[BaseException] = errors.NotFoundError
        self._api_error: type[BaseException] = errors.ReplicateError

    @classmethod
    def from_environment(cls, base_url: str | None = None) -> LiveSource:
        try:
            client_module = importlib.import_module("replicate_typed.client")
        except ImportError as exc:
            raise UpstreamError(f"the runtime client is not available: {exc}") from None
        client = client_module.Client(base_url=base_url)
        shown = str(getattr(client, "base_url", None) or base_url or "the default base URL")
        return cls(client, shown)

    def fetch(self, spec: ModelSpec) -> Upstream:
        out = Upstream()
        try:
            model = self.client.models.get(spec.ref)
        except self._not_found:
            out.unavailable = f"model {spec.ref} not found upstream"
            return out
        except self._api_error as exc:
            raise UpstreamError(f"{spec.ref}: {type(exc).__name__}: {exc}") from None
        latest = _as_dict(getattr(model, "latest_version", None))
        if latest is not None and isinstance(latest.get("openapi_schema"), dict):
            out.latest = _record(latest, f"{spec.ref} latest_version")
        if spec.call == "version" and spec.version:
            try:
                version = self.client.models.versions.get(spec.ref, spec.version)
            except self._not_found:
                out.unavailable = f"version {spec.version} of {spec.ref} not found upstream"
                return out
            except self._api_error as exc:
                raise UpstreamError(f"{spec.ref}: {type(exc).__name__}: {exc}") from None
            data = _as_dict(version) or {}
            if not isinstance(data.get("openapi_schema"), dict):
                raise UpstreamError(f"{spec.ref}: version {spec.version} has no openapi_schema")
            out.pinned = _record({**data, "id": data.get("id") or spec.version}, spec.ref)
        if out.pinned is None and out.latest is None:
            out.notes.append("upstream publishes no schema")
        return out
