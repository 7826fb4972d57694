"""The contract checks, over real HTTP, against every configured target (see conftest.py).

Each check drives the runtime ``Client`` through a recording transport, then asserts the exact
request that went out, that the answer parses into our API types, and -- against Prism -- that
Prism found nothing wrong with the request (the fixture fails the test on any violation).
"""

from __future__ import annotations

import email.parser
import email.policy
import json
from itertools import islice
from pathlib import Path

import httpx
import pytest
from PIL import Image

from contract_tests.live.conftest import ALL_TARGETS, PRISM, RUNS, SLOW_MODEL, STATEFUL, LiveTarget
from replicate_typed.client import errors
from replicate_typed.client.downloads import download_all
from replicate_typed.core.field_types import FileOutput
from replicate_typed.models import registry
from replicate_typed.models.black_forest_labs import flux_schnell
from replicate_typed.models.stability_ai import sdxl
from replicate_typed.predictions import TERMINAL_STATUSES, TypedPrediction
from replicate_typed.types.api import (
    File,
    Model,
    ModelVersion,
    Prediction,
    PredictionPage,
    ProblemDetails,
    WebhookSecret,
)

SDXL_VERSION = sdxl.MODEL.version
assert SDXL_VERSION is not None
KNOWN_STATUSES = {"starting", "processing", *TERMINAL_STATUSES}
all_targets = pytest.mark.parametrize("target", ALL_TARGETS, indirect=True)
stateful_targets = pytest.mark.parametrize("target", STATEFUL, indirect=True)
prism_targets = pytest.mark.parametrize("target", PRISM, indirect=True)
run_targets = pytest.mark.parametrize("target", RUNS, indirect=True)


def small_sdxl() -> sdxl.Input:
    return sdxl.Input(
        prompt="a lighthouse, contract check", width=512, height=512, num_inference_steps=1
    )


def small_flux() -> flux_schnell.Input:
    return flux_schnell.Input(
        prompt="a red fox, contract check",
        megapixels="0.25",
        num_inference_steps=1,
        output_format="png",
        aspect_ratio="1:1",
    )


def check_prediction_body(target: LiveTarget, method: str, path: str) -> Prediction:
    """The recorded answer parses into ``Prediction`` on its own (not only via the client)."""
    exchange = target.transport.last(method, path)
    assert exchange.status in (200, 201, 202), exchange.response_body[:300]
    parsed = Prediction.model_validate_json(exchange.response_body)
    assert parsed.id
    assert parsed.urls.get and parsed.urls.cancel
    return parsed


# --- predictions.create ----------------------------------------------------------------------


@all_targets
def test_create_by_version(target: LiveTarget) -> None:
    extra = (
        {"webhook": "https://example.com/hooks/replicate", "webhook_events_filter": ["completed"]}
        if target.kind == "prism"  # a real or mock server would try to deliver it
        else {}
    )
    with target.client() as client:
        prediction = client.predictions.create(
            version=SDXL_VERSION, input=small_sdxl(), cancel_after="5m", **extra
        )
    exchange = target.transport.last("POST", "/v1/predictions")
    assert exchange.request_json() == {
        "version": SDXL_VERSION,
        "input": {
            "prompt": "a lighthouse, contract check",
            "width": 512,
            "height": 512,
            "num_inference_steps": 1,
        },
        **extra,
    }
    assert exchange.request_headers["cancel-after"] == "5m"
    assert "prefer" not in {k.lower() for k in exchange.request_headers}
    assert isinstance(prediction, Prediction)
    check_prediction_body(target, "POST", "/v1/predictions")
    if target.stateful:
        assert str(prediction.status) in KNOWN_STATUSES
        assert prediction.input.get("prompt") == "a lighthouse, contract check"
        assert prediction.model == "stability-ai/sdxl"


@all_targets
def test_create_by_model_path_with_prefer_wait(target: LiveTarget) -> None:
    with target.client() as client:
        created = client.create(small_flux(), wait=5)
    assert isinstance(created, TypedPrediction)
    path = "/v1/models/black-forest-labs/flux-schnell/predictions"
    exchange = target.transport.last("POST", path)
    body = exchange.request_json()
    assert "version" not in body
    assert body["input"]["megapixels"] == "0.25"
    # Sent as is (Prism validates it against the document's pattern; see transport.py).
    assert exchange.prefer_sent == "wait=5"
    assert exchange.request_headers["prefer"] == "wait=5"
    check_prediction_body(target, "POST", path)
    if target.stateful:
        assert created.raw.model == "black-forest-labs/flux-schnell"


