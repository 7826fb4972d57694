"""Python-safe module names for any owner/name, with collisions detected."""

from __future__ import annotations

import keyword
import re

_NOT_IDENT = re.compile(r"[^0-9a-zA-Z_]+")


def module_name(part: str) -> str:
    """``stability-ai`` -> ``stability_ai``; ``flux-1.1-pro`` -> ``flux_1_1_pro``;
    ``3d-model`` -> ``m_3d_model``; ``-x`` -> ``m_x``; ``class`` -> ``class_``."""
    name = _NOT_IDENT.sub("_", part).strip("_").lower()
    name = re.sub(r"_+", "_", name)
    if not name:
        name = "m"
    if name[0].isdigit() or part[:1] in "-._":
        name = f"m_{name}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in {"lib", "types"}:
        name = f"{name}_"
    return name


def class_name(ref: str) -> str:
    """``stability-ai/sdxl`` -> ``StabilityAiSdxl``: a Python class name for a model."""
    words = [w for w in _NOT_IDENT.sub(" ", ref.replace("_", " ")).split() if w]
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Model"
    if name[0].isdigit():
        name = f"M{name}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        name = f"{name}_"
    return name


def module_path(ref: str) -> str:
    """``owner/name`` -> ``owner_mod.name_mod`` (relative to ``replicate_typed.models``)."""
    owner, name = ref.split("/", 1)
    return f"{module_name(owner)}.{module_name(name)}"


def find_collisions(refs: list[str]) -> dict[str, list[str]]:
    """Map a Python module path to the refs that would share it, where more than one would."""
    seen: dict[str, list[str]] = {}
    for ref in refs:
        seen.setdefault(module_path(ref), []).append(ref)
    # owner folders must also be unique per owner spelling
    owners: dict[str, set[str]] = {}
    for ref in refs:
        owner = ref.split("/", 1)[0]
        owners.setdefault(module_name(owner), set()).add(owner)
    out = {k: sorted(v) for k, v in seen.items() if len(v) > 1}
    for mod, spellings in owners.items():
        if len(spellings) > 1:
            out[mod] = sorted(spellings)
    return dict(sorted(out.items()))
