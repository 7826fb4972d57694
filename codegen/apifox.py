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

When the model already has a spec (its published ``openapi_schema``), that schema stays the
authority: the import reports every difference (field, what Apifox says, what the schema says)
and only adds the Apifox request examples that the published schema accepts.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from codegen.errors import SpecError, pointer
from codegen.normalize import normalise
from codegen.spec import MODEL_REF, VERSION_ID, read_json, spec_path, validate_spec_data

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

    def __str__(self) -> str:
        return (
            f"{self.field}: {self.aspect}: Apifox says {self.apifox}; "
            f"{self.authority} says {self.published}"
        )


@dataclass
class ImportResult:
    spec: dict[str, Any]
    differences: list[Difference]
    endpoint: Endpoint
    published: bool  # True when an existing spec's schema was kept as the authority


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
                    )
                )
    return diffs + invalid_examples(endpoint.examples, schema)


def invalid_examples(
    examples: list[dict[str, Any]], schema: dict[str, Any], authority: str = "the published schema"
) -> list[Difference]:
    """A difference per request example that ``schema`` (normalised Input) rejects."""
    diffs = []
    validator = jsonschema.Draft202012Validator(schema)
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


def import_apifox(
    path: Path, *, model: str | None = None, specs_dir: Path | None = None
) -> ImportResult:
    """Import one Apifox export. With ``specs_dir``, an existing spec of the model is the authority."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(source, "", f"cannot read file: {exc}") from None
    if model is not None and not MODEL_REF.match(model):
        raise SpecError(source, "", f"--model {model!r} is not owner/name")
    endpoint = select(parse(text, source), model, source)
    assert endpoint.model is not None
    label = f"Apifox {path.name}"
    existing = spec_path(specs_dir, endpoint.model) if specs_dir is not None else None
    if existing is not None and existing.exists():
        published = read_json(existing)
        validate_spec_data(existing, published)
        differences = compare(endpoint, published)
        bad = _example_indexes(differences)
        good = [e for i, e in enumerate(endpoint.examples) if i not in bad]
        have = [e.get("input") for e in published.get("examples", [])]
        spec = copy.deepcopy(published)
        spec["examples"] = list(published.get("examples", [])) + _example_entries(
            [e for e in good if e not in have], label
        )
        return ImportResult(spec, differences, endpoint, published=True)
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
    spec = {
        "model": endpoint.model,
        "call": "version" if endpoint.call == "version" and endpoint.version else "path",
        "version": endpoint.version,
        "provenance": f"imported from the Apifox document {path.name} by `python -m codegen "
        "import-apifox` (the router's documentation, not a published schema; see specs/README.md)",
        "examples": _example_entries(
            [e for i, e in enumerate(endpoint.examples) if i not in bad], label
        ),
        "openapi_schema": openapi_schema,
    }
    validate_spec_data(Path(source), spec)
    return ImportResult(spec, differences, endpoint, published=False)


def _example_indexes(differences: list[Difference]) -> set[int]:
    return {
        int(d.field[len("(example ") : -1]) for d in differences if d.field.startswith("(example ")
    }