@prism_targets
def test_create_answered_202_is_accepted(target: LiveTarget) -> None:
    target.transport.prism_query = {"__code": "202"}  # Prism's preference, not via Prefer
    with target.client() as client:
        prediction = client.predictions.create(version=SDXL_VERSION, input=small_sdxl())
    assert target.transport.last("POST", "/v1/predictions").status == 202
    assert isinstance(prediction, Prediction)


# --- get / cancel / list -----------------------------------------------------------------


@all_targets
def test_get_and_cancel(target: LiveTarget) -> None:
    info = registry.get_model(SLOW_MODEL)
    with target.client() as client:
        created = client.predictions.create(
            version=str(info.version), input={"prompt": "contract check: cancel me"}
        )
        # Prism's ids are examples ("string") or lorem ipsum with spaces: ask for a real-looking one.
        pid = created.id if target.stateful else "gm3qorzdhgbfurvjtvhg6dckhu"
        fetched = client.predictions.get(pid)
        canceled = client.predictions.cancel(pid)
    check_prediction_body(target, "GET", f"/v1/predictions/{pid}")
    check_prediction_body(target, "POST", f"/v1/predictions/{pid}/cancel")
    assert isinstance(fetched, Prediction) and isinstance(canceled, Prediction)
    if target.stateful:
        assert fetched.id == created.id == canceled.id
        assert str(canceled.status) in {"canceled", "succeeded", "failed"}
    if target.kind == "mock":
        assert canceled.status == "canceled"


@all_targets
def test_list_first_page(target: LiveTarget) -> None:
    with target.client() as client:
        created = (
            client.predictions.create(version=SDXL_VERSION, input=small_sdxl())
            if target.stateful
            else None
        )
        listing = client.predictions.list()
        try:
            first = list(islice(listing, 1))
        except errors.APIResponseValidationError as exc:
            # Prism's generated pages may be empty with a made-up `next` link; the client refuses
            # to follow a link that is not an API URL. The page itself is checked below.
            assert target.name == "prism-dynamic" and "next page link" in str(exc), exc
            first = []
    page = PredictionPage.model_validate_json(
        target.transport.last("GET", "/v1/predictions").response_body
    )
    for item in first:
        assert isinstance(item, Prediction)
    if created is not None:
        ids = [p.id for p in page.results or []]
        assert created.id in ids


@all_targets
def test_list_with_date_filters(target: LiveTarget) -> None:
    with target.client() as client:
        list(islice(client.predictions.list(created_after="2025-01-01T00:00:00Z"), 1))
    exchange = target.transport.last("GET", "/v1/predictions")
    assert "created_after=2025-01-01T00%3A00%3A00Z" in exchange.url or (
        "created_after=2025-01-01T00:00:00Z" in exchange.url
    )
    PredictionPage.model_validate_json(exchange.response_body)


# --- models ------------------------------------------------------------------------------


@all_targets
def test_models_get(target: LiveTarget) -> None:
    with target.client() as client:
        model = client.models.get("stability-ai/sdxl")
    assert isinstance(model, Model)
    Model.model_validate_json(
        target.transport.last("GET", "/v1/models/stability-ai/sdxl").response_body
    )
    if target.stateful:
        assert (model.owner, model.name) == ("stability-ai", "sdxl")


@all_targets
def test_model_version_get(target: LiveTarget) -> None:
    path = f"/v1/models/stability-ai/sdxl/versions/{SDXL_VERSION}"
    with target.client() as client:
        version = client.models.versions.get("stability-ai/sdxl", SDXL_VERSION)
    assert isinstance(version, ModelVersion)
    ModelVersion.model_validate_json(target.transport.last("GET", path).response_body)
    if target.stateful:
        assert version.id == SDXL_VERSION
        schema = version.openapi_schema or {}
        assert "Input" in schema.get("components", {}).get("schemas", {})


# --- files and webhooks ------------------------------------------------------------------


@all_targets
def test_files_create(target: LiveTarget) -> None:
    content = b"replicate-typed live contract check\n"
    with target.client() as client:
        created = client.files.create(content, filename="check.txt", content_type="text/plain")
    assert isinstance(created, File)
    exchange = target.transport.last("POST", "/v1/files")
    assert exchange.status == 201
    File.model_validate_json(exchange.response_body)
    parts = multipart_fields(exchange.request_headers["content-type"], exchange.request_body)
    assert parts["content"] == content
    assert parts["filename"] == b"check.txt" and parts["type"] == b"text/plain"
    if target.stateful:
        assert created.size == len(content)


