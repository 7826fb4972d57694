"""The live checks against a router: a server that serves only what the router's documents
promise (create by version, create by model path, get by id) and answers with their shapes
(a create answer of ``{"id", "status"}``, ``urls`` on api.replicate.com, ``dp-...`` versions).

Targets (conftest.py): ``router`` -- the built-in mock in its router profile, always run -- and
``env-router``, a real router given by ``REPLICATE_LIVE_*`` with ``REPLICATE_LIVE_PROFILE=router``.
The client, the CLI ``run`` and the batch runner must all work there, and every request must go
to the configured base (the answers' api.replicate.com URLs would receive the router's token).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from typer.testing import CliRunner

from contract_tests.live.conftest import ROUTERS, LiveTarget
from replicate_typed.batch import BatchOptions, run_many
from replicate_typed.cli.app import app
from replicate_typed.client import errors
from replicate_typed.client.downloads import download_all
from replicate_typed.client.polling import PollPolicy
from replicate_typed.models.black_forest_labs import flux_schnell
from replicate_typed.models.stability_ai import sdxl
from replicate_typed.predictions import TERMINAL_STATUSES, TypedPrediction, status_of
from replicate_typed.types.api import Prediction

SDXL_VERSION = sdxl.MODEL.version
assert SDXL_VERSION is not None
router_targets = pytest.mark.parametrize("target", ROUTERS, indirect=True)


def small_flux(prompt: str = "a red fox, router check") -> flux_schnell.Input:
    return flux_schnell.Input(
        prompt=prompt, megapixels="0.25", num_inference_steps=1, output_format="png"
    )


def small_sdxl(prompt: str = "a lighthouse, router check") -> sdxl.Input:
    return sdxl.Input(prompt=prompt, width=512, height=512, num_inference_steps=1)


def assert_only_the_base_was_asked(target: LiveTarget) -> None:
    """Every API request went to the configured base (never to the answers' upstream urls)."""
    base = urlsplit(target.base_url)
    for exchange in target.transport.exchanges:
        url = urlsplit(exchange.url)
        assert (url.scheme, url.netloc) == (base.scheme, base.netloc), exchange.url
        assert url.path.startswith(base.path + "/v1/"), exchange.url


@router_targets
def test_create_by_version_and_get(target: LiveTarget) -> None:
    with target.client() as client:
        created = client.predictions.create(version=SDXL_VERSION, input=small_sdxl())
        fetched = client.predictions.get(created.id)
    assert isinstance(created, Prediction) and created.id
    assert status_of(created) in {"starting", "processing", *TERMINAL_STATUSES, None}
    assert fetched.id == created.id
    if target.name == "router":  # the mock's router profile: exactly the seeds' shapes
        create_answer = target.transport.last("POST", "/v1/predictions").json()
        assert set(create_answer) == {"id", "status"}
        assert created.model is None and created.urls is None  # unknown, not an error
        assert fetched.model == "stability-ai/sdxl" and fetched.version == SDXL_VERSION
        assert fetched.urls is not None and fetched.urls.get is not None
        assert fetched.urls.get.startswith("https://api.replicate.com/")
    assert_only_the_base_was_asked(target)


@router_targets
def test_create_by_model_path_waits_by_polling_the_base(target: LiveTarget) -> None:
    with target.client() as client:
        created = client.create(small_flux(), wait=5)  # Prefer: wait, which a router ignores
        assert isinstance(created, TypedPrediction)
        done = client.predictions.wait(created, timeout=600)
    assert done.id == created.id and status_of(done) == "succeeded"
    if target.name == "router":
        assert str(done.version).startswith("dp-")
        assert "preference-applied" not in target.transport.exchanges[0].response_headers
    assert_only_the_base_was_asked(target)


@router_targets
def test_run_and_download(target: LiveTarget, tmp_path: Path) -> None:
    with target.client() as client:
        output = client.run(small_flux(), timeout=600)
    [path] = download_all(output, tmp_path)
    with Image.open(path) as image:
        image.verify()
    assert_only_the_base_was_asked(target)


@router_targets
def test_cli_run_saves_the_images(
    target: LiveTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", target.token)
    monkeypatch.setenv("REPLICATE_BASE_URL", target.base_url)
    monkeypatch.delenv("REPLICATE_TYPED_DEBUG", raising=False)
    args = ["run", "black-forest-labs/flux-schnell", "--prompt", "a fox, router CLI check"]
    args += ["--megapixels", "0.25", "--num-inference-steps", "1", "--output-format", "png"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    [saved] = [Path(line) for line in result.stdout.splitlines() if line.strip()]
    assert saved.parent.parent == tmp_path
    with Image.open(saved) as image:
        image.verify()
    assert target.token not in result.output


@router_targets
def test_batch_runner_runs_every_input_once(target: LiveTarget, tmp_path: Path) -> None:
    inputs = [small_sdxl(f"router batch {i}") for i in range(3)]
    options = BatchOptions(concurrency=3, poll_policy=PollPolicy(initial=0.1, max_interval=1.0))
    with target.client() as client:
        report = run_many(client, inputs, out_dir=tmp_path, options=options)
    assert report.ok, [r.describe() for r in report.failures]
    assert (report.created, report.succeeded, report.downloaded) == (3, 3, 3)
    assert len({r.prediction_id for r in report.results}) == 3
    for result in report.results:
        assert result.files and all(Path(f.path).is_file() for f in result.files)


@router_targets
def test_what_a_router_does_not_serve_is_not_found(target: LiveTarget) -> None:
    """The operations the router's documents do not describe answer 404 (the client's typed
    ``NotFoundError``), never a crash; the batch runner relies on the list's 404."""
    with target.client(max_retries=0) as client:
        created = client.predictions.create(version=SDXL_VERSION, input=small_sdxl())
        calls = {
            "predictions.list": lambda: list(client.predictions.list()),
            "predictions.cancel": lambda: client.predictions.cancel(created.id),
            "models.get": lambda: client.models.get("stability-ai/sdxl"),
            "models.versions.get": lambda: client.models.versions.get(
                "stability-ai/sdxl", str(SDXL_VERSION)
            ),
            "models.versions.list": lambda: list(client.models.versions.list("stability-ai/sdxl")),
            "files.create": lambda: client.files.create(b"abc", filename="a.txt"),
            "files.list": lambda: list(client.files.list()),
            "files.get": lambda: client.files.get("abc"),
            "files.delete": lambda: client.files.delete("abc"),
            "webhooks.default_secret": lambda: client.webhooks.default_secret(),
        }
        for name, call in calls.items():
            with pytest.raises(errors.NotFoundError):
                call()
            assert target.transport.exchanges[-1].status == 404, name
    assert_only_the_base_was_asked(target)
