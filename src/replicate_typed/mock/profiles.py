"""Profiles of the mock: which routes it serves, which request headers it heeds, and how its
prediction answers look. A profile is data (a route filter, ignored headers, answer shapers);
the backend applies it at one place each, so no handler knows about profiles.

* ``replicate`` (the default): every operation of the API document and the mock's own routes,
  answers as the official API gives them.
* ``router``: only what the router's documents (``contract_tests/fixtures/apifox``, the seeds)
  promise, and answers shaped like theirs:

  - routes: create by version (``POST /v1/predictions``), create by model path
    (``POST /v1/models/{owner}/{name}/predictions``), get by id; plus the output files (the
    router's outputs live on a file host) and the mock's ``/_mock/...`` admin. Everything else
    (list, cancel, stream, files, models, webhook secret, the web page) answers **404**, a wrong
    method included (a router does not know the path either);
  - a create answers ``{"id", "status"}`` only (seed 001);
  - a get answers exactly the fields seed 003 shows (``started_at``, ``completed_at`` and
    ``metrics`` only once they have a value, as in seed 003's create and get examples), with
    ``urls`` on the upstream host (``https://api.replicate.com/...``, the stream on
    ``https://stream.replicate.com/...``, no ``web``) and ``version: "dp-<32 hex>"`` for a
    model-path prediction;
  - ``Prefer: wait`` is ignored (the create answers at once).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from replicate_typed.mock.messages import MockResponse, dumps
from replicate_typed.mock.routes import ROUTES, Router

__all__ = [
    "PROFILES",
    "ProfileName",
    "Profile",
    "ROUTER_GET_FIELDS",
    "ROUTER_ROUTES",
    "UPSTREAM_API",
    "UPSTREAM_STREAM",
    "profile_named",
]

ProfileName = Literal["replicate", "router"]
PROFILES: tuple[ProfileName, ...] = ("replicate", "router")

UPSTREAM_API = "https://api.replicate.com"
UPSTREAM_STREAM = "https://stream.replicate.com"

Shaper = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Profile:
    """``routes``: the route names served (admin routes always are; ``None``: all).
    ``wrong_method_404``: a path served only with other methods is a 404, not a 405.
    ``ignored_headers``: request headers dropped before any handler sees them (lower case).
    ``shapers``: route name -> a function reshaping that route's 2xx JSON answer."""

    name: ProfileName
    routes: frozenset[str] | None = None
    wrong_method_404: bool = False
    ignored_headers: frozenset[str] = frozenset()
    shapers: Mapping[str, Shaper] = field(default_factory=dict)

    def router(self) -> Router:
        served = self.routes
        return Router(
            (r for r in ROUTES if served is None or r.kind == "admin" or r.id in served),
            wrong_method_404=self.wrong_method_404,
        )

    def request_headers(self, headers: dict[str, str]) -> dict[str, str]:
        if not self.ignored_headers:
            return headers
        return {k: v for k, v in headers.items() if k not in self.ignored_headers}

    def shape(self, route_id: str, response: MockResponse) -> MockResponse:
        shaper = self.shapers.get(route_id)
        if shaper is None or not 200 <= response.status < 300:
            return response
        if not isinstance(response.body, bytes):  # a stream: not a plain answer to reshape
            return response
        response.body = dumps(shaper(json.loads(response.body)))
        return response


# --- the router profile -----------------------------------------------------------------------

ROUTER_ROUTES = frozenset(
    {"predictions.create", "models.predictions.create", "predictions.get", "outputs.get"}
)
"""The routes a router serves: the three calls its documents describe, and the output files."""

ROUTER_GET_FIELDS: tuple[str, ...] = (
    "id",
    "model",
    "version",
    "input",
    "logs",
    "output",
    "data_removed",
    "error",
    "status",
    "created_at",
    "started_at",
    "completed_at",
    "urls",
    "metrics",
)
"""The fields of seed 003's get answer, in its order."""

_ONLY_ONCE_SET = frozenset({"started_at", "completed_at", "metrics"})


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def router_version(prediction: Mapping[str, Any]) -> Any:
    """``dp-<32 hex>`` for a model-path prediction (``hidden`` upstream), else the version."""
    version = prediction.get("version")
    if version == "hidden":
        return f"dp-{_digest(str(prediction.get('model')), 32)}"
    return version


def router_urls(pid: str) -> dict[str, str]:
    """``urls`` as the router passes them on: the upstream API's, no ``web`` (seed 003)."""
    return {
        "cancel": f"{UPSTREAM_API}/v1/predictions/{pid}/cancel",
        "get": f"{UPSTREAM_API}/v1/predictions/{pid}",
        "stream": f"{UPSTREAM_STREAM}/v1/files/bcwr-{_digest(pid, 52)}",
    }


def router_get(prediction: dict[str, Any]) -> dict[str, Any]:
    """A prediction as the router's get shows it (seed 003)."""
    out: dict[str, Any] = {}
    for name in ROUTER_GET_FIELDS:
        value = prediction.get(name)
        if name in _ONLY_ONCE_SET and value is None:
            continue
        if name == "version":
            value = router_version(prediction)
        elif name == "urls":
            value = router_urls(str(prediction["id"]))
        out[name] = value
    return out


def router_create(prediction: dict[str, Any]) -> dict[str, Any]:
    """A create answer as seed 001 documents it: the id and the status, nothing else."""
    return {"id": prediction["id"], "status": prediction["status"]}


_PROFILES: dict[str, Profile] = {
    "replicate": Profile("replicate"),
    "router": Profile(
        "router",
        routes=ROUTER_ROUTES,
        wrong_method_404=True,
        ignored_headers=frozenset({"prefer"}),
        shapers={
            "predictions.create": router_create,
            "models.predictions.create": router_create,
            "predictions.get": router_get,
        },
    ),
}


def profile_named(name: str) -> Profile:
    try:
        return _PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown mock profile {name!r}; known: {', '.join(PROFILES)}") from None
