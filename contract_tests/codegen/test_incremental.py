"""add-model regenerates one model's module and the small shared files, nothing else.

Before, every add-model regenerated the whole package (datamodel-code-generator once per model
already there): 35-40 ms more per model present. Now the other specs are only indexed, so the
work is the same with 11 models or 500 (``make bench-codegen`` measures it); ``make check``
stays byte-exact and a full ``generate`` is still there.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from codegen import add_model as adder
from codegen import generate as gen
from codegen import pymodels
from codegen.spec import load_model_specs
from contract_tests.codegen._repo import CORPUS, copy_repo, load, spec_file


def _stamps(root: Path) -> dict[str, int]:
    project = gen.Paths(root)
    return {rel: (project.root / rel).stat().st_mtime_ns for rel in gen.owned_files(project)}


def _counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    calls: dict[str, list[str]] = {"models": [], "api": []}
    render, api = gen.render_model, pymodels.api_code

    def counted_render(env: Any, spec: Any, *args: Any) -> str:
        calls["models"].append(spec.ref)
        return render(env, spec, *args)

    def counted_api(*args: Any, **kwargs: Any) -> Any:
        calls["api"].append("api")
        return api(*args, **kwargs)

    monkeypatch.setattr(gen, "render_model", counted_render)
    monkeypatch.setattr(gen, "api_code", counted_api)
    return calls


@pytest.mark.slow  # subprocesses: `make test-slow`
def test_add_model_renders_one_module_and_the_shared_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_repo(tmp_path / "repo")
    before = _stamps(root)
    calls = _counting(monkeypatch)
    version = load(CORPUS / "lucataco__video-merge.version.json")
    data = adder.spec_from_version(
        {"id": None, "openapi_schema": version["openapi_schema"]},
        "lucataco/video-merge",
        provenance="p",
        source="v.json",
    )
    result = adder.add_model(root, data)
    assert calls == {"models": ["lucataco/video-merge"], "api": []}
    assert result.generated == [
        "generated/replicate_typed/models/__init__.py",
        "generated/replicate_typed/models/lucataco/__init__.py",
        "generated/replicate_typed/models/lucataco/video_merge.py",
    ]
    after = _stamps(root)
    changed = sorted(rel for rel in after if before.get(rel) != after[rel])
    assert changed == result.generated  # nothing else was rewritten
    assert gen.diff(root) == []  # make check stays byte-exact


@pytest.mark.slow  # subprocesses: `make test-slow`
def test_updating_a_model_rewrites_only_what_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_repo(tmp_path / "repo")
    ref = "stability-ai/sdxl"
    data = load(spec_file(root, ref))
    data["openapi_schema"]["components"]["schemas"]["Input"]["properties"]["prompt"][
        "description"
    ] = "Input prompt, now described differently"
    before = _stamps(root)
    calls = _counting(monkeypatch)
    adder.add_model(root, data)
    assert calls["models"] == [ref] and calls["api"] == []
    after = _stamps(root)
    assert sorted(rel for rel in after if before[rel] != after[rel]) == [
        "generated/replicate_typed/models/stability_ai/sdxl.py"
    ]  # registry and owner __init__ were rendered, compared, found equal and left alone
    assert gen.diff(root) == []


def test_full_generate_is_still_available(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_repo(tmp_path / "repo")
    calls = _counting(monkeypatch)
    written = gen.write(root)
    assert sorted(calls["models"]) == sorted(s.ref for s in load_model_specs(gen.Paths(root).specs))
    assert calls["api"] == ["api"]
    assert written == gen.owned_files(gen.Paths(root))


@pytest.mark.slow  # subprocesses: `make test-slow`
def test_add_model_removes_modules_whose_spec_is_gone(tmp_path: Path) -> None:
    """add-model leaves the package as a full generate would: `make check` stays clean."""
    root = copy_repo(tmp_path / "repo")
    shutil.rmtree(root / "specs" / "models" / "cjwbw")  # rembg's spec removed by hand
    shutil.rmtree(root / "specs" / "models" / "lucataco" / "animate-diff")
    version = load(CORPUS / "lucataco__video-merge.version.json")
    data = adder.spec_from_version(
        {"id": None, "openapi_schema": version["openapi_schema"]},
        "acme/video-merge",
        provenance="p",
        source="v.json",
    )
    adder.add_model(root, data)
    package = gen.Paths(root).package
    assert not (package / "cjwbw").exists()
    assert not (package / "lucataco" / "animate_diff.py").exists()
    assert "animate_diff" not in (package / "lucataco" / "__init__.py").read_text()
    assert gen.diff(root) == []
