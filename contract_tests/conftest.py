"""Shared fixtures: paths of the repository and its fixtures; a guard on the generated schemas."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


def schema_texts() -> dict[str, str]:
    """Every generated model's published schemas (input, output, training input) as JSON text:
    module-level objects every test in a worker shares."""
    from replicate_typed.models import registry

    texts: dict[str, str] = {}
    for ref in registry:
        info = registry.get_model(ref)
        parts: dict[str, Any] = {"input": info.input_schema, "output": info.output_schema}
        if info.training is not None:
            parts["training input"] = info.training.input_schema
        for part, schema in parts.items():
            texts[f"{ref} {part}"] = json.dumps(schema, sort_keys=True)
    return texts


@pytest.fixture(scope="session")
def _pristine_schemas() -> dict[str, str]:
    return schema_texts()


@pytest.fixture(autouse=True, scope="module")
def _schemas_unchanged(_pristine_schemas: dict[str, str]) -> Iterator[None]:
    """A test module that changes a generated schema in place (a library that resolves $refs
    by assignment, a shallow copy edited) fails here, named, instead of breaking whichever
    test the same worker runs next."""
    yield
    changed = sorted(k for k, v in schema_texts().items() if _pristine_schemas.get(k) != v)
    assert not changed, f"this module changed shared generated schemas in place: {changed}"
