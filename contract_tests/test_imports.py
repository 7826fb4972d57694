"""What each entry point imports (fresh interpreters): constructing a client loads no pydantic
model machinery and no optional extra, one model's lookup loads that model only, and the CLI and
the mock load what they use. Timings are the benchmark's job (``make bench-import``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

EXTRAS_MODULES = {
    "typer",
    "starlette",
    "uvicorn",
    "PIL",
    "jsonschema",
    "jinja2",
    "datamodel_code_generator",
    "respx",
    "multipart",
    "python_multipart",
}


def loaded_after(code: str) -> set[str]:
    script = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stdout.splitlines()[-1]))


def tops(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_constructing_a_client_loads_no_models_and_no_extras() -> None:
    loaded = loaded_after(
        "import replicate_typed\n"
        "replicate_typed.Client(api_token='r8_x')\n"
        "replicate_typed.AsyncClient(api_token='r8_x')"
    )
    assert not tops(loaded) & EXTRAS_MODULES, sorted(tops(loaded) & EXTRAS_MODULES)
    deferred = {
        "pydantic.main",  # pydantic's model machinery: loaded with the first answer parsed
        "pydantic.types",  # SecretStr: made when client.options is first read
        "replicate_typed.types.api",
        "replicate_typed.core.model",
        "replicate_typed.client.uploads",
        "replicate_typed.client.streaming",
        "httpx_sse",
    }
    assert not loaded & deferred, sorted(loaded & deferred)
    assert not any(name.startswith("replicate_typed.models") for name in loaded)


def test_a_client_still_works_after_the_cheap_construction() -> None:
    loaded = loaded_after(
        "import httpx, replicate_typed\n"
        "from replicate_typed.models.stability_ai import sdxl\n"
        "def answer(request):\n"
        "    return httpx.Response(201, json={'id': 'p1', 'model': 'stability-ai/sdxl',\n"
        "        'version': sdxl.MODEL.version, 'input': {}, 'logs': '', 'output': None,\n"
        "        'data_removed': False, 'error': None, 'status': 'starting',\n"
        "        'created_at': '2025-01-01T00:00:00Z', 'urls': {'get': 'x', 'cancel': 'y'}})\n"
        "client = replicate_typed.Client(api_token='r8_x', transport=httpx.MockTransport(answer))\n"
        "assert client.create(sdxl.Input(prompt='x')).id == 'p1'\n"
    )
    assert "replicate_typed.types.api" in loaded


@pytest.mark.parametrize(
    ("ref", "module"),
    [
        ("stability-ai/sdxl", "replicate_typed.models.stability_ai.sdxl"),
        ("lucataco/flux-dev-lora", "replicate_typed.models.lucataco.flux_dev_lora"),
    ],
)
def test_one_lookup_imports_that_model_only(ref: str, module: str) -> None:
    loaded = loaded_after(f"import replicate_typed\nreplicate_typed.registry.get_model({ref!r})")
    models = {name for name in loaded if name.count(".") == 3 and ".models." in name}
    assert models == {module}


def test_an_owner_package_still_offers_its_models_as_attributes() -> None:
    loaded = loaded_after(
        "import replicate_typed.models.stability_ai as owner\n"
        "assert owner.sdxl.Input.__name__ == 'Input'\n"
        "assert 'stable_diffusion' in dir(owner) or 'stable_diffusion' in owner.__all__\n"
        "try:\n    owner.nope\nexcept AttributeError:\n    pass\nelse:\n    raise SystemExit(1)"
    )
    assert "replicate_typed.models.stability_ai.sdxl" in loaded
    assert "replicate_typed.models.stability_ai.stable_diffusion" not in loaded


def test_the_cli_loads_no_mock_and_no_code_generator() -> None:
    loaded = tops(loaded_after("import replicate_typed.cli.app"))
    assert {"typer", "rich"} <= loaded
    assert not loaded & {"starlette", "uvicorn", "PIL", "jinja2", "datamodel_code_generator"}


def test_the_mock_loads_no_cli_and_no_code_generator() -> None:
    loaded = tops(loaded_after("import replicate_typed.mock"))
    assert not loaded & {"typer", "jinja2", "datamodel_code_generator", "respx"}
