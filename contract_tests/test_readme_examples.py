"""Every ``python`` code block of the README runs, in order, against the built-in mock server.

The blocks share one namespace, as a reader's session would: names defined in one block are used
in the next. Environment: ``REPLICATE_API_TOKEN`` / ``REPLICATE_BASE_URL`` point at a mock server,
the working folder is a temporary one holding ``cat.jpg``. Top-level ``await`` is allowed.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract_tests.conftest import ROOT
from replicate_typed.mock import MockServer

TOKEN = "r8_readme_examples_0123"
README = ROOT / "README.md"
# a real, tiny JPEG (1x1), so "cat.jpg" is what its name says
CAT_JPG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c"
    "1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc000"
    "0b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400"
    "b5100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c1"
    "1552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a63"
    "6465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6"
    "b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008"
    "010100003f00fbfcffd9"
)


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, code) of every fenced ``python`` block."""
    return [
        (text[: m.start()].count("\n") + 2, m.group(1))
        for m in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M)
    ]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(api_tokens=(TOKEN,), default_timing=(0.01, 0.03)) as running:
        yield running


def test_the_readme_has_python_examples() -> None:
    assert len(python_blocks(README.read_text(encoding="utf-8"))) >= 5


def test_every_readme_example_runs(
    server: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    monkeypatch.setenv("REPLICATE_BASE_URL", server.url + "/replicate")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cat.jpg").write_bytes(CAT_JPG)
    namespace: dict[str, object] = {"__name__": "readme"}
    for line, code in python_blocks(README.read_text(encoding="utf-8")):
        source = "\n" * (line - 1) + code  # tracebacks point at README lines
        compiled = compile(
            source, str(README), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
        )
        try:
            result = eval(compiled, namespace)  # noqa: S307 - the README is ours
            if inspect.iscoroutine(result):
                asyncio.run(result)
        except Exception as exc:
            pytest.fail(f"README.md block at line {line} failed: {type(exc).__name__}: {exc}")
