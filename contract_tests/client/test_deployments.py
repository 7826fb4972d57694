"""Deployments end to end against the mock (its real handlers, over respx and over loopback
HTTP), sync and async: create, get, list, update, a typed prediction on the deployment (wait,
stream, ``run``), delete."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import respx

from replicate_typed.client import AsyncClient, Client, errors
from replicate_typed.core.field_types import FileOutput
from replicate_typed.mock import MockBackend, MockConfig, MockServer, SystemClock
from replicate_typed.mock.respx_adapter import install
from replicate_typed.models.stability_ai import sdxl

TOKEN = "r8_deployments_test_token_0123456789"
BASE = "https://deployments-mock.test"


def backend() -> MockBackend:
    config = MockConfig(api_tokens=(TOKEN,), default_timing=(0.0, 0.05), log_interval=0.01)
    return MockBackend(config, clock=SystemClock())


@pytest.fixture
def mock_base() -> Iterator[str]:
    mock = backend()
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        install(router, mock, BASE)
        yield BASE
    mock.close()


def create_args(client: Client | AsyncClient, hardware: str, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "model": sdxl.MODEL.ref,
        "version": sdxl.MODEL.version,
        "hardware": hardware,
        "min_instances": 0,
        "max_instances": 1,
    }


def lifecycle(client: Client, name: str) -> None:
    owner = client.account.get().username
    ref = f"{owner}/{name}"
    hardware = client.hardware.list()[0].sku
    assert hardware
    made = client.deployments.create(**create_args(client, hardware, name))
    assert (made.owner, made.name) == (owner, name)
    got = client.deployments.get(ref)
    assert got.current_release is not None and got.current_release.model == sdxl.MODEL.ref
    assert ref in [f"{d.owner}/{d.name}" for d in client.deployments.list()]
    updated = client.deployments.update(ref, max_instances=2)
    release = updated.current_release
    assert release is not None and release.configuration is not None
    assert release.configuration.max_instances == 2 and release.number == 2
    # a prediction on the deployment: the deployment's model's typed Input, waited for
    prediction = client.deployments.predictions.create(
        ref, input=sdxl.Input(prompt="a lighthouse"), wait=True
    )
    done = client.predictions.wait(prediction)
    assert done.status == "succeeded" and done.deployment == ref
    typed = client.create(sdxl.Input(prompt="a fox"), deployment=ref)
    assert typed.model is sdxl.MODEL and typed.raw.deployment == ref
    events = list(client.predictions.stream(typed))
    assert events and events[-1].event == "done"
    images = client.run(sdxl.Input(prompt="a cat"), deployment=ref)
    assert images and all(isinstance(image, FileOutput) for image in images)
    with pytest.raises(errors.InputError, match="deployment: 'nope' is not owner/name"):
        client.run(sdxl.Input(prompt="x"), deployment="nope")
    client.deployments.delete(ref)
    with pytest.raises(errors.NotFoundError, match=r"^deployments\.get: HTTP 404"):
        client.deployments.get(ref)


async def alifecycle(client: AsyncClient, name: str) -> None:
    owner = (await client.account.get()).username
    ref = f"{owner}/{name}"
    hardware = (await client.hardware.list())[0].sku
    assert hardware
    await client.deployments.create(**create_args(client, hardware, name))
    assert ref in [f"{d.owner}/{d.name}" async for d in client.deployments.list()]
    page = await client.deployments.list()
    assert ref in [f"{d.owner}/{d.name}" for d in page] and page.invalid == []
    await client.deployments.update(ref, max_instances=2)
    prediction = await client.deployments.predictions.create(
        ref, input=sdxl.Input(prompt="a lighthouse")
    )
    done = await client.predictions.wait(prediction)
    assert done.status == "succeeded" and done.deployment == ref
    events = [e async for e in client.predictions.stream(prediction)]
    assert events[-1].event == "done"
    images = await client.run(sdxl.Input(prompt="a cat"), deployment=ref)
    assert images and all(isinstance(image, FileOutput) for image in images)
    raw = await client.with_raw_response.deployments.get(ref)
    assert raw.status_code == 200 and raw.parse().name == name
    await client.deployments.delete(ref)
    with pytest.raises(errors.NotFoundError):
        await client.deployments.get(ref)


def test_deployments_end_to_end_sync(mock_base: str) -> None:
    with Client(TOKEN, mock_base, max_retries=0) as client:
        lifecycle(client, "my-sdxl")


async def test_deployments_end_to_end_async(mock_base: str) -> None:
    async with AsyncClient(TOKEN, mock_base, max_retries=0) as client:
        await alifecycle(client, "my-async-sdxl")


def test_deployments_end_to_end_over_http() -> None:
    server = MockServer(backend=backend()).start()
    try:
        with Client(TOKEN, server.url, max_retries=0) as client:
            lifecycle(client, "over-http")
    finally:
        server.stop()
