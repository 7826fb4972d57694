"""The mock's route table: every path it answers, declared once.

* ``api``: one route per row of the generated operation table
  (:data:`replicate_typed.types.operations.OPERATIONS`, from ``specs/api/openapi.json``): its
  ``operationId`` is the route's name, its path (under ``/v1``) and path parameters are the spec's.
  An operation added to the spec is routed here without a hand edit (its handler is still needed:
  :class:`~replicate_typed.mock.backend.MockBackend` refuses to start without one).
* ``mock``: the routes the API has but the spec does not describe (the SSE stream, file
  downloads, output files, the web page).
* ``admin``: the mock's own ``/_mock/...`` endpoints (statistics, faults, the clock): no auth, no
  faults, not counted.

:meth:`Router.match` answers a path with the route and its parameters, with the methods the path
does allow (a 405), or with nothing (a 404).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from replicate_typed.types.operations import OPERATIONS as API_OPERATIONS
from replicate_typed.types.operations import Operation

__all__ = [
    "ADMIN_PREFIX",
    "MethodNotAllowed",
    "OPERATION_IDS",
    "ROUTES",
    "Route",
    "RouteMatch",
    "Router",
    "api_route",
]

RouteKind = Literal["api", "mock", "admin"]
ADMIN_PREFIX = "/_mock/"
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Route:
    """One method on one path template (``{name}`` matches one non-empty path segment).

    ``auth``: the request needs an accepted bearer token. ``faults``: random faults and rate
    limits apply (queued and ``X-Mock-Fault`` faults apply to every non-admin route).
    """

    id: str
    method: str
    template: str
    kind: RouteKind = "mock"
    auth: bool = True
    faults: bool = True
    params: tuple[str, ...] = field(init=False)
    pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        params = tuple(_PLACEHOLDER.findall(self.template))
        if len(set(params)) != len(params):
            raise ValueError(f"route {self.id}: a path parameter repeats in {self.template}")
        regex = "".join(
            f"(?P<{part[1:-1]}>[^/]+)" if _PLACEHOLDER.fullmatch(part) else re.escape(part)
            for part in re.split(r"(\{[^}]*\})", self.template)
        )
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "pattern", re.compile(regex))

    @property
    def key(self) -> str:
        """``METHOD /path/{param}``: what request statistics are counted under."""
        return f"{self.method} {self.template}"

    @property
    def creates_prediction(self) -> bool:
        """A POST to a ``.../predictions`` collection (the API's create rate limit applies)."""
        return self.method == "POST" and self.template.endswith("/predictions")


def api_route(op: Operation) -> Route:
    """The route of one generated operation row (paths in the table are under ``/v1``)."""
    route = Route(op.id, op.method, f"/v1{op.path}", kind="api")
    if route.params != op.path_params:
        raise ValueError(
            f"operation {op.id}: path {op.path} has parameters {route.params}, "
            f"the table says {op.path_params}"
        )
    return route


_MOCK_ROUTES: tuple[Route, ...] = (
    # the API streams without a token: the stream URL is the capability
    Route("predictions.stream", "GET", "/v1/predictions/{prediction_id}/stream", auth=False),
    # routed from the operation table once the spec has it (Replicate's document does)
    Route("files.download", "GET", "/v1/files/{file_id}/download"),
    # output files and the web page are what a browser opens: no token, no random faults
    Route("outputs.get", "GET", "/files/{prediction_id}/{filename}", auth=False, faults=False),
    Route("web", "GET", "/p/{prediction_id}", auth=False, faults=False),
)

_ADMIN_ROUTES: tuple[Route, ...] = tuple(
    Route(id, method, ADMIN_PREFIX + path, kind="admin", auth=False, faults=False)
    for id, method, path in (
        ("admin.stats.get", "GET", "stats"),
        ("admin.stats.reset", "POST", "stats/reset"),
        ("admin.faults.get", "GET", "faults"),
        ("admin.faults.set", "PUT", "faults"),
        ("admin.faults.set", "POST", "faults"),
        ("admin.clock.advance", "POST", "clock/advance"),
    )
)

ROUTES: tuple[Route, ...] = (
    *(api_route(op) for op in API_OPERATIONS.values()),
    *(route for route in _MOCK_ROUTES if route.id not in API_OPERATIONS),
    *_ADMIN_ROUTES,
)
"""Every route the mock answers: the spec's operations, the mock's extra routes, admin."""

OPERATION_IDS: tuple[str, ...] = tuple(r.id for r in ROUTES if r.kind != "admin")
"""Names of the routed operations (fault filters, statistics): the spec's ``operationId`` for
API operations."""


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    params: dict[str, str]


@dataclass(frozen=True)
class MethodNotAllowed:
    """The path exists, the method does not: ``allowed`` goes into the ``Allow`` header."""

    allowed: tuple[str, ...]


class Router:
    """Matches ``(method, path)`` against routes (the path without the ``/replicate`` prefix).

    ``wrong_method_404``: a path served only with other methods is not found (a server that does
    not know the path at all, e.g. a router without ``GET /v1/predictions``), not a 405."""

    def __init__(self, routes: Iterable[Route] = ROUTES, *, wrong_method_404: bool = False) -> None:
        self.routes = tuple(routes)
        self.wrong_method_404 = wrong_method_404
        seen: dict[tuple[str, str], str] = {}
        for route in self.routes:
            key = (route.method, _PLACEHOLDER.sub("{}", route.template))
            if key in seen:
                raise ValueError(f"routes {seen[key]} and {route.id} answer the same requests")
            seen[key] = route.id
        # bucket by segment count: a template matches only paths with as many segments
        self._by_depth: dict[int, list[Route]] = {}
        for route in self.routes:
            self._by_depth.setdefault(route.template.count("/"), []).append(route)

    def match(self, method: str, path: str) -> RouteMatch | MethodNotAllowed | None:
        allowed: list[str] = []
        for route in self._by_depth.get(path.count("/"), ()):
            found = route.pattern.fullmatch(path)
            if found is None:
                continue
            if route.method != method:
                allowed.append(route.method)
                continue
            return RouteMatch(route, found.groupdict())
        if allowed and not self.wrong_method_404:
            return MethodNotAllowed(tuple(sorted(set(allowed))))
        return None

    def by_id(self) -> Mapping[str, tuple[Route, ...]]:
        """Routes by name (an admin name may cover several methods)."""
        table: dict[str, list[Route]] = {}
        for route in self.routes:
            table.setdefault(route.id, []).append(route)
        return {k: tuple(v) for k, v in table.items()}
