"""``import-apifox``: a router's Apifox endpoint export -> the normalised spec form.

Three shapes of export are understood:

* an exported endpoint with a ``请求体`` (request body) block whose ``jsonSchema`` describes
  ``input`` (seeds 000, 002, 004);
* a rendered documentation page listing ``Body 参数`` fields as name / type / 必需|可选 /
  description lines (seed 001);
* prose with ``curl`` examples (seed 003): the Input is inferred from the example values.

Rules the router writes only in description text become schema keywords: ``默认值:768`` /
``默认值:“DPMSolverMultistep”`` -> ``default``, ``最小值:1,最大值:4`` -> ``minimum``/``maximum``,
``范围为 0 至 100`` -> both, ``需要为 64 的倍数`` -> ``multipleOf``.

When the model's published schema is available (a version file or the API, given by the caller,
else the model's spec already in ``specs/`` unless that spec is itself an Apifox-only import), that
schema stays the authority and the two are *merged*: the Apifox document adds only what only it
says, for fields the published schema has: a ``description`` it lacks, and a ``default``,
``minimum``, ``maximum`` or ``multipleOf`` it lacks when the published default, enum and examples
agree with it (never to a required field's default). Every difference is reported (field, what
Apifox says, what the schema says, and whether the Apifox value was added); Apifox fields the
published schema does not have are reported, not added; only the request examples the merged
schema accepts are added.

From a document alone the spec says only what the router documents: no Output type (the model's
output is ``Any``), no ``format: uri`` (file inputs are plain ``str``) and enums only where the
document lists them. :attr:`ImportResult.losses` says so.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from .errors import SpecError, pointer
from .normalize import normalise
from .schema_checks import validator_for
from .spec import MODEL_REF, VERSION_ID, read_json, spec_path, validate_spec_data

TYPES = ("string", "integer", "number", "boolean", "object", "array", "null")
REQUIRED_MARKS = {"必需": True, "可选": False}
# Keys of a prediction request body; everything else documented after `input` belongs to input.
BODY_KEYS = {"version", "input", "webhook", "webhook_events_filter", "stream"}

_NUM = r"(-?\d+(?:\.\d+)?)"
_SEP = r"\s*[:：]\s*"
_DEFAULT = re.compile(
    r"默认值" + _SEP + r"(?:“([^”]*)”|\"([^\"]*)\"|「([^」]*)」|" + _NUM + r"|(true|false))"
)
_MINIMUM = re.compile(r"最小值" + _SEP + _NUM)
_MAXIMUM = re.compile(r"最大值" + _SEP + _NUM)
_RANGE = re.compile(r"范围(?:为|是)?\s*" + _NUM + r"\s*(?:至|到|-|~)\s*" + _NUM)
_MULTIPLE = re.compile(r"(?:需要|必须)?为\s*" + _NUM + r"\s*的倍数")
_VERSION_MAP = re.compile(
    r"\"([0-9a-f]{64})\"\s*:\s*\"([A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+)\""
)
_REF_IN_TEXT = re.compile(r"(?<![\w./-])([A-Za-z0-9][A-Za-z0-9_-]*/[A-Za-z0-9][A-Za-z0-9._-]*)")
_EXAMPLE_OF = re.compile(r"以\s*([A-Za-z0-9][A-Za-z0-9_-]*/[A-Za-z0-9][A-Za-z0-9._-]*)\s*为例")
_CURL_URL = re.compile(r"--url\s+'?(\S+?)'?\s")
_CURL_DATA = re.compile(r"--data(?:-raw)?\s+'")
_MODEL_PATH = re.compile(r"/models/([^/\s]+)/([^/\s]+)/predictions")


@dataclass
class Endpoint:
    """One request the document describes."""

    model: str | None
    version: str | None
    call: str
    input_schema: dict[str, Any] | None  # None: the document only shows example values
    examples: list[dict[str, Any]] = field(default_factory=list)
    kind: str = "jsonSchema"


@dataclass(frozen=True)
class Difference:
    """Apifox and the published schema disagree about one thing."""

    field: str  # input field, or "(version)", "(call)", "(example N)"
    aspect: str  # required, type, default, minimum, maximum, multipleOf, presence, ...
    apifox: str
    published: str
    authority: str = "the published schema"
    added: bool = False  # the published schema had nothing to say: the Apifox value was merged in
    omission: bool = False  # the document says nothing here (the published schema does)

    @property
    def conflict(self) -> bool:
        """The two say different things (not an omission of the document, not a merged value)."""
        return not (self.added or self.omission)

    def __str__(self) -> str:
        text = (
            f"{self.field}: {self.aspect}: Apifox says {self.apifox}; "
            f"{self.authority} says {self.published}"
        )
        return text + ("; added from Apifox" if self.added else "")


@dataclass
class ImportResult:
    spec: dict[str, Any]
    differences: list[Difference]
    endpoint: Endpoint
    published: bool  # True when a published schema was the authority (merged with Apifox)
    authority: str = ""  # where that schema came from (a spec file, a version file, an API)
    losses: list[str] = field(default_factory=list)  # what a document alone cannot say
    dropped_examples: list[str] = field(default_factory=list)  # of the earlier spec, now invalid

    @property
    def added(self) -> list[Difference]:
        """The Apifox values merged into the published schema."""
        return [d for d in self.differences if d.added]


# --- description rules ------------------------------------------------------------------------


def _number(text: str, kind: str | None) -> int | float:
    value = float(text)
    if kind == "integer" or (value.is_integer() and "." not in text):
        return int(value)
    return value


def rules_from_description(description: str, kind: str | None) -> dict[str, Any]:
    """Schema keywords written in a Chinese description (default, minimum, maximum, multipleOf)."""
    out: dict[str, Any] = {}
    match = _DEFAULT.search(description)
    if match:
        quoted = next((g for g in match.groups()[:3] if g is not None), None)
        number, boolean = match.group(4), match.group(5)
        if quoted is not None:
            out["default"] = quoted
        elif boolean is not None:
            out["default"] = boolean == "true"
        elif number is not None:
            out["default"] = number if kind == "string" else _number(number, kind)
    if m := _MINIMUM.search(description):
        out["minimum"] = _number(m.group(1), kind)
    if m := _MAXIMUM.search(description):
        out["maximum"] = _number(m.group(1), kind)
    if (m := _RANGE.search(description)) and "minimum" not in out and "maximum" not in out:
        out["minimum"], out["maximum"] = _number(m.group(1), kind), _number(m.group(2), kind)
    if (m := _MULTIPLE.search(description)) and float(m.group(1)) > 0:
        out["multipleOf"] = _number(m.group(1), kind)
    return out


def _title(name: str) -> str:
    return " ".join(part.capitalize() for part in name.split("_") if part) or name


def cog_property(
    name: str, kind: str | None, description: str, order: int, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A property in Cog's style: type, title, description-derived keywords, x-order."""
    prop: dict[str, Any] = {}
    if kind:
        prop["type"] = kind
    prop["title"] = _title(name)
    prop.update(extra or {})
    prop.update(rules_from_description(description, kind))
    prop["x-order"] = order
    if description:
        prop["description"] = description
    return prop


