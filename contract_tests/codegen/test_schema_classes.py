"""Each class of odd schema is handled on purpose: a working module, or a spec error (or a named
warning) -- never a module that fails to import or lint, never a hang, never exit 3.

One test (or parametrised group) per class: recursive ``$ref``, patterns (the dialect that
enforces them, linear time), duplicate versions/models across specs, unsatisfiable ranges,
enum/type mismatches, empty and mixed enums, non-standard keywords, undecodable and absurdly
deep files, and description text that must never break lint.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from codegen import generate as gen
from codegen.errors import SpecError, SpecErrors, SpecWarning
from codegen.schema_checks import validator_for
from codegen.spec import load_model_specs, validate_spec_data
from contract_tests.codegen._repo import ROOT, copy_repo, load, run_codegen, save, spec_file

SCHEMAS = "/openapi_schema/components/schemas"


def spec_data(
    props: dict[str, Any],
    *,
    required: list[str] | None = None,
    others: dict[str, Any] | None = None,
    output: dict[str, Any] | None = None,
    examples: list[dict[str, Any]] | None = None,
    name: str = "acme/odd",
) -> dict[str, Any]:
    return {
        "model": name,
        "call": "path",
        "version": None,
        "examples": examples or [],
        "openapi_schema": {
            "components": {
                "schemas": {
                    "Input": {"type": "object", "properties": props, "required": required or []},
                    "Output": output or {"type": "string"},
                    **(others or {}),
                }
            }
        },
    }


def render(data: dict[str, Any], warnings: list[SpecWarning] | None = None) -> str:
    spec = validate_spec_data(Path("spec.json"), data)
    return gen.render_model(gen._env(), spec, ROOT, warnings)


_COUNTER = iter(range(10**6))


def load_module(text: str) -> types.ModuleType:
    module = types.ModuleType(f"_odd_{next(_COUNTER)}")
    sys.modules[module.__name__] = module
    exec(compile(text, module.__name__, "exec"), module.__dict__)
    return module


def errors_of(data: dict[str, Any]) -> list[SpecError]:
    with pytest.raises((SpecError, SpecErrors)) as info:
        render(data)
    return list(gen.iter_errors(info.value))


def lint_violations(text: str, tmp_path: Path) -> list[str]:
    """The module after the generator's ruff pass, checked with the project's rules (no fix)."""
    path = tmp_path / "module.py"
    path.write_text(text, encoding="utf-8")
    gen._ruff([path], ROOT)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-fix",
            "--output-format",
            "json",
            "--config",
            str(ROOT / "pyproject.toml"),
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return [f"{v['code']} line {v['location']['row']}" for v in json.loads(result.stdout)]


# --- recursive $ref -------------------------------------------------------------------------------


def test_a_recursive_input_is_a_working_recursive_model() -> None:
    """Input refers to itself; Node refers to itself and back to Input (today: `Input.model_
    rebuild()` was emitted before `class Input`, or a KeyError)."""
    data = spec_data(
        {
            "n": {"type": "integer"},
            "child": {"$ref": "#/components/schemas/Input"},
            "tree": {"$ref": "#/components/schemas/Node"},
        },
        others={
            "Node": {
                "type": "object",
                "properties": {
                    "label": {"type": "string"},
                    "kids": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                    "input": {"$ref": "#/components/schemas/Input"},
                },
            }
        },
    )
    module = load_module(render(data))
    value = {
        "n": 1,
        "child": {"n": 2, "child": {"n": 3}},
        "tree": {"label": "a", "kids": [{"label": "b", "kids": []}], "input": {"n": 4}},
    }
    sent = module.Input.model_validate(value).to_request_input()
    assert sent == value
    assert validator_for(module.INPUT_SCHEMA).is_valid(sent)
    bad = {"child": {"child": {"n": "3"}}}  # a string three levels down
    assert not validator_for(module.INPUT_SCHEMA).is_valid(bad)
    with pytest.raises(ValidationError, match="child.child.n"):
        module.Input.model_validate(bad)


@pytest.mark.parametrize(
    ("others", "start"),
    [
        ({"A": {"$ref": "#/components/schemas/B"}, "B": {"$ref": "#/components/schemas/A"}}, "A"),
        ({"A": {"allOf": [{"$ref": "#/components/schemas/A"}]}}, "A"),
    ],
    ids=["two-step", "self-allOf"],
)
def test_a_ref_cycle_that_defines_no_type_is_a_spec_error(
    others: dict[str, Any], start: str
) -> None:
    errors = errors_of(spec_data({"x": {"$ref": f"#/components/schemas/{start}"}}, others=others))
    assert [(e.pointer, e.rule.split(":")[0]) for e in errors] == [
        (f"{SCHEMAS}/{start}", "$ref cycle with no object or array in between")
    ]


def test_input_and_output_may_not_refer_to_each_other() -> None:
    errors = errors_of(
        spec_data({"x": {"type": "string"}}, output={"$ref": "#/components/schemas/Input"})
    )
    assert [e.pointer for e in errors] == [f"{SCHEMAS}/Output"]
    assert "Output refers to Input" in errors[0].rule


# --- patterns -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("(?=a)b", "look-around"),
        (r"(a)\1", "backreferences are not supported"),
        ("[", "unclosed character class"),
        ("x{2,1}", "invalid repetition count"),
    ],
)
def test_a_pattern_pydantic_core_cannot_compile_is_a_spec_error(pattern: str, words: str) -> None:
    errors = errors_of(spec_data({"p": {"type": "string", "pattern": pattern}}))
    assert [e.pointer for e in errors] == [f"{SCHEMAS}/Input/properties/p/pattern"]
    assert "pydantic-core's regex dialect" in errors[0].rule and words in errors[0].rule


def test_patterns_are_checked_in_the_enforcing_dialect_without_backtracking(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A catastrophic pattern with a long non-matching default once hung add-model for minutes
    (jsonschema runs Python's backtracking `re`). No backtracking engine may see it now."""
    evil = "^(a+)+$"
    import re as re_module

    for name in ("compile", "search", "match", "fullmatch"):
        real = getattr(re_module, name)

        def guarded(pattern: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            assert pattern != evil, "a backtracking regex engine ran the spec's pattern"
            return _real(pattern, *args, **kwargs)

        monkeypatch.setattr(re_module, name, guarded)
    errors = errors_of(
        spec_data({"p": {"type": "string", "pattern": evil, "default": "a" * 5000 + "!"}})
    )
    assert [e.pointer for e in errors] == [f"{SCHEMAS}/Input/properties/p/default"]
    assert "does not match" in errors[0].rule
    monkeypatch.undo()
    module = load_module(render(spec_data({"p": {"type": "string", "pattern": evil}})))
    assert module.Input(p="aaa").to_request_input() == {"p": "aaa"}
    with pytest.raises(ValidationError, match="p"):
        module.Input(p="a" * 5000 + "!")


def test_examples_are_matched_by_the_dialect_that_enforces_the_pattern() -> None:
    """Python's `$` matches before a final newline, Rust's (and ECMA's) does not: the example
    would pass a Python check and then be refused by the generated Input."""
    data = spec_data(
        {"code": {"type": "string", "pattern": "^[0-9]+$"}},
        examples=[{"title": "trailing newline", "input": {"code": "12\n"}}],
    )
    errors = errors_of(data)
    assert [e.pointer for e in errors] == ["/examples/0/input/code"]
    data["examples"] = [{"title": "ok", "input": {"code": "12"}}]
    module = load_module(render(data))
    assert module.Input.model_validate({"code": "12"}).to_request_input() == {"code": "12"}
    with pytest.raises(ValidationError):
        module.Input(code="12\n")


# --- ranges ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prop", "keyword"),
    [
        ({"type": "integer", "minimum": 10, "maximum": 1}, "minimum"),
        ({"type": "number", "exclusiveMinimum": 1, "exclusiveMaximum": 1}, "exclusiveMinimum"),
        ({"type": "number", "minimum": 2, "exclusiveMaximum": 2}, "minimum"),
        ({"type": "integer", "minimum": 1.2, "maximum": 1.8}, "minimum"),
        ({"type": "string", "minLength": 5, "maxLength": 2}, "minLength"),
        ({"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 1}, "minItems"),
        ({"type": "integer", "enum": [50, 60], "maximum": 10}, "enum"),
    ],
)
def test_an_unsatisfiable_range_is_a_spec_error(prop: dict[str, Any], keyword: str) -> None:
    errors = errors_of(spec_data({"x": prop}))
    assert [e.pointer for e in errors] == [f"{SCHEMAS}/Input/properties/x/{keyword}"]
    assert "unsatisfiable range" in errors[0].rule or "bounds disagree" in errors[0].rule


def test_equal_bounds_are_one_value_not_an_error() -> None:
    module = load_module(render(spec_data({"x": {"type": "integer", "minimum": 3, "maximum": 3}})))
    assert module.Input(x=3).to_request_input() == {"x": 3}
    with pytest.raises(ValidationError):
        module.Input(x=4)


# --- enums ----------------------------------------------------------------------------------------


def test_an_enum_none_of_whose_values_has_the_type_is_a_spec_error() -> None:
    errors = errors_of(spec_data({"x": {"type": "integer", "enum": ["a", "b"]}}))
    assert [e.pointer for e in errors] == [f"{SCHEMAS}/Input/properties/x/enum"]
    assert "enum and type disagree" in errors[0].rule


def test_enum_values_of_another_type_are_left_out_with_a_warning() -> None:
    warnings: list[SpecWarning] = []
    data = spec_data({"x": {"type": "integer", "enum": [1, "two", 3]}})
    module = load_module(render(data, warnings))
    assert [(w.pointer, "is not of type 'integer'" in w.rule) for w in warnings] == [
        (f"{SCHEMAS}/Input/properties/x/enum/1", True)
    ]
    for value in (1, "two", 3, 2, True):
        schema_ok = validator_for(module.INPUT_SCHEMA).is_valid({"x": value})
        try:
            module.Input(x=value)
            input_ok = True
        except ValidationError:
            input_ok = False
        assert input_ok == schema_ok, value  # exactly the schema's values: 1 and 3


def test_an_empty_enum_is_a_spec_error() -> None:
    errors = errors_of(spec_data({"x": {"type": "string", "enum": []}}))
    assert [e.pointer for e in errors] == [f"{SCHEMAS}/Input/properties/x/enum"]
    assert "empty enum" in errors[0].rule


def test_a_mixed_enum_accepts_exactly_its_values() -> None:
    """Today a mixed enum was widened to `Literal[...] | float` (anything numeric passed)."""
    data = spec_data({"x": {"enum": ["a", 1, True, None, 2.0]}})
    text = render(data)
    assert "float" not in text.split("class Input")[1].split("INPUT_SCHEMA")[0]
    module = load_module(text)
    validator = validator_for(module.INPUT_SCHEMA)
    for value in ["a", 1, True, 2, 2.0, 1.0, "b", 3, 1.5, False, "1", 0]:
        schema_ok = validator.is_valid({"x": value})
        try:
            sent = module.Input(x=value).to_request_input()
            input_ok = True
        except ValidationError:
            input_ok = False
        assert input_ok == schema_ok, value
        if input_ok:
            assert (
                sent == {"x": value}
                and type(sent["x"]) is type(value)
                or (isinstance(value, float) and sent["x"] == value and type(sent["x"]) is int)
            ), (value, sent)


def test_a_fractional_number_enum_is_a_spec_error() -> None:
    errors = errors_of(spec_data({"x": {"type": "number", "enum": [0.5, 1]}}))
    assert [e.pointer for e in errors] == [f"{SCHEMAS}/Input/properties/x/enum/0"]
    assert "a fractional number cannot be a Literal value" in errors[0].rule


# --- non-standard and unenforced keywords ----------------------------------------------------------


def test_non_standard_keywords_are_warned_and_named() -> None:
    warnings: list[SpecWarning] = []
    data = spec_data(
        {
            "x": {"type": "integer", "ge": 1, "le": 5, "x-cog-thing": 1},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        }
    )
    render(data, warnings)
    found = {(w.pointer, w.rule.split(" (")[0]) for w in warnings}
    assert found == {
        (
            f"{SCHEMAS}/Input/properties/x/ge",
            "non-standard keyword 'ge' is ignored: neither the generated classes nor JSON "
            "Schema validators enforce it",
        ),
        (
            f"{SCHEMAS}/Input/properties/x/le",
            "non-standard keyword 'le' is ignored: neither the generated classes nor JSON "
            "Schema validators enforce it",
        ),
        (
            f"{SCHEMAS}/Input/properties/tags/uniqueItems",
            "keyword 'uniqueItems' is not enforced by the generated classes",
        ),
    }
    assert any("JSON Schema spells it 'minimum'" in w.rule for w in warnings)


# --- files that cannot be read as specs -----------------------------------------------------------


def _deep(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        node = {"type": "array", "items": node}
    return node


def test_undecodable_and_absurdly_deep_specs_are_spec_errors(tmp_path: Path) -> None:
    """Today: `internal error` (exit 3) for both."""
    root = copy_repo(tmp_path / "repo")
    latin1 = spec_file(root, "cjwbw/rembg")
    text = latin1.read_text(encoding="utf-8").replace("Input image", "Input imag\u00e9")
    latin1.write_bytes(text.encode("latin-1"))
    deep_path = spec_file(root, "stability-ai/sdxl")
    deep = load(deep_path)
    deep["openapi_schema"]["components"]["schemas"]["Input"]["properties"]["x"] = _deep(400)
    save(deep_path, deep)
    result = run_codegen("generate", "--root", str(root))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert f"{latin1}: at /: not UTF-8 text: byte 0xe9 at offset" in lines[0]
    assert lines[1].startswith(f"{deep_path}: at /openapi_schema/components/schemas/Input/")
    assert "nested more than 64 levels deep" in lines[1]
    version = tmp_path / "deep-version.json"
    version.write_text(
        json.dumps({"id": None, "openapi_schema": deep["openapi_schema"]}), encoding="utf-8"
    )
    added = run_codegen(
        "add-model", "--from-file", str(version), "--model", "acme/deep", "--root", str(root)
    )
    assert added.returncode == 2 and "nested more than 64 levels deep" in added.stderr
    assert not spec_file(root, "acme/deep").exists()


def test_a_spec_as_deep_as_the_limit_allows_still_generates() -> None:
    # spec -> openapi_schema -> components -> schemas -> Input -> properties -> x: 7 levels
    module = load_module(render(spec_data({"x": _deep(25)})))
    value: Any = "leaf"
    for _ in range(25):
        value = [value]
    assert module.Input(x=value).to_request_input() == {"x": value}


# --- duplicates across specs -----------------------------------------------------------------------


def test_duplicate_version_ids_and_models_name_both_files(tmp_path: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    sdxl = load(spec_file(root, "stability-ai/sdxl"))
    copy = {**sdxl, "model": "acme/sdxl-copy"}
    save(spec_file(root, "acme/sdxl-copy"), copy)
    result = run_codegen("generate", "--root", str(root))
    assert result.returncode == 2
    first, second = spec_file(root, "acme/sdxl-copy"), spec_file(root, "stability-ai/sdxl")
    assert (
        f"{first}: at /version: duplicate version id {sdxl['version']}: also the version of 'stability-ai/sdxl' in {second}"
        in result.stderr
    )
    assert (
        f"{second}: at /version: duplicate version id {sdxl['version']}: also the version of 'acme/sdxl-copy' in {first}"
        in result.stderr
    )
    # the same owner/name twice (a spec list, as a caller may pass one)
    specs = load_model_specs(gen.Paths(ROOT).specs)
    twin = validate_spec_data(tmp_path / "twin.json", {**load(spec_file(ROOT, "cjwbw/rembg"))})
    with pytest.raises(SpecErrors) as info:
        gen.render_package(ROOT, [*specs, twin])
    messages = [str(e) for e in info.value.errors]
    assert any(
        m.startswith(f"{twin.path}: at /model: duplicate model: 'cjwbw/rembg' is also specified by")
        and str(spec_file(ROOT, "cjwbw/rembg")) in m
        for m in messages
    ), messages


def test_add_model_refuses_a_version_another_spec_has(tmp_path: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    sdxl = load(spec_file(root, "stability-ai/sdxl"))
    version = tmp_path / "v.json"
    save(version, {"id": sdxl["version"], "openapi_schema": sdxl["openapi_schema"]})
    result = run_codegen(
        "add-model", "--from-file", str(version), "--model", "acme/clone", "--root", str(root)
    )
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"{spec_file(root, 'acme/clone')}: at /version: duplicate version id {sdxl['version']}: "
        f"already the version of 'stability-ai/sdxl' in {spec_file(root, 'stability-ai/sdxl')}"
    )
    assert not spec_file(root, "acme/clone").exists()


# --- descriptions never break lint ----------------------------------------------------------------

ODD_TEXT = [
    "ends with a space ",
    "trailing tab\t",
    "line one \nline two\t \n",
    "windows\r\nline endings\r\n",
    "old mac\rbreaks",
    "form\x0cfeed and vertical\x0btab",
    "unicode\u2028line\u2029separators\x85next",
    "control \x00\x01\x1b chars",
    'quotes """ inside \'\'\' and "',
    "ends with a backslash \\",
    "\\d escapes \\n and \\u1234",
    "    indented\n\ttabbed\n",
    "",
    "   ",
]


def test_odd_description_text_keeps_the_module_lint_clean(tmp_path: Path) -> None:
    """Every odd text at once (one field and one object class each): one ruff run."""
    props = {f"f{i}": {"type": "string", "description": d} for i, d in enumerate(ODD_TEXT)}
    objects = {
        f"Obj{i}": {"type": "object", "description": d, "properties": {"a": {"type": "integer"}}}
        for i, d in enumerate(ODD_TEXT)
    }
    props.update({f"o{i}": {"$ref": f"#/components/schemas/Obj{i}"} for i in range(len(ODD_TEXT))})
    text = render(spec_data(props, others=objects))
    assert lint_violations(text, tmp_path) == []
    load_module(text)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=30), min_size=3, max_size=8))
def test_any_description_text_keeps_the_module_lint_clean(descriptions: list[str]) -> None:
    import tempfile

    data = spec_data(
        {f"f{i}": {"type": "string", "description": d} for i, d in enumerate(descriptions)}
    )
    text = render(data)
    with tempfile.TemporaryDirectory() as tmp:
        assert lint_violations(text, Path(tmp)) == []
    load_module(text)


@pytest.mark.slow  # end to end, in subprocesses: `make test-slow`
def test_the_cli_prints_warnings_and_still_succeeds(tmp_path: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    version = tmp_path / "v.json"
    data = spec_data({"steps": {"type": "integer", "ge": 1, "description": "Steps "}})
    save(version, {"id": None, "openapi_schema": data["openapi_schema"]})
    result = run_codegen(
        "add-model",
        "--from-file",
        str(version),
        "--model",
        "acme/warned",
        "--root",
        str(root),
        process=True,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(
        rf"^warning: {re.escape(str(spec_file(root, 'acme/warned')))}: at "
        r"/openapi_schema/components/schemas/Input/properties/steps/ge: non-standard keyword 'ge'",
        result.stderr,
        re.M,
    ), result.stderr
    assert gen.diff(root) == []  # make check stays byte-exact
    lint = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--config", str(ROOT / "pyproject.toml"),
         str(gen.Paths(root).package)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout
