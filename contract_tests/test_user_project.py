"""A user's project, end to end (``make test-user-project``; CI runs it, ``make test`` does not:
it builds the wheel and installs it into fresh venvs, which takes a minute or two).

1. ``[codegen]``: a temporary project with ``[tool.replicate-typed]`` in its pyproject.toml, the
   wheel installed with ``[codegen,mock]`` (plus mypy and pytest) into a fresh venv; two models added
   with one command each (one from a saved version file, one from the API through the built-in
   mock server), imported by the project's own code, run against the mock by the project's own
   tests through the pytest plugin, ``mypy --strict`` clean, ``check`` byte-exact, and drift
   reported on a changed upstream schema.
   The drift workflow and pre-commit hook of docs/drift-ci/ run step by step in a second project
   (with the model reference in it), the mock server as the upstream API: pass, warn, fail.
2. Core only: the wheel next to pydantic 2.9 and httpx 0.27 (an application's own versions), none
   of the extras' packages installed, a typed run against a mock transport, and one-line errors
   for the parts whose extra is missing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from contract_tests.conftest import FIXTURES, ROOT
from contract_tests.test_packaging import build_wheel

pytestmark = pytest.mark.user_project

UV = Path(sys.executable).with_name("uv")
TOKEN = "r8_user_project_token"
PY = f"{sys.version_info.major}.{sys.version_info.minor}"


def run(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("REPLICATE_", "PYTHON"))}
    full_env.update(env or {})
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited {done.returncode}\n"
            f"stdout: {done.stdout[-3000:]}\nstderr: {done.stderr[-3000:]}"
        )
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build_wheel(out)
    (found,) = out.glob("replicate_typed-*.whl")
    return found


def venv(path: Path, *requirements: str) -> Path:
    run(UV, "venv", "--quiet", "--python", sys.executable, path, cwd=path.parent)
    python = path / "bin" / "python"
    run(UV, "pip", "install", "--quiet", "--python", python, *requirements, cwd=path.parent)
    return python


def installed(python: Path) -> dict[str, str]:
    listing = run(UV, "pip", "list", "--python", python, "--format", "json", cwd=python.parent)
    return {p["name"].lower(): p["version"] for p in json.loads(listing.stdout)}


PYPROJECT = """\
[project]
name = "myapp"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["replicate-typed"]

[tool.replicate-typed]
specs = "specs"
package = "myapp/replicate_models"

[tool.pytest.ini_options]
pythonpath = ["."]
"""

OWN_PROJECT = ROOT / "docs" / "own-project.md"


def readme_blocks() -> list[str]:
    """The ``py`` blocks of the docs page "Use it in your own project": myapp/app.py and
    tests/test_app.py, used here verbatim."""
    text = OWN_PROJECT.read_text(encoding="utf-8")
    section = text[text.index("# Use it in your own project") :]
    blocks = re.findall(r"^```py\n(.*?)^```", section, re.S | re.M)
    assert blocks[0].startswith("# myapp/app.py") and blocks[1].startswith("# tests/test_app.py")
    return blocks[:2]


EXTRA_TESTS = """


def test_the_projects_registry():
    from myapp.replicate_models import registry

    assert sorted(registry) == ["stability-ai/sdxl", "xinntao/esrgan"]


def test_both_models_run_against_the_mock_server(replicate_mock):
    from replicate_typed import FileOutput

    from myapp.app import picture, upscale

    images = picture("a fox")
    assert images and all(isinstance(i, FileOutput) for i in images)
    assert isinstance(upscale("https://example.com/cat.png"), FileOutput)
    operations = replicate_mock.stats()["operations"]
    assert operations["predictions.create"] == operations["models.predictions.create"] == 1