def input_schema(
    properties: list[tuple[str, dict[str, Any]]], required: list[str]
) -> dict[str, Any]:
    return {
        "type": "object",
        "title": "Input",
        "required": [name for name, _ in properties if name in required],
        "properties": dict(properties),
    }


# --- document shapes --------------------------------------------------------------------------


def _json_after(text: str, start: int) -> tuple[Any, int] | None:
    """The first JSON object at or after ``start`` (and where it ends)."""
    brace = text.find("{", start)
    if brace < 0:
        return None
    try:
        value, end = json.JSONDecoder().raw_decode(text, brace)
    except json.JSONDecodeError:
        return None
    return value, end


def _split_version(value: Any, versions: dict[str, str]) -> tuple[str | None, str | None]:
    """A request's ``version`` -> (owner/name or None, 64-hex id or None)."""
    if not isinstance(value, str):
        return None, None
    name, _, vid = value.strip().partition(":")
    if VERSION_ID.match(name):
        return versions.get(name), name
    ref = name if MODEL_REF.match(name) else None
    return ref, vid if VERSION_ID.match(vid) else None


def _type_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return None


def _title_ref(text: str) -> str | None:
    first = text.strip().splitlines()[0] if text.strip() else ""
    match = _REF_IN_TEXT.search(first)
    return match.group(1) if match and MODEL_REF.match(match.group(1)) else None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _from_request_body(text: str, versions: dict[str, str], source: str) -> list[Endpoint]:
    at = text.find("请求体")
    if at < 0:
        return []
    found = _json_after(text, at)
    if found is None or not isinstance(found[0], dict):
        raise SpecError(source, "", "the 请求体 (request body) block is not a valid JSON object")
    body: dict[str, Any] = found[0]
    schema = _object(body.get("jsonSchema"))
    body_props = _object(schema.get("properties"))
    input_node = body_props.get("input")
    if not isinstance(input_node, dict):
        raise SpecError(source, "/jsonSchema/properties/input", "the request body has no input")
    props_in = _object(input_node.get("properties"))
    order = input_node.get("x-apifox-orders")
    if not isinstance(order, list):
        order = list(props_in)
    properties: list[tuple[str, dict[str, Any]]] = []
    for name in [n for n in order if isinstance(n, str) and n in props_in]:
        node = props_in[name]
        if not isinstance(node, dict):
            raise SpecError(
                source,
                pointer(["jsonSchema", "properties", "input", "properties", name]),
                f"field {name!r} is not a schema object",
            )
        kind = node.get("type") if node.get("type") in TYPES else None
        extra = {k: copy.deepcopy(node[k]) for k in ("enum", "items", "format") if k in node}
        for keyword in ("default", "minimum", "maximum", "multipleOf"):
            if keyword in node:
                extra[keyword] = node[keyword]
        properties.append(
            (
                name,
                cog_property(name, kind, str(node.get("description", "")), len(properties), extra),
            )
        )
    required = input_node.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise SpecError(
            source,
            "/jsonSchema/properties/input/required",
            f"required must be a list of field names, got {required!r}",
        )
    endpoint = Endpoint(
        model=None,
        version=None,
        call="version" if "version" in body_props else "path",
        input_schema=input_schema(properties, required),
    )
    examples = body.get("examples")
    for example in examples if isinstance(examples, list) else []:
        try:
            request = json.loads(_object(example).get("value", ""))
        except (json.JSONDecodeError, TypeError):
            continue
        if isinstance(request, dict) and isinstance(request.get("input"), dict):
            ref, vid = _split_version(request.get("version"), versions)
            endpoint.model = endpoint.model or ref
            endpoint.version = endpoint.version or vid
            if "version" in request:
                endpoint.call = "version"
            endpoint.examples.append(request["input"])
    endpoint.model = endpoint.model or _title_ref(text)
    return [endpoint]


