"""Derive specs/api/openapi.json from Replicate's own OpenAPI document.

Keeps every operation, names every schema (component schemas renamed to the names the generated
package exposes, inline bodies and answers lifted into named components), and adds what the
upstream document leaves implicit: the retry class of each operation (``x-retry``),
problem-details errors and the tolerance of prediction statuses the document has not listed yet.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

# Every operation of the upstream document is kept: a new one arrives by ``api-spec`` +
# ``generate`` with no hand edit. Its retry class is written into the spec as ``x-retry`` (``read``:
# safe to repeat; ``cancel``: an idempotent write; ``create``: a POST that creates something, never
# repeated once it may have been received) and from there into the generated operation table
# (``replicate_typed.types.operations``). The class follows from the method (:func:`retry_class`);
# :data:`RETRY_OVERRIDES` holds the operations where that rule would be wrong.
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace", "query")
SAFE_METHODS = frozenset({"get", "head", "options", "query"})
IDEMPOTENT_METHODS = frozenset({"put", "delete", "patch"})
RETRY_OVERRIDES: dict[tuple[str, str], str] = {}


def retry_class(path: str, method: str) -> str:
    """``read`` for safe methods, ``cancel`` for idempotent writes (PUT/PATCH/DELETE, and a POST
    to a ``.../cancel`` path), ``create`` for any other POST."""
    override = RETRY_OVERRIDES.get((path, method))
    if override is not None:
        return override
    if method in SAFE_METHODS:
        return "read"
    if method in IDEMPOTENT_METHODS or path.endswith("/cancel"):
        return "cancel"
    return "create"


# Upstream component names -> the names the generated package exposes. A schema not listed gets
# :func:`schema_name` (``schemas_paginated_x_response`` -> ``XPage``, ``schemas_x_response`` -> ``X``).
SCHEMA_NAMES: dict[str, str] = {
    "schemas_prediction_response": "Prediction",
    "schemas_version_prediction_request": "PredictionRequest",
    "schemas_prediction_request": "ModelPredictionRequest",
    "schemas_paginated_prediction_response": "PredictionPage",
    "schemas_file_response": "File",
    "schemas_model_response": "Model",
    "schemas_version_response": "ModelVersion",
    "schemas_paginated_version_response": "ModelVersionPage",
    "schemas_search_response": "SearchResults",
    "schemas_page_response": "DocumentationPage",
}

# Inline request/response schemas lifted into components, so every operation's body and answer
# is a named type: (operationId, "request" | status code) -> name. One not listed gets
# :func:`lifted_name` (``PascalOperationId`` + ``Request``/``Response``).
LIFTED_NAMES: dict[tuple[str, str], str] = {
    ("account.get", "200"): "Account",
    ("deployments.list", "200"): "DeploymentPage",
    ("deployments.create", "request"): "DeploymentCreateRequest",
    ("deployments.update", "request"): "DeploymentUpdateRequest",
    ("files.list", "200"): "FilePage",
    ("hardware.list", "200"): "Hardware",
    ("models.create", "request"): "ModelCreateRequest",
    ("models.update", "request"): "ModelUpdateRequest",
    ("models.search", "200"): "ModelPage",
    ("predictions.list", "200"): "PredictionPage",
    ("trainings.list", "200"): "TrainingPage",
}


def _pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[._\-]+", text) if part)


def schema_name(upstream: str) -> str:
    """The exposed name of an upstream component schema."""
    if upstream in SCHEMA_NAMES:
        return SCHEMA_NAMES[upstream]
    name = upstream.removeprefix("schemas_").removesuffix("_response")
    if name.startswith("paginated_"):
        return _pascal(name.removeprefix("paginated_")) + "Page"
    return _pascal(name)


def lifted_name(operation_id: str, where: str) -> str:
    """The component name of an operation's inline request body or answer."""
    if (operation_id, where) in LIFTED_NAMES:
        return LIFTED_NAMES[(operation_id, where)]
    return _pascal(operation_id) + ("Request" if where == "request" else "Response")


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
                out[key] = "#/components/schemas/" + schema_name(name)
            else:
                out[key] = _rename_refs(value)
        return out
    if isinstance(node, list):
        return [_rename_refs(item) for item in node]
    return node


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
    """Prefer: wait=N allows N in 1..60 (upstream's pattern lets 61..99 through). In Python the
    header is ``wait`` (True, or 1..60 seconds), as ``Prefer: wait`` means it."""
    prefer = parameters.get("parameters_prefer_header", {})
    if prefer.get("name") == "Prefer":
        prefer["x-python-name"] = "wait"
        prefer["x-python-type"] = "bool | int"
    schema = prefer.get("schema", {})
    if schema.get("pattern") == UPSTREAM_PREFER_PATTERN:
        schema["pattern"] = "^wait(=([1-9]|[1-5][0-9]|60))?$"


