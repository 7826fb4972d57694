"""TypedPrediction reads the common prediction fields directly, tolerant of a router's subset."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_tests.client.test_client_helpers import (
    PID,
    ROUTER,
    TOKEN,
    prediction,
    succeeded,
)
from replicate_typed.client import AsyncClient, Client
from replicate_typed.models.black_forest_labs import flux_schnell
from replicate_typed.predictions import TypedPrediction
from replicate_typed.types.api import Prediction

COMMON = (
    "urls",
    "created_at",
    "started_at",
    "completed_at",
    "deadline",
    "error",
    "logs",
    "metrics",
    "version",
    "model_ref",
    "source",
    "deployment",
)


def typed(body: dict[str, Any]) -> TypedPrediction[Any, Any]:
    return TypedPrediction(Prediction.model_validate(body), flux_schnell.MODEL)


def test_create_returns_urls_and_times_without_raw(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(f"{ROUTER}/v1/models/black-forest-labs/flux-schnell/predictions").respond(
        201, json=prediction()
    )
    with Client(api_token=TOKEN, base_url=ROUTER) as client:
        result = client.create(flux_schnell.Input(prompt="a fox"))
    assert result.urls is not None
    assert result.urls.get == f"https://api.replicate.com/v1/predictions/{PID}"
    assert result.urls.cancel.endswith(f"/{PID}/cancel")
    assert result.urls.stream is not None and result.urls.stream.startswith("https://stream.")
    assert result.created_at == datetime(2025, 1, 15, 10, 3, 39, 896000, tzinfo=UTC)
    assert (result.started_at, result.completed_at, result.metrics) == (None, None, None)
    assert result.model_ref == "black-forest-labs/flux-schnell"
    assert result.version == "dp-4d0bcc010b3049749a251855f12800be"
    assert result.model is flux_schnell.MODEL  # the generated model's info, as before
    assert (result.error, result.logs) == (None, "")


async def test_async_create_exposes_the_same_fields(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(f"{ROUTER}/v1/models/black-forest-labs/flux-schnell/predictions").respond(
        201, json=prediction()
    )
    async with AsyncClient(api_token=TOKEN, base_url=ROUTER) as client:
        result = await client.create(flux_schnell.Input(prompt="a fox"))
    assert result.urls is not None and result.urls.get.endswith(PID)
    assert result.created_at is not None


def test_finished_prediction_fields() -> None:
    result = typed(succeeded(source="api", deployment="acme/dep"))
    assert result.started_at is not None and result.completed_at is not None
    assert result.started_at < result.completed_at
    assert result.metrics is not None
    assert result.metrics.model_extra == {"image_count": 1, "predict_time": 0.557916184}
    assert (result.source, result.deployment) == ("api", "acme/dep")
    failed = typed(prediction("failed", error="CUDA out of memory", logs="step 1\n"))
    assert (failed.error, failed.logs, failed.done) == ("CUDA out of memory", "step 1\n", True)


def test_a_subset_of_fields_reads_as_none() -> None:
    """A router that answers with only id and status: every accessor gives None, none raises."""
    result = TypedPrediction(
        Prediction.model_construct(id=PID, status="processing"), flux_schnell.MODEL
    )
    assert {name: getattr(result, name) for name in COMMON} == dict.fromkeys(COMMON)
    assert (result.id, result.status, result.data_removed, result.output) == (
        PID,
        "processing",
        False,
        None,
    )


@settings(max_examples=60, deadline=None)
@given(present=st.sets(st.sampled_from(sorted(prediction("succeeded"))), max_size=12))
def test_any_subset_of_fields_never_raises(present: set[str]) -> None:
    body = succeeded()
    parsed = Prediction.model_validate(body)
    kept = {name: getattr(parsed, name) for name in present | {"id", "status"}}
    result = TypedPrediction(Prediction.model_construct(**kept), flux_schnell.MODEL)
    for name in COMMON:
        value = getattr(result, name)
        raw_name = "model" if name == "model_ref" else name
        if raw_name not in kept:
            assert value is None, name
        elif name == "urls":
            assert value is kept["urls"]
        elif kept[raw_name] is not None:
            assert value is not None, name


@pytest.mark.parametrize("name", COMMON)
def test_every_accessor_is_documented_on_the_class(name: str) -> None:
    assert isinstance(getattr(TypedPrediction, name), property)
