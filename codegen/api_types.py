"""Prepare specs/api/openapi.json for datamodel-code-generator: tolerant response types, and
secret strings (``format: password``, e.g. the webhook signing key) typed as the runtime's
``Secret``, which never shows its value in a repr."""

from __future__ import annotations

import copy
from typing import Any

from .normalize import custom_string_type


def _pascal(*parts: str) -> str:
    return "".join(
        p[:1].upper() + p[1:] for part in parts for p in part.replace("-", "_").split("_")
    )


def _tolerant(node: Any, owner: str) -> Any:
    if isinstance(node, list):
        return [_tolerant(item, owner) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            props = {}
            for prop, sub in value.items():
                sub = _tolerant(sub, _pascal(owner, prop))
                if (
                    isinstance(sub, dict)
                    and (sub.get("type") == "object" or "object" in (sub.get("type") or []))
                    and "properties" in sub
                    and "title" not in sub
                ):
                    sub = {**sub, "title": _pascal(owner, prop)}
                props[prop] = sub
            out[key] = props
        else:
            out[key] = _tolerant(value, owner)
    if out.get("format") == "uri":
        del out["format"]  # a server's odd URL must not fail a whole prediction
    custom = custom_string_type(out)  # uri formats are gone: only secrets (the signing key)
    if custom is not None:
        out["customTypePath"] = custom
    kind = out.get("type")
    is_object = kind == "object" or (isinstance(kind, list) and "object" in kind)
    if is_object and "additionalProperties" not in out:
        out["additionalProperties"] = True
    return out


def normalise_api(document: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(document)
    schemas = doc["components"]["schemas"]
    doc["components"]["schemas"] = {
        name: _tolerant(schema, name) for name, schema in schemas.items()
    }
    return doc
