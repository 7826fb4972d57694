"""API types: tolerant of new fields and of statuses never seen; strict where it matters."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from replicate_typed.types import Prediction, PredictionPage, ProblemDetails
from replicate_typed.types.api import PredictionStatus

SEED_PREDICTION = {
    "id": "ctdwaehfz1rm80cmd5nsjd8114",
    "model": "black-forest-labs/flux-schnell",
    "version": "dp-4d0bcc010b3049749a251855f12800be",
    "input": {"prompt": "x", "num_outputs": 1},
    "logs": "Using seed: 62182\n",
    "output": ["https://replicate.delivery/xezq/abc/out-0.jpg"],
    "data_removed": False,
    "error": None,
    "status": "succeeded",
    "created_at": "2025-01-15T10:03:39.896Z",
    "started_at": "2025-01-15T10:03:40.584470194Z",
    "completed_at": "2025-01-15T10:03:41.142386377Z",
    "urls": {
        "cancel": "https://api.replicate.com/v1/predictions/ctdwaehfz1rm80cmd5nsjd8114/cancel",
        "get": "https://api.replicate.com/v1/predictions/ctdwaehfz1rm80cmd5nsjd8114",
        "stream": "https://stream.replicate.com/v1/files/bcwr-q57vie7wuzg3wxv2hvpajgmzqzmxe67kq",
        "web": "https://replicate.com/p/ctdwaehfz1rm80cmd5nsjd8114",
    },
    "metrics": {"image_count": 1, "predict_time": 0.557916184},
}


def test_seed_prediction_parses_with_nanosecond_timestamps() -> None:
    p = Prediction.model_validate(SEED_PREDICTION)
    assert p.id == "ctdwaehfz1rm80cmd5nsjd8114"
    assert p.status == "succeeded"
    assert p.started_at is not None and p.started_at.microsecond == 584470
    assert p.metrics is not None and p.metrics.model_extra == {
        "image_count": 1,
        "predict_time": 0.557916184,
    }


def test_unknown_fields_and_statuses_are_kept_not_rejected() -> None:
    body = {**SEED_PREDICTION, "status": "queued_somewhere_new", "new_field": {"x": 1}}
    p = Prediction.model_validate(body)
    assert p.status == "queued_somewhere_new"
    assert p.model_extra == {"new_field": {"x": 1}}


def test_every_documented_status_parses() -> None:
    for status in PredictionStatus.__args__:
        assert Prediction.model_validate({**SEED_PREDICTION, "status": status}).status == status
    assert "aborted" in PredictionStatus.__args__


def test_required_fields_are_required() -> None:
    body = dict(SEED_PREDICTION)
    del body["id"]
    with pytest.raises(ValidationError, match="id"):
        Prediction.model_validate(body)


def test_page_and_problem_details() -> None:
    page = PredictionPage.model_validate(
        {
            "next": "https://h/replicate/v1/predictions?cursor=2",
            "previous": None,
            "results": [SEED_PREDICTION],
        }
    )
    assert page.results is not None and page.results[0].id == SEED_PREDICTION["id"]
    problem = ProblemDetails.model_validate(
        {
            "title": "Unauthenticated",
            "detail": "You did not pass a valid authentication token",
            "status": 401,
        }
    )
    assert problem.status == 401 and problem.title == "Unauthenticated"