def _field_start(lines: list[str], index: int) -> bool:
    return (
        index + 2 < len(lines)
        and lines[index + 1] in TYPES
        and lines[index + 2] in REQUIRED_MARKS
        and bool(lines[index])
    )


def _from_rendered(text: str, versions: dict[str, str], source: str) -> list[Endpoint]:
    lines = [line.strip() for line in text.splitlines()]
    start = next((i for i, line in enumerate(lines) if line.startswith("Body 参数")), None)
    if start is None:
        return []
    end = next((i for i in range(start, len(lines)) if lines[i] == "示例"), len(lines))
    fields: list[tuple[str, str, bool, str]] = []
    index = start + 1
    while index < end:
        if not _field_start(lines, index):
            index += 1
            continue
        name, kind, required = lines[index], lines[index + 1], REQUIRED_MARKS[lines[index + 2]]
        index += 3
        text_lines: list[str] = []
        while index < end and not _field_start(lines, index):
            text_lines.append(lines[index])
            index += 1
        fields.append((name, kind, required, " ".join(d for d in text_lines if d)))
    in_input = False
    properties: list[tuple[str, dict[str, Any]]] = []
    required_names: list[str] = []
    has_version = False
    for name, kind, required, description in fields:
        if name == "input" and kind == "object" and not in_input:
            in_input = True
            continue
        if not in_input or name in BODY_KEYS:
            has_version = has_version or name == "version"
            continue
        properties.append((name, cog_property(name, kind, description, len(properties))))
        if required:
            required_names.append(name)
    if not in_input:
        raise SpecError(source, "", "the Body 参数 listing has no input object")
    endpoint = Endpoint(
        model=None,
        version=None,
        call="version" if has_version else "path",
        input_schema=input_schema(properties, required_names),
        kind="rendered",
    )
    found = _json_after(text, sum(len(x) + 1 for x in text.splitlines()[:end]))
    if found is not None and isinstance(found[0], dict) and isinstance(found[0].get("input"), dict):
        ref, vid = _split_version(found[0].get("version"), versions)
        endpoint.model, endpoint.version = ref, vid
        endpoint.examples.append(found[0]["input"])
    endpoint.model = endpoint.model or _title_ref(text)
    return [endpoint]


