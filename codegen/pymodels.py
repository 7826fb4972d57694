"""Input/Output classes for one model, by datamodel-code-generator called in-process.

The generator version is pinned exactly in pyproject.toml: its output changes between minor
versions, and ``make check`` compares generated files byte for byte.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datamodel_code_generator import generate
from datamodel_code_generator.enums import DataModelType, InputFileType, OpenAPIScope
from datamodel_code_generator.format import PythonVersion

from .naming import RUNTIME_ATTRIBUTES, field_names, is_plain_field_name
from .normalize import property_keys

__all__ = [
    "RUNTIME_ATTRIBUTES",
    "ModelCode",
    "api_code",
    "field_aliases",
    "model_code",
    "named_code",
]

# Options shared by model and API generation: timestamps off, enums become Literal. No formatter
# here: datamodel-code-generator would start one ruff process per model; the generator runs ruff
# once over the whole package instead (same bytes, far faster with hundreds of models).
COMMON_OPTIONS: dict[str, Any] = {
    "output_model_type": DataModelType.PydanticV2BaseModel,
    "target_python_version": PythonVersion.PY_311,
    "disable_timestamp": True,
    "collapse_root_models": True,
    "use_annotated": True,
    "field_constraints": True,
    "use_standard_collections": True,
    "use_union_operator": True,
    "use_field_description": True,
    "use_attribute_docstrings": False,  # pydantic would re-read the source of every class on import
    "use_double_quotes": True,
    "enum_field_as_literal": "all",
    "strict_nullable": True,
    "apply_default_values_for_required_fields": False,  # required means required
    "formatters": [],
    "custom_file_header": "#",
}

_ROOT_ANY = re.compile(r"^class Model\(RootModel\[Any\]\):\n    root: Any\n+", re.M)


@dataclass(frozen=True)
class ModelCode:
    imports: str
    body: str
    output_value: str  # the annotation Client.run returns
    # the Input's fields: wire key -> Python name
    input_fields: dict[str, str] = field(default_factory=dict)


def _split(code: str) -> tuple[str, str]:
    lines = code.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("class "):
            head = "\n".join(
                x for x in lines[:index] if x and not x.startswith("#") and "__future__" not in x
            )
            return head, "\n".join(lines[index:])
    raise ValueError("datamodel-code-generator produced no class")


def _output_value(body: str) -> str:
    """The annotation ``Client.run`` returns: the root type of ``Output`` if it is a RootModel.

    Read from the syntax tree, so it does not depend on how the code is laid out.
    """
    for node in ast.parse(body).body:
        if isinstance(node, ast.ClassDef) and node.name == "Output":
            for base in node.bases:
                if (
                    isinstance(base, ast.Subscript)
                    and isinstance(base.value, ast.Name)
                    and base.value.id == "RootModel"
                ):
                    return ast.unparse(base.slice)
            return "Output"
    raise ValueError("datamodel-code-generator produced no Output class")


def defined_names(body: str) -> list[str]:
    """Top-level names a generated body defines."""
    names: list[str] = []
    for node in ast.parse(body).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.append(node.target.id)
    return names


# Names every model module binds besides what datamodel-code-generator imports (the template's
# own, and the builtins annotations use): no field is named like one (it would shadow it in its
# class, and datamodel-code-generator's own way out, an aliased import, misses other classes).
MODULE_NAMES = frozenset(
    {
        *("json", "Any", "Final", "TypeAlias", "ModelInfo", "ModelInput", "TypedPrediction"),
        *("Input", "Output", "OutputValue", "Prediction", "MODEL", "INPUT_SCHEMA", "OUTPUT_SCHEMA"),
        *("str", "int", "float", "bool", "list", "dict", "bytes", "object"),
    }
)


def field_aliases(
    codegen_document: dict[str, Any],
    module_names: Collection[str] = MODULE_NAMES,
    root: str = "Input",
) -> dict[str, str]:
    """Schema key -> Python name for every property whose key is not a plain Python name
    (:func:`codegen.naming.field_names`): datamodel-code-generator writes these fields with the
    key as their alias. The keys of ``root`` (the input class's schema) are settled first."""
    defs = codegen_document.get("$defs", {})
    keys = property_keys(defs.get(root, {}))
    property_keys(codegen_document, keys)
    known = set(keys)
    # datamodel-code-generator reads an alias key "Class.field" as meant for that field of that
    # class only: a key with a dot whose tail is another key would rename that other field too.
    # Such a key keeps datamodel-code-generator's own name (check_names holds it to the rules).
    return {
        key: name
        for key, name in field_names(keys, module_names).items()
        if not any(key[index + 1 :] in known for index, c in enumerate(key) if c == ".")
    }


class FieldNameError(ValueError):
    """A generated class whose field or class name is not what the naming rules promise (a
    datamodel-code-generator release that names differently): the generator stops rather than
    write a module that would take or send another key than the schema's."""

    def __init__(self, key: str, rule: str) -> None:
        super().__init__(rule)
        self.key = key
        self.rule = rule


def check_names(body: str, keys: list[str], module_names: Collection[str] = ()) -> None:
    """Every class of ``body`` has an ASCII name, and every field a safe, distinct Python name
    (:func:`codegen.naming.is_plain_field_name`) whose wire name (its alias, else the name) is a
    property key of the schema: Python then reads each name as written (no NFKC surprise),
    pydantic warns about none, and what the field takes and sends is the schema's own key."""
    known = set(keys)
    for node in ast.walk(ast.parse(body)):
        if not isinstance(node, ast.ClassDef):
            continue
        if not node.name.isascii():
            raise FieldNameError(node.name, f"the class name {node.name!r} is not ASCII")
        seen: set[str] = set()
        for item in node.body:
            if not isinstance(item, ast.AnnAssign) or not isinstance(item.target, ast.Name):
                continue
            name = item.target.id
            alias = _alias_of(item)
            wire = name if alias is None else alias
            if name == "root" and wire == name:
                continue  # a RootModel's value
            if wire not in known:
                raise FieldNameError(
                    wire,
                    f"the field {name!r} of class {node.name} is sent as {wire!r}, "
                    "which is no property key of the schema",
                )
            if not is_plain_field_name(name) or name in seen or name in module_names:
                raise FieldNameError(
                    wire,
                    f"the property {wire!r} got the Python name {name!r} in class "
                    f"{node.name}, which is not a safe, distinct field name",
                )
            seen.add(name)


def _bound_names(imports: str, body: str) -> set[str]:
    """The names the module's imports and top-level statements bind."""
    names: set[str] = set()
    for node in [*ast.parse(imports).body, *ast.parse(body).body]:
        if isinstance(node, ast.Import | ast.ImportFrom):
            # the imported name too: datamodel-code-generator renames an import a field shadows
            names.update(n.split(".")[0] for a in node.names for n in (a.name, a.asname) if n)
    return names | set(defined_names(body))


def _field_python_names(body: str) -> set[str]:
    return {
        item.target.id
        for node in ast.walk(ast.parse(body))
        if isinstance(node, ast.ClassDef)
        for item in node.body
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
    }


def _alias_of(item: ast.AnnAssign) -> str | None:
    for sub in ast.walk(item):
        if isinstance(sub, ast.keyword) and sub.arg == "alias":
            if isinstance(sub.value, ast.Constant) and isinstance(sub.value.value, str):
                return sub.value.value
    return None


def named_code(
    document: dict[str, Any],
    settings_path: Path,
    module_names: Collection[str],
    root: str = "Input",
) -> tuple[str, str]:
    """datamodel-code-generator's classes for ``document`` (imports, body) with every field
    named by :mod:`codegen.naming` (``root``'s keys settled first) and held to the rules by
    :func:`check_names` (:class:`FieldNameError` otherwise). ``module_names``: what the module
    binds besides the generator's output; no field takes one of those names."""
    names = set(module_names)
    for _ in range(3):
        code = generate(
            json.dumps(document),
            input_file_type=InputFileType.JsonSchema,
            settings_path=settings_path,
            aliases=field_aliases(document, names, root),
            **COMMON_OPTIONS,
        )
        assert isinstance(code, str)
        code = _ROOT_ANY.sub("", code)
        imports, body = _split(code)
        # A field named like something this module imports or defines (``Field``, a class):
        # once more with those names kept from fields (rare; the common case runs once).
        bound = _bound_names(imports, body)
        if not bound & _field_python_names(body) or bound <= names:
            break
        names |= bound
    check_names(body, property_keys(document), names)
    return imports, body


def model_code(
    codegen_document: dict[str, Any], output_schema: dict[str, Any], settings_path: Path
) -> ModelCode:
    imports, body = named_code(codegen_document, settings_path, MODULE_NAMES)
    if output_schema.get("x-cog-array-display") == "concatenate":
        output_value = "str"
    else:
        output_value = _output_value(body)
    rest, input_class = _take_input_class(body)
    rest, rebuilds = _take_rebuilds(rest)
    input_class = input_class.replace(
        "class Input(BaseModel):", "class Input(ModelInput[OutputValue]):", 1
    )
    alias = f'OutputValue: TypeAlias = {output_value}\n"""What ``Client.run`` returns for this model."""'
    # Input comes last: its base names OutputValue, which may name any class defined above.
    # The model_rebuild() calls of recursive classes follow it (they may name Input).
    body = (
        f"{rest.rstrip()}\n\n\n{alias}\n\n\n{input_class}\n"
        if rest.strip()
        else (f"{alias}\n\n\n{input_class}\n")
    )
    if rebuilds:
        body += "\n\n" + "\n".join(rebuilds) + "\n"
    return ModelCode(
        imports=imports,
        body=body,
        output_value=output_value,
        input_fields=_input_fields(input_class),
    )


def _input_fields(input_class: str) -> dict[str, str]:
    """The ``Input`` class's fields: wire key (alias, else the name) -> Python name."""
    out: dict[str, str] = {}
    for node in ast.parse(input_class).body:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    alias = _alias_of(item)
                    out[item.target.id if alias is None else alias] = item.target.id
    return out


def _take_rebuilds(body: str) -> tuple[str, list[str]]:
    """Split off the top-level ``X.model_rebuild()`` statements (recursive models)."""
    lines = body.splitlines()
    rebuilds: list[str] = []
    drop: set[int] = set()
    for node in ast.parse(body).body:
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Attribute)
            and node.value.func.attr == "model_rebuild"
        ):
            end = node.end_lineno or node.lineno
            rebuilds.append("\n".join(lines[node.lineno - 1 : end]))
            drop.update(range(node.lineno - 1, end))
    return "\n".join(x for i, x in enumerate(lines) if i not in drop), rebuilds


def _take_input_class(body: str) -> tuple[str, str]:
    """Split the generated body into (everything else, the ``Input`` class)."""
    lines = body.splitlines()
    for node in ast.parse(body).body:
        if isinstance(node, ast.ClassDef) and node.name == "Input":
            start = node.lineno - 1 - len(node.decorator_list)
            end = node.end_lineno or node.lineno
            if not lines[start].startswith("class Input(BaseModel):"):
                break
            rest = "\n".join(lines[:start] + lines[end:])
            return rest, "\n".join(lines[start:end])
    raise ValueError("datamodel-code-generator produced no Input class")


def api_code(openapi_document: dict[str, Any], settings_path: Path) -> tuple[str, str]:
    """The API types (Prediction, status, problem details, page, file ...) from specs/api."""
    code = generate(
        json.dumps(openapi_document),
        input_file_type=InputFileType.OpenAPI,
        openapi_scopes=[OpenAPIScope.Schemas],
        use_title_as_name=True,
        settings_path=settings_path,
        **COMMON_OPTIONS,
    )
    assert isinstance(code, str)
    return _split(code)
