"""``replicate-typed mcp`` over stdio, driven by the SDK's own client against the mock: the tool
list, one call per model, refusals that send nothing, progress, cancellation, the generic tools."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from replicate_typed.mcp.names import TOOL_NAME, tool_name
from replicate_typed.mock import MockBackend, MockServer
from replicate_typed.models import registry

from .conftest import TOKEN, all_text, backend, sample_input, text_of
from .harness import McpHarness

GENERIC = {"predictions_get", "predictions_list", "predictions_cancel", "models_get"}


@pytest.fixture(scope="module")
def tools(mcp_server: McpHarness) -> dict[str, Any]:
    listed = mcp_server.run(lambda s: s.list_tools())
    return {tool.name: tool for tool in listed.tools}


def test_every_built_in_model_is_a_tool_with_valid_schemas(tools: dict[str, Any]) -> None:
    expected = {tool_name(ref): ref for ref in registry}
    assert set(tools) == set(expected) | GENERIC
    for name, tool in tools.items():
        assert TOOL_NAME.match(name), name
        Draft202012Validator.check_schema(tool.input_schema)
        assert tool.input_schema["type"] == "object"
        if name in GENERIC:
            continue
        info = registry.get_model(expected[name])
        assert tool.title == info.ref
        # the model's own schema: every property with its description, default, enum, range
        assert tool.input_schema["properties"] == info.input_schema["properties"]
        assert tool.input_schema.get("$defs") == info.input_schema.get("$defs")
        assert tool.input_schema.get("required", []) == info.input_schema.get("required", [])
        assert tool.input_schema["additionalProperties"] is False
        Draft202012Validator.check_schema(tool.output_schema)
        output = dict(info.output_schema)
        defs = output.pop("$defs", None)
        assert tool.output_schema["properties"]["output"] == output
        assert tool.output_schema.get("$defs") == defs
        assert info.ref in tool.description


def test_tool_names_are_stable_unique_and_valid() -> None:
    assert tool_name("stability-ai/sdxl") == "stability-ai__sdxl"
    odd = ["a.b/c", "a_b/c", "a/b.c", "a/b_c", "x" * 40 + "/" + "y" * 40]
    names = [tool_name(ref) for ref in odd]
    assert len(set(names)) == len(names)
    assert all(TOOL_NAME.match(n) for n in names)
    assert names == [tool_name(ref) for ref in odd]  # depends on the reference alone


@pytest.mark.parametrize("ref", sorted(registry))
def test_one_call_per_model(ref: str, mcp_server: McpHarness, fresh: MockBackend) -> None:
    info = registry.get_model(ref)
    result = mcp_server.call(tool_name(ref), sample_input(info))
    assert not result.is_error, text_of(result)
    structured = result.structured_content
    stats = fresh.stats()
    assert stats["creates"] == 1 and stats["statuses"] == {"succeeded": 1}
    pid = structured["id"]
    assert structured["status"] == "succeeded"
    assert structured["model"] == ref
    info.parse_output(structured["output"])  # the model's own output type
    outputs = (
        structured["output"] if isinstance(structured["output"], list) else [structured["output"]]
    )
    links = [block.uri for block in result.content if block.type == "resource_link"]
    assert [str(u) for u in links] == [o for o in outputs if not o.startswith("data:")]
    assert pid in text_of(result)


@pytest.mark.parametrize(
    ("removed", "error", "says"),
    [
        (False, "NoOutputError", "succeeded but produced no output"),
        (True, "OutputRemovedError", "its output was removed"),
    ],
    ids=["null", "removed"],
)
def test_a_success_without_output_is_a_tool_error_as_in_run(
    mcp_server: McpHarness,
    mock_server: MockServer,
    swapped: list[MockBackend],
    monkeypatch: pytest.MonkeyPatch,
    removed: bool,
    error: str,
    says: str,
) -> None:
    """The client's one rule for a success's output (``client.outputs.succeeded_output``):
    ``output: null`` where the model's type needs a value is ``NoOutputError``, with
    ``data_removed`` ``OutputRemovedError``, in ``run()`` and in a tool call alike."""
    from replicate_typed import AsyncClient
    from replicate_typed.client import errors
    from replicate_typed.models.stability_ai import sdxl

    mock = backend(output_ttl=0.0) if removed else backend()
    if not removed:  # the mock answers a success with ``output: null``
        monkeypatch.setattr(mock._lifecycle, "output", lambda *args: None)
    swapped.append(mock)
    result = mcp_server.call(tool_name("stability-ai/sdxl"), {"prompt": "x", "width": 64})
    assert result.is_error, text_of(result)
    pid = result.structured_content["id"]
    assert result.structured_content["status"] == "succeeded"
    assert f"{error}: " in text_of(result) and says in text_of(result) and pid in text_of(result)
    assert mock.stats()["creates"] == 1

    async def in_run() -> BaseException:
        base = mock_server.url + "/replicate"
        async with AsyncClient(api_token=TOKEN, base_url=base) as client:
            with pytest.raises((errors.OutputValidationError, errors.OutputRemovedError)) as caught:
                await client.run(sdxl.Input(prompt="x", width=64))
        return caught.value

    assert type(asyncio.run(in_run())).__name__ == error


def test_images_come_inline_and_bounded(mcp_server: McpHarness, fresh: MockBackend) -> None:
    result = mcp_server.call(
        "black-forest-labs__flux-schnell",
        {"prompt": "a fox", "num_outputs": 2, "output_format": "png"},
    )
    assert not result.is_error, text_of(result)
    images = [block for block in result.content if block.type == "image"]
    assert len(images) == 2 and all(i.mime_type == "image/png" for i in images)
    import base64

    assert all(base64.b64decode(i.data).startswith(b"\x89PNG") for i in images)


@pytest.mark.parametrize(
    ("arguments", "field", "rule"),
    [
        ({"prompt": "x", "num_outputs": 9}, "num_outputs", "less_than_equal"),
        ({"prompt": "x", "megapixels": "2"}, "megapixels", "literal_error"),
        ({"prompt": "x", "surprise": 1}, "surprise", "extra_forbidden"),
        ({}, "prompt", "missing"),
        ({"prompt": 5}, "prompt", "string_type"),
    ],
)
def test_an_invalid_call_is_refused_and_nothing_is_sent(
    arguments: dict[str, Any], field: str, rule: str, mcp_server: McpHarness, fresh: MockBackend
) -> None:
    result = mcp_server.call("black-forest-labs__flux-schnell", arguments)
    assert result.is_error
    text = text_of(result)
    assert f"- {field}:" in text and f"rule: {rule}" in text and "nothing was sent" in text
    stats = fresh.stats()
    assert stats["creates"] == 0 and not stats["operations"], stats


def test_a_local_path_is_not_a_file_input(mcp_server: McpHarness, fresh: MockBackend) -> None:
    # an agent cannot make the server read (and upload) a file of the machine it runs on
    result = mcp_server.call("cjwbw__rembg", {"image": "/etc/passwd"})
    assert result.is_error and "- image:" in text_of(result)
    assert fresh.stats()["creates"] == 0 and fresh.stats()["uploads"] == 0


def test_progress_notifications_follow_the_logs(
    mcp_server: McpHarness, swapped: list[MockBackend]
) -> None:
    swapped.append(backend(default_timing=(0.0, 0.8)))  # time for several lines of logs
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    result = mcp_server.run(
        lambda s: s.call_tool(
            "stability-ai__sdxl", {"prompt": "a fox"}, progress_callback=on_progress
        )
    )
    assert not result.is_error, text_of(result)
    values = [p for p, _, _ in seen]
    assert len(values) >= 3, seen
    assert values == sorted(set(values)), "progress must only grow"
    assert values[-1] == 100.0 and all(total == 100.0 for _, total, _ in seen)
    assert any(m and "/" in m for _, _, m in seen), seen  # "processing: 3/10" from the bar


def test_cancelling_the_call_cancels_the_prediction(
    mcp_server: McpHarness, mock_server: MockServer
) -> None:
    from .conftest import backend

    slow = backend(default_timing=(0.0, 60.0))
    old = mock_server.swap(slow)
    try:
        started = asyncio.Event()

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            started.set()

        async def call_then_cancel(session: Any) -> None:
            task = asyncio.ensure_future(
                session.call_tool(
                    "stability-ai__sdxl", {"prompt": "x"}, progress_callback=on_progress
                )
            )
            await asyncio.wait_for(started.wait(), 20)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        mcp_server.run(call_then_cancel)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            stats = slow.stats()
            if stats["statuses"].get("canceled"):
                break
            time.sleep(0.05)
        assert stats["creates"] == 1
        assert stats["statuses"] == {"canceled": 1}, stats
        assert stats["operations"].get("predictions.cancel", 0) >= 1
        # the server goes on serving
        assert not mcp_server.call("predictions_list", {"limit": 1}).is_error
    finally:
        mock_server.swap(old)
        slow.close()


def test_generic_tools(mcp_server: McpHarness, fresh: MockBackend) -> None:
    done = mcp_server.call("cjwbw__rembg", {"image": "https://example.com/cat.png"})
    pid = done.structured_content["id"]
    got = mcp_server.call("predictions_get", {"id": pid})
    assert not got.is_error and got.structured_content["id"] == pid
    assert got.structured_content["status"] == "succeeded"
    assert [b.type for b in got.content].count("resource_link") == 1
    listed = mcp_server.call("predictions_list", {"limit": 5})
    assert [p["id"] for p in listed.structured_content["predictions"]] == [pid]
    canceled = mcp_server.call("predictions_cancel", {"id": pid})
    assert not canceled.is_error and canceled.structured_content["status"] == "succeeded"
    model = mcp_server.call("models_get", {"model": "stability-ai/sdxl"})
    assert model.structured_content["tool"] == "stability-ai__sdxl"
    assert (
        model.structured_content["input_schema"]
        == registry.get_model("stability-ai/sdxl").input_schema
    )
    missing = mcp_server.call("predictions_get", {"id": "no-such-prediction"})
    assert missing.is_error and "no-such-prediction" in text_of(missing)
    bad = mcp_server.call("predictions_get", {"id": "../etc"})
    assert bad.is_error and "- id:" in text_of(bad)
    unknown = mcp_server.call("no_such_tool", {})
    assert unknown.is_error


def test_the_token_never_appears(mcp_server: McpHarness, fresh: MockBackend) -> None:
    results = [
        mcp_server.call("cjwbw__rembg", {"image": "https://example.com/cat.png"}),
        mcp_server.call("predictions_get", {"id": "missing"}),
        mcp_server.call("black-forest-labs__flux-schnell", {"prompt": TOKEN, "num_outputs": 0}),
    ]
    for result in results:
        assert TOKEN not in all_text(result)
    assert TOKEN not in mcp_server.stderr()


def test_cancelled_while_its_create_is_in_flight(
    mcp_server: McpHarness, mock_server: MockServer
) -> None:
    from replicate_typed.mock.config import FaultConfig

    from .conftest import backend

    slow = backend(default_timing=(0.0, 60.0), faults=FaultConfig(slow_seconds=1.5))
    slow.inject("predictions.create", "slow")
    old = mock_server.swap(slow)
    try:

        async def call_then_cancel(session: Any) -> None:
            task = asyncio.ensure_future(session.call_tool("stability-ai__sdxl", {"prompt": "x"}))
            for _ in range(400):  # the mock has created it; its answer is 1.5 s away
                if slow.stats()["creates"]:
                    break
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        mcp_server.run(call_then_cancel)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not slow.stats()["statuses"].get("canceled"):
            time.sleep(0.05)
        stats = slow.stats()
        assert stats["creates"] == 1 and stats["statuses"] == {"canceled": 1}, stats
    finally:
        mock_server.swap(old)
        slow.close()
