"""The compiler's tests share one mypy cache per test worker.

``generate``/``add-model`` type-check what they change (codegen.verify); in a fresh temporary
repository that would start mypy cold every time (the runtime and pydantic analysed again).
The cache lives in the project's ``.mypy_cache`` (git-ignored), one folder per xdist worker, so
it stays warm between tests and between runs; mypy validates every cached module against its
source (by hash), so a stale entry is re-checked, never trusted.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from contract_tests.codegen._repo import ROOT


@pytest.fixture(scope="session", autouse=True)
def shared_mypy_cache(worker_id: str) -> Iterator[None]:
    folder = ROOT / ".mypy_cache" / "codegen-tests" / worker_id
    folder.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get("CODEGEN_MYPY_CACHE_DIR")
    os.environ["CODEGEN_MYPY_CACHE_DIR"] = str(folder)
    yield
    if previous is None:
        os.environ.pop("CODEGEN_MYPY_CACHE_DIR", None)
    else:
        os.environ["CODEGEN_MYPY_CACHE_DIR"] = previous
