"""Check generated code before it replaces the committed package.

``generate`` and ``add-model`` render into a staged copy of the package; every new or changed
module must then pass, in order:

1. ``compile`` (syntax; warnings such as invalid escapes are errors);
2. ``ruff check`` with the generator's rules (``ruff.toml`` next to this file, the same in every
   project; no fixing: the ruff pass before has fixed what it can, anything left is a failure);
3. an import in a subprocess with a time limit (``CODEGEN_IMPORT_TIMEOUT``, default 60 s), with
   the staged package standing in for the committed one: no warning at import (a user's suite
   may turn warnings into errors), every pydantic class complete, every property of the schema
   taken and sent by the ``Input`` under its own key (and no other class keyed otherwise than
   its schemas), every default of the schema and every example accepted by the generated
   ``Input``, the registry finding each changed model;
4. ``mypy --strict`` on the changed modules (imports followed silently, cache in
   ``.mypy_cache/codegen`` or ``CODEGEN_MYPY_CACHE_DIR``).

Files are staged by import name (``replicate_typed/models/...``). In replicate-typed's own
repository the runtime is ``src/`` and mypy uses its ``pyproject.toml``; in a user's project
(``[tool.replicate-typed]`` without ``api-types``) it is the installed runtime, and mypy runs with
pydantic's plugin only, not the user's settings.

A failure is reported as ``spec file: at /json/pointer: rule``, the pointer found from the line
the tool names (the class and field it belongs to), and nothing is written.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import subprocess
import sys
import sysconfig
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import SpecError, SpecErrors, pointer

if TYPE_CHECKING:
    from .config import Project

RUFF_CONFIG = Path(__file__).parent / "ruff.toml"  # the settings the generator formats with
RUNTIME = "replicate_typed"  # the installed package generated modules import

DEFAULT_IMPORT_TIMEOUT = 60.0
MYPY_TIMEOUT = 900.0
MAX_REPORTED = 10  # failures reported per step (the first ones; more are the same story)


@dataclass(frozen=True)
class Origin:
    """What a generated file was made from: the file an error names and, for a model module,
    the spec's schemas (to point at the schema and property a failing line comes from)."""

    file: Path | str
    schemas: dict[str, Any] = field(default_factory=dict)
    ref: str | None = None  # owner/name of a model module
    examples: tuple[dict[str, Any], ...] = ()


def _locate(text: str, line: int, origin: Origin) -> str:
    """The JSON pointer of the schema (and property) line ``line`` of a model module comes
    from; the whole schema section when the line is outside any class."""
    base = ["openapi_schema", "components", "schemas"]
    if not origin.schemas:
        return "/" if origin.ref is None else "/model"
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return pointer(["openapi_schema"])
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        if not (node.lineno <= line <= (node.end_lineno or node.lineno)):
            continue
        schema = node.name if node.name in origin.schemas else None
        body = node.body
        for index, item in enumerate(body):
            if not isinstance(item, ast.AnnAssign) or not isinstance(item.target, ast.Name):
                continue
            following = [
                b.lineno - 1
                for b in body[index + 1 :]
                if not (isinstance(b, ast.Expr) and isinstance(b.value, ast.Constant))
            ]
            end = following[0] if following else node.end_lineno  # the docstring belongs to it
            if item.lineno <= line <= (end or item.lineno):
                alias = _alias(item)
                wire = item.target.id if alias is None else alias
                props = origin.schemas.get(schema or "", {}).get("properties", {})
                if schema is not None and wire in props:
                    return pointer([*base, schema, "properties", wire])
                if schema is None and wire in origin.schemas.get("Input", {}).get("properties", {}):
                    return pointer([*base, "Input", "properties", wire])
                break
        return pointer([*base, schema] if schema else base)
    return pointer(["openapi_schema"])


def _alias(item: ast.AnnAssign) -> str | None:
    for sub in ast.walk(item):
        if isinstance(sub, ast.keyword) and sub.arg == "alias":
            if isinstance(sub.value, ast.Constant) and isinstance(sub.value.value, str):
                return sub.value.value
    return None


