"""Error mapping: each status, problem+json and plain JSON bodies, and bodies that are not JSON
(an HTML 502), empty or malformed. Never a JSON decoding crash; the status and a snippet are kept."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from contract_tests.client.test_client_helpers import PID, ROUTER, TOKEN, FakeTime
from replicate_typed.client import Client, errors
from replicate_typed.client._requests import error_from_response
from replicate_typed.client.retries import RetryPolicy

PROBLEM = {"content-type": "application/problem+json"}


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (400, errors.BadRequestError),
        (401, errors.AuthenticationError),
        (403, errors.PermissionDeniedError),
        (404, errors.NotFoundError),
        (409, errors.ConflictError),
        (413, errors.APIStatusError),
        (422, errors.UnprocessableEntityError),
        (429, errors.RateLimitError),
        (500, errors.InternalServerError),
        (502, errors.InternalServerError),
        (503, errors.InternalServerError),
        (504, errors.InternalServerError),
    ],
)
def test_status_maps_to_class(code: int, cls: type[errors.APIStatusError]) -> None:
    body = {"title": "Some title", "detail": f"detail of {code}", "status": code}
    response = httpx.Response(code, content=json.dumps(body), headers=PROBLEM)
    error = error_from_response(response, operation="predictions.get")
    assert type(error) is cls
    assert error.status_code == code and error.body == body
    assert str(error) == f"predictions.get: HTTP {code} Some title: detail of {code}"


def test_plain_json_detail() -> None:
    response = httpx.Response(404, json={"detail": "Not found."})
    error = error_from_response(response, operation="predictions.get", prediction_id=PID)
    assert isinstance(error, errors.NotFoundError)
    assert "Not found." in str(error) and error.prediction_id == PID and PID in str(error)


def test_401_official_problem() -> None:
    body = {
        "title": "Unauthenticated",
        "detail": "You did not pass a valid authentication token",
        "status": 401,
    }
    error = error_from_response(httpx.Response(401, json=body), operation="predictions.create")
    assert str(error) == (
        "predictions.create: HTTP 401 Unauthenticated: You did not pass a valid authentication token"
    )


def test_422_field_errors() -> None:
    body = {
        "title": "Input validation failed",
        "detail": "- input.width: Must be greater than or equal to 128",
        "status": 422,
        "invalid_fields": [
            {
                "type": "greater_equal",
                "field": "input.width",
                "description": "Must be greater than or equal to 128",
            }
        ],
    }
    error = error_from_response(httpx.Response(422, json=body))
    assert isinstance(error, errors.UnprocessableEntityError)
    assert error.field_errors == {"input.width": "Must be greater than or equal to 128"}
    assert "input.width" in str(error)


def test_422_fastapi_style_detail_list() -> None:
    body = {
        "detail": [
            {"loc": ["body", "input", "steps"], "msg": "ensure this value is <= 50", "type": "x"}
        ]
    }
    error = error_from_response(httpx.Response(422, json=body))
    assert isinstance(error, errors.UnprocessableEntityError)
    assert error.field_errors == {"steps": "ensure this value is <= 50"}


def test_429_retry_after_from_detail_and_header() -> None:
    throttled = {"detail": "Request was throttled. Expected available in 1 second."}
    error = error_from_response(httpx.Response(429, json=throttled))
    assert isinstance(error, errors.RateLimitError) and error.retry_after == 1.0
    error = error_from_response(httpx.Response(429, json={}, headers={"Retry-After": "7"}))
    assert isinstance(error, errors.RateLimitError) and error.retry_after == 7.0
    error = error_from_response(httpx.Response(429, content=b""))
    assert isinstance(error, errors.RateLimitError) and error.retry_after is None


@pytest.mark.parametrize(
    ("content", "content_type", "expect_in_message"),
    [
        (
            b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
            "text/html",
            "502 Bad Gateway",
        ),
        (b"", "text/plain", "HTTP 502"),
        (b'{"detail": "truncated', "application/json", "truncated"),
        (b"\xff\xfe\x00garbage", "application/octet-stream", "garbage"),
        (b'"just a string"', "application/json", "HTTP 502"),
        (b"[1,2,3]", "application/json", "HTTP 502"),
    ],
)
def test_non_json_and_malformed_bodies(
    content: bytes, content_type: str, expect_in_message: str
) -> None:
    response = httpx.Response(502, content=content, headers={"content-type": content_type})
    error = error_from_response(response, operation="predictions.get")
    assert isinstance(error, errors.InternalServerError)
    assert error.status_code == 502
    assert expect_in_message in str(error)
    assert len(error.snippet) <= 200 and "\n" not in error.snippet


def test_long_html_is_cut_to_a_snippet() -> None:
    html = "<html>" + "x" * 10_000 + "</html>"
    error = error_from_response(
        httpx.Response(500, text=html, headers={"content-type": "text/html"})
    )
    assert len(error.snippet) == 200 and error.snippet.endswith("…")
    assert len(str(error)) < 400


def test_end_to_end_html_502_on_get(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").respond(
        502,
        text="<html><body><h1>502 Bad Gateway</h1></body></html>",
        headers={"content-type": "text/html"},
    )
    clock = FakeTime()
    policy = RetryPolicy(max_retries=1, jitter=lambda: 0.0)
    with Client(api_token=TOKEN, base_url=ROUTER, retry_policy=policy, sleep=clock.sleep) as client:
        with pytest.raises(errors.InternalServerError) as info:
            client.predictions.get(PID)
    assert info.value.status_code == 502 and "502 Bad Gateway" in str(info.value)
    assert "non-JSON text/html body" in str(info.value)
    assert info.value.prediction_id == PID


def test_connection_error_names_operation(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").mock(side_effect=httpx.ConnectError)
    clock = FakeTime()
    with Client(api_token=TOKEN, base_url=ROUTER, max_retries=1, sleep=clock.sleep) as client:
        with pytest.raises(errors.APIConnectionError) as info:
            client.predictions.get(PID)
    assert str(info.value).startswith(
        "predictions.get: GET https://router.example/replicate/v1/predictions/"
    )
    assert info.value.sent is False and TOKEN not in str(info.value)


def test_attach_prediction_id_is_idempotent() -> None:
    error = errors.APIError("boom")
    error.attach_prediction_id("abc")
    error.attach_prediction_id("abc")
    assert str(error) == "boom [prediction abc]" and error.message == str(error)
    error.attach_prediction_id(None)
    assert error.prediction_id == "abc"
