"""Any property name: the generated module imports with warnings as errors, and its Input takes
and sends every property under the schema's own key.

Names are drawn from the classes that broke it before: pydantic's protected namespace
(``model_*``: which names warn depends on the pydantic version), names Python's NFKC
normalisation of identifiers changes (``ﬁle``, full-width letters, ``ℌ``), keywords, BaseModel
and runtime attribute names, builtins and the names the module itself uses, underscores and
dunders, digits first, punctuation, any unicode, and names that read alike once normalised.

What the client sends is checked both ways it is built: ``to_request_input()`` (JSON) and
``request_values()`` (values as given, keyed by wire name, for uploads).

Each module is rendered in this process and imported in a second interpreter started with
``-W error`` (one per test, fed module after module), on the pydantic this suite runs on:
``make test`` runs it at the lock's version, ``make test-lowest`` at the floor.
"""

from __future__ import annotations

import json
import keyword
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from codegen import generate as gen
from codegen.naming import BASE_MODEL_ATTRIBUTES, RUNTIME_ATTRIBUTES
from codegen.spec import validate_spec_data
from contract_tests.models._generated import cog_spec

ROOT = Path(__file__).resolve().parents[2]

# Reads one JSON request a line: a module's text, an input and an output payload by schema key;
# answers what the module's Input sends and what its output type dumps, or the error.
_WORKER = r"""
import json, sys, traceback, types, warnings
warnings.simplefilter("error")
count = 0
for line in sys.stdin:
    job = json.loads(line)
    count += 1
    name = f"_field_names_{count}"
    try:
        module = types.ModuleType(name)
        sys.modules[name] = module
        exec(compile(job["text"], name, "exec"), module.__dict__)
        from pydantic import BaseModel
        for value in list(vars(module).values()):
            if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == name:
                assert value.__pydantic_complete__, f"class {value.__name__} is not fully defined"
        value = module.Input.model_validate(job["input"])
        answer = {"sent": value.to_request_input(), "values": sorted(value.request_values())}
        if job["training"]:
            trained = module.TrainingInput.model_validate(job["training"])
            answer["training_sent"] = trained.to_request_input()
            answer["training_values"] = sorted(trained.request_values())
        parsed = module.MODEL.parse_output(job["output"])
        answer["output"] = parsed.model_dump(mode="json", by_alias=True) if isinstance(parsed, BaseModel) else parsed
    except BaseException as exc:
        answer = {"error": "".join(traceback.format_exception_only(type(exc), exc)).strip()}
    print(json.dumps(answer), flush=True)
"""


class Worker:
    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-W", "error", "-c", _WORKER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            cwd=ROOT,
        )

    def run(
        self, text: str, given: dict[str, Any], output: Any, training: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        job = {"text": text, "input": given, "output": output, "training": training}
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the -W error interpreter ended (exit {self.process.wait()})"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    runner = Worker()
    yield runner
    runner.close()


def _nfkc_changed(char: str) -> bool:
    return unicodedata.normalize("NFKC", char) != char


PROTECTED = [
    "model_config",
    "model_fields",
    "model_dump",
    "model_dump_json",
    "model_validate",
    "model_name",
    "model_version",
    "model_",
    "model_dump_extra",
    "model_validate_x",
    "Model_x",
]
NFKC = ["ﬁle", "ℌ", "ｆoo", "ＡＢＣ", "ª", "ﬃ", "x²", "ℯ", "Ⅸ", "ｍodel_dump", "ｍodel_x", "ｉnt"]
SHADOWS = [
    *sorted(BASE_MODEL_ATTRIBUTES),
    *RUNTIME_ATTRIBUTES,
    "int",
    "str",
    "float",
    "bool",
    "list",
    "dict",
    "type",
    "Field",
    "Annotated",
    "Literal",
    "Any",
    "ConfigDict",
    "BaseModel",
    "RootModel",
    "FileInput",
    "FileOutput",
    "Secret",
    "Input",
    "Output",
    "OutputValue",
    "Prediction",
    "MODEL",
    "INPUT_SCHEMA",
    "json",
    "root",
    "fields",
]
UNDERSCORES = ["_", "__", "_x", "x_", "__x__", "__init__", "__class__", "__dict__", "_root"]
ODD = ["", " ", "-", "1st", "3d", "a-b", "a_b", "a b", "a.b", "Input.a", "#x", "提示", "é", "🎨"]

hostile = st.one_of(
    st.sampled_from(
        [*PROTECTED, *NFKC, *SHADOWS, *UNDERSCORES, *ODD, *keyword.kwlist, *keyword.softkwlist]
    ),
    st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs"]).filter(_nfkc_changed),
        min_size=1,
        max_size=3,
    ).map(lambda s: s + "x"),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6),
    st.from_regex(r"(model_|_|__)?[a-z][a-z0-9_]{0,6}_?", fullmatch=True),
)