@dataclass
class _Report:
    staged: Path
    committed: Path
    origins: dict[str, Origin]
    errors: list[SpecError] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # staged path -> path in the project

    def add(self, rel: str, line: int | None, rule: str, where: str | None = None) -> None:
        if len(self.errors) >= MAX_REPORTED:
            return
        origin = self.origins.get(rel, Origin(self.staged / rel))
        if where is None:
            text = _read(self.staged / rel)
            fallback = "/openapi_schema" if origin.schemas else "/"
            where = _locate(text, line, origin) if line else fallback
            if line:
                source = text.splitlines()[line - 1].strip() if text else ""
                shown = self.names.get(rel, rel)
                rule = f"{rule} (generated {shown} line {line}: {source[:80]})"
        self.errors.append(SpecError(origin.file, where, rule))

    def raise_if_any(self) -> None:
        if self.errors:
            raise SpecErrors(list(self.errors))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _compile_step(report: _Report, changed: list[str]) -> None:
    for rel in changed:
        text = _read(report.staged / rel)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                compile(text, rel, "exec")
            except SyntaxError as exc:
                report.add(rel, exc.lineno, f"the generated code does not compile: {exc.msg}")
            except Warning as exc:
                report.add(rel, None, f"the generated code compiles with a warning: {exc}")


def _ruff_step(report: _Report, changed: list[str], project: Project) -> None:
    root = project.root
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-fix",
            "--output-format",
            "json",
            "--no-cache",
            "--config",
            str(RUFF_CONFIG),
            *(str(report.staged / rel) for rel in changed),
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=MYPY_TIMEOUT,
    )
    if result.returncode not in (0, 1):
        raise SpecError(
            root, "/", f"ruff could not check the generated code: {result.stderr[:300]}"
        )
    for violation in json.loads(result.stdout or "[]"):
        rel = Path(violation["filename"]).resolve().relative_to(report.staged.resolve())
        report.add(
            rel.as_posix(),
            violation["location"]["row"],
            f"the generated code breaks lint rule {violation['code']}: {violation['message']}",
        )


# Runs in a fresh interpreter: the staged package stands in for the committed one.
_HARNESS = r"""
import importlib, importlib.abc, importlib.util, json, os, sys, traceback
staged, committed, plan = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
prefixes = plan["packages"]
layers = [staged, committed]

class Overlay(importlib.abc.MetaPathFinder):
    # The generated packages: staged files over the committed ones (laid out by import name).
    def find_spec(self, name, path=None, target=None):
        if not any(name == p or name.startswith(p + ".") for p in prefixes):
            return None
        parts = name.split(".")
        for layer in layers:
            base = os.path.join(layer, *parts)
            init = os.path.join(base, "__init__.py")
            if os.path.isfile(init):
                where = [os.path.join(x, *parts) for x in layers]
                return importlib.util.spec_from_file_location(
                    name, init, submodule_search_locations=[w for w in where if os.path.isdir(w)])
            if os.path.isfile(base + ".py"):
                return importlib.util.spec_from_file_location(name, base + ".py")
        return None

sys.meta_path.insert(0, Overlay())

def emit(**data):
    print(json.dumps(data), flush=True)

def where_in(exc, filename):
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == os.path.abspath(filename):
            line = frame.lineno
    return line

import warnings
from pydantic import BaseModel, RootModel, ValidationError
for runtime in plan["runtime"]:  # the runtime's own warnings are not the generated module's
    importlib.import_module(runtime)

def wire_keys(cls):
    # field -> (key it is validated under, key it is sent under)
    out = {}
    for name, f in cls.model_fields.items():
        alias = name if f.alias is None else f.alias
        taken = f.validation_alias if isinstance(f.validation_alias, str) else alias
        sent = alias if f.serialization_alias is None else f.serialization_alias
        out[name] = (taken, sent)
    return out

def property_keys(node, found):
    if isinstance(node, dict):
        if isinstance(node.get("properties"), dict):
            found.update(node["properties"])
        for key, value in node.items():
            if key not in ("default", "enum", "const", "examples", "example"):
                property_keys(value, found)
    elif isinstance(node, list):
        for value in node:
            property_keys(value, found)
    return found

def pointer_to(prop):
    return "/openapi_schema/components/schemas/Input/properties/" + prop.replace("~", "~0").replace("/", "~1")

for rel, module in plan["modules"]:
    emit(importing=rel)
    filename = os.path.join(staged, rel)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a user's test suite may run with -W error
            mod = importlib.import_module(module)
    except BaseException as exc:
        emit(rel=rel, line=where_in(exc, filename), rule=f"importing the generated module fails: {type(exc).__name__}: {exc}"[:400])
        continue
    for value in list(vars(mod).values()):
        if (isinstance(value, type) and issubclass(value, BaseModel)
                and value.__module__ == module and not value.__pydantic_complete__):
            emit(rel=rel, line=None, rule=f"class {value.__name__} is not fully defined after import")
    model = plan["models"].get(rel)
    if model is None:
        continue
    info = mod.MODEL
    Input = info.input_type
    fields = {(name if f.alias is None else f.alias): name for name, f in Input.model_fields.items()}
    # The generator never lies about keys: the Input takes and sends every property under the
    # schema's own key (an alias where the Python name differs), and every other class of the
    # module only keys its schemas have.
    properties = info.input_schema.get("properties", {})
    for name, (taken, sent) in wire_keys(Input).items():
        if taken in properties and sent == taken:
            continue
        where = pointer_to(taken) if taken in properties else "/openapi_schema/components/schemas/Input"
        emit(rel=rel, line=None, where=where,
             rule=f"the generated Input takes the field {name!r} as {taken!r} and sends it as {sent!r}, "
                  "not under a property key of the schema")
    missing = set(properties) - {taken for taken, _ in wire_keys(Input).values()}
    for prop in sorted(missing):
        emit(rel=rel, line=None, where=pointer_to(prop), rule=f"the generated Input has no field for the property {prop!r}")
    known = property_keys([info.input_schema, info.output_schema], set())
    for value in list(vars(mod).values()):
        if (isinstance(value, type) and issubclass(value, BaseModel) and value is not Input
                and value.__module__ == module and not issubclass(value, RootModel)):
            for name, (taken, sent) in wire_keys(value).items():
                if taken not in known or sent != taken:
                    emit(rel=rel, line=None, rule=f"class {value.__name__} takes the field {name!r} as {taken!r} and sends it as {sent!r}: not a property key of the schema")
    blank = Input.model_construct()
    for prop, schema in info.input_schema.get("properties", {}).items():
        if not isinstance(schema, dict) or schema.get("default") is None or prop not in fields:
            continue
        if schema.get("format") == "uri":
            continue  # deliberately narrower: a FileInput takes what the API fetches (Cog's default "" is no file)
        try:
            Input.__pydantic_validator__.validate_assignment(blank, fields[prop], schema["default"])
        except ValidationError as exc:
            emit(rel=rel, where=f"/openapi_schema/components/schemas/Input/properties/{prop.replace('~', '~0').replace('/', '~1')}/default",
                 rule=f"the generated Input refuses the default {schema['default']!r}: {exc.errors()[0]['msg']}")
    for index, example in enumerate(info.examples):
        try:
            Input.model_validate(example["input"])
        except ValidationError as exc:
            loc = "/".join(str(p) for p in exc.errors()[0]["loc"])
            emit(rel=rel, where=f"/examples/{index}/input/{loc}",
                 rule=f"the generated Input refuses the example: {exc.errors()[0]['msg']}")
    registry = importlib.import_module(plan["registry"]).registry
    try:
        found = registry.get_model(model)
        assert found is info, "the registry finds another model"
    except BaseException as exc:
        emit(rel=plan["registry_file"], line=None, rule=f"the registry does not find {model}: {exc}")
emit(done=True)
"""


