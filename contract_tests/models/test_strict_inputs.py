"""An ``Input`` accepts exactly the values its schema accepts, and never sends a null the schema
refuses -- through the real client on every path (create, run, async, batch, CLI).

Before: pydantic's lax mode turned "7" into 7, True into 1.0, "true"/1 into True; Literal[1, 2]
took True as 1; ``Input(seed=None)`` went over the wire as ``"seed": null`` through
``Client.create``/``run`` (``request_values`` skipped the None-means-unset rule).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
import respx
from pydantic import ValidationError
from typer.testing import CliRunner

from codegen.schema_checks import validator_for
from contract_tests.models._generated import cog_spec, generated_module
from replicate_typed.batch import run_many
from replicate_typed.client import AsyncClient, Client
from replicate_typed.models import registry
from replicate_typed.models.stability_ai import sdxl

TOKEN = "r8_STRICTtoken_0123456789abcdefSECRET"
BASE = "https://router.example.test/replicate"
PID = "strict0prediction0id0000001"
OUT = "https://delivery.example.test/out-0.png"
SDXL_SCHEMA = sdxl.INPUT_SCHEMA

# (field, value): values pydantic's lax mode converted; the schema refuses every one of them.
CONVERTIBLE = [
    ("width", "7"),
    ("width", True),
    ("width", 7.5),
    ("num_outputs", "2"),
    ("guidance_scale", "7.5"),
    ("guidance_scale", True),
    ("apply_watermark", "true"),
    ("apply_watermark", 1),
    ("apply_watermark", 0),
    ("apply_watermark", "false"),
    ("prompt", 7),
    ("prompt", True),
    ("seed", "42"),
    ("seed", 42.5),
]


@pytest.mark.parametrize(("field", "value"), CONVERTIBLE)
def test_no_lax_conversion(field: str, value: Any) -> None:
    assert not validator_for(SDXL_SCHEMA).is_valid({field: value})
    with pytest.raises(ValidationError) as info:
        sdxl.Input.model_validate({field: value})
    assert info.value.errors()[0]["loc"] == (field,)


@pytest.mark.parametrize(
    ("field", "value", "sent"),
    [
        ("guidance_scale", 7, 7.0),  # an integer is a number
        ("width", 1024.0, 1024),  # an integral float is the integer JSON Schema says it is
        ("seed", 3.0, 3),
        ("apply_watermark", False, False),
    ],
)
def test_what_the_schema_accepts_is_accepted(field: str, value: Any, sent: Any) -> None:
    assert validator_for(SDXL_SCHEMA).is_valid({field: value})
    wire = sdxl.Input.model_validate({field: value}).to_request_input()
    assert wire == {field: sent} and type(wire[field]) is type(sent)
    assert validator_for(SDXL_SCHEMA).is_valid(wire)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinities_are_refused(value: float) -> None:
    """JSON cannot carry them (pydantic would send NaN as null, infinities as Infinity)."""
    module = generated_module(cog_spec({"scale": {"type": "number"}}))
    with pytest.raises(ValidationError, match="scale"):
        module.Input(scale=value)


def test_assignment_is_as_strict_as_construction() -> None:
    value = sdxl.Input()
    with pytest.raises(ValidationError):
        value.width = "7"  # type: ignore[assignment]


def test_an_integer_enum_refuses_booleans_at_any_depth() -> None:
    module = generated_module(
        cog_spec(
            {
                "mode": {"type": "integer", "enum": [1, 2]},
                "modes": {"type": "array", "items": {"type": "integer", "enum": [0, 1]}},
                "either": {"enum": [1, True]},
            }
        )
    )
    validator = validator_for(module.INPUT_SCHEMA)
    refused: list[dict[str, Any]] = [
        {"mode": True},
        {"mode": False},
        {"modes": [0, True]},
        {"either": False},
        {"either": 1.5},
    ]
    for given in refused:
        assert not validator.is_valid(given)
        with pytest.raises(ValidationError):
            module.Input.model_validate(given)
    accepted: list[tuple[dict[str, Any], dict[str, Any]]] = [
        ({"mode": 1}, {"mode": 1}),
        ({"mode": 2.0}, {"mode": 2}),
        ({"modes": [0, 1]}, {"modes": [0, 1]}),
        ({"either": True}, {"either": True}),
        ({"either": 1}, {"either": 1}),
        ({"either": 1.0}, {"either": 1}),  # the number 1, not true
    ]
    for given, sent in accepted:
        assert validator.is_valid(given)
        wire = module.Input.model_validate(given).to_request_input()
        assert wire == sent and [type(v) for v in wire.values()] == [type(v) for v in sent.values()]


def test_nested_objects_are_strict_and_refuse_unknown_keys() -> None:
    module = generated_module(
        cog_spec(
            {
                "box": {
                    "type": "object",
                    "properties": {"w": {"type": "integer"}, "label": {"type": "string"}},
                },
                "free": {
                    "type": "object",
                    "properties": {"w": {"type": "integer"}},
                    "additionalProperties": True,
                },
            }
        )
    )
    with pytest.raises(ValidationError, match="box.w"):
        module.Input.model_validate({"box": {"w": "7"}})
    with pytest.raises(ValidationError, match="box.lable"):  # typo protection, documented
        module.Input.model_validate({"box": {"w": 7, "lable": "x"}})
    sent = module.Input.model_validate({"free": {"w": 7, "extra": "kept"}}).to_request_input()
    assert sent == {"free": {"w": 7, "extra": "kept"}}


# --- None means "not set": never sent where the schema refuses null -------------------------------


def _nullable_module() -> Any:
    return generated_module(
        cog_spec(
            {
                "prompt": {"type": "string"},
                "seed": {"type": "integer"},
                "note": {"type": "string", "nullable": True},
                "tags": {"type": "array", "items": {"type": "string"}},
                "box": {"$ref": "#/components/schemas/Box"},
            },
            required=["prompt"],
            others={
                "Box": {
                    "type": "object",
                    "properties": {"w": {"type": "integer"}, "h": {"type": "integer"}},
                }
            },
            model="acme/nulls",
        )
    )


def test_none_is_left_out_at_any_depth_and_kept_where_null_is_allowed() -> None:
    module = _nullable_module()
    value = module.Input(prompt="x", seed=None, note=None, tags=None, box={"w": 1, "h": None})
    expected = {"prompt": "x", "note": None, "box": {"w": 1}}
    assert value.to_request_input() == expected
    assert value.request_values() == expected
    assert validator_for(module.INPUT_SCHEMA).is_valid(expected)


def _created(status: str = "succeeded", model: str = "stability-ai/sdxl") -> dict[str, Any]:
    return {
        "id": PID,
        "model": model,
        "version": sdxl.MODEL.version,
        "input": {},
        "logs": "",
        "output": [OUT] if status == "succeeded" else None,
        "error": None,
        "data_removed": False,
        "status": status,
        "created_at": "2025-01-15T10:03:39.896Z",
        "urls": {"get": f"{BASE}/v1/predictions/{PID}", "cancel": f"{BASE}/v1/predictions/{PID}/cancel"},
    }  # fmt: skip


def _sent_input(route: respx.Route) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(route.calls.last.request.content)["input"]
    return value


def test_explicit_none_is_not_sent_by_create_and_run(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(f"{BASE}/v1/predictions").respond(201, json=_created())
    with Client(api_token=TOKEN, base_url=BASE) as client:
        client.create(sdxl.Input(prompt="x", seed=None, refine_steps=None))
        assert _sent_input(route) == {"prompt": "x"}
        output = client.run(sdxl.Input(prompt="y", seed=None, width=512))
        assert _sent_input(route) == {"prompt": "y", "width": 512}
        assert output == [OUT]
        client.predictions.create(
            version=sdxl.MODEL.version or "", input=sdxl.Input(prompt="z", seed=None)
        )
        assert _sent_input(route) == {"prompt": "z"}


async def test_explicit_none_is_not_sent_by_the_async_client(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.post(f"{BASE}/v1/predictions").respond(201, json=_created())
    async with AsyncClient(api_token=TOKEN, base_url=BASE) as client:
        await client.create(sdxl.Input(prompt="x", seed=None))
        assert _sent_input(route) == {"prompt": "x"}
        await client.run(sdxl.Input(prompt="y", refine_steps=None))
        assert _sent_input(route) == {"prompt": "y"}


def test_explicit_none_is_not_sent_by_a_batch(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(f"{BASE}/v1/predictions").respond(201, json=_created())
    respx_mock.get(f"{BASE}/v1/predictions").respond(200, json={"results": [], "next": None})
    respx_mock.get(f"{BASE}/v1/predictions/{PID}").respond(200, json=_created())
    with Client(api_token=TOKEN, base_url=BASE) as client:
        report = run_many(
            client,
            [{"prompt": "from a JSONL line", "seed": None}],
            model="stability-ai/sdxl",
            download=False,
            creates_per_minute=None,
            reads_per_minute=None,
        )
    assert report.ok, [r.describe() for r in report.failures]
    assert _sent_input(route) == {"prompt": "from a JSONL line"}


def test_explicit_null_is_not_sent_by_the_cli(
    respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """``--tags null`` (a JSON option) on a model whose ``tags`` accepts no null."""
    from replicate_typed.cli.app import app

    module = _nullable_module()
    real = registry.get_model
    monkeypatch.setattr(
        registry, "get_model", lambda ref: module.MODEL if ref == "acme/nulls" else real(ref)
    )
    route = respx_mock.post(f"{BASE}/v1/models/acme/nulls/predictions").respond(
        201, json={**_created(model="acme/nulls"), "output": "done"}
    )
    result = CliRunner().invoke(
        app,
        ["run", "acme/nulls", "--prompt", "x", "--tags", "null", "--box", '{"w": 2, "h": null}',
         "--out", str(tmp_path)],
        env={"REPLICATE_API_TOKEN": TOKEN, "REPLICATE_BASE_URL": BASE},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert _sent_input(route) == {"prompt": "x", "box": {"w": 2}}


def test_the_request_body_is_valid_against_the_schema(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(f"{BASE}/v1/predictions").respond(201, json=_created())
    with Client(api_token=TOKEN, base_url=BASE) as client:
        client.create(sdxl.Input(prompt="x", seed=None, guidance_scale=7, width=640.0))
    sent = _sent_input(route)
    assert sent == {"prompt": "x", "guidance_scale": 7.0, "width": 640}
    assert validator_for(SDXL_SCHEMA).is_valid(sent)


@pytest.mark.parametrize(
    "prop",
    [
        {"type": "string", "format": "password", "x-cog-secret": True, "nullable": True},
        {"type": "string", "format": "uri", "nullable": True},
    ],
    ids=["secret", "uri"],
)
def test_a_required_nullable_file_or_secret_takes_null(prop: dict[str, Any]) -> None:
    """Found by the agreement property test: the custom type replaced the whole annotation,
    `Secret` instead of `Secret | None`, refusing the null the schema allows."""
    module = generated_module(cog_spec({"a": prop}, required=["a"]))
    assert validator_for(module.INPUT_SCHEMA).is_valid({"a": None})
    assert module.Input.model_validate({"a": None}).to_request_input() == {"a": None}
    with pytest.raises(ValidationError, match="Field required"):
        module.Input.model_validate({})
