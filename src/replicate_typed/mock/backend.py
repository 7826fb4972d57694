"""The mock's state machine behind one entry point: ``MockBackend.handle(...) -> MockResponse``.

``handle`` is synchronous, O(1) per request (listing: O(page)) and never blocks: a prediction's
state is a pure function of the clock and of what happened to it (created, canceled), computed
when it is looked at. Whatever takes time (``Prefer: wait`` holds, SSE streams, slow faults) is a
:class:`MockStream` the transport drives. Webhooks are the only background work.

This class only wires the parts together and keeps the public API; each part has one job:

=========================  ==========================================================
:mod:`.routes`             the route table (the spec's operations + the mock's own)
:mod:`.profiles`           which routes a profile serves and how its answers look
:mod:`.predictions`        create / get / cancel / list / stream, output files, web page
:mod:`.models`             the served models, version references, input validation
:mod:`.catalog`            models (served and the account's), versions, collections,
                           hardware, account, search
:mod:`.deployments`        deployments and their predictions
:mod:`.trainings`          trainings (success adds a version to the destination model)
:mod:`.files`              uploads (python-multipart)
:mod:`.faults`             injected faults and rate limits
:mod:`.admin`              statistics and ``/_mock/...``
:mod:`.webhooks`           webhook scheduling; :mod:`.delivery` sends one message
:mod:`.lifecycle`          a prediction's state at a time; :mod:`.store` the records
=========================  ==========================================================

The Starlette app (:mod:`.app`) and the respx adapter (:mod:`.respx_adapter`) are thin layers
over this class, so real-HTTP tests and respx tests see the very same behaviour.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from replicate_typed.core.model import ModelInfo
from replicate_typed.core.registry import Registry
from replicate_typed.mock.admin import Admin
from replicate_typed.mock.bodies import route_body_limit, too_large
from replicate_typed.mock.catalog import Catalog
from replicate_typed.mock.clock import Clock, SystemClock
from replicate_typed.mock.config import FaultConfig, MockConfig
from replicate_typed.mock.delivery import DeliveryPolicy
from replicate_typed.mock.deployments import Deployments
from replicate_typed.mock.faults import Fault, Faults, RateLimiter, parse_fault_header
from replicate_typed.mock.files import Files
from replicate_typed.mock.lifecycle import TERMINAL, Lifecycle, Prediction
from replicate_typed.mock.messages import (
    MockRequest,
    MockResponse,
    json_response,
    not_found,
    problem,
    unauthenticated,
)
from replicate_typed.mock.models import Models, watch_generated_registry
from replicate_typed.mock.predictions import Predictions, fingerprint
from replicate_typed.mock.profiles import Profile, profile_named
from replicate_typed.mock.routes import ADMIN_PREFIX, ROUTES, MethodNotAllowed, RouteMatch, Router
from replicate_typed.mock.store import Counters, Store
from replicate_typed.mock.trainings import Trainings
from replicate_typed.mock.webhooks import Webhooks

__all__ = ["MockBackend", "MockResponse", "Fault", "TERMINAL", "parse_fault_header", "problem"]

Handler = Callable[[MockRequest], MockResponse]
_ROUTER = Router(ROUTES)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_log = logging.getLogger("replicate_typed.mock")


def _guarded(handler: Handler, request: MockRequest) -> MockResponse:
    """The handler's answer; a bug in it is a 500 with problem details (logged), never a
    plain-text 500 from the server underneath."""
    try:
        return handler(request)
    except Exception as error:
        _log.exception("mock handler failed")
        return problem(500, "Internal Server Error", f"the mock failed: {type(error).__name__}")


class MockBackend:
    """All state of one mock router: predictions, uploads, counters, faults.

    ``registry``: the models served (default: every generated model). ``clock``: injectable
    (:class:`~replicate_typed.mock.clock.FakeClock` in tests).
    """

    def __init__(
        self,
        config: MockConfig | None = None,
        *,
        clock: Clock | None = None,
        registry: Registry | None = None,
    ) -> None:
        config = config or MockConfig()
        clock = clock or SystemClock()
        self.config = config
        self.clock: Clock = clock
        reload = None
        self.profile: Profile = profile_named(config.profile)
        self._router = self.profile.router()
        if registry is None:
            from replicate_typed.models import registry as generated

            registry, reload = generated, watch_generated_registry()
        self._counters = counters = Counters()
        self._store = store = Store(config.seed)
        self._lifecycle = lifecycle = Lifecycle(config)
        self._faults = Faults(config.faults, counters.faults_injected)
        self._rate_limiter = RateLimiter(config.rate_limits, clock, counters.faults_injected)
        self._webhooks = Webhooks(
            lifecycle,
            clock,
            DeliveryPolicy(config.webhook_secret, config.webhook_retry_delays),
            counters.webhooks,
            throttle=config.webhook_throttle,
            timeout=config.webhook_timeout,
        )
        self._models = models = Models(
            registry,
            counters.runs_by_model,
            reject_unknown_inputs=config.reject_unknown_inputs,
            reload=reload,
        )
        predictions = Predictions(
            config, clock, store, lifecycle, models, self._webhooks, counters.creates_by_fingerprint
        )
        files = Files(config, clock, store)
        catalog = Catalog(config, clock, store, lifecycle, models)
        predictions.trained_versions = catalog.trained_model
        deployments = Deployments(config, clock, catalog, predictions)
        trainings = Trainings(config, clock, store, lifecycle, catalog, predictions, self._webhooks)
        self._catalog = catalog
        self._admin = admin = Admin(clock, store, counters, lifecycle, self._faults)
        self._handlers: dict[str, Handler] = {
            "predictions.create": predictions.create,
            "models.predictions.create": predictions.create_for_model,
            "predictions.get": predictions.get,
            "predictions.cancel": predictions.cancel,
            "predictions.list": predictions.list,
            "predictions.stream": predictions.stream,
            "models.get": catalog.get,
            "models.list": catalog.list_models,
            "models.create": catalog.create,
            "models.update": catalog.update,
            "models.delete": catalog.delete,
            "models.search": catalog.search_models,
            "models.readme.get": catalog.readme,
            "models.examples.list": catalog.examples,
            "models.versions.get": catalog.version,
            "models.versions.list": catalog.versions,
            "models.versions.delete": catalog.delete_version,
            "collections.list": catalog.collections,
            "collections.get": catalog.collection,
            "hardware.list": catalog.hardware,
            "account.get": catalog.account,
            "search": catalog.search,
            "deployments.create": deployments.create,
            "deployments.get": deployments.get,
            "deployments.list": deployments.list,
            "deployments.update": deployments.update,
            "deployments.delete": deployments.delete,
            "deployments.predictions.create": deployments.create_prediction,
            "trainings.create": trainings.create,
            "trainings.get": trainings.get,
            "trainings.list": trainings.list,
            "trainings.cancel": trainings.cancel,
            "files.create": files.create,
            "files.get": files.get,
            "files.list": files.list,
            "files.delete": files.delete,
            "files.download": files.download,
            "webhooks.default.secret.get": self._webhook_secret,
            "outputs.get": predictions.output_file,
            "web": predictions.web,
            "admin.stats.get": admin.stats_get,
            "admin.stats.reset": admin.stats_reset,
            "admin.faults.get": admin.faults_get,
            "admin.faults.set": admin.faults_set,
            "admin.clock.advance": admin.clock_advance,
        }
        missing = sorted({route.id for route in _ROUTER.routes} - set(self._handlers))
        if missing:
            raise RuntimeError(
                f"no handler for {missing}: the operation table routes them, the mock cannot "
                "answer them (add a handler to MockBackend's table)"
            )

    def __repr__(self) -> str:
        return f"MockBackend(predictions={len(self._store.order)}, config={self.config!r})"

    # ------------------------------------------------------------------ entry point

    @property
    def registry(self) -> Registry:
        """The models served now (the generated registry grows as ``add-model`` adds models)."""
        return self._models.registry

    def handle(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        body: bytes,
        *,
        base_url: str | None = None,
    ) -> MockResponse:
        """Answer one request. ``path`` may carry the router prefix ``/replicate``.

        ``base_url`` (``scheme://host[:port]``) is where the request was sent; URLs in answers
        point there (default: built from the ``Host`` header, or ``config.public_base_url``).
        """
        method = method.upper()
        hdrs = self.profile.request_headers({k.lower(): v for k, v in headers.items()})
        prefix, rest = "", path
        if path == "/replicate" or path.startswith("/replicate/"):
            prefix, rest = "/replicate", path[len("/replicate") :] or "/"
        found = self._router.match(method, rest)
        if isinstance(found, MethodNotAllowed):
            return problem(
                405,
                "Method not allowed",
                f"{method} is not allowed here",
                headers={"allow": ", ".join(found.allowed)},
            )
        if found is None:
            if rest.startswith(ADMIN_PREFIX):
                return not_found("Unknown mock admin endpoint")
            self._counters.requests[f"{method} <unmatched>"] += 1
            return not_found()
        route = found.route
        if any(_CONTROL.search(value) for value in found.params.values()):
            # ``%0A`` and friends in a path segment: no resource is named so
            self._counters.requests[f"{method} <unmatched>"] += 1
            return not_found("A path segment holds a control character")
        request = MockRequest(
            found.params,
            hdrs,
            query,
            body,
            prefix,
            self._base_url(hdrs, base_url),
            self.config.max_json_depth,
        )
        handler = self._handlers[route.id]
        limit = self._route_limit(route.id)
        if len(body) > limit:
            self._counters.requests[f"{method} <too large>"] += 1
            return too_large(limit)
        if route.kind == "admin":
            return _guarded(handler, request)
        self._counters.requests[route.key] += 1
        self._counters.operations[route.id] += 1
        fault = self._faults.pick(route, hdrs)
        if fault is not None and fault.kind != "slow" and not fault.after:
            return self._faults.response(fault)
        throttled = self._rate_limiter.check(route)
        if throttled is not None:
            return throttled
        if route.auth and not self._authorized(hdrs):
            response = unauthenticated()
        else:
            response = self.profile.shape(route.id, _guarded(handler, request))
        if fault is not None:
            if fault.kind == "slow":
                self._counters.faults_injected["slow"] += 1
                response.delay = max(response.delay, fault.seconds)
            elif fault.after:
                self._counters.faults_injected["after_operation"] += 1
                return self._faults.response(fault)
        return response

    def body_limit(self, method: str, path: str) -> int:
        """The largest body (bytes) a request to ``path`` may carry (see :mod:`.bodies`): the
        transport reads at most this much before it answers 413."""
        rest = path[len("/replicate") :] if path.startswith("/replicate/") else path
        found = self._router.match(method.upper(), rest)
        return self._route_limit(found.route.id if isinstance(found, RouteMatch) else None)

    def _route_limit(self, route_id: str | None) -> int:
        config = self.config
        return route_body_limit(route_id, config.max_body_bytes, config.max_upload_bytes)

    def _authorized(self, headers: Mapping[str, str]) -> bool:
        value = headers.get("authorization", "")
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        if scheme.lower() not in ("bearer", "token") or not token:
            return False
        accepted = self.config.api_tokens
        if accepted is None:
            return True
        given = token.encode()
        ok = False
        for candidate in accepted:
            ok |= hmac.compare_digest(given, candidate.encode())
        return ok

    def _base_url(self, headers: Mapping[str, str], given: str | None) -> str:
        if self.config.public_base_url:
            return self.config.public_base_url.rstrip("/")
        if given:
            return given.rstrip("/")
        host = headers.get("host", "localhost")
        scheme = headers.get("x-forwarded-proto", "http")
        return f"{scheme}://{host}"

    def _webhook_secret(self, req: MockRequest) -> MockResponse:
        """``webhooks.default.secret.get``"""
        return json_response(200, {"key": self.config.webhook_secret})

    # ------------------------------------------------------------------ counters

    @property
    def requests(self) -> Counter[str]:
        """Requests per route (``METHOD /template``), and ``METHOD <unmatched>``."""
        return self._counters.requests

    @property
    def operations(self) -> Counter[str]:
        """Requests per operation name."""
        return self._counters.operations

    @property
    def creates_by_fingerprint(self) -> Counter[str]:
        return self._counters.creates_by_fingerprint

    @property
    def faults_injected(self) -> Counter[str]:
        return self._counters.faults_injected

    @property
    def webhook_stats(self) -> Counter[str]:
        return self._counters.webhooks.stats

    @property
    def webhook_log(self) -> deque[dict[str, Any]]:
        return self._counters.webhooks.log

    @property
    def _order(self) -> list[Prediction]:
        # kept for tests that read the creation order (contract_tests/batch)
        return self._store.order

    def stats(self) -> dict[str, Any]:
        """Counters: requests per route, creates per input fingerprint, faults, webhooks."""
        return self._admin.stats()

    def reset_stats(self) -> None:
        self._counters.reset()

    # ------------------------------------------------------------------ faults

    def set_faults(self, faults: FaultConfig) -> None:
        """Replace the random fault configuration (``seed`` restarts the draw)."""
        self._faults.config = faults

    @property
    def faults(self) -> FaultConfig:
        return self._faults.config

    def inject(self, operation: str, kind: str, *, times: int = 1, after: bool = False) -> None:
        """Queue ``times`` faults for the next requests to ``operation`` (``predictions.create``...)."""
        self._faults.inject(operation, kind, times=times, after=after)

    # ------------------------------------------------------------------ predictions, models

    @staticmethod
    def fingerprint(ref: str, input: Mapping[str, Any]) -> str:
        """The key duplicate creates are counted under: model and input."""
        return fingerprint(ref, input)

    def prediction(self, pid: str) -> dict[str, Any]:
        """The prediction as the API would show it now (for tests and tools)."""
        p = self._store.predictions[pid]
        return self._lifecycle.render(p, self.clock.now(), p.prefix, p.base)

    def status(self, pid: str) -> str:
        return self._lifecycle.state(self._store.predictions[pid], self.clock.now()).status

    def openapi_schema(self, info: ModelInfo[Any, Any]) -> dict[str, Any]:
        """The version's ``openapi_schema``: INPUT/OUTPUT_SCHEMA with ``$defs`` back in components."""
        return self._models.openapi_schema(info)

    # ------------------------------------------------------------------ webhooks, shutdown

    @property
    def pending_webhook_tasks(self) -> int:
        return self._webhooks.pending

    async def wait_webhooks(self, timeout: float = 5.0) -> bool:
        """Wait (real time) until webhook work started in this loop is done; False on timeout."""
        return await self._webhooks.wait(timeout)

    def webhook_http(self) -> httpx.AsyncClient:
        """The HTTP client webhook deliveries use in the running loop (one per loop)."""
        return self._webhooks.http()

    async def aclose(self) -> None:
        """Stop background work: in the running loop, then elsewhere (helper thread, servers)."""
        await self._webhooks.aclose()

    def close(self) -> None:
        """Stop background work from synchronous code (not from inside a loop it runs in)."""
        self._webhooks.close()
