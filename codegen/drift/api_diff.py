"""Drift of the API surface: specs/api/openapi.json against a Replicate OpenAPI document.

The upstream document is trimmed with ``codegen.api_spec.trim`` first (tolerating in-scope
operations that upstream no longer has), so both sides have the same shape. Compared: component
schemas (the prediction object and its status enum, request and response bodies), operations
(added, removed, method changed), parameters and headers (``Prefer``, ``Cancel-After``), request
bodies and success responses.
"""

from __future__ import annotations

import copy
from typing import Any

from ..api_spec import trim
from ..errors import pointer
from . import changes as k
from .changes import MISSING, Change, Severity, show
from .schema_diff import Direction, Flattener, SchemaDiffer

SUBJECT = "api"
REQUEST_SCHEMAS = frozenset({"PredictionRequest", "ModelPredictionRequest"})
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace", "query")
STATUS_SCHEMA = "PredictionStatus"


class DriftError(Exception):
    """Upstream data that drift detection cannot compare (named precisely)."""


def trim_tolerant(upstream: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """``trim(upstream)``: every upstream operation is kept, so an operation upstream dropped is
    simply absent (reported as removed against the spec); the list is kept for callers."""
    try:
        trimmed = trim(copy.deepcopy(upstream))
    except (KeyError, TypeError, IndexError, AttributeError) as exc:
        raise DriftError(
            f"the upstream document lacks something the API spec needs: {exc!r}"
        ) from None
    return trimmed, []


def _operation_ids(doc: dict[str, Any]) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for path, item in doc.get("paths", {}).items():
        if not isinstance(item, dict):
            continue
        for method, op in item.items():
            if (
                method in METHODS
                and isinstance(op, dict)
                and isinstance(op.get("operationId"), str)
            ):
                out[op["operationId"]] = (path, method)
    return out


class ApiDiffer:
    def __init__(self, old: dict[str, Any], new: dict[str, Any], raw_new: dict[str, Any]) -> None:
        self.old, self.new, self.raw_new = old, new, raw_new
        self.schemas = SchemaDiffer(
            SUBJECT,
            Flattener(None, "#/components/schemas/"),
            Flattener(None, "#/components/schemas/"),
        )
        self.changes: list[Change] = []

    def add(
        self, kind: str, where: list[str | int], old: Any, new: Any, sev: Severity, msg: str
    ) -> None:
        self.changes.append(Change(SUBJECT, kind, pointer(where), old, new, sev, msg))

    def run(self) -> list[Change]:
        o_ver = self.old.get("info", {}).get("version", MISSING)
        n_ver = self.new.get("info", {}).get("version", MISSING)
        if o_ver != n_ver:
            self.add(
                k.DOCUMENT_VERSION_CHANGED,
                ["info", "version"],
                o_ver,
                n_ver,
                Severity.COSMETIC,
                f"document version {show(o_ver)} -> {show(n_ver)}",
            )
        self._operations()
        self._components()
        return self.changes + self._relabel(self.schemas.changes)

    @staticmethod
    def _relabel(found: list[Change]) -> list[Change]:
        status_path = pointer(["components", "schemas", STATUS_SCHEMA, "enum"])
        out = []
        for change in found:
            if change.path == status_path and change.kind == k.ENUM_VALUE_ADDED:
                change = Change(
                    change.subject,
                    change.kind,
                    change.path,
                    change.old,
                    change.new,
                    Severity.BREAKING,
                    f"prediction status {show(change.new)} added: the client cannot know whether "
                    "it is terminal (regenerate and review TERMINAL_STATUSES)",
                )
            elif change.path == status_path and change.kind == k.ENUM_VALUE_REMOVED:
                change = Change(
                    change.subject,
                    change.kind,
                    change.path,
                    change.old,
                    change.new,
                    change.severity,
                    f"prediction status {show(change.old)} no longer listed",
                )
            out.append(change)
        return out

    # -- operations ----------------------------------------------------------------------------
    def _operations(self) -> None:
        old_paths: dict[str, Any] = self.old.get("paths", {})
        new_paths: dict[str, Any] = self.new.get("paths", {})
        raw_ids = _operation_ids(self.raw_new)
        old_ids = _operation_ids(self.old)
        for path, item in old_paths.items():
            for method, op in item.items():
                if method not in METHODS:
                    continue
                where: list[str | int] = ["paths", path, method]
                new_op = new_paths.get(path, {}).get(method)
                if new_op is None:
                    op_id = op.get("operationId")
                    moved = raw_ids.get(op_id) if isinstance(op_id, str) else None
                    if moved is not None and moved[0] == path:
                        self.add(
                            k.OPERATION_METHOD_CHANGED,
                            where,
                            method.upper(),
                            moved[1].upper(),
                            Severity.BREAKING,
                            f"{op_id}: {method.upper()} {path} is now {moved[1].upper()} {path}",
                        )
                    elif moved is not None:
                        self.add(
                            k.OPERATION_REMOVED,
                            where,
                            f"{method.upper()} {path}",
                            f"{moved[1].upper()} {moved[0]}",
                            Severity.BREAKING,
                            f"{op_id}: moved from {method.upper()} {path} to "
                            f"{moved[1].upper()} {moved[0]}",
                        )
                    else:
                        self.add(
                            k.OPERATION_REMOVED,
                            where,
                            f"{method.upper()} {path}",
                            MISSING,
                            Severity.BREAKING,
                            f"operation {method.upper()} {path} removed",
                        )
                    continue
                self._operation(where, op, new_op)
        for path, item in new_paths.items():
            for method, op in item.items():
                op_id = op.get("operationId") if isinstance(op, dict) else None
                if old_ids.get(op_id) if isinstance(op_id, str) else None:
                    continue  # an old operation that moved: reported above, once
                if method in METHODS and method not in old_paths.get(path, {}):
                    self.add(
                        k.OPERATION_ADDED,
                        ["paths", path, method],
                        MISSING,
                        f"{method.upper()} {path}",
                        Severity.COMPATIBLE,
                        f"operation {method.upper()} {path} added",
                    )

    def _parameters(self, doc: dict[str, Any], op: dict[str, Any]) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for param in op.get("parameters", []):
            ref = param.get("$ref") if isinstance(param, dict) else None
            if isinstance(ref, str) and ref.startswith("#/components/parameters/"):
                param = (
                    doc.get("components", {}).get("parameters", {}).get(ref.rsplit("/", 1)[1], {})
                )
            if isinstance(param, dict) and "name" in param:
                out[f"{param.get('in', 'query')}:{param['name']}"] = param
        return out

    def _operation(self, where: list[str | int], old: dict[str, Any], new: dict[str, Any]) -> None:
        o_id, n_id = old.get("operationId", MISSING), new.get("operationId", MISSING)
        if o_id != n_id:
            self.add(
                k.OPERATION_ID_CHANGED,
                where + ["operationId"],
                o_id,
                n_id,
                Severity.COSMETIC,
                f"operationId {show(o_id)} -> {show(n_id)}",
            )
        o_params = self._parameters(self.old, old)
        n_params = self._parameters(self.new, new)
        for key, param in o_params.items():
            p_where = where + ["parameters", key]
            if key not in n_params:
                self.add(
                    k.PARAMETER_REMOVED,
                    p_where,
                    param.get("name"),
                    MISSING,
                    Severity.BREAKING,
                    f"{param.get('in', 'query')} parameter {param.get('name')!r} removed",
                )
                continue
            n_param = n_params[key]
            was, now = bool(param.get("required")), bool(n_param.get("required"))
            if was != now:
                self.add(
                    k.REQUIRED_CHANGED,
                    p_where + ["required"],
                    was,
                    now,
                    Severity.BREAKING if now else Severity.COMPATIBLE,
                    f"parameter {param.get('name')!r} is now {'required' if now else 'optional'}",
                )
            if param.get("description") != n_param.get("description"):
                self.add(
                    k.ANNOTATION_CHANGED,
                    p_where + ["description"],
                    param.get("description", MISSING),
                    n_param.get("description", MISSING),
                    Severity.COSMETIC,
                    "description changed",
                )
            self.schemas.diff(
                param.get("schema", {}), n_param.get("schema", {}), p_where + ["schema"], "request"
            )
        for key, param in n_params.items():
            if key not in o_params:
                required = bool(param.get("required"))
                self.add(
                    k.PARAMETER_ADDED,
                    where + ["parameters", key],
                    MISSING,
                    param.get("name"),
                    Severity.BREAKING if required else Severity.COMPATIBLE,
                    f"{'required' if required else 'optional'} {param.get('in', 'query')} "
                    f"parameter {param.get('name')!r} added",
                )
        self._body(where, old.get("requestBody"), new.get("requestBody"))
        self._responses(where, old.get("responses", {}), new.get("responses", {}))

    def _body(self, where: list[str | int], old: Any, new: Any) -> None:
        b_where = where + ["requestBody"]
        if not isinstance(old, dict) and not isinstance(new, dict):
            return
        if not isinstance(old, dict) or not isinstance(new, dict):
            self.add(
                k.REQUEST_BODY_CHANGED,
                b_where,
                MISSING if not isinstance(old, dict) else "body",
                MISSING if not isinstance(new, dict) else "body",
                Severity.BREAKING,
                "request body removed" if isinstance(old, dict) else "request body added",
            )
            return
        was, now = bool(old.get("required")), bool(new.get("required"))
        if was != now:
            self.add(
                k.REQUIRED_CHANGED,
                b_where + ["required"],
                was,
                now,
                Severity.BREAKING if now else Severity.COMPATIBLE,
                f"request body is now {'required' if now else 'optional'}",
            )
        o_content, n_content = old.get("content", {}), new.get("content", {})
        for media, item in o_content.items():
            if media not in n_content:
                self.add(
                    k.REQUEST_BODY_CHANGED,
                    b_where + ["content", media],
                    media,
                    MISSING,
                    Severity.BREAKING,
                    f"request body type {media} no longer accepted",
                )
                continue
            self.schemas.diff(
                item.get("schema", {}),
                n_content[media].get("schema", {}),
                b_where + ["content", media, "schema"],
                "request",
            )
        for media in n_content:
            if media not in o_content:
                self.add(
                    k.REQUEST_BODY_CHANGED,
                    b_where + ["content", media],
                    MISSING,
                    media,
                    Severity.COMPATIBLE,
                    f"request body type {media} now accepted",
                )

    def _responses(self, where: list[str | int], old: dict[str, Any], new: dict[str, Any]) -> None:
        for code, resp in old.items():
            r_where = where + ["responses", code]
            success = str(code).startswith("2")
            if code not in new:
                self.add(
                    k.RESPONSE_REMOVED,
                    r_where,
                    code,
                    MISSING,
                    Severity.BREAKING if success else Severity.COMPATIBLE,
                    f"response {code} no longer documented",
                )
                continue
            o_content = resp.get("content", {}) if isinstance(resp, dict) else {}
            n_content = new[code].get("content", {}) if isinstance(new[code], dict) else {}
            for media, item in o_content.items():
                if media in n_content:
                    self.schemas.diff(
                        item.get("schema", {}),
                        n_content[media].get("schema", {}),
                        r_where + ["content", media, "schema"],
                        "response",
                    )
                else:
                    self.add(
                        k.RESPONSE_REMOVED,
                        r_where + ["content", media],
                        media,
                        MISSING,
                        Severity.BREAKING if success else Severity.COMPATIBLE,
                        f"response {code} no longer returns {media}",
                    )
        for code in new:
            if code not in old:
                self.add(
                    k.RESPONSE_ADDED,
                    where + ["responses", code],
                    MISSING,
                    code,
                    Severity.COMPATIBLE,
                    f"response {code} added",
                )

    # -- components ----------------------------------------------------------------------------
    def _components(self) -> None:
        old_s: dict[str, Any] = self.old.get("components", {}).get("schemas", {})
        new_s: dict[str, Any] = self.new.get("components", {}).get("schemas", {})
        for name, schema in old_s.items():
            where: list[str | int] = ["components", "schemas", name]
            if name not in new_s:
                self.add(
                    k.SCHEMA_REMOVED,
                    where,
                    name,
                    MISSING,
                    Severity.BREAKING,
                    f"schema {name} removed",
                )
                continue
            direction: Direction = "request" if name in REQUEST_SCHEMAS else "response"
            self.schemas.diff(schema, new_s[name], where, direction)
        for name in new_s:
            if name not in old_s:
                self.add(
                    k.SCHEMA_ADDED,
                    ["components", "schemas", name],
                    MISSING,
                    name,
                    Severity.COMPATIBLE,
                    f"schema {name} added",
                )


def diff_api_documents(spec_doc: dict[str, Any], upstream: dict[str, Any]) -> list[Change]:
    """Changes from ``specs/api/openapi.json`` (old) to Replicate's document ``upstream`` (new)."""
    trimmed, _missing = trim_tolerant(upstream)
    return ApiDiffer(spec_doc, trimmed, upstream).run()


def trimmed_upstream(upstream: dict[str, Any]) -> dict[str, Any]:
    """What ``--update`` writes to specs/api/openapi.json."""
    return trim_tolerant(upstream)[0]
