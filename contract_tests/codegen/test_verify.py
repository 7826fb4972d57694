"""Verify before writing: code that does not lint, import or type-check never replaces the package.

The generator is made to emit one broken module (a defect injected into the rendered text of
cjwbw/rembg); ``write`` must then raise a spec error naming the spec file, a JSON pointer and
the rule, and leave every file of the committed package as it was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codegen import generate as gen
from codegen.errors import SpecErrors
from contract_tests.codegen._repo import copy_repo, run_codegen, spec_file

REF = "cjwbw/rembg"
IMAGE = "/openapi_schema/components/schemas/Input/properties/image"


def _snapshot(root: Path) -> dict[str, bytes]:
    project = gen.Paths(root)
    return {rel: (project.root / rel).read_bytes() for rel in gen.owned_files(project)}


def _inject(monkeypatch: pytest.MonkeyPatch, change: Callable[[str], str]) -> None:
    real = gen.render_model

    def broken(env: Any, spec: Any, settings: Path, *args: Any) -> str:
        text = real(env, spec, settings, *args)
        if spec.ref != REF:
            return text
        changed = change(text)
        assert changed != text, "the defect was not injected"
        return changed

    monkeypatch.setattr(gen, "render_model", broken)


DEFECTS: list[tuple[str, Callable[[str], str], str, str]] = [
    (
        "trailing-whitespace-in-a-docstring",
        lambda t: t.replace("    Input image!\n", "    Input image!  \n"),
        IMAGE,
        "lint rule W291",
    ),
    (
        "fails-at-import",
        lambda t: t + '\nraise RuntimeError("boom at import")\n',
        "/openapi_schema",
        "importing the generated module fails: RuntimeError: boom at import",
    ),
    (
        "does-not-type-check",
        lambda t: t.replace("Field(title='Image')] = ''", "Field(title='Image')] = 7"),
        IMAGE,
        "mypy --strict",
    ),
    (
        "sends-another-key",  # the generator never lies: a field sent under another key
        lambda t: t.replace(
            "Field(title='Image')", "Field(serialization_alias='Image', title='Image')"
        ),
        IMAGE,
        "the generated Input takes the field 'image' as 'image' and sends it as 'Image'",
    ),
    (
        "takes-another-key",
        lambda t: t.replace("Field(title='Image')", "Field(alias='picture', title='Image')"),
        "/openapi_schema/components/schemas/Input",
        "takes the field 'image' as 'picture'",
    ),
    (
        "warns-at-import",  # model_dump*: pydantic's protected namespace on every 2.x
        lambda t: t.replace(
            "    image: Annotated", "    model_dump_x: int | None = None\n    image: Annotated"
        ),
        "/openapi_schema",
        "importing the generated module fails: UserWarning",
    ),
    (
        "syntax-error",
        lambda t: t.replace("class Input(", "class Input((", 1),
        "/openapi_schema",
        "does not compile",
    ),
]


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [d[1:] for d in DEFECTS],
    ids=[d[0] for d in DEFECTS],
)
def test_a_broken_module_is_reported_and_nothing_is_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[str], str],
    where: str,
    words: str,
) -> None:
    root = copy_repo(tmp_path / "repo")
    spec = load_spec_text(root)
    spec_file(root, REF).write_text(spec.replace("Input image", "Input image!"), encoding="utf-8")
    before = _snapshot(root)
    _inject(monkeypatch, change)
    with pytest.raises(SpecErrors) as info:
        gen.write(root, only=[REF])
    errors = info.value.errors
    assert errors, "no error"
    first = errors[0]
    assert first.file == spec_file(root, REF)
    assert first.pointer.startswith(where), str(first)
    assert words in first.rule, str(first)
    # a generated line, or the exact schema place the import step names (a key it checked)
    assert "models/cjwbw/rembg.py line" in first.rule or first.pointer in ("/openapi_schema", where)
    assert _snapshot(root) == before  # the committed package is untouched


def load_spec_text(root: Path) -> str:
    return spec_file(root, REF).read_text(encoding="utf-8")


@pytest.mark.slow  # a whole generation in-process: CI runs it in make test-slow
def test_full_generate_verifies_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_repo(tmp_path / "repo")
    spec_file(root, REF).write_text(
        load_spec_text(root).replace("Input image", "Input image!"), encoding="utf-8"
    )
    before = _snapshot(root)
    _inject(monkeypatch, DEFECTS[0][1])
    with pytest.raises(SpecErrors) as info:
        gen.write(root)
    assert [str(e) for e in info.value.errors] == [
        f"{spec_file(root, REF)}: at {IMAGE}: the generated code breaks lint rule W291: "
        "Trailing whitespace (generated generated/replicate_typed/models/cjwbw/rembg.py line 43: "
        "Input image!)"
    ]
    assert _snapshot(root) == before


@pytest.mark.slow  # end to end, in subprocesses: `make test-slow`
def test_an_import_that_hangs_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_repo(tmp_path / "repo")
    spec_file(root, REF).write_text(
        load_spec_text(root).replace("Input image", "Input image!"), encoding="utf-8"
    )
    before = _snapshot(root)
    monkeypatch.setenv("CODEGEN_IMPORT_TIMEOUT", "3")
    _inject(monkeypatch, lambda t: t + '\n__import__("time").sleep(600)\n')
    with pytest.raises(SpecErrors) as info:
        gen.write(root, only=[REF])
    assert [str(e) for e in info.value.errors] == [
        f"{spec_file(root, REF)}: at /openapi_schema: importing the generated module took "
        "more than 3 s"
    ]
    assert _snapshot(root) == before


def test_unchanged_files_are_not_rewritten_or_reverified(tmp_path: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    project = gen.Paths(root)
    stamps = {rel: (project.root / rel).stat().st_mtime_ns for rel in gen.owned_files(project)}
    gen.write(root)
    assert {
        rel: (project.root / rel).stat().st_mtime_ns for rel in gen.owned_files(project)
    } == stamps


NFKC_SPEC = "ﬁle"  # Python reads the identifier ﬁle as file: only an alias keeps the key


def _with_property(root: Path, key: str) -> None:
    path = spec_file(root, REF)
    data = json.loads(path.read_text(encoding="utf-8"))
    props = data["openapi_schema"]["components"]["schemas"]["Input"]["properties"]
    props[key] = {"type": "integer", "title": "F", "x-order": 1}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (NFKC_SPEC, "takes the field 'file' as 'file'"),
        ("model_dump_extra", "importing the generated module fails: UserWarning"),
    ],
)
def test_verify_catches_a_naming_step_that_lies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, words: str
) -> None:
    """With the naming step and its own check switched off (datamodel-code-generator's names as
    they come), the import step still stops the module: the key it would send is not the
    schema's, or pydantic warns at import."""
    from codegen import pymodels

    root = copy_repo(tmp_path / "repo")
    _with_property(root, key)
    before = _snapshot(root)
    monkeypatch.setattr(pymodels, "field_aliases", lambda *args: {})
    monkeypatch.setattr(pymodels, "check_names", lambda *args: None)
    with pytest.raises(SpecErrors) as info:
        gen.write(root, only=[REF])
    rules = [str(e) for e in info.value.errors]
    assert any(words in rule for rule in rules), rules
    assert all(str(e.file) == str(spec_file(root, REF)) for e in info.value.errors)
    assert _snapshot(root) == before


