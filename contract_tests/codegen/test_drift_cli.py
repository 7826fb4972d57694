"""``python -m codegen drift``: exit codes, report formats, the recorded fixtures, ``--update``,
and the live source (through the runtime client's models API)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from codegen.cli import app
from codegen.drift import changes as k
from codegen.drift.changes import Severity
from codegen.drift.report import DriftReport, collect
from codegen.drift.sources import LiveSource
from codegen.spec import load_model_specs
from replicate_typed.client.errors import AuthenticationError, NotFoundError

ROOT = Path(__file__).resolve().parents[2]
DRIFT = ROOT / "contract_tests" / "fixtures" / "drift"
MODELS = DRIFT / "models"
API_DOC = DRIFT / "api" / "replicate-openapi.json"
UPSTREAM_DOC = ROOT / "contract_tests" / "fixtures" / "upstream" / "replicate-openapi.json"
SPECS = load_model_specs(ROOT / "specs")


@pytest.fixture(autouse=True)
def _no_ci_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    monkeypatch.delenv("REPLICATE_BASE_URL", raising=False)


def run(*args: str | Path, root: Path = ROOT) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["drift", "--root", str(root), *map(str, args)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def record_unchanged(folder: Path) -> Path:
    """A --from-dir folder saying every model is exactly as its spec says."""
    folder.mkdir(parents=True, exist_ok=True)
    for spec in SPECS:
        stem = spec.ref.replace("/", "__")
        suffix = "latest" if spec.call == "path" else "version"
        (folder / f"{stem}.{suffix}.json").write_text(
            json.dumps({"id": spec.version, "openapi_schema": spec.openapi_schema}), "utf-8"
        )
    return folder


def as_json(stdout: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(stdout)
    return data


# -- exit codes ------------------------------------------------------------------------------------


def test_no_drift_exits_0(tmp_path: Path) -> None:
    code, out, _ = run("--from-dir", record_unchanged(tmp_path), "--api-document", UPSTREAM_DOC)
    assert code == 0, out
    assert "12/12 models checked: 0 breaking, 0 compatible, 0 cosmetic -> exit 0" in out


def test_the_recorded_fixtures_exit_2_with_exactly_the_documented_changes() -> None:
    code, out, _ = run("--from-dir", MODELS, "--api-document", API_DOC, "--format", "json")
    assert code == 2
    report = as_json(out)
    assert report["exit_code"] == 2 and report["severity"] == "breaking"
    found = sorted(
        (c["subject"], c["severity"], c["kind"], c["path"])
        for m in report["models"]
        for c in m["changes"]
    ) + [(c["subject"], c["severity"], c["kind"], c["path"]) for c in report["api"]["changes"]]
    assert found == [
        ("black-forest-labs/flux-schnell", "compatible", k.ENUM_VALUE_ADDED,
         "/input/properties/output_format/enum"),
        ("cjwbw/rembg", "compatible", k.VERSION_PUBLISHED, "/version"),
        ("lucataco/flux-dev-lora", "compatible", k.PROPERTY_ADDED, "/input/properties/go_fast"),
        ("stability-ai/sdxl", "breaking", k.ENUM_VALUE_REMOVED, "/input/properties/scheduler/enum"),
        ("stability-ai/stable-diffusion", "breaking", k.CONSTRAINT_TIGHTENED,
         "/input/properties/num_outputs/maximum"),
        ("stability-ai/stable-diffusion", "cosmetic", k.ANNOTATION_CHANGED,
         "/input/properties/num_outputs/description"),
        ("api", "compatible", k.PROPERTY_ADDED,
         "/components/schemas/Prediction/properties/metrics/properties/predict_time"),
    ]  # fmt: skip
    rembg = next(m for m in report["models"] if m["model"] == "cjwbw/rembg")
    assert rembg["latest_version"] == next(
        c["new"] for c in rembg["changes"] if c["kind"] == k.VERSION_PUBLISHED
    )
    assert [(c["kind"], c["path"]) for c in rembg["upgrade"]] == [
        (k.PROPERTY_ADDED, "/input/properties/alpha_matting")
    ]
    assert report["counts"] == {"breaking": 2, "compatible": 4, "cosmetic": 1}
    unchanged = [m["model"] for m in report["models"] if m["status"] == "unchanged"]
    assert len(unchanged) == 6


def test_compatible_and_cosmetic_drift_exit_1_unless_allowed(tmp_path: Path) -> None:
    compatible = ["--from-dir", MODELS, "-m", "lucataco/flux-dev-lora"]
    assert run(*compatible)[0] == 1
    assert run(*compatible, "--fail-on", "breaking")[0] == 0
    assert run(*compatible, "--fail-on", "compatible")[0] == 1

    folder = record_unchanged(tmp_path / "rec")
    path = folder / "cjwbw__rembg.version.json"
    data = json.loads(path.read_text("utf-8"))
    data["openapi_schema"]["components"]["schemas"]["Input"]["properties"]["image"][
        "description"
    ] = "The image to cut out"
    path.write_text(json.dumps(data), "utf-8")
    cosmetic = ["--from-dir", folder, "-m", "cjwbw/rembg"]
    assert run(*cosmetic)[0] == 1
    assert run(*cosmetic, "--cosmetic-ok")[0] == 0
    assert run(*cosmetic, "--fail-on", "compatible")[0] == 0


def test_breaking_drift_exits_2_whatever_the_threshold() -> None:
    for threshold in ("breaking", "compatible", "cosmetic"):
        assert run("--from-dir", MODELS, "-m", "stability-ai/sdxl", "--fail-on", threshold)[0] == 2


def test_what_cannot_be_compared_exits_3(tmp_path: Path) -> None:
    code, _, err = run()  # live mode without REPLICATE_API_TOKEN
    assert code == 3 and "REPLICATE_API_TOKEN" in err and "--from-dir" in err
    assert run("--from-dir", tmp_path / "missing")[0] == 3
    assert run("--from-dir", MODELS, "--to-latest")[0] == 3  # only with --update
    assert run("--from-dir", MODELS, "-m", "nobody/nothing")[0] == 3
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "cjwbw__rembg.version.json").write_text("{not json", "utf-8")
    code, out, _ = run("--from-dir", bad, "-m", "cjwbw/rembg", "--format", "json")
    assert code == 3 and as_json(out)["errors"]
    broken = copy.deepcopy(json.loads(UPSTREAM_DOC.read_text("utf-8")))
    del broken["components"]["schemas"]["schemas_prediction_response"]
    (tmp_path / "doc.json").write_text(json.dumps(broken), "utf-8")
    assert run("--no-models", "--api-document", tmp_path / "doc.json")[0] == 3


# -- formats ---------------------------------------------------------------------------------------


def test_json_shape() -> None:
    code, out, _ = run("--from-dir", MODELS, "--format", "json", "-m", "stability-ai/sdxl")
    report = as_json(out)
    assert set(report) == {"source", "severity", "exit_code", "counts", "models", "api", "errors"}
    assert report["api"] is None and report["errors"] == []
    (model,) = report["models"]
    assert model["model"] == "stability-ai/sdxl" and model["status"] == "breaking"
    assert model["version"] == next(s.version for s in SPECS if s.ref == "stability-ai/sdxl")
    (change,) = model["changes"]
    assert change == {
        "subject": "stability-ai/sdxl",
        "severity": "breaking",
        "kind": "enum_value_removed",
        "path": "/input/properties/scheduler/enum",
        "message": 'enum value "PNDM" removed',
        "old": "PNDM",
    }
    assert code == report["exit_code"] == 2


def test_markdown_report_and_github_step_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", "utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, _ = run("--from-dir", MODELS, "--api-document", API_DOC, "--format", "markdown")
    assert code == 2
    lines = out.splitlines()
    assert lines[0] == "## ❌ API drift: breaking"
    assert "| model | pinned | status | breaking | compatible | cosmetic |" in lines
    assert "| `stability-ai/sdxl` | `7762fd07cf82` | breaking | 1 | 0 | 0 |" in lines
    assert "| API document | | compatible | 0 | 1 | 0 |" in lines
    changes = [line for line in lines if line.startswith("| breaking |")]
    assert (
        len(changes) == 2 and "`/input/properties/num_outputs/maximum`" in changes[0] + changes[1]
    )
    newer = lines[lines.index("### Newer versions") + 2 :]
    assert newer[0].startswith("- `cjwbw/rembg`: `f69f8ebec69c")
    assert "moving to it would be compatible" in newer[0]
    assert (
        newer[1]
        == "  - compatible: `/input/properties/alpha_matting` optional input 'alpha_matting' added"
    )
    assert summary.read_text("utf-8") == "earlier step\n" + out
    # --no-step-summary leaves the file alone; the text report does not print markdown.
    code, text, _ = run("--from-dir", MODELS, "-m", "cjwbw/rembg", "--no-step-summary")
    assert summary.read_text("utf-8") == "earlier step\n" + out
    assert code == 1 and "COMPATIBLE" in text and "moving to the latest version" in text


def test_text_report_names_model_path_and_values() -> None:
    code, out, _ = run("--from-dir", MODELS, "-m", "stability-ai/stable-diffusion")
    assert code == 2
    assert "BREAKING    stability-ai/stable-diffusion @ ac732df83cea" in out
    assert "/input/properties/num_outputs/maximum  maximum tightened: 4 -> 2" in out


# -- --update --------------------------------------------------------------------------------------


@pytest.mark.slow  # end to end, in subprocesses: `make test-slow`
def test_update_rewrites_specs_and_regenerates(tmp_path: Path) -> None:
    clone = tmp_path / "repo"
    shutil.copytree(ROOT / "specs", clone / "specs")
    shutil.copytree(
        ROOT / "generated", clone / "generated", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", clone / "pyproject.toml")
    models = ["-m", "stability-ai/sdxl", "-m", "cjwbw/rembg"]
    args = ["--from-dir", MODELS, "--api-document", API_DOC, *models]
    assert run(*args, root=clone)[0] == 2

    code, _, err = run(*args, "--update", "--to-latest", root=clone)
    assert code == 0, err
    assert "updated specs/models/stability-ai/sdxl/spec.json" in err
    assert "updated specs/api/openapi.json" in err

    sdxl = json.loads((clone / "specs/models/stability-ai/sdxl/spec.json").read_text("utf-8"))
    assert "PNDM" not in sdxl["openapi_schema"]["components"]["schemas"]["scheduler"]["enum"]
    rembg = json.loads((clone / "specs/models/cjwbw/rembg/spec.json").read_text("utf-8"))
    latest = json.loads((MODELS / "cjwbw__rembg.latest.json").read_text("utf-8"))
    assert rembg["version"] == latest["id"]
    assert rembg["openapi_schema"] == latest["openapi_schema"]
    assert rembg["examples"] == list(next(s for s in SPECS if s.ref == "cjwbw/rembg").examples)

    package = clone / "generated" / "replicate_typed"
    sdxl_module = (package / "models/stability_ai/sdxl.py").read_text("utf-8")
    assert "PNDM" not in sdxl_module and "K_EULER_ANCESTRAL" in sdxl_module
    assert "alpha_matting" in (package / "models/cjwbw/rembg.py").read_text("utf-8")
    assert latest["id"] in (package / "models/__init__.py").read_text("utf-8")
    assert "predict_time" in (package / "types/api.py").read_text("utf-8")
    # Drift is gone (the newer version is now the pinned one).
    code, out, _ = run(*args, "--format", "json", root=clone)
    assert code == 0, out
    assert run("--from-dir", MODELS, "-m", "lucataco/flux-dev-lora", root=clone)[0] == 1


def test_update_without_to_latest_keeps_the_pinned_version(tmp_path: Path) -> None:
    clone = tmp_path / "repo"
    shutil.copytree(ROOT / "specs", clone / "specs")
    shutil.copytree(
        ROOT / "generated", clone / "generated", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", clone / "pyproject.toml")
    before = (clone / "specs/models/cjwbw/rembg/spec.json").read_text("utf-8")
    code, _, err = run("--from-dir", MODELS, "-m", "cjwbw/rembg", "--update", root=clone)
    assert code == 0 and "nothing to update" in err
    assert (clone / "specs/models/cjwbw/rembg/spec.json").read_text("utf-8") == before


@pytest.mark.slow  # a whole generation in-process: CI runs it in make test-slow
def test_update_warns_about_examples_the_new_schema_rejects(tmp_path: Path) -> None:
    clone = tmp_path / "repo"
    shutil.copytree(ROOT / "specs", clone / "specs")
    shutil.copytree(
        ROOT / "generated", clone / "generated", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", clone / "pyproject.toml")
    folder = record_unchanged(tmp_path / "rec")
    path = folder / "lucataco__flux-dev-lora.version.json"
    data = json.loads(path.read_text("utf-8"))
    schemas = data["openapi_schema"]["components"]["schemas"]
    schemas["output_format"]["enum"].remove("webp")
    # upstream moves the default off the removed value (a default outside the enum is refused)
    schemas["Input"]["properties"]["output_format"]["default"] = "jpg"
    path.write_text(json.dumps(data), "utf-8")
    args = ["--from-dir", folder, "-m", "lucataco/flux-dev-lora"]
    code, out, _ = run(*args, root=clone)
    assert code == 2 and 'enum value "webp" removed' in out
    code, _, err = run(*args, "--update", root=clone)
    assert code == 0
    assert (
        "warning: lucataco/flux-dev-lora: example 0 (seed 004 request example) no longer fits "
        "the new input schema ('webp' is not one of ['jpg', 'png']): removed from the spec"
    ) in err
    spec = json.loads((clone / "specs/models/lucataco/flux-dev-lora/spec.json").read_text("utf-8"))
    assert spec["examples"] == []
    module = clone / "generated/replicate_typed/models/lucataco/flux_dev_lora.py"
    assert 'Literal["jpg", "png"]' in module.read_text("utf-8")
    assert run(*args, root=clone)[0] == 0


# -- live source -----------------------------------------------------------------------------------


class FakeModels:
    """The part of the runtime client the live source uses: ``models.get`` / ``versions.get``."""

    def __init__(self, published: dict[str, dict[str, Any]], latest: dict[str, Any]) -> None:
        self.published, self.latest = published, latest
        self.versions = self
        self.calls: list[tuple[str, ...]] = []

    def get(self, ref: str, version_id: str | None = None) -> Any:
        self.calls.append((ref,) if version_id is None else (ref, version_id))
        if version_id is None:
            if ref == "denied/model":
                raise AuthenticationError("Unauthenticated", status_code=401)
            if ref not in self.latest:
                raise NotFoundError("not found", status_code=404)
            return type("Model", (), {"latest_version": self.latest[ref]})()
        if version_id not in self.published:
            raise NotFoundError("not found", status_code=404)
        return self.published[version_id]


def test_live_source_compares_the_pinned_version_and_reports_a_newer_one() -> None:
    by_ref = {s.ref: s for s in SPECS}
    sdxl, flux = by_ref["stability-ai/sdxl"], by_ref["black-forest-labs/flux-schnell"]
    changed = copy.deepcopy(sdxl.openapi_schema)
    changed["components"]["schemas"]["Input"]["properties"]["num_outputs"]["maximum"] = 2
    newer = {"id": "f" * 64, "openapi_schema": sdxl.openapi_schema}
    fake = FakeModels(
        published={str(sdxl.version): {"id": sdxl.version, "openapi_schema": changed}},
        latest={sdxl.ref: newer, flux.ref: {"id": None, "openapi_schema": flux.openapi_schema}},
    )
    client = type("Client", (), {"models": fake})()
    source = LiveSource(client, "http://127.0.0.1:1/replicate")
    report = collect(
        [sdxl, flux, by_ref["cjwbw/rembg"]], source.fetch, DriftReport(source.description)
    )
    assert fake.calls == [
        (sdxl.ref,),
        (sdxl.ref, str(sdxl.version)),
        (flux.ref,),
        ("cjwbw/rembg",),
    ]
    s_report, f_report, r_report = report.models
    assert sorted((c.kind, c.path, c.severity) for c in s_report.changes) == [
        (k.CONSTRAINT_TIGHTENED, "/input/properties/num_outputs/maximum", Severity.BREAKING),
        (k.VERSION_PUBLISHED, "/version", Severity.COMPATIBLE),
    ]
    # The latest version has the spec's schema: moving to it changes nothing (empty preview).
    assert [(c.kind, c.severity) for c in s_report.upgrade] == []
    assert f_report.changes == []
    assert [(c.kind, c.severity) for c in r_report.changes] == [
        (k.MODEL_UNAVAILABLE, Severity.BREAKING)
    ]
    assert report.exit_code() == 2


def test_live_source_errors_are_reported_not_raised() -> None:
    spec = next(s for s in SPECS if s.ref == "cjwbw/rembg")
    denied = type(spec)(
        ref="denied/model", call="path", version=None, openapi_schema=spec.openapi_schema
    )
    client = type("Client", (), {"models": FakeModels({}, {spec.ref: {"id": "a" * 64}})})()
    source = LiveSource(client, "http://127.0.0.1:1")
    report = collect([denied, spec], source.fetch, DriftReport(source.description))
    assert report.exit_code() == 3
    assert report.errors == ["denied/model: AuthenticationError: Unauthenticated"]
    # The pinned version is gone upstream: breaking.
    assert [(c.kind, c.path) for c in report.models[1].changes] == [
        (k.VERSION_UNAVAILABLE, "/version")
    ]


def test_live_mode_through_the_runtime_client(
    respx_mock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``drift`` without --from-dir asks the configured router through ``Client`` (respx)."""
    import httpx

    token = "r8_drift_secret_token_0123456789"
    base = "https://router.example/replicate"
    monkeypatch.setenv("REPLICATE_API_TOKEN", token)
    monkeypatch.setenv("REPLICATE_BASE_URL", base)
    by_ref = {s.ref: s for s in SPECS}
    sdxl, flux = by_ref["stability-ai/sdxl"], by_ref["black-forest-labs/flux-schnell"]
    published = copy.deepcopy(sdxl.openapi_schema)
    published["components"]["schemas"]["refine"]["enum"].remove("base_image_refiner")
    newer_id = "e" * 64

    def model(spec: Any, latest_id: str | None, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": f"https://replicate.com/{spec.ref}",
            "owner": spec.owner,
            "name": spec.name,
            "visibility": "public",
            "run_count": 1,
            "latest_version": {"id": latest_id, "openapi_schema": schema},
        }

    respx_mock.get(f"{base}/v1/models/{sdxl.ref}").respond(
        200, json=model(sdxl, newer_id, sdxl.openapi_schema)
    )
    version_route = respx_mock.get(f"{base}/v1/models/{sdxl.ref}/versions/{sdxl.version}").respond(
        200, json={"id": sdxl.version, "openapi_schema": published}
    )
    respx_mock.get(f"{base}/v1/models/{flux.ref}").respond(
        200, json=model(flux, None, flux.openapi_schema)
    )
    respx_mock.get(f"{base}/v1/models/cjwbw/rembg").respond(
        404, json={"status": 404, "title": "Not found", "detail": "Model not found"}
    )
    code, out, err = run("-m", sdxl.ref, "-m", flux.ref, "-m", "cjwbw/rembg", "--format", "json")
    assert code == 2, err
    assert token not in out + err
    request: httpx.Request = version_route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {token}"
    report = as_json(out)
    assert report["source"].startswith("live API at https://router.example/replicate")
    found = {
        m["model"]: sorted((c["severity"], c["kind"], c["path"]) for c in m["changes"])
        for m in report["models"]
    }
    assert found == {
        sdxl.ref: [
            ("breaking", k.ENUM_VALUE_REMOVED, "/input/properties/refine/enum"),
            ("compatible", k.VERSION_PUBLISHED, "/version"),
        ],
        flux.ref: [],
        "cjwbw/rembg": [("breaking", k.MODEL_UNAVAILABLE, "/model")],
    }


def test_the_api_document_can_be_fetched_from_a_url(respx_mock: Any) -> None:
    url = "https://api.example/openapi.json"
    doc = json.loads(UPSTREAM_DOC.read_text("utf-8"))
    doc["paths"]["/predictions"]["get"]["parameters"].append(
        {"in": "query", "name": "deployment", "schema": {"type": "string"}}
    )
    route = respx_mock.get(url).respond(200, json=doc)
    code, out, _ = run("--no-models", "--api-document", url, "--format", "json")
    assert route.called and "Authorization" not in route.calls.last.request.headers
    assert code == 1
    (change,) = as_json(out)["api"]["changes"]
    assert (change["kind"], change["severity"]) == (k.PARAMETER_ADDED, "compatible")
    respx_mock.get("https://api.example/gone.json").respond(404)
    code, _, err = run("--no-models", "--api-document", "https://api.example/gone.json")
    assert code == 3 and "cannot read the API document" in err
