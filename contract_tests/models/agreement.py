"""Does a generated ``Input`` accept exactly what its model's schema accepts?

For a model module: valid instances (drawn from ``INPUT_SCHEMA`` by hypothesis-jsonschema) must
be accepted, and what the Input then sends must be valid and equal to what was given; every
single mutation of a valid input -- of each kind below -- must be rejected by the schema *and*
by the Input. The schema side is judged by JSON Schema (draft 2020-12) with patterns matched by
pydantic-core's engine (the dialect that enforces them).

Mutation kinds: ``type-class`` (a value of another JSON type class: an array or object for a
scalar, a scalar for an array or object, null for a required field), ``convertible`` (a value
pydantic's lax mode would convert: "7" or 7.5 or true for an integer, "true"/1/0 for a boolean,
7 for a string ...), ``range`` (just outside a bound, length or item count, or off a
``multipleOf``), ``enum`` (a value of the right type outside the enum), ``required`` (a
required field left out).

Documented deliberate differences are not drawn: unknown fields (refused by the Input, typo
protection), strings for ``format: uri`` other than http(s)/data: URLs (a FileInput takes what
the API fetches), None on an optional field whose schema accepts no null (None means "not set").

``python -m contract_tests.models.agreement`` prints the agreement per kind over the project's
models (the router's 11 and the 24 corpus schemas) and a sample of random Cog-like schemas.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import HypothesisWarning
from hypothesis_jsonschema import from_schema
from pydantic import ValidationError

from codegen.schema_checks import validator_for
from contract_tests.models._generated import ROOT, cog_spec, generated_module, version_module
from contract_tests.models._values import minimal_input, resolve, types_of

CORPUS = ROOT / "contract_tests" / "fixtures" / "corpus"
KINDS = ("valid", "type-class", "convertible", "range", "enum", "required")
MISSING = object()

URLS = st.builds(
    "{}://{}.example/{}".format,
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9_./-]{0,20}", fullmatch=True),
)


@dataclass(frozen=True)
class Mutation:
    kind: str
    field: str
    value: Any  # MISSING: the field is left out

    def apply(self, base: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in base.items() if k != self.field}
        if self.value is not MISSING:
            out[self.field] = self.value
        return out


# --- the models ----------------------------------------------------------------------------------


def registry_refs() -> list[str]:
    from replicate_typed.models import registry

    return sorted(registry)


def corpus_files() -> list[Path]:
    return sorted(CORPUS.glob("*.version.json"))


def corpus_ref(path: Path) -> str:
    return path.name.removesuffix(".version.json").replace("__", "/", 1)


@cache
def model_module(name: str) -> Any:
    """``registry:<owner/name>`` (the committed module) or ``corpus:<owner/name>`` (generated
    here from the corpus file, as add-model would)."""
    source, ref = name.split(":", 1)
    if source == "registry":
        from replicate_typed.models import registry

        info = registry.get_model(ref)
        return _Wrapped(info.input_type, info.input_schema)
    path = CORPUS / f"{ref.replace('/', '__', 1)}.version.json"
    module = version_module(path, ref)
    return _Wrapped(module.Input, module.INPUT_SCHEMA)


@dataclass(frozen=True)
class _Wrapped:
    Input: Any
    INPUT_SCHEMA: dict[str, Any]


def model_names() -> list[str]:
    return [f"registry:{r}" for r in registry_refs()] + [
        f"corpus:{corpus_ref(p)}" for p in corpus_files()
    ]


# --- valid instances -----------------------------------------------------------------------------


def instances(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Valid inputs of ``schema`` (only its own fields: unknown ones are refused by design)."""
    # A deep copy: hypothesis-jsonschema resolves $refs by assigning into the schema it is given,
    # and a shallow copy would share (and rewrite) the model's INPUT_SCHEMA properties.
    closed = {**copy.deepcopy(schema), "additionalProperties": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HypothesisWarning)  # uri/password overridden on purpose
        strategy: st.SearchStrategy[dict[str, Any]] = from_schema(  # type: ignore[assignment]
            closed, custom_formats={"uri": URLS, "password": st.text(min_size=1, max_size=8)}
        )
    return strategy


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON values: numbers by value (7 == 7.0), booleans never equal to numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def check_valid(module: Any, instance: dict[str, Any]) -> str | None:
    """None when the Input accepts ``instance`` and sends exactly it (valid); else why not."""
    schema = module.INPUT_SCHEMA
    if not validator_for(schema).is_valid(instance):
        return f"not a valid instance: {instance!r}"
    try:
        value = module.Input.model_validate(instance)
    except ValidationError as exc:
        return f"Input refuses a valid input {instance!r}: {exc.errors()[0]['msg']}"
    sent = value.to_request_input()
    if not same_json(sent, instance):
        return f"Input sends {sent!r} for {instance!r}"
    if not validator_for(schema).is_valid(sent):
        return f"Input sends an invalid input {sent!r}"
    return None