def _overlay_errors(paths: dict[str, Any]) -> None:
    """Document the problem-details errors every operation can answer (422 where it takes a
    body or query parameters)."""
    problem = {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}
    }
    for item in paths.values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            codes = dict(ERROR_RESPONSES)
            takes_query = any(
                isinstance(p, dict) and p.get("in") == "query"
                for p in operation.get("parameters", [])
            )
            if "requestBody" in operation or takes_query:
                codes["422"] = "Invalid input (problem details name each invalid field)"
            for code, description in codes.items():
                responses.setdefault(code, {"description": description, "content": problem})


def _lift(
    operation: dict[str, Any], where: str, media: dict[str, Any], schemas: dict[str, Any]
) -> None:
    schema = media.get("schema")
    if not isinstance(schema, dict) or "$ref" in schema:
        return
    kind = schema.get("type")
    items = schema.get("items")
    if kind == "array" and isinstance(items, dict) and items.get("type") == "object":
        name = lifted_name(operation["operationId"], where)  # the item is named, not the list
        schemas.setdefault(name, items)
        media["schema"] = {**schema, "items": {"$ref": f"#/components/schemas/{name}"}}
        return
    if kind != "object" or "properties" not in schema:
        return
    for existing, body in schemas.items():
        if body == schema:  # the same object as a component: refer to it
            media["schema"] = {"$ref": f"#/components/schemas/{existing}"}
            return
    name = lifted_name(operation["operationId"], where)
    # a name listed in LIFTED_NAMES may be an existing component's (``predictions.list`` answers a
    # ``PredictionPage``): the listing says they are one type
    schemas.setdefault(name, schema)
    media["schema"] = {"$ref": f"#/components/schemas/{name}"}


def _lift_inline(paths: dict[str, Any], schemas: dict[str, Any]) -> None:
    """Name the inline JSON request bodies and success answers (objects, and the items of
    arrays) as components, so every operation's types have names (``FilePage``, ``Account``,
    ``DeploymentCreateRequest``...)."""
    for item in paths.values():
        for operation in item.values():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if isinstance(body, dict):
                _lift(operation, "request", body, schemas)
            for code, response in sorted(operation.get("responses", {}).items()):
                if not code.startswith("2") or not isinstance(response, dict):
                    continue
                media = response.get("content", {}).get("application/json")
                if isinstance(media, dict):
                    _lift(operation, code, media, schemas)


def trim(upstream: dict[str, Any]) -> dict[str, Any]:
    """Return the API spec derived from an upstream Replicate OpenAPI document: every operation,
    every schema named, the overlays applied."""
    doc = copy.deepcopy(upstream)
    paths: dict[str, Any] = {}
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS or not isinstance(operation, dict):
                continue
            operation["x-retry"] = retry_class(path, method)
            paths.setdefault(path, {})[method] = operation
    schemas_in = doc["components"]["schemas"]
    schemas = {schema_name(k): _rename_refs(v) for k, v in schemas_in.items()}
    paths = _rename_refs(paths)

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
    secret = paths.get("/webhooks/default/secret", {}).get("get")
    if secret is not None:
        secret["responses"]["200"]["content"]["application/json"]["schema"] = {
            "$ref": "#/components/schemas/WebhookSecret"
        }

    _lift_inline(paths, schemas)
    _overlay_errors(paths)
    return {
        "openapi": doc["openapi"],
        "info": {
            "title": "Replicate-format prediction API (replicate-typed)",
            "version": doc["info"]["version"],
            "description": "Derived from Replicate's own OpenAPI document by "
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
        "paths": paths,
        "components": {
            "securitySchemes": doc["components"]["securitySchemes"],
            "parameters": dict(sorted(doc["components"].get("parameters", {}).items())),
            "schemas": dict(sorted(schemas.items())),
        },
    }


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
