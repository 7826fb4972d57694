"""Verify before writing: code that does not lint, import or type-check never replaces the package.

The generator is made to emit one broken module (a defect injected into the rendered text of
cjwbw/rembg); ``write`` must then raise a spec error naming the spec file, a JSON pointer and
the rule, and leave every file of the committed package as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codegen import generate as gen
from codegen.errors import SpecErrors
from contract_tests.codegen._repo import copy_repo, spec_file

REF = "cjwbw/rembg"
IMAGE = "/openapi_schema/components/schemas/Input/properties/image"


def _snapshot(root: Path) -> dict[str, bytes]:
    project = gen.Paths(root)
    return {rel: (project.root / rel).read_bytes() for rel in gen.owned_files(project)}


def _inject(monkeypatch: pytest.MonkeyPatch, change: Callable[[str], str]) -> None:
    real = gen.render_model

    def broken(env: Any, spec: Any, settings: Path, *args: Any) -> str:
        text = real(env, spec, settings, *args)
        if spec.ref != REF:
            return text
        changed = change(text)
        assert changed != text, "the defect was not injected"
        return changed

    monkeypatch.setattr(gen, "render_model", broken)


DEFECTS: list[tuple[str, Callable[[str], str], str, str]] = [
    (
        "trailing-whitespace-in-a-docstring",
        lambda t: t.replace("    Input image!\n", "    Input image!  \n"),
        IMAGE,
        "lint rule W291",
    ),
    (
        "fails-at-import",
        lambda t: t + '\nraise RuntimeError("boom at import")\n',
        "/openapi_schema",
        "importing the generated module fails: RuntimeError: boom at import",
    ),
    (
        "does-not-type-check",
        lambda t: t.replace("Field(title='Image')] = ''", "Field(title='Image')] = 7"),
        IMAGE,
        "mypy --strict",
    ),
    (
        "syntax-error",
        lambda t: t.replace("class Input(", "class Input((", 1),
        "/openapi_schema",
        "does not compile",
    ),
]


@pytest.mark.parametrize(
    ("change", "where", "words"),
    [d[1:] for d in DEFECTS],
    ids=[d[0] for d in DEFECTS],
)
def test_a_broken_module_is_reported_and_nothing_is_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[str], str],
    where: str,
    words: str,
) -> None:
    root = copy_repo(tmp_path / "repo")
    spec = load_spec_text(root)
    spec_file(root, REF).write_text(spec.replace("Input image", "Input image!"), encoding="utf-8")
    before = _snapshot(root)
    _inject(monkeypatch, change)
    with pytest.raises(SpecErrors) as info:
        gen.write(root, only=[REF])
    errors = info.value.errors
    assert errors, "no error"
    first = errors[0]
    assert first.file == spec_file(root, REF)
    assert first.pointer.startswith(where), str(first)
    assert words in first.rule, str(first)
    assert "models/cjwbw/rembg.py line" in first.rule or first.pointer == "/openapi_schema"
    assert _snapshot(root) == before  # the committed package is untouched


def load_spec_text(root: Path) -> str:
    return spec_file(root, REF).read_text(encoding="utf-8")


def test_full_generate_verifies_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_repo(tmp_path / "repo")
    spec_file(root, REF).write_text(
        load_spec_text(root).replace("Input image", "Input image!"), encoding="utf-8"
    )
    before = _snapshot(root)
    _inject(monkeypatch, DEFECTS[0][1])
    with pytest.raises(SpecErrors) as info:
        gen.write(root)
    assert [str(e) for e in info.value.errors] == [
        f"{spec_file(root, REF)}: at {IMAGE}: the generated code breaks lint rule W291: "
        "Trailing whitespace (generated generated/replicate_typed/models/cjwbw/rembg.py line 43: "
        "Input image!)"
    ]
    assert _snapshot(root) == before


@pytest.mark.slow  # end to end, in subprocesses: `make test-slow`
def test_an_import_that_hangs_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_repo(tmp_path / "repo")
    spec_file(root, REF).write_text(
        load_spec_text(root).replace("Input image", "Input image!"), encoding="utf-8"
    )
    before = _snapshot(root)
    monkeypatch.setenv("CODEGEN_IMPORT_TIMEOUT", "3")
    _inject(monkeypatch, lambda t: t + '\n__import__("time").sleep(600)\n')
    with pytest.raises(SpecErrors) as info:
        gen.write(root, only=[REF])
    assert [str(e) for e in info.value.errors] == [
        f"{spec_file(root, REF)}: at /openapi_schema: importing the generated module took "
        "more than 3 s"
    ]
    assert _snapshot(root) == before


def test_unchanged_files_are_not_rewritten_or_reverified(tmp_path: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    project = gen.Paths(root)
    stamps = {rel: (project.root / rel).stat().st_mtime_ns for rel in gen.owned_files(project)}
    gen.write(root)
    assert {
        rel: (project.root / rel).stat().st_mtime_ns for rel in gen.owned_files(project)
    } == stamps
