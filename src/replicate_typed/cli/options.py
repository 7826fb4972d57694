"""Command-line options generated at run time from a model's input spec.

Every property of the model's ``Input`` schema becomes one option of ``replicate-typed run
owner/name``: ``--width`` for ``width``, typed from the schema (integer, number, boolean flag
``--x/--no-x``, choices for string and integer enums, a file path or URL for ``format: uri``,
JSON for anything more complex), its default shown in ``--help``, required ones marked, the
description as help. Values are validated through the generated ``Input`` model before any
request is sent; only the options given on the command line are sent (unset inputs are left to
the model's own defaults, as :meth:`ModelInput.to_request_input` does).
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.markup import escape

from replicate_typed.cli.errors import EXIT_USAGE, CliError

if TYPE_CHECKING:
    from replicate_typed.core.model import ModelInfo, ModelInput

__all__ = [
    "InputOption",
    "OptionKind",
    "model_options",
    "option_parameters",
    "build_input",
    "INPUT_PANEL",
]

OptionKind = Literal["str", "int", "float", "bool", "choice", "file", "secret", "json"]
INPUT_PANEL = "Model input"
_URL_PREFIXES = ("http://", "https://", "data:")
_IDENT = re.compile(r"[^0-9a-zA-Z_]")


@dataclass(frozen=True)
class InputOption:
    """One model input as a command-line option."""

    field: str
    """The input's name on the wire (the schema property)."""
    param: str
    """The Python parameter name of the generated command (``in_<n>``)."""
    flag: str
    """``--width``."""
    kind: OptionKind
    required: bool
    default: Any
    """The schema's default (None when it has none); shown in ``--help``."""
    help: str
    choices: tuple[Any, ...] = ()
    nullable: bool = False


