"""Run inside a subprocess whose ``replicate_typed`` is a freshly generated package.

For every model of the registry: import it, build a minimal valid input, check that every default
of the schema is accepted by ``Input`` and equals the field's default, that what ``Input`` sends
validates against ``INPUT_SCHEMA``, that secrets never show in repr/str, and that a sample output
parses. Prints one JSON summary line; any failure is an AssertionError naming model and field.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import jsonschema
from pydantic import SecretStr, ValidationError

import replicate_typed
from contract_tests.models._values import accepts_null, minimal_input, resolve, sample_value
from replicate_typed.models import registry

SECRET = "sk-very-secret-value-123"


def check_model(ref: str) -> dict[str, Any]:
    info = registry.get_model(ref)
    Input = info.input_type
    schema = info.input_schema
    defs = schema.get("$defs", {})
    validator = jsonschema.Draft202012Validator(schema)
    base = minimal_input(schema)
    instance = Input.model_validate(base)
    for dump in (instance.to_request_input(), instance.model_dump(mode="json", by_alias=True)):
        errors = [e.message for e in validator.iter_errors(dump)]
        assert not errors, f"{ref}: dump {dump} breaks INPUT_SCHEMA: {errors}"
    fields = {(f.alias or name): (name, f) for name, f in Input.model_fields.items()}
    defaults = 0
    secrets = []
    for prop_name, prop in schema.get("properties", {}).items():
        assert prop_name in fields, f"{ref}: property {prop_name} has no field"
        field_name, field = fields[prop_name]
        resolved = resolve(prop, defs)
        if resolved.get("format") == "password" or resolved.get("x-cog-secret"):
            secrets.append(prop_name)
        if "default" not in prop:
            continue
        default = prop["default"]
        assert field.default == default, (
            f"{ref}: {prop_name} default {field.default!r} != {default!r}"
        )
        if default == "" and resolved.get("format") == "uri":
            # Cog's `Path = Input(default="")` quirk (cjwbw/rembg): left unset it is not sent;
            # an explicit "" is no file, and the client refuses it naming the field.
            assert prop_name not in instance.to_request_input(), (ref, prop_name)
            try:
                Input.model_validate({**base, prop_name: ""})
            except ValidationError as exc:
                assert exc.errors()[0]["loc"] == (prop_name,), (ref, exc.errors())
            else:
                raise AssertionError(f"{ref}: {prop_name}: an empty URL was accepted")
            defaults += 1
            continue
        checked = Input.model_validate({**base, prop_name: default})
        sent = checked.to_request_input()
        if default is None and not accepts_null(prop, defs):
            assert prop_name not in sent, f"{ref}: {prop_name}: null sent where the schema has none"
        else:
            assert sent[prop_name] == default or prop.get("format") == "password", (ref, prop_name)
            errors = [e.message for e in validator.iter_errors(sent)]
            assert not errors, f"{ref}: default of {prop_name} breaks INPUT_SCHEMA: {errors}"
        defaults += 1
    for prop_name in secrets:
        field_name, _ = fields[prop_name]
        instance = Input.model_validate({**base, prop_name: SECRET})
        assert isinstance(getattr(instance, field_name), SecretStr), (ref, prop_name)
        for text in (repr(instance), str(instance), repr(getattr(instance, field_name))):
            assert SECRET not in text, f"{ref}: secret {prop_name} shown: {text}"
        assert instance.to_request_input()[prop_name] == SECRET, (ref, prop_name)
    output = sample_value(info.output_schema, info.output_schema.get("$defs", {}))
    if info.output_concatenate:
        assert info.parse_output(["Hel", "lo"]) == "Hello", ref
    parsed = info.parse_output(output)
    return {
        "defaults": defaults,
        "secrets": secrets,
        "output_type": type(parsed).__name__,
        "output_value": getattr(info.output_type, "__name__", str(info.output_type)),
    }


def main() -> None:
    summary = {"package": replicate_typed.__file__, "models": {}}
    for ref in registry:
        summary["models"][ref] = check_model(ref)
    json.dump(summary, sys.stdout)
    print()


if __name__ == "__main__":
    main()