def _own_runtime(project: Project) -> bool:
    """True in replicate-typed's own repository (it generates the API types and keeps the
    runtime in ``src/``); a user's project is checked against the installed runtime."""
    return project.api_types is not None and (project.root / "src" / RUNTIME).is_dir()


def _runtime_paths(project: Project, package: str = RUNTIME) -> list[str]:
    """Where the hand-written half of the package is: the repository's ``src/`` in
    replicate-typed's own repository, else the folder the installed package sits in (mypy
    cannot follow editable-install import hooks, so it is named explicitly)."""
    root = project.root
    if _own_runtime(project):
        return [str(root / "src")]
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    # an installed wheel: mypy finds it in site-packages itself (and refuses them on its path)
    installed = {Path(p).resolve() for p in sysconfig.get_paths().values()}
    return [
        str(Path(loc).parent)
        for loc in locations[:1]
        if Path(loc).parent.resolve() not in installed
    ]


def _python_path(project: Project, committed: Path, staged: Path) -> str:
    # the runtime's source in its own repository; in a user's project the folder the generated
    # package is imported from (its parent packages are the user's)
    parts = [str(project.root / "src")] if _own_runtime(project) else [str(committed)]
    if not _own_runtime(project):  # a parent folder only the staged files make yet
        parts.append(str(staged))
    existing = os.environ.get("PYTHONPATH")
    return os.pathsep.join([*parts, *([existing] if existing else [])])


def _module_name(rel: str) -> str:
    parts = rel.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _packages(project: Project) -> list[str]:
    """Import names of the generated packages (the models; the API types and resources next
    to them)."""
    names = [project.module]
    if project.api_types is not None:
        parent = project.module.rpartition(".")[0]
        for folder in (project.api_types, project.api_resources):
            names.append(f"{parent}.{folder.name}" if parent else folder.name)
    return names


