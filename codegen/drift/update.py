"""``--update``: write upstream schemas (and, with ``--to-latest``, version ids) into specs/ and
regenerate the package, so fixing drift is one command."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from codegen import generate as gen
from codegen.api_spec import dumps as dump_api
from codegen.drift.report import DriftReport, ModelReport
from codegen.drift.sources import VersionRecord
from codegen.normalize import normalise
from codegen.spec import dump_spec, read_json, spec_path, validate_spec_data


@dataclass
class UpdateResult:
    written: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    regenerated: int = 0


def _target(model: ModelReport, to_latest: bool) -> VersionRecord | None:
    up = model.upstream
    if up is None or up.unavailable is not None:
        return None
    if model.spec.call == "path" or model.spec.version is None:
        return up.latest
    if to_latest and up.latest is not None and up.latest.id:
        return up.latest
    return up.pinned


def _check_examples(ref: str, data: dict[str, Any]) -> list[str]:
    schema = normalise(data["openapi_schema"]).input_schema
    validator = jsonschema.Draft202012Validator(schema)
    out = []
    for index, example in enumerate(data.get("examples", [])):
        error = next(iter(validator.iter_errors(example.get("input", {}))), None)
        if error is not None:
            out.append(
                f"{ref}: example {index} no longer fits the new input schema: {error.message}"
            )
    return out


def apply(
    root: Path,
    report: DriftReport,
    *,
    to_latest: bool = False,
    api_document: dict[str, Any] | None = None,
    regenerate: bool = True,
) -> UpdateResult:
    result = UpdateResult()
    specs_dir = gen.Paths(root).specs
    for model in report.models:
        target = _target(model, to_latest)
        if target is None:
            continue
        path = spec_path(specs_dir, model.spec.ref)
        data = read_json(path)
        new = dict(data)
        new["openapi_schema"] = target.openapi_schema
        if to_latest and model.spec.call == "version" and target.id:
            new["version"] = target.id
        if new == data:
            continue
        validate_spec_data(path, new, model.spec.ref)
        path.write_text(dump_spec(new), encoding="utf-8")
        result.written.append(path)
        result.warnings.extend(_check_examples(model.spec.ref, new))
    if api_document is not None:
        path = specs_dir / "api" / "openapi.json"
        text = dump_api(api_document)
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            result.written.append(path)
    if result.written and regenerate:
        result.regenerated = len(gen.write(root))
    return result
