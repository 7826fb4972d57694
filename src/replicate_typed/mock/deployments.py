"""Deployments: ``deployments.create / get / update / delete / list`` and
``deployments.predictions.create``.

A deployment belongs to the mock's account and runs one version of a model (a served model's
version, or a version a training made in an account model). Every change makes a new release
(``current_release.number`` counts up). Its predictions run like any other prediction of that
version (validation, ``Prefer: wait``, webhooks, the lifecycle) and carry ``deployment``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from replicate_typed.core.model import ModelInfo
from replicate_typed.mock.bodies import json_body
from replicate_typed.mock.catalog import ACCOUNT, HARDWARE_SKUS, NAME, Catalog, page
from replicate_typed.mock.clock import Clock
from replicate_typed.mock.config import MockConfig
from replicate_typed.mock.messages import (
    MockRequest,
    MockResponse,
    field_error,
    invalid,
    iso,
    json_response,
    not_found,
    problem,
)
from replicate_typed.mock.predictions import Predictions

__all__ = ["Deployments"]

_CREATE_KEYS = ("name", "model", "version", "hardware", "min_instances", "max_instances")
_UPDATE_KEYS = frozenset({"version", "hardware", "min_instances", "max_instances"})
_INSTANCES = {"min_instances": (0, 5), "max_instances": (0, 20)}


@dataclass(frozen=True)
class Release:
    number: int
    model: str
    version: str
    created_at: float
    hardware: str
    min_instances: int
    max_instances: int


@dataclass
class Deployment:
    owner: str
    name: str
    release: Release
    seq: int

    @property
    def ref(self) -> str:
        return f"{self.owner}/{self.name}"

    def render(self) -> dict[str, Any]:
        r = self.release
        return {
            "owner": self.owner,
            "name": self.name,
            "current_release": {
                "number": r.number,
                "model": r.model,
                "version": r.version,
                "created_at": iso(r.created_at),
                "created_by": dict(ACCOUNT),
                "configuration": {
                    "hardware": r.hardware,
                    "min_instances": r.min_instances,
                    "max_instances": r.max_instances,
                },
            },
        }


class Deployments:
    """The account's deployments, by ``owner/name``."""

    def __init__(
        self, config: MockConfig, clock: Clock, catalog: Catalog, predictions: Predictions
    ) -> None:
        self.config = config
        self.clock = clock
        self.catalog = catalog
        self.predictions = predictions
        self.deployments: dict[str, Deployment] = {}
        self._count = 0
        catalog.deployed_versions = self.deployed_versions

    def deployed_versions(self) -> Iterable[tuple[str, str]]:
        return [(d.release.model, d.release.version) for d in self.deployments.values()]

    def _find(self, req: MockRequest) -> Deployment | MockResponse:
        ref = f"{req.params['deployment_owner']}/{req.params['deployment_name']}"
        found = self.deployments.get(ref)
        return found if found is not None else not_found(f"Deployment {ref} not found")

    def runner(self, model: str, version: str) -> ModelInfo[Any, Any] | None:
        """The model that runs ``version`` of ``model`` (a trained version runs its trainer)."""
        info = self.catalog.served(model)
        if info is not None:
            return info if self.catalog.models.version_id(info) == version else None
        trained = self.catalog.trained_model(version)
        if trained is not None and trained[0] == model:
            return trained[1]
        return None

    def _check(self, body: dict[str, Any], fields: list[dict[str, str]]) -> None:
        """Append the body's errors to ``fields``; integral numbers become ints (``1.0`` is a
        JSON Schema integer)."""
        for key, (low, high) in _INSTANCES.items():
            if key in body:
                value = body[key]
                if isinstance(value, float) and value.is_integer():
                    value = body[key] = int(value)
                if isinstance(value, bool) or not isinstance(value, int):
                    fields.append(field_error(key, f"{key} must be an integer", "invalid_type"))
                elif not low <= value <= high:
                    fields.append(field_error(key, f"{key} must be from {low} to {high}"))
        for key in ("name", "model", "version", "hardware"):
            if key in body and not isinstance(body[key], str):
                fields.append(field_error(key, f"{key} must be a string", "invalid_type"))
        hardware = body.get("hardware")
        if isinstance(hardware, str) and hardware not in HARDWARE_SKUS:
            fields.append(field_error("hardware", "not a SKU of hardware.list", "enum"))

    def create(self, req: MockRequest) -> MockResponse:
        """``deployments.create``"""
        body = json_body(req)
        if isinstance(body, MockResponse):
            return body
        if not isinstance(body, dict):
            return invalid([field_error("body", "The request body must be a JSON object")])
        fields = [
            field_error(k, f"Additional property {k} is not allowed", "additional_property")
            for k in body
            if k not in _CREATE_KEYS
        ]
        fields += [
            field_error(k, f"{k} is required", "required") for k in _CREATE_KEYS if k not in body
        ]
        self._check(body, fields)
        name = body.get("name")
        if isinstance(name, str) and not NAME.fullmatch(name):
            fields.append(field_error("name", "lower-case letters, digits, '.', '_', '-'"))
        if not fields and body["min_instances"] > body["max_instances"]:
            fields.append(field_error("min_instances", "must not exceed max_instances"))
        if not fields and self.runner(body["model"], body["version"]) is None:
            fields.append(
                field_error("version", f"not a version of {body['model']} this mock can run")
            )
        if fields:
            return invalid(fields)
        ref = f"{ACCOUNT['username']}/{name}"
        if ref in self.deployments:
            return problem(409, "Conflict", f"A deployment named {ref} already exists")
        self._count += 1
        deployment = Deployment(
            ACCOUNT["username"],
            str(name),
            Release(
                1,
                body["model"],
                body["version"],
                self.clock.now(),
                body["hardware"],
                body["min_instances"],
                body["max_instances"],
            ),
            self._count,
        )
        self.deployments[ref] = deployment
        return json_response(200, deployment.render())

    def get(self, req: MockRequest) -> MockResponse:
        """``deployments.get``"""
        found = self._find(req)
        return found if isinstance(found, MockResponse) else json_response(200, found.render())

    def list(self, req: MockRequest) -> MockResponse:
        """``deployments.list``: newest first."""
        items = sorted(self.deployments.values(), key=lambda d: d.seq, reverse=True)
        return page(req, [d.render() for d in items], self.config.page_size, "/deployments")

    def update(self, req: MockRequest) -> MockResponse:
        """``deployments.update``: a new release with the changed configuration or version."""
        body = json_body(req)
        if isinstance(body, MockResponse):
            return body
        if body is None:
            body = {}
        if not isinstance(body, dict):
            return invalid([field_error("body", "The request body must be a JSON object")])
        fields = [
            field_error(k, f"Additional property {k} is not allowed", "additional_property")
            for k in body
            if k not in _UPDATE_KEYS
        ]
        self._check(body, fields)
        if fields:
            return invalid(fields)
        found = self._find(req)
        if isinstance(found, MockResponse):
            return found
        old = found.release
        new = replace(
            old,
            version=body.get("version", old.version),
            hardware=body.get("hardware", old.hardware),
            min_instances=body.get("min_instances", old.min_instances),
            max_instances=body.get("max_instances", old.max_instances),
        )
        if new.min_instances > new.max_instances:
            return invalid([field_error("min_instances", "must not exceed max_instances")])
        if self.runner(new.model, new.version) is None:
            return invalid(
                [field_error("version", f"not a version of {new.model} this mock can run")]
            )
        if new != old:
            found.release = replace(new, number=old.number + 1, created_at=self.clock.now())
        return json_response(200, found.render())

    def delete(self, req: MockRequest) -> MockResponse:
        """``deployments.delete``: 204."""
        found = self._find(req)
        if isinstance(found, MockResponse):
            return found
        del self.deployments[found.ref]
        return MockResponse(204)

    def create_prediction(self, req: MockRequest) -> MockResponse:
        """``deployments.predictions.create``: a prediction of the current release's version."""
        found = self._find(req)
        if isinstance(found, MockResponse):
            return found
        release = found.release
        info = self.runner(release.model, release.version)
        if info is None:  # the version went away since the release was made
            return problem(409, "Conflict", f"{found.ref} runs a version that no longer exists")
        return self.predictions.create_for_deployment(
            req, found.ref, info, release.model, release.version
        )
