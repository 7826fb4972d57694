"""The official JavaScript client (npm ``replicate``, the version pinned in package.json) against
our mock, through ``driver.mjs`` run by ``node``: what a JS user of the real API does must work
unchanged with ``baseUrl`` pointed at the mock (plain and router-prefixed)."""

from __future__ import annotations

import hashlib
import json
import math

import pytest

from contract_tests.interop.conftest import (
    FLUX,
    IMG2IMG,
    PAGE_SIZE,
    PNG_MAGIC,
    SDXL,
    SLOW,
    TOKEN,
    Mock,
    Node,
    b64,
    png_bytes,
)
from contract_tests.mock.conftest import Receiver
from replicate_typed.models import registry

# drives the official JavaScript client under node: `make test-slow` (CI runs it)
pytestmark = pytest.mark.slow

PREFIXES = ["", "/replicate"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_run_by_version(node: Node, mock: Mock, prefix: str) -> None:
    base = f"{mock.url}{prefix}"
    result = node.run(
        "run-by-version",
        f"{base}/v1",
        model=SDXL.ref,
        version=SDXL.version,
        input={"prompt": "a lighthouse"},
    )
    assert result["png"] == PNG_MAGIC
    assert all(url.startswith(f"{base}/files/") for url in result["output"])
    stats = mock.backend.stats()["operations"]
    assert stats["predictions.create"] == 1


def test_run_by_model_path(node: Node, mock: Mock) -> None:
    result = node.run(
        "run-by-model",
        f"{mock.url}/v1",
        model=FLUX.ref,
        input={"prompt": "a fox", "num_outputs": 2, "output_format": "png"},
    )
    assert len(result["output"]) == 2 and result["png"] == PNG_MAGIC
    assert mock.backend.stats()["operations"]["models.predictions.create"] == 1


def test_a_file_input_is_uploaded_through_files_create(node: Node, mock: Mock) -> None:
    result = node.run(
        "run-with-a-file-input",
        f"{mock.url}/v1",
        model=IMG2IMG.ref,
        version=IMG2IMG.version,
        input={"prompt": "a cat"},
        image_base64=b64(png_bytes()),
    )
    assert result["output"]
    operations = mock.backend.stats()["operations"]
    assert operations["files.create"] == 1
    (prediction,) = mock.backend._order
    assert prediction.input["image"].startswith(f"{mock.url}/v1/files/")


def test_create_get_wait_cancel(node: Node, mock: Mock) -> None:
    result = node.run(
        "lifecycle",
        f"{mock.url}/replicate/v1",
        version=SDXL.version,
        slow_version=SLOW.version,
        path_model=FLUX.ref,
        input={"prompt": "x"},
    )
    created, fetched, done = result["created"], result["fetched"], result["done"]
    assert created["status"] == "starting" and fetched["id"] == created["id"]
    assert created["urls"]["get"] == f"{mock.url}/replicate/v1/predictions/{created['id']}"
    assert done["status"] == "succeeded" and done["output"]
    assert result["canceled"]["status"] == "canceled"
    assert result["by_model"]["status"] == "succeeded"  # Prefer: wait held until done
    assert result["missing"] == {"name": "ApiError", "status": 404}


def test_list_follows_pages(node: Node, mock: Mock) -> None:
    made = [
        node.run(
            "lifecycle",
            f"{mock.url}/v1",
            version=SDXL.version,
            slow_version=SLOW.version,
            path_model=FLUX.ref,
            input={"prompt": str(i)},
        )  # fmt: skip
        for i in range(2)
    ]
    total = len(mock.backend._order)
    assert total == 6  # three creates per lifecycle
    pages = node.run("list-predictions", f"{mock.url}/v1")["pages"]
    assert len(pages) == math.ceil(total / PAGE_SIZE)
    assert all(len(page) <= PAGE_SIZE for page in pages)
    flat = [pid for page in pages for pid in page]
    assert flat == [p.id for p in reversed(mock.backend._order)]  # newest first, none twice
    assert {m["created"]["id"] for m in made} <= set(flat)


def test_stream(node: Node, mock: Mock) -> None:
    events = node.run("stream", f"{mock.url}/v1", model=FLUX.ref, input={"prompt": "x"})["events"]
    names = [e["event"] for e in events]
    assert names[-1] == "done" and "output" in names
    outputs = [json.loads(e["data"]) for e in events if e["event"] == "output"]
    assert any(isinstance(o, list) and o[0].startswith(f"{mock.url}/files/") for o in outputs)


def test_files_create_get_list_delete(node: Node, mock: Mock) -> None:
    for i in range(3):  # more than a page: list must follow `next`
        mock.backend.handle(
            "POST",
            "/v1/files",
            {"authorization": f"Bearer {TOKEN}", "content-type": "multipart/form-data; boundary=b"},
            {},
            f'--b\r\nContent-Disposition: form-data; name="content"; filename="{i}.txt"\r\n\r\n'
            f"{i}\r\n--b--\r\n".encode(),
        )
    result = node.run("files", f"{mock.url}/v1", content="hello interop")
    created = result["created"]
    assert created["size"] == len(b"hello interop")
    assert created["etag"] == hashlib.md5(b"hello interop").hexdigest()
    assert created["metadata"] == {"purpose": "interop"}  # sent as a JSON blob part
    assert result["fetched"] == created
    pages = result["pages"]
    assert len(pages) == 2 and pages[0][0] == created["id"]
    assert sum(len(p) for p in pages) == 4
    assert result["deleted"] is True
    assert result["after_delete"] == {"name": "ApiError", "status": 404}


def test_models_versions_list(node: Node, mock: Mock) -> None:
    result = node.run("versions", f"{mock.url}/v1", model=SDXL.ref)
    assert [v["id"] for v in result["page"]["results"]] == [SDXL.version]
    assert result["page"]["next"] is None
    assert result["version_id"] == result["latest"] == SDXL.version


def test_webhook_secret_and_signatures(node: Node, mock: Mock, receiver: Receiver) -> None:
    created = node.run(
        "create-with-webhook",
        f"{mock.url}/v1",
        version=SDXL.version,
        input={"prompt": "x"},
        webhook=receiver.url,
    )
    ((headers, payload),) = receiver.wait_for(1)
    assert json.loads(payload)["id"] == created["id"]
    genuine = {"headers": headers, "body": payload.decode()}
    tampered = {"headers": headers, "body": payload.decode().replace("succeeded", "failed")}
    result = node.run("webhook-secret", f"{mock.url}/v1", deliveries=[genuine, tampered])
    assert result["key"] == mock.backend.config.webhook_secret
    assert result["verdicts"] == [True, False]


def test_a_bad_token_is_refused(node: Node, mock: Mock) -> None:
    result = node.run("bad-token", f"{mock.url}/v1")
    assert result["error"] == {"name": "ApiError", "status": 401}


# --- the rest of the API: every call the JS client has, in a realistic order -----------------------

TRAINER = registry["ostris/flux-dev-lora-trainer"]


@pytest.mark.parametrize("prefix", PREFIXES)
def test_account_hardware_collections(node: Node, mock: Mock, prefix: str) -> None:
    result = node.run("account-hardware-collections", f"{mock.url}{prefix}/v1")
    assert result["account"]["username"] == "mock-user"
    assert {"cpu", "gpu-t4"} <= set(result["skus"])
    assert "lora-trainers" in result["slugs"] and len(result["slugs"]) > PAGE_SIZE
    assert result["trainer_models"] == [TRAINER.ref]


def test_models_create_get_list_search(node: Node, mock: Mock) -> None:
    result = node.run("models", f"{mock.url}/v1", query="flux")
    assert result["created"]["name"] == "hot-dog-detector"
    assert result["fetched"]["description"] == "Hot dogs"
    assert "mock-user/hot-dog-detector" in result["names"]
    assert len(result["names"]) == len(registry) + 1  # every page
    assert FLUX.ref in result["found"]
    assert mock.backend.stats()["operations"]["models.search"] == 1


@pytest.mark.parametrize("prefix", PREFIXES)
def test_trainings_create_get_cancel_list(node: Node, mock: Mock, prefix: str) -> None:
    result = node.run(
        "trainings",
        f"{mock.url}{prefix}/v1",
        trainer=TRAINER.ref,
        version=TRAINER.version,
        zip="https://example.com/my-input-images.zip",
    )
    assert result["created"]["status"] == "starting"
    assert result["done"]["status"] == "succeeded"
    version_id = result["done"]["output"]["version"].split(":")[1]
    assert result["versions"] == [version_id] == [result["version_id"]]
    assert result["canceled"]["status"] == "canceled"
    assert result["listed"] == [result["canceled"]["id"], result["created"]["id"]]


def test_deployments_create_get_list_update_predict_delete(node: Node, mock: Mock) -> None:
    result = node.run(
        "deployments",
        f"{mock.url}/v1",
        model=SDXL.ref,
        version=SDXL.version,
        input={"prompt": "a lighthouse"},
    )
    assert result["created"]["current_release"]["number"] == 1
    assert result["fetched"] == result["created"]
    assert result["listed"] == ["my-app"]
    assert result["updated"]["current_release"]["number"] == 2
    assert result["prediction"]["deployment"] == "mock-user/my-app"
    assert result["done"] == {"status": "succeeded", "png": PNG_MAGIC}
    assert result["deleted"] is True and result["after"] == 0
    assert result["missing"]["status"] == 404
