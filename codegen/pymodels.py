"""Input/Output classes for one model, by datamodel-code-generator called in-process.

The generator version is pinned exactly in pyproject.toml: its output changes between minor
versions, and ``make check`` compares generated files byte for byte.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datamodel_code_generator import generate
from datamodel_code_generator.enums import DataModelType, InputFileType, OpenAPIScope
from datamodel_code_generator.format import PythonVersion

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


# Methods the runtime's ModelInput adds to every Input: a field of that name would shadow them, so
# it gets a Python name with a trailing underscore (its wire name stays, as the alias).
RUNTIME_ATTRIBUTES = ("to_request_input", "request_values")


def model_code(
    codegen_document: dict[str, Any], output_schema: dict[str, Any], settings_path: Path
) -> ModelCode:
    code = generate(
        json.dumps(codegen_document),
        input_file_type=InputFileType.JsonSchema,
        settings_path=settings_path,
        aliases={name: f"{name}_" for name in RUNTIME_ATTRIBUTES},
        **COMMON_OPTIONS,
    )
    assert isinstance(code, str)
    code = _ROOT_ANY.sub("", code)
    imports, body = _split(code)
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
    return ModelCode(imports=imports, body=body, output_value=output_value)


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
