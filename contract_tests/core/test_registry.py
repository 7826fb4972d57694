"""The generated registry: lookup by owner/name, owner/name:version and bare version id."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replicate_typed import registry
from replicate_typed.core.registry import UnknownModelError, parse_model_ref

SDXL = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"


def _specs(repo_root: Path) -> list[dict[str, object]]:
    return [
        json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((repo_root / "specs" / "models").glob("*/*/spec.json"))
    ]


def test_every_spec_is_in_the_registry_with_its_version_and_call_mode(repo_root: Path) -> None:
    specs = _specs(repo_root)
    assert sorted(registry) == sorted(str(s["model"]) for s in specs)
    for spec in specs:
        info = registry.get_model(str(spec["model"]))
        assert info.ref == spec["model"]
        assert info.version == spec["version"]
        assert info.call_by == spec["call"]
        assert info.input_type.__model_info__ is info


@pytest.mark.parametrize(
    "ref", ["stability-ai/sdxl", f"stability-ai/sdxl:{SDXL}", SDXL, f"  {SDXL}  "]
)
def test_lookup_forms_reach_the_same_model(ref: str) -> None:
    assert registry.get_model(ref).ref == "stability-ai/sdxl"


def test_model_path_model_has_no_version() -> None:
    info = registry.get_model("black-forest-labs/flux-schnell")
    assert info.call_by == "path" and info.version is None
    assert info.version_ref == "black-forest-labs/flux-schnell"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("stability-ai/sdx", "did you mean stability-ai/sdxl"),
        ("nobody/nothing", "no generated model 'nobody/nothing'"),
        ("a" * 64, "no generated model has version"),
        ("stability-ai/sdxl:" + "0" * 64, "is generated for version"),
        ("stability-ai/sdxl:abc", "is not a 64-hex version id"),
        ("not-a-ref", "is not owner/name"),
        ("a/b/c", "is not owner/name"),
    ],
)
def test_unknown_references_are_explained(ref: str, message: str) -> None:
    with pytest.raises(UnknownModelError, match=message):
        registry.get_model(ref)
    assert ref not in registry


def test_parse_model_ref() -> None:
    assert parse_model_ref("o/n") == ("o/n", None)
    assert parse_model_ref(f"o/n:{SDXL}") == ("o/n", SDXL)
    assert parse_model_ref(SDXL) == (None, SDXL)


def test_mapping_protocol() -> None:
    assert len(registry) == len(list(registry))
    assert registry["cjwbw/rembg"].name == "rembg"
    assert 42 not in registry  # type: ignore[operator]