@st.composite
def names_and_kinds(draw: st.DrawFn) -> list[tuple[str, str]]:
    names = draw(st.lists(hostile, min_size=1, max_size=5, unique=True))
    kinds = st.sampled_from(["integer", "string", "nullable", "object", "array"])
    return [(name, draw(kinds)) for name in names]


def _prop(kind: str, names: list[str]) -> dict[str, Any]:
    if kind == "integer":
        return {"type": "integer"}
    if kind == "string":
        return {"type": "string", "description": "a string"}
    if kind == "nullable":
        return {"type": "string", "nullable": True}
    inner = {"type": "object", "properties": {n: {"type": "integer"} for n in names}}
    return inner if kind == "object" else {"type": "array", "items": inner}


def _scalar(kind: str) -> str:
    return "integer" if kind in ("object", "array") else kind


def _value(kind: str, index: int, names: list[str]) -> Any:
    if kind == "integer":
        return index
    if kind in ("string", "nullable"):
        return f"v{index}"
    inner = {n: i for i, n in enumerate(names)}
    return inner if kind == "object" else [inner]


def _spec(fields: list[tuple[str, str]], with_output: bool, training: bool) -> dict[str, Any]:
    """Properties titled as Cog writes them (every class then calls ``Field(title=...)``, which a
    field named ``Field`` must not hide), every other one required (no default; the docstring's
    example names them). The output: an object with the same keys, or a titled root. A trainer
    (``training``) publishes the same properties as its ``TrainingInput`` too (its own pass of
    the generator, held to the same naming rule)."""
    names = [n for n, _ in fields]
    props = {
        name: {**_prop(kind, names), "title": f"P{i}"} for i, (name, kind) in enumerate(fields)
    }
    output = {
        "type": "object",
        "properties": {n: {"type": "integer", "title": f"T{i}"} for i, n in enumerate(names)},
    }
    root = {"type": "string", "title": "Output", "format": "uri"}
    # Scalars only: an inline object class is named after its property by both passes, and a
    # TrainingInput class that meets an Input class is refused on purpose (a spec error).
    trained = {
        name: {**_prop(_scalar(kind), names), "title": f"P{i}"}
        for i, (name, kind) in enumerate(fields)
    }
    others = {"TrainingInput": {"type": "object", "properties": trained, "required": names[::2]}}
    return cog_spec(
        props,
        required=names[::2],
        output=output if with_output else root,
        model="acme/names",
        others=others if training else None,
    )


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(names_and_kinds(), st.booleans(), st.booleans())
@example([("model_version", "string"), ("model_dump", "integer")], True, True)
@example([("ﬁle", "string"), ("file", "integer"), ("ℌ", "object")], True, True)
@example([("ｆoo", "object"), ("foo", "object")], False, True)
@example([("model_config", "array"), ("_x", "integer"), ("__x__", "string")], True, True)
@example([("class", "integer"), ("class_", "integer"), ("json", "nullable")], True, True)
@example([("a-b", "integer"), ("a_b", "integer"), ("a b", "integer")], False, True)
@example([("int", "integer"), ("ｉnt_", "integer"), ("str", "string")], False, True)
@example([("Field", "integer"), ("Annotated", "string"), ("Ｆield", "object")], True, True)
@example([("x", "integer"), ("Field", "integer")], False, True)
@example([("Input.x", "integer"), ("x", "integer")], True, True)
def test_any_property_name_imports_cleanly_and_keeps_its_key(
    worker: Worker, fields: list[tuple[str, str]], with_output: bool, training: bool
) -> None:
    names = [n for n, _ in fields]
    note(f"fields: {fields!r}")
    spec = validate_spec_data(Path("spec.json"), _spec(fields, with_output, training))
    text = gen.render_model(gen._env(), spec, ROOT)  # a name it cannot handle: SpecError, fails
    given_input = {name: _value(kind, i, names) for i, (name, kind) in enumerate(fields)}
    output = {n: i for i, n in enumerate(names)} if with_output else "https://x.test/a.png"
    trained = {name: _value(_scalar(kind), i, names) for i, (name, kind) in enumerate(fields)}
    answer = worker.run(text, given_input, output, trained if training else None)
    assert "error" not in answer, answer.get("error")
    assert answer["sent"] == given_input  # every key the schema's own, nested ones too
    assert answer["values"] == sorted(given_input)  # what the client sends (files uploaded first)
    if training:  # trainings.create sends the TrainingInput's keys the same way
        assert answer["training_sent"] == trained
        assert answer["training_values"] == sorted(trained)
    assert answer["output"] == output
