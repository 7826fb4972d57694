"""Trainings end to end at the HTTP level (real server and respx): a trainer version, an account
destination model, the lifecycle, and the version a success adds to the destination."""

from __future__ import annotations

import re
from typing import Any

import pytest

from contract_tests.mock.conftest import Env
from replicate_typed.core.training import TrainingOutput
from replicate_typed.models import registry
from replicate_typed.models.ostris import flux_dev_lora_trainer as trainer

TRAINER = registry["ostris/flux-dev-lora-trainer"]
TRAININGS = f"/v1/models/{TRAINER.ref}/versions/{TRAINER.version}/trainings"
ZIP = "https://example.com/my-input-images.zip"


def make_model(env: Env, name: str = "my-lora") -> str:
    owner = env.client.get("/v1/account").json()["username"]
    made = env.client.post(
        "/v1/models",
        json={"owner": owner, "name": name, "visibility": "private", "hardware": "gpu-t4"},
    )
    assert made.status_code == 201, made.text
    return f"{owner}/{name}"


def train(env: Env, destination: str, **input: Any) -> dict[str, Any]:
    body = {"destination": destination, "input": {"input_images": ZIP, **input}}
    response = env.client.post(TRAININGS, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def test_the_trainer_publishes_its_training_input() -> None:
    assert TRAINER.training is trainer.TRAINING
    assert trainer.TrainingInput.__model_info__ is trainer.TRAINING
    assert trainer.TRAINING.version == TRAINER.version
    assert trainer.TRAINING_INPUT_SCHEMA["required"] == ["input_images"]


def test_a_training_succeeds_and_adds_a_version_to_the_destination(env: Env) -> None:
    destination = make_model(env)
    typed = trainer.TrainingInput(input_images=ZIP, steps=500, lora_rank=32)
    created = env.client.post(
        TRAININGS, json={"destination": destination, "input": typed.to_request_input()}
    )
    assert created.status_code == 201, created.text
    training = created.json()
    assert training["status"] == "starting" and training["output"] is None
    assert training["model"] == TRAINER.ref and training["version"] == TRAINER.version
    assert training["input"] == {"input_images": ZIP, "steps": 500, "lora_rank": 32}
    assert training["urls"]["get"].endswith(f"/v1/trainings/{training['id']}")
    assert training["urls"]["cancel"].endswith(f"/v1/trainings/{training['id']}/cancel")
    versions = f"/v1/models/{destination}/versions"
    assert env.client.get(versions).json()["results"] == []  # nothing until it succeeds
    env.clock.advance(5)
    done = env.client.get(f"/v1/trainings/{training['id']}").json()
    assert done["status"] == "succeeded"
    output = trainer.TRAINING.parse_output(done["output"])
    assert isinstance(output, TrainingOutput)
    assert output.version is not None and output.version.startswith(f"{destination}:")
    assert re.fullmatch(r"[0-9a-f]{64}", output.version_id or "")
    assert done["metrics"]["predict_time"] > 0
    # the destination model has the new version, everywhere it is shown
    listed = env.client.get(versions).json()["results"]
    assert [v["id"] for v in listed] == [output.version_id]
    got = env.client.get(f"{versions}/{output.version_id}")
    assert (
        got.status_code == 200
        and "TrainingInput" in got.json()["openapi_schema"]["components"]["schemas"]
    )
    model = env.client.get(f"/v1/models/{destination}").json()
    assert model["latest_version"]["id"] == output.version_id
    # the weights are a file the mock serves
    assert output.weights is not None
    weights = env.client.get(str(output.weights))
    assert weights.status_code == 200 and weights.headers["content-type"] == "application/x-tar"


def test_the_new_version_runs_and_can_be_deleted(env: Env) -> None:
    destination = make_model(env)
    training = train(env, destination)
    env.clock.advance(5)
    version = env.client.get(f"/v1/trainings/{training['id']}").json()["output"]["version"]
    prediction = env.client.post(
        "/v1/predictions", json={"version": version, "input": {"prompt": "TOK at sea"}}
    )
    assert prediction.status_code == 201, prediction.text
    vid = version.split(":")[1]
    assert env.client.delete(f"/v1/models/{destination}/versions/{vid}").status_code == 202
    assert env.client.get(f"/v1/models/{destination}/versions").json()["results"] == []
    assert env.client.get(f"/v1/models/{destination}/versions/{vid}").status_code == 404
    assert env.client.delete(f"/v1/models/{destination}").status_code == 204


def test_list_get_and_cancel(env: Env) -> None:
    destination = make_model(env)
    first = train(env, destination)
    second = env.client.post(
        TRAININGS,
        json={"destination": destination, "input": {"input_images": ZIP}},
        headers={"X-Mock-Timing": "60,60"},
    ).json()
    listed = env.client.get("/v1/trainings").json()
    assert [t["id"] for t in listed["results"]] == [second["id"], first["id"]]
    canceled = env.client.post(f"/v1/trainings/{second['id']}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    env.clock.advance(120)
    assert env.client.get(f"/v1/trainings/{second['id']}").json()["status"] == "canceled"
    assert env.client.get(f"/v1/trainings/{second['id']}").json()["output"] is None
    # only the first training made a version
    versions = env.client.get(f"/v1/models/{destination}/versions").json()["results"]
    assert len(versions) == 1
    missing = env.client.get("/v1/trainings/nope")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_a_failed_training_adds_no_version(env: Env) -> None:
    destination = make_model(env)
    failed = env.client.post(
        TRAININGS,
        json={"destination": destination, "input": {"input_images": ZIP}},
        headers={"X-Mock-Outcome": "failed"},
    ).json()
    env.clock.advance(5)
    got = env.client.get(f"/v1/trainings/{failed['id']}").json()
    assert got["status"] == "failed" and got["error"] and got["output"] is None
    assert env.client.get(f"/v1/models/{destination}/versions").json()["results"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"input": {"input_images": ZIP}}, "destination"),
        ({"destination": "mock-user/x"}, "input"),
        ({"destination": "mock-user/x", "input": {}}, "input.input_images"),
        ({"destination": "mock-user/x", "input": {"input_images": ZIP, "steps": 1}}, "input.steps"),
        (
            {"destination": "mock-user/x", "input": {"input_images": ZIP, "steps": "9"}},
            "input.steps",
        ),
        ({"destination": "no-slash", "input": {"input_images": ZIP}}, "destination"),
        ({"destination": "mock-user/x", "input": {"input_images": ZIP}, "x": 1}, "x"),
    ],
)
def test_a_bad_training_is_a_422_naming_the_field(
    env: Env, body: dict[str, Any], field: str
) -> None:
    make_model(env, "x")
    response = env.client.post(TRAININGS, json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [f["field"] for f in response.json()["invalid_fields"]]


def test_the_destination_must_be_an_account_model(env: Env) -> None:
    body = {"input": {"input_images": ZIP}}
    missing = env.client.post(TRAININGS, json={**body, "destination": "mock-user/absent"})
    assert missing.status_code == 404
    served = env.client.post(TRAININGS, json={**body, "destination": "stability-ai/sdxl"})
    assert served.status_code == 403


def test_only_a_trainer_version_trains(env: Env) -> None:
    destination = make_model(env)
    sdxl = registry["stability-ai/sdxl"]
    response = env.client.post(
        f"/v1/models/{sdxl.ref}/versions/{sdxl.version}/trainings",
        json={"destination": destination, "input": {"input_images": ZIP}},
    )
    assert response.status_code == 422
    assert [f["field"] for f in response.json()["invalid_fields"]] == ["version"]
    wrong = env.client.post(
        f"/v1/models/{TRAINER.ref}/versions/{'0' * 64}/trainings",
        json={"destination": destination, "input": {"input_images": ZIP}},
    )
    assert wrong.status_code == 404


def test_a_training_webhook_carries_the_training(env: Env, receiver: Any) -> None:
    hook = receiver(env)
    destination = make_model(env)
    training = train(env, destination)
    response = env.client.post(
        TRAININGS,
        json={
            "destination": destination,
            "input": {"input_images": ZIP},
            "webhook": hook.url,
            "webhook_events_filter": ["completed"],
        },
    )
    assert response.status_code == 201
    env.clock.advance(5)
    ((_, body),) = hook.wait_for(1)
    import json

    delivered = json.loads(body)
    assert delivered["id"] == response.json()["id"] != training["id"]
    assert delivered["status"] == "succeeded"
    assert delivered["output"]["version"].startswith(f"{destination}:")
