"""pytest fixtures for code that calls a Replicate-format API (registered as a ``pytest11`` plugin).

::

    def test_my_app(replicate_mock):                 # REPLICATE_BASE_URL / _API_TOKEN point at it
        replicate_mock.inject("predictions.create", "503", times=1)   # fault injection
        assert my_app.make_picture("a fox").endswith(".webp")        # your code, Client() inside
        assert replicate_mock.stats()["duplicate_creates"] == 0

* ``replicate_mock``: the built-in mock server on ``127.0.0.1`` (one per session, a fresh backend
  per test) with the environment variables set for the test; a :class:`ReplicateMock`.
* ``replicate_respx``: the same mock behind respx (no sockets) on a :class:`FakeClock`, routes
  installed for ``https://api.replicate.com``; a :class:`ReplicateRespx`.
* ``replicate_mock_config``: the :class:`MockConfig` both use; override it in a conftest.py
  (timings, outcomes, faults, rate limits).
* ``replicate_mock_registry``: the models served: the package's own plus the generated package
  named by ``[tool.replicate-typed]`` in the rootdir's pyproject.toml, or by the ini option
  ``replicate_mock_models`` (module names, one per line).

The plugin module imports nothing from the mock until a fixture is used, so projects that only
installed the core package can still run pytest.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import respx

    from replicate_typed.client import AsyncClient, Client
    from replicate_typed.core.registry import Registry
    from replicate_typed.mock import FakeClock, MockBackend, MockConfig, MockServer

__all__ = ["ReplicateMock", "ReplicateRespx", "TEST_TOKEN"]

TEST_TOKEN = "r8_replicate_typed_plugin_test_token"
"""The token the fixtures' mock accepts (and put in ``REPLICATE_API_TOKEN``)."""
RESPX_BASE_URL = "https://api.replicate.com"
INI_MODELS = "replicate_mock_models"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        INI_MODELS,
        type="linelist",
        default=[],
        help="replicate-typed: generated model packages (module names) the mock serves besides "
        "the built-in ones (default: the package of [tool.replicate-typed] in pyproject.toml)",
    )


def _mock() -> Any:
    """``replicate_typed.mock``; a missing ``[mock]`` extra fails the test with one line."""
    from replicate_typed._extras import MissingExtraError

    try:
        return importlib.import_module("replicate_typed.mock")
    except MissingExtraError as exc:
        message = str(exc)
    pytest.fail(message, pytrace=False)


@dataclass
class _Base:
    backend: MockBackend
    base_url: str
    api_token: str

    def inject(self, operation: str, kind: str, *, times: int = 1, after: bool = False) -> None:
        """Make the next ``times`` requests of ``operation`` (e.g. ``predictions.create``) fail
        with ``kind`` (``429``, ``500``, ``502``, ``503``, ``504``, ``reset``, ``slow``);
        ``after=True`` does the work first (a create really creates)."""
        self.backend.inject(operation, kind, times=times, after=after)

    def stats(self) -> dict[str, Any]:
        """Requests per route, creates per input, ``duplicate_creates``, faults injected, ..."""
        return self.backend.stats()

    def client(self, **options: Any) -> Client:
        """A :class:`Client` for this mock (close it, or use it in a ``with`` block)."""
        from replicate_typed.client import Client

        return Client(api_token=self.api_token, base_url=self.base_url, **options)

    def async_client(self, **options: Any) -> AsyncClient:
        from replicate_typed.client import AsyncClient

        return AsyncClient(api_token=self.api_token, base_url=self.base_url, **options)


@dataclass
class ReplicateMock(_Base):
    """The mock server of one test: ``base_url`` (router style, ``.../replicate``), ``server``."""

    server: MockServer


@dataclass
class ReplicateRespx(_Base):
    """The mock behind respx: ``router`` (add your own routes), ``clock`` (``advance(seconds)``)."""

    router: respx.MockRouter
    clock: FakeClock


