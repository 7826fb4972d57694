"""Deployments end to end at the HTTP level (real server and respx): create, get, list, update
(a new release each time), predictions through a deployment, delete."""

from __future__ import annotations

from typing import Any

import pytest

from contract_tests.mock.conftest import SDXL, Env

BODY: dict[str, Any] = {
    "name": "my-app-image-generator",
    "model": SDXL.ref,
    "version": SDXL.version,
    "hardware": "gpu-t4",
    "min_instances": 0,
    "max_instances": 3,
}
PATH = "/v1/deployments/mock-user/my-app-image-generator"


def create(env: Env, **changes: Any) -> dict[str, Any]:
    response = env.client.post("/v1/deployments", json={**BODY, **changes})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def test_create_get_list_update_delete(env: Env) -> None:
    made = create(env)
    owner = env.client.get("/v1/account").json()["username"]
    assert made["owner"] == owner and made["name"] == BODY["name"]
    release = made["current_release"]
    assert release["number"] == 1 and release["model"] == SDXL.ref
    assert release["version"] == SDXL.version
    assert release["configuration"] == {
        "hardware": "gpu-t4",
        "min_instances": 0,
        "max_instances": 3,
    }
    assert release["created_by"]["username"] == owner
    assert env.client.get(PATH).json() == made
    other = create(env, name="second")
    listed = env.client.get("/v1/deployments").json()
    assert [d["name"] for d in listed["results"]] == [other["name"], made["name"]]
    updated = env.client.patch(PATH, json={"min_instances": 1, "max_instances": 10})
    assert updated.status_code == 200, updated.text
    assert updated.json()["current_release"]["number"] == 2
    assert updated.json()["current_release"]["configuration"]["max_instances"] == 10
    same = env.client.patch(PATH, json={"max_instances": 10})  # no change: no new release
    assert same.json()["current_release"]["number"] == 2
    assert env.client.delete(PATH).status_code == 204
    gone = env.client.get(PATH)
    assert gone.status_code == 404 and gone.headers["content-type"] == "application/problem+json"
    assert [d["name"] for d in env.client.get("/v1/deployments").json()["results"]] == ["second"]


def test_predictions_run_like_version_predictions_and_carry_the_deployment(env: Env) -> None:
    create(env)
    created = env.client.post(f"{PATH}/predictions", json={"input": {"prompt": "a cat"}})
    assert created.status_code == 201, created.text
    prediction = created.json()
    assert prediction["deployment"] == "mock-user/my-app-image-generator"
    assert prediction["model"] == SDXL.ref and prediction["version"] == SDXL.version
    env.clock.advance(5)
    done = env.get(prediction["id"])
    assert done["status"] == "succeeded" and done["output"]
    assert done["deployment"] == prediction["deployment"]
    listed = env.client.get("/v1/predictions").json()["results"]
    assert prediction["id"] in [p["id"] for p in listed]
    held = env.client.post(
        f"{PATH}/predictions", json={"input": {"prompt": "a cat"}}, headers={"Prefer": "wait=5"}
    )
    assert held.status_code == 201 and held.json()["status"] == "succeeded"
    bad = env.client.post(f"{PATH}/predictions", json={"input": {"width": "wide"}})
    assert bad.status_code == 422
    assert [f["field"] for f in bad.json()["invalid_fields"]] == ["input.width"]
    versioned = env.client.post(f"{PATH}/predictions", json={"version": SDXL.version, "input": {}})
    assert versioned.status_code == 422  # the deployment decides the version
    missing = env.client.post("/v1/deployments/mock-user/nope/predictions", json={"input": {}})
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"hardware": "gpu-none"}, "hardware"),
        ({"min_instances": 6}, "min_instances"),
        ({"max_instances": -1}, "max_instances"),
        ({"max_instances": True}, "max_instances"),
        ({"min_instances": 3, "max_instances": 2}, "min_instances"),
        ({"version": "0" * 64}, "version"),
        ({"name": "Not A Name"}, "name"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_bad_deployment_is_a_422_naming_the_field(
    env: Env, changes: dict[str, Any], field: str
) -> None:
    response = env.client.post("/v1/deployments", json={**BODY, **changes})
    assert response.status_code == 422, response.text
    assert field in [f["field"] for f in response.json()["invalid_fields"]]


def test_missing_fields_and_conflicts(env: Env) -> None:
    empty = env.client.post("/v1/deployments", json={})
    assert empty.status_code == 422
    assert {f["field"] for f in empty.json()["invalid_fields"]} == set(BODY)
    create(env)
    again = env.client.post("/v1/deployments", json=BODY)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    bad_update = env.client.patch(PATH, json={"min_instances": 9})
    assert bad_update.status_code == 422


def test_a_deployed_trained_version_cannot_be_deleted(env: Env) -> None:
    from contract_tests.mock.test_trainings import make_model, train

    destination = make_model(env)
    training = train(env, destination)
    env.clock.advance(5)
    version = env.client.get(f"/v1/trainings/{training['id']}").json()["output"]["version"]
    vid = version.split(":")[1]
    create(env, model=destination, version=vid)
    run = env.client.post(f"{PATH}/predictions", json={"input": {"prompt": "TOK"}})
    assert run.status_code == 201, run.text
    assert run.json()["model"] == destination and run.json()["version"] == vid
    refused = env.client.delete(f"/v1/models/{destination}/versions/{vid}")
    assert refused.status_code == 409
    assert env.client.delete(PATH).status_code == 204
    assert env.client.delete(f"/v1/models/{destination}/versions/{vid}").status_code == 202