def _resolve(prop: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """Inline ``$ref`` / single-``allOf`` references to ``$defs`` (Cog's enum style)."""
    out = dict(prop)
    refs: list[Mapping[str, Any]] = []
    if "$ref" in out:
        refs.append({"$ref": out.pop("$ref")})
    all_of = out.get("allOf")
    if isinstance(all_of, list) and all(isinstance(x, dict) and "$ref" in x for x in all_of):
        refs.extend(all_of)
        out.pop("allOf")
    for ref in refs:
        name = str(ref["$ref"]).rsplit("/", 1)[-1]
        target = defs.get(name)
        if isinstance(target, Mapping):
            merged = _resolve(target, defs)
            merged.update({k: v for k, v in out.items() if k not in ("title",)})
            out = merged
    return out


def _non_null_variant(prop: Mapping[str, Any]) -> tuple[dict[str, Any], bool]:
    """``anyOf: [X, {type: null}]``, ``type: [X, "null"]`` or ``nullable`` -> (X, True)."""
    nullable = bool(prop.get("nullable"))
    for key in ("anyOf", "oneOf"):
        variants = prop.get(key)
        if isinstance(variants, list):
            real = [v for v in variants if not (isinstance(v, dict) and v.get("type") == "null")]
            if len(real) == 1 and len(real) < len(variants) and isinstance(real[0], dict):
                merged = {k: v for k, v in prop.items() if k != key}
                merged.update(real[0])
                return merged, True
    kind = prop.get("type")
    if isinstance(kind, list) and "null" in kind:
        rest = [k for k in kind if k != "null"]
        merged = dict(prop)
        merged["type"] = rest[0] if len(rest) == 1 else rest
        return merged, True
    return dict(prop), nullable


def _kind(prop: Mapping[str, Any]) -> tuple[OptionKind, tuple[Any, ...]]:
    enum = prop.get("enum")
    if isinstance(enum, list) and enum:
        values = tuple(v for v in enum if v is not None)
        if values and (
            all(isinstance(v, str) for v in values)
            or all(isinstance(v, int) and not isinstance(v, bool) for v in values)
        ):
            return "choice", values
        return "json", ()
    kind = prop.get("type")
    if kind == "boolean":
        return "bool", ()
    if kind == "integer":
        return "int", ()
    if kind == "number":
        return "float", ()
    if kind == "string":
        if prop.get("format") == "uri":
            return "file", ()
        if prop.get("format") == "password" or prop.get("x-cog-secret"):
            return "secret", ()
        return "str", ()
    return "json", ()


def _fmt_number(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _help_text(prop: Mapping[str, Any], kind: OptionKind) -> str:
    parts: list[str] = []
    description = str(prop.get("description") or prop.get("title") or "").strip()
    if description and description != "An enumeration.":
        description = " ".join(description.split())
        parts.append(description if description[-1] in ".!?:)" else description + ".")
    low, high = prop.get("minimum"), prop.get("maximum")
    if low is not None and high is not None:
        parts.append(f"Range: {_fmt_number(low)} to {_fmt_number(high)}.")
    elif low is not None:
        parts.append(f"Minimum: {_fmt_number(low)}.")
    elif high is not None:
        parts.append(f"Maximum: {_fmt_number(high)}.")
    if prop.get("exclusiveMinimum") is not None:
        parts.append(f"Greater than {_fmt_number(prop['exclusiveMinimum'])}.")
    if prop.get("exclusiveMaximum") is not None:
        parts.append(f"Less than {_fmt_number(prop['exclusiveMaximum'])}.")
    if prop.get("minLength") is not None or prop.get("maxLength") is not None:
        parts.append(
            f"Length: {prop.get('minLength', 0)} to {prop.get('maxLength', 'any')} characters."
        )
    if kind == "file":
        parts.append("A local file path, an http(s) URL or a data: URI.")
    elif kind == "json":
        parts.append("Given as JSON.")
    return " ".join(parts)


def model_options(info: ModelInfo[Any, Any], reserved: Sequence[str] = ()) -> list[InputOption]:
    """The options of ``run <model>``, in the schema's ``x-order``.

    An input whose flag would clash with one of the ``reserved`` run options (``--out`` ...)
    is offered as ``--input-<name>`` instead.
    """
    schema = info.input_schema
    defs: Mapping[str, Any] = schema.get("$defs") or schema.get("definitions") or {}
    props: Mapping[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or ())
    ordered = sorted(
        props.items(),
        key=lambda kv: (
            kv[1].get("x-order", 1 << 30) if isinstance(kv[1], Mapping) else 1 << 30,
            kv[0],
        ),
    )
    taken = {r.lower() for r in reserved} | {"--help"}
    result: list[InputOption] = []
    for index, (name, raw) in enumerate(ordered):
        prop, nullable = _non_null_variant(_resolve(raw if isinstance(raw, Mapping) else {}, defs))
        prop = _resolve(prop, defs)
        kind, choices = _kind(prop)
        flag = "--" + name.replace("_", "-").lower()
        if not re.fullmatch(r"--[a-z0-9][a-z0-9-]*", flag) or flag in taken:
            flag = "--input-" + _IDENT.sub("-", name).lower().strip("-")
        if flag in taken:
            flag = f"--input-{index}"
        taken.add(flag)
        if kind == "bool":
            taken.add("--no-" + flag[2:])
        result.append(
            InputOption(
                field=name,
                param=f"in_{index}",
                flag=flag,
                kind=kind,
                required=name in required and "default" not in prop,
                default=prop.get("default"),
                help=_help_text(prop, kind),
                choices=choices,
                nullable=nullable,
            )
        )
    return result


def _annotation(option: InputOption) -> Any:
    if option.kind == "bool":
        return bool
    if option.kind == "int":
        return int
    if option.kind == "float":
        return float
    if option.kind == "choice":
        return Literal.__getitem__(option.choices)
    return str


def _metavar(option: InputOption) -> str | None:
    if option.kind == "file":
        return "PATH|URL"
    if option.kind == "json":
        return "JSON"
    if option.kind == "secret":
        return "SECRET"
    return None


def option_parameters(options: Sequence[InputOption], *, markup: bool) -> list[inspect.Parameter]:
    """``inspect.Parameter`` objects Typer turns into the generated options."""
    params: list[inspect.Parameter] = []
    for option in options:
        decl = f"{option.flag}/--no-{option.flag[2:]}" if option.kind == "bool" else option.flag
        default: Any = option.default
        show_default: bool = True
        if option.kind in ("secret", "json", "file"):
            show_default = option.default not in (None, "") and option.kind != "secret"
            if option.kind == "json" and default is not None:
                default = json.dumps(default)
            if option.kind == "secret":
                default = None
        if default is None or option.kind == "file" and default == "":
            default = None
        help_text = escape(option.help) if markup else option.help
        info = typer.Option(
            decl,
            help=help_text,
            show_default=show_default,
            metavar=_metavar(option),
            rich_help_panel=INPUT_PANEL,
            hide_input=option.kind == "secret",
        )
        annotation: Any = _annotation(option)
        if option.required:
            params.append(
                inspect.Parameter(
                    option.param,
                    inspect.Parameter.KEYWORD_ONLY,
                    annotation=Annotated[annotation, info],
                )
            )
        else:
            params.append(
                inspect.Parameter(
                    option.param,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=default,
                    annotation=Annotated[annotation | None, info],
                )
            )
    return params


def _convert(option: InputOption, value: Any) -> Any:
    if option.kind == "file" and isinstance(value, str):
        if value.lower().startswith(_URL_PREFIXES):
            return value
        path = Path(value).expanduser()
        if not path.is_file():
            raise CliError(
                f"invalid value for {option.flag}: {value!r} is not a file "
                "(give a local file path, an http(s) URL or a data: URI)",
                exit_code=EXIT_USAGE,
            )
        return path
    if option.kind == "json" and isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise CliError(
                f"invalid value for {option.flag}: {value[:60]!r} is not valid JSON ({exc.msg})",
                exit_code=EXIT_USAGE,
            ) from None
    return value


def _shown(option: InputOption | None, value: Any) -> str:
    if option is not None and option.kind == "secret":
        return "<secret>"
    if isinstance(value, Path):
        return repr(str(value))
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def build_input(
    info: ModelInfo[Any, Any],
    options: Sequence[InputOption],
    values: Mapping[str, Any],
    given: set[str],
) -> ModelInput[Any]:
    """Validate the options given on the command line through the model's generated ``Input``.

    ``values`` maps parameter names (``in_<n>``) to parsed values, ``given`` names those the user
    set explicitly. Raises :class:`CliError` (exit 2) naming the option, the value and the rule.
    """
    from pydantic import ValidationError

    payload: dict[str, Any] = {}
    by_field: dict[str, InputOption] = {}
    for option in options:
        by_field[option.field] = option
        if option.param in given or (option.required and values.get(option.param) is not None):
            payload[option.field] = _convert(option, values.get(option.param))
    for name, field in info.input_type.model_fields.items():
        if field.alias and field.alias in by_field:
            by_field.setdefault(name, by_field[field.alias])
    try:
        model_input: ModelInput[Any] = info.input_type.model_validate(payload)
    except ValidationError as exc:
        problems: list[str] = []
        for error in exc.errors(include_url=False):
            loc = error.get("loc") or ()
            field_name = str(loc[0]) if loc else ""
            found = by_field.get(field_name)
            flag = found.flag if found else (f"--{field_name}" if field_name else "input")
            if error.get("type") == "missing":
                problems.append(f"{flag} is required")
                continue
            value = payload.get(found.field if found else field_name, error.get("input"))
            message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
            problems.append(f"{flag} {_shown(found, value)}: {message}")
        raise CliError(
            f"invalid input for {info.ref}: " + "; ".join(problems), exit_code=EXIT_USAGE
        ) from None
    return model_input