"""


@pytest.fixture(scope="module")
def mock_url(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The fresh venv with the wheel ([codegen,mock]) and the built-in mock server running in it."""
    base = tmp_path_factory.mktemp("user")
    python = venv(
        base / "venv", f"{wheel}[codegen,mock]", "mypy==2.4.1", "pytest==9.2.0", "respx==0.23.1"
    )
    server = subprocess.Popen(
        [python, "-m", "replicate_typed.mock", "--port", "0", "--token", TOKEN],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=base,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        url = next(word for word in line.split() if word.startswith("http://127.0.0.1:"))
        yield python, url.rstrip("/")
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_users_project_generates_runs_type_checks_and_detects_drift(
    mock_url: tuple[Path, str], tmp_path: Path
) -> None:
    python, url = mock_url
    bin_dir = python.parent
    codegen = bin_dir / "replicate-typed-codegen"
    project = tmp_path / "myapp-project"
    (project / "myapp").mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (project / "myapp" / "__init__.py").write_text("", encoding="utf-8")
    (project / "myapp" / "py.typed").write_text("", encoding="utf-8")
    version_file = project / "esrgan.version.json"
    version_file.write_bytes((FIXTURES / "corpus" / "xinntao__esrgan.version.json").read_bytes())

    # 1. one command per model: a saved version file, and the API (the built-in mock)
    added = run(
        codegen, "add-model", "--from-file", version_file, "--model", "xinntao/esrgan", cwd=project
    )
    assert "added xinntao/esrgan: specs/models/xinntao/esrgan/spec.json" in added.stdout
    api = {"REPLICATE_BASE_URL": f"{url}/replicate", "REPLICATE_API_TOKEN": TOKEN}
    added = run(codegen, "add-model", "--from-api", "stability-ai/sdxl", cwd=project, env=api)
    assert "added stability-ai/sdxl" in added.stdout
    assert "into myapp/replicate_models" in added.stdout
    package = project / "myapp" / "replicate_models"
    sdxl_module = (package / "stability_ai" / "sdxl.py").read_text(encoding="utf-8")
    assert "from replicate_typed.core.model import ModelInfo, ModelInput" in sdxl_module
    assert "from myapp.replicate_models.stability_ai.sdxl import Input" in sdxl_module
    assert not (project / "generated").exists()  # only the configured folder is written
    assert run(codegen, "check", cwd=project).returncode == 0

    # 2. the project's code imports them; its tests run them against the mock (pytest plugin)
    app, tests = readme_blocks()
    (project / "myapp" / "app.py").write_text(app, encoding="utf-8")
    (project / "tests" / "test_app.py").write_text(tests + EXTRA_TESTS, encoding="utf-8")
    tested = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=project)
    assert "5 passed" in tested.stdout, tested.stdout

    # 3. mypy --strict: the generated package and the code using it (no pydantic plugin)
    typed = run(python, "-m", "mypy", "--strict", "--no-incremental", "myapp", cwd=project)
    assert "Success: no issues found" in typed.stdout, typed.stdout

    # 4. drift: upstream changed the schema (a new required input) -> breaking, exit 2
    recorded = project / "recorded"
    recorded.mkdir()
    changed = json.loads(version_file.read_text(encoding="utf-8"))
    schema = changed["openapi_schema"]["components"]["schemas"]["Input"]
    schema["properties"]["scale"] = {"type": "integer", "title": "Scale", "x-order": 1}
    schema["required"] = ["image", "scale"]
    (recorded / "xinntao__esrgan.version.json").write_text(json.dumps(changed), encoding="utf-8")
    drift = run(
        codegen, "drift", "--from-dir", recorded, "--no-step-summary", cwd=project, check=False
    )
    assert drift.returncode == 2, drift.stdout + drift.stderr
    assert "xinntao/esrgan" in drift.stdout and "/input/properties/scale" in drift.stdout


WORKFLOW = ROOT / "docs" / "drift-ci" / "replicate-typed.yml"
PRE_COMMIT = ROOT / "docs" / "drift-ci" / "pre-commit-config.yaml"
CI_PYPROJECT = """\
[project]
name = "ciapp"
version = "0.1.0"

[tool.replicate-typed]
package = "ciapp/models"
docs = "docs/models"
"""


def workflow_steps(job: str) -> list[dict[str, str]]:
    """The ``run:`` steps of a job of the workflow users paste, but the install step (the venv
    already holds the wheel)."""
    import yaml

    steps = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"][job]["steps"]
    return [s for s in steps if "run" in s and "pip install" not in s["run"]]


