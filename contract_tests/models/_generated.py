"""Model modules generated in-process from spec data (no files written), for tests."""

from __future__ import annotations

import itertools
import sys
import types
from pathlib import Path
from typing import Any

from codegen import generate as gen
from codegen.spec import validate_spec_data

ROOT = Path(__file__).resolve().parents[2]
_NAMES = itertools.count()


def cog_spec(
    props: dict[str, Any],
    *,
    required: list[str] | None = None,
    others: dict[str, Any] | None = None,
    output: dict[str, Any] | None = None,
    model: str = "acme/generated",
) -> dict[str, Any]:
    """A spec whose Input has ``props``, called by path."""
    return {
        "model": model,
        "call": "path",
        "version": None,
        "openapi_schema": {
            "components": {
                "schemas": {
                    "Input": {"type": "object", "properties": props, "required": required or []},
                    "Output": output or {"type": "string"},
                    **(others or {}),
                }
            }
        },
    }


def generated_module(data: dict[str, Any], path: Path = Path("spec.json")) -> types.ModuleType:
    """Render the model module of spec ``data`` and import it (as a fresh module)."""
    spec = validate_spec_data(path, data)
    text = gen.render_model(gen._env(), spec, ROOT)
    module = types.ModuleType(f"_generated_{next(_NAMES)}")
    sys.modules[module.__name__] = module
    exec(compile(text, module.__name__, "exec"), module.__dict__)
    return module


def version_module(version_file: Path, ref: str) -> types.ModuleType:
    """The module of a saved model version (``{id, openapi_schema}``), as add-model makes it."""
    from codegen import add_model as adder

    data = adder.spec_from_version(
        adder.load_version_file(version_file), ref, provenance="test", source=str(version_file)
    )
    return generated_module(data, version_file)