# --- single mutations ----------------------------------------------------------------------------

_OTHER_CLASS: dict[str, list[Any]] = {
    "string": [[], {}],
    "integer": [[], {}],
    "number": [[], {}],
    "boolean": [[], {}],
    "array": ["text", 7, {}],
    "object": ["text", 7, []],
}
_CONVERTIBLE: dict[str, list[Any]] = {
    "integer": ["7", 7.5, True, "1e3"],
    "number": ["7.5", True, False, "nan"],
    "boolean": ["true", "false", 1, 0, "yes"],
    "string": [7, 7.5, True, False],
}


def _range_values(prop: dict[str, Any], kind: str) -> Iterator[Any]:
    step = 1 if kind == "integer" else 0.5
    for key, delta in (("minimum", -step), ("maximum", step)):
        if isinstance(prop.get(key), int | float):
            value = prop[key] + delta
            yield int(value) if kind == "integer" else value
    for key in ("exclusiveMinimum", "exclusiveMaximum"):
        if isinstance(prop.get(key), int | float):
            value = prop[key]
            if kind == "integer" and not float(value).is_integer():
                continue
            yield int(value) if kind == "integer" else value
    if isinstance(prop.get("multipleOf"), int | float) and kind == "integer":
        multiple = prop["multipleOf"]
        if multiple > 1:
            low = prop.get("minimum", 0)
            value = math.ceil(low / multiple) * multiple + 1
            if value <= prop.get("maximum", math.inf):
                yield int(value)


def _length_values(prop: dict[str, Any], kind: str, item: Any) -> Iterator[Any]:
    if kind == "string":
        if isinstance(prop.get("maxLength"), int):
            yield "x" * (prop["maxLength"] + 1)
        if isinstance(prop.get("minLength"), int) and prop["minLength"] > 0:
            yield "x" * (prop["minLength"] - 1)
    if kind == "array":
        if isinstance(prop.get("maxItems"), int):
            yield [item] * (prop["maxItems"] + 1)
        if isinstance(prop.get("minItems"), int) and prop["minItems"] > 0:
            yield [item] * (prop["minItems"] - 1)