def _from_curl(text: str, versions: dict[str, str], source: str) -> list[Endpoint]:
    endpoints: list[Endpoint] = []
    for match in _CURL_DATA.finditer(text):
        found = _json_after(text, match.end())
        if found is None or not isinstance(found[0], dict):
            continue
        request = found[0]
        if not isinstance(request.get("input"), dict):
            continue
        before = text[: match.start()]
        urls = _CURL_URL.findall(before[-1000:])
        url = urls[-1] if urls else ""
        path = _MODEL_PATH.search(url)
        if path:
            ref: str | None = f"{path.group(1)}/{path.group(2)}"
            vid = None
            call = "path"
        else:
            ref, vid = _split_version(request.get("version"), versions)
            call = "version"
            if ref is None:
                mentions = _EXAMPLE_OF.findall(before)
                ref = mentions[-1] if mentions else None
        properties = [
            (name, cog_property(name, _type_of(value), "", index))
            for index, (name, value) in enumerate(request["input"].items())
            if value is not None
        ]
        endpoints.append(
            Endpoint(
                model=ref,
                version=vid,
                call=call,
                input_schema=input_schema(properties, []),
                examples=[request["input"]],
                kind="examples",
            )
        )
    return endpoints


def parse(text: str, source: str = "<apifox>") -> list[Endpoint]:
    """Every prediction request the document describes."""
    versions = {vid: ref for vid, ref in _VERSION_MAP.findall(text)}
    for reader in (_from_request_body, _from_rendered, _from_curl):
        endpoints = reader(text, versions, source)
        if endpoints:
            return _merge(endpoints)
    raise SpecError(
        source,
        "",
        "no prediction request found (expected a 请求体 jsonSchema block, a Body 参数 listing "
        "or curl --data examples)",
    )


def _merge(endpoints: list[Endpoint]) -> list[Endpoint]:
    """One endpoint per model (a document may show the same model twice)."""
    out: dict[str | None, Endpoint] = {}
    for endpoint in endpoints:
        seen = out.get(endpoint.model)
        if seen is None:
            out[endpoint.model] = endpoint
            continue
        seen.examples += [e for e in endpoint.examples if e not in seen.examples]
        seen.version = seen.version or endpoint.version
    return list(out.values())


