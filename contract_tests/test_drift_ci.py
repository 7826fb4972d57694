"""The drift workflow and pre-commit hook users paste (docs/drift-ci/): actionlint finds nothing
in the workflow (and finds the defect in a broken copy), and the drift step maps every exit code
of ``replicate-typed-codegen drift`` to its verdict. The steps against a real project and the
mock: ``contract_tests/test_user_project.py``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract_tests.conftest import ROOT

WORKFLOW = ROOT / "docs" / "drift-ci" / "replicate-typed.yml"
PRE_COMMIT = ROOT / "docs" / "drift-ci" / "pre-commit-config.yaml"
ACTIONLINT = Path(sys.executable).with_name("actionlint")


def workflow() -> dict[Any, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def steps(job: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = workflow()["jobs"][job]["steps"]
    return found


def drift_step() -> dict[str, Any]:
    (step,) = [s for s in steps("drift") if s.get("id") == "drift"]
    return step


def actionlint(path: Path) -> subprocess.CompletedProcess[str]:
    assert ACTIONLINT.is_file(), "actionlint comes with the dev extra (make setup)"
    return subprocess.run(
        [str(ACTIONLINT), "-no-color", str(path)], capture_output=True, text=True, timeout=120
    )


def test_the_workflow_lints_clean() -> None:
    done = actionlint(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_finds_a_defect(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    text = WORKFLOW.read_text(encoding="utf-8").replace("runs-on: ubuntu-latest", "runs-on: [", 1)
    broken.write_text(text.replace("${{ vars.REPLICATE_BASE_URL }}", "${{ var.X }}"), "utf-8")
    done = actionlint(broken)
    assert done.returncode == 1 and "broken.yml" in done.stdout, done.stdout


def test_the_workflow_runs_check_and_drift_with_the_secrets() -> None:
    runs = [s.get("run", "") for s in steps("generated")]
    assert "replicate-typed-codegen check" in runs
    env = drift_step()["env"]
    assert env["REPLICATE_API_TOKEN"] == "${{ secrets.REPLICATE_API_TOKEN }}"
    assert set(workflow()[True]) >= {"pull_request", "push", "schedule"}  # YAML 1.1: on == True


@pytest.mark.parametrize(
    ("code", "verdict", "step_exit", "annotation"),
    [
        (0, "pass", 0, ""),
        (1, "warn", 0, "::warning"),
        (2, "fail", 1, "::error"),
        (3, "fail", 1, "::error"),
    ],
)
def test_the_drift_step_maps_exit_codes_to_verdicts(
    tmp_path: Path, code: int, verdict: str, step_exit: int, annotation: str
) -> None:
    fake = tmp_path / "bin" / "replicate-typed-codegen"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\necho "drift report ($*)"\nexit {code}\n', encoding="utf-8")
    fake.chmod(0o755)
    output = tmp_path / "github_output"
    done = subprocess.run(
        ["bash", "-e", "-c", drift_step()["run"]],
        env={
            "PATH": f"{fake.parent}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_OUTPUT": str(output),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == step_exit, done.stdout + done.stderr
    assert output.read_text(encoding="utf-8") == f"verdict={verdict}\n"
    assert "--format markdown" in done.stdout
    if annotation:
        assert annotation in done.stdout
    else:
        assert "::" not in done.stdout


def test_the_pre_commit_hook_runs_check_on_spec_changes() -> None:
    config = yaml.safe_load(PRE_COMMIT.read_text(encoding="utf-8"))
    (hook,) = config["repos"][0]["hooks"]
    assert hook["entry"] == "replicate-typed-codegen check"
    assert hook["language"] == "system" and hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    assert files.search("specs/models/a/b/spec.json") and files.search("pyproject.toml")
    assert not files.search("myapp/app.py")
