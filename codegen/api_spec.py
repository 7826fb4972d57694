"""Derive specs/api/openapi.json from Replicate's own OpenAPI document.

Keeps the operations CONTRACT.md puts in scope, renames component schemas to the names the
generated package exposes, and adds what the upstream document leaves implicit: problem-details
errors and the tolerance of prediction statuses the document has not listed yet.
"""

from __future__ import annotations

import copy
import json
from typing import Any

# (path, method, retry class) -> kept; operationIds come from upstream. The retry class is written
# into the spec as ``x-retry`` (``read``: safe to repeat; ``cancel``: an idempotent POST;
# ``create``: a POST that creates something, never repeated once it may have been received) and
# from there into the generated operation table (``replicate_typed.types.operations``).
OPERATIONS: tuple[tuple[str, str, str], ...] = (
    ("/predictions", "post", "create"),
    ("/predictions", "get", "read"),
    ("/predictions/{prediction_id}", "get", "read"),
    ("/predictions/{prediction_id}/cancel", "post", "cancel"),
    ("/models/{model_owner}/{model_name}/predictions", "post", "create"),
    ("/models/{model_owner}/{model_name}", "get", "read"),
    ("/models/{model_owner}/{model_name}/versions", "get", "read"),
    ("/models/{model_owner}/{model_name}/versions/{version_id}", "get", "read"),
    ("/files", "get", "read"),
    ("/files", "post", "create"),
    ("/files/{file_id}", "get", "read"),
    # idempotent: a repeated DELETE leaves the same state (retried like a cancel)
    ("/files/{file_id}", "delete", "cancel"),
    ("/webhooks/default/secret", "get", "read"),
)

SCHEMA_NAMES: dict[str, str] = {
    "schemas_prediction_response": "Prediction",
    "schemas_version_prediction_request": "PredictionRequest",
    "schemas_prediction_request": "ModelPredictionRequest",
    "schemas_paginated_prediction_response": "PredictionPage",
    "schemas_file_response": "File",
    "schemas_model_response": "Model",
    "schemas_version_response": "ModelVersion",
    "schemas_paginated_version_response": "ModelVersionPage",
}

PREDICTION_STATUSES = ["starting", "processing", "succeeded", "failed", "canceled", "aborted"]

PROBLEM_DETAILS: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem-details error body (application/problem+json).",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "status": {"type": "integer"},
        "instance": {"type": "string"},
        "invalid_fields": {
            "type": "array",
            "description": "Per-field validation errors (422).",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "field": {"type": "string"},
                    "description": {"type": "string"},
                },
            },
        },
    },
}

WEBHOOK_SECRET: dict[str, Any] = {
    "type": "object",
    "properties": {
        "key": {
            "type": "string",
            "format": "password",
            "description": "The signing secret (whsec_...).",
        }
    },
    "required": ["key"],
}


def _rename_refs(node: Any) -> Any:
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for key, value in node.items():
            if (
                key == "$ref"
                and isinstance(value, str)
                and value.startswith("#/components/schemas/")
            ):
                name = value.rsplit("/", 1)[1]
                out[key] = "#/components/schemas/" + SCHEMA_NAMES.get(name, name)
            else:
                out[key] = _rename_refs(value)
        return out
    if isinstance(node, list):
        return [_rename_refs(item) for item in node]
    return node


