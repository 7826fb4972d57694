"""Robustness: all 24 real corpus schemas (plus synthetic edge cases) add, generate, import, type-check.

One temporary copy of the repository gets every corpus version through add-model, is generated
by the CLI once (which verifies every new module: compile, ruff, import, ``mypy --strict``), then
imported in a subprocess (its ``replicate_typed`` is the temporary package) and linted with ruff.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codegen.cli import app
from codegen.naming import module_name
from contract_tests.codegen._repo import CORPUS, ROOT, copy_repo, corpus_ref, run_codegen

# every corpus schema through add-model, generate, ruff and mypy: `make test-slow` (CI runs it)
pytestmark = pytest.mark.slow

CORPUS_FILES = sorted(CORPUS.glob("*.version.json"))

# What Client.run returns for the corpus models with notable outputs.
EXPECTED_OUTPUT_VALUE = {
    "openai/gpt-4o": "str",  # text iterator, concatenate
    "openai/o1": "str",
    "stability-ai/stablelm-tuned-alpha-7b": "str",
    "zsxkib/flux-music": "Output",  # object output
    "zsxkib/samurai": "TrackingResult",  # $ref object output
    "zsxkib/jina-clip-v2": "list[str | list[float]]",
    "beautyyuyanli/multilingual-e5-large": "list[list[float]]",
    "lucataco/snowflake-arctic-embed-l": "list[float]",
    "xinntao/esrgan": "FileOutput",
    "anotherjesse/zeroscope-v2-xl": "list[FileOutput]",
}


def _cog(input_props: dict[str, Any], output: dict[str, Any], **others: Any) -> dict[str, Any]:
    return {
        "id": None,
        "openapi_schema": {
            "openapi": "3.0.2",
            "info": {"title": "Cog", "version": "0.1.0"},
            "paths": {},
            "components": {
                "schemas": {
                    "Input": {
                        "type": "object",
                        "title": "Input",
                        "required": [
                            n for n, p in input_props.items() if p.pop("_required", False)
                        ],
                        "properties": input_props,
                    },
                    "Output": output,
                    **others,
                }
            },
        },
    }


def synthetic_versions() -> dict[str, dict[str, Any]]:
    """Edge cases the corpus lacks: secrets, nullable/anyOf, odd names, nested object outputs."""
    return {
        "acme/secrets": _cog(
            {
                "prompt": {"type": "string", "title": "Prompt", "x-order": 0, "_required": True},
                "api_key": {"type": "string", "format": "password", "x-order": 1},
                "hf_token": {"type": "string", "x-cog-secret": True, "x-order": 2},
                "webhook_secret": {
                    "type": "string",
                    "format": "password",
                    "x-cog-secret": True,
                    "nullable": True,
                    "x-order": 3,
                },
            },
            {"type": "string", "title": "Output"},
        ),
        "3d-lab/class": _cog(
            {
                "quality": {"allOf": [{"$ref": "#/components/schemas/quality"}], "default": 2},
                "maybe": {
                    "anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}],
                    "default": None,
                },
                "images": {"type": "array", "items": {"type": "string", "format": "uri"}},
                "lora": {"type": "string", "nullable": True, "default": None},
                "class": {"type": "string", "default": "a"},
                "my-field": {"type": "number", "multipleOf": 0.5, "default": 1.5},
            },
            {
                "type": "array",
                "items": {"type": "string"},
                "x-cog-array-type": "iterator",
                "x-cog-array-display": "concatenate",
            },
            quality={"type": "integer", "enum": [1, 2, 3], "title": "quality"},
        ),
        "lib/types": _cog(
            {"seed": {"type": "integer", "default": None}},
            {"$ref": "#/components/schemas/Prediction"},
            Prediction={
                "type": "object",
                "properties": {
                    "files": {"type": "array", "items": {"type": "string", "format": "uri"}},
                    "detail": {"$ref": "#/components/schemas/Model"},
                },
                "required": ["files"],
            },
            Model={"type": "object", "properties": {"score": {"type": "number"}}},
        ),
        "acme/-dash.1.5": _cog(
            {"text": {"type": "string", "_required": True, "minLength": 2}},
            {
                "type": "array",
                "items": {"type": "string", "format": "uri"},
                "x-cog-array-type": "iterator",
            },
        ),
    }


@pytest.fixture(scope="module")
def corpus_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_repo(tmp_path_factory.mktemp("corpus") / "repo")
    versions = tmp_path_factory.mktemp("versions")
    files = [(path, corpus_ref(path)) for path in CORPUS_FILES]
    for ref, version in synthetic_versions().items():
        file = versions / f"{module_name(ref.replace('/', '_'))}.json"
        file.write_text(json.dumps(version), encoding="utf-8")
        files.append((file, ref))
    runner = CliRunner()
    for file, ref in files:  # the add-model command itself (in-process: 28 interpreters are slow)
        args = ["add-model", "--from-file", str(file), "--model", ref, "--no-generate"]
        added = runner.invoke(app, [*args, "--root", str(root)])
        assert added.exit_code == 0, (ref, added.output)
        assert f"added {ref}:" in added.output
    result = run_codegen("generate", "--root", str(root))
    assert result.returncode == 0, result.stderr
    return root


def _package(root: Path) -> Path:
    return root / "generated" / "replicate_typed"


def test_every_corpus_model_has_a_module(corpus_repo: Path) -> None:
    registry = (_package(corpus_repo) / "models" / "__init__.py").read_text(encoding="utf-8")
    for path in CORPUS_FILES:
        ref = corpus_ref(path)
        owner, name = ref.split("/")
        module = _package(corpus_repo) / "models" / module_name(owner) / f"{module_name(name)}.py"
        assert module.exists(), ref
        assert f'"{ref}":' in registry
    for ref in synthetic_versions():
        assert f'"{ref}":' in registry


@pytest.mark.parametrize(("ref", "expected"), sorted(EXPECTED_OUTPUT_VALUE.items()))
def test_output_value_types(corpus_repo: Path, ref: str, expected: str) -> None:
    owner, name = ref.split("/")
    text = (
        _package(corpus_repo) / "models" / module_name(owner) / f"{module_name(name)}.py"
    ).read_text(encoding="utf-8")
    match = re.search(r"^OutputValue: TypeAlias = (.+)$", text, re.M)
    assert match is not None and match.group(1) == expected


def test_generated_modules_import_and_accept_their_defaults(corpus_repo: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(corpus_repo / "src"), str(ROOT)]),
    }
    result = subprocess.run(
        [sys.executable, "-m", "contract_tests.codegen._corpus_check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(summary["package"]).is_relative_to(corpus_repo)  # the temporary package
    models = summary["models"]
    expected = {corpus_ref(p) for p in CORPUS_FILES} | set(synthetic_versions())
    assert expected <= set(models)
    assert models["acme/secrets"]["secrets"] == ["api_key", "hf_token", "webhook_secret"]
    assert models["openai/gpt-4o"]["output_type"] == "str"
    assert models["zsxkib/flux-music"]["output_type"] == "Output"
    assert models["zsxkib/samurai"]["output_type"] == "TrackingResult"
    assert models["lib/types"]["output_type"] == "PredictionSchema"
    assert models["3d-lab/class"]["defaults"] == 5
    assert sum(m["defaults"] for m in models.values()) > 200


def test_generated_package_passes_ruff(corpus_repo: Path) -> None:
    """ruff, as ``make check`` runs it. ``mypy --strict`` ran inside ``generate`` itself: every
    new module was verified (codegen.verify: same flags as this test used to run) before it was
    written, and test_verify.py shows a module failing it is never written."""
    package = _package(corpus_repo)
    targets = [str(package / "models"), str(package / "types")]
    config = str(ROOT / "pyproject.toml")
    for args in (["check"], ["format", "--check"]):
        result = subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--config", config, *targets],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
