"""A user's project: ``[tool.replicate-typed]`` in its pyproject.toml, its own generated models
(``replicate-typed-codegen generate``), and ``replicate-typed mcp`` started in its folder offers
those models (``--builtin`` adds the package's own)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from replicate_typed.core.registry import Registry
from replicate_typed.mcp.catalog import load_catalog
from replicate_typed.mock import MockBackend, MockConfig, MockServer
from replicate_typed.models import registry as builtin

from .conftest import QUICK, TOKEN, env_for, text_of
from .harness import McpHarness

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = """\
[project]
name = "myapp"
version = "0.1.0"

[tool.replicate-typed]
specs = "specs"
package = "myapp/replicate_models"
"""
REF = "acme/bg-remover"
VERSION = "0123456789abcdef" * 4

pytestmark = pytest.mark.slow  # the code generator runs (and verifies with mypy)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("myapp")
    (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    spec = json.loads((ROOT / "specs/models/cjwbw/rembg/spec.json").read_text(encoding="utf-8"))
    spec["model"], spec["version"] = REF, VERSION
    target = root / "specs/models/acme/bg-remover"
    target.mkdir(parents=True)
    (target / "spec.json").write_text(json.dumps(spec, indent=2), encoding="utf-8")
    (root / "myapp").mkdir()
    (root / "myapp/__init__.py").write_text("", encoding="utf-8")
    codegen = Path(sys.executable).with_name("replicate-typed-codegen")
    run = subprocess.run(
        [str(codegen), "generate"], cwd=root, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return root


@pytest.fixture(scope="module")
def project_mock(project: Path) -> Iterator[MockServer]:
    sys.path.insert(0, str(project))
    try:
        from myapp.replicate_models import registry as theirs  # type: ignore[import-not-found]

        served = Registry.combine(builtin, theirs)
        config = MockConfig(api_tokens=(TOKEN,), default_timing=QUICK)
        server = MockServer(backend=MockBackend(config, registry=served))
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        sys.path.remove(str(project))


def test_the_projects_models_are_the_tools(
    project: Path, project_mock: MockServer, tmp_path: Path
) -> None:
    mcp = McpHarness([], env_for(project_mock.url + "/replicate"), cwd=project,
                     errlog=tmp_path / "err.txt")  # fmt: skip
    mcp.start()
    try:
        names = {t.name for t in mcp.run(lambda s: s.list_tools()).tools}
        assert names == {"acme__bg-remover", "predictions_get", "predictions_list",
                         "predictions_cancel", "models_get"}  # fmt: skip
        result = mcp.call("acme__bg-remover", {"image": "https://example.com/cat.png"})
        assert not result.is_error, text_of(result)
        assert result.structured_content["model"] == REF
        refused = mcp.call("acme__bg-remover", {"image": 3})
        assert refused.is_error and "- image:" in text_of(refused)
        assert project_mock.backend.stats()["creates"] == 1
    finally:
        mcp.close()


def test_builtin_adds_the_packages_models(project: Path) -> None:
    refs = [m.ref for m in load_catalog(project=project, builtin=True)]
    assert REF in refs and set(builtin) <= set(refs)
    only = load_catalog(project=project, builtin=True, models=[REF, "cjwbw/rembg"])
    assert [m.ref for m in only] == [REF, "cjwbw/rembg"]