def _collect_refs(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            found.add(ref)
        for value in node.values():
            _collect_refs(value, found)
    elif isinstance(node, list):
        for item in node:
            _collect_refs(item, found)


# Optional prediction fields that servers send as null (the mock, the router, the official API).
NULLABLE_PREDICTION_FIELDS = (
    "completed_at",
    "deadline",
    "deployment",
    "logs",
    "metrics",
    "source",
    "started_at",
)

ERROR_RESPONSES: dict[str, str] = {
    "401": "Unauthenticated: missing or invalid token",
    "404": "Not found",
    "429": "Too many requests (throttled)",
}


def _overlay_prediction(prediction: dict[str, Any]) -> None:
    """Correct known faults of the upstream prediction object, each only where upstream still
    has the faulty shape: anything else upstream changes stays visible to drift detection."""
    props = prediction.get("properties", {})
    for name in NULLABLE_PREDICTION_FIELDS:
        field = props.get(name)
        if isinstance(field, dict) and isinstance(field.get("type"), str):
            field["type"] = [field["type"], "null"]
            if "enum" in field and None not in field["enum"]:
                field["enum"] = [*field["enum"], None]
    error = props.get("error")
    if (
        isinstance(error, dict)
        and error.get("nullable") is True
        and isinstance(error.get("type"), str)
    ):
        del error["nullable"]  # OpenAPI 3.0 spelling in a 3.1 document
        error["type"] = [error["type"], "null"]
    # "hidden" (official models) matches both branches of upstream's oneOf: it must be anyOf.
    version = props.get("version")
    if isinstance(version, dict) and "oneOf" in version:
        version["anyOf"] = version.pop("oneOf")
    _overlay_tolerant(prediction)


def _nullable(field: dict[str, Any]) -> None:
    """Let ``field`` be null as well (``type: [t, "null"]``, or a null branch of its anyOf)."""
    kind = field.get("type")
    if isinstance(kind, str):
        field["type"] = [kind, "null"]
        if "enum" in field and None not in field["enum"]:
            field["enum"] = [*field["enum"], None]
    elif kind is None and isinstance(field.get("anyOf"), list):
        if {"type": "null"} not in field["anyOf"]:
            field["anyOf"] = [*field["anyOf"], {"type": "null"}]


# Fields upstream requires that routers leave out (seed 001's create answer is {"id", "status"}).
# ``error`` is made nullable above and ``output`` has no type (any JSON, null included).
TOLERATED_MISSING = (
    "created_at",
    "data_removed",
    "error",
    "input",
    "model",
    "output",
    "status",
    "urls",
    "version",
)
URLS_TOLERATED_MISSING = ("cancel", "get", "stream", "web")


def _overlay_tolerant(prediction: dict[str, Any]) -> None:
    """Only ``id`` is certain: routers answer with subsets of the object (seed 001's create answer
    is ``{"id", "status"}``; seed 003's ``urls`` has no ``web``). The fields in
    :data:`TOLERATED_MISSING` may be missing or null, and the client's typed view says so (None)
    instead of rejecting a paid prediction. Whatever else upstream requires stays required, so a
    newly required field or a dropped ``id`` still shows up as drift."""
    props = prediction.get("properties", {})
    required = prediction.get("required")
    if isinstance(required, list):
        prediction["required"] = [name for name in required if name not in TOLERATED_MISSING]
    for name in TOLERATED_MISSING:
        field = props.get(name)
        if isinstance(field, dict) and name not in ("error", "output"):
            _nullable(field)
    urls = props.get("urls")
    if isinstance(urls, dict) and isinstance(urls.get("required"), list):
        kept = [name for name in urls["required"] if name not in URLS_TOLERATED_MISSING]
        if kept:
            urls["required"] = kept
        else:
            del urls["required"]


UPSTREAM_PREFER_PATTERN = "^wait(=([1-9]|[1-9][0-9]|60))?$"


def _overlay_prefer(parameters: dict[str, Any]) -> None:
    """Prefer: wait=N allows N in 1..60 (upstream's pattern lets 61..99 through)."""
    schema = parameters.get("parameters_prefer_header", {}).get("schema", {})
    if schema.get("pattern") == UPSTREAM_PREFER_PATTERN:
        schema["pattern"] = "^wait(=([1-9]|[1-5][0-9]|60))?$"


def _overlay_errors(paths: dict[str, Any]) -> None:
    """Document the problem-details errors every operation can answer."""
    problem = {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
    }
    for path, item in paths.items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            codes = dict(ERROR_RESPONSES)
            if method == "post" and path.endswith("predictions"):
                codes["422"] = "Invalid input (problem details name each invalid field)"
            for code, description in codes.items():
                responses.setdefault(code, {"description": description, "content": problem})


def _lift_file_page(paths: dict[str, Any], schemas: dict[str, Any]) -> None:
    """``files.list`` answers an inline page object upstream: name it ``FilePage`` (as
    ``PredictionPage``) so the generated types have it. Only while upstream keeps it inline."""
    content = paths.get("/files", {}).get("get", {}).get("responses", {}).get("200", {})
    media = content.get("content", {}).get("application/json", {})
    schema = media.get("schema")
    if (
        isinstance(schema, dict)
        and "$ref" not in schema
        and "results" in schema.get("properties", {})
    ):
        schemas["FilePage"] = schema
        media["schema"] = {"$ref": "#/components/schemas/FilePage"}


def trim(upstream: dict[str, Any]) -> dict[str, Any]:
    """Return the in-scope subset of an upstream Replicate OpenAPI document, renamed."""
    doc = copy.deepcopy(upstream)
    paths: dict[str, Any] = {}
    for path, method, retry in OPERATIONS:
        operation = doc["paths"][path][method]
        operation["x-retry"] = retry
        paths.setdefault(path, {})[method] = operation
    schemas_in = doc["components"]["schemas"]
    schemas = {SCHEMA_NAMES.get(k, k): v for k, v in schemas_in.items()}

    prediction = schemas["Prediction"]
    status = prediction["properties"]["status"]
    schemas["PredictionStatus"] = {
        "type": "string",
        "enum": list(status.get("enum", PREDICTION_STATUSES)),
        "description": status.get("description", "The prediction status."),
    }
    prediction["properties"]["status"] = {
        "description": "A known PredictionStatus, or a status this document does not list yet "
        "(clients must survive it).",
        "anyOf": [{"$ref": "#/components/schemas/PredictionStatus"}, {"type": "string"}],
    }
    prediction["additionalProperties"] = True
    _overlay_prediction(prediction)
    _overlay_prefer(doc["components"].get("parameters", {}))
    schemas["ProblemDetails"] = PROBLEM_DETAILS
    schemas["WebhookSecret"] = WEBHOOK_SECRET
    paths["/webhooks/default/secret"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ] = {"$ref": "#/components/schemas/WebhookSecret"}

    _lift_file_page(paths, schemas)
    _overlay_errors(paths)
    out: dict[str, Any] = {
        "openapi": doc["openapi"],
        "info": {
            "title": "Replicate-format prediction API (replicate-typed subset)",
            "version": doc["info"]["version"],
            "description": "Trimmed from Replicate's own OpenAPI document by "
            "`python -m codegen api-spec`. Routers serve the same paths under {host}/replicate/v1.",
        },
        "servers": doc["servers"]
        + [
            {
                "url": "{host}/replicate/v1",
                "variables": {"host": {"default": "http://127.0.0.1:8787"}},
            }
        ],
        "security": doc["security"],
        "paths": _rename_refs(paths),
        "components": {
            "securitySchemes": doc["components"]["securitySchemes"],
            "parameters": {},
            "schemas": {},
        },
    }
    # Keep only the components the kept operations reach (transitively).
    wanted_schemas = set(SCHEMA_NAMES.values()) | {
        "FilePage",
        "PredictionStatus",
        "ProblemDetails",
        "WebhookSecret",
    }
    pending = [out["paths"], *(_rename_refs(schemas[n]) for n in wanted_schemas if n in schemas)]
    seen: set[str] = set()
    while pending:
        refs: set[str] = set()
        _collect_refs(pending.pop(), refs)
        for ref in sorted(refs - seen):
            seen.add(ref)
            _, _, section, name = ref.split("/", 3)
            source = schemas if section == "schemas" else doc["components"][section]
            node = _rename_refs(source[name])
            out["components"][section][name] = node
            pending.append(node)
    for name in sorted(wanted_schemas):
        if name in schemas and name not in out["components"]["schemas"]:
            out["components"]["schemas"][name] = _rename_refs(schemas[name])
    out["components"]["schemas"] = dict(sorted(out["components"]["schemas"].items()))
    out["components"]["parameters"] = dict(sorted(out["components"]["parameters"].items()))
    return out


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
