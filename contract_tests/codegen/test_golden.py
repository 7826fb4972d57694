"""Golden record: generated/ is exactly what specs/ compile to, and compiling twice is identical."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from codegen import generate as gen
from codegen.errors import SpecErrors
from codegen.spec import load_model_specs


def test_generated_matches_specs_byte_for_byte(repo_root: Path) -> None:
    assert gen.diff(repo_root) == []


@pytest.mark.slow  # a whole generation in-process: CI runs it in make test-slow
def test_two_runs_give_identical_bytes(repo_root: Path, tmp_path: Path) -> None:
    first = gen.build(repo_root, tmp_path / "a")
    second = gen.build(repo_root, tmp_path / "b")
    assert first == second
    for rel in first:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_every_file_under_generated_has_the_do_not_edit_header(repo_root: Path) -> None:
    """generated/ holds generator output only: nothing hand-written may hide there."""
    folder = repo_root / "generated"
    files = [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and "__pycache__" not in path.parts
        and not any(part.endswith(".egg-info") for part in path.parts)
    ]
    assert len(files) > 10
    for path in files:
        rel = path.relative_to(folder).as_posix()
        assert path.suffix == ".py", f"{rel}: only generated Python modules belong in generated/"
        head = path.read_text(encoding="utf-8").splitlines()[:2]
        assert "DO NOT EDIT" in head[0], rel
        assert "replicate-typed-codegen generate" in head[1], rel


def test_the_generator_writes_exactly_the_files_under_generated(repo_root: Path) -> None:
    project = gen.Paths(repo_root)
    assert [project.rel(folder) for folder in project.outputs] == [
        "generated/replicate_typed/models",
        "generated/replicate_typed/types",
        "generated/replicate_typed/resources",
    ]
    assert sorted(gen.render_package(repo_root)) == gen.owned_files(project)


@pytest.mark.slow  # end to end, in subprocesses: `make test-slow`
def test_removed_spec_removes_its_module(repo_root: Path, tmp_path: Path) -> None:
    clone = tmp_path / "repo"
    shutil.copytree(repo_root / "specs", clone / "specs")
    shutil.copytree(
        repo_root / "generated", clone / "generated", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(repo_root / "pyproject.toml", clone / "pyproject.toml")
    shutil.rmtree(clone / "specs" / "models" / "cjwbw")
    gen.write(clone)
    package = clone / "generated" / "replicate_typed"
    assert not (package / "models" / "cjwbw").exists()
    assert "cjwbw/rembg" not in (package / "models" / "__init__.py").read_text(encoding="utf-8")


def test_worker_processes_give_the_same_files(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Large packages are rendered by worker processes; the files are the same as in one."""
    specs = load_model_specs(repo_root / "specs")[:5]
    monkeypatch.setenv("CODEGEN_WORKERS", "1")
    serial = gen.render_package(repo_root, specs)
    monkeypatch.setenv("CODEGEN_WORKERS", "2")
    assert gen._workers(len(specs)) == 2
    assert gen.render_package(repo_root, specs) == serial


def test_worker_processes_report_spec_errors(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    specs = load_model_specs(repo_root / "specs")[:3]
    assert specs[1].ref == "black-forest-labs/flux-schnell"  # requires a prompt
    broken = dataclasses.replace(specs[1], examples=({"input": {}},))
    monkeypatch.setenv("CODEGEN_WORKERS", "2")
    with pytest.raises(SpecErrors) as info:
        gen.render_package(repo_root, [specs[0], broken, specs[2]])
    assert [e.pointer for e in info.value.errors] == ["/examples/0/input"]
    assert info.value.errors[0].file == specs[1].path
    assert "'prompt' is a required property" in info.value.errors[0].rule
