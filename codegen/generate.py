"""specs/ -> generated/replicate_typed: the whole compilation, in one process.

The generator owns every file under ``generated/`` (the hand-written runtime lives in ``src/``):
the folder is rewritten whole, so a removed spec removes its module.
"""

from __future__ import annotations

import filecmp
import json
import keyword
import math
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Collection, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jsonschema

from codegen.api_types import normalise_api
from codegen.errors import SpecError, SpecErrors, SpecWarning, pointer
from codegen.naming import find_collisions, module_name
from codegen.normalize import normalise
from codegen.pymodels import ModelCode, api_code, model_code
from codegen.schema_checks import check_schemas, validator_for
from codegen.spec import (
    ModelSpec,
    SpecEntry,
    index_model_specs,
    load_model_spec,
    load_model_specs,
    read_json,
    spec_path,
)
from codegen.verify import Origin, verify

PACKAGE = "replicate_typed"
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Paths:
    root: Path

    @property
    def specs(self) -> Path:
        return self.root / "specs"

    @property
    def package(self) -> Path:
        return self.root / "generated" / PACKAGE


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["pyrepr"] = repr
    return env


def _compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


def _docstring_safe(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


EXAMPLE_URL = "https://example.com/input.png"
_EXAMPLE_CHARS = 40


def _placeholder(prop: Any, defs: dict[str, Any]) -> Any:
    """A value the property accepts, for a usage example with no recorded value."""
    if not isinstance(prop, dict):
        return "..."
    for part in prop.get("allOf", []):
        if isinstance(part, dict) and isinstance(part.get("$ref"), str):
            target = defs.get(part["$ref"].rsplit("/", 1)[-1], {})
            prop = {**target, **{k: v for k, v in prop.items() if k != "allOf"}}
    if isinstance(prop.get("$ref"), str):
        prop = {**defs.get(prop["$ref"].rsplit("/", 1)[-1], {}), **prop}
    if prop.get("default") is not None:
        return prop["default"]
    if prop.get("enum"):
        return prop["enum"][0]
    if "const" in prop:
        return prop["const"]
    for key in ("anyOf", "oneOf"):
        branches = [b for b in prop.get(key, []) if isinstance(b, dict) and b.get("type") != "null"]
        if branches:
            return _placeholder({**prop, key: None, **branches[0]}, defs)
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "null":
        return None
    if kind == "string":
        if prop.get("format") == "uri":
            return EXAMPLE_URL
        low = prop.get("minLength", 3)
        return "a" * (low if isinstance(low, int) and not isinstance(low, bool) else 3)
    if kind in ("integer", "number"):
        value = prop.get("minimum", prop.get("maximum", 1))
        if not isinstance(value, int | float) or isinstance(value, bool):
            value = 1
        return math.ceil(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "object":
        return {}
    return "..."


def _shorten(value: Any, prop: Any) -> Any:
    """Long example strings are cut for the docstring; a cut URL would not be one, so it is swapped."""
    if not isinstance(value, str) or len(repr(value)) <= _EXAMPLE_CHARS:
        return value
    if isinstance(prop, dict) and prop.get("format") == "uri":
        return EXAMPLE_URL
    return value[: _EXAMPLE_CHARS - 3] + "..."


def example_input(spec: ModelSpec, input_schema: dict[str, Any]) -> dict[str, Any]:
    """The input of the docstring's usage example: every required field and at most two in all
    otherwise, from the spec's first example or a placeholder value the schema accepts."""
    properties = input_schema.get("properties", {})
    defs = input_schema.get("$defs", {})
    required = [n for n in input_schema.get("required", []) if n in properties]
    source = spec.examples[0]["input"] if spec.examples else {}
    optional = [n for n in properties if n in source and n not in required]
    names = required + optional[: max(0, 2 - len(required))]
    return {
        name: _shorten(
            source[name] if name in source else _placeholder(properties[name], defs),
            properties[name],
        )
        for name in names
    }


def _example_args(spec: ModelSpec, input_schema: dict[str, Any]) -> str:
    values = example_input(spec, input_schema)
    if all(n.isidentifier() and not keyword.iskeyword(n) for n in values):
        text = ", ".join(f"{name}={value!r}" for name, value in values.items())
    else:
        text = f"**{values!r}"
    return _docstring_safe(text)


def _check_examples(spec: ModelSpec, input_schema: dict[str, Any]) -> None:
    """Every example of a spec must be an input the model accepts (patterns matched in linear
    time by pydantic-core's engine, never a backtracking one)."""
    validator = validator_for(input_schema)
    for index, example in enumerate(spec.examples):
        error = jsonschema.exceptions.best_match(validator.iter_errors(example["input"]))
        if error is not None:
            raise SpecError(
                spec.path,
                pointer(["examples", index, "input", *error.absolute_path]),
                f"the example is not a valid input: {error.message}",
            )


def _check_defaults(spec: ModelSpec, input_schema: dict[str, Any]) -> None:
    """A field's default must be a value of the field (null stands for "no default" in Cog)."""
    defs = input_schema.get("$defs", {})
    for name, prop in input_schema.get("properties", {}).items():
        if not isinstance(prop, dict) or prop.get("default") is None:
            continue
        schema = {k: v for k, v in prop.items() if k != "default"}
        validator = validator_for({**schema, "$defs": defs})
        error = jsonschema.exceptions.best_match(validator.iter_errors(prop["default"]))
        if error is not None:
            raise SpecError(
                spec.path,
                pointer(
                    [
                        "openapi_schema",
                        "components",
                        "schemas",
                        "Input",
                        "properties",
                        name,
                        "default",
                    ]
                ),
                f"default {prop['default']!r} of {name!r} is not a valid value: {error.message}",
            )


def module_of(spec: SpecEntry | ModelSpec) -> str:
    return f"{PACKAGE}.models.{module_name(spec.owner)}.{module_name(spec.name)}"


def render_model(
    env: jinja2.Environment,
    spec: ModelSpec,
    settings: Path,
    warnings: list[SpecWarning] | None = None,
) -> str:
    """The model module of ``spec`` (before ruff). Raises :class:`SpecError`/:class:`SpecErrors`
    for a schema it cannot turn into working code; odd schemas it handles on purpose add to
    ``warnings``."""
    found = check_schemas(spec.path, spec.schemas)
    try:
        norm = normalise(spec.openapi_schema)
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as exc:
        raise SpecError(
            spec.path,
            "/openapi_schema/components/schemas",
            f"cannot normalise the schema: {type(exc).__name__}: {exc}",
        ) from None
    for root_name, schema in (("Input", norm.input_schema), ("Output", norm.output_schema)):
        _check_schema(spec, root_name, schema)
    _check_defaults(spec, norm.input_schema)
    _check_examples(spec, norm.input_schema)
    try:
        code: ModelCode = model_code(norm.codegen_document, norm.output_schema, settings)
    except SpecError:
        raise
    except Exception as exc:  # datamodel-code-generator's own errors: name the spec
        raise SpecError(
            spec.path, "/openapi_schema", f"cannot generate models: {type(exc).__name__}: {exc}"
        ) from None
    if warnings is not None:
        warnings.extend(found)
    return env.get_template("model_module.py.jinja").render(
        source=f"specs/models/{spec.ref}/spec.json",
        spec=spec,
        module_path=module_of(spec),
        code=code,
        example_args=_example_args(spec, norm.input_schema),
        input_schema_json=_compact_json(norm.input_schema),
        output_schema_json=_compact_json(norm.output_schema),
        examples_json=_compact_json(list(spec.examples)),
        extra_exports=[],
    )


# Draft 7's meta-schema checks the keywords Cog writes (type, enum, bounds, properties ...) about
# five times faster than 2020-12's (dynamic refs); the $defs are checked as draft-7 definitions.
_META = jsonschema.Draft7Validator(jsonschema.Draft7Validator.META_SCHEMA)


def _check_schema(spec: ModelSpec, root_name: str, schema: dict[str, Any]) -> None:
    """A schema the generator cannot trust (``type: "strin"``) is a spec error, not a crash."""
    probe = {k: v for k, v in schema.items() if k != "$defs"}
    if "$defs" in schema:
        probe["definitions"] = schema["$defs"]
    error = jsonschema.exceptions.best_match(_META.iter_errors(probe))
    if error is None:
        return
    parts: list[str | int] = list(error.absolute_path)
    if len(parts) >= 2 and parts[0] == "definitions":
        parts = parts[1:]  # $defs/X is components/schemas/X in the spec
    else:
        parts = [root_name, *parts]
    raise SpecError(
        spec.path,
        pointer(["openapi_schema", "components", "schemas", *parts]),
        f"not a valid JSON Schema: {error.message}",
    )


def _spec_set_errors(specs: Sequence[SpecEntry | ModelSpec]) -> list[SpecError]:
    """Errors of the set of specs: two specs for one model, one version id in two specs (the
    registry would map it to one of them only), two specs needing one Python module. Each
    error names the other file."""
    errors: list[SpecError] = []
    by_ref: dict[str, list[SpecEntry | ModelSpec]] = {}
    by_version: dict[str, list[SpecEntry | ModelSpec]] = {}
    for spec in specs:
        by_ref.setdefault(spec.ref, []).append(spec)
        if spec.version:
            by_version.setdefault(spec.version, []).append(spec)
    for group in by_ref.values():
        for spec in group if len(group) > 1 else ():
            others = "; ".join(f"{o.ref!r} in {o.path}" for o in group if o is not spec)
            errors.append(
                SpecError(
                    spec.path,
                    "/model",
                    f"duplicate model: {spec.ref!r} is also specified by {others}",
                )
            )
    for version, group in by_version.items():
        for spec in group if len(group) > 1 else ():
            others = "; ".join(f"{o.ref!r} in {o.path}" for o in group if o is not spec)
            errors.append(
                SpecError(
                    spec.path,
                    "/version",
                    f"duplicate version id {version}: also the version of {others} (the "
                    "registry maps a version to one model)",
                )
            )
    for module, clashing in find_collisions([s.ref for s in specs]).items():
        owners = "." not in module  # owner spellings that share one package folder
        for spec in specs:
            mine = spec.owner if owners else spec.ref
            if mine not in clashing:
                continue
            others = ", ".join(repr(c) for c in clashing if c != mine)
            files = ", ".join(
                str(o.path)
                for o in specs
                if o is not spec and (o.owner if owners else o.ref) in clashing
            )
            what = f"owner {mine!r} and owner {others}" if owners else f"{mine!r} and {others}"
            errors.append(
                SpecError(
                    spec.path,
                    "/model",
                    f"name collision: {what} would share the Python module "
                    f"{PACKAGE}.models.{module} (see {files})",
                )
            )
    return errors


# Rendering is CPU-bound (datamodel-code-generator); with many models it is spread over worker
# processes, as many as there are idle CPUs (on a busy machine extra processes only add fork and
# copy-on-write costs). CODEGEN_WORKERS=N forces N processes; the output is identical either way.
PARALLEL_FROM = 48

_Problem = tuple[Path | str, str, str]
# (module text or None, errors, warnings), as data: exceptions of dataclasses do not pickle
_Rendered = tuple[str | None, list[_Problem], list[_Problem]]


def _render_chunk(job: tuple[list[ModelSpec], Path]) -> list[_Rendered]:
    specs, root = job
    env = _env()
    out: list[_Rendered] = []
    for spec in specs:
        found: list[SpecWarning] = []
        try:
            text = render_model(env, spec, root, found)
            out.append((text, [], [(w.file, w.pointer, w.rule) for w in found]))
        except (SpecError, SpecErrors) as exc:
            problems = [(e.file, e.pointer, e.rule) for e in iter_errors(exc)]
            out.append((None, problems, []))
    return out


def _workers(count: int) -> int:
    configured = os.environ.get("CODEGEN_WORKERS", "")
    if configured.isdigit() and int(configured) > 0:
        return min(int(configured), max(1, count))
    if count < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    cpus = os.cpu_count() or 1
    try:
        idle = cpus - os.getloadavg()[0]
    except OSError:
        idle = cpus
    return max(1, min(cpus, round(idle), count // (PARALLEL_FROM // 2)))


def _render_models(specs: list[ModelSpec], root: Path) -> list[_Rendered]:
    workers = _workers(len(specs))
    if workers <= 1:
        return _render_chunk((specs, root))
    chunks = [specs[index::workers] for index in range(workers)]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        results = list(pool.map(_render_chunk, [(chunk, root) for chunk in chunks]))
    ordered: list[_Rendered] = [(None, [], [])] * len(specs)
    for index, chunk_results in enumerate(results):
        ordered[index::workers] = chunk_results
    return ordered


def model_file(spec: SpecEntry | ModelSpec) -> str:
    """The module of a model, relative to the package folder."""
    return f"models/{module_name(spec.owner)}/{module_name(spec.name)}.py"


def owner_file(owner: str) -> str:
    return f"models/{module_name(owner)}/__init__.py"


REGISTRY_FILE = "models/__init__.py"


@dataclass
class Rendered:
    """Files of the package (relative path -> text before ruff) and what each was made from."""

    files: dict[str, str]
    origins: dict[str, Origin]
    warnings: list[SpecWarning]
    stale: list[str]
    """Files of the committed package that no spec makes any more (to be removed)."""


def render_files(
    root: Path,
    specs: list[ModelSpec] | None = None,
    *,
    only: Collection[str] | None = None,
    index: Sequence[SpecEntry] | None = None,
) -> Rendered:
    """Render the package; with ``only`` (refs), just those models' modules and the small shared
    files (registry, their owners' ``__init__``), the other specs read as an index only (or
    taken from ``index``, when the caller has read it)."""
    paths = Paths(root)
    known: list[SpecEntry | ModelSpec]
    if only is None:
        if specs is None:
            specs = load_model_specs(paths.specs)
        known = list(specs)
        to_render = specs
    else:
        wanted = set(only)
        entries = [e for e in index or index_model_specs(paths.specs) if e.ref not in wanted]
        to_render = [
            load_model_spec(spec_path(paths.specs, ref), paths.specs / "models")
            for ref in sorted(wanted)
        ]
        known = sorted([*entries, *to_render], key=lambda s: s.ref)
    set_errors = _spec_set_errors(known)
    if set_errors:
        raise SpecErrors(set_errors)
    env = _env()
    files: dict[str, str] = {}
    origins: dict[str, Origin] = {}
    errors: list[SpecError] = []
    warnings: list[SpecWarning] = []
    for spec, (text, problems, notes) in zip(
        to_render, _render_models(to_render, root), strict=True
    ):
        rel = model_file(spec)
        if text is not None:
            files[rel] = text
            origins[rel] = Origin(spec.path, spec.schemas, spec.ref, spec.examples)
        errors += [SpecError(*p) for p in problems]
        warnings += [SpecWarning(*n) for n in notes]
    if errors:
        raise SpecErrors(errors)

    owners: dict[str, list[SpecEntry | ModelSpec]] = {}
    for entry in known:
        owners.setdefault(module_name(entry.owner), []).append(entry)
    committed = owned_files(paths.package)
    if only is None:
        touched = set(owners)
        stale = []  # known once every file is rendered
    else:
        # Modules whose spec is gone go too, and their owners' __init__ changes with them:
        # add-model leaves the package as a full generate would.
        expected = {model_file(e) for e in known} | {owner_file(e.owner) for e in known}
        expected.add(REGISTRY_FILE)
        stale = sorted(
            rel for rel in committed if rel.startswith("models/") and rel not in expected
        )
        touched = {module_name(s.owner) for s in to_render}
        touched |= {rel.split("/")[1] for rel in stale if rel.count("/") == 2}
    init = env.get_template("package_init.py.jinja")
    for owner_mod, members in sorted(owners.items()):
        if owner_mod not in touched:
            continue
        names = sorted(module_name(m.name) for m in members)
        rel = owner_file(members[0].owner)
        files[rel] = init.render(
            source="specs/models",
            docstring=f"Models of {members[0].owner}.",
            imports=[f"from . import {name}" for name in names],
            exports=names,
        )
        origins[rel] = Origin(members[0].path)
    files[REGISTRY_FILE] = env.get_template("registry.py.jinja").render(
        source="specs/models", models=[(s, module_of(s)) for s in known]
    )
    origins[REGISTRY_FILE] = Origin(paths.specs / "models")
    if only is None:
        files.update(_render_api(root, env, init))
        stale = sorted(set(committed) - set(files))
    return Rendered(files, origins, warnings, stale)


def render_package(root: Path, specs: list[ModelSpec] | None = None) -> dict[str, str]:
    """Every generated file, relative to the package folder -> its text (before ruff)."""
    return render_files(root, specs).files


def _render_api(root: Path, env: jinja2.Environment, init: jinja2.Template) -> dict[str, str]:
    api_file = Paths(root).specs / "api" / "openapi.json"
    api_raw = read_json(api_file)
    try:
        api_doc = normalise_api(api_raw)
        imports, body = api_code(api_doc, root)
    except SpecError:
        raise
    except Exception as exc:
        raise SpecError(
            api_file,
            "/components/schemas",
            f"cannot generate API types: {type(exc).__name__}: {exc}",
        ) from None
    enums = {
        name: schema["enum"]
        for name, schema in api_doc["components"]["schemas"].items()
        if "enum" in schema and "properties" not in schema
    }
    files: dict[str, str] = {}
    files["types/operations.py"] = env.get_template("operations.py.jinja").render(
        source="specs/api/openapi.json", operations=operation_rows(api_file, api_raw)
    )
    files["types/api.py"] = env.get_template("api_types.py.jinja").render(
        source="specs/api/openapi.json", imports=imports, body=body, enums=enums
    )
    api_names = sorted(set(re.findall(r"^class (\w+)\(", body, re.M)) | set(enums))
    files["types/__init__.py"] = init.render(
        source="specs/api/openapi.json",
        docstring="API types: Prediction, PredictionStatus, ProblemDetails, PredictionPage, File, ...",
        imports=[f"from .api import {', '.join(api_names)}"],
        exports=api_names,
    )
    return files


_METHODS = ("get", "post", "put", "patch", "delete")
_RETRY_CLASSES = ("read", "cancel", "create")


def operation_rows(api_file: Path, doc: Any) -> list[dict[str, Any]]:
    """One row per operation of the API document; a row the table cannot hold is a spec error."""
    rows: list[dict[str, Any]] = []
    paths = doc.get("paths") if isinstance(doc, dict) else None
    if not isinstance(paths, dict):
        raise SpecError(api_file, "/paths", "the API document has no paths object")
    for path, item in paths.items():
        for method in _METHODS:
            operation = item.get(method) if isinstance(item, dict) else None
            if operation is None:
                continue
            where = pointer(["paths", path, method])
            op_id = operation.get("operationId") if isinstance(operation, dict) else None
            if not isinstance(op_id, str) or not re.fullmatch(
                r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*", op_id
            ):
                raise SpecError(
                    api_file,
                    f"{where}/operationId",
                    f"operationId {op_id!r} is not dotted.lower_case",
                )
            retry = operation.get("x-retry")
            if retry not in _RETRY_CLASSES:
                raise SpecError(
                    api_file,
                    f"{where}/x-retry",
                    f"x-retry {retry!r} is not one of {_RETRY_CLASSES}",
                )
            rows.append(
                {
                    "id": op_id,
                    "constant": op_id.upper().replace(".", "_"),
                    "method": method.upper(),
                    "path": path,
                    "retry": retry,
                    "path_params": tuple(re.findall(r"\{(\w+)\}", path)),
                    "summary": str(operation.get("summary", "")),
                }
            )
    seen: dict[str, str] = {}
    for row in rows:
        if row["constant"] in seen:
            raise SpecError(
                api_file,
                "/paths",
                f"operationIds {seen[row['constant']]!r} and {row['id']!r} collide",
            )
        seen[row["constant"]] = row["id"]
    return rows


def _ruff(folder: Path | list[Path], root: Path) -> None:
    """ruff's fixes and formatter with the project's settings, on a folder or a list of files
    (the same bytes per file either way). A file ruff cannot parse is left as it is: the
    verification reports it."""
    config = root / "pyproject.toml"
    targets = [str(p) for p in folder] if isinstance(folder, list) else [str(folder)]
    if not targets:
        return
    for args in (["check", "--fix-only", "--quiet", "--exit-zero"], ["format", "--quiet"]):
        subprocess.run(
            [
                sys.executable,
                "-m",
                "ruff",
                *args,
                *(["--config", str(config)] if config.is_file() else []),
                *targets,
            ],
            check=False,
            cwd=root,
            capture_output=True,
        )


def _stage(target: Path, files: dict[str, str], root: Path) -> None:
    for rel, text in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    _ruff([target / rel for rel in sorted(files) if rel.endswith(".py")], root)


def build(root: Path, target: Path, specs: list[ModelSpec] | None = None) -> list[str]:
    """Write the generated part of the package into ``target``; returns the relative paths."""
    files = render_package(root, specs)
    _stage(target, files, root)
    return sorted(files)


def owned_files(package: Path) -> list[str]:
    """Files of the generated folder (every file there but caches)."""
    out = []
    for path in sorted(package.rglob("*")) if package.exists() else []:
        rel = path.relative_to(package)
        if path.is_dir() or "__pycache__" in rel.parts:
            continue
        out.append(rel.as_posix())
    return out


def _same(a: Path, b: Path) -> bool:
    return b.is_file() and filecmp.cmp(a, b, shallow=False)


def write(
    root: Path,
    *,
    only: Collection[str] | None = None,
    warnings: list[SpecWarning] | None = None,
    index: Sequence[SpecEntry] | None = None,
) -> list[str]:
    """Regenerate generated/replicate_typed; returns the files rendered.

    Everything is rendered into a staging folder first; the new and changed modules are
    verified there (:mod:`codegen.verify`: compile, ruff, import, mypy --strict; the committed
    package supplies the unchanged ones) and only then copied over the committed ones, so a
    failure leaves the package as it was. With ``only`` (refs, as ``add-model`` passes) just
    those models' modules, the registry and the ``__init__`` of their owners are regenerated
    (and modules whose spec is gone removed): the cost does not grow with the package.
    """
    package = Paths(root).package
    rendered = render_files(root, only=only, index=index)
    if warnings is not None:
        warnings.extend(rendered.warnings)
    with tempfile.TemporaryDirectory(prefix="codegen-") as tmp:
        staged = Path(tmp) / PACKAGE  # the rendered files; the committed package the rest
        _stage(staged, rendered.files, root)
        changed = [rel for rel in sorted(rendered.files) if not _same(staged / rel, package / rel)]
        stale = rendered.stale
        _siblings(staged, package, changed, stale)
        verify(root, staged, changed, rendered.origins, package)
        for rel in stale:
            (package / rel).unlink()
        for rel in changed:
            dest = package / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(staged / rel, dest.with_name(dest.name + ".tmp"))
            os.replace(dest.with_name(dest.name + ".tmp"), dest)
        for folder in sorted({(package / rel).parent for rel in stale}, reverse=True):
            while folder != package and folder.exists() and not _has_files(folder):
                shutil.rmtree(folder)
                folder = folder.parent
    return sorted(rendered.files)


def _siblings(staged: Path, package: Path, changed: list[str], stale: list[str]) -> None:
    """Copy into the staging folder the committed modules next to each changed one (an owner's
    other models): a type checker looks for a package's modules in the package's folder."""
    for folder in sorted({Path(rel).parent for rel in changed}):
        source = package / folder
        for path in sorted(source.glob("*.py")) if source.is_dir() else []:
            rel = (folder / path.name).as_posix()
            if not (staged / rel).exists() and rel not in stale:
                shutil.copyfile(path, staged / rel)


def _has_files(folder: Path) -> bool:
    return any(p.is_file() and "__pycache__" not in p.parts for p in folder.rglob("*"))


def diff(root: Path) -> list[str]:
    """Generate into a temporary folder and list files that differ from generated/ (golden record)."""
    package = Paths(root).package
    with tempfile.TemporaryDirectory(prefix="codegen-check-") as tmp:
        staged = Path(tmp) / PACKAGE
        expected = set(build(root, staged))
        actual = set(owned_files(package)) if package.exists() else set()
        problems = [f"missing: {rel}" for rel in sorted(expected - actual)]
        problems += [f"not generated (stale): {rel}" for rel in sorted(actual - expected)]
        problems += [
            f"differs: {rel}"
            for rel in sorted(expected & actual)
            if not filecmp.cmp(staged / rel, package / rel, shallow=False)
        ]
    return problems


def iter_errors(exc: BaseException) -> Iterable[SpecError]:
    if isinstance(exc, SpecErrors):
        yield from exc.errors
    elif isinstance(exc, SpecError):
        yield exc
