"""Models (served and the account's), versions, readme, examples, collections, hardware, account
and search, at the HTTP level (real server and respx), with one consistent state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contract_tests.mock.conftest import FLUX, SDXL, Env
from replicate_typed.core.refs import is_model_ref
from replicate_typed.mock.catalog import ACCOUNT, NAME
from replicate_typed.models import registry

ROOT = Path(__file__).resolve().parents[2]
MODEL = {
    "owner": "mock-user",
    "name": "hot-dog-detector",
    "description": "Detect hot dogs in images",
    "visibility": "public",
    "hardware": "cpu",
}
PATH = "/v1/models/mock-user/hot-dog-detector"


def test_models_create_get_list_update_delete(env: Env) -> None:
    made = env.client.post("/v1/models", json=MODEL)
    assert made.status_code == 201, made.text
    model = made.json()
    assert model["url"] == "https://replicate.com/mock-user/hot-dog-detector"
    assert model["latest_version"] is None and model["run_count"] == 0
    assert env.client.get(PATH).json() == model
    again = env.client.post("/v1/models", json=MODEL)
    assert again.status_code == 409
    listed = env.client.get("/v1/models", params={"sort_by": "model_created_at"}).json()
    assert listed["results"][0]["name"] == "hot-dog-detector"  # newest created first
    refs = {f"{m['owner']}/{m['name']}" for m in listed["results"]}
    assert refs == {*registry, "mock-user/hot-dog-detector"}
    update = {"description": "Hot dogs, found", "readme": "# Hot Dog Detector\n\nKetchup."}
    updated = env.client.patch(PATH, json={**update, "github_url": "https://github.com/a/b"})
    assert updated.status_code == 200, updated.text
    assert updated.json()["description"] == "Hot dogs, found"
    assert updated.json()["github_url"] == "https://github.com/a/b"
    readme = env.client.get(f"{PATH}/readme")
    assert readme.status_code == 200 and readme.text == update["readme"]
    assert readme.headers["content-type"].startswith("text/plain")
    assert env.client.get(f"{PATH}/versions").json()["results"] == []
    assert env.client.delete(PATH).status_code == 204
    assert env.client.get(PATH).status_code == 404
    assert env.client.get(f"{PATH}/readme").status_code == 404


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"owner": "someone-else"}, 403, None),
        ({"name": "Bad Name"}, 422, "name"),
        ({"visibility": "secret"}, 422, "visibility"),
        ({"hardware": "gpu-none"}, 422, "hardware"),
        ({"github_url": "ftp://x"}, 422, "github_url"),
        ({"unknown": 1}, 422, "unknown"),
    ],
)
def test_a_bad_model_is_refused(
    env: Env, changes: dict[str, Any], status: int, field: str | None
) -> None:
    response = env.client.post("/v1/models", json={**MODEL, **changes})
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field:
        assert field in [f["field"] for f in response.json()["invalid_fields"]]


def test_served_models_are_not_the_accounts(env: Env) -> None:
    path = f"/v1/models/{SDXL.ref}"
    assert env.client.patch(path, json={"description": "x"}).status_code == 403
    assert env.client.delete(path).status_code == 403
    assert env.client.delete(f"{path}/versions/{SDXL.version}").status_code == 403
    versions = env.client.get(f"{path}/versions").json()["results"]
    assert [v["id"] for v in versions] == [SDXL.version]
    readme = env.client.get(f"{path}/readme")
    assert readme.status_code == 200 and SDXL.ref in readme.text


def test_models_search_is_a_query_request_with_a_text_body(env: Env) -> None:
    found = env.client.request(
        "QUERY", "/v1/models", content=b"flux", headers={"content-type": "text/plain"}
    )
    assert found.status_code == 200, found.text
    names = {f"{m['owner']}/{m['name']}" for m in found.json()["results"]}
    assert FLUX.ref in names and SDXL.ref not in names
    quoted = env.client.request("QUERY", "/v1/models", content=b'"flux"')  # the JS client's
    assert quoted.json()["results"] == found.json()["results"]
    empty = env.client.request("QUERY", "/v1/models", content=b' "" ')
    assert empty.status_code == 422
    assert empty.headers["content-type"] == "application/problem+json"


def test_models_list_sorts_and_pages(make_env: Any) -> None:
    env = make_env(page_size=3)
    pages, url = [], "/v1/models?sort_direction=asc&sort_by=model_created_at"
    while url:
        page = env.client.get(url).json()
        pages.append(page)
        url = page["next"]
    names = [f"{m['owner']}/{m['name']}" for p in pages for m in p["results"]]
    assert names == sorted(registry) and all(len(p["results"]) <= 3 for p in pages)
    assert pages[1]["previous"] is not None


def test_examples_are_succeeded_predictions(env: Env) -> None:
    model = registry["lucataco/flux-dev-lora"]
    examples = env.client.get(f"/v1/models/{model.ref}/examples").json()
    assert len(examples["results"]) == len(model.examples) > 0
    first = examples["results"][0]
    assert first["status"] == "succeeded" and first["input"] == model.examples[0]["input"]
    assert first["model"] == model.ref and first["output"]


def test_collections_hardware_account(env: Env) -> None:
    collections = env.client.get("/v1/collections").json()["results"]
    slugs = [c["slug"] for c in collections]
    assert "lora-trainers" in slugs
    trainers = env.client.get("/v1/collections/lora-trainers").json()
    assert [f"{m['owner']}/{m['name']}" for m in trainers["models"]] == [
        "ostris/flux-dev-lora-trainer"
    ]
    assert env.client.get("/v1/collections/nope").status_code == 404
    hardware = env.client.get("/v1/hardware").json()
    assert {"name": "Nvidia T4 GPU", "sku": "gpu-t4"} in hardware
    account = env.client.get("/v1/account").json()
    assert account["type"] in ("user", "organization") and account["username"]


def test_search(env: Env) -> None:
    found = env.client.get("/v1/search", params={"query": "flux", "limit": 2}).json()
    assert found["query"] == "flux" and len(found["models"]) == 2
    assert all("flux" in m["model"]["name"] for m in found["models"])
    assert found["models"][0]["metadata"]["score"] >= found["models"][1]["metadata"]["score"]
    bad: list[dict[str, str]] = [
        {},
        {"query": "x", "limit": "0"},
        {"query": "x", "limit": "51"},
        {"query": "x", "limit": "a"},
    ]
    for params in bad:
        refused = env.client.get("/v1/search", params=params)
        assert refused.status_code == 422, params
        assert refused.headers["content-type"] == "application/problem+json"


def test_every_answer_keeps_to_the_documents_schemas(env: Env) -> None:
    """The 2xx JSON answers of the catalogue validate against Replicate's own document."""
    import jsonschema

    doc = json.loads((ROOT / "contract_tests/fixtures/upstream/replicate-openapi.json").read_text())

    def check(method: str, path: str, template: str, status: int = 200, **kw: Any) -> None:
        response = env.client.request(method, path, **kw)
        assert response.status_code == status, response.text
        op = doc["paths"][template][method.lower()]
        schema = op["responses"][str(status)]["content"]["application/json"]["schema"]
        resolver_doc = {**schema, "components": doc["components"]}
        jsonschema.validate(response.json(), _nullable(resolver_doc))

    env.client.post("/v1/models", json=MODEL)
    check("GET", "/v1/models", "/models")
    check("GET", PATH, "/models/{model_owner}/{model_name}")
    check("GET", "/v1/collections", "/collections")
    check("GET", "/v1/collections/official", "/collections/{collection_slug}")
    check("GET", "/v1/hardware", "/hardware")
    check("GET", "/v1/account", "/account")
    check("GET", "/v1/search?query=sdxl", "/search")
    check("GET", f"/v1/models/{SDXL.ref}/versions", "/models/{model_owner}/{model_name}/versions")


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` as JSON Schema (``type`` also admits null)."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


@settings(max_examples=200, deadline=None)
@given(name=st.from_regex(NAME, fullmatch=True))
def test_every_name_a_create_accepts_makes_a_valid_reference(name: str) -> None:
    """The create-time name rule is within the one reference rule (core.refs)."""
    assert is_model_ref(f"{ACCOUNT['username']}/{name}")