def mutations(schema: dict[str, Any], base: dict[str, Any]) -> list[Mutation]:
    """Every single mutation of ``base`` (a valid input) the schema's properties suggest."""
    from contract_tests.models._values import sample_value

    defs = schema.get("$defs", {})
    required = set(schema.get("required", []))
    out: list[Mutation] = []
    for name, raw in schema.get("properties", {}).items():
        prop = resolve(raw, defs)
        kinds = [k for k in types_of(prop) if k != "null"]
        nullable = "null" in types_of(prop) or None in prop.get("enum", [0])
        kind = kinds[0] if len(kinds) == 1 else None
        if "enum" in prop:
            values = [v for v in prop["enum"] if v is not None]
            if values and all(isinstance(v, str) for v in values):
                out.append(Mutation("enum", name, "not-one-of-the-choices"))
                out += [Mutation("convertible", name, v) for v in (7, True)]
            elif values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
                out.append(Mutation("enum", name, max(values) + 1))
                out += [Mutation("convertible", name, v) for v in (str(values[0]), True)]
            empty: list[Any] = [[], {}]
            out += [Mutation("type-class", name, v) for v in empty]
        elif kind is not None:
            out += [Mutation("type-class", name, v) for v in _OTHER_CLASS.get(kind, [])]
            out += [Mutation("convertible", name, v) for v in _CONVERTIBLE.get(kind, [])]
            if kind in ("integer", "number"):
                out += [Mutation("range", name, v) for v in _range_values(prop, kind)]
            item = sample_value(prop.get("items", {}), defs) if kind == "array" else None
            out += [Mutation("range", name, v) for v in _length_values(prop, kind, item)]
            if kind == "array" and isinstance(prop.get("items"), dict):
                item_schema = resolve(prop["items"], defs)
                item_kinds = [k for k in types_of(item_schema) if k != "null"]
                if len(item_kinds) == 1 and "enum" not in item_schema:
                    for bad in _CONVERTIBLE.get(item_kinds[0], []):
                        out.append(Mutation("convertible", name, [bad]))
        if name in required:
            out.append(Mutation("required", name, MISSING))
            if not nullable:
                out.append(Mutation("type-class", name, None))
    return out


def check_mutation(module: Any, base: dict[str, Any], mutation: Mutation) -> str | None:
    """None when schema and Input both reject the mutated input; "n/a" when the mutation is
    no mutation (the schema accepts it); else what went wrong."""
    candidate = mutation.apply(base)
    if validator_for(module.INPUT_SCHEMA).is_valid(candidate):
        return "n/a"
    try:
        module.Input.model_validate(candidate)
    except ValidationError:
        return None
    return f"{mutation.kind}: Input accepts {mutation.field}={mutation.value!r}"


def base_input(module: Any) -> dict[str, Any] | None:
    """A valid input with every required field (None when the sample values are not valid)."""
    base = minimal_input(module.INPUT_SCHEMA)
    return base if check_valid(module, base) is None else None


def agreement(
    module: Any, base: dict[str, Any] | None = None
) -> tuple[Counter[tuple[str, bool]], list[str]]:
    """Mutation outcomes of one model: (kind, agreed) counts and the disagreements. ``base`` is
    the valid input every mutation starts from (default: the sampled minimal input)."""
    counts: Counter[tuple[str, bool]] = Counter()
    problems: list[str] = []
    base = base if base is not None else base_input(module)
    if base is None:
        sample = minimal_input(module.INPUT_SCHEMA)
        return counts, [f"no valid base input: {check_valid(module, sample)}"]
    for mutation in mutations(module.INPUT_SCHEMA, base):
        outcome = check_mutation(module, base, mutation)
        if outcome == "n/a":
            continue
        counts[(mutation.kind, outcome is None)] += 1
        if outcome is not None:
            problems.append(outcome)
    return counts, problems


# --- random Cog-like schemas ---------------------------------------------------------------------

_small_ints = st.integers(-50, 200)


@st.composite
def cog_property(draw: st.DrawFn) -> dict[str, Any]:
    """One input property as Cog writes them (satisfiable by construction)."""
    kind = draw(
        st.sampled_from(
            ["string", "integer", "number", "boolean", "array", "uri", "secret", "choice", "ints"]
        )
    )
    prop: dict[str, Any]
    if kind == "string":
        prop = {"type": "string"}
        if draw(st.booleans()):
            low = draw(st.integers(0, 5))
            prop.update(minLength=low, maxLength=low + draw(st.integers(0, 10)))
    elif kind in ("integer", "number"):
        prop = {"type": kind}
        low = draw(_small_ints)
        if draw(st.booleans()):
            prop["minimum"] = low
        if draw(st.booleans()):
            prop["maximum"] = low + draw(st.integers(0, 100))
        if kind == "number" and draw(st.booleans()):
            prop = {k: (v + 0.5 if k in ("minimum", "maximum") else v) for k, v in prop.items()}
        if kind == "integer" and "minimum" in prop and draw(st.booleans()):
            prop["multipleOf"] = draw(st.sampled_from([2, 8, 64]))
            prop["minimum"] = 0
            prop.pop("maximum", None)
    elif kind == "boolean":
        prop = {"type": "boolean"}
    elif kind == "array":
        items = draw(
            st.sampled_from(
                [{"type": "string"}, {"type": "integer"}, {"type": "number"},
                 {"type": "string", "format": "uri"}]
            )
        )  # fmt: skip
        prop = {"type": "array", "items": items}
        if draw(st.booleans()):
            prop["maxItems"] = draw(st.integers(1, 4))
    elif kind == "uri":
        prop = {"type": "string", "format": "uri"}
    elif kind == "secret":
        prop = {"type": "string", "format": "password", "x-cog-secret": True}
    elif kind == "choice":
        prop = {
            "type": "string",
            "enum": draw(st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=4, unique=True)),
        }  # fmt: skip
    else:
        prop = {
            "type": "integer",
            "enum": draw(st.lists(_small_ints, min_size=1, max_size=4, unique=True)),
        }
    if draw(st.booleans()):
        prop["description"] = draw(st.text(max_size=20))
    if draw(st.integers(0, 4)) == 0:
        prop["nullable"] = True
    return prop


