"""``import-apifox`` in one command: it writes the spec and regenerates like ``add-model``; with the
model's published version (``--version-file``, ``--from-api``) the two are merged, the published
schema staying the authority and every difference reported."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from codegen import apifox
from codegen.cli import app
from codegen.normalize import normalise
from codegen.spec import dump_spec
from contract_tests.codegen._repo import APIFOX, ROOT, copy_repo, load, run_codegen, spec_file

# imports and regenerates a repository copy per case: `make test-slow` (CI runs it)
pytestmark = pytest.mark.slow

PUBLISHED = APIFOX / "published"
SEED_000 = APIFOX / "000_be7733dff12c2b59.txt"
SEED_002 = APIFOX / "002_cb794a3482f9bbb9.txt"
SEED_003 = APIFOX / "003_75fa65dcc8bb0c15.txt"
SEED_004 = APIFOX / "004_95bfb9605a57a131.txt"
FLUX_DEV_LORA = "091495765fa5ef2725a175a57b276ec30dc9d39c22d30410f2ede68a3eab66b3"
TOKEN = "r8_apifox-token-never-printed"
BASE = "https://router.example/replicate"


def version_file(ref: str) -> Path:
    return PUBLISHED / f"{ref.replace('/', '__')}.version.json"


def describe_module(root: Path, ref: str) -> dict[str, Any]:
    """Import the regenerated package of ``root`` in a fresh interpreter; what its model says."""
    owner, name = (part.replace("-", "_").replace(".", "_") for part in ref.split("/"))
    script = f"""
import json, typing
import replicate_typed
from replicate_typed.models import registry
from replicate_typed.models.{owner} import {name} as m

info = registry.get_model({ref!r})
print(json.dumps({{
    "package": replicate_typed.__path__[-1],
    "output": repr(m.OutputValue),
    "fields": {{k: repr(f.annotation) for k, f in m.Input.model_fields.items()}},
    "call_by": info.call_by,
    "examples": len(info.examples),
}}))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "src"), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(found["package"]).is_relative_to(root)  # the regenerated copy, not this checkout
    return found


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return copy_repo(tmp_path / "repo", models=False)


# --- one command --------------------------------------------------------------------------------


def test_seed_alone_writes_regenerates_and_reports_what_it_lost(repo: Path) -> None:
    result = run_codegen("import-apifox", str(SEED_002), "--root", str(repo), process=True)
    assert result.returncode == 0, result.stderr
    ref = "stability-ai/stable-diffusion-inpainting"
    assert f"added {ref}: specs/models/{ref}/spec.json (1 example(s))" in result.stdout
    assert "generated " in result.stdout
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert any("the model's output is untyped (Any)" in line for line in warnings)
    assert any("mask, image, prompt, scheduler" in line for line in warnings)
    assert any("--version-file FILE or --from-api" in line for line in warnings)
    module = describe_module(repo, ref)
    assert module["output"] == "typing.Any"  # the documented loss
    assert module["fields"]["image"] == "<class 'str'>"  # a plain str: no format: uri
    assert module["call_by"] == "version" and module["examples"] == 1


