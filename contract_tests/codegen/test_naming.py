"""Python-safe names for any owner/name; collisions are found, never silently merged."""

from __future__ import annotations

import json
import keyword
import sys
import types
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from codegen import generate as gen
from codegen.naming import class_name, find_collisions, module_name, module_path
from codegen.normalize import RESERVED_CLASS_NAMES
from codegen.spec import MODEL_REF, validate_spec_data

# Characters a Replicate owner/name may contain, plus a few it may not (the names must still be safe).
NAME_CHARS = st.sampled_from("abcdefghijklmnopqrstuvwxyzABCXYZ0123456789-_.")
part = st.text(NAME_CHARS, min_size=1, max_size=12)
anything = st.text(min_size=0, max_size=12)
refs = st.builds(lambda o, n: f"{o}/{n}", part, part)

RESERVED_MODULES = {"lib", "types"}


def _is_safe_module(name: str) -> bool:
    return (
        name.isidentifier()
        and name.isascii()
        and not keyword.iskeyword(name)
        and not keyword.issoftkeyword(name)
        and name not in RESERVED_MODULES
        and name == name.lower()
    )


@settings(max_examples=300, deadline=None)
@given(st.one_of(part, anything))
def test_module_name_is_a_safe_identifier(text: str) -> None:
    name = module_name(text)
    assert _is_safe_module(name), (text, name)
    assert module_name(text) == name  # deterministic


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stability-ai", "stability_ai"),
        ("flux-1.1-pro", "flux_1_1_pro"),
        ("3d-model", "m_3d_model"),
        ("-dash", "m_dash"),
        (".dot", "m_dot"),
        ("class", "class_"),
        ("match", "match_"),
        ("lib", "lib_"),
        ("types", "types_"),
        ("__init__", "m_init"),
        ("---", "m_m"),
        ("Stable-Diffusion", "stable_diffusion"),
    ],
)
def test_module_name_examples(text: str, expected: str) -> None:
    assert module_name(text) == expected


@settings(max_examples=300, deadline=None)
@given(refs)
def test_class_name_is_a_safe_identifier(ref: str) -> None:
    name = class_name(ref)
    assert name.isidentifier() and name.isascii(), (ref, name)
    assert not keyword.iskeyword(name) and not keyword.issoftkeyword(name)
    assert name[0].isupper()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(refs, min_size=1, max_size=8, unique=True))
def test_distinct_refs_get_distinct_modules_or_a_reported_collision(ref_list: list[str]) -> None:
    collisions = find_collisions(ref_list)
    reported_refs = {r for group in collisions.values() for r in group if "/" in r}
    reported_owners = {r for group in collisions.values() for r in group if "/" not in r}
    by_module: dict[str, list[str]] = {}
    for ref in ref_list:
        by_module.setdefault(module_path(ref), []).append(ref)
    for module, group in by_module.items():
        if len(group) > 1:
            assert collisions.get(module) == sorted(group), (module, group, collisions)
        else:
            assert group[0] not in reported_refs or module in collisions
    owners: dict[str, set[str]] = {}
    for ref in ref_list:
        owners.setdefault(module_name(ref.split("/")[0]), set()).add(ref.split("/")[0])
    for module, spellings in owners.items():
        if len(spellings) > 1:
            assert collisions[module] == sorted(spellings)
        else:
            assert not (spellings & reported_owners) or module in collisions
    # without a reported collision, every ref has a module of its own
    if not collisions:
        assert len({module_path(r) for r in ref_list}) == len(ref_list)


def test_collision_examples() -> None:
    assert find_collisions(["a/b-c", "a/b_c", "a/d"]) == {"a.b_c": ["a/b-c", "a/b_c"]}
    assert find_collisions(["Acme/x", "acme/y"]) == {"acme": ["Acme", "acme"]}
    assert find_collisions(["acme/x", "acme/y", "other/x"]) == {}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(refs.filter(lambda r: MODEL_REF.match(r) is not None))
