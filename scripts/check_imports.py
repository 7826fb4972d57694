"""``make check``: the import contracts of ``[tool.importlinter]`` (pyproject.toml), checked.

``replicate_typed`` is one package from two folders (``src/`` and ``generated/``, see setup.py).
import-linter reads one folder per package, so the two halves are laid out together in a
temporary folder first, as the wheel lays them out, and the contracts run against that copy.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HALVES = (ROOT / "src" / "replicate_typed", ROOT / "generated" / "replicate_typed")


def assemble(target: Path) -> Path:
    """Both halves of the package merged under ``target/replicate_typed``."""
    package = target / "replicate_typed"
    ignore = shutil.ignore_patterns("__pycache__")
    for half in HALVES:
        shutil.copytree(half, package, dirs_exist_ok=True, ignore=ignore)
    return package


def main() -> int:
    lint = Path(sys.executable).with_name("lint-imports")
    with tempfile.TemporaryDirectory(prefix="import-contracts-") as tmp:
        assemble(Path(tmp))
        env = {**os.environ, "PYTHONPATH": tmp}
        command = [str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache"]
        return subprocess.run(command, env=env, cwd=tmp).returncode


if __name__ == "__main__":
    sys.exit(main())
