"""client/_requests.py ``parse_response``: the one-step parse of an answer
(``model_validate_json`` on the bytes read within the size limit) agrees with the general
path it replaces (decode, then ``model_validate``, then the id checks).

Where the one step fails, ``parse_response`` runs the general path, so errors are the general
path's by construction; these properties prove that where the one step succeeds the general
path gives the same object, for every API type a generated call parses into, on bodies of
every shape (fields missing, wrong types, extra fields, dates in odd forms, unsafe ids).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pydantic_core
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from replicate_typed.client import _requests as rq
from replicate_typed.client.errors import APIResponseValidationError
from replicate_typed.types import api

TYPES = [api.Prediction, api.File, api.Model, api.ModelVersion, api.Training, api.Deployment]
SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(
        [
            "2025-01-15T10:03:39.896Z",
            "2025-01-15T10:03:39",
            "2025-01-15",
            "1736935419",
            "succeeded",
            "api",
            "web",
            "hidden",
            "ctdwaehfz1rm80cmd5nsjd8114",
            "../etc",
            "a/b",
        ]
    )
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def bodies(draw: st.DrawFn, cls: type[BaseModel]) -> dict[str, Any]:
    names = sorted(cls.model_fields)
    chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=len(names)))
    body = {name: draw(values) for name in chosen}
    if draw(st.booleans()):  # most answers carry a plausible id
        body["id"] = draw(
            st.sampled_from(["ctdwaehfz1rm80cmd5nsjd8114", "x.y~z", ".hidden", "a b"])
        )
    if draw(st.booleans()):
        body[draw(st.text(min_size=1, max_size=8))] = draw(values)  # an extra field
    return body


def _response(content: bytes) -> httpx.Response:
    return httpx.Response(200, content=content, request=httpx.Request("GET", "https://h/v1/x"))


def _general(cls: type[BaseModel], content: bytes) -> BaseModel:
    """The path the one-step parse replaces."""
    parsed = cls.model_validate(pydantic_core.from_json(content))
    rq.check_received_ids(parsed, _response(content), operation="op")
    return parsed


def _agree(cls: type[BaseModel], content: bytes) -> None:
    try:
        fast = rq.parse_response(_response(content), cls, operation="op")
    except APIResponseValidationError:
        with pytest.raises((APIResponseValidationError, ValidationError, ValueError)):
            _general(cls, content)
        return
    general = _general(cls, content)
    assert type(fast) is type(general)
    assert fast.model_dump() == general.model_dump()
    assert fast.model_fields_set == general.model_fields_set
    assert fast.model_extra == general.model_extra


@pytest.mark.parametrize("cls", TYPES, ids=lambda c: c.__name__)
@SETTINGS
@given(data=st.data())
def test_one_step_parse_agrees_with_the_general_path(
    cls: type[BaseModel], data: st.DataObject
) -> None:
    body = data.draw(bodies(cls))
    _agree(cls, json.dumps(body).encode())


@SETTINGS
@given(st.binary(max_size=60) | st.text(max_size=40).map(str.encode))
def test_any_bytes_agree(content: bytes) -> None:
    _agree(api.Prediction, content)


def test_the_benchmark_answer_takes_one_step(monkeypatch: pytest.MonkeyPatch) -> None:
    body = json.dumps({"id": "ctdwaehfz1rm80cmd5nsjd8114", "status": "starting"}).encode()

    def no_decode(*args: object) -> None:
        raise AssertionError("decoded twice")

    monkeypatch.setattr(rq, "_decode", no_decode)
    parsed = rq.parse_response(_response(body), api.Prediction, operation="op")
    assert parsed.id == "ctdwaehfz1rm80cmd5nsjd8114"