@st.composite
def cog_schema(draw: st.DrawFn) -> dict[str, Any]:
    names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
    props = draw(st.dictionaries(names, cog_property(), min_size=1, max_size=5))
    required = draw(st.lists(st.sampled_from(sorted(props)), unique=True, max_size=2))
    return cog_spec(props, required=required, model="random/cog")


def random_module(spec: dict[str, Any]) -> ModuleType:
    return generated_module(spec)


# --- the report ----------------------------------------------------------------------------------


def _table(counts: Counter[tuple[str, bool]]) -> list[str]:
    lines = []
    for kind in KINDS:
        agreed, total = counts[(kind, True)], counts[(kind, True)] + counts[(kind, False)]
        share = f"{100 * agreed / total:6.2f} %" if total else "     n/a"
        lines.append(f"  {kind:<12} {share}  ({agreed}/{total})")
    return lines


def _valid_draws(
    module: Any, name: str, count: int, counts: Counter[tuple[str, bool]], problems: list[str]
) -> None:
    from hypothesis import HealthCheck, given, settings

    @settings(max_examples=count, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(instances(module.INPUT_SCHEMA))
    def valid(instance: dict[str, Any]) -> None:
        problem = check_valid(module, instance)
        counts[("valid", problem is None)] += 1
        if problem:
            problems.append(f"{name}: {problem}")

    valid()


def main() -> None:  # pragma: no cover - a report, run by hand
    import argparse

    from hypothesis import HealthCheck, given, settings

    parser = argparse.ArgumentParser(description="Input/schema agreement report")
    parser.add_argument("--valid", type=int, default=25, help="valid draws per model")
    parser.add_argument("--random", type=int, default=40, help="random Cog-like schemas")
    args = parser.parse_args()
    counts: Counter[tuple[str, bool]] = Counter()
    problems: list[str] = []
    for name in model_names():
        module = model_module(name)
        found, issues = agreement(module)
        counts += found
        problems += [f"{name}: {p}" for p in issues]
        _valid_draws(module, name, args.valid, counts, problems)
    fixed = Counter(counts)

    @settings(max_examples=args.random, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(cog_schema(), st.data())
    def random_schemas(spec: dict[str, Any], data: st.DataObject) -> None:
        module = random_module(spec)
        found, issues = agreement(module)
        counts.update(found)
        problems.extend(f"random {spec['openapi_schema']}: {p}" for p in issues)
        for _ in range(3):
            instance = data.draw(instances(module.INPUT_SCHEMA))
            problem = check_valid(module, instance)
            counts[("valid", problem is None)] += 1
            if problem:
                problems.append(f"random: {problem}")

    random_schemas()
    print(f"agreement over {len(model_names())} project models (11 router + 24 corpus):")
    print("\n".join(_table(fixed)))
    print(f"agreement including {args.random} random Cog-like schemas:")
    print("\n".join(_table(counts)))
    for problem in problems[:30]:
        print("  disagreement:", problem)


if __name__ == "__main__":
    main()