def test_any_valid_ref_generates_an_importable_module(ref: str) -> None:
    """The module text for any owner/name compiles and runs (names only affect strings)."""
    spec = validate_spec_data(Path("spec.json"), _tiny_spec(ref))
    text = gen.render_model(gen._env(), spec, Path(__file__).resolve().parents[2])
    module = _exec_module(text, f"_naming_{abs(hash(ref))}")
    assert module.MODEL.ref == ref
    assert module.Input(prompt="x").to_request_input() == {"prompt": "x"}


SIBLING_NAMES = st.one_of(
    st.sampled_from(
        sorted(
            {
                "input",
                "output",
                "prediction",
                "Model",
                "model_info",
                "OutputValue",
                "json",
                "any",
                "Field",
                "secret",
                "class",
                "3d",
                "my-enum",
                "INPUT_SCHEMA",
            }
        )
    ),
    st.text(NAME_CHARS, min_size=1, max_size=10).filter(lambda n: n not in ("Input", "Output")),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SIBLING_NAMES)
def test_any_sibling_schema_name_gives_a_working_module(name: str) -> None:
    """Sibling schemas (objects, enums) may have any name, even one the module itself uses."""
    data = _tiny_spec("acme/thing")
    schemas = data["openapi_schema"]["components"]["schemas"]
    schemas[name] = {
        "type": "object",
        "title": name,
        "properties": {"size": {"type": "integer", "title": "Size"}},
        "required": ["size"],
    }
    schemas["Output"] = {"$ref": f"#/components/schemas/{name}"}
    spec = validate_spec_data(Path("spec.json"), data)
    text = gen.render_model(gen._env(), spec, Path(__file__).resolve().parents[2])
    module = _exec_module(text, f"_sibling_{abs(hash(name))}")
    value = module.MODEL.parse_output({"size": 3, "added_by_server": True})
    assert value.size == 3
    assert module.Input(prompt="x").to_request_input() == {"prompt": "x"}


def test_reserved_names_cover_what_the_template_defines() -> None:
    template = (gen.TEMPLATES / "model_module.py.jinja").read_text(encoding="utf-8")
    for name in ("OutputValue", "Prediction", "MODEL", "INPUT_SCHEMA", "OUTPUT_SCHEMA"):
        assert f"{name}" in template
        assert name.lower().replace("_", "") in RESERVED_CLASS_NAMES


def _tiny_spec(ref: str) -> dict[str, Any]:
    return {
        "model": ref,
        "call": "path",
        "version": None,
        "openapi_schema": {
            "components": {
                "schemas": {
                    "Input": {
                        "type": "object",
                        "title": "Input",
                        "required": ["prompt"],
                        "properties": {"prompt": {"type": "string", "title": "Prompt"}},
                    },
                    "Output": {"type": "string", "title": "Output"},
                }
            }
        },
    }


def _exec_module(text: str, name: str) -> Any:
    """Run a rendered module under a private name (pydantic resolves annotations through it)."""
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(text, f"<{name}>", "exec"), module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def test_exec_helper_keeps_json_schema_text() -> None:
    spec = validate_spec_data(Path("spec.json"), _tiny_spec("acme/thing"))
    text = gen.render_model(gen._env(), spec, Path(__file__).resolve().parents[2])
    module = _exec_module(text, "_naming_helper")
    assert module.INPUT_SCHEMA == json.loads(json.dumps(module.INPUT_SCHEMA))
    assert module.INPUT_SCHEMA["required"] == ["prompt"]


PROPERTY_NAMES = st.one_of(
    st.sampled_from(
        [
            "model_config",
            "model_fields",
            "json",
            "schema",
            "copy",
            "dict",
            "validate",
            "class",
            "from",
            "1st",
            "my-field",
            "with space",
            "_private",
            "__dunder__",
            "to_request_input",
            "__model_info__",
        ]
    ),
    st.text(NAME_CHARS, min_size=1, max_size=10),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PROPERTY_NAMES, min_size=1, max_size=3, unique=True))
