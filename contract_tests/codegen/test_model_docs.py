"""The model reference (``codegen/model_docs.py``): one page per model, compiled from its spec,
byte-exact under ``check``, following ``add-model``, owned by the generator like the package.

The examples on each page are run against the mock by ``contract_tests/test_docs_examples.py``
(Python, the CLI and curl); here: what the pages hold, and that they agree with the generated
modules and the CLI.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codegen import config, model_docs
from codegen.errors import SpecError, SpecErrors
from codegen.naming import module_name
from codegen.spec import load_model_specs
from contract_tests.codegen._repo import CORPUS, ROOT
from replicate_typed.cli.commands.run import RUN_OPTIONS
from replicate_typed.cli.options import model_options
from replicate_typed.models import registry

DOCS = ROOT / "docs" / "models"


def page(ref: str) -> str:
    return (DOCS / model_docs.page_file(ref)).read_text(encoding="utf-8")


def table_names(text: str) -> list[str]:
    section = text.split("## Inputs", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, re.M)


@pytest.mark.parametrize("ref", sorted(registry))
def test_one_page_per_model_holds_every_input(ref: str) -> None:
    info = registry.get_model(ref)
    text = page(ref)
    assert text.startswith(model_docs.HEADER)
    assert f"\n# {ref}\n" in text
    assert sorted(table_names(text)) == sorted(info.input_schema.get("properties", {}))
    if info.version:
        assert info.version in text


def test_the_pages_are_exactly_the_models() -> None:
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert pages == {model_docs.INDEX} | {model_docs.page_file(ref) for ref in registry}
    index = (DOCS / model_docs.INDEX).read_text(encoding="utf-8")
    for ref in registry:
        assert f"[{ref}]({model_docs.page_file(ref)})" in index


@pytest.mark.parametrize("ref", sorted(registry))
def test_the_output_type_is_the_generated_modules(ref: str) -> None:
    owner, name = ref.split("/", 1)
    path = ROOT / "generated" / "replicate_typed" / "models" / module_name(owner)
    path = path / f"{module_name(name)}.py"
    alias = re.search(r"^OutputValue: TypeAlias = (.+)$", path.read_text("utf-8"), re.M)
    assert alias is not None
    assert f"`Client.run` returns `{alias.group(1)}`" in page(ref)


@pytest.mark.parametrize("ref", sorted(registry))
def test_cli_flags_are_the_clis(ref: str) -> None:
    """The page's rule for option names is the CLI's (cli/options.py), input by input."""
    info = registry.get_model(ref)
    flags = {o.field: o.flag for o in model_options(info, reserved=RUN_OPTIONS)}
    assert {name: model_docs.cli_flag(name) for name in flags} == flags
    assert set(model_docs.RUN_OPTIONS) == {*RUN_OPTIONS, "--help"}


@given(st.text(max_size=40))
def test_cli_flag_rule_agrees_with_the_cli_for_any_name(name: str) -> None:
    prop = {"type": "string", "x-order": 0}
    info: Any = SimpleNamespace(input_schema={"type": "object", "properties": {name: prop}})
    [option] = model_options(info, reserved=RUN_OPTIONS)
    assert model_docs.cli_flag(name) == option.flag


@given(st.text())
def test_a_table_cell_is_one_line_without_markup(text: str) -> None:
    cell = model_docs.cell(text)
    assert "\n" not in cell and "<" not in cell and ">" not in cell
    assert "|" not in cell.replace("\\|", "")
    assert len(cell) <= model_docs._CELL_CHARS * 6  # escapes at most lengthen each character


def test_ranges_and_labels() -> None:
    assert model_docs.range_text({"minimum": 1, "maximum": 4.0}) == "1 ≤ x ≤ 4"
    assert model_docs.range_text({"exclusiveMinimum": 0, "multipleOf": 8}) == (
        "0 < x, multiple of 8"
    )
    assert model_docs.range_text({"maxLength": 10}) == "length ≤ 10"
    defs = {"S": {"enum": ["a", "b"], "type": "string"}}
    assert model_docs.type_label({"allOf": [{"$ref": "#/$defs/S"}]}, defs) == "str"  # + choices
    assert model_docs.type_label({"enum": [1, "a"]}, {}) == 'Literal[1, "a"]'
    nullable = {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert model_docs.type_label(nullable, {}) == "int | None"
    array = {"type": "array", "items": {"type": "string", "format": "uri"}}
    assert model_docs.output_label(array, {}) == "list[FileOutput]"
    assert model_docs.type_label(array, {}) == "list[FileInput]"


# --- a user's project: the docs key, check, add-model, ownership ---------------------------


def user_project(
    tmp_path: Path, docs: str = "docs/models", models: list[str] | None = None
) -> Path:
    table = f'package = "app/gen"\ndocs = "{docs}"'
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n\n[tool.replicate-typed]\n{table}\n', encoding="utf-8"
    )
    for ref in models or ["stability-ai/sdxl", "cjwbw/rembg"]:
        shutil.copytree(ROOT / "specs" / "models" / ref, tmp_path / "specs" / "models" / ref)
    return tmp_path


def test_a_users_project_gets_pages_that_import_its_package(tmp_path: Path) -> None:
    project = config.load(user_project(tmp_path))
    assert project.docs == tmp_path.resolve() / "docs" / "models"
    written = model_docs.write(project)
    assert written == [
        "docs/models/cjwbw/rembg.md",
        "docs/models/index.md",
        "docs/models/stability-ai/sdxl.md",
    ]
    text = (tmp_path / "docs" / "models" / "stability-ai" / "sdxl.md").read_text("utf-8")
    assert "from app.gen.stability_ai import sdxl" in text
    assert "from specs/models/stability-ai/sdxl/spec.json" in text
    assert model_docs.diff(project) == []


def test_check_names_an_edited_a_missing_and_a_stale_page(tmp_path: Path) -> None:
    project = config.load(user_project(tmp_path))
    model_docs.write(project)
    folder = tmp_path / "docs" / "models"
    edited = folder / "stability-ai" / "sdxl.md"
    edited.write_text(edited.read_text("utf-8") + "hand edit\n", encoding="utf-8")
    (folder / "cjwbw" / "rembg.md").unlink()
    stale = folder / "gone" / "model.md"
    stale.parent.mkdir()
    stale.write_text(model_docs.HEADER + "x -->\n", encoding="utf-8")
    assert model_docs.diff(project) == [
        "missing: docs/models/cjwbw/rembg.md",
        "not generated (stale): docs/models/gone/model.md",
        "differs: docs/models/stability-ai/sdxl.md",
    ]
    model_docs.write(project)
    assert model_docs.diff(project) == []
    assert not stale.parent.exists()


def test_add_model_writes_its_page_and_the_index_only(tmp_path: Path) -> None:
    root = user_project(tmp_path, models=["cjwbw/rembg"])
    project = config.load(root)
    model_docs.write(project)
    before = (root / "docs" / "models" / "cjwbw" / "rembg.md").stat().st_mtime_ns
    version = json.loads((CORPUS / "xinntao__esrgan.version.json").read_text("utf-8"))
    spec = {
        "model": "xinntao/esrgan",
        "call": "path",
        "version": None,
        "openapi_schema": version["openapi_schema"],
    }
    target = root / "specs" / "models" / "xinntao" / "esrgan" / "spec.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(spec), encoding="utf-8")
    written = model_docs.write(project, only=["xinntao/esrgan"])
    assert written == ["docs/models/index.md", "docs/models/xinntao/esrgan.md"]
    assert (root / "docs" / "models" / "cjwbw" / "rembg.md").stat().st_mtime_ns == before
    assert model_docs.diff(project) == []


def test_a_foreign_file_in_the_docs_folder_stops_the_run(tmp_path: Path) -> None:
    project = config.load(user_project(tmp_path))
    mine = tmp_path / "docs" / "models" / "notes.md"
    mine.parent.mkdir(parents=True)
    mine.write_text("# my notes\n", encoding="utf-8")
    with pytest.raises(SpecErrors) as caught:
        model_docs.write(project)
    assert [e.file for e in caught.value.errors] == [mine]
    assert mine.exists()


@pytest.mark.parametrize(
    ("docs", "rule"),
    [("../outside", "inside the project"), ("specs/docs", "overlaps specs"), ("app", "overlaps")],
)
def test_the_docs_key_is_checked(tmp_path: Path, docs: str, rule: str) -> None:
    with pytest.raises(SpecError) as caught:
        config.load(user_project(tmp_path, docs=docs))
    assert rule in caught.value.rule and caught.value.pointer.startswith("/tool/replicate-typed/")


def test_no_docs_key_no_pages(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.replicate-typed]\npackage = "app/gen"\n', encoding="utf-8"
    )
    project = config.load(tmp_path)
    assert project.docs is None
    assert model_docs.write(project) == [] and model_docs.diff(project) == []


def test_every_spec_of_this_repository_renders(tmp_path: Path) -> None:
    project = config.load(ROOT)
    specs = load_model_specs(project.specs)
    files = model_docs.render_docs(project, specs, specs)
    assert len(files) == len(specs) + 1