# --- the import -------------------------------------------------------------------------------


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _resolved(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A property with a single ``allOf``/``$ref`` merged in (how Cog writes enums)."""
    out = dict(prop)
    refs = [prop["$ref"]] if "$ref" in prop else []
    refs += [s["$ref"] for s in prop.get("allOf", []) if isinstance(s, dict) and "$ref" in s]
    for ref in refs:
        target = defs.get(ref.rsplit("/", 1)[-1], {})
        out = {**target, **{k: v for k, v in out.items() if k not in ("allOf", "$ref")}}
    return out


def _type_text(prop: dict[str, Any]) -> str:
    kind = prop.get("type")
    if kind is None and "anyOf" in prop:
        kind = [s.get("type") for s in prop["anyOf"] if isinstance(s, dict)]
    return _show(kind) if kind is not None else "no type"


def compare(endpoint: Endpoint, published: dict[str, Any]) -> list[Difference]:
    """Every disagreement between an Apifox endpoint and a published spec (``spec.json`` data)."""
    diffs: list[Difference] = []
    norm = normalise(published["openapi_schema"])
    schema = norm.input_schema
    defs = schema.get("$defs", {})
    props: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    if endpoint.version and published.get("version") and endpoint.version != published["version"]:
        diffs.append(
            Difference("(version)", "version", endpoint.version, str(published["version"]))
        )
    if endpoint.call != published.get("call"):
        diffs.append(Difference("(call)", "called by", endpoint.call, str(published.get("call"))))
    apifox_schema = endpoint.input_schema or {"properties": {}, "required": []}
    apifox_required = set(apifox_schema.get("required", []))
    for name, ours in apifox_schema["properties"].items():
        if name not in props:
            diffs.append(Difference(name, "presence", "the field exists", "no such field"))
            continue
        theirs = _resolved(props[name], defs)
        if endpoint.input_schema is not None and endpoint.kind != "examples":
            if (name in apifox_required) != (name in required):
                diffs.append(
                    Difference(
                        name,
                        "required",
                        "required" if name in apifox_required else "optional",
                        "required" if name in required else "optional",
                    )
                )
        kind = ours.get("type")
        if kind and not _type_agrees(kind, theirs, defs):
            diffs.append(Difference(name, "type", _show(kind), _type_text(theirs)))
        diffs += _what_only_one_says(name, ours, theirs, defs)
        for keyword in ("default", "minimum", "maximum"):
            if keyword in ours and not _same(ours[keyword], theirs.get(keyword, _MISSING)):
                diffs.append(
                    Difference(
                        name,
                        keyword,
                        _show(ours[keyword]),
                        _show(theirs[keyword]) if keyword in theirs else f"no {keyword}",
                    )
                )
        if "multipleOf" in ours:
            step = ours["multipleOf"]
            enum = theirs.get("enum")
            if "multipleOf" in theirs:
                agrees = _same(theirs["multipleOf"], step)
            else:
                agrees = (
                    isinstance(step, int | float)
                    and step > 0
                    and isinstance(enum, list)
                    and all(
                        isinstance(v, int | float) and not isinstance(v, bool) and v % step == 0
                        for v in enum
                    )
                )
            if not agrees:
                diffs.append(
                    Difference(
                        name,
                        "multipleOf",
                        _show(step),
                        _show(theirs["multipleOf"])
                        if "multipleOf" in theirs
                        else (f"enum {_show(enum)}" if enum else "no multipleOf"),
                    )
                )
    if endpoint.input_schema is not None and endpoint.kind != "examples":
        for name in props:
            if name not in apifox_schema["properties"]:
                diffs.append(
                    Difference(
                        name,
                        "presence",
                        "not documented",
                        "required field" if name in required else "optional field",
                        omission=True,
                    )
                )
    diffs.append(
        Difference(
            "(output)",
            "type",
            "nothing (no output schema)",
            _schema_text(norm.output_schema),
            omission=True,
        )
    )
    return diffs + invalid_examples(endpoint.examples, schema)


def _format_of(prop: dict[str, Any], defs: dict[str, Any]) -> str | None:
    for option in [prop, *[o for o in prop.get("anyOf", []) if isinstance(o, dict)]]:
        found = _resolved(option, defs).get("format")
        if isinstance(found, str):
            return found
    return None


def _what_only_one_says(
    name: str, ours: dict[str, Any], theirs: dict[str, Any], defs: dict[str, Any]
) -> list[Difference]:
    """Choices (enum) and formats (``uri``: a file or URL) on which the two disagree: what an
    import of the document alone would lose (or invent)."""
    diffs = []
    enum = theirs.get("enum")
    if "enum" in ours or enum is not None:
        if ours.get("enum") != enum:
            diffs.append(
                Difference(
                    name,
                    "enum",
                    _show(ours["enum"]) if "enum" in ours else "no choices (any value)",
                    _show(enum) if enum is not None else "no choices (any value)",
                    omission="enum" not in ours,
                )
            )
    theirs_format = _format_of(theirs, defs)
    if ours.get("format") != theirs_format:
        diffs.append(
            Difference(
                name,
                "format",
                _show(ours["format"]) if "format" in ours else "no format",
                _show(theirs_format) if theirs_format else "no format",
                omission="format" not in ours,
            )
        )
    return diffs


def _schema_text(schema: dict[str, Any]) -> str:
    """A short description of a (normalised) schema: ``array of string (format uri)``."""
    defs: dict[str, Any] = schema.get("$defs", {})

    def text(node: Any, depth: int) -> str:
        if not isinstance(node, dict) or depth > 3:
            return "any value"
        node = _resolved(node, defs)
        if "anyOf" in node:
            return " or ".join(text(o, depth + 1) for o in node["anyOf"])
        kind = node.get("type")
        if kind is None:
            return "any value"
        words = " or ".join(kind) if isinstance(kind, list) else str(kind)
        if "format" in node:
            words += f" (format {node['format']})"
        if "enum" in node:
            words += f" (one of {_show(node['enum'])})"
        if kind == "array":
            words += " of " + text(node.get("items"), depth + 1)
        return words

    return text(schema, 0)


def invalid_examples(
    examples: list[dict[str, Any]], schema: dict[str, Any], authority: str = "the published schema"
) -> list[Difference]:
    """A difference per request example that ``schema`` (normalised Input) rejects."""
    diffs = []
    validator = validator_for(schema)  # patterns on the Rust engine
    for index, example in enumerate(examples):
        error = jsonschema.exceptions.best_match(validator.iter_errors(example))
        if error is not None:
            where = "/" + "/".join(str(p) for p in error.absolute_path)
            diffs.append(
                Difference(
                    f"(example {index})",
                    "validity",
                    "a valid request example",
                    f"at {where}: {error.message}",
                    authority,
                )
            )
    return diffs


_MISSING = object()


def _same(a: Any, b: Any) -> bool:
    if b is _MISSING:
        return False
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return float(a) == float(b)
    return bool(a == b)


def _type_agrees(kind: str, theirs: dict[str, Any], defs: dict[str, Any]) -> bool:
    types: list[Any] = []
    if isinstance(theirs.get("type"), list):
        types += theirs["type"]
    elif "type" in theirs:
        types.append(theirs["type"])
    for option in theirs.get("anyOf", []):
        if isinstance(option, dict):
            resolved = _resolved(option, defs)
            types += (
                resolved["type"]
                if isinstance(resolved.get("type"), list)
                else [resolved.get("type")]
            )
    if not types:
        return True  # the schema does not constrain the type
    return kind in types or (kind == "integer" and "number" in types)


def _example_entries(examples: list[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    return [
        {
            "title": f"{label} request example" + (f" {i + 1}" if len(examples) > 1 else ""),
            "input": e,
        }
        for i, e in enumerate(examples)
    ]


def select(endpoints: list[Endpoint], model: str | None, source: str) -> Endpoint:
    if model is not None:
        for endpoint in endpoints:
            if endpoint.model == model:
                return endpoint
        unnamed = [e for e in endpoints if e.model is None]
        if len(endpoints) == 1 and unnamed:
            unnamed[0].model = model
            return unnamed[0]
        found = ", ".join(sorted(e.model or "(unnamed)" for e in endpoints))
        raise SpecError(
            source, "", f"the document does not describe {model} (it describes {found})"
        )
    if len(endpoints) > 1:
        found = ", ".join(sorted(e.model or "(unnamed)" for e in endpoints))
        raise SpecError(
            source, "", f"the document describes several models ({found}): choose one with --model"
        )
    if endpoints[0].model is None:
        raise SpecError(
            source, "", "cannot tell which model the document describes: pass --model owner/name"
        )
    return endpoints[0]


APIFOX_ONLY = "(the router's documentation, not a published schema"
"""Marks the provenance of a spec made from an Apifox document alone (never an authority)."""


def read(path: Path, model: str | None = None) -> Endpoint:
    """The one endpoint of an Apifox export (``model`` chooses among several)."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(source, "", f"cannot read file: {exc}") from None
    if model is not None and not MODEL_REF.match(model):
        raise SpecError(source, "", f"--model {model!r} is not owner/name")
    endpoint = select(parse(text, source), model, source)
    assert endpoint.model is not None
    return endpoint


def import_apifox(
    path: Path,
    *,
    model: str | None = None,
    specs_dir: Path | None = None,
    version: Any = None,
    version_source: str = "",
    provenance: str | None = None,
    call: str | None = None,
) -> ImportResult:
    """Import one Apifox export (see the module docstring).

    ``version``: the model's published version (``{id, openapi_schema}``, from a version file or
    the API; ``version_source`` names it in errors, ``provenance`` says how it was obtained).
    Without it, the model's spec in ``specs_dir`` is the authority, unless that spec is itself an
    Apifox-only import. ``call``: ``version`` or ``path`` (default: as the document calls it).
    """
    endpoint = read(path, model)
    return import_endpoint(
        endpoint,
        path,
        specs_dir=specs_dir,
        version=version,
        version_source=version_source,
        provenance=provenance,
        call=call,
    )


def _is_apifox_only(spec: Any) -> bool:
    return isinstance(spec, dict) and APIFOX_ONLY in str(spec.get("provenance", ""))


def import_endpoint(
    endpoint: Endpoint,
    path: Path,
    *,
    specs_dir: Path | None = None,
    version: Any = None,
    version_source: str = "",
    provenance: str | None = None,
    call: str | None = None,
) -> ImportResult:
    """:func:`import_apifox` for an endpoint already read from ``path``."""
    from .add_model import spec_from_version  # the same checks as add-model

    assert endpoint.model is not None
    ref = endpoint.model
    label = f"Apifox {path.name}"
    existing = spec_path(specs_dir, ref) if specs_dir is not None else None
    earlier: dict[str, Any] | None = None
    if existing is not None and existing.exists():
        earlier = read_json(existing)
        validate_spec_data(existing, earlier)
    if version is not None:
        if call is None:
            has_id = isinstance(version, dict) and bool(version.get("id"))
            call = endpoint.call if endpoint.call == "path" or has_id else "path"
        published = spec_from_version(
            version,
            ref,
            call=call,
            provenance=provenance or f"published version from {version_source}",
            source=version_source or "--version-file",
        )
        authority = version_source
        base_examples = [] if earlier is None else list(earlier.get("examples", []))
    elif earlier is not None and not _is_apifox_only(earlier):
        assert existing is not None
        published, authority = earlier, str(existing)
        base_examples = list(published.get("examples", []))
    else:
        return _from_document(endpoint, path, label, call)
    differences = compare(endpoint, published)
    samples = [e.get("input") for e in base_examples if isinstance(e, dict)]
    spec, added = merge(endpoint, published, samples)
    merged_input = normalise(spec["openapi_schema"]).input_schema
    kept, dropped = _split_examples(base_examples, merged_input)
    apifox_bad = invalid_examples(endpoint.examples, merged_input, "the merged schema")
    reported = {d.field for d in differences}
    differences += [d for d in apifox_bad if d.field not in reported]
    bad = _example_indexes(differences)
    have = [e.get("input") for e in kept]
    fresh = [e for i, e in enumerate(endpoint.examples) if i not in bad and e not in have]
    spec["examples"] = kept + _example_entries(fresh, label)
    differences = _mark_added(differences, added)
    if call is not None:
        spec["call"] = call  # asked for: a version call still needs a version id (checked below)
    if added or version is not None:
        names = ", ".join(f"{d.field}.{d.aspect}" for d in added) or "nothing"
        spec["provenance"] = (
            f"{published.get('provenance') or 'published schema'}; merged with the Apifox "
            f"document {path.name} by `python -m codegen import-apifox` (the published schema is "
            f"the authority; added from Apifox: {names})"
        )
    validate_spec_data(Path(str(path)), spec)
    return ImportResult(
        spec, differences, endpoint, published=True, authority=authority, dropped_examples=dropped
    )


def _split_examples(
    examples: list[Any], schema: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str]]:
    """Examples of an earlier spec that the merged schema still accepts, and why others do not."""
    validator = jsonschema.Draft202012Validator(schema)
    kept: list[dict[str, Any]] = []
    dropped: list[str] = []
    for index, example in enumerate(examples):
        if not isinstance(example, dict):
            continue
        error = jsonschema.exceptions.best_match(validator.iter_errors(example.get("input", {})))
        if error is None:
            kept.append(example)
        else:
            where = "/" + "/".join(str(p) for p in error.absolute_path)
            dropped.append(
                f"example {index} ({example.get('title', 'untitled')}): at {where}: {error.message}"
            )
    return kept, dropped


