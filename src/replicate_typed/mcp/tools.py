"""Tool definitions: one per model (its input schema, its output described) and the generic ones.

A model's tool takes the model's own ``INPUT_SCHEMA`` (descriptions, defaults, enums, ranges,
``$defs``) as its ``inputSchema``. Its ``outputSchema`` is an object holding the prediction's
``id``, ``status`` and ``output``, where ``output`` is the model's ``OUTPUT_SCHEMA`` (its
``$defs`` moved to the root so every ``$ref`` resolves).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from replicate_typed.core.model import ModelInfo
from replicate_typed.mcp.names import tool_names

__all__ = [
    "GENERIC_TOOLS",
    "ModelTool",
    "generic_tool_specs",
    "model_tools",
    "output_schema",
]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

PREDICTION_ID = {
    "type": "string",
    "minLength": 1,
    "maxLength": 128,
    "pattern": "^[A-Za-z0-9._~-]+$",
    "description": "A prediction id, as a model tool or predictions_list returned it.",
}

# name -> (description, input schema, read only)
GENERIC_TOOLS: dict[str, tuple[str, dict[str, Any], bool]] = {
    "predictions_get": (
        "Get a prediction by id: its status, logs, error, metrics and output (file outputs as "
        "links).",
        {
            "type": "object",
            "properties": {"id": PREDICTION_ID},
            "required": ["id"],
            "additionalProperties": False,
        },
        True,
    ),
    "predictions_list": (
        "List recent predictions, newest first (id, model, status, created_at).",
        {
            "type": "object",
            "properties": {
                "limit": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 100,
                    "default": 20,
                    "description": "How many predictions to return.",
                }
            },
            "additionalProperties": False,
        },
        True,
    ),
    "predictions_cancel": (
        "Cancel a prediction by id (a finished prediction stays as it is).",
        {
            "type": "object",
            "properties": {"id": PREDICTION_ID},
            "required": ["id"],
            "additionalProperties": False,
        },
        False,
    ),
    "models_get": (
        "Look a model up by owner/name: its tool name (when this server offers it), version, "
        "input JSON Schema and output JSON Schema.",
        {
            "type": "object",
            "properties": {
                "model": {
                    "type": "string",
                    "pattern": "^[A-Za-z0-9._-]+/[A-Za-z0-9._-]+(:[0-9a-f]{64})?$",
                    "description": "owner/name (optionally owner/name:<64-hex version>)",
                }
            },
            "required": ["model"],
            "additionalProperties": False,
        },
        True,
    ),
}


@dataclass(frozen=True)
class ModelTool:
    """One model's tool."""

    name: str
    info: ModelInfo[Any, Any]
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]


def output_schema(info: ModelInfo[Any, Any]) -> dict[str, Any]:
    """The tool's ``outputSchema``: ``{id, status, output}`` with ``output`` the model's own."""
    output = copy.deepcopy(info.output_schema)
    defs = output.pop("$defs", None)
    schema: dict[str, Any] = {
        "$schema": SCHEMA_DIALECT,
        "type": "object",
        "properties": {
            "id": {"type": "string", "description": "The prediction's id."},
            "status": {"type": "string", "description": "succeeded"},
            "model": {"type": "string", "description": "owner/name"},
            "output": output,
        },
        "required": ["id", "status", "output"],
    }
    if defs:
        schema["$defs"] = defs
    return schema


def input_schema(info: ModelInfo[Any, Any]) -> dict[str, Any]:
    """The tool's ``inputSchema``: the model's ``INPUT_SCHEMA`` (an object with ``$defs``)."""
    schema = copy.deepcopy(info.input_schema)
    schema.setdefault("type", "object")
    schema.setdefault("additionalProperties", False)
    return {"$schema": SCHEMA_DIALECT, **schema}


def _describe_output(info: ModelInfo[Any, Any]) -> str:
    schema = info.output_schema
    if schema.get("type") == "array":
        items = schema.get("items", {})
        if items.get("format") == "uri":
            return "a list of files (returned as resource links; small images also inline)"
        if info.output_concatenate:
            return "text"
        return f"a list ({json.dumps(items, sort_keys=True)[:200]})"
    if schema.get("format") == "uri":
        return "one file (returned as a resource link; a small image also inline)"
    if schema.get("type") == "string":
        return "text"
    return f"JSON ({json.dumps(schema, sort_keys=True)[:200]})"


def _description(info: ModelInfo[Any, Any]) -> str:
    how = f"version {info.version}" if info.call_by == "version" else "its model path"
    required = info.input_schema.get("required") or []
    needs = f" Required input: {', '.join(required)}." if required else ""
    return (
        f"Run the model {info.ref} (by {how}) and wait for its result.{needs} The input is "
        "checked against the model's schema before anything is sent (a bad value costs "
        "nothing). Reports progress while it runs; cancelling the call cancels the prediction. "
        f"Output: {_describe_output(info)}."
    )


def model_tools(models: list[ModelInfo[Any, Any]]) -> dict[str, ModelTool]:
    """``tool name -> ModelTool`` for each model (names from :mod:`replicate_typed.mcp.names`)."""
    by_ref = {info.ref: info for info in models}
    names = tool_names(sorted(by_ref), reserved=frozenset(GENERIC_TOOLS))
    return {
        name: ModelTool(
            name=name,
            info=by_ref[ref],
            description=_description(by_ref[ref]),
            input_schema=input_schema(by_ref[ref]),
            output_schema=output_schema(by_ref[ref]),
        )
        for name, ref in names.items()
    }


def generic_tool_specs() -> list[tuple[str, str, dict[str, Any], bool]]:
    """``(name, description, input schema, read only)`` of the generic tools."""
    return [(name, *spec) for name, spec in GENERIC_TOOLS.items()]
