"""The built-in mock of the Replicate-format router: test your own code against it.

* :class:`MockBackend` - the transport-independent state machine (``handle(...)``).
* :class:`MockServer` - real HTTP (uvicorn in a thread), ``with MockServer() as s: s.url``.
* :func:`install` - the same backend behind respx routes.
* :class:`MockConfig` / :class:`FaultConfig` - timings, outcomes, limits, faults.
* :class:`FakeClock` - drive lifecycles without waiting.

Standalone: ``python -m replicate_typed.mock --port 8000`` (prints the URL).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from replicate_typed.mock import _needs  # noqa: F401  (first: names the extra when it is missing)
from replicate_typed.mock.backend import MockBackend
from replicate_typed.mock.clock import Clock, FakeClock, SystemClock
from replicate_typed.mock.config import FaultConfig, MockConfig
from replicate_typed.mock.faults import Fault
from replicate_typed.mock.messages import MockResponse

if TYPE_CHECKING:
    from replicate_typed.mock.app import create_app
    from replicate_typed.mock.respx_adapter import install
    from replicate_typed.mock.server import MockServer

__all__ = [
    "Clock",
    "FakeClock",
    "Fault",
    "FaultConfig",
    "MockBackend",
    "MockConfig",
    "MockResponse",
    "MockServer",
    "SystemClock",
    "create_app",
    "install",
]


def __getattr__(name: str) -> Any:
    # the server, the ASGI app and the respx adapter pull in uvicorn/starlette/respx: load lazily
    if name == "MockServer":
        from replicate_typed.mock.server import MockServer

        return MockServer
    if name == "create_app":
        from replicate_typed.mock.app import create_app

        return create_app
    if name == "install":
        from replicate_typed.mock.respx_adapter import install

        return install
    raise AttributeError(name)