def test_the_drift_workflow_and_hook_in_a_users_project(
    mock_url: tuple[Path, str], tmp_path: Path
) -> None:
    import yaml

    python, url = mock_url
    project = tmp_path / "ci-project"
    (project / "ciapp").mkdir(parents=True)
    (project / "ciapp" / "__init__.py").write_text("", encoding="utf-8")
    (project / "pyproject.toml").write_text(CI_PYPROJECT, encoding="utf-8")
    output, summary = tmp_path / "github_output", tmp_path / "step_summary"
    env = {
        "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}",
        "REPLICATE_BASE_URL": f"{url}/replicate",
        "REPLICATE_API_TOKEN": TOKEN,
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
    }
    run(
        python.parent / "replicate-typed-codegen",
        "add-model",
        "--from-api",
        "stability-ai/sdxl",
        cwd=project,
        env=env,
    )

    # the model reference, written in the user's project from its table
    spec_file = project / "specs" / "models" / "stability-ai" / "sdxl" / "spec.json"
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    inputs = spec["openapi_schema"]["components"]["schemas"]["Input"]["properties"]
    page = (project / "docs" / "models" / "stability-ai" / "sdxl.md").read_text(encoding="utf-8")
    assert "from ciapp.models.stability_ai import sdxl" in page
    assert all(f"| `{name}` |" in page for name in inputs)

    def step(job: str, name: str) -> subprocess.CompletedProcess[str]:
        (found,) = [s for s in workflow_steps(job) if s["name"] == name]
        output.write_text("", encoding="utf-8")
        return run("bash", "-e", "-c", found["run"], cwd=project, env=env, check=False)

    def verdict() -> str:
        return output.read_text(encoding="utf-8").strip()

    hook = yaml.safe_load(PRE_COMMIT.read_text(encoding="utf-8"))["repos"][0]["hooks"][0]

    def pre_commit() -> int:
        return run("bash", "-c", hook["entry"], cwd=project, env=env, check=False).returncode

    assert step("generated", "Check (byte for byte)").returncode == 0
    assert pre_commit() == 0
    done = step("drift", "Drift (pass / warn / fail)")
    assert (done.returncode, verdict()) == (0, "verdict=pass"), done.stdout + done.stderr
    assert summary.read_text(encoding="utf-8").strip()  # the Markdown report, as in Actions

    # the spec lacks an optional input upstream has: compatible drift -> warn, still green
    original = spec_file.read_text(encoding="utf-8")
    edited = json.loads(original)
    del edited["openapi_schema"]["components"]["schemas"]["Input"]["properties"]["negative_prompt"]
    spec_file.write_text(json.dumps(edited), encoding="utf-8")
    done = step("drift", "Drift (pass / warn / fail)")
    assert (done.returncode, verdict()) == (0, "verdict=warn"), done.stdout + done.stderr
    assert "::warning" in done.stdout
    assert pre_commit() == 1  # a spec edited without regenerating: the hook refuses the commit

    # the spec has an input upstream removed: breaking drift -> fail, the step fails
    edited = json.loads(original)
    props = edited["openapi_schema"]["components"]["schemas"]["Input"]["properties"]
    props["style"] = {"type": "string", "title": "Style", "x-order": 99}
    spec_file.write_text(json.dumps(edited), encoding="utf-8")
    done = step("drift", "Drift (pass / warn / fail)")
    assert (done.returncode, verdict()) == (1, "verdict=fail"), done.stdout + done.stderr
    assert "::error" in done.stdout and "style" in done.stdout


CORE_SCRIPT = textwrap.dedent(
    """
    import httpx
    from replicate_typed import Client, FileOutput
    from replicate_typed.models.stability_ai import sdxl

    URL = "https://files.example/out-0.png"

    def answer(request):
        body = {"id": "p1", "model": "stability-ai/sdxl", "version": sdxl.MODEL.version,
                "input": {}, "logs": "", "error": None, "data_removed": False,
                "created_at": "2025-01-01T00:00:00Z",
                "urls": {"get": "https://api.replicate.com/v1/predictions/p1", "cancel": "x"}}
        return httpx.Response(201, json={**body, "status": "succeeded", "output": [URL]})

    with Client(api_token="r8_core", transport=httpx.MockTransport(answer)) as client:
        images = client.run(sdxl.Input(prompt="core install"))
    assert images == [URL] and isinstance(images[0], FileOutput), images
    import pydantic
    print("ok", pydantic.VERSION, httpx.__version__)
    """
)


def test_the_core_install_lives_next_to_pydantic_2_9_and_httpx_0_27(
    wheel: Path, tmp_path: Path
) -> None:
    python = venv(tmp_path / "venv", "pydantic==2.9.2", "httpx==0.27.2", str(wheel))
    packages = installed(python)
    assert packages["pydantic"] == "2.9.2" and packages["httpx"] == "0.27.2"
    extras = {"starlette", "uvicorn", "pillow", "typer", "rich", "jinja2", "jsonschema", "click"}
    assert not extras & set(packages), sorted(extras & set(packages))
    done = run(python, "-c", CORE_SCRIPT, cwd=tmp_path)
    assert done.stdout.split() == ["ok", "2.9.2", "0.27.2"]

    # parts whose extra is missing: one line naming it (a command) / the error's message
    for command, extra in (("replicate-typed", "cli"), ("replicate-typed-codegen", "codegen")):
        done = run(python.parent / command, "--help", cwd=tmp_path, check=False)
        assert done.returncode == 1
        assert done.stdout == "" and len(done.stderr.splitlines()) == 1, done.stderr
        assert f"pip install 'replicate-typed[{extra}]'" in done.stderr
    done = run(python, "-m", "replicate_typed.mock", cwd=tmp_path, check=False)
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1, done.stderr
    assert "pip install 'replicate-typed[mock]'" in done.stderr
    done = run(python, "-c", "import replicate_typed.mock", cwd=tmp_path, check=False)
    assert done.stderr.splitlines()[-1].endswith("pip install 'replicate-typed[mock]'")
