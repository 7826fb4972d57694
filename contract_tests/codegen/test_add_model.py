"""``python -m codegen add-model``: from a saved version file or from the API (respx)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from typer.testing import CliRunner

from codegen import add_model as adder
from codegen.cli import app
from codegen.errors import SpecError
from codegen.spec import dump_spec
from contract_tests.codegen._repo import CORPUS, copy_repo, load, run_codegen, save, spec_file

VERSION_ID = "a" * 64
SDXL_VERSION = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
TOKEN = "r8_test-token-must-never-be-printed"
BASE = "https://router.example/replicate"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One repository copy shared by the read-mostly tests (each uses its own model names)."""
    return copy_repo(tmp_path_factory.mktemp("add") / "repo")


def _version(id: str | None, source: str = "lucataco__video-merge") -> dict[str, Any]:
    data = load(CORPUS / f"{source}.version.json")
    return {"id": id, "openapi_schema": data["openapi_schema"]}


@pytest.mark.slow  # end to end, in subprocesses: `make test-slow`
def test_from_file_writes_the_canonical_spec_and_regenerates(repo: Path, tmp_path: Path) -> None:
    version_file = tmp_path / "video-merge.json"
    save(version_file, _version(None))
    result = run_codegen(
        "add-model",
        "--from-file",
        str(version_file),
        "--model",
        "acme/video-merge",
        "--root",
        str(repo),
        process=True,
    )
    assert result.returncode == 0, result.stderr
    assert "added acme/video-merge" in result.stdout and "called by model path" in result.stdout
    path = spec_file(repo, "acme/video-merge")
    data = load(path)
    assert path.read_text(encoding="utf-8") == dump_spec(data)  # canonical text
    assert (data["model"], data["call"], data["version"]) == ("acme/video-merge", "path", None)
    assert data["openapi_schema"] == _version(None)["openapi_schema"]  # verbatim
    assert "add-model --from-file video-merge.json" in data["provenance"]
    module = repo / "generated" / "replicate_typed" / "models" / "acme" / "video_merge.py"
    assert 'call_by="path"' in module.read_text(encoding="utf-8")
    assert (
        '"acme/video-merge"' in (repo / "generated/replicate_typed/models/__init__.py").read_text()
    )
    check = run_codegen("check", "--root", str(repo), process=True)
    assert check.returncode == 0, check.stderr


def test_version_id_means_call_by_version_unless_told(tmp_path: Path) -> None:
    data = adder.spec_from_version(_version(VERSION_ID), "acme/a", provenance="p", source="f")
    assert (data["call"], data["version"]) == ("version", VERSION_ID)
    data = adder.spec_from_version(
        _version(VERSION_ID), "acme/a", call="path", provenance="p", source="f"
    )
    assert (data["call"], data["version"]) == ("path", VERSION_ID)  # the id is still recorded


@pytest.mark.parametrize(
    ("version", "model", "call", "pointer", "words"),
    [
        (_version(None), "acme/a", "version", "/id", "--call version needs a version id"),
        (_version("xyz"), "acme/a", None, "/id", "'xyz' is not 64 lowercase hex"),
        ({"id": None}, "acme/a", None, "/openapi_schema", "missing"),
        ([1, 2], "acme/a", None, "", "expected a model version object"),
        (_version(None), "not a ref", None, "", "is not owner/name"),
        (
            {"id": None, "openapi_schema": {"components": {"schemas": {"Input": {}}}}},
            "acme/a",
            None,
            "/openapi_schema/components/schemas",
            "'Output' is a required property",
        ),
    ],
)
def test_bad_versions_are_refused(
    version: Any, model: str, call: str | None, pointer: str, words: str
) -> None:
    with pytest.raises(SpecError) as info:
        adder.spec_from_version(version, model, call=call, provenance="p", source="v.json")
    assert info.value.pointer == pointer
    assert words in info.value.rule


def test_cli_errors_are_clean_and_leave_no_spec(repo: Path, tmp_path: Path) -> None:
    version_file = tmp_path / "bad.json"
    save(version_file, _version("not-a-version-id"))
    result = run_codegen(
        "add-model", "--from-file", str(version_file), "--model", "acme/bad", "--root", str(repo)
    )
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"{version_file}: at /id: version id 'not-a-version-id' is not 64"
    )
    assert "Traceback" not in result.stderr
    assert not spec_file(repo, "acme/bad").exists()
    missing_model = run_codegen("add-model", "--from-file", str(version_file), "--root", str(repo))
    assert (
        missing_model.returncode == 2 and "--model owner/name is required" in missing_model.stderr
    )


def test_a_name_collision_is_refused(repo: Path, tmp_path: Path) -> None:
    version_file = tmp_path / "v.json"
    save(version_file, _version(None))
    result = run_codegen(
        "add-model", "--from-file", str(version_file), "--model", "cjwbw/Rembg", "--root", str(repo)
    )
    assert result.returncode == 2
    assert "would share the Python module replicate_typed.models.cjwbw.rembg" in result.stderr
    assert "'cjwbw/rembg'" in result.stderr
    assert not spec_file(repo, "cjwbw/Rembg").exists()