def test_any_property_names_round_trip(names: list[str]) -> None:
    """Whatever the field names, Input takes them by their wire name and sends them unchanged."""
    data = _tiny_spec("acme/props")
    props = data["openapi_schema"]["components"]["schemas"]["Input"]["properties"]
    for index, name in enumerate(names):
        props.setdefault(name, {"type": "integer", "title": f"F{index}"})
    spec = validate_spec_data(Path("spec.json"), data)
    text = gen.render_model(gen._env(), spec, Path(__file__).resolve().parents[2])
    module = _exec_module(text, f"_props_{abs(hash(tuple(names)))}")
    given_input = {"prompt": "x", **{n: i for i, n in enumerate(names) if n != "prompt"}}
    value = module.Input.model_validate(given_input)
    assert value.to_request_input() == given_input
    assert callable(value.to_request_input)  # a field never shadows the runtime's methods


def test_runtime_attributes_are_all_protected() -> None:
    """Every public method ModelInput adds to BaseModel is renamed away from field names."""
    from pydantic import BaseModel

    from codegen.pymodels import RUNTIME_ATTRIBUTES
    from replicate_typed.core.model import ModelInput

    added = {n for n in set(dir(ModelInput)) - set(dir(BaseModel)) if not n.startswith("_")}
    assert added <= set(RUNTIME_ATTRIBUTES), added - set(RUNTIME_ATTRIBUTES)


# --- field names ------------------------------------------------------------------------------

ANY_KEY = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["model_x", "model_dump", "_", "__x__", "1a", "class", "json", "ﬁle", "ℌ"]),
)


@settings(max_examples=300, deadline=None)
@given(ANY_KEY)
def test_every_key_gets_a_safe_python_name(key: str) -> None:
    """ASCII (Python's NFKC reading leaves it as written), no keyword, neither ``_`` nor
    ``model_`` first, no BaseModel/runtime attribute; a plain key is its own name."""
    from codegen.naming import is_plain_field_name, python_field_name

    name = python_field_name(key)
    assert is_plain_field_name(name), (key, name)
    assert name.isascii() and name.isidentifier() and not keyword.iskeyword(name)
    assert unicodedata.normalize("NFKC", name) == name
    assert not name.startswith(("_", "model_"))
    assert (name == key) == is_plain_field_name(key)


@settings(max_examples=200, deadline=None)
@given(st.lists(ANY_KEY, max_size=8))
def test_field_names_never_share_a_name(keys: list[str]) -> None:
    """Injective over a module: no two keys, and no key's name is another (plain) key or the
    ``key_`` datamodel-code-generator may rename a plain key to."""
    from codegen.naming import field_names, is_plain_field_name

    names = field_names(keys)
    plain = {k for k in keys if is_plain_field_name(k)}
    assert set(names) == set(keys) - plain
    assert len(set(names.values())) == len(names)
    assert not set(names.values()) & (plain | {f"{k}_" for k in plain})
    assert all(is_plain_field_name(n) for n in names.values())


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("ﬁle", "file"),
        ("ℌ", "H"),
        ("ｆoo", "foo"),
        ("é", "e"),
        ("提示", "u63d0_u793a"),
        ("model_version", "field_model_version"),
        ("model_dump", "field_model_dump"),
        ("_x", "field_x"),
        ("__x__", "field__x__"),
        ("1st", "field_1st"),
        ("class", "class_"),
        ("json", "json_"),
        ("a-b", "a_b"),
        ("", "field"),
        ("to_request_input", "to_request_input_"),
        ("type", "type"),
        ("Model_x", "Model_x"),
    ],
)
def test_python_field_name_examples(key: str, name: str) -> None:
    from codegen.naming import python_field_name

    assert python_field_name(key) == name


def test_base_model_attributes_cover_the_installed_pydantic() -> None:
    """The static list (the generated bytes must not depend on the pydantic installed) holds
    every public attribute of BaseModel, its metaclass and the runtime's bases outside the
    protected ``model_`` namespace, on the pydantic this suite runs on (make test: the lock's;
    make test-lowest: the floor)."""
    from codegen.naming import BASE_MODEL_ATTRIBUTES, RUNTIME_ATTRIBUTES
    from replicate_typed.core.model import InputObject, ModelInput

    public = {
        n
        for cls in (ModelInput, InputObject)
        for n in (*dir(cls), *dir(type(cls)))
        if not n.startswith(("_", "model_"))
    }
    assert public <= BASE_MODEL_ATTRIBUTES | set(RUNTIME_ATTRIBUTES), public - BASE_MODEL_ATTRIBUTES
