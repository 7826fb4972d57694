"""``models``: the generated models and how each is called."""

from __future__ import annotations

from replicate_typed.cli.output import JsonFlag, print_json, print_rows

__all__ = ["list_models"]


def list_models(as_json: JsonFlag = False) -> None:
    """The generated models: how each is called (by version or by model path)."""
    from replicate_typed.models import registry

    rows = []
    for ref in sorted(registry):
        info = registry.get_model(ref)
        rows.append({"model": ref, "call_by": info.call_by, "version": info.version})
    if as_json:
        print_json(rows)
        return
    print_rows(
        ("model", "call by", "version"),
        [(str(r["model"]), str(r["call_by"]), str(r["version"] or "-")) for r in rows],
    )
