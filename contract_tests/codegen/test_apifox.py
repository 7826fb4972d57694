"""``import-apifox``: the router's Apifox exports -> spec form; disagreements are reported."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from codegen import apifox
from codegen import generate as gen
from codegen.errors import SpecError
from codegen.spec import validate_spec_data
from contract_tests.codegen._repo import APIFOX, ROOT, copy_repo, load, run_codegen

SEED_000 = APIFOX / "000_be7733dff12c2b59.txt"
SEED_001 = APIFOX / "001_dd88ab6dbcde7123.txt"
SEED_002 = APIFOX / "002_cb794a3482f9bbb9.txt"
SEED_003 = APIFOX / "003_75fa65dcc8bb0c15.txt"
SEED_004 = APIFOX / "004_95bfb9605a57a131.txt"
SPECS = ROOT / "specs"


def _props(result: apifox.ImportResult) -> dict[str, Any]:
    assert result.endpoint.input_schema is not None
    props: dict[str, Any] = result.endpoint.input_schema["properties"]
    return props


# --- description rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "kind", "expected"),
    [
        ("需要为 64 的倍数。默认值:768。", "integer", {"default": 768, "multipleOf": 64}),
        (
            "选择一个调度程序。默认值:“DPMSolverMultistep”。",
            "string",
            {"default": "DPMSolverMultistep"},
        ),
        ("默认值:1。最小值:1,最大值:4。", "integer", {"default": 1, "minimum": 1, "maximum": 4}),
        (
            "默认值:7.5。最小值:1,最大值:20。",
            "number",
            {"default": 7.5, "minimum": 1, "maximum": 20},
        ),
        (
            "默认值：0.8。最小值：0，最大值：1。",
            "number",
            {"default": 0.8, "minimum": 0, "maximum": 1},
        ),
        ('默认值:"webp"', "string", {"default": "webp"}),
        ("默认值:true", "boolean", {"default": True}),
        ("默认值:1", "string", {"default": "1"}),
        ("范围为 0 至 100。默认值:80。", "integer", {"default": 80, "minimum": 0, "maximum": 100}),
        ("最小值:-2,最大值:2", "number", {"minimum": -2, "maximum": 2}),
        ("例如:alvdansen/frosting_lane_flux", "string", {}),
        ("", "string", {}),
    ],
)
def test_rules_written_in_descriptions(
    description: str, kind: str, expected: dict[str, Any]
) -> None:
    rules = apifox.rules_from_description(description, kind)
    assert rules == expected
    for key, value in expected.items():  # integers stay integers, 7.5 stays a float
        assert type(rules[key]) is type(value)


# --- the seeds ---------------------------------------------------------------------------------


def test_seed_000_reports_the_required_disagreement_and_keeps_the_published_schema() -> None:
    result = apifox.import_apifox(SEED_000, specs_dir=SPECS)
    published = load(SPECS / "models/stability-ai/stable-diffusion/spec.json")
    assert result.published
    assert result.spec == published  # nothing overridden; its example is already there
    required = [d for d in result.differences if d.aspect == "required"]
    assert sorted((d.field, d.apifox, d.published) for d in required) == [
        ("guidance_scale", "required", "optional"),
        ("num_inference_steps", "required", "optional"),
    ]
    text = [str(d) for d in required]
    assert (
        "guidance_scale: required: Apifox says required; the published schema says optional" in text
    )
    # the description-only rules were read, and agree with the published schema
    props = _props(result)
    assert props["width"]["default"] == 768 and props["width"]["multipleOf"] == 64
    assert props["scheduler"]["default"] == "DPMSolverMultistep"
    assert (props["num_outputs"]["minimum"], props["num_outputs"]["maximum"]) == (1, 4)
    aspects = {(d.field, d.aspect) for d in result.differences}
    assert not {
        a
        for a in aspects
        if a[1] in ("default", "minimum", "maximum", "multipleOf", "type") and a[0] != "(output)"
    }
    assert [d.field for d in result.differences if d.conflict] == [
        "guidance_scale",
        "num_inference_steps",
    ]
    assert ("negative_prompt", "presence") in aspects  # published fields Apifox leaves out
    assert result.endpoint.version == published["version"]


def test_seed_001_rendered_listing() -> None:
    result = apifox.import_apifox(SEED_001, specs_dir=SPECS)
    assert result.spec["model"] == "stability-ai/stable-diffusion-img2img"
    assert result.endpoint.kind == "rendered"
    assert (
        result.endpoint.version
        == "15a3689ee13b0d2616e98820eca31d4c3abcd36672df6afce5cb6feb1d66087d"
    )
    props = _props(result)
    assert list(props) == [
        "image",
        "prompt",
        "scheduler",
        "num_outputs",
        "guidance_scale",
        "prompt_strength",
        "num_inference_steps",
    ]
    assert result.endpoint.input_schema is not None
    assert result.endpoint.input_schema["required"] == ["image"]
    assert props["num_outputs"] == {
        **props["num_outputs"],
        "default": 1,
        "minimum": 1,
        "maximum": 8,
    }
    assert props["prompt_strength"]["default"] == 0.8
    assert result.endpoint.examples[0]["prompt"] == "A fantasy landscape, trending on artstation"
    assert not [d for d in result.differences if d.conflict]
    omitted = {(d.field, d.aspect) for d in result.differences if d.omission}
    assert {("image", "format"), ("scheduler", "enum"), ("(output)", "type")} <= omitted


def test_seed_002_model_from_the_title() -> None:
    endpoints = apifox.parse(SEED_002.read_text(encoding="utf-8"))
    assert [e.model for e in endpoints] == ["stability-ai/stable-diffusion-inpainting"]
    assert endpoints[0].input_schema is not None
    assert endpoints[0].input_schema["required"] == ["mask", "image"]
    assert endpoints[0].input_schema["properties"]["width"]["default"] == 512


def test_seed_003_prose_with_two_models() -> None:
    with pytest.raises(SpecError) as info:
        apifox.import_apifox(SEED_003, specs_dir=SPECS)
    assert "several models" in info.value.rule and "lucataco/flux-schnell-lora" in info.value.rule
    schnell = apifox.import_apifox(
        SEED_003, model="black-forest-labs/flux-schnell", specs_dir=SPECS
    )
    assert (schnell.endpoint.call, schnell.endpoint.version) == ("path", None)
    assert _props(schnell)["go_fast"]["type"] == "boolean"
    assert _props(schnell)["megapixels"]["type"] == "string"
    assert [d for d in schnell.differences if d.conflict] == []
    assert {(d.field, d.aspect) for d in schnell.differences} == {
        ("megapixels", "enum"),
        ("aspect_ratio", "enum"),
        ("output_format", "enum"),
        ("(output)", "type"),
    }
    lora = apifox.import_apifox(SEED_003, model="lucataco/flux-schnell-lora", specs_dir=SPECS)
    assert lora.endpoint.call == "version"
    assert (
        lora.endpoint.version == "2a6b576af31790b470f0a8442e1e9791213fa13799cbb65a9fc1436e96389574"
    )
    assert [d for d in lora.differences if d.conflict] == []
    with pytest.raises(SpecError, match="does not describe acme/other"):
        apifox.import_apifox(SEED_003, model="acme/other", specs_dir=SPECS)


def test_seed_004_range_in_words() -> None:
    result = apifox.import_apifox(SEED_004, specs_dir=SPECS)
    assert result.spec["model"] == "lucataco/flux-dev-lora"
    props = _props(result)
    assert (props["output_quality"]["minimum"], props["output_quality"]["maximum"]) == (0, 100)
    assert [d for d in result.differences if d.conflict] == []
    output = [d for d in result.differences if d.field == "(output)"]
    assert [str(d) for d in output] == [
        "(output): type: Apifox says nothing (no output schema); the published schema says "
        "array of string (format uri)"
    ]


def test_cli_reports_differences_on_stderr_and_strict_fails() -> None:
    result = run_codegen("import-apifox", str(SEED_000), "--out", "-")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == load(
        SPECS / "models/stability-ai/stable-diffusion/spec.json"
    )
    assert (
        f"{SEED_000}: stability-ai/stable-diffusion: guidance_scale: required: Apifox says "
        "required; the published schema says optional"
    ) in result.stderr
    assert "the published schema is kept" in result.stderr
    strict = run_codegen("import-apifox", str(SEED_000), "--strict", "--out", "-")
    assert strict.returncode == 1
    assert strict.stdout == "" and "--strict: 2 conflict(s); nothing written" in strict.stderr


# --- without a published schema ----------------------------------------------------------------


def _exec_module(text: str, name: str) -> Any:
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(text, f"<{name}>", "exec"), module.__dict__)
    return module


def test_import_without_a_published_schema_gives_a_working_model(tmp_path: Path) -> None:
    result = apifox.import_apifox(SEED_000, specs_dir=tmp_path / "empty-specs")
    assert not result.published and result.differences == []
    assert result.losses[0].startswith("Output: the document does not describe it")
    assert "prompt, scheduler" in result.losses[1]
    spec = result.spec
    assert (spec["model"], spec["call"]) == ("stability-ai/stable-diffusion", "version")
    schema = spec["openapi_schema"]["components"]["schemas"]["Input"]
    assert schema["required"] == ["guidance_scale", "num_inference_steps"]  # as Apifox says
    assert "Apifox document 000_be7733dff12c2b59.txt" in spec["provenance"]
    model = validate_spec_data(tmp_path / "spec.json", spec)
    module = _exec_module(gen.render_model(gen._env(), model, ROOT), "_apifox_sd")
    Input = module.Input
    ok = Input(guidance_scale=7.5, num_inference_steps=50, width=768)
    assert ok.width == 768 and Input.model_fields["scheduler"].default == "DPMSolverMultistep"
    with pytest.raises(ValidationError) as info:
        Input(guidance_scale=7.5, num_inference_steps=50, width=770)
    error = info.value.errors()[0]
    assert (error["loc"], error["type"]) == (("width",), "multiple_of")
    with pytest.raises(ValidationError) as info:
        Input(guidance_scale=7.5, num_inference_steps=50, num_outputs=5)
    error = info.value.errors()[0]
    assert (error["loc"], error["type"]) == (("num_outputs",), "less_than_equal")
    with pytest.raises(ValidationError) as info:
        Input(num_inference_steps=50)
    assert info.value.errors()[0]["loc"] == ("guidance_scale",)
    assert module.MODEL.examples[0]["input"]["scheduler"] == "K_EULER"


@pytest.mark.slow  # end to end, in subprocesses: `make test-slow`
def test_cli_out_then_generate(tmp_path: Path) -> None:
    root = copy_repo(tmp_path / "repo", models=False)
    target = root / "specs/models/lucataco/flux-dev-lora/spec.json"
    result = run_codegen(
        "import-apifox", str(SEED_004), "--out", str(target), "--root", str(root), process=True
    )
    assert result.returncode == 0, result.stderr
    assert (
        load(target)["version"]
        == "091495765fa5ef2725a175a57b276ec30dc9d39c22d30410f2ede68a3eab66b3"
    )
    generated = run_codegen("generate", "--root", str(root), process=True)
    assert generated.returncode == 0, generated.stderr
    module = root / "generated/replicate_typed/models/lucataco/flux_dev_lora.py"
    assert "le=100" in module.read_text(encoding="utf-8")


# --- synthetic edge cases ----------------------------------------------------------------------


def _export(
    properties: dict[str, Any], required: list[str], example: dict[str, Any], title: str
) -> str:
    body = {
        "type": "application/json",
        "jsonSchema": {
            "type": "object",
            "properties": {
                "version": {"type": "string"},
                "input": {"type": "object", "properties": properties, "required": required},
            },
        },
        "examples": [
            {"value": json.dumps({"version": "acme/thing:" + "b" * 64, "input": example})}
        ],
    }
    return f"{title}\nPOST /replicate/v1/predictions\n请求体\n{json.dumps(body, ensure_ascii=False)}\n响应\n[]\n"


def _published(tmp_path: Path) -> Path:
    specs = tmp_path / "specs"
    spec = {
        "model": "acme/thing",
        "call": "version",
        "version": "c" * 64,
        "openapi_schema": {
            "components": {
                "schemas": {
                    "Input": {
                        "type": "object",
                        "required": ["prompt"],
                        "properties": {
                            "prompt": {"type": "string"},
                            "steps": {
                                "type": "integer",
                                "default": 20,
                                "minimum": 1,
                                "maximum": 50,
                            },
                            "size": {
                                "allOf": [{"$ref": "#/components/schemas/size"}],
                                "default": 512,
                            },
                            "strength": {"type": "number", "default": 0.5},
                        },
                    },
                    "size": {"type": "integer", "enum": [512, 768, 1000]},
                    "Output": {"type": "string"},
                }
            }
        },
    }
    path = specs / "models/acme/thing/spec.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(spec), encoding="utf-8")
    return specs


def test_every_kind_of_disagreement_is_reported(tmp_path: Path) -> None:
    document = tmp_path / "doc.txt"
    document.write_text(
        _export(
            {
                "prompt": {"type": "string", "description": "提示"},
                "steps": {"type": "integer", "description": "默认值:30。最小值:0,最大值:50。"},
                "size": {"type": "integer", "description": "需要为 64 的倍数。默认值:512。"},
                "strength": {"type": "string", "description": "默认值:“0.5”"},
                "extra": {"type": "boolean"},
            },
            ["prompt", "steps"],
            {"prompt": "a cat", "steps": 0},
            "创建任务 acme/thing",
        ),
        encoding="utf-8",
    )
    result = apifox.import_apifox(document, specs_dir=_published(tmp_path))
    found = {(d.field, d.aspect): (d.apifox, d.published) for d in result.differences}
    assert found[("(version)", "version")] == ("b" * 64, "c" * 64)
    assert found[("steps", "required")] == ("required", "optional")
    assert found[("steps", "default")] == ("30", "20")
    assert found[("steps", "minimum")] == ("0", "1")
    assert ("steps", "maximum") not in found  # 50 agrees
    assert found[("size", "multipleOf")] == ("64", "enum [512, 768, 1000]")
    assert ("size", "default") not in found
    assert found[("strength", "type")] == ('"string"', '"number"')
    assert found[("extra", "presence")] == ("the field exists", "no such field")
    assert found[("size", "enum")] == ("no choices (any value)", "[512, 768, 1000]")
    assert found[("(output)", "type")] == ("nothing (no output schema)", "string")
    assert found[("(example 0)", "validity")][1].startswith("at /steps: 0 is less than the minimum")
    assert result.spec["examples"] == []  # the invalid example is not merged
    assert result.spec["version"] == "c" * 64  # the published schema stays the authority


@pytest.mark.parametrize(
    ("text", "model", "words"),
    [
        ("just some prose, no request at all", None, "no prediction request found"),
        (
            _export({"a": {"type": "string"}}, [], {"a": "x"}, "untitled").replace(
                "acme/thing:", ""
            ),
            None,
            "pass --model",
        ),
        ("请求体\n{not json", None, "not a valid JSON object"),
    ],
)
def test_unusable_documents_fail_clearly(
    tmp_path: Path, text: str, model: str | None, words: str
) -> None:
    document = tmp_path / "doc.txt"
    document.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        apifox.import_apifox(document, model=model, specs_dir=tmp_path / "none")
    assert words in info.value.rule
    assert str(document) in str(info.value)


def test_model_option_names_an_unnamed_document(tmp_path: Path) -> None:
    document = tmp_path / "doc.txt"
    document.write_text(
        _export(
            {"a": {"type": "string", "description": "默认值:“x”"}}, [], {"a": "y"}, "untitled"
        ).replace("acme/thing:", ""),
        encoding="utf-8",
    )
    result = apifox.import_apifox(document, model="acme/named", specs_dir=tmp_path / "none")
    assert result.spec["model"] == "acme/named"
    assert result.spec["version"] == "b" * 64
    assert (
        result.spec["openapi_schema"]["components"]["schemas"]["Input"]["properties"]["a"][
            "default"
        ]
        == "x"
    )


SEEDS = {
    SEED_000: "stability-ai/stable-diffusion",
    SEED_001: "stability-ai/stable-diffusion-img2img",
    SEED_002: "stability-ai/stable-diffusion-inpainting",
    SEED_003: "lucataco/flux-schnell-lora",
    SEED_004: "lucataco/flux-dev-lora",
}


@settings(max_examples=50, deadline=None)
@given(
    seed=st.sampled_from(sorted(SEEDS)),
    cut=st.floats(min_value=0.3, max_value=1),
    drop=st.sets(st.integers(min_value=0, max_value=80), max_size=6),
    junk=st.text(max_size=30),
    which=st.sampled_from(["none", "own", "other"]),
    published=st.booleans(),
)
def test_damaged_documents_never_crash(
    tmp_path_factory: pytest.TempPathFactory,
    seed: Path,
    cut: float,
    drop: set[int],
    junk: str,
    which: str,
    published: bool,
) -> None:
    """A truncated or mangled export is imported or refused with a SpecError, nothing else."""
    lines = seed.read_text(encoding="utf-8").splitlines()
    kept = [line for index, line in enumerate(lines) if index not in drop]
    text = "\n".join(kept)
    text = text[: int(len(text) * cut)] + junk
    folder = tmp_path_factory.mktemp("damaged")
    document = folder / "doc.txt"
    document.write_text(text, encoding="utf-8")
    model = {"none": None, "own": SEEDS[seed], "other": "acme/damaged"}[which]
    try:
        result = apifox.import_apifox(
            document, model=model, specs_dir=SPECS if published else folder / "specs"
        )
    except SpecError as exc:
        assert str(exc).startswith(str(document)) or "spec.json" in str(exc)
    else:
        validate_spec_data(document, result.spec)


@pytest.mark.parametrize(
    ("body", "pointer", "words"),
    [
        ('{"jsonSchema": []}', "/jsonSchema/properties/input", "has no input"),
        (
            '{"jsonSchema": {"properties": {"input": {"properties": {"a": "str"}}}}}',
            "/jsonSchema/properties/input/properties/a",
            "field 'a' is not a schema object",
        ),
        (
            '{"jsonSchema": {"properties": {"input": {"properties": {}, "required": "a"}}}}',
            "/jsonSchema/properties/input/required",
            "required must be a list of field names",
        ),
        ("[1, 2]", "/", "not a valid JSON object"),
    ],
)
def test_malformed_request_bodies_name_the_place(
    tmp_path: Path, body: str, pointer: str, words: str
) -> None:
    document = tmp_path / "doc.txt"
    document.write_text(f"创建任务 acme/x\n请求体\n{body}\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        apifox.import_apifox(document, specs_dir=tmp_path / "none")
    assert (info.value.pointer or "/") == pointer
    assert words in info.value.rule
