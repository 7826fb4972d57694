"""The mock's API surface, over real HTTP and through respx (every test runs on both)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from contract_tests.mock.conftest import AUTH, FLUX, SDXL, SDXL_VERSION, TOKEN, Env
from replicate_typed.mock import MockBackend, MockConfig
from replicate_typed.models import registry
from replicate_typed.types.api import File, Model, ModelVersion, Prediction, ProblemDetails

UNAUTH = {
    "title": "Unauthenticated",
    "detail": "You did not pass a valid authentication token",
    "status": 401,
}


@pytest.mark.parametrize("prefix", ["", "/replicate"])
def test_create_and_get_under_both_prefixes(env: Env, prefix: str) -> None:
    created = env.create({"prompt": "a cat"}, prefix=prefix)
    assert created.status_code == 201, created.text
    prediction = Prediction.model_validate(created.json())
    assert prediction.status == "starting"
    assert prediction.model == "stability-ai/sdxl"
    assert prediction.version == SDXL.version
    assert prediction.input == {"prompt": "a cat"}
    api = f"{env.base}{prefix}/v1"
    assert prediction.urls.get == f"{api}/predictions/{prediction.id}"
    assert prediction.urls.cancel == f"{api}/predictions/{prediction.id}/cancel"
    assert prediction.urls.stream == f"{api}/predictions/{prediction.id}/stream"
    assert prediction.urls.web.startswith(f"{env.base}{prefix}/")
    # the urls are usable as given, and the other prefix sees the same prediction
    assert env.client.get(prediction.urls.get).json()["id"] == prediction.id
    other = "/replicate" if prefix == "" else ""
    assert env.get(prediction.id, other)["id"] == prediction.id


def test_model_path_create_for_official_model(env: Env) -> None:
    response = env.client.post(
        "/replicate/v1/models/black-forest-labs/flux-schnell/predictions",
        json={"input": {"prompt": "a fox"}},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["model"] == "black-forest-labs/flux-schnell"
    assert body["version"] == "hidden"
    # owner/name is accepted as version for a model called by path
    response = env.create({"prompt": "a fox"}, version="black-forest-labs/flux-schnell")
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "version",
    [SDXL.version, SDXL_VERSION],
    ids=["bare-id", "owner-name-id"],
)
def test_version_forms(env: Env, version: str) -> None:
    response = env.create({"prompt": "x"}, version=version)
    assert response.status_code == 201, response.text
    assert response.json()["model"] == "stability-ai/sdxl"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic abc"}],
    ids=["missing", "wrong", "wrong-scheme"],
)
def test_401_problem_details(env: Env, headers: dict[str, str]) -> None:
    client = httpx.Client(base_url=env.base, headers=headers)
    try:
        response = client.get("/v1/predictions")
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json() == UNAUTH
        assert "wrong-token" not in response.text
        created = client.post("/replicate/v1/predictions", json={})
        assert created.status_code == 401
    finally:
        client.close()


def test_404_problem_details(env: Env) -> None:
    cases = [
        env.client.get("/v1/predictions/doesnotexist"),
        env.client.post("/v1/predictions/doesnotexist/cancel"),
        env.client.post("/v1/models/nobody/nothing/predictions", json={"input": {}}),
        env.create({"prompt": "x"}, version="nobody/nothing:" + "a" * 64),
        env.create({"prompt": "x"}, version="stability-ai/sdxl:" + "b" * 64),
        env.create({"prompt": "x"}, version="c" * 64),
        env.client.get("/v1/models/nobody/nothing"),
        env.client.get(f"/v1/models/stability-ai/sdxl/versions/{'d' * 64}"),
        env.client.get("/v1/no-such-endpoint"),
    ]
    for response in cases:
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = ProblemDetails.model_validate(response.json())
        assert problem.status == 404
        assert problem.title == "Not found"
        assert problem.detail


def _fields(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 422 and body["title"] and body["detail"]
    return {f["field"]: f["description"] for f in body["invalid_fields"]}


def test_422_names_each_invalid_input_field(env: Env) -> None:
    response = env.create(
        {"prompt": 42, "width": "wide", "num_outputs": 9, "scheduler": "NOPE", "image": "not a url"}
    )
    fields = _fields(response)
    assert set(fields) == {
        "input.prompt",
        "input.width",
        "input.num_outputs",
        "input.scheduler",
        "input.image",
    }
    assert "integer" in fields["input.width"]


def test_422_missing_required_input_and_body_keys(env: Env) -> None:
    response = env.client.post(
        "/v1/models/black-forest-labs/flux-schnell/predictions",
        json={"input": {"aspect_ratio": "1:1"}, "version": "x", "colour": "red"},
    )
    fields = _fields(response)
    assert set(fields) == {"input.prompt", "version", "colour"}
    response = env.client.post("/v1/predictions", json={"input": {"prompt": "x"}})
    assert set(_fields(response)) == {"version"}
    response = env.client.post("/v1/predictions", json={"version": SDXL_VERSION})
    assert set(_fields(response)) == {"input"}
    response = env.create(
        {"prompt": "x"}, webhook="ftp://nope", webhook_events_filter=["start", "never"]
    )
    assert set(_fields(response)) == {"webhook", "webhook_events_filter"}


def test_422_versioned_model_needs_its_version(env: Env) -> None:
    fields = _fields(env.create({"prompt": "x"}, version="stability-ai/sdxl"))
    assert set(fields) == {"version"}
    assert SDXL.version is not None and SDXL.version in fields["version"]


@pytest.mark.parametrize(
    "header,value",
    [("Prefer", "wait=0"), ("Prefer", "wait=61"), ("Cancel-After", "3s"), ("Cancel-After", "soon")],
)
def test_422_bad_headers(env: Env, header: str, value: str) -> None:
    assert set(_fields(env.create({"prompt": "x"}, headers={header: value}))) == {header}


def test_data_uri_and_url_inputs_are_accepted(env: Env) -> None:
    response = env.create(
        {"image": "data:image/png;base64,iVBORw0KGgo=", "mask": "https://example.com/mask.png"}
    )
    assert response.status_code == 201, response.text


def test_models_get_and_versions_get_carry_openapi_schema(env: Env) -> None:
    for info in (SDXL, FLUX):
        response = env.client.get(f"/replicate/v1/models/{info.ref}")
        assert response.status_code == 200, response.text
        model = Model.model_validate(response.json())
        assert (model.owner, model.name) == (info.owner, info.name)
        assert model.latest_version is not None
        version_id = model.latest_version["id"]
        if info.version:
            assert version_id == info.version
        response = env.client.get(f"/v1/models/{info.ref}/versions/{version_id}")
        assert response.status_code == 200, response.text
        version = ModelVersion.model_validate(response.json())
        assert version.id == version_id
        assert version.openapi_schema == model.latest_version["openapi_schema"]
        schemas = version.openapi_schema["components"]["schemas"]  # type: ignore[index]
        # $defs went back under components.schemas, and the refs point there
        for name, sub in info.input_schema.get("$defs", {}).items():
            assert schemas[name] == sub
        text = json.dumps(schemas["Input"])
        assert "#/$defs/" not in text
        restored = json.loads(text.replace("#/components/schemas/", "#/$defs/"))
        expected = {k: v for k, v in info.input_schema.items() if k != "$defs"}
        assert restored == expected
        assert schemas["Output"] == info.output_schema


def test_path_model_version_id_is_usable(env: Env) -> None:
    version_id = env.client.get(f"/v1/models/{FLUX.ref}").json()["latest_version"]["id"]
    response = env.create({"prompt": "x"}, version=f"{FLUX.ref}:{version_id}")
    assert response.status_code == 201, response.text
    assert response.json()["model"] == FLUX.ref


def test_webhook_secret(env: Env) -> None:
    response = env.client.get("/replicate/v1/webhooks/default/secret")
    assert response.status_code == 200
    assert response.json() == {"key": env.backend.config.webhook_secret}
    assert response.json()["key"].startswith("whsec_")


def _multipart(env: Env, content: bytes, **fields: str) -> httpx.Response:
    return env.client.post(
        "/v1/files",
        files={"content": ("upload.bin", content, "application/octet-stream")},
        data=fields,
    )


def test_files_create(env: Env) -> None:
    response = _multipart(
        env,
        b"hello world",
        filename="hello.txt",
        type="text/plain",
        metadata=json.dumps({"customer_reference_id": 123}),
    )
    assert response.status_code == 201, response.text
    file = File.model_validate(response.json())
    assert file.size == 11
    assert file.content_type == "text/plain"
    assert file.metadata == {"customer_reference_id": 123}
    assert file.checksums.sha256 == (
        "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
    )
    assert file.expires_at > file.created_at
    assert file.urls.get is not None and file.urls.get.startswith(env.base)
    assert env.client.get(file.urls.get).json()["id"] == file.id
    download = env.client.get(f"{file.urls.get}/download")
    assert download.content == b"hello world"
    # the file's URL is a valid uri input
    assert env.create({"image": file.urls.get}).status_code == 201


def test_files_create_requires_content(env: Env) -> None:
    response = env.client.post("/v1/files", files={"other": ("a", b"x")})
    assert set(_fields(response)) == {"content"}


def test_files_create_413_over_the_limit(make_env: Callable[..., Env]) -> None:
    env = make_env(max_upload_bytes=1024)
    assert _multipart(env, b"x" * 1024).status_code == 201
    response = _multipart(env, b"x" * 1025)
    assert response.status_code == 413
    assert response.json()["status"] == 413
    # far over the limit (beyond what the server reads): still a clean 413
    response = _multipart(env, b"y" * (1024 * 1024 + 300_000))
    assert response.status_code == 413


def test_secrets_stay_out_of_reprs() -> None:
    config = MockConfig(api_tokens=(TOKEN,), webhook_secret="whsec_c2VjcmV0c2VjcmV0")
    backend = MockBackend(config)
    for text in (repr(config), repr(backend), str(config)):
        assert TOKEN not in text
        assert "c2VjcmV0c2VjcmV0" not in text


def test_token_is_never_echoed(env: Env) -> None:
    response = env.client.get("/v1/predictions", headers={"Authorization": "Bearer sekrit-123"})
    assert response.status_code == 401
    assert "sekrit-123" not in response.text
    assert all("sekrit-123" not in v for v in response.headers.values())


def test_every_generated_model_is_served(env: Env) -> None:
    assert len(registry) >= 1
    for ref in registry:
        response = env.client.get(f"/v1/models/{ref}")
        assert response.status_code == 200, (ref, response.text)
    assert AUTH["Authorization"].endswith(TOKEN)


@pytest.mark.parametrize("strict", [False, True])
def test_unknown_input_keys(make_env: Callable[..., Env], strict: bool) -> None:
    env = make_env(reject_unknown_inputs=strict)
    response = env.create({"prompt": "x", "colour": "red"})
    if strict:
        assert set(_fields(response)) == {"input.colour"}
    else:
        assert response.status_code == 201  # the published schemas allow extra keys


def test_files_create_defaults_from_the_content_part(env: Env) -> None:
    response = env.client.post(
        "/v1/files", files={"content": ("cat.png", b"\x89PNG\r\n\x1a\nrest", "image/png")}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "cat.png"
    assert body["content_type"] == "image/png"
    assert body["size"] == 12
    assert body["metadata"] == {}
    bad = env.client.post(
        "/v1/files", files={"content": ("a", b"x")}, data={"metadata": "not json"}
    )
    assert set(_fields(bad)) == {"metadata"}
