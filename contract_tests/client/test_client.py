"""Contract tests of the sync Client: every operation's request (method, URL under a router
prefix and under the official base, headers, exact body) and its parsed response."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import respx

from contract_tests.client.test_client_helpers import (
    BASES,
    OFFICIAL,
    OUT_URL,
    PID,
    ROUTER,
    SDXL_VERSION,
    TOKEN,
    FakeTime,
    body_of,
    prediction,
    problem,
    succeeded,
)
from replicate_typed.client import Client, errors
from replicate_typed.client.uploads import INLINE_LIMIT
from replicate_typed.client.webhooks import signed_headers, verify_signature
from replicate_typed.models.black_forest_labs import flux_schnell
from replicate_typed.models.stability_ai import sdxl
from replicate_typed.types.api import Prediction


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


def make(base: str, clock: FakeTime, **kw: object) -> Client:
    return Client(api_token=TOKEN, base_url=base, sleep=clock.sleep, clock=clock.clock, **kw)  # type: ignore[arg-type]


# --- predictions.create ---------------------------------------------------------------------


@pytest.mark.parametrize("base", BASES)
def test_create_by_bare_version(respx_mock: respx.MockRouter, base: str, clock: FakeTime) -> None:
    route = respx_mock.post(f"{base}/v1/predictions").respond(201, json=prediction())
    with make(base, clock) as client:
        result = client.predictions.create(version=SDXL_VERSION, input={"prompt": "a cat"})
    request = route.calls.last.request
    assert request.url == f"{base}/v1/predictions"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert "Prefer" not in request.headers and "Cancel-After" not in request.headers
    assert body_of(request) == {"version": SDXL_VERSION, "input": {"prompt": "a cat"}}
    assert isinstance(result, Prediction)
    assert (result.id, result.status, result.version) == (
        PID,
        "starting",
        "dp-4d0bcc010b3049749a251855f12800be",
    )
    assert result.created_at == datetime(2025, 1, 15, 10, 3, 39, 896000, tzinfo=UTC)


@pytest.mark.parametrize("base", BASES)
def test_create_with_model_version_ref_webhook_and_filter(
    respx_mock: respx.MockRouter, base: str, clock: FakeTime
) -> None:
    route = respx_mock.post(f"{base}/v1/predictions").respond(201, json=prediction())
    version = f"stability-ai/sdxl:{SDXL_VERSION}"
    with make(base, clock) as client:
        client.predictions.create(
            version=version,
            input={"prompt": "x"},
            webhook="https://example.com/hook",
            webhook_events_filter=["start", "completed"],
        )
    assert body_of(route.calls.last.request) == {
        "version": version,
        "input": {"prompt": "x"},
        "webhook": "https://example.com/hook",
        "webhook_events_filter": ["start", "completed"],
    }


@pytest.mark.parametrize(
    ("wait", "prefer", "min_read"),
    [(True, "wait", 70.0), (5, "wait=5", 60.0), (60, "wait=60", 70.0)],
)
def test_create_prefer_wait_header_and_read_timeout(
    respx_mock: respx.MockRouter, wait: bool | int, prefer: str, min_read: float, clock: FakeTime
) -> None:
    route = respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=prediction())
    with make(ROUTER, clock, timeout=5.0) as client:
        client.predictions.create(version=SDXL_VERSION, input={}, wait=wait)
    request = route.calls.last.request
    assert request.headers["Prefer"] == prefer
    read = request.extensions["timeout"]["read"]
    # the read timeout covers the server's hold: wait + 10 s margin (never below the default)
    expected = max(5.0, (60 if wait is True else wait) + 10.0)
    assert read == expected and read >= min_read - 55


def test_create_without_wait_keeps_default_read_timeout(
    respx_mock: respx.MockRouter, clock: FakeTime
) -> None:
    route = respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=prediction())
    with make(ROUTER, clock, timeout=7.0) as client:
        client.predictions.create(version=SDXL_VERSION, input={})
    assert route.calls.last.request.extensions["timeout"]["read"] == 7.0


@pytest.mark.parametrize("value", ["30s", "5m", "1h30m", "5s", "2h"])
def test_create_cancel_after_header(
    respx_mock: respx.MockRouter, value: str, clock: FakeTime
) -> None:
    route = respx_mock.post(f"{OFFICIAL}/v1/predictions").respond(201, json=prediction())
    with make(OFFICIAL, clock) as client:
        client.predictions.create(version=SDXL_VERSION, input={}, cancel_after=value)
    assert route.calls.last.request.headers["Cancel-After"] == value
    assert set(body_of(route.calls.last.request)) == {"version", "input"}


BAD_CREATE_ARGS = [
    ({"version": "abc"}, "version", "'abc'"),
    ({"version": "stability-ai/sdxl:1234"}, "version", "1234"),
    ({"version": "a/b/c"}, "version", "a/b/c"),
    ({"version": SDXL_VERSION.upper()}, "version", SDXL_VERSION.upper()),
    ({"wait": 0}, "wait", "0"),
    ({"wait": 61}, "wait", "61"),
    ({"wait": "5"}, "wait", "'5'"),
    ({"cancel_after": "4s"}, "cancel_after", "minimum 5s"),
    ({"cancel_after": "5"}, "cancel_after", "'5'"),
    ({"cancel_after": "1m30h"}, "cancel_after", "1m30h"),
    ({"cancel_after": ""}, "cancel_after", "''"),
    ({"webhook": "ftp://x"}, "webhook", "ftp://x"),
    (
        {"webhook": "https://x/h", "webhook_events_filter": ["done"]},
        "webhook_events_filter",
        "done",
    ),
    (
        {"webhook": "https://x/h", "webhook_events_filter": "start"},
        "webhook_events_filter",
        "start",
    ),
    ({"input": [1, 2]}, "input", "list"),
]


@pytest.mark.parametrize(("kwargs", "field", "shown"), BAD_CREATE_ARGS)
def test_bad_create_arguments_rejected_before_any_request(
    respx_mock: respx.MockRouter, kwargs: dict[str, object], field: str, shown: str, clock: FakeTime
) -> None:
    route = respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=prediction())
    args: dict[str, object] = {"version": SDXL_VERSION, "input": {"prompt": "x"}, **kwargs}
    with make(ROUTER, clock) as client, pytest.raises(errors.InputError) as info:
        client.predictions.create(**args)  # type: ignore[arg-type]
    assert str(info.value).startswith(f"{field}:")
    assert shown in str(info.value)
    assert route.call_count == 0
    respx_mock.assert_all_called = False


@pytest.mark.parametrize("base", BASES)
def test_models_predictions_create(
    respx_mock: respx.MockRouter, base: str, clock: FakeTime
) -> None:
    url = f"{base}/v1/models/black-forest-labs/flux-schnell/predictions"
    route = respx_mock.post(url).respond(201, json=prediction())
    with make(base, clock) as client:
        result = client.models.predictions.create(
            "black-forest-labs/flux-schnell", input={"prompt": "p"}, wait=3, cancel_after="1m"
        )
    request = route.calls.last.request
    assert body_of(request) == {"input": {"prompt": "p"}}
    assert request.headers["Prefer"] == "wait=3" and request.headers["Cancel-After"] == "1m"
    assert result.model == "black-forest-labs/flux-schnell"


def test_models_predictions_create_rejects_bad_model(
    respx_mock: respx.MockRouter, clock: FakeTime
) -> None:
    with make(ROUTER, clock) as client, pytest.raises(errors.InputError, match="model: 'flux'"):
        client.models.predictions.create("flux", input={})
    assert respx_mock.calls.call_count == 0


# --- typed create / run through the registry --------------------------------------------------


@pytest.mark.parametrize("base", BASES)
def test_typed_create_by_version_sends_only_set_fields(
    respx_mock: respx.MockRouter, base: str, clock: FakeTime
) -> None:
    route = respx_mock.post(f"{base}/v1/predictions").respond(201, json=prediction())
    with make(base, clock) as client:
        typed = client.create(sdxl.Input(prompt="a lighthouse", width=1024, seed=7))
    # width is set explicitly (to its default value): sent; every other default: not sent
    assert body_of(route.calls.last.request) == {
        "version": SDXL_VERSION,
        "input": {"prompt": "a lighthouse", "width": 1024, "seed": 7},
    }
    assert typed.id == PID and typed.model is sdxl.MODEL


@pytest.mark.parametrize("base", BASES)
def test_typed_create_by_model_path(
    respx_mock: respx.MockRouter, base: str, clock: FakeTime
) -> None:
    url = f"{base}/v1/models/black-forest-labs/flux-schnell/predictions"
    route = respx_mock.post(url).respond(201, json=prediction())
    with make(base, clock) as client:
        client.create(flux_schnell.Input(prompt="a fox", go_fast=True))
    assert body_of(route.calls.last.request) == {"input": {"prompt": "a fox", "go_fast": True}}


def test_typed_create_rejects_untyped_input(clock: FakeTime) -> None:
    with make(ROUTER, clock) as client, pytest.raises(errors.InputError, match="not a generated"):
        client.create({"prompt": "x"})  # type: ignore[arg-type]


def test_small_local_file_is_inlined(respx_mock: respx.MockRouter, clock: FakeTime) -> None:
    route = respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=prediction())
    with make(ROUTER, clock) as client:
        client.create(sdxl.Input(prompt="p", image=b"\x89PNG\r\n\x1a\n" + b"0" * 100))
    sent = body_of(route.calls.last.request)["input"]
    assert sent["image"].startswith("data:image/png;base64,")
    assert set(sent) == {"prompt", "image"}


def test_large_local_file_is_uploaded_first(
    respx_mock: respx.MockRouter, tmp_path: Path, clock: FakeTime
) -> None:
    big = tmp_path / "photo.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"1" * INLINE_LIMIT)
    file_url = f"{ROUTER}/v1/files/cneqzikepnug6xezperrr4z55o"
    files = respx_mock.post(f"{ROUTER}/v1/files").respond(
        201,
        json={
            "id": "cneqzikepnug6xezperrr4z55o",
            "checksums": {"sha256": "0" * 64},
            "content_type": "image/png",
            "created_at": "2024-02-21T12:54:18.578761Z",
            "expires_at": "2024-02-21T13:54:18.578761Z",
            "metadata": {},
            "size": INLINE_LIMIT + 8,
            "urls": {"get": file_url},
        },
    )
    create = respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=prediction())
    with make(ROUTER, clock) as client:
        client.create(sdxl.Input(prompt="p", image=big))
    assert body_of(create.calls.last.request)["input"] == {"prompt": "p", "image": file_url}
    upload = files.calls.last.request
    assert upload.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="content"; filename="photo.png"' in upload.content
    assert upload.headers["Authorization"] == f"Bearer {TOKEN}"


# --- get / cancel / list ----------------------------------------------------------------------


@pytest.mark.parametrize("base", BASES)
def test_get_and_cancel(respx_mock: respx.MockRouter, base: str, clock: FakeTime) -> None:
    get = respx_mock.get(f"{base}/v1/predictions/{PID}").respond(200, json=succeeded())
    cancel = respx_mock.post(f"{base}/v1/predictions/{PID}/cancel").respond(
        200, json=prediction("canceled")
    )
    with make(base, clock) as client:
        got = client.predictions.get(PID)
        canceled = client.predictions.cancel(PID)
    assert got.status == "succeeded" and got.output == [OUT_URL]
    assert got.metrics is not None and got.metrics.model_extra == {
        "image_count": 1,
        "predict_time": 0.557916184,
    }
    assert canceled.status == "canceled"
    assert cancel.calls.last.request.content == b""
    assert get.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("bad", ["", "a/b", "../x", "id with space"])
def test_get_rejects_bad_ids(respx_mock: respx.MockRouter, bad: str, clock: FakeTime) -> None:
    with make(ROUTER, clock) as client, pytest.raises(errors.InputError, match="id:"):
        client.predictions.get(bad)
    assert respx_mock.calls.call_count == 0


@pytest.mark.parametrize("base", BASES)
def test_list_follows_next_links(respx_mock: respx.MockRouter, base: str, clock: FakeTime) -> None:
    # the router hands out next links on the upstream host: they are re-rooted on the base
    page1 = {
        "previous": None,
        "next": "https://api.replicate.com/v1/predictions?cursor=cD0yMDI1",
        "results": [prediction(id="p1"), prediction(id="p2")],
    }
    page2 = {"previous": None, "next": None, "results": [succeeded(id="p3")]}
    first = respx_mock.get(
        f"{base}/v1/predictions", params={"created_after": "2025-01-01T00:00:00+00:00"}
    )
    first.respond(200, json=page1)
    second = respx_mock.get(f"{base}/v1/predictions", params={"cursor": "cD0yMDI1"})
    second.respond(200, json=page2)
    with make(base, clock) as client:
        ids = [
            p.id for p in client.predictions.list(created_after=datetime(2025, 1, 1, tzinfo=UTC))
        ]
    assert ids == ["p1", "p2", "p3"]
    assert first.call_count == 1 and second.call_count == 1
    assert second.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_list_stops_on_a_looping_next_link(respx_mock: respx.MockRouter, clock: FakeTime) -> None:
    loop = {"next": f"{ROUTER}/v1/predictions?cursor=same", "results": [prediction()]}
    respx_mock.get(f"{ROUTER}/v1/predictions").respond(200, json=loop)
    with (
        make(ROUTER, clock) as client,
        pytest.raises(errors.APIResponseValidationError, match="repeats"),
    ):
        list(client.predictions.list())


# --- models, files, webhooks --------------------------------------------------------------------


@pytest.mark.parametrize("base", BASES)
def test_models_get_and_versions_get(
    respx_mock: respx.MockRouter, base: str, clock: FakeTime
) -> None:
    respx_mock.get(f"{base}/v1/models/stability-ai/sdxl").respond(
        200,
        json={
            "owner": "stability-ai",
            "name": "sdxl",
            "latest_version": {"id": SDXL_VERSION},
            "new_field": 1,
        },
    )
    schema = {"components": {"schemas": {"Input": {"type": "object"}}}}
    respx_mock.get(f"{base}/v1/models/stability-ai/sdxl/versions/{SDXL_VERSION}").respond(
        200,
        json={
            "id": SDXL_VERSION,
            "cog_version": "0.8.6",
            "created_at": "2023-07-26T21:10:30.183937Z",
            "openapi_schema": schema,
        },
    )
    with make(base, clock) as client:
        model = client.models.get("stability-ai/sdxl")
        version = client.models.versions.get("stability-ai/sdxl", SDXL_VERSION)
    assert model.owner == "stability-ai" and model.name == "sdxl"
    assert version.id == SDXL_VERSION and version.openapi_schema == schema


def test_versions_get_rejects_short_id(respx_mock: respx.MockRouter, clock: FakeTime) -> None:
    with make(ROUTER, clock) as client, pytest.raises(errors.InputError, match="version_id: 'abc'"):
        client.models.versions.get("stability-ai/sdxl", "abc")
    assert respx_mock.calls.call_count == 0


@pytest.mark.parametrize("base", BASES)
def test_files_create_multipart(respx_mock: respx.MockRouter, base: str, clock: FakeTime) -> None:
    route = respx_mock.post(f"{base}/v1/files").respond(
        201,
        json={
            "id": "f1",
            "checksums": {},
            "content_type": "application/zip",
            "created_at": "2024-02-21T12:54:18.578761Z",
            "expires_at": "2024-02-21T13:54:18.578761Z",
            "metadata": {"customer_reference_id": 123},
            "size": 3,
            "urls": {"get": f"{base}/v1/files/f1"},
        },
    )
    with make(base, clock) as client:
        file = client.files.create(
            io.BytesIO(b"abc"), filename="data.zip", metadata={"customer_reference_id": 123}
        )
    content = route.calls.last.request.content
    assert b'name="content"; filename="data.zip"' in content
    assert b'name="type"\r\n\r\napplication/zip' in content
    assert b'name="metadata"\r\n\r\n{"customer_reference_id": 123}' in content
    assert file.id == "f1" and file.metadata == {"customer_reference_id": 123}


@pytest.mark.parametrize("base", BASES)
def test_default_webhook_secret(respx_mock: respx.MockRouter, base: str, clock: FakeTime) -> None:
    respx_mock.get(f"{base}/v1/webhooks/default/secret").respond(
        200, json={"key": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"}
    )
    with make(base, clock) as client:
        secret = client.webhooks.default_secret()
    assert secret.key.get_secret_value() == "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
    # the signing key never shows in a repr or str, but verifies signatures as it is
    assert all("C2FVsBQ" not in text for text in (repr(secret), str(secret), repr(secret.key)))
    body = b'{"id": "x"}'
    headers = signed_headers(
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", body, msg_id="m", timestamp=7
    )
    assert verify_signature(body, headers, secret.key, now=7) == body


# --- run ----------------------------------------------------------------------------------------


def test_run_with_prefer_wait_needs_no_get(respx_mock: respx.MockRouter, clock: FakeTime) -> None:
    create = respx_mock.post(f"{ROUTER}/v1/predictions").respond(
        201, json=succeeded(), headers={"Preference-Applied": "wait=60"}
    )
    with make(ROUTER, clock) as client:
        output = client.run(sdxl.Input(prompt="p"))
    assert output == [OUT_URL] and output[0].filename == "out-0.jpg"
    assert create.calls.last.request.headers["Prefer"] == "wait"
    assert respx_mock.calls.call_count == 1 and clock.sleeps == []


def test_run_polls_after_an_unfinished_wait(respx_mock: respx.MockRouter, clock: FakeTime) -> None:
    respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=prediction("processing"))
    get = respx_mock.get(f"{ROUTER}/v1/predictions/{PID}")
    get.side_effect = [
        httpx.Response(200, json=prediction("processing")),
        httpx.Response(200, json=succeeded()),
    ]
    with make(ROUTER, clock) as client:
        assert client.run(sdxl.Input(prompt="p"), wait=10) == [OUT_URL]
    assert get.call_count == 2
    assert clock.sleeps[0] <= 0.25  # polling starts fast


@pytest.mark.parametrize("status", ["failed", "canceled", "aborted"])
def test_run_raises_prediction_error(
    respx_mock: respx.MockRouter, status: str, clock: FakeTime
) -> None:
    final = prediction(
        status, error="CUDA out of memory" if status == "failed" else None, logs="step 1\n"
    )
    respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=final)
    with make(ROUTER, clock) as client, pytest.raises(errors.PredictionError) as info:
        client.run(sdxl.Input(prompt="p"))
    error = info.value
    assert error.prediction_id == PID and error.status == status and error.logs == "step 1\n"
    assert PID in str(error) and status in str(error)
    if status == "failed":
        assert error.error == "CUDA out of memory" and "CUDA out of memory" in str(error)


def test_run_output_removed(respx_mock: respx.MockRouter, clock: FakeTime) -> None:
    respx_mock.post(f"{ROUTER}/v1/predictions").respond(
        201, json=prediction("succeeded", output=None, data_removed=True)
    )
    with make(ROUTER, clock) as client, pytest.raises(errors.OutputRemovedError) as info:
        client.run(sdxl.Input(prompt="p"))
    assert info.value.prediction_id == PID and "removed" in str(info.value)


def test_run_output_of_the_wrong_shape(respx_mock: respx.MockRouter, clock: FakeTime) -> None:
    respx_mock.post(f"{ROUTER}/v1/predictions").respond(
        201, json=prediction("succeeded", output={"x": 1})
    )
    with make(ROUTER, clock) as client, pytest.raises(errors.OutputValidationError) as info:
        client.run(sdxl.Input(prompt="p"))
    assert info.value.prediction_id == PID and PID in str(info.value)


@pytest.mark.parametrize("cancel", [False, True])
def test_run_timeout_carries_id_and_status(
    respx_mock: respx.MockRouter, cancel: bool, clock: FakeTime
) -> None:
    create = respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=prediction("starting"))
    respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").respond(200, json=prediction("processing"))
    cancel_route = respx_mock.post(f"{ROUTER}/v1/predictions/{PID}/cancel").respond(
        200, json=prediction("canceled")
    )
    respx_mock.assert_all_called = False
    with make(ROUTER, clock) as client, pytest.raises(errors.PredictionTimeoutError) as info:
        client.run(sdxl.Input(prompt="p"), timeout=3.0, cancel_on_timeout=cancel)
    assert info.value.prediction_id == PID and info.value.last_status == "processing"
    assert create.calls.last.request.headers["Prefer"] == "wait=3"  # never outlasts the timeout
    assert sum(clock.sleeps) == pytest.approx(3.0)
    assert cancel_route.call_count == (1 if cancel else 0)
    assert ("canceled" in str(info.value)) is cancel


def test_errors_while_waiting_carry_the_prediction_id(
    respx_mock: respx.MockRouter, clock: FakeTime
) -> None:
    respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=prediction("starting"))
    respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").mock(
        return_value=problem(404, "Not found", "The requested resource could not be found.")
    )
    with make(ROUTER, clock) as client, pytest.raises(errors.NotFoundError) as info:
        client.run(sdxl.Input(prompt="p"))
    assert info.value.prediction_id == PID and PID in str(info.value)


# --- tolerance ------------------------------------------------------------------------------------


def test_unknown_fields_and_statuses_parse(respx_mock: respx.MockRouter, clock: FakeTime) -> None:
    body = prediction("queued_somewhere", brand_new_field={"a": 1})
    body["urls"]["web"] = "https://replicate.com/p/x"
    respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").respond(200, json=body)
    with make(ROUTER, clock) as client:
        got = client.predictions.get(PID)
    assert got.status == "queued_somewhere"
    assert got.model_extra == {"brand_new_field": {"a": 1}}


@pytest.mark.parametrize(
    "content",
    [
        b"<html><body>502 Bad Gateway</body></html>",
        b"",
        b'{"id": 5}',
        b"[1, 2]",
        b'{"id": "x", "status',
    ],
)
def test_unfit_success_answers_raise_typed_errors(
    respx_mock: respx.MockRouter, content: bytes, clock: FakeTime
) -> None:
    respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").respond(200, content=content)
    with make(ROUTER, clock) as client, pytest.raises(errors.APIResponseValidationError) as info:
        client.predictions.get(PID)
    assert info.value.status_code == 200
    assert info.value.prediction_id == PID
    assert "Traceback" not in str(info.value) and len(str(info.value)) < 700


def test_unfit_create_answer_keeps_the_id_it_found(
    respx_mock: respx.MockRouter, clock: FakeTime
) -> None:
    respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json={"id": "newid123", "status": 5})
    with make(ROUTER, clock) as client, pytest.raises(errors.APIResponseValidationError) as info:
        client.predictions.create(version=SDXL_VERSION, input={})
    assert info.value.prediction_id == "newid123" and "newid123" in str(info.value)


# --- configuration and secrecy -------------------------------------------------------------------


def test_environment_configuration(
    respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_fromenv")
    monkeypatch.setenv("REPLICATE_BASE_URL", "https://router.example/replicate/")
    route = respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").respond(200, json=succeeded())
    with Client() as client:
        client.predictions.get(PID)
    assert client.base_url == ROUTER
    assert route.calls.last.request.headers["Authorization"] == "Bearer r8_fromenv"


def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPLICATE_BASE_URL", raising=False)
    assert Client(api_token="x").base_url == OFFICIAL
    assert (
        Client(api_token="x", base_url="https://h/replicate/v1/").base_url == "https://h/replicate"
    )
    with pytest.raises(errors.InputError, match="base_url: 'api.replicate.com'"):
        Client(base_url="api.replicate.com")


def test_token_never_shown(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture, clock: FakeTime
) -> None:
    respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").mock(
        side_effect=[
            httpx.Response(503, text="busy"),
            problem(401, "Unauthenticated", "You did not pass a valid authentication token"),
        ]
    )
    caplog.set_level(logging.DEBUG, logger="replicate_typed")
    client = make(ROUTER, clock)
    with pytest.raises(errors.AuthenticationError) as info:
        client.predictions.get(PID)
    logging.getLogger("replicate_typed").warning("user logs the token %s", TOKEN)
    shown = [repr(client), str(client), str(info.value), repr(info.value), caplog.text]
    assert all(TOKEN not in text for text in shown)
    assert "'authorization': '<redacted>'" in caplog.text  # headers were logged
    assert "You did not pass a valid authentication token" in str(info.value)
    client.close()


# --- stream -------------------------------------------------------------------------------------

SSE = b"event: output\nid: 1690212292:0\ndata: Hello\n\nevent: output\nid: 1690212292:1\ndata:  world\n\nevent: done\ndata: {}\n\n"


@pytest.mark.parametrize(("base", "gets_token"), [(ROUTER, False), (OFFICIAL, True)])
def test_stream_events_and_token_scope(
    respx_mock: respx.MockRouter, base: str, gets_token: bool, clock: FakeTime
) -> None:
    pred = Prediction.model_validate(
        {**prediction("processing"), "urls": {**prediction()["urls"], "web": ""}}
    )
    assert pred.urls.stream is not None
    route = respx_mock.get(pred.urls.stream).respond(
        200, content=SSE, headers={"content-type": "text/event-stream"}
    )
    with make(base, clock) as client:
        events = list(client.predictions.stream(pred))
    assert [(e.event, e.data) for e in events] == [
        ("output", "Hello"),
        ("output", " world"),
        ("done", "{}"),
    ]
    request = route.calls.last.request
    assert request.headers["Accept"] == "text/event-stream"
    # the token only goes to the configured base or, for the official API, Replicate's hosts
    assert ("Authorization" in request.headers) is gets_token


def test_stream_without_url(clock: FakeTime) -> None:
    body = prediction()
    body["urls"] = {"get": "g", "cancel": "c", "web": "w"}
    with make(ROUTER, clock) as client, pytest.raises(errors.StreamError, match=PID):
        list(client.predictions.stream(Prediction.model_validate(body)))


def test_json_dump_of_input_is_exact(respx_mock: respx.MockRouter, clock: FakeTime) -> None:
    """Plain dict inputs are sent as given (nothing added, nothing dropped)."""
    route = respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=prediction())
    given = {"prompt": "x", "seed": None, "nested": {"a": [1, 2.5, True]}}
    with make(ROUTER, clock) as client:
        client.predictions.create(version=SDXL_VERSION, input=given)
    assert json.loads(route.calls.last.request.content)["input"] == given


@pytest.mark.parametrize("value", [datetime(2025, 1, 1), float("nan"), object()])
def test_input_that_is_not_json_is_rejected_before_sending(
    respx_mock: respx.MockRouter, value: object, clock: FakeTime
) -> None:
    with make(ROUTER, clock) as client, pytest.raises(errors.InputError, match="input: not JSON"):
        client.predictions.create(version=SDXL_VERSION, input={"when": value})
    assert respx_mock.calls.call_count == 0


def test_own_http_client_headers_and_lifetime(
    respx_mock: respx.MockRouter, clock: FakeTime
) -> None:
    route = respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").respond(200, json=succeeded())
    # our own httpx client: requests carry the usual httpx defaults plus ours
    with make(ROUTER, clock) as client:
        client.predictions.get(PID)
    sent = route.calls.last.request.headers
    assert sent["Accept-Encoding"] and sent["Connection"] == "keep-alive"
    assert (
        sent["User-Agent"].startswith("replicate-typed/") and sent["Accept"] == "application/json"
    )
    # a caller's httpx client: its default headers are honoured and it is left open
    http = httpx.Client(headers={"X-Team": "vision"})
    client = Client(api_token=TOKEN, base_url=ROUTER, http_client=http)
    client.predictions.get(PID)
    client.close()
    sent = route.calls.last.request.headers
    assert sent["X-Team"] == "vision" and sent["Authorization"] == f"Bearer {TOKEN}"
    assert not http.is_closed
    http.close()


def test_file_object_input_is_inlined(respx_mock: respx.MockRouter, clock: FakeTime) -> None:
    route = respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=prediction())
    buffer = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"2" * 50)
    buffer.name = "mask.png"
    with make(ROUTER, clock) as client:
        client.create(sdxl.Input(prompt="p", mask=buffer))
    sent = body_of(route.calls.last.request)["input"]
    assert sent["mask"].startswith("data:image/png;base64,") and set(sent) == {"prompt", "mask"}


def test_interrupted_wait_still_names_the_prediction(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=prediction("starting"))

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    with Client(api_token=TOKEN, base_url=ROUTER, sleep=interrupt) as client:
        with pytest.raises(KeyboardInterrupt) as info:
            client.run(sdxl.Input(prompt="p"))
    assert any(PID in note for note in getattr(info.value, "__notes__", []))
