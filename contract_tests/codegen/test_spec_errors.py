"""A malformed spec stops every codegen command with ``file: at /pointer: rule`` lines, no traceback."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contract_tests.codegen._repo import copy_repo, load, run_codegen, save, spec_file

REF = "cjwbw/rembg"


def _edit(ref: str, change: Callable[[dict[str, Any]], None]) -> Callable[[Path], Path]:
    def apply(root: Path) -> Path:
        path = spec_file(root, ref)
        data = load(path)
        change(data)
        save(path, data)
        return path

    return apply


def _bad_json(root: Path) -> Path:
    path = spec_file(root, REF)
    path.write_text('{"model": "cjwbw/rembg", "call": ', encoding="utf-8")
    return path


def _collision(root: Path) -> Path:
    data = load(spec_file(root, REF))
    data["model"] = "cjwbw/Rembg"
    save(spec_file(root, "cjwbw/Rembg"), data)
    return spec_file(root, "cjwbw/Rembg")


def _schemas(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = data["openapi_schema"]["components"]["schemas"]
    return result


# (case id, how to break the copy, expected pointer, words the rule must contain)
CASES: list[tuple[str, Callable[[Path], Path], str, str]] = [
    ("bad-json", _bad_json, "/", "invalid JSON at line 1"),
    ("missing-key", _edit(REF, lambda d: d.pop("call")), "/", "'call' is a required property"),
    (
        "bad-version-id",
        _edit(REF, lambda d: d.update(version="abc123")),
        "/version",
        "'abc123' is not a 64-character lowercase hex version id",
    ),
    (
        "version-call-without-id",
        _edit(REF, lambda d: d.update(version=None)),
        "/version",
        "needs a 64-hex version id",
    ),
    (
        "bad-call",
        _edit(REF, lambda d: d.update(call="deployment")),
        "/call",
        "'deployment' is not one of 'version', 'path'",
    ),
    (
        "model-not-folder",
        _edit(REF, lambda d: d.update(model="cjwbw/other")),
        "/model",
        "does not match the spec's folder",
    ),
    (
        "unresolvable-ref",
        _edit(
            REF,
            lambda d: _schemas(d)["Input"]["properties"]["image"].update(
                allOf=[{"$ref": "#/components/schemas/Nowhere"}]
            ),
        ),
        "/openapi_schema/components/schemas/Input/properties/image/allOf/0/$ref",
        "does not resolve",
    ),
    (
        "input-not-object",
        _edit(REF, lambda d: _schemas(d)["Input"].update(type="array")),
        "/openapi_schema/components/schemas/Input/type",
        "Input must be an object schema",
    ),
    (
        "missing-output",
        _edit(REF, lambda d: _schemas(d).pop("Output")),
        "/openapi_schema/components/schemas",
        "'Output' is a required property",
    ),
    (
        "property-not-a-schema",
        _edit(REF, lambda d: _schemas(d)["Input"]["properties"].update(image=5)),
        "/openapi_schema/components/schemas/Input/properties/image",
        "5 is not of type 'object'",
    ),
    (
        "required-not-a-property",
        _edit(REF, lambda d: _schemas(d)["Input"].update(required=["image", "ghost"])),
        "/openapi_schema/components/schemas/Input/required/1",
        "'ghost' is required but is not a property",
    ),
    (
        "invalid-json-schema",
        _edit(REF, lambda d: _schemas(d)["Input"]["properties"]["image"].update(type="strin")),
        "/openapi_schema/components/schemas/Input/properties/image/type",
        "not a valid JSON Schema",
    ),
    (
        "example-rejected",
        _edit(REF, lambda d: d.update(examples=[{"title": "t", "input": {"image": 42}}])),
        "/examples/0/input/image",
        "the example is not a valid input: 42 is not of type 'string'",
    ),
    (
        "default-not-a-value",
        _edit(
            "stability-ai/stable-diffusion",
            lambda d: _schemas(d)["Input"]["properties"]["num_outputs"].update(default=9),
        ),
        "/openapi_schema/components/schemas/Input/properties/num_outputs/default",
        "default 9 of 'num_outputs' is not a valid value: 9 is greater than the maximum of 4",
    ),
    ("name-collision", _collision, "/model", "name collision"),
]


def _assert_clean_failure(result: Any, path: Path, pointer: str, words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines, "no error printed"
    expected = f"{path}: at {pointer}: "
    matching = [line for line in lines if line.startswith(expected)]
    assert matching, f"no line starts with {expected!r}: {lines}"
    assert any(words in line for line in matching), (words, matching)
    for line in lines:  # every line has the file: at /pointer: rule form
        assert re.match(r"^\S.*: at /\S*: \S", line), line


@pytest.mark.parametrize(
    ("breaker", "pointer", "words"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_generate_reports_the_broken_spec(
    tmp_path: Path, breaker: Callable[[Path], Path], pointer: str, words: str
) -> None:
    root = copy_repo(tmp_path / "repo")
    before = (root / "generated" / "replicate_typed" / "models" / "__init__.py").read_bytes()
    path = breaker(root)
    result = run_codegen("generate", "--root", str(root))
    _assert_clean_failure(result, path, pointer, words)
    # nothing was written: the package is as it was
    assert (
        root / "generated" / "replicate_typed" / "models" / "__init__.py"
    ).read_bytes() == before


@pytest.mark.slow  # end to end, in subprocesses: `make test-slow`
def test_every_command_fails_cleanly_on_a_broken_spec(tmp_path: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    path = _edit(REF, lambda d: d.update(version="not-hex"))(root)
    version_file = tmp_path / "version.json"
    save(
        version_file,
        {
            "id": None,
            "openapi_schema": load(spec_file(root, "stability-ai/sdxl"))["openapi_schema"],
        },
    )
    apifox = Path(__file__).resolve().parents[1] / "fixtures" / "apifox"
    commands = [
        ("generate", "--root", str(root)),
        ("check", "--root", str(root)),
        ("add-model", "--from-file", str(version_file), "--model", "acme/new", "--root", str(root)),
    ]
    for command in commands:
        result = run_codegen(*command, process=True)
        _assert_clean_failure(result, path, "/version", "is not a 64-character lowercase hex")
    assert not spec_file(root, "acme/new").exists()
    # import-apifox reads the published spec of the model it imports
    _edit("stability-ai/stable-diffusion", lambda d: d.update(call="sideways"))(root)
    result = run_codegen(
        "import-apifox",
        str(apifox / "000_be7733dff12c2b59.txt"),
        "--root",
        str(root),
        process=True,
    )
    _assert_clean_failure(
        result, spec_file(root, "stability-ai/stable-diffusion"), "/call", "'sideways'"
    )


def test_all_errors_of_a_run_are_reported(tmp_path: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    first = _edit(REF, lambda d: d.pop("call"))(root)
    second = _edit("stability-ai/sdxl", lambda d: d.update(version="zz"))(root)
    result = run_codegen("generate", "--root", str(root))
    assert result.returncode == 2
    assert f"{first}: at /: 'call' is a required property" in result.stderr
    assert f"{second}: at /version: " in result.stderr


def test_a_broken_api_spec_is_reported_without_traceback(tmp_path: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    api = root / "specs" / "api" / "openapi.json"
    api.write_text('{"openapi": "3.1.0", "components": {}}', encoding="utf-8")
    result = run_codegen("generate", "--root", str(root))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{api}: at /components/schemas: "), result.stderr