def _modules(config: pytest.Config) -> list[str]:
    configured = [str(m) for m in config.getini(INI_MODELS)]
    if configured:
        return configured
    pyproject = Path(str(config.rootpath)) / "pyproject.toml"
    try:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["replicate-typed"]
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError):
        return []
    module = table.get("module")
    if module is None and isinstance(table.get("package"), str):
        parts = Path(table["package"]).parts
        module = ".".join(parts[1:] if len(parts) > 1 and parts[0] == "src" else parts)
    return [module] if isinstance(module, str) and module != "replicate_typed.models" else []


@pytest.fixture(scope="session")
def replicate_mock_registry(pytestconfig: pytest.Config) -> Registry:
    """The models the mock serves (override to choose others)."""
    _mock()
    from replicate_typed.core.registry import Registry
    from replicate_typed.models import registry as builtin

    registries = [builtin]
    for name in _modules(pytestconfig):
        try:
            found = importlib.import_module(name).registry
        except (ImportError, AttributeError) as exc:
            raise pytest.UsageError(
                f"replicate-typed: cannot serve generated models from {name!r}: {exc} "
                f"(set {INI_MODELS} or [tool.replicate-typed] to an importable generated package)"
            ) from None
        registries.append(found)
    return Registry.combine(*registries)


@pytest.fixture
def replicate_mock_config() -> MockConfig:
    """How the fixtures' mock behaves: quick predictions, one accepted token (override me)."""
    config: MockConfig = _mock().MockConfig(api_tokens=(TEST_TOKEN,), default_timing=(0.0, 0.05))
    return config


@pytest.fixture(scope="session")
def _replicate_mock_server(replicate_mock_registry: Registry) -> Iterator[MockServer]:
    mock = _mock()
    server = mock.MockServer(
        backend=mock.MockBackend(mock.MockConfig(), registry=replicate_mock_registry)
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _token(config: MockConfig) -> str:
    return config.api_tokens[0] if config.api_tokens else TEST_TOKEN


@pytest.fixture
def replicate_mock(
    _replicate_mock_server: MockServer,
    replicate_mock_config: MockConfig,
    replicate_mock_registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ReplicateMock]:
    """The mock server with a fresh backend for this test; ``REPLICATE_BASE_URL`` and
    ``REPLICATE_API_TOKEN`` point at it while the test runs."""
    backend = _mock().MockBackend(replicate_mock_config, registry=replicate_mock_registry)
    server = _replicate_mock_server
    previous = server.swap(backend)
    handle = ReplicateMock(
        backend=backend,
        base_url=server.url + "/replicate",
        api_token=_token(replicate_mock_config),
        server=server,
    )
    monkeypatch.setenv("REPLICATE_BASE_URL", handle.base_url)
    monkeypatch.setenv("REPLICATE_API_TOKEN", handle.api_token)
    try:
        yield handle
    finally:
        server.swap(previous)
        backend.close()


@pytest.fixture
def replicate_respx(
    replicate_mock_config: MockConfig,
    replicate_mock_registry: Registry,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ReplicateRespx]:
    """The mock behind respx for ``https://api.replicate.com`` on a fake clock (held
    ``Prefer: wait`` requests move it; ``clock.advance(s)`` for the rest)."""
    mock = _mock()
    try:
        respx = importlib.import_module("respx")
    except ImportError:
        respx = None
    if respx is None:
        pytest.fail("replicate_respx needs respx: pip install respx", pytrace=False)
    clock = mock.FakeClock()
    backend = mock.MockBackend(replicate_mock_config, clock=clock, registry=replicate_mock_registry)
    monkeypatch.setenv("REPLICATE_BASE_URL", RESPX_BASE_URL)
    monkeypatch.setenv("REPLICATE_API_TOKEN", _token(replicate_mock_config))
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        mock.install(router, backend, RESPX_BASE_URL)
        try:
            yield ReplicateRespx(
                backend=backend,
                base_url=RESPX_BASE_URL,
                api_token=_token(replicate_mock_config),
                router=router,
                clock=clock,
            )
        finally:
            backend.close()
