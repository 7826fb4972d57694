"""``[tool.replicate-typed]``: where a project keeps specs and its generated package. Every value
reaches a file path, so bad ones are refused before anything is read or written; the generator
never deletes a file it did not write."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from codegen import config
from codegen import generate as gen
from codegen.errors import SpecError, SpecErrors
from contract_tests.codegen._repo import CORPUS, run_codegen


def project(tmp_path: Path, table: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n\n[tool.replicate-typed]\n{table}\n', encoding="utf-8"
    )
    return tmp_path


def test_a_users_table(tmp_path: Path) -> None:
    found = config.load(project(tmp_path, 'package = "myapp/replicate_models"'))
    assert found.specs == tmp_path.resolve() / "specs"
    assert found.package == tmp_path.resolve() / "myapp" / "replicate_models"
    assert found.module == "myapp.replicate_models"
    assert found.api_types is None and found.outputs == (found.package,)


def test_a_src_layout_drops_src_from_the_import_name(tmp_path: Path) -> None:
    found = config.load(project(tmp_path, 'package = "src/myapp/models"'))
    assert found.module == "myapp.models"


def test_this_repository_is_one_configuration(repo_root: Path) -> None:
    found = config.load(repo_root)
    assert found.module == "replicate_typed.models"
    assert [found.rel(p) for p in found.outputs] == [
        "generated/replicate_typed/models",
        "generated/replicate_typed/types",
        "generated/replicate_typed/resources",
    ]


def test_the_nearest_pyproject_with_the_table_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tmp_path, 'package = "app/models"')
    inner = tmp_path / "app" / "sub"
    inner.mkdir(parents=True)
    (tmp_path / "app" / "pyproject.toml").write_text('[project]\nname = "y"\n', encoding="utf-8")
    monkeypatch.chdir(inner)
    assert config.load().root == tmp_path.resolve()


@pytest.mark.parametrize(
    ("table", "pointer", "rule"),
    [
        ('package = "/abs/models"', "/tool/replicate-typed/package", "relative path"),
        ('package = "../elsewhere"', "/tool/replicate-typed/package", "relative path"),
        ('package = "C:/models"', "/tool/replicate-typed/package", "relative path"),
        ('package = "."', "/tool/replicate-typed/package", "below the project"),
        ('package = ""', "/tool/replicate-typed/package", "non-empty"),
        ("package = 3", "/tool/replicate-typed/package", "non-empty"),
        ('specs = "specs"', "/tool/replicate-typed/package", "missing"),
        ('package = "my-app/models"', "/tool/replicate-typed/package", "not a dotted"),
        ('package = "a/b"\nmodule = "a.class"', "/tool/replicate-typed/module", "not a dotted"),
        ('package = "specs/models"', "/tool/replicate-typed/package", "overlaps"),
        ('package = "m"\napi-types = "m/types"', "/tool/replicate-typed/api-types", "overlaps"),
        ('package = "m"\npackages = "x"', "/tool/replicate-typed/packages", "unknown key"),
        ('package = "replicate_typed/models"', "/tool/replicate-typed/package", "replicate-typed"),
    ],
)
def test_bad_values_are_refused_naming_key_and_rule(
    tmp_path: Path, table: str, pointer: str, rule: str
) -> None:
    with pytest.raises(SpecError) as caught:
        config.load(project(tmp_path, table))
    assert caught.value.pointer == pointer
    assert rule in caught.value.rule
    assert "\n" not in str(caught.value)


def test_no_table_is_one_line_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    done = run_codegen("generate", "--root", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "package = " in done.stderr, done.stderr


def test_a_foreign_file_in_the_package_stops_the_run_and_nothing_is_deleted(
    tmp_path: Path,
) -> None:
    root = project(tmp_path, 'package = "myapp/models"')
    shutil.copytree(Path(__file__).parents[2] / "specs" / "api", root / "specs" / "api")
    (root / "specs" / "models").mkdir()
    handwritten = root / "myapp" / "models" / "helpers.py"
    handwritten.parent.mkdir(parents=True)
    handwritten.write_text("def mine() -> None: ...\n", encoding="utf-8")
    with pytest.raises(SpecErrors) as caught:
        gen.write(root)
    assert [e.file for e in caught.value.errors] == [handwritten]
    assert handwritten.exists()


@pytest.mark.slow  # subprocesses: `make test-slow`
def test_a_users_package_gets_models_and_registry_but_no_api_types(tmp_path: Path) -> None:
    root = project(tmp_path, 'specs = "my_specs"\npackage = "app/gen"')
    version = CORPUS / "xinntao__esrgan.version.json"
    done = run_codegen(
        "add-model",
        "--from-file",
        str(version),
        "--model",
        "xinntao/esrgan",
        cwd=root,
        process=True,
    )
    assert done.returncode == 0, done.stderr
    assert (root / "my_specs" / "models" / "xinntao" / "esrgan" / "spec.json").exists()
    files = sorted(p.relative_to(root).as_posix() for p in (root / "app").rglob("*.py"))
    assert files == [
        "app/gen/__init__.py",
        "app/gen/xinntao/__init__.py",
        "app/gen/xinntao/esrgan.py",
    ]
    module = (root / "app" / "gen" / "xinntao" / "esrgan.py").read_text(encoding="utf-8")
    assert "from my_specs/models/xinntao/esrgan/spec.json -- DO NOT EDIT" in module
    assert "from app.gen.xinntao.esrgan import Input" in module
    registry = (root / "app" / "gen" / "__init__.py").read_text(encoding="utf-8")
    assert '"xinntao/esrgan": "app.gen.xinntao.esrgan"' in registry
    assert run_codegen("check", cwd=root, process=True).returncode == 0
