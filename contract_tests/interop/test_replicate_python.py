"""The official Python client (``replicate==1.0.7``, a development dependency) against our mock:
what a user of the real API writes must work unchanged with ``base_url`` pointed at the mock
(plain and router-prefixed)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import time
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import httpx
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
    need,
    png_bytes,
)
from contract_tests.mock.conftest import Receiver
from replicate_typed.models import registry

# drives the official Python client: `make test-slow` (CI runs it)
pytestmark = pytest.mark.slow

VERSION = "1.0.7"


def first_bytes(url: str) -> str:
    """The start of an output file. (Both official clients wrap only https: and data: outputs in
    a FileOutput; the mock's http://127.0.0.1 URLs stay strings, as they would for any http URL.)"""
    assert url.startswith("http://127.0.0.1:"), url
    return httpx.get(url).content[:8].hex()


@pytest.fixture(scope="module")
def replicate() -> ModuleType:
    try:
        import replicate as module
    except ImportError:
        need(f"replicate=={VERSION} (PyPI)", "pip install -e '.[dev]'")
    installed = importlib.metadata.version("replicate")
    if installed != VERSION:
        need(f"replicate=={VERSION}", f"found {installed}: pip install -e '.[dev]'")
    return module


@pytest.fixture(params=["", "/replicate"], ids=["plain", "router"])
def client(replicate: ModuleType, mock: Mock, request: pytest.FixtureRequest) -> Iterator[Any]:
    official = replicate.Client(api_token=TOKEN, base_url=mock.url + request.param)
    official.poll_interval = 0.02
    yield official
    official._client.close()


def test_run_by_version(client: Any, mock: Mock) -> None:
    output = client.run(f"{SDXL.ref}:{SDXL.version}", input={"prompt": "a lighthouse"})
    assert len(output) == 1
    assert first_bytes(output[0]) == PNG_MAGIC
    operations = mock.backend.stats()["operations"]
    assert operations["predictions.create"] == 1
    assert operations["models.versions.get"] == 1  # run() looks the version up


def test_run_by_model_path(client: Any, mock: Mock) -> None:
    output = client.run(
        FLUX.ref, input={"prompt": "a fox", "num_outputs": 2, "output_format": "png"}
    )
    assert [first_bytes(item) for item in output] == [PNG_MAGIC] * 2
    assert mock.backend.stats()["operations"]["models.predictions.create"] == 1


def test_a_file_input_is_uploaded_through_files_create(client: Any, mock: Mock) -> None:
    """replicate 1.0.7 uploads a file input and passes the File's ``urls.get``: its File model
    requires ``name`` and ``etag``, which the mock's answer carries as the API's does."""
    output = client.run(
        f"{IMG2IMG.ref}:{IMG2IMG.version}",
        input={"prompt": "a cat", "image": io.BytesIO(png_bytes())},
    )
    assert output
    assert mock.backend.stats()["operations"]["files.create"] == 1
    (prediction,) = mock.backend._order
    assert "/v1/files/" in prediction.input["image"]


def test_create_get_wait_cancel(client: Any, mock: Mock) -> None:
    prediction = client.predictions.create(version=SDXL.version, input={"prompt": "x"})
    assert prediction.status == "starting"
    assert client.predictions.get(prediction.id).id == prediction.id
    prediction.wait()
    assert prediction.status == "succeeded" and prediction.output
    slow = client.predictions.create(version=SLOW.version, input={"prompt": "x"})
    assert client.predictions.cancel(slow.id).status == "canceled"
    held = client.models.predictions.create(model=FLUX.ref, input={"prompt": "x"}, wait=True)
    assert held.status == "succeeded"  # Prefer: wait held until done
    with pytest.raises(Exception) as missing:
        client.predictions.get("nope")
    assert getattr(missing.value, "status", None) == 404


def test_list_follows_pages(client: Any, mock: Mock, replicate: ModuleType) -> None:
    made = [
        client.predictions.create(version=SDXL.version, input={"prompt": str(i)}) for i in range(5)
    ]
    pages = list(replicate.paginate(client.predictions.list))
    assert len(pages) == 3 and all(len(page.results) <= PAGE_SIZE for page in pages)
    ids = [p.id for page in pages for p in page.results]
    assert ids == [p.id for p in reversed(made)]
    first = client.predictions.list()
    assert client.predictions.list(first.next).results[0].id == made[2].id  # a cursor by hand


def test_stream(client: Any, mock: Mock) -> None:
    events = list(client.stream(FLUX.ref, input={"prompt": "x"}))
    kinds = [event.event.value for event in events]
    assert kinds[-1] == "done" and "output" in kinds and "logs" in kinds
    output = next(json.loads(e.data) for e in events if e.event.value == "output")
    assert output[0].startswith(f"{mock.url}/") and "/files/" in output[0]


def test_files_create_get_list_delete(client: Any, mock: Mock) -> None:
    made = [
        client.files.create(
            io.BytesIO(f"file {i}".encode()), filename=f"f{i}.txt", metadata={"i": i}
        )
        for i in range(3)
    ]
    first = made[0]
    assert first.name == "f0.txt" and first.size == len(b"file 0")
    assert first.etag == hashlib.md5(b"file 0").hexdigest()
    assert first.checksums["sha256"] == hashlib.sha256(b"file 0").hexdigest()
    assert first.metadata == {"i": 0}
    assert client.files.get(first.id) == first
    listed = client.files.list()  # replicate 1.0.7 reads the first page only
    assert [f.id for f in listed] == [made[2].id, made[1].id]
    assert client.files.delete(first.id) is True
    with pytest.raises(Exception) as missing:
        client.files.get(first.id)
    assert getattr(missing.value, "status", None) == 404


def test_models_versions_list(client: Any, mock: Mock) -> None:
    model = client.models.get(SDXL.ref)
    page = model.versions.list()
    assert [v.id for v in page.results] == [SDXL.version] and page.next is None
    assert model.versions.get(SDXL.version).id == SDXL.version
    assert model.latest_version.id == SDXL.version


def test_webhook_secret_and_signatures(
    client: Any, mock: Mock, receiver: Receiver, replicate: ModuleType
) -> None:
    from replicate.webhook import InvalidSignatureError, Webhooks

    created = client.predictions.create(
        version=SDXL.version,
        input={"prompt": "x"},
        webhook=receiver.url,
        webhook_events_filter=["completed"],
    )
    ((headers, body),) = receiver.wait_for(1)
    assert json.loads(body)["id"] == created.id
    secret = client.webhooks.default.secret()
    assert secret.key == mock.backend.config.webhook_secret
    assert (
        Webhooks.validate(headers=headers, body=body.decode(), secret=secret, tolerance=60) is None
    )
    with pytest.raises(InvalidSignatureError):
        Webhooks.validate(
            headers=headers, body=body.decode().replace("succeeded", "failed"), secret=secret
        )


def test_a_bad_token_is_refused(replicate: ModuleType, mock: Mock) -> None:
    other = replicate.Client(api_token="not-the-token", base_url=mock.url)
    with pytest.raises(Exception) as refused:
        other.predictions.list()
    assert getattr(refused.value, "status", None) == 401


# --- the rest of the API: every call replicate 1.0.7 has, in a realistic order ---------------------

TRAINER = registry["ostris/flux-dev-lora-trainer"]
ZIP = "https://example.com/my-input-images.zip"


def test_account_hardware_collections(client: Any, mock: Mock, replicate: ModuleType) -> None:
    account = client.accounts.current()
    assert account.username == "mock-user" and account.type == "user"
    skus = [h.sku for h in client.hardware.list()]
    assert "gpu-t4" in skus and "cpu" in skus
    slugs = [c.slug for page in replicate.paginate(client.collections.list) for c in page]
    assert "lora-trainers" in slugs and len(slugs) > PAGE_SIZE  # across pages
    trainers = client.collections.get("lora-trainers")
    assert [f"{m.owner}/{m.name}" for m in trainers.models] == [TRAINER.ref]
    operations = mock.backend.stats()["operations"]
    for name in ("account.get", "hardware.list", "collections.list", "collections.get"):
        assert operations[name] >= 1, name


def test_models_create_get_list_search_delete(
    client: Any, mock: Mock, replicate: ModuleType
) -> None:
    owner = client.accounts.current().username
    made = client.models.create(
        owner, "hot-dog-detector", visibility="private", hardware="cpu", description="Hot dogs"
    )
    assert made.name == "hot-dog-detector" and made.latest_version is None
    assert client.models.get(f"{owner}/hot-dog-detector").description == "Hot dogs"
    listed = [m for page in replicate.paginate(client.models.list) for m in page.results]
    assert f"{owner}/hot-dog-detector" in {f"{m.owner}/{m.name}" for m in listed}
    found = client.models.search("flux")
    assert FLUX.ref in {f"{m.owner}/{m.name}" for m in found.results}
    assert client.models.delete(f"{owner}/hot-dog-detector") is True
    with pytest.raises(Exception) as missing:
        client.models.get(f"{owner}/hot-dog-detector")
    assert getattr(missing.value, "status", None) == 404
    assert mock.backend.stats()["operations"]["models.search"] == 1


def test_trainings_create_get_list_cancel_and_the_new_version(client: Any, mock: Mock) -> None:
    owner = client.accounts.current().username
    client.models.create(owner, "my-lora", visibility="private", hardware="gpu-t4")
    training = client.trainings.create(
        model=TRAINER.ref,
        version=TRAINER.version,
        input={"input_images": ZIP, "steps": 500},
        destination=f"{owner}/my-lora",
    )
    assert training.status == "starting" and training.destination == f"{owner}/my-lora"
    for _ in range(200):
        training.reload()
        if training.status == "succeeded":
            break
        time.sleep(0.02)
    assert training.status == "succeeded"
    version = training.output["version"]
    assert version.startswith(f"{owner}/my-lora:") and training.output["weights"]
    assert client.trainings.get(training.id).output == training.output
    model = client.models.get(f"{owner}/my-lora")
    assert [v.id for v in model.versions.list().results] == [version.split(":")[1]]
    assert model.versions.get(version.split(":")[1]).id == version.split(":")[1]
    slow = client.trainings.create(
        f"{TRAINER.ref}:{TRAINER.version}", {"input_images": ZIP}, f"{owner}/my-lora"
    )
    assert client.trainings.cancel(slow.id).status == "canceled"
    assert [t.id for t in client.trainings.list().results][:2] == [slow.id, training.id]
    # 1.0.7 returns `status == 204`; the document (and the mock) answer 202 Accepted: False here,
    # the version is gone all the same (docs/api-differences.md)
    assert model.versions.delete(version.split(":")[1]) is False
    assert mock.backend.stats()["operations"]["models.versions.delete"] == 1
    assert model.versions.list().results == []


def test_deployments_create_get_list_update_predict_delete(client: Any, mock: Mock) -> None:
    made = client.deployments.create(
        name="my-app",
        model=SDXL.ref,
        version=SDXL.version,
        hardware="gpu-t4",
        min_instances=0,
        max_instances=3,
    )
    assert made.current_release.number == 1
    assert made.current_release.configuration.hardware == "gpu-t4"
    got = client.deployments.get(f"{made.owner}/my-app")
    assert got.current_release.version == SDXL.version
    assert [d.name for d in client.deployments.list().results] == ["my-app"]
    updated = client.deployments.update(made.owner, "my-app", max_instances=5)
    assert updated.current_release.number == 2
    assert updated.current_release.configuration.max_instances == 5
    prediction = got.predictions.create(input={"prompt": "a lighthouse"})
    prediction.wait()
    assert prediction.status == "succeeded" and first_bytes(prediction.output[0]) == PNG_MAGIC
    other = client.deployments.predictions.create(
        f"{made.owner}/my-app", input={"prompt": "x"}, wait=True
    )
    assert other.status == "succeeded"
    assert client.deployments.delete(made.owner, "my-app") is True
    assert client.deployments.list().results == []
    operations = mock.backend.stats()["operations"]
    assert operations["deployments.predictions.create"] >= 2
