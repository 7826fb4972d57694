"""The typed client against the mock (real HTTP and respx): they must agree end to end."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from contract_tests.mock.conftest import TOKEN, Env
from replicate_typed.client import Client
from replicate_typed.client.errors import PredictionError
from replicate_typed.core.field_types import FileOutput
from replicate_typed.mock import SystemClock
from replicate_typed.models.black_forest_labs import flux_schnell
from replicate_typed.models.stability_ai import sdxl


@pytest.mark.parametrize("prefix", ["", "/replicate"])
def test_client_runs_models_against_the_mock(make_env: Callable[..., Env], prefix: str) -> None:
    env = make_env(clock=SystemClock(), default_timing=(0.0, 0.05), log_interval=0.01)
    with Client(api_token=TOKEN, base_url=env.base + prefix, max_retries=0) as client:
        images = client.run(flux_schnell.Input(prompt="a fox", output_format="png", num_outputs=2))
        assert len(images) == 2 and all(isinstance(i, FileOutput) for i in images)
        assert all(str(i).startswith(f"{env.base}{prefix}/files/") for i in images)
        assert client.http.get(str(images[0])).content.startswith(b"\x89PNG")
        prediction = client.create(sdxl.Input(prompt="a cat"))
        done = client.predictions.wait(prediction.id)
        assert done.status == "succeeded"
        assert {p.id for p in client.predictions.list()} >= {prediction.id}
        with pytest.raises(PredictionError) as failure:
            client.run(sdxl.Input(prompt="mock:fail"))
        assert failure.value.prediction.status == "failed"
        uploaded = client.files.create(b"hello", filename="hello.txt")
        assert uploaded.size == 5
        events = list(client.predictions.stream(client.create(sdxl.Input(prompt="x")).raw))
        assert events and events[-1].event == "done"
    assert env.backend.stats()["duplicate_creates"] == 0
