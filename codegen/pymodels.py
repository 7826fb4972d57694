"""Input/Output classes for one model, by datamodel-code-generator called in-process.

The generator version is pinned exactly in pyproject.toml: its output changes between minor
versions, and ``make check`` compares generated files byte for byte.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datamodel_code_generator import generate
from datamodel_code_generator.enums import DataModelType, InputFileType, OpenAPIScope
from datamodel_code_generator.format import Formatter, PythonVersion

# Options shared by model and API generation. Formatting is explicit (ruff-format with the
# repo's settings), timestamps are off, enums become Literal.
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
    "use_attribute_docstrings": True,
    "use_double_quotes": True,
    "enum_field_as_literal": "all",
    "strict_nullable": True,
    "apply_default_values_for_required_fields": True,
    "formatters": [Formatter.RUFF_FORMAT],
    "custom_file_header": "#",
}

_ROOT_OUTPUT = re.compile(r"^class Output\(RootModel\[(?P<type>.*?)\]\):\n", re.M | re.S)
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


def model_code(
    codegen_document: dict[str, Any], output_schema: dict[str, Any], settings_path: Path
) -> ModelCode:
    code = generate(
        json.dumps(codegen_document),
        input_file_type=InputFileType.JsonSchema,
        extra_fields="forbid",
        settings_path=settings_path,
        **COMMON_OPTIONS,
    )
    assert isinstance(code, str)
    code = _ROOT_ANY.sub("", code)
    imports, body = _split(code)
    if output_schema.get("x-cog-array-display") == "concatenate":
        output_value = "str"
    else:
        match = _ROOT_OUTPUT.search(body)
        output_value = (
            " ".join(match.group("type").split()).replace("[ ", "[").replace(", ]", "]").rstrip(",")
            if match
            else "Output"
        )
    body = body.replace("class Input(BaseModel):", "class Input(ModelInput[OutputValue]):", 1)
    if "class Input(ModelInput[OutputValue]):" not in body:
        raise ValueError("datamodel-code-generator produced no Input class")
    marker = "class Input(ModelInput[OutputValue]):"
    alias = f'OutputValue: TypeAlias = {output_value}\n"""What ``Client.run`` returns for this model."""\n\n\n'
    body = body.replace(marker, alias + marker, 1)
    return ModelCode(imports=imports, body=body, output_value=output_value)


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
