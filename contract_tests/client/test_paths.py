"""client/_requests.py: request paths filled from a template (no percent-encoding) agree with
:func:`operation_path`, the general filler that encodes every value.

The template is filled only with values the rules accepted (``owner/name``, version ids, the
id rule); these properties prove that, for every operation of the generated table and every
value the rules accept, the two give the same path, and that what the rules refuse never
reaches a path.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replicate_typed.client import _requests as rq
from replicate_typed.client import errors
from replicate_typed.client.validation import id_problem
from replicate_typed.core.refs import NAME_SLUG, SLUG
from replicate_typed.types import operations as ops

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
WITH_PARAMS = [op for op in ops.OPERATIONS.values() if op.path_params]

refs = st.builds(
    "{}/{}".format,
    st.from_regex(rf"\A{SLUG}\Z"),
    st.from_regex(rf"\A{NAME_SLUG}\Z"),
)
version_ids = st.from_regex(r"\A[0-9a-f]{64}\Z")
ids = st.from_regex(r"\A[A-Za-z0-9._~-]{1,40}\Z").filter(lambda v: id_problem(v) is None)
anything = st.text(max_size=12) | st.sampled_from([".", "..", "a/b", "%2e", "a%20b", "é", "x\n"])


def _given(op: ops.Operation, data: st.DataObject, hostile: bool) -> dict[str, str]:
    stems = re.findall(r"\{(\w+)_owner\}/\{\1_name\}", op.path)
    paired = {f"{s}_{p}" for s in stems for p in ("owner", "name")}
    given: dict[str, str] = {s: data.draw(anything if hostile else refs) for s in stems}
    for name in op.path_params:
        if name not in paired:
            good = version_ids if name == "version_id" else ids
            given[name] = data.draw(anything if hostile else good)
    return given


def _placeholders(op: ops.Operation, given: dict[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in given.items():
        if f"{{{key}_owner}}" in op.path:
            values[f"{key}_owner"], values[f"{key}_name"] = value.split("/")
        else:
            values[key] = value
    return values


@pytest.mark.parametrize("op", WITH_PARAMS, ids=lambda op: op.id)
@SETTINGS
@given(data=st.data())
def test_the_template_agrees_with_the_encoding_filler(
    op: ops.Operation, data: st.DataObject
) -> None:
    given = _given(op, data, hostile=False)
    path, prediction_id = rq._path_values(op, given)
    assert path == rq.operation_path(op, _placeholders(op, given))
    assert prediction_id == given.get("prediction_id")


@pytest.mark.parametrize("op", WITH_PARAMS, ids=lambda op: op.id)
@SETTINGS
@given(data=st.data())
def test_a_value_the_rules_refuse_never_reaches_a_path(
    op: ops.Operation, data: st.DataObject
) -> None:
    given = _given(op, data, hostile=True)
    try:
        path, _ = rq._path_values(op, given)
    except errors.InputError:
        return
    # accepted: then it was a value the rules admit, and the general filler agrees
    assert path == rq.operation_path(op, _placeholders(op, given))


def test_operations_without_parameters_keep_their_path() -> None:
    for op in ops.OPERATIONS.values():
        if not op.path_params:
            assert rq._path_values(op, {}) == (rq.API_PREFIX + op.path, None)
