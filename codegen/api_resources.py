"""The API's resources, read from specs/api/openapi.json: one method per operation.

An operation's ``operationId`` names where it lives: ``deployments.predictions.create`` is the
method ``create`` of the resource ``client.deployments.predictions``; a one-word id (``search``)
is a method of the client itself. Its parameters come from the spec, typed:

* path parameters are positional; a ``{x_owner}/{x_name}`` pair is one ``x`` (``owner/name``),
  as users write model and deployment names;
* query parameters, JSON body fields, form fields and header parameters are keyword-only,
  required where the spec says so, else ``None`` (not sent: the server's default applies);
  a parameter's Python name and type may be given by ``x-python-name`` / ``x-python-type``;
* a ``text/plain`` body is one required positional parameter named after the operation's noun.

The answer is the success response's type: a named schema, a list of one, text, bytes, nothing
(204), or, for a page schema (``results`` + ``next``), a pager over its items.

:func:`api_resources` builds the tree the templates render; :func:`operation_table_markdown`
the table of docs/api-operations.md. Both are pure: a spec they cannot read is a
:class:`~codegen.errors.SpecError` naming the pointer.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import SpecError, pointer

_METHODS = ("get", "post", "put", "patch", "delete", "query")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_PAIR = re.compile(r"\{(\w+)_owner\}/\{\1_name\}")
_SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
OPTION_NAMES = frozenset({"extra_headers", "timeout", "max_retries"})


@dataclass(frozen=True)
class Param:
    name: str
    wire: str
    where: str  # path | query | header | json | form | content
    annotation: str
    required: bool
    doc: str = ""


@dataclass
class Method:
    id: str
    constant: str
    name: str
    http_method: str
    path: str
    summary: str
    description: str
    params: list[Param]
    kind: str  # model | list | text | bytes | empty | json | page
    returns: str  # the annotation of the answer (the item type for a page)
    raw_returns: str  # what RawResponse.parse() gives
    cast: str  # the expression handed to the client as cast_to
    python_name: str  # client.models.versions.get

    @property
    def positional(self) -> list[Param]:
        return [p for p in self.params if p.where in ("path", "content")]

    @property
    def keyword(self) -> list[Param]:
        rest = [p for p in self.params if p.where not in ("path", "content")]
        return [p for p in rest if p.required] + [p for p in rest if not p.required]

    def by(self, where: str) -> list[Param]:
        return [p for p in self.params if p.where == where]


@dataclass
class Resource:
    path: tuple[str, ...]
    methods: list[Method] = field(default_factory=list)
    children: dict[str, Resource] = field(default_factory=dict)

    @property
    def class_name(self) -> str:
        return "".join(_pascal(part) for part in self.path) + "Resource"

    def walk(self) -> list[Resource]:
        """This resource's descendants first (a class is defined before it is used), then it."""
        out: list[Resource] = []
        for child in self.children.values():
            out.extend(child.walk())
        out.append(self)
        return out


