"""Every code block of the README and of docs/ is run, or marked illustrative by an explicit rule.

The rule is the fenced block's language (tested below: a block of any other language, or with
none, fails):

* ``python`` -- run, against the built-in mock server. The blocks of one page share a namespace
  and run in order, as a reader's session would (names defined in one block are used in the
  next); top-level ``await`` is allowed. Environment: ``REPLICATE_API_TOKEN`` /
  ``REPLICATE_BASE_URL`` point at the mock, the working folder is a temporary one holding
  ``cat.jpg``.
* ``console`` -- run: every ``$ `` line (with its ``\\`` continuations) is a command, and only two
  commands may appear: ``replicate-typed ...`` (run in-process against the mock) and ``curl ...``
  (run by bash with the same environment: it must exit 0 and print a prediction).
* :data:`ILLUSTRATIVE` -- shown, not run here; each language says why.

Indented (unfenced) blocks are illustrative too: they hold shell lines that need another machine
(a real token, a wheel, a long benchmark).
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import os
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contract_tests.conftest import ROOT
from replicate_typed.mock import MockServer

TOKEN = "r8_readme_examples_0123"
README = ROOT / "README.md"
DOCS = ROOT / "docs"
RUN = ("python", "console")
ILLUSTRATIVE = {
    "py": "a file of the reader's own project (contract_tests/test_user_project.py runs them)",
    "toml": "configuration (pyproject.toml tables; the user-project test uses them)",
    "yaml": "a workflow or hook file (linted and run step by step by the drift-CI tests)",
    "sh": "shell lines for another machine (a token, a wheel, a long benchmark)",
    "text": "output or formats, not code",
    "json": "data",
}
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
FENCE = re.compile(
    r"^(?P<indent> *)```(?P<lang>[^\n`]*)\n(?P<code>.*?)^(?P=indent)```", re.S | re.M
)


def pages() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def page_id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def blocks(text: str) -> list[tuple[str, int, str]]:
    """(language, first line number, code) of every fenced block."""
    return [
        (m.group("lang").strip(), text[: m.start("code")].count("\n") + 1, m.group("code"))
        for m in FENCE.finditer(text)
    ]


def commands(code: str) -> list[str]:
    """The ``$ `` commands of a console block, continuation lines joined."""
    out: list[str] = []
    current: str | None = None
    for line in code.splitlines():
        if current is not None:
            current += " " + line.strip()
        elif line.startswith("$ "):
            current = line[2:]
        else:
            continue
        if current.endswith("\\"):
            current = current[:-1].rstrip()
        else:
            out.append(current)
            current = None
    assert current is None, f"unfinished command: {current!r}"
    return out


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(api_tokens=(TOKEN,), default_timing=(0.01, 0.03)) as running:
        yield running


@pytest.fixture
def reader(server: MockServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A reader's shell: the environment of the rule above, in a fresh folder."""
    env = {"REPLICATE_API_TOKEN": TOKEN, "REPLICATE_BASE_URL": server.url + "/replicate"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cat.jpg").write_bytes(CAT_JPG)
    return env


def test_the_rule_covers_every_block() -> None:
    unknown = [
        f"{page_id(page)}:{line}: ```{lang or '(no language)'}"
        for page in pages()
        for lang, line, _ in blocks(page.read_text(encoding="utf-8"))
        if lang not in RUN and lang not in ILLUSTRATIVE
    ]
    assert not unknown, f"blocks neither run nor marked illustrative: {unknown}"


def test_console_blocks_hold_only_commands_that_run_here() -> None:
    for page in pages():
        for lang, line, code in blocks(page.read_text(encoding="utf-8")):
            if lang != "console":
                continue
            found = commands(code)
            assert found, f"{page_id(page)}:{line}: a console block without a `$ ` command"
            for command in found:
                assert shlex.split(command)[0] in ("replicate-typed", "curl"), (
                    f"{page_id(page)}:{line}: {command!r}: only replicate-typed and curl run "
                    "here; show other shell lines as ```sh"
                )


def test_the_rule_tells_apart_what_it_should() -> None:
    text = "```python\nx = 1\n```\n\n    ```toml\n    a = 1\n    ```\n```console\n$ curl a \\\n  b\n```\n"
    assert [(lang, line) for lang, line, _ in blocks(text)] == [
        ("python", 2),
        ("toml", 6),
        ("console", 9),
    ]
    assert commands("$ curl a \\\n  -d 'x'\n$ replicate-typed models\noutput\n") == [
        "curl a -d 'x'",
        "replicate-typed models",
    ]


def test_the_readme_and_the_docs_have_examples() -> None:
    readme = [b for b in blocks(README.read_text(encoding="utf-8")) if b[0] == "python"]
    assert len(readme) >= 2
    ran = [p for p in pages() if any(b[0] in RUN for b in blocks(p.read_text(encoding="utf-8")))]
    assert len(ran) >= 8, [page_id(p) for p in ran]


def _with_python() -> list[Path]:
    return [p for p in pages() if any(b[0] == "python" for b in blocks(p.read_text("utf-8")))]


def _with_console() -> list[Path]:
    return [p for p in pages() if any(b[0] == "console" for b in blocks(p.read_text("utf-8")))]


@pytest.mark.parametrize("page", _with_python(), ids=page_id)
def test_every_python_block_runs(page: Path, reader: dict[str, str]) -> None:
    namespace: dict[str, object] = {"__name__": "docs"}
    for lang, line, code in blocks(page.read_text(encoding="utf-8")):
        if lang != "python":
            continue
        source = "\n" * (line - 1) + code  # tracebacks point at the page's lines
        compiled = compile(
            source, str(page), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True
        )
        try:
            result = eval(compiled, namespace)  # noqa: S307 - our own documentation
            if inspect.iscoroutine(result):
                asyncio.run(result)
        except Exception as exc:
            pytest.fail(f"{page_id(page)} block at line {line} failed: {type(exc).__name__}: {exc}")


def run_command(command: str, env: dict[str, str]) -> None:
    args = shlex.split(command)
    if args[0] == "replicate-typed":
        from replicate_typed.cli.app import app

        result = CliRunner().invoke(app, args[1:], env={**env, "REPLICATE_TYPED_DEBUG": None})
        assert result.exit_code == 0, f"{command}: exit {result.exit_code}: {result.output}"
        return
    done = subprocess.run(
        ["bash", "-c", command],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, f"{command}: exit {done.returncode}: {done.stderr}"
    answer = json.loads(done.stdout)
    assert isinstance(answer, dict) and answer.get("id"), done.stdout
    assert answer.get("status") == "succeeded", done.stdout  # Prefer: wait held it to the end


@pytest.mark.parametrize("page", _with_console(), ids=page_id)
def test_every_console_command_runs(page: Path, reader: dict[str, str]) -> None:
    for lang, line, code in blocks(page.read_text(encoding="utf-8")):
        if lang == "console":
            for command in commands(code):
                try:
                    run_command(command, reader)
                except AssertionError as exc:
                    pytest.fail(f"{page_id(page)} block at line {line}: {exc}")
