"""``replicate-typed mcp`` against the mock's router profile (only create and get exist, answers
shaped like the router's): model calls work, what the router lacks is a clear tool error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from replicate_typed.mock import MockServer
from replicate_typed.models import registry

from .conftest import TOKEN, all_text, backend, env_for, sample_input, text_of
from .harness import McpHarness


@pytest.fixture(scope="module")
def router_mcp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MockServer, McpHarness]]:
    server = MockServer(backend=backend(profile="router"))
    server.start()
    errlog = tmp_path_factory.mktemp("mcp-router") / "stderr.txt"
    harness = McpHarness(["--models", "black-forest-labs/flux-schnell,stability-ai/sdxl"],
                         env_for(server.url + "/replicate"), errlog=errlog)  # fmt: skip
    try:
        harness.start()
        yield server, harness
    finally:
        harness.close()
        server.stop()


def test_models_run_through_a_router(router_mcp: tuple[MockServer, McpHarness]) -> None:
    server, mcp = router_mcp
    tools = {t.name for t in mcp.run(lambda s: s.list_tools()).tools}
    assert {"black-forest-labs__flux-schnell", "stability-ai__sdxl"} <= tools
    assert "cjwbw__rembg" not in tools  # --models chose two
    for ref in ("black-forest-labs/flux-schnell", "stability-ai/sdxl"):
        result = mcp.call(ref.replace("/", "__"), sample_input(registry.get_model(ref)))
        assert not result.is_error, text_of(result)
        assert result.structured_content["status"] == "succeeded"
        got = mcp.call("predictions_get", {"id": result.structured_content["id"]})
        assert not got.is_error, text_of(got)
    operations = server.backend.stats()["operations"]
    assert operations["predictions.create"] == 1 and operations["models.predictions.create"] == 1


def test_what_a_router_lacks_is_a_tool_error(router_mcp: tuple[MockServer, McpHarness]) -> None:
    _, mcp = router_mcp
    listed = mcp.call("predictions_list", {"limit": 3})
    assert listed.is_error and "404" in text_of(listed)
    # a built-in model this server does not offer: its schema from the package, no request
    other = mcp.call("models_get", {"model": "cjwbw/rembg"})
    assert not other.is_error and other.structured_content["tool"] is None
    assert (
        other.structured_content["input_schema"] == registry.get_model("cjwbw/rembg").input_schema
    )
    unknown = mcp.call("models_get", {"model": "nobody/nothing"})
    assert unknown.is_error and "404" in text_of(unknown)
    assert TOKEN not in all_text(listed) and TOKEN not in mcp.stderr()