def test_seed_and_version_file_give_typed_outputs_and_file_inputs(repo: Path) -> None:
    ref = "stability-ai/stable-diffusion-inpainting"
    result = run_codegen(
        "import-apifox",
        str(SEED_002),
        "--version-file",
        str(version_file(ref)),
        "--root",
        str(repo),
        process=True,
    )
    assert result.returncode == 0, result.stderr
    spec = load(spec_file(repo, ref))
    published = load(version_file(ref))
    assert spec["openapi_schema"] == published["openapi_schema"]  # nothing overridden
    assert spec["version"] == published["id"] and spec["call"] == "version"
    assert (
        "--version-file stability-ai__stable-diffusion-inpainting.version.json"
        in (spec["provenance"])
    )
    assert "merged with the Apifox document 002_cb794a3482f9bbb9.txt" in spec["provenance"]
    assert [e["title"] for e in spec["examples"]] == [
        "Apifox 002_cb794a3482f9bbb9.txt request example"
    ]
    err = result.stderr
    assert (
        f"{SEED_002}: {ref}: mask: format: Apifox says no format; the published schema says " in err
    )
    assert "(output): type: Apifox says nothing (no output schema)" in err
    assert "0 conflict(s)" in err and "no published schema" not in err
    module = describe_module(repo, ref)
    assert module["output"] == "list[replicate_typed.core.field_types.FileOutput]"
    for name in ("image", "mask"):  # FileInput: a path, bytes, a file or a URL
        assert "pathlib.Path" in module["fields"][name] and "IO[bytes]" in module["fields"][name]
    assert "Literal[" in module["fields"]["scheduler"]  # the published enum
    check = run_codegen("check", "--root", str(repo), process=True)
    assert check.returncode == 0, check.stderr


def test_version_file_overrides_an_earlier_document_only_import(repo: Path) -> None:
    """The spec a document alone made is no authority: the published version replaces it."""
    ref = "lucataco/flux-dev-lora"
    first = run_codegen(
        "import-apifox", str(SEED_004), "--no-generate", "--root", str(repo), process=True
    )
    assert first.returncode == 0, first.stderr
    generated = "generated/replicate_typed/models/lucataco/flux_dev_lora.py"
    assert (repo / generated).read_bytes() == (ROOT / generated).read_bytes()  # --no-generate
    again = apifox.import_apifox(SEED_004, specs_dir=repo / "specs")
    assert not again.published  # still the document alone: its own earlier import is no authority
    merged = run_codegen(
        "import-apifox",
        str(SEED_004),
        "--version-file",
        str(version_file(ref)),
        "--no-generate",
        "--root",
        str(repo),
        process=True,
    )
    assert merged.returncode == 0, merged.stderr
    assert "updated lucataco/flux-dev-lora" in merged.stdout
    spec = load(spec_file(repo, ref))
    assert spec["openapi_schema"] == load(version_file(ref))["openapi_schema"]
    assert len(spec["examples"]) == 1  # the earlier import's example, still valid, not doubled
    # from now on the merged spec in specs/ is the authority
    later = apifox.import_apifox(SEED_004, specs_dir=repo / "specs")
    assert later.published and later.spec == spec


def test_strict_writes_nothing_on_a_conflict(repo: Path) -> None:
    ref = "stability-ai/stable-diffusion"
    result = run_codegen(
        "import-apifox",
        str(SEED_000),
        "--version-file",
        str(version_file(ref)),
        "--strict",
        "--root",
        str(repo),
        process=True,
    )
    assert result.returncode == 1
    assert "--strict: 2 conflict(s); nothing written" in result.stderr
    assert not spec_file(repo, ref).exists()
    lenient = run_codegen(
        "import-apifox", str(SEED_004), "--version-file", str(version_file("lucataco/flux-dev-lora")),
        "--strict", "--no-generate", "--root", str(repo),
        process=True,
    )  # fmt: skip
    assert lenient.returncode == 0, lenient.stderr  # omissions alone are no conflict


def test_usage_errors_are_clean(repo: Path, tmp_path: Path) -> None:
    both = run_codegen(
        "import-apifox",
        str(SEED_004),
        "--version-file",
        "x.json",
        "--from-api",
        "--root",
        str(repo),
        process=True,
    )
    assert both.returncode == 2 and "at most one of --version-file or --from-api" in both.stderr
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"id": "nothex", "openapi_schema": {}}), encoding="utf-8")
    bad = run_codegen(
        "import-apifox",
        str(SEED_004),
        "--version-file",
        str(other),
        "--root",
        str(repo),
        process=True,
    )
    assert bad.returncode == 2 and "'nothex' is not 64 lowercase hex" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert not (repo / "specs/models/lucataco").exists()