def _seconds(text: str | None, default: float) -> float:
    try:
        value = float(text) if text else default
    except ValueError:
        return default
    return value if value > 0 else default


def _import_step(report: _Report, changed: list[str], project: Project) -> None:
    committed = report.committed
    modules = [(rel, _module_name(rel)) for rel in changed]
    models = {rel: o.ref for rel, o in report.origins.items() if o.ref and rel in changed}
    timeout = _seconds(os.environ.get("CODEGEN_IMPORT_TIMEOUT"), DEFAULT_IMPORT_TIMEOUT)
    env = {
        **os.environ,
        "PYTHONPATH": _python_path(project, committed, report.staged),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    plan = json.dumps(
        {
            "modules": modules,
            "models": models,
            "packages": _packages(project),
            "registry": project.module,
            "runtime": [f"{RUNTIME}.core.model"],
            "registry_file": project.module.replace(".", "/") + "/__init__.py",
        }
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", _HARNESS, str(report.staged), str(committed), plan],
            cwd=report.staged.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        stdout, stderr, timed_out = result.stdout, result.stderr, False
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        stderr, timed_out = "", True
    events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    for event in events:
        if "rule" in event:
            report.add(event["rel"], event.get("line"), event["rule"], event.get("where"))
    if timed_out:
        last = next((e["importing"] for e in reversed(events) if "importing" in e), changed[0])
        report.add(last, None, f"importing the generated module took more than {timeout:g} s")
    elif not any(e.get("done") for e in events):
        report.add(changed[0], None, f"the import check crashed: {stderr.strip()[-300:]}")


_MYPY_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?:\d+:)? error: (?P<msg>.*)$")


def _mypy_step(report: _Report, changed: list[str], project: Project) -> None:
    if importlib.util.find_spec("mypy") is None:
        return  # mypy is a development tool; without it the other steps still ran
    root = project.root
    cache = os.environ.get("CODEGEN_MYPY_CACHE_DIR") or str(root / ".mypy_cache" / "codegen")
    if _own_runtime(project):
        config = root / "pyproject.toml"
    else:  # not the user's settings: the ones the generated code is written for
        config = report.staged / ".codegen-mypy.ini"
        config.write_text(
            "[mypy]\nplugins = pydantic.mypy\nexplicit_package_bases = True\n", encoding="utf-8"
        )
    staged_root = report.staged
    extra = [] if _own_runtime(project) else [str(report.committed)]
    env = {
        **os.environ,
        "MYPYPATH": os.pathsep.join([*_runtime_paths(project), str(staged_root), *extra]),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            *(["--config-file", str(config)] if config.is_file() else []),
            "--cache-dir",
            cache,
            "--follow-imports",
            "silent",
            "--no-error-summary",
            "--hide-error-context",
            "--no-pretty",
            "--show-error-codes",
            *(str(report.staged / rel) for rel in changed),
        ],
        cwd=staged_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=MYPY_TIMEOUT,
    )
    if result.returncode == 0:
        return
    found = False
    for line in result.stdout.splitlines():
        match = _MYPY_LINE.match(line)
        if match is None:
            continue
        path = Path(match["file"])
        path = path if path.is_absolute() else staged_root / path
        try:
            rel = path.resolve().relative_to(report.staged.resolve()).as_posix()
        except ValueError:
            continue
        found = True
        report.add(
            rel, int(match["line"]), f"the generated code fails mypy --strict: {match['msg']}"
        )
    if not found:
        output = (result.stdout + result.stderr).strip()
        report.add(changed[0], None, f"mypy could not check the generated code: {output[-300:]}")


def verify(
    project: Project,
    staged: Path,
    changed: Iterable[str],
    origins: dict[str, Origin],
    committed: Path,
    names: dict[str, str] | None = None,
) -> None:
    """Check the ``changed`` files (relative to the ``staged`` folder, laid out by import name
    and holding the rendered files only: the ``committed`` folder the package is imported from
    supplies the others; ``names`` gives the path in the project a message shows); raises
    :class:`SpecErrors` naming spec file, pointer and rule for each failure found."""
    python = sorted(rel for rel in changed if rel.endswith(".py"))
    if not python:
        return
    report = _Report(staged, committed, origins, names=dict(names or {}))
    _compile_step(report, python)
    report.raise_if_any()
    for step in (_ruff_step, _import_step, _mypy_step):
        step(report, python, project)
        report.raise_if_any()