def test_a_name_the_generator_cannot_keep_stops_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """datamodel-code-generator naming a field otherwise than the rules promise (here: the
    naming step switched off) is caught before verification: spec: at /pointer: rule, exit 2."""
    from codegen import pymodels

    root = copy_repo(tmp_path / "repo")
    _with_property(root, "model_version")
    before = _snapshot(root)
    monkeypatch.setattr(pymodels, "field_aliases", lambda *args: {})
    result = run_codegen("generate", "--root", str(root))
    assert result.returncode == 2, result
    pointer = "/openapi_schema/components/schemas/Input/properties/model_version"
    assert f"spec.json: at {pointer}: the property 'model_version' got the Python name" in (
        result.stderr
    ), result.stderr
    assert _snapshot(root) == before


def test_a_training_input_name_the_generator_cannot_keep_is_a_spec_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The trainer's TrainingInput pass names its fields by the same rule and holds them to the
    same check: with the naming step switched off, ``model_version`` in TrainingInput (only)
    stops the model with a pointer into TrainingInput."""
    from codegen import pymodels
    from codegen.errors import SpecError
    from codegen.spec import validate_spec_data
    from contract_tests.models._generated import cog_spec

    training = {"type": "object", "properties": {"model_version": {"type": "string"}}}
    data = cog_spec({"prompt": {"type": "string"}}, others={"TrainingInput": training})
    spec = validate_spec_data(Path("spec.json"), data)
    assert "class TrainingInput(" in gen.render_model(gen._env(), spec, Path.cwd())
    monkeypatch.setattr(pymodels, "field_aliases", lambda *args: {})
    with pytest.raises(SpecError) as info:
        gen.render_model(gen._env(), spec, Path.cwd())
    pointer = "/openapi_schema/components/schemas/TrainingInput/properties/model_version"
    assert f"spec.json: at {pointer}: the property 'model_version' got the Python name" in str(
        info.value
    )


HOSTILE = [
    *("model_version", "model_dump", "model_config", "ﬁle", "file", "ℌ", "ｆoo", "提示", "é"),
    *("class", "json", "_x", "__init__", "1st", "a-b", "a_b", "", "int", "str"),
    *("to_request_input", "Field", "Annotated", "Input.x", "x", "Output", "type"),
]


def test_hostile_property_names_pass_every_verify_step(tmp_path: Path) -> None:
    """Property names of every hostile class, at the top and nested, required and optional,
    go through the whole of verify (ruff, the -W error import with its key checks, mypy
    --strict) and are written; the docstring's example takes them by their keys."""
    root = copy_repo(tmp_path / "repo")
    path = spec_file(root, REF)
    data = json.loads(path.read_text(encoding="utf-8"))
    schemas = data["openapi_schema"]["components"]["schemas"]
    props = schemas["Input"]["properties"]
    for index, key in enumerate(HOSTILE):
        kind = "integer" if index % 2 else "string"
        props[key] = {"type": kind, "title": f"F{index}", "x-order": index + 1}
    props["ｏbj"] = {"type": "object", "properties": {k: {"type": "integer"} for k in HOSTILE}}
    schemas["Input"]["required"] = ["model_version", "ﬁle", "class"]
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    written = gen.write(root, only=[REF])
    module = "generated/replicate_typed/models/cjwbw/rembg.py"
    assert module in written
    text = (root / module).read_text(encoding="utf-8")
    assert "Input(**{'model_version': 'aaa', 'ﬁle': 1, 'class': 1})" in text
    assert 'field_model_version: Annotated[str, Field(alias="model_version", title="F0")]' in text
    assert 'file_1: Annotated[int, Field(alias="ﬁle", title="F3")]' in text
