"""Fixtures for the batch runner: one real mock server per module, a fresh backend per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from replicate_typed.mock import MockBackend, MockConfig, MockServer

TOKEN = "r8_BATCH_test_token_0123456789abcdefXYZ"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(backend=MockBackend(MockConfig())) as running:
        yield running


@pytest.fixture
def mock(server: MockServer) -> Iterator[Callable[..., MockBackend]]:
    """``mock(**config)`` swaps a fresh backend into the shared server and returns it."""
    backends: list[MockBackend] = []

    def make(**config: Any) -> MockBackend:
        config.setdefault("api_tokens", (TOKEN,))
        config.setdefault("default_timing", (0.01, 0.05))
        backend = MockBackend(MockConfig(**config))
        server.swap(backend)
        backends.append(backend)
        return backend

    yield make
    for backend in backends:
        backend.close()
