"""Every generated model's usage example runs, as written in its docstring, against the mock."""

from __future__ import annotations

import importlib
import re
import textwrap
from collections.abc import Iterator

import pytest

from replicate_typed.mock import MockServer
from replicate_typed.models import MODULES

TOKEN = "r8_docstring_examples_0123"


def usage_example(module_name: str) -> str:
    doc = importlib.import_module(module_name).__doc__ or ""
    match = re.search(r"Usage::\n\n((?:    .*\n|\n)+)", doc)
    assert match is not None, f"{module_name}: no 'Usage::' block in the docstring"
    return textwrap.dedent(match.group(1))


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(api_tokens=(TOKEN,), default_timing=(0.01, 0.03)) as running:
        yield running


@pytest.mark.parametrize("ref", sorted(MODULES))
def test_the_usage_example_runs(
    ref: str, server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = usage_example(MODULES[ref])
    assert "from replicate_typed import Client" in code
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    monkeypatch.setenv("REPLICATE_BASE_URL", server.url + "/replicate")
    before = server.backend.stats()["creates"]
    namespace: dict[str, object] = {}
    exec(compile(code, f"<{ref} docstring>", "exec"), namespace)  # noqa: S102 - our own docstring
    assert namespace["output"] is not None
    assert server.backend.stats()["creates"] == before + 1
