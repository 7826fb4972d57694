"""``add-model``: turn a model version (as the API returns it) into a spec, then regenerate.

A version is the JSON of ``GET /v1/models/{owner}/{name}/versions/{id}``: ``{"id": ...,
"openapi_schema": ...}``. ``id`` may be null (official models are called by path). The spec keeps
``openapi_schema`` verbatim; examples of an existing spec are kept when they still validate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jsonschema

from . import generate as gen
from .errors import SpecError, SpecErrors, SpecWarning
from .naming import find_collisions
from .normalize import normalise
from .schema_checks import validator_for
from .spec import (
    MODEL_REF,
    VERSION_ID,
    dump_spec,
    index_model_specs,
    read_json,
    spec_path,
    validate_spec_data,
)

CALLS = ("version", "path")


@dataclass
class AddResult:
    spec_file: Path
    data: dict[str, Any]
    created: bool
    kept_examples: int = 0
    dropped_examples: list[str] = field(default_factory=list)
    generated: list[str] = field(default_factory=list)


def check_ref(ref: str, source: Path | str = "--model") -> str:
    if not MODEL_REF.match(ref):
        raise SpecError(
            source,
            "",
            f"model {ref!r} is not owner/name (letters, digits, '.', '_' or '-'; owner starts "
            "with a letter or digit)",
        )
    return ref


def spec_from_version(
    version: Any,
    ref: str,
    *,
    call: str | None = None,
    provenance: str,
    source: Path | str,
) -> dict[str, Any]:
    """The spec data for ``ref`` from a version object; errors name ``source`` and a pointer."""
    check_ref(ref)
    if not isinstance(version, dict):
        raise SpecError(
            source,
            "",
            f"expected a model version object {{id, openapi_schema}}, got {type(version).__name__}",
        )
    if "openapi_schema" not in version:
        raise SpecError(
            source, "/openapi_schema", "missing: a model version carries openapi_schema"
        )
    if not isinstance(version["openapi_schema"], dict):
        raise SpecError(source, "/openapi_schema", "must be an object (the model's OpenAPI schema)")
    version_id = version.get("id")
    if version_id is not None and (
        not isinstance(version_id, str) or not VERSION_ID.match(version_id)
    ):
        raise SpecError(
            source,
            "/id",
            f"version id {version_id!r} is not 64 lowercase hex characters (or null)",
        )
    if call is None:
        call = "version" if version_id else "path"
    if call not in CALLS:
        raise SpecError(source, "", f"--call {call!r} must be 'version' or 'path'")
    if call == "version" and not version_id:
        raise SpecError(
            source,
            "/id",
            "--call version needs a version id, and this version has none (use --call path)",
        )
    data: dict[str, Any] = {
        "model": ref,
        "call": call,
        "version": version_id,
        "provenance": provenance,
        "examples": [],
        "openapi_schema": version["openapi_schema"],
    }
    validate_spec_data(Path(str(source)), data)  # pointers inside openapi_schema match the source
    return data


def _valid_examples(
    examples: list[dict[str, Any]], data: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    input_schema = normalise(data["openapi_schema"]).input_schema
    validator = validator_for(input_schema)
    kept: list[dict[str, Any]] = []
    dropped: list[str] = []
    for index, example in enumerate(examples):
        error = jsonschema.exceptions.best_match(validator.iter_errors(example.get("input", {})))
        if error is None:
            kept.append(example)
        else:
            where = "/" + "/".join(str(p) for p in error.absolute_path)
            dropped.append(
                f"example {index} ({example.get('title', 'untitled')}): at {where}: {error.message}"
            )
    return kept, dropped


def add_model(
    root: Path,
    data: dict[str, Any],
    *,
    regenerate: bool = True,
    build: Callable[[Path], list[str]] | None = None,
    warnings: list[SpecWarning] | None = None,
) -> AddResult:
    """Write ``data`` as ``specs/models/<ref>/spec.json`` and regenerate the package.

    Only this model's module, the registry and its owner's ``__init__`` are regenerated (the
    other specs are read as an index): the cost does not grow with the package. Examples of an
    existing spec that still validate are kept. When regeneration fails (a spec error or
    generated code that does not pass verification) the previous spec (or its absence) is
    restored and the package is untouched, so a bad version never leaves the repository broken.
    """
    project = gen.Paths(root)
    specs_dir = project.specs
    ref = data["model"]
    target = spec_path(specs_dir, ref)
    previous = target.read_text(encoding="utf-8") if target.exists() else None
    others = [e for e in index_model_specs(specs_dir) if e.ref != ref]
    version = data.get("version")
    same_version = [e for e in others if version and e.version == version]
    if same_version:
        raise SpecErrors(
            [
                SpecError(
                    target,
                    "/version",
                    f"duplicate version id {version}: already the version of {e.ref!r} in "
                    f"{e.path} (the registry maps a version to one model)",
                )
                for e in same_version
            ]
        )
    existing_refs = sorted({e.ref for e in others})
    before = find_collisions(existing_refs)
    after = find_collisions([*existing_refs, ref])
    clashes = [
        SpecError(
            target,
            "/model",
            f"{ref!r} would share the Python module {project.module}.{module} with "
            + ", ".join(repr(r) for r in refs if r not in (ref, ref.split("/", 1)[0])),
        )
        for module, refs in after.items()
        if before.get(module) != refs
    ]
    if clashes:
        raise SpecErrors(clashes)
    result = AddResult(spec_file=target, data=data, created=previous is None)
    if previous is not None and not data["examples"]:
        try:
            old = read_json(target)
        except SpecError:
            old = {}
        old_examples = old.get("examples", []) if isinstance(old, dict) else []
        if isinstance(old_examples, list):
            kept, dropped = _valid_examples([e for e in old_examples if isinstance(e, dict)], data)
            data = {**data, "examples": kept}
            result.data, result.kept_examples, result.dropped_examples = data, len(kept), dropped
    created_dirs = [p for p in (target.parent.parent, target.parent) if not p.exists()]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(dump_spec(data), encoding="utf-8", newline="\n")
    if not regenerate:
        return result
    try:
        if build is not None:
            result.generated = build(root)
        else:
            result.generated = gen.write(root, only=[ref], warnings=warnings, index=others)
    except BaseException:
        if previous is None:
            target.unlink()
            for folder in reversed(created_dirs):
                if folder.exists() and not any(folder.iterdir()):
                    folder.rmdir()
        else:
            target.write_text(previous, encoding="utf-8", newline="\n")
        raise
    return result


def load_version_file(path: Path) -> Any:
    return read_json(path)


def public_url(url: str) -> str:
    """A base URL fit for logs and provenance: no user, password, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def fetch_version(model: str) -> tuple[str, dict[str, Any], str]:
    """``owner/name[:version]`` from the configured API: (ref, version object, base URL).

    Uses the runtime client (``REPLICATE_BASE_URL`` / ``REPLICATE_API_TOKEN``); imported here so
    the compiler does not need the runtime for anything else.
    """
    from replicate_typed.client import Client
    from replicate_typed.client.errors import ReplicateError

    ref, _, version_id = model.partition(":")
    check_ref(ref, "--from-api")
    if version_id and not VERSION_ID.match(version_id):
        raise SpecError(
            "--from-api", "", f"version {version_id!r} is not 64 lowercase hex characters"
        )
    try:
        with Client() as client:
            base_url = public_url(client.base_url)
            if version_id:
                found = client.models.versions.get(ref, version_id)
                version = {"id": found.id, "openapi_schema": found.openapi_schema}
            else:
                latest = client.models.get(ref).latest_version
                if not isinstance(latest, dict):
                    raise SpecError(
                        base_url,
                        f"/models/{ref}",
                        "the model has no latest_version; name a version (owner/name:<id>)",
                    )
                version = {"id": latest.get("id"), "openapi_schema": latest.get("openapi_schema")}
    except ReplicateError as exc:
        raise SpecError("--from-api", "", f"cannot fetch {model}: {exc}") from None
    if version.get("openapi_schema") is None:
        raise SpecError(
            base_url,
            f"/models/{ref}/versions/{version.get('id')}",
            "the version carries no openapi_schema",
        )
    return ref, version, base_url
