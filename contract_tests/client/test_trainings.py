"""Trainings through the client against the mock (its real handlers, respx), sync and async: a
destination model, a trainer's typed TrainingInput, the typed output, the new version listed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx

from replicate_typed.client import AsyncClient, Client, errors
from replicate_typed.core.training import TrainingOutput
from replicate_typed.mock import MockBackend, MockConfig, SystemClock
from replicate_typed.mock.respx_adapter import install
from replicate_typed.models.ostris import flux_dev_lora_trainer as trainer

TOKEN = "r8_trainings_test_token_0123456789"
BASE = "https://trainings-mock.test"
ZIP = "https://example.com/my-input-images.zip"


@pytest.fixture
def mock_base() -> Iterator[str]:
    config = MockConfig(api_tokens=(TOKEN,), default_timing=(0.0, 0.05), log_interval=0.01)
    mock = MockBackend(config, clock=SystemClock())
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        install(router, mock, BASE)
        yield BASE
    mock.close()


def test_a_typed_training_adds_a_version_to_its_destination(mock_base: str) -> None:
    with Client(TOKEN, mock_base, max_retries=0) as client:
        owner = client.account.get().username
        model = client.models.create(
            owner=owner, name="my-lora", visibility="private", hardware="gpu-t4"
        )
        destination = f"{owner}/{model.name}"
        output = client.run_training(
            trainer.TrainingInput(input_images=ZIP, steps=500), destination=destination, timeout=30
        )
        assert isinstance(output, TrainingOutput)
        assert output.version is not None and output.version.startswith(f"{destination}:")
        versions = [v.id for v in client.models.versions.list(destination)]
        assert versions == [output.version_id]
        trainings = list(client.trainings.list())
        assert trainings and trainings[0].status == "succeeded"
        with pytest.raises(errors.InputError, match="destination: 'nope' is not owner/name"):
            client.train(trainer.TrainingInput(input_images=ZIP), destination="nope")


async def test_a_training_started_waited_for_and_canceled_async(mock_base: str) -> None:
    async with AsyncClient(TOKEN, mock_base, max_retries=0) as client:
        owner = (await client.account.get()).username
        await client.models.create(
            owner=owner, name="lora-a", visibility="private", hardware="gpu-t4"
        )
        training = await client.train(
            trainer.TrainingInput(input_images=ZIP), destination=f"{owner}/lora-a"
        )
        assert training.status in ("starting", "processing")
        assert training.model == trainer.TRAINING.ref
        done = await client.trainings.wait(training, timeout=30)
        assert done.status == "succeeded"
        other = await client.trainings.create(
            trainer.TRAINING.ref,
            trainer.TRAINING.version or "",
            destination=f"{owner}/lora-a",
            input={"input_images": ZIP},
        )
        assert other.id is not None
        canceled = await client.trainings.cancel(other.id)
        assert canceled.status in ("canceled", "succeeded")
        assert [t.id async for t in client.trainings.list()][:2] == [other.id, training.id]
