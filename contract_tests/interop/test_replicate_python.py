"""The official Python client (``replicate==1.0.7``, a development dependency) against our mock:
what a user of the real API writes must work unchanged with ``base_url`` pointed at the mock
(plain and router-prefixed)."""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
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
