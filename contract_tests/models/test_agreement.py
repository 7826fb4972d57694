"""Property: over every schema the project has, an Input accepts exactly what its schema accepts.

The router's 11 models, the 24 corpus schemas (generated here as add-model would) and random
Cog-like schemas: valid instances are accepted and sent unchanged (and valid); every single
mutation of each kind (type-class, convertible, range, enum, required) is rejected by the schema
and by the Input. Target: 100 % agreement apart from the documented deliberate differences,
which are not drawn (see contract_tests/models/agreement.py; ``python -m
contract_tests.models.agreement`` prints the figures).
"""

from __future__ import annotations

from collections import Counter
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.models import agreement as ag

NAMES = ag.model_names()
FAST = settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@cache
def _instances(name: str) -> st.SearchStrategy[dict[str, Any]]:
    return ag.instances(ag.model_module(name).INPUT_SCHEMA)


def test_every_project_schema_is_covered() -> None:
    assert len([n for n in NAMES if n.startswith("registry:")]) >= 11
    assert len([n for n in NAMES if n.startswith("corpus:")]) == 24


@pytest.mark.parametrize("name", NAMES)
def test_every_single_mutation_is_rejected_by_schema_and_input(name: str) -> None:
    counts, problems = ag.agreement(ag.model_module(name))
    assert problems == []
    assert sum(counts.values()) > 0


# The router's models get their valid draws in test_properties.py (30 each).
@pytest.mark.parametrize("name", [n for n in NAMES if n.startswith("corpus:")])
@FAST
@given(data=st.data())
def test_valid_instances_are_accepted_and_sent_unchanged(name: str, data: st.DataObject) -> None:
    module = ag.model_module(name)
    instance = data.draw(_instances(name), label="input")
    assert ag.check_valid(module, instance) is None


def test_every_mutation_kind_is_exercised() -> None:
    total: Counter[tuple[str, bool]] = Counter()
    for name in NAMES:
        total += ag.agreement(ag.model_module(name))[0]
    for kind in ag.KINDS[1:]:
        assert total[(kind, True)] > 0, kind
        assert total[(kind, False)] == 0, kind


# 400 random schemas compiled in-process: `make test-slow` (CI runs it)
@pytest.mark.slow
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(ag.cog_schema(), st.data())
def test_random_cog_like_schemas_agree(spec: dict[str, Any], data: st.DataObject) -> None:
    module = ag.random_module(spec)
    # a drawn valid instance (the minimal sampler cannot satisfy every random pattern)
    instance = data.draw(ag.instances(module.INPUT_SCHEMA), label="input")
    assert ag.check_valid(module, instance) is None
    counts, problems = ag.agreement(module, base=instance)
    assert problems == []
