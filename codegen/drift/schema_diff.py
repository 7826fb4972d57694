"""Semantic diff of JSON Schemas, classified for an existing caller.

Schemas are first *flattened*: ``$ref`` and ``allOf`` are resolved (so an enum moved into a
sibling schema is compared by value), OpenAPI ``nullable``, ``type: [T, "null"]`` and
``anyOf: [X, {"type": "null"}]`` all become one ``nullable`` flag, and a ``null`` enum member is
folded into that flag too. Then keywords are compared one by one.

Direction matters: a *request* schema (model inputs, API request bodies and parameters) breaks a
caller when it accepts less; a *response* schema (model outputs, API responses) breaks a caller
when it may return more than the generated types accept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from ..errors import pointer
from ..normalize import normalise
from . import changes as k
from .changes import MISSING, Change, Severity, show

Direction = Literal["request", "response"]

# Documentation only: never changes what a caller can send or receive.
ANNOTATIONS = frozenset(
    {"title", "description", "x-order", "examples", "example", "$comment", "summary"}
)
# A change of these changes the Python type of the field (FileInput/Secret/concatenated str).
FORMAT_KEYS = frozenset({"format", "x-cog-secret", "contentEncoding", "contentMediaType"})
LOWER_BOUNDS = ("minimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "maxLength", "maxItems", "maxProperties")
EXCLUSIVE = {"exclusiveMinimum": "lower", "exclusiveMaximum": "upper"}
HANDLED = (
    ANNOTATIONS
    | FORMAT_KEYS
    | set(LOWER_BOUNDS)
    | set(UPPER_BOUNDS)
    | set(EXCLUSIVE)
    | {
        "type",
        "nullable",
        "enum",
        "default",
        "properties",
        "required",
        "items",
        "anyOf",
        "oneOf",
        "$ref",
        "multipleOf",
        "pattern",
        "uniqueItems",
        "additionalProperties",
        "x-cog-array-display",
        "$defs",
    }
)


def _key(value: Any) -> str:
    if value is MISSING:
        return "\x00absent"
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class Flattener:
    """Resolves ``$ref``s of one document (or leaves them in place when ``defs`` is None)."""

    def __init__(self, defs: dict[str, Any] | None, prefix: str) -> None:
        self.defs = defs
        self.prefix = prefix

    def flatten(
        self, node: Any, seen: frozenset[str] = frozenset(), resolved: set[str] | None = None
    ) -> Any:
        """``node`` with refs (other than those in ``seen``) resolved; names go to ``resolved``."""
        if not isinstance(node, dict):
            return node
        own = dict(node)
        merged: dict[str, Any] = {}
        nullable = own.pop("nullable", False) is True
        ref = own.get("$ref")
        if self.defs is not None and isinstance(ref, str) and ref.startswith(self.prefix):
            name = ref[len(self.prefix) :]
            if name in self.defs and name not in seen:
                del own["$ref"]
                if resolved is not None:
                    resolved.add(name)
                target = self.flatten(self.defs[name], seen | {name}, resolved)
                nullable = nullable or bool(target.pop("nullable", False))
                merged.update(target)
        all_of = own.pop("allOf", None)
        if isinstance(all_of, list):
            for item in all_of:
                part = self.flatten(item, seen, resolved)
                if isinstance(part, dict):
                    nullable = nullable or bool(part.pop("nullable", False))
                    merged.update(part)
        for union in ("anyOf", "oneOf"):
            branches = own.get(union)
            if not isinstance(branches, list):
                continue
            flat = [self.flatten(b, seen, resolved) for b in branches]
            nulls = [b for b in flat if b == {"nullable": True}]
            rest = [b for b in flat if b != {"nullable": True}]
            if nulls:
                nullable = True
            if len(rest) == 1 and isinstance(rest[0], dict):
                del own[union]
                nullable = nullable or bool(rest[0].pop("nullable", False))
                merged.update(rest[0])
            else:
                own[union] = rest
        merged.update(own)
        types = merged.get("type")
        if isinstance(types, list):
            if "null" in types:
                nullable = True
            rest_types = sorted(t for t in types if t != "null")
            if not rest_types:
                merged.pop("type")
            else:
                merged["type"] = rest_types[0] if len(rest_types) == 1 else rest_types
        elif types == "null":
            nullable = True
            merged.pop("type")
        enum = merged.get("enum")
        if isinstance(enum, list) and None in enum:
            nullable = True
            merged["enum"] = [v for v in enum if v is not None]
        if nullable:
            merged["nullable"] = True
        return merged


class SchemaDiffer:
    """Compares an old and a new schema of one subject (a model, or the API)."""

    def __init__(
        self,
        subject: str,
        old: Flattener,
        new: Flattener,
    ) -> None:
        self.subject = subject
        self.old = old
        self.new = new
        self.changes: list[Change] = []
        self._seen_old: frozenset[str] = frozenset()
        self._seen_new: frozenset[str] = frozenset()

    # -- helpers -------------------------------------------------------------------------------
    def add(
        self,
        kind: str,
        where: list[str | int],
        old: Any,
        new: Any,
        severity: Severity,
        message: str,
    ) -> None:
        self.changes.append(Change(self.subject, kind, pointer(where), old, new, severity, message))

    @staticmethod
    def _by_direction(direction: Direction, accepts_less: bool) -> Severity:
        """A request that accepts less, or a response that may return more, breaks callers."""
        breaking = accepts_less if direction == "request" else not accepts_less
        return Severity.BREAKING if breaking else Severity.COMPATIBLE

    # -- entry points --------------------------------------------------------------------------
    def diff(self, old: Any, new: Any, where: list[str | int], direction: Direction) -> None:
        self._pair(old, new, where, direction)

    def _pair(self, old: Any, new: Any, where: list[str | int], direction: Direction) -> None:
        """Diff two raw sub-schemas; a ref already being expanded is compared by name (cycles)."""
        o_res: set[str] = set()
        n_res: set[str] = set()
        o_flat = self.old.flatten(old, self._seen_old, o_res)
        n_flat = self.new.flatten(new, self._seen_new, n_res)
        saved = (self._seen_old, self._seen_new)
        self._seen_old, self._seen_new = saved[0] | o_res, saved[1] | n_res
        try:
            self._diff(o_flat, n_flat, where, direction)
        finally:
            self._seen_old, self._seen_new = saved

    def _diff(self, old: Any, new: Any, where: list[str | int], direction: Direction) -> None:
        if not isinstance(old, dict) or not isinstance(new, dict):
            if _key(old) != _key(new):
                self.add(
                    k.TYPE_CHANGED,
                    where,
                    old,
                    new,
                    Severity.BREAKING,
                    f"schema changed from {show(old)} to {show(new)}",
                )
            return
        self._types(old, new, where, direction)
        self._nullable(old, new, where, direction)
        self._enum(old, new, where, direction)
        self._default(old, new, where)
        self._formats(old, new, where)
        self._bounds(old, new, where, direction)
        self._properties(old, new, where, direction)
        for key in ("items", "additionalProperties"):
            self._sub(key, old, new, where, direction)
        self._annotations(old, new, where)
        self._others(old, new, where, direction)

    # -- keywords ------------------------------------------------------------------------------
    def _types(
        self, old: dict[str, Any], new: dict[str, Any], where: list[str | int], d: Direction
    ) -> None:
        for key in ("$ref", "x-cog-array-display"):
            if _key(old.get(key, MISSING)) != _key(new.get(key, MISSING)):
                o, n = old.get(key, MISSING), new.get(key, MISSING)
                self.add(
                    k.TYPE_CHANGED,
                    where + [key],
                    o,
                    n,
                    Severity.BREAKING,
                    f"{key} changed from {show(o)} to {show(n)}",
                )
        o_type, n_type = old.get("type", MISSING), new.get("type", MISSING)
        if _key(o_type) != _key(n_type):
            self.add(
                k.TYPE_CHANGED,
                where + ["type"],
                o_type,
                n_type,
                Severity.BREAKING,
                f"type changed from {show(o_type)} to {show(n_type)}",
            )
        for union in ("anyOf", "oneOf"):
            o_u, n_u = old.get(union), new.get(union)
            if o_u is None and n_u is None:
                continue
            if not isinstance(o_u, list) or not isinstance(n_u, list) or len(o_u) != len(n_u):
                self.add(
                    k.TYPE_CHANGED,
                    where + [union],
                    o_u if o_u is not None else MISSING,
                    n_u if n_u is not None else MISSING,
                    Severity.BREAKING,
                    f"{union} alternatives changed",
                )
                continue
            for index, (o_b, n_b) in enumerate(zip(o_u, n_u, strict=True)):
                self._diff(o_b, n_b, where + [union, index], d)

    def _nullable(
        self, old: dict[str, Any], new: dict[str, Any], where: list[str | int], d: Direction
    ) -> None:
        o, n = bool(old.get("nullable")), bool(new.get("nullable"))
        if o != n:
            severity = self._by_direction(d, accepts_less=o and not n)
            self.add(
                k.NULLABLE_CHANGED,
                where + ["nullable"],
                o,
                n,
                severity,
                "null is no longer allowed" if o else "null is now allowed",
            )

    def _enum(
        self, old: dict[str, Any], new: dict[str, Any], where: list[str | int], d: Direction
    ) -> None:
        o, n = old.get("enum"), new.get("enum")
        path = where + ["enum"]
        if o is None and n is None:
            return
        if o is None:
            self.add(
                k.ENUM_ADDED,
                path,
                MISSING,
                n,
                self._by_direction(d, accepts_less=True),
                f"values restricted to {show(n)}",
            )
            return
        if n is None:
            self.add(
                k.ENUM_REMOVED,
                path,
                o,
                MISSING,
                self._by_direction(d, accepts_less=False),
                "values no longer restricted to an enumeration",
            )
            return
        o_keys, n_keys = [_key(v) for v in o], [_key(v) for v in n]
        for value, key in zip(o, o_keys, strict=True):
            if key not in n_keys:
                self.add(
                    k.ENUM_VALUE_REMOVED,
                    path,
                    value,
                    MISSING,
                    self._by_direction(d, accepts_less=True),
                    f"enum value {show(value)} removed",
                )
        for value, key in zip(n, n_keys, strict=True):
            if key not in o_keys:
                self.add(
                    k.ENUM_VALUE_ADDED,
                    path,
                    MISSING,
                    value,
                    self._by_direction(d, accepts_less=False),
                    f"enum value {show(value)} added",
                )
        if set(o_keys) == set(n_keys) and o_keys != n_keys:
            self.add(k.ENUM_REORDERED, path, o, n, Severity.COSMETIC, "enum values reordered")

    def _default(self, old: dict[str, Any], new: dict[str, Any], where: list[str | int]) -> None:
        o, n = old.get("default", MISSING), new.get("default", MISSING)
        if _key(o) == _key(n) and (o is MISSING) == (n is MISSING):
            return
        if o is MISSING:
            message = f"default {show(n)} added"
        elif n is MISSING:
            message = f"default {show(o)} removed"
        else:
            message = f"default changed from {show(o)} to {show(n)}"
        self.add(k.DEFAULT_CHANGED, where + ["default"], o, n, Severity.COMPATIBLE, message)

    def _formats(self, old: dict[str, Any], new: dict[str, Any], where: list[str | int]) -> None:
        for key in sorted(FORMAT_KEYS):
            o, n = old.get(key, MISSING), new.get(key, MISSING)
            if _key(o) != _key(n) or (o is MISSING) != (n is MISSING):
                self.add(
                    k.FORMAT_CHANGED,
                    where + [key],
                    o,
                    n,
                    Severity.BREAKING,
                    f"{key} changed from {show(o)} to {show(n)}",
                )

    def _bound(
        self,
        key: str,
        o: Any,
        n: Any,
        tighter: Callable[[Any, Any], bool],
        where: list[str | int],
        d: Direction,
    ) -> None:
        if (o is MISSING) == (n is MISSING) and _key(o) == _key(n):
            return
        if o is MISSING:
            tightened = True
        elif n is MISSING:
            tightened = False
        else:
            try:
                tightened = tighter(o, n)
            except TypeError:
                tightened = True
        kind = k.CONSTRAINT_TIGHTENED if tightened else k.CONSTRAINT_LOOSENED
        self.add(
            kind,
            where + [key],
            o,
            n,
            self._by_direction(d, accepts_less=tightened),
            f"{key} {'tightened' if tightened else 'loosened'}: {show(o)} -> {show(n)}",
        )

    def _bounds(
        self, old: dict[str, Any], new: dict[str, Any], where: list[str | int], d: Direction
    ) -> None:
        def raised(o: Any, n: Any) -> bool:
            return bool(n > o)

        def lowered(o: Any, n: Any) -> bool:
            return bool(n < o)

        def exclusive(side: str) -> Callable[[Any, Any], bool]:
            def tighter(o: Any, n: Any) -> bool:
                if isinstance(o, bool) or isinstance(n, bool):  # OpenAPI 3.0 flags
                    return bool(n) and not bool(o)
                return raised(o, n) if side == "lower" else lowered(o, n)

            return tighter

        def multiple(o: Any, n: Any) -> bool:
            ratio = o / n
            return not (ratio >= 1 and abs(ratio - round(ratio)) < 1e-9)

        def pattern(o: Any, n: Any) -> bool:
            return True

        def unique(o: Any, n: Any) -> bool:
            return bool(n) and not bool(o)

        checks: list[tuple[str, Callable[[Any, Any], bool]]] = [
            *((key, raised) for key in LOWER_BOUNDS),
            *((key, lowered) for key in UPPER_BOUNDS),
            *((key, exclusive(side)) for key, side in EXCLUSIVE.items()),
            ("multipleOf", multiple),
            ("pattern", pattern),
        ]
        for key, tighter in checks:
            self._bound(key, old.get(key, MISSING), new.get(key, MISSING), tighter, where, d)
        o_u, n_u = old.get("uniqueItems", False), new.get("uniqueItems", False)
        if bool(o_u) != bool(n_u):
            self._bound("uniqueItems", o_u, n_u, unique, where, d)

    def _properties(
        self, old: dict[str, Any], new: dict[str, Any], where: list[str | int], d: Direction
    ) -> None:
        o_props = old.get("properties")
        n_props = new.get("properties")
        if not isinstance(o_props, dict) and not isinstance(n_props, dict):
            return
        o_props = o_props if isinstance(o_props, dict) else {}
        n_props = n_props if isinstance(n_props, dict) else {}
        o_req = set(old.get("required") or [])
        n_req = set(new.get("required") or [])
        noun = "input" if d == "request" else "field"
        for name in o_props:
            if name not in n_props:
                self.add(
                    k.PROPERTY_REMOVED,
                    where + ["properties", name],
                    o_props[name],
                    MISSING,
                    Severity.BREAKING,
                    f"{noun} {name!r} removed",
                )
        for name, schema in n_props.items():
            if name in o_props:
                continue
            flat = self.new.flatten(schema, self._seen_new)
            required = name in n_req
            has_default = isinstance(flat, dict) and "default" in flat
            if d == "request":
                breaking = required and not has_default
            else:
                breaking = False
            self.add(
                k.PROPERTY_ADDED,
                where + ["properties", name],
                MISSING,
                schema,
                Severity.BREAKING if breaking else Severity.COMPATIBLE,
                f"{'required' if required else 'optional'} {noun} {name!r} added",
            )
        for name in o_props:
            if name not in n_props:
                continue
            n_flat = self.new.flatten(n_props[name], self._seen_new)
            self._pair(o_props[name], n_props[name], where + ["properties", name], d)
            was, now = name in o_req, name in n_req
            if was != now:
                has_default = isinstance(n_flat, dict) and "default" in n_flat
                if d == "request":
                    breaking = now and not has_default
                else:
                    breaking = was and not now
                self.add(
                    k.REQUIRED_CHANGED,
                    where + ["properties", name, "required"],
                    was,
                    now,
                    Severity.BREAKING if breaking else Severity.COMPATIBLE,
                    f"{noun} {name!r} is now {'required' if now else 'optional'}",
                )
        o_order = [n for n in o_props if n in n_props]
        n_order = [n for n in n_props if n in o_props]
        if o_order != n_order:
            self.add(
                k.PROPERTIES_REORDERED,
                where + ["properties"],
                o_order,
                n_order,
                Severity.COSMETIC,
                "properties reordered",
            )

    def _sub(
        self,
        key: str,
        old: dict[str, Any],
        new: dict[str, Any],
        where: list[str | int],
        d: Direction,
    ) -> None:
        o, n = old.get(key, MISSING), new.get(key, MISSING)
        if o is MISSING and n is MISSING:
            return
        if isinstance(o, dict) and isinstance(n, dict):
            self._pair(o, n, where + [key], d)
            return
        if _key(o) == _key(n):
            return
        if key == "additionalProperties":
            # false forbids extra keys: going to false accepts less.
            accepts_less = n is False and o is not False
            self.add(
                k.CONSTRAINT_TIGHTENED if accepts_less else k.CONSTRAINT_LOOSENED,
                where + [key],
                o,
                n,
                self._by_direction(d, accepts_less) if d == "request" else Severity.COMPATIBLE,
                f"additionalProperties changed from {show(o)} to {show(n)}",
            )
            return
        self.add(
            k.TYPE_CHANGED,
            where + [key],
            o,
            n,
            Severity.BREAKING,
            f"{key} changed from {show(o)} to {show(n)}",
        )

    def _annotations(
        self, old: dict[str, Any], new: dict[str, Any], where: list[str | int]
    ) -> None:
        for key in sorted(ANNOTATIONS):
            o, n = old.get(key, MISSING), new.get(key, MISSING)
            if _key(o) != _key(n) or (o is MISSING) != (n is MISSING):
                self.add(
                    k.ANNOTATION_CHANGED,
                    where + [key],
                    o,
                    n,
                    Severity.COSMETIC,
                    f"{key} changed",
                )

    def _others(
        self, old: dict[str, Any], new: dict[str, Any], where: list[str | int], d: Direction
    ) -> None:
        for key in sorted((set(old) | set(new)) - HANDLED):
            o, n = old.get(key, MISSING), new.get(key, MISSING)
            if _key(o) != _key(n) or (o is MISSING) != (n is MISSING):
                self.add(
                    k.KEYWORD_CHANGED,
                    where + [key],
                    o,
                    n,
                    Severity.COMPATIBLE,
                    f"{key} changed from {show(o)} to {show(n)} (not classified: review it)",
                )


def _model_differ(subject: str, old_defs: dict[str, Any], new_defs: dict[str, Any]) -> SchemaDiffer:
    return SchemaDiffer(subject, Flattener(old_defs, "#/$defs/"), Flattener(new_defs, "#/$defs/"))


def diff_model_schemas(
    subject: str, old_openapi: dict[str, Any], new_openapi: dict[str, Any]
) -> list[Change]:
    """Every semantic difference between two ``openapi_schema``s of a model (spec -> upstream)."""
    old, new = normalise(old_openapi), normalise(new_openapi)
    changes: list[Change] = []
    sides: tuple[tuple[str, dict[str, Any], dict[str, Any], Direction], ...] = (
        ("input", old.input_schema, new.input_schema, "request"),
        ("output", old.output_schema, new.output_schema, "response"),
    )
    for side, o_schema, n_schema, direction in sides:
        o_root = {key: v for key, v in o_schema.items() if key != "$defs"}
        n_root = {key: v for key, v in n_schema.items() if key != "$defs"}
        differ = _model_differ(subject, o_schema.get("$defs", {}), n_schema.get("$defs", {}))
        differ.diff(o_root, n_root, [side], direction)
        changes.extend(differ.changes)
    return changes
