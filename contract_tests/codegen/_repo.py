"""Helpers for tests that run the compiler on a temporary copy of the repository."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "contract_tests" / "fixtures" / "corpus"
APIFOX = ROOT / "contract_tests" / "fixtures" / "apifox"


def copy_repo(dest: Path, *, models: bool = True) -> Path:
    """specs/, generated/, the hand-written src/ and pyproject.toml, without caches."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".mypy_cache")
    shutil.copytree(ROOT / "specs" / "api", dest / "specs" / "api", ignore=ignore)
    if models:
        shutil.copytree(ROOT / "specs" / "models", dest / "specs" / "models", ignore=ignore)
    else:
        (dest / "specs" / "models").mkdir(parents=True)
    shutil.copytree(ROOT / "generated", dest / "generated", ignore=ignore)
    shutil.copytree(ROOT / "src", dest / "src", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    if models:  # the model reference (the table's `docs`): generated from the same specs
        shutil.copytree(ROOT / "docs" / "models", dest / "docs" / "models", ignore=ignore)
    return dest


def run_codegen(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, process: bool = False
) -> subprocess.CompletedProcess[str]:
    """The code generator's command line with ``ARGS``: its exit status, stdout and stderr.

    In this process by default (``codegen.cli.main`` with ``sys.argv``, the working directory,
    the environment and both streams swapped for the call): the same entry point a user's
    console script runs, without a fresh interpreter's second of imports. ``process=True`` runs
    ``python -m codegen ARGS`` in a subprocess instead, as a user does (the end-to-end tests).
    """
    if process:
        return _run_process(args, cwd, env)
    from codegen import cli

    out, err = io.StringIO(), io.StringIO()
    saved_argv, saved_cwd, saved_env = sys.argv, os.getcwd(), dict(os.environ)
    sys.argv = ["replicate-typed-codegen", *args]
    os.environ.update(env or {})
    os.environ.pop("CODEGEN_DEBUG", None)
    code: int = 0
    try:
        os.chdir(cwd or ROOT)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                cli.main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    finally:
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def _run_process(
    args: tuple[str, ...], cwd: Path | None, env: dict[str, str] | None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    full_env.pop("CODEGEN_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "codegen", *args],
        cwd=cwd or ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def spec_file(root: Path, ref: str) -> Path:
    return root / "specs" / "models" / ref / "spec.json"


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def save(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def corpus_ref(path: Path) -> str:
    """``owner__name.version.json`` -> ``owner/name``."""
    return path.name.removesuffix(".version.json").replace("__", "/", 1)