# --- through the API (respx) ---------------------------------------------------------------------


def _invoke(root: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.setenv("REPLICATE_BASE_URL", BASE)
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    return CliRunner().invoke(app, ["import-apifox", *args, "--root", str(root)])


def test_from_api_fetches_the_version_the_document_names(
    repo: Path, respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = load(version_file("lucataco/flux-dev-lora"))
    route = respx_mock.get(
        f"{BASE}/v1/models/lucataco/flux-dev-lora/versions/{FLUX_DEV_LORA}"
    ).mock(
        return_value=httpx.Response(200, json={"created_at": "2025-01-01T00:00:00Z", **published})
    )
    result = _invoke(repo, monkeypatch, str(SEED_004), "--from-api")
    assert result.exit_code == 0, result.output
    assert route.called
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"
    spec = load(spec_file(repo, "lucataco/flux-dev-lora"))
    assert spec["openapi_schema"] == published["openapi_schema"]
    assert BASE in spec["provenance"] and "--from-api" in spec["provenance"]
    assert TOKEN not in result.output and TOKEN not in json.dumps(spec)
    module = describe_module(repo, "lucataco/flux-dev-lora")
    assert module["output"] == "list[replicate_typed.core.field_types.FileOutput]"


def test_from_api_latest_version_of_a_model_called_by_path(
    repo: Path, respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = load(version_file("black-forest-labs/flux-schnell"))
    route = respx_mock.get(f"{BASE}/v1/models/black-forest-labs/flux-schnell").mock(
        return_value=httpx.Response(
            200,
            json={
                "owner": "black-forest-labs",
                "name": "flux-schnell",
                "latest_version": {"created_at": "2025-01-01T00:00:00Z", **published},
            },
        )
    )
    result = _invoke(
        repo,
        monkeypatch,
        str(SEED_003),
        "--model",
        "black-forest-labs/flux-schnell",
        "--from-api",
        "--no-generate",
    )
    assert result.exit_code == 0, result.output
    assert route.called
    spec = load(spec_file(repo, "black-forest-labs/flux-schnell"))
    assert (spec["call"], spec["version"]) == ("path", published["id"])  # as the router calls it


def test_from_api_failure_is_one_clean_line(
    repo: Path, respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    respx_mock.get(f"{BASE}/v1/models/lucataco/flux-dev-lora/versions/{FLUX_DEV_LORA}").mock(
        return_value=httpx.Response(404, json={"status": 404, "title": "Not found", "detail": "no"})
    )
    result = _invoke(repo, monkeypatch, str(SEED_004), "--from-api")
    assert result.exit_code == 2
    assert "cannot fetch lucataco/flux-dev-lora:0914" in result.output
    assert TOKEN not in result.output
    assert not spec_file(repo, "lucataco/flux-dev-lora").exists()


# --- what the merge adds -------------------------------------------------------------------------


def _document(tmp_path: Path, properties: dict[str, Any], required: list[str]) -> Path:
    body = {
        "jsonSchema": {
            "type": "object",
            "properties": {
                "version": {"type": "string"},
                "input": {"type": "object", "properties": properties, "required": required},
            },
        },
        "examples": [],
    }
    path = tmp_path / "doc.txt"
    path.write_text(
        f"创建任务 acme/thing\n请求体\n{json.dumps(body, ensure_ascii=False)}\n", encoding="utf-8"
    )
    return path


def _version(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": "c" * 64,
        "openapi_schema": {
            "components": {
                "schemas": {
                    "Input": {
                        "type": "object",
                        "required": required or [],
                        "properties": properties,
                    },
                    "size": {"type": "integer", "enum": [512, 768]},
                    "Output": {"type": "array", "items": {"type": "string", "format": "uri"}},
                }
            }
        },
    }


def test_the_document_adds_only_what_only_it_says(tmp_path: Path) -> None:
    document = _document(
        tmp_path,
        {
            "prompt": {"type": "string", "description": "提示"},
            "steps": {"type": "integer", "description": "步数。默认值:30。最小值:1,最大值:50。"},
            "scale": {"type": "number", "description": "默认值:7.5。最小值:1,最大值:20。"},
            "size": {"type": "integer", "description": "需要为 64 的倍数。默认值:512。"},
            "seed": {"type": "integer", "description": "默认值:1"},
            "extra": {"type": "boolean", "description": "默认值:true"},
            "level": {"type": "integer", "description": "默认值:5"},
        },
        ["prompt"],
    )
    version = _version(
        {
            "prompt": {"type": "string", "description": "The prompt"},
            "steps": {"type": "integer", "maximum": 40},  # no description, default or minimum
            "scale": {"type": "number", "default": 0.5},  # 0.5 is below Apifox's minimum 1
            "size": {"allOf": [{"$ref": "#/components/schemas/size"}]},  # an enum: no range
            "seed": {"type": "integer"},
            "level": {"type": "integer", "maximum": 3},  # Apifox's default 5 breaks it
        },
        required=["seed"],  # a required field never gets a default
    )
    result = apifox.import_apifox(
        document, specs_dir=tmp_path / "none", version=version, version_source="v.json"
    )
    props = result.spec["openapi_schema"]["components"]["schemas"]["Input"]["properties"]
    assert props["prompt"] == {"type": "string", "description": "The prompt"}  # kept
    assert props["steps"] == {
        "type": "integer",
        "maximum": 40,  # the published maximum wins over Apifox's 50
        "description": "步数。默认值:30。最小值:1,最大值:50。",
        "minimum": 1,
        "default": 30,
    }
    assert props["scale"]["default"] == 0.5 and "minimum" not in props["scale"]
    assert props["scale"]["maximum"] == 20
    assert "multipleOf" not in props["size"]  # the enum says more than a step
    assert props["size"]["default"] == 512  # one of the choices: added
    assert "default" not in props["level"]
    assert "default" not in props["seed"]
    assert "extra" not in props
    added = {(d.field, d.aspect) for d in result.added}
    assert added == {
        ("steps", "description"),
        ("steps", "minimum"),
        ("steps", "default"),
        ("scale", "description"),
        ("scale", "maximum"),
        ("size", "description"),
        ("size", "default"),
        ("seed", "description"),
        ("level", "description"),
    }
    text = {str(d) for d in result.differences}
    assert (
        "steps: default: Apifox says 30; the published schema says no default; added from Apifox"
        in text
    )
    assert "steps: maximum: Apifox says 50; the published schema says 40" in text
    assert (
        "scale: minimum: Apifox says 1; the published schema says no minimum" in text
    )  # not added
    assert "level: default: Apifox says 5; the published schema says no default" in text
    assert (
        "extra: presence: Apifox says the field exists; the published schema says no such field"
        in text
    )
    assert "added from Apifox: steps.description, steps.minimum" in result.spec["provenance"]
    # the merged schema still accepts the published default
    merged = normalise(result.spec["openapi_schema"]).input_schema
    assert merged["properties"]["scale"]["default"] == 0.5


def test_a_range_a_published_example_breaks_is_not_added(tmp_path: Path) -> None:
    document = _document(tmp_path, {"steps": {"type": "integer", "description": "最大值:10"}}, [])
    specs = tmp_path / "specs"
    spec = {
        "model": "acme/thing",
        "call": "version",
        "version": "c" * 64,
        "examples": [{"title": "big", "input": {"steps": 25}}],
        **{"openapi_schema": _version({"steps": {"type": "integer"}})["openapi_schema"]},
    }
    target = spec_file(tmp_path, "acme/thing")
    target.parent.mkdir(parents=True)
    target.write_text(dump_spec(spec), encoding="utf-8")
    result = apifox.import_apifox(document, specs_dir=specs)
    assert result.published and result.authority == str(target)
    props = result.spec["openapi_schema"]["components"]["schemas"]["Input"]["properties"]
    assert "maximum" not in props["steps"]
    assert result.spec["examples"] == spec["examples"]
    assert [d.aspect for d in result.differences if d.field == "steps" and not d.added] == [
        "maximum"
    ]


_KEYWORDS = ("description", "default", "minimum", "maximum")


@settings(max_examples=40, deadline=None)
@given(
    seed=st.sampled_from(
        [
            (APIFOX / "000_be7733dff12c2b59.txt", "stability-ai/stable-diffusion"),
            (APIFOX / "001_dd88ab6dbcde7123.txt", "stability-ai/stable-diffusion-img2img"),
            (SEED_002, "stability-ai/stable-diffusion-inpainting"),
            (SEED_004, "lucataco/flux-dev-lora"),
        ]
    ),
    drop=st.sets(st.tuples(st.integers(0, 15), st.sampled_from(_KEYWORDS)), max_size=12),
)
def test_merge_never_overrides_the_published_schema(
    seed: tuple[Path, str], drop: set[tuple[int, str]]
) -> None:
    """Whatever the published schema leaves out, the merge keeps every value it has, adds only
    mergeable keywords, reports each addition, and the result accepts the published defaults."""
    path, ref = seed
    version = load(version_file(ref))
    published = copy.deepcopy(version)
    props = published["openapi_schema"]["components"]["schemas"]["Input"]["properties"]
    names = sorted(props)
    for index, keyword in drop:
        props[names[index % len(names)]].pop(keyword, None)
    endpoint = apifox.read(path)
    result = apifox.import_endpoint(endpoint, path, version=published, version_source="v.json")
    merged = result.spec["openapi_schema"]["components"]["schemas"]["Input"]["properties"]
    assert set(merged) == set(props)
    added = {(d.field, d.aspect) for d in result.added}
    for name, prop in props.items():
        for keyword, value in prop.items():
            assert merged[name][keyword] == value, (name, keyword)  # the authority's values stay
        for keyword in set(merged[name]) - set(prop):
            assert keyword in (*_KEYWORDS, "multipleOf") and (name, keyword) in added
    schema = normalise(result.spec["openapi_schema"]).input_schema
    for name, prop in schema["properties"].items():
        if "default" in props[name]:
            check = jsonschema.Draft202012Validator({**prop, "$defs": schema.get("$defs", {})})
            assert check.is_valid(props[name]["default"]), name
    # a description the published schema lost comes back from the document
    assert endpoint.input_schema is not None
    documented = endpoint.input_schema["properties"]
    for index, keyword in drop:
        name = names[index % len(names)]
        text = documented.get(name, {}).get("description")
        if keyword == "description" and text and "allOf" not in props[name]:
            assert merged[name]["description"] == text
            assert (name, "description") in added


def test_call_option_applies_to_every_authority(tmp_path: Path) -> None:
    version = load(version_file("lucataco/flux-dev-lora"))
    by_path = apifox.import_apifox(
        SEED_004, specs_dir=tmp_path, version=version, version_source="v.json", call="path"
    )
    assert (by_path.spec["call"], by_path.spec["version"]) == ("path", version["id"])
    spec = load(ROOT / "specs/models/lucataco/flux-dev-lora/spec.json")
    target = spec_file(tmp_path, "lucataco/flux-dev-lora")
    target.parent.mkdir(parents=True)
    target.write_text(dump_spec(spec), encoding="utf-8")
    from_specs = apifox.import_apifox(SEED_004, specs_dir=tmp_path / "specs", call="path")
    assert from_specs.published and from_specs.spec["call"] == "path"
    alone = apifox.import_apifox(SEED_004, specs_dir=tmp_path / "none", call="path")
    assert alone.spec["call"] == "path"
