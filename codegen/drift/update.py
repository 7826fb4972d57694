"""``--update``: write upstream schemas (and, with ``--to-latest``, version ids) into specs/ and
regenerate the package, so fixing drift is one command."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from .. import generate as gen
from ..api_spec import dumps as dump_api
from ..normalize import normalise
from ..schema_checks import validator_for
from ..spec import dump_spec, read_json, spec_path, validate_spec_data
from .report import DriftReport, ModelReport
from .sources import VersionRecord


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


def _fitting_examples(ref: str, data: dict[str, Any]) -> tuple[list[Any], list[str]]:
    """The spec's examples the new input schema accepts, and a warning per example it rejects
    (the generator refuses a spec whose examples are not valid inputs)."""
    schema = normalise(data["openapi_schema"]).input_schema
    validator = validator_for(schema)  # patterns on the Rust engine
    kept, warnings = [], []
    for index, example in enumerate(data.get("examples", [])):
        error = jsonschema.exceptions.best_match(validator.iter_errors(example.get("input", {})))
        if error is None:
            kept.append(example)
            continue
        title = f" ({example['title']})" if example.get("title") else ""
        warnings.append(
            f"{ref}: example {index}{title} no longer fits the new input schema "
            f"({error.message}): removed from the spec"
        )
    return kept, warnings


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
    originals: dict[Path, str] = {}
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
        if "examples" in new:
            new["examples"], warnings = _fitting_examples(model.spec.ref, new)
            result.warnings.extend(warnings)
        validate_spec_data(path, new, model.spec.ref)
        originals[path] = path.read_text(encoding="utf-8")
        path.write_text(dump_spec(new), encoding="utf-8")
        result.written.append(path)
    if api_document is not None:
        path = gen.Paths(root).api_document
        text = dump_api(api_document)
        if path.read_text(encoding="utf-8") != text:
            originals[path] = path.read_text(encoding="utf-8")
            path.write_text(text, encoding="utf-8")
            result.written.append(path)
    if result.written and regenerate:
        try:
            result.regenerated = len(gen.write(root))
        except BaseException:
            # The specs no longer compile: put them back so specs/ and generated/ stay in step.
            for path, text in originals.items():
                path.write_text(text, encoding="utf-8")
            raise
    return result