def multipart_fields(content_type: str, body: bytes) -> dict[str, bytes]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    fields: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        fields[str(name)] = payload if isinstance(payload, bytes) else b""
    return fields


@stateful_targets
def test_files_create_with_metadata(target: LiveTarget) -> None:
    with target.client() as client:
        created = client.files.create(b"abc", filename="a.bin", metadata={"check": 1})
    assert created.metadata == {"check": 1}


@prism_targets
def test_files_metadata_is_a_json_object_prism_cannot_decode(target: LiveTarget) -> None:
    """Known Prism limitation, handled deliberately: the document types ``metadata`` as an
    object, which multipart carries as a JSON part (OpenAPI's default encoding for objects);
    Prism validates the raw part text against ``type: object`` and always answers 422. So the
    check is ours: the part is a JSON object, and Prism's only complaint is that property."""
    with target.client(max_retries=0) as client, pytest.raises(errors.APIStatusError) as raised:
        client.files.create(b"abc", filename="a.bin", metadata={"check": 1})
    assert raised.value.status_code == 422
    exchange = target.transport.last("POST", "/v1/files")
    parts = multipart_fields(exchange.request_headers["content-type"], exchange.request_body)
    assert json.loads(parts["metadata"]) == {"check": 1}
    complaints = [v for v in exchange.json()["validation"]]
    assert [c["location"] for c in complaints] == [["body", "metadata"]]
    assert complaints[0]["message"] == "Request body property metadata must be object"
    target.transport.problems.clear()  # that one (and only that one) is Prism's, not ours


@all_targets
def test_webhook_default_secret(target: LiveTarget) -> None:
    with target.client() as client:
        secret = client.webhooks.default_secret()
    assert isinstance(secret, WebhookSecret)
    WebhookSecret.model_validate_json(
        target.transport.last("GET", "/v1/webhooks/default/secret").response_body
    )
    if target.stateful:
        assert secret.key.get_secret_value().startswith("whsec_")
    assert secret.key.get_secret_value() not in repr(secret)


# --- auth and errors ---------------------------------------------------------------------


@all_targets
def test_request_without_token_is_401_problem(target: LiveTarget) -> None:
    with httpx.Client(transport=target.transport) as http:
        response = http.get(f"{target.base_url}/v1/predictions")
    assert response.status_code == 401
    problem = ProblemDetails.model_validate_json(response.content)
    assert problem.status in (None, 401)
    if target.kind == "prism":
        # Prism's own security check: not a fault of a client that sent no token on purpose.
        target.transport.problems.clear()


@run_targets
def test_wrong_token_raises_authentication_error(target: LiveTarget) -> None:
    wrong = "r8_wrong_token_for_the_contract_check_000000"
    with target.client(token=wrong, max_retries=0) as client:
        with pytest.raises(errors.AuthenticationError) as raised:
            client.predictions.get("doesnotexist0000000000000")
    assert raised.value.status_code == 401
    assert wrong not in str(raised.value) and target.token not in str(raised.value)


@run_targets
def test_unknown_prediction_is_404(target: LiveTarget) -> None:
    with target.client(max_retries=0) as client:
        with pytest.raises(errors.NotFoundError) as raised:
            client.predictions.get("contractcheck0unknown00000")
    assert raised.value.status_code == 404
    assert "contractcheck0unknown00000" in str(raised.value)


# --- whole runs --------------------------------------------------------------------------


@run_targets
def test_run_by_path_and_download_a_real_image(target: LiveTarget, out_dir: Path) -> None:
    with target.client() as client:
        output = client.run(small_flux(), timeout=600)
    assert isinstance(output, list) and output
    assert all(isinstance(item, FileOutput) for item in output)
    [path] = download_all(output, out_dir)
    with Image.open(path) as image:
        image.verify()


@run_targets
def test_run_by_version_and_download_real_images(target: LiveTarget, out_dir: Path) -> None:
    with target.client() as client:
        output = client.run(small_sdxl(), timeout=600)
    paths = download_all(output, out_dir)
    assert len(paths) == len(output) >= 1
    for path in paths:
        with Image.open(path) as image:
            image.verify()
    assert (
        target.transport.last("POST", "/v1/predictions").request_json()["version"] == SDXL_VERSION
    )