def test_update_keeps_examples_that_still_validate(tmp_path: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    path = spec_file(root, "stability-ai/stable-diffusion")
    old = load(path)
    old["examples"].append(
        {"title": "uses a removed field", "input": {"scheduler": "K_EULER", "x": 1}}
    )
    save(path, old)
    version = {"id": old["version"], "openapi_schema": copy.deepcopy(old["openapi_schema"])}
    inputs = version["openapi_schema"]["components"]["schemas"]["Input"]
    inputs["additionalProperties"] = False
    data = adder.spec_from_version(
        version, "stability-ai/stable-diffusion", provenance="new", source="v.json"
    )
    result = adder.add_model(root, data, regenerate=False)
    assert not result.created
    assert result.kept_examples == 1
    assert (
        len(result.dropped_examples) == 1 and "uses a removed field" in result.dropped_examples[0]
    )
    written = load(path)
    assert [e["title"] for e in written["examples"]] == ["seed 000 request example"]
    assert written["provenance"] == "new"


def test_failed_regeneration_restores_the_previous_state(tmp_path: Path) -> None:
    root = copy_repo(tmp_path / "repo")
    previous = spec_file(root, "cjwbw/rembg").read_bytes()

    def broken_build(_: Path) -> list[str]:
        raise SpecError("x", "", "generation failed")

    new = adder.spec_from_version(_version(None), "newowner/new", provenance="p", source="v")
    with pytest.raises(SpecError):
        adder.add_model(root, new, build=broken_build)
    assert not (root / "specs" / "models" / "newowner").exists()
    update = adder.spec_from_version(
        _version(None), "cjwbw/rembg", call="path", provenance="p", source="v"
    )
    with pytest.raises(SpecError):
        adder.add_model(root, update, build=broken_build)
    assert spec_file(root, "cjwbw/rembg").read_bytes() == previous


def _model_json(version: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "url": "https://replicate.com/acme/video",
        "owner": "acme",
        "name": "video",
        "description": "d",
        "visibility": "public",
        "run_count": 1,
        "latest_version": version,
    }


def _invoke(root: Path, *args: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("REPLICATE_BASE_URL", BASE)
    monkeypatch.setenv("REPLICATE_API_TOKEN", TOKEN)
    return CliRunner().invoke(app, ["add-model", *args, "--root", str(root)])


@pytest.mark.slow  # a whole generation in-process: CI runs it in make test-slow
def test_from_api_latest_version(
    tmp_path: Path, respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_repo(tmp_path / "repo")
    latest = {
        "id": VERSION_ID,
        "created_at": "2025-01-01T00:00:00Z",
        "cog_version": "0.9",
        **_version(VERSION_ID),
    }
    route = respx_mock.get(f"{BASE}/v1/models/acme/video").mock(
        return_value=httpx.Response(200, json=_model_json(latest))
    )
    result = _invoke(root, "--from-api", "acme/video", monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert route.called
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"
    data = load(spec_file(root, "acme/video"))
    assert (data["call"], data["version"]) == ("version", VERSION_ID)
    assert BASE in data["provenance"] and TOKEN not in json.dumps(data)
    assert TOKEN not in result.output
    assert (root / "generated/replicate_typed/models/acme/video.py").exists()


def test_from_api_named_version_by_path(
    tmp_path: Path, respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_repo(tmp_path / "repo")
    route = respx_mock.get(f"{BASE}/v1/models/acme/video/versions/{VERSION_ID}").mock(
        return_value=httpx.Response(
            200, json={"created_at": "2025-01-01T00:00:00Z", **_version(VERSION_ID)}
        )
    )
    result = _invoke(
        root,
        "--from-api",
        f"acme/video:{VERSION_ID}",
        "--call",
        "path",
        "--no-generate",
        monkeypatch=monkeypatch,
    )
    assert result.exit_code == 0, result.output
    assert route.called
    data = load(spec_file(root, "acme/video"))
    assert (data["call"], data["version"]) == ("path", VERSION_ID)
    assert not (root / "generated/replicate_typed/models/acme").exists()  # --no-generate


def test_from_api_errors_are_clean_and_keep_the_token_secret(
    tmp_path: Path, respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_repo(tmp_path / "repo")
    respx_mock.get(f"{BASE}/v1/models/acme/missing").mock(
        return_value=httpx.Response(
            404,
            json={"status": 404, "title": "Not found", "detail": "model not found"},
            headers={"content-type": "application/problem+json"},
        )
    )
    respx_mock.get(f"{BASE}/v1/models/acme/noversion").mock(
        return_value=httpx.Response(200, json=_model_json(None))
    )
    missing = _invoke(root, "--from-api", "acme/missing", monkeypatch=monkeypatch)
    assert missing.exit_code == 2
    assert "cannot fetch acme/missing" in missing.output
    assert TOKEN not in missing.output and "Traceback" not in missing.output
    empty = _invoke(root, "--from-api", "acme/noversion", monkeypatch=monkeypatch)
    assert empty.exit_code == 2 and "has no latest_version" in empty.output
    bad = _invoke(root, "--from-api", "acme/x:1234", monkeypatch=monkeypatch)
    assert bad.exit_code == 2 and "'1234' is not 64 lowercase hex" in bad.output
    assert not (root / "specs" / "models" / "acme").exists()


def test_public_url_drops_credentials() -> None:
    assert (
        adder.public_url("https://user:r8_secret@router.example:8443/replicate?key=r8_secret#x")
        == "https://router.example:8443/replicate"
    )
    assert adder.public_url(BASE) == BASE
