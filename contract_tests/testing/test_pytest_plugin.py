"""The pytest plugin (``pytest11`` entry point ``replicate_typed``), as a user's project uses it:
each case is a separate pytest run (pytester, in a subprocess) of test files a user would write."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = """
import pytest
from replicate_typed import Client, FileOutput, PredictionError
from replicate_typed.models.black_forest_labs import flux_schnell
from replicate_typed.models.stability_ai import sdxl


def make_picture(prompt):          # "the user's code": a Client from the environment
    with Client(max_retries=2) as client:
        return client.run(sdxl.Input(prompt=prompt, width=64, height=64))


def test_runs_against_the_mock_server(replicate_mock):
    images = make_picture("a fox")
    assert len(images) == 1 and isinstance(images[0], FileOutput)
    assert images[0].startswith(replicate_mock.server.url)
    assert replicate_mock.stats()["duplicate_creates"] == 0


def test_fault_injection_is_retried(replicate_mock):
    replicate_mock.inject("predictions.create", "429", times=1)   # creates are retried on 429
    assert make_picture("retried")
    stats = replicate_mock.stats()
    assert sum(stats["faults"].values()) == 1, stats
    assert stats["creates"] == 1 and stats["duplicate_creates"] == 0, stats
    assert stats["operations"]["predictions.create"] == 2, stats


def test_each_test_gets_a_fresh_backend(replicate_mock):
    assert replicate_mock.stats()["duplicate_creates"] == 0
    assert sum(replicate_mock.stats()["requests"].values()) == 0


def test_respx_variant(replicate_respx):
    with Client() as client:
        out = client.run(flux_schnell.Input(prompt="no sockets"))
    assert out and all(url.startswith("https://api.replicate.com/") for url in out)
    assert replicate_respx.router.calls.call_count >= 1


def test_respx_variant_keeps_user_routes(replicate_respx):
    import httpx

    replicate_respx.router.get("https://example.test/ping").respond(200, text="pong")
    assert httpx.get("https://example.test/ping").text == "pong"
"""


@pytest.mark.slow  # subprocesses: `make test-slow`
def test_fixtures_work_in_a_users_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=5)


@pytest.mark.slow  # subprocesses: `make test-slow`
def test_the_config_fixture_is_overridable(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
import pytest
from replicate_typed.mock import MockConfig

@pytest.fixture
def replicate_mock_config():
    return MockConfig(api_tokens=("r8_mine",), outcomes={"stability-ai/sdxl": "failed"},
                      default_timing=(0.0, 0.01))
"""
    )
    pytester.makepyfile(
        test_outcome="""
import os, pytest
from replicate_typed import Client, PredictionError
from replicate_typed.models.stability_ai import sdxl

def test_failed_outcome(replicate_mock):
    assert os.environ["REPLICATE_API_TOKEN"] == "r8_mine" == replicate_mock.api_token
    with replicate_mock.client() as client, pytest.raises(PredictionError) as caught:
        client.run(sdxl.Input(prompt="x"))
    assert caught.value.prediction_id
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


@pytest.mark.slow  # subprocesses: `make test-slow`
def test_without_the_mock_extra_a_fixture_fails_with_one_line(pytester: pytest.Pytester) -> None:
    """Plugin loading needs nothing; using a fixture without [mock] names the extra."""
    pytester.makeconftest(
        """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"starlette", "uvicorn"}:
            raise ModuleNotFoundError(name)
        return None

sys.meta_path.insert(0, Block())
for name in [m for m in sys.modules if m.split(".")[0] in {"starlette", "uvicorn"}]:
    del sys.modules[name]
"""
    )
    pytester.makepyfile(
        test_plain="""
def test_plain_tests_still_run():
    assert True

def test_uses_the_mock(replicate_mock):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*needs starlette, uvicorn*pip install 'replicate-typed?mock?'"])
    assert "Traceback" not in result.stdout.str()