def _mark_added(differences: list[Difference], added: list[Difference]) -> list[Difference]:
    keys = {(d.field, d.aspect) for d in added}
    out = [
        Difference(d.field, d.aspect, d.apifox, d.published, d.authority, added=True)
        if (d.field, d.aspect) in keys
        else d
        for d in differences
    ]
    seen = {(d.field, d.aspect) for d in out}
    return out + [d for d in added if (d.field, d.aspect) not in seen]


def _from_document(endpoint: Endpoint, path: Path, label: str, call: str | None) -> ImportResult:
    """A spec from the document alone: what the router documents, and what it cannot say."""
    source = str(path)
    schema = endpoint.input_schema or input_schema([], [])
    openapi_schema = {
        "openapi": "3.0.2",
        "info": {"title": "Apifox import", "version": "0.0.0"},
        "paths": {},
        "components": {"schemas": {"Input": schema, "Output": {"title": "Output"}}},
    }
    differences = invalid_examples(
        endpoint.examples,
        normalise(openapi_schema).input_schema,
        "the Input described by the same document",
    )
    bad = _example_indexes(differences)
    if call is None:
        call = "version" if endpoint.call == "version" and endpoint.version else "path"
    spec = {
        "model": endpoint.model,
        "call": call,
        "version": endpoint.version,
        "provenance": f"imported from the Apifox document {path.name} by `python -m codegen "
        f"import-apifox` {APIFOX_ONLY}; see specs/README.md)",
        "examples": _example_entries(
            [e for i, e in enumerate(endpoint.examples) if i not in bad], label
        ),
        "openapi_schema": openapi_schema,
    }
    validate_spec_data(Path(source), spec)
    return ImportResult(spec, differences, endpoint, published=False, losses=losses(endpoint))


