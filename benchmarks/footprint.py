"""Install footprint (``make bench-footprint``): packages and disk size of a fresh venv with
``replicate-typed`` (core), ``replicate-typed[all]`` and the official ``replicate==1.0.7``.

The wheel is built from this checkout; each venv is made by uv (no pip or setuptools in it), and
its size is that of ``site-packages`` (bytes of every file). Needs the package index (or uv's
cache). Usage: ``python -m benchmarks.footprint``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).with_name("uv")


def _run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True).stdout


def footprint(base: Path, name: str, requirement: str) -> tuple[int, int, list[str]]:
    venv = base / name
    _run(UV, "venv", "--quiet", "--python", sys.executable, venv)
    python = venv / "bin" / "python"
    _run(UV, "pip", "install", "--quiet", "--python", python, requirement)
    listing = json.loads(_run(UV, "pip", "list", "--python", python, "--format", "json"))
    names = sorted(p["name"] for p in listing)
    (site,) = (venv / "lib").glob("python3*/site-packages")
    size = sum(f.stat().st_size for f in site.rglob("*") if f.is_file())
    return len(names), size, names


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="footprint-") as tmp:
        base = Path(tmp)
        _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", base, ROOT)
        (wheel,) = base.glob("replicate_typed-*.whl")
        cases = {
            "replicate-typed (core)": str(wheel),
            "replicate-typed[all]": f"{wheel}[all]",
            "replicate==1.0.7 (official)": "replicate==1.0.7",
        }
        print(f"{'install':<30} {'packages':>8} {'MB':>7}")
        for index, (label, requirement) in enumerate(cases.items()):
            count, size, names = footprint(base, f"v{index}", requirement)
            print(f"{label:<30} {count:8d} {size / 1e6:7.1f}   {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