def _pascal(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[._\-]+", text) if part)


def _snake(text: str) -> str:
    name = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    if not name or name[0].isdigit():
        name = f"p_{name}"
    return name + "_" if keyword.iskeyword(name) or name in OPTION_NAMES else name


class _Reader:
    def __init__(self, doc: dict[str, Any], source: Path) -> None:
        self.doc = doc
        self.source = source
        self.schemas: dict[str, Any] = doc.get("components", {}).get("schemas", {})

    def fail(self, where: list[str | int], rule: str) -> SpecError:
        return SpecError(self.source, pointer(where), rule)

    def deref(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 16:
            ref: str = node["$ref"]
            section, _, name = ref.removeprefix("#/components/").partition("/")
            node = self.doc.get("components", {}).get(section, {}).get(name)
            seen += 1
        return node

    def ref_name(self, node: Any) -> str | None:
        ref = node.get("$ref") if isinstance(node, dict) else None
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            return ref.rsplit("/", 1)[1]
        return None

    def annotation(self, schema: Any) -> str:
        """The Python type of a parameter's schema (what a caller passes)."""
        if not isinstance(schema, dict):
            return "Any"
        if "x-python-type" in schema:
            return str(schema["x-python-type"])
        name = self.ref_name(schema)
        if name is not None:
            return self.annotation(self.deref(schema))
        kind = schema.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"]
            kind = kinds[0] if len(kinds) == 1 else None
        enum = schema.get("enum")
        if isinstance(enum, list) and enum and all(isinstance(v, str) for v in enum):
            return "Literal[" + ", ".join(repr(v) for v in enum) + "]"
        if kind == "string":
            if schema.get("format") == "date-time":
                return "datetime | str"
            if schema.get("format") == "binary":
                return "bytes"
            return "str"
        if kind in _SCALARS:
            return _SCALARS[kind]
        if kind == "object":
            return "Mapping[str, Any]"
        if kind == "array":
            return f"Sequence[{self.annotation(schema.get('items'))}]"
        return "Any"

    def page_item(self, name: str) -> str | None:
        """The item type when schema ``name`` is a page (``results`` of one type, ``next``)."""
        schema = self.deref({"$ref": f"#/components/schemas/{name}"})
        props = schema.get("properties", {}) if isinstance(schema, dict) else {}
        results = props.get("results")
        if not isinstance(results, dict) or "next" not in props:
            return None
        return self.ref_name(results.get("items"))


def _doc(node: dict[str, Any]) -> str:
    return " ".join(str(node.get("description", "")).split())


def _params(reader: _Reader, op: dict[str, Any], path: str, where: list[str | int]) -> list[Param]:
    params: list[Param] = []
    template = path
    for match in _PAIR.finditer(path):
        stem = match.group(1)
        params.append(Param(stem, stem, "path", "str", True, f"``owner/name`` of the {stem}"))
        template = template.replace(match.group(0), "")
    for name in _PLACEHOLDER.findall(template):
        params.append(Param(_snake(name), name, "path", "str", True))
    # path params in the order the path has them
    order = {p.wire: path.find(p.wire) for p in params}
    params.sort(key=lambda p: order[p.wire])
    for index, raw in enumerate(op.get("parameters", [])):
        param = reader.deref(raw)
        if not isinstance(param, dict) or "name" not in param:
            raise reader.fail([*where, "parameters", index], "a parameter without a name")
        location = param.get("in")
        if location == "path":
            continue
        if location not in ("query", "header"):
            raise reader.fail([*where, "parameters", index], f"parameters in {location!r}")
        schema = param.get("schema", {})
        name = str(param.get("x-python-name") or _snake(str(param["name"])))
        params.append(
            Param(
                name,
                str(param["name"]),
                str(location),
                reader.annotation({**schema, **_python_type(param)}),
                bool(param.get("required")),
                _doc(param),
            )
        )
    body = op.get("requestBody")
    if isinstance(body, dict):
        content = body.get("content", {})
        if "application/json" in content:
            schema = reader.deref(content["application/json"].get("schema"))
            params += _object_params(reader, schema, "json", [*where, "requestBody"])
        elif "multipart/form-data" in content:
            schema = reader.deref(content["multipart/form-data"].get("schema"))
            params += _object_params(reader, schema, "form", [*where, "requestBody"])
        elif "text/plain" in content:
            params.append(Param("query", "query", "content", "str", True, _doc(body)))
        else:
            raise reader.fail([*where, "requestBody", "content"], "no JSON, form or text body")
    names = [p.name for p in params]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise reader.fail(where, f"parameter names collide: {', '.join(dupes)}")
    return params


def _python_type(param: dict[str, Any]) -> dict[str, Any]:
    kind = param.get("x-python-type")
    return {"x-python-type": kind} if kind else {}


def _object_params(reader: _Reader, schema: Any, where: str, at: list[str | int]) -> list[Param]:
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        raise reader.fail(at, "a request body that is not an object with properties")
    required = set(schema.get("required", []))
    return [
        Param(_snake(name), name, where, reader.annotation(prop), name in required, _doc(prop))
        for name, prop in schema["properties"].items()
    ]


def _answer(reader: _Reader, op: dict[str, Any], where: list[str | int]) -> tuple[str, ...]:
    """(kind, returns, raw_returns, cast) of the operation's first success response."""
    responses = op.get("responses", {})
    codes = sorted(c for c in responses if str(c).startswith("2"))
    if not codes:
        raise reader.fail([*where, "responses"], "no success (2xx) response")
    content = reader.deref(responses[codes[0]]).get("content") or {}
    if "application/json" in content:
        schema = content["application/json"].get("schema", {})
        name = reader.ref_name(schema)
        if name is not None:
            item = reader.page_item(name)
            if item is not None:
                return ("page", item, name, name)
            return ("model", name, name, name)
        items = reader.ref_name(schema.get("items")) if schema.get("type") == "array" else None
        if items is not None:
            return ("list", f"list[{items}]", f"list[{items}]", f"list[{items}]")
        return ("json", "Any", "Any", "None")
    if "text/plain" in content:
        return ("text", "str", "str", "str")
    if content:
        return ("bytes", "bytes", "bytes", "bytes")
    return ("empty", "None", "None", "None")


def api_methods(doc: dict[str, Any], source: Path) -> list[Method]:
    """One :class:`Method` per operation, in the spec's order."""
    reader = _Reader(doc, source)
    methods: list[Method] = []
    for path, item in doc.get("paths", {}).items():
        for http_method in _METHODS:
            op = item.get(http_method) if isinstance(item, dict) else None
            if not isinstance(op, dict):
                continue
            where: list[str | int] = ["paths", path, http_method]
            op_id = str(op.get("operationId", ""))
            kind, returns, raw_returns, cast = _answer(reader, op, where)
            methods.append(
                Method(
                    id=op_id,
                    constant=op_id.upper().replace(".", "_"),
                    name=_snake(op_id.rsplit(".", 1)[-1]),
                    http_method=http_method.upper(),
                    path=path,
                    summary=" ".join(str(op.get("summary", "")).split()),
                    description=str(op.get("description", "")).strip(),
                    params=_params(reader, op, path, where),
                    kind=kind,
                    returns=returns,
                    raw_returns=raw_returns,
                    cast=cast,
                    python_name="client." + ".".join(_snake(p) for p in op_id.split(".")),
                )
            )
    return methods


def api_resources(doc: dict[str, Any], source: Path) -> Resource:
    """The resource tree: the root (the client's own methods, e.g. ``search``) and its children."""
    root = Resource(())
    for method in api_methods(doc, source):
        node = root
        for part in method.id.split(".")[:-1]:
            name = _snake(part)
            node = node.children.setdefault(name, Resource((*node.path, name)))
        clash = [m.id for m in node.methods if m.name == method.name]
        if clash or method.name in node.children:
            raise SpecError(
                source,
                pointer(["paths", method.path, method.http_method.lower(), "operationId"]),
                f"{method.id} collides with {clash[0] if clash else 'a resource'} of the same name",
            )
        node.methods.append(method)
    for node in root.walk():
        clash = sorted(set(node.children) & {m.name for m in node.methods})
        if clash:
            raise SpecError(source, "/paths", f"{clash[0]} is both a method and a resource")
    return root


def type_names(resources: Resource) -> list[str]:
    """The API types the resources module imports."""
    names: set[str] = set()
    for node in resources.walk():
        for method in node.methods:
            for text in (method.returns, method.raw_returns):
                names.update(re.findall(r"\b([A-Z]\w*)\b", text))
    return sorted(names - {"Any", "None", "Literal"})


def docstring(method: Method, indent: int = 8) -> str:
    """The method's docstring: summary, the call on the wire, the parameters the spec describes,
    the description (as the spec has it), made safe for a Python string and indented."""
    lines = [method.summary or method.id, "", f"``{method.http_method} /v1{method.path}``."]
    described = [p for p in method.params if p.doc]
    if described:
        lines += ["", "Args:"]
        lines += [f"    {p.name}: {p.doc}" for p in described]
    if method.description and method.description != method.summary:
        lines += ["", method.description]
    pad = " " * indent
    text = "\n".join(
        (pad + line.rstrip()) if i and line.strip() else line.rstrip()
        for i, line in enumerate("\n".join(lines).splitlines())
    )
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return text.rstrip("\n") + "\n" + pad


def signature_doc(method: Method) -> str:
    """``client.models.versions.get(model, version_id)`` with the required keyword arguments."""
    args = [p.name for p in method.positional]
    args += [f"{p.name}=..." for p in method.keyword if p.required]
    if any(not p.required for p in method.keyword):
        args.append("...")
    return f"{method.python_name}({', '.join(args)})"


def operation_table_markdown(resources: Resource, source: str) -> str:
    """docs/api-operations.md: every operation with its Python call, from the spec."""
    rows = [m for node in resources.walk() for m in node.methods]
    rows.sort(key=lambda m: m.python_name)
    out = [
        "<!-- Generated by replicate-typed codegen from "
        f"{source} -- DO NOT EDIT. Regenerate with `make generate`. -->",
        "",
        "# API operations",
        "",
        f"Every operation of Replicate's API document ({len(rows)}), as `Client` and "
        "`AsyncClient` methods (async: `await`, and `async for` over list answers). Every "
        "method also takes `extra_headers=`, `timeout=` and `max_retries=`; "
        "`client.with_raw_response.<same call>` returns the HTTP answer "
        "(`.status_code`, `.headers`, `.parse()`), and `client.with_options(...)` a client "
        "with other defaults. A list operation returns a pager: iterate it for every item "
        "(bounded, see `max_pages`/`max_items`), or `.first_page()`.",
        "",
        "| operation | HTTP | Python | returns |",
        "|---|---|---|---|",
    ]
    for m in rows:
        returns = {
            "page": f"pager of `{m.returns}`",
            "empty": "`None`",
        }.get(m.kind, f"`{m.returns}`")
        out.append(
            f"| `{m.id}` | `{m.http_method} /v1{m.path}` | `{signature_doc(m)}` | {returns} |"
        )
    out += [
        "",
        "Written by hand on top of these (what a document cannot say): "
        "`predictions.wait`, `predictions.stream`, `predictions.stream_until_done`, "
        "`client.create`/`client.run` (a model's typed `Input`, by version, model path or "
        "`deployment=`), uploads of local files in inputs (`files.create` takes bytes, a "
        "`Path` or a file object), `webhooks.default_secret()`.",
        "",
    ]
    return "\n".join(out)


def render_operations_doc(project: Any) -> str:
    """docs/api-operations.md of a project (its API document, read and checked)."""
    from .spec import read_json

    document = project.api_document
    doc = read_json(document)
    return operation_table_markdown(api_resources(doc, document), project.rel(document))