def losses(endpoint: Endpoint) -> list[str]:
    """What a spec made from the document alone does not know (the published schema would)."""
    props: dict[str, Any] = (endpoint.input_schema or {}).get("properties", {})
    out = ["Output: the document does not describe it, so the model's output is untyped (Any)"]
    plain = [
        name
        for name, prop in props.items()
        if prop.get("type") == "string" and "enum" not in prop and "format" not in prop
    ]
    if plain:
        out.append(
            f"{len(plain)} string input(s) stay plain str: the published schema may make them "
            f"files or URLs (format: uri) or choices (enum): {', '.join(plain)}"
        )
    if endpoint.kind == "examples":
        out.append(
            "the inputs are inferred from example values: types only, no required inputs, "
            "defaults or ranges"
        )
    out.append("pass the published version (--version-file FILE or --from-api) to merge its schema")
    return out


# --- merging -----------------------------------------------------------------------------------

_RANGES = ("minimum", "maximum", "multipleOf")


def _numeric(prop: dict[str, Any], defs: dict[str, Any]) -> bool:
    return any(kind in ("integer", "number") for kind in _types(prop, defs))


def _types(prop: dict[str, Any], defs: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    for option in [prop, *[o for o in prop.get("anyOf", []) if isinstance(o, dict)]]:
        kind = _resolved(option, defs).get("type")
        found += kind if isinstance(kind, list) else [kind] if kind is not None else []
    return found


def _accepts(prop: dict[str, Any], defs: dict[str, Any], values: list[Any]) -> bool:
    validator = jsonschema.Draft202012Validator({**prop, "$defs": defs})
    return all(validator.is_valid(v) for v in values)


def merge(
    endpoint: Endpoint, published: dict[str, Any], samples: list[Any] | None = None
) -> tuple[dict[str, Any], list[Difference]]:
    """The published spec with what only Apifox says added (see the module docstring), and a
    difference per added value. A range or default is added only when the published default and
    every input of ``samples`` (default: the published examples) agree with it."""
    spec = copy.deepcopy(published)
    added: list[Difference] = []
    if endpoint.input_schema is None or endpoint.kind == "examples":
        return spec, added  # example values say nothing a schema lacks
    raw_props: dict[str, Any] = spec["openapi_schema"]["components"]["schemas"]["Input"].get(
        "properties", {}
    )
    norm = normalise(published["openapi_schema"]).input_schema
    defs: dict[str, Any] = norm.get("$defs", {})
    props: dict[str, Any] = norm.get("properties", {})
    required = set(norm.get("required", []))
    if samples is None:
        samples = [e.get("input") for e in published.get("examples", []) if isinstance(e, dict)]
    for name, ours in endpoint.input_schema["properties"].items():
        if name not in props or not isinstance(raw_props.get(name), dict):
            continue  # a field the published schema lacks is reported, never added
        target: dict[str, Any] = raw_props[name]
        prop = dict(props[name])
        theirs = _resolved(prop, defs)
        values = [s[name] for s in samples if isinstance(s, dict) and name in s]
        if "default" in theirs:
            values.append(theirs["default"])
        text = ours.get("description")
        if isinstance(text, str) and text.strip() and not theirs.get("description"):
            target["description"] = text
            added.append(Difference(name, "description", _show(text), "no description", added=True))
        if _numeric(prop, defs) and "enum" not in theirs:
            for keyword in _RANGES:
                if keyword not in ours or keyword in theirs:
                    continue
                candidate = {**prop, keyword: ours[keyword]}
                if _accepts(candidate, defs, values):
                    prop[keyword] = target[keyword] = ours[keyword]
                    added.append(
                        Difference(name, keyword, _show(ours[keyword]), f"no {keyword}", added=True)
                    )
        if "default" in ours and "default" not in theirs and name not in required:
            if _accepts(prop, defs, [ours["default"]]):
                target["default"] = ours["default"]
                added.append(
                    Difference(name, "default", _show(ours["default"]), "no default", added=True)
                )
    return spec, added


def _example_indexes(differences: list[Difference]) -> set[int]:
    return {
        int(d.field[len("(example ") : -1]) for d in differences if d.field.startswith("(example ")
    }
