"""The model catalogue: every model the mock shows, with one consistent state.

Two kinds of model live here. *Served* models are the registry's (the generated packages): the
mock runs them, shows one version each, and refuses to change or delete them (they are not the
account's). *Account* models are created through ``models.create``: they belong to the mock's
account (:data:`ACCOUNT`), can be updated and deleted, and gain a version each time a training
with them as ``destination`` succeeds (:meth:`Catalog.trained_versions`, computed from the
trainings when looked at, like everything else in the mock).

Handlers: ``models.get / create / update / delete / list / search``, ``models.versions.get /
list / delete``, ``models.readme.get``, ``models.examples.list``, ``collections.list / get``,
``hardware.list``, ``account.get``, ``search``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from replicate_typed.core.model import ModelInfo
from replicate_typed.mock.bodies import json_body
from replicate_typed.mock.clock import Clock
from replicate_typed.mock.config import MockConfig
from replicate_typed.mock.lifecycle import Lifecycle, Prediction
from replicate_typed.mock.messages import (
    MockRequest,
    MockResponse,
    decode_cursor,
    encode_cursor,
    field_error,
    invalid,
    iso,
    json_response,
    not_found,
    problem,
)
from replicate_typed.mock.models import Models
from replicate_typed.mock.outputs import plan_output
from replicate_typed.mock.store import Store

__all__ = ["ACCOUNT", "HARDWARE", "Catalog", "forbidden", "page"]

ACCOUNT: dict[str, str] = {
    "type": "user",
    "username": "mock-user",
    "name": "replicate-typed mock",
    "github_url": "https://github.com/replicate-typed",
    "avatar_url": "https://replicate.com/static/avatars/mock-user.png",
}
"""The account every accepted token belongs to (``account.get``); it owns created models,
deployments and trained versions."""

HARDWARE: tuple[dict[str, str], ...] = (
    {"name": "CPU", "sku": "cpu"},
    {"name": "Nvidia T4 GPU", "sku": "gpu-t4"},
    {"name": "Nvidia A40 GPU", "sku": "gpu-a40-small"},
    {"name": "Nvidia A40 (Large) GPU", "sku": "gpu-a40-large"},
    {"name": "Nvidia L40S GPU", "sku": "gpu-l40s"},
    {"name": "Nvidia A100 (80GB) GPU", "sku": "gpu-a100-large"},
    {"name": "Nvidia H100 GPU", "sku": "gpu-h100"},
)
"""``hardware.list``: the SKUs deployments and models may name."""

HARDWARE_SKUS = frozenset(h["sku"] for h in HARDWARE)

NAME = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,98}[a-z0-9])?")
"""A *new* model or deployment name: lower-case letters, digits, ``.``, ``_``, ``-`` (as
Replicate's create forms ask); any such name is also a valid part of ``owner/name``
(:mod:`replicate_typed.core.refs`, the rule every reference is checked by)."""

_EPOCH = 1704067200.0  # 2024-01-01: when the served models' versions were "pushed"
_MODEL_KEYS = frozenset(
    {
        "owner",
        "name",
        "description",
        "visibility",
        "hardware",
        "github_url",
        "paper_url",
        "license_url",
        "cover_image_url",
    }
)
_UPDATE_KEYS = frozenset(
    {"description", "readme", "github_url", "paper_url", "weights_url", "license_url"}
)
_URL_KEYS = frozenset({"github_url", "paper_url", "license_url", "cover_image_url", "weights_url"})
_SORT_BY = ("latest_version_created_at", "model_created_at")
_SORT_DIRECTION = ("desc", "asc")
_SEARCH_LIMIT = (1, 50)
_WORD = re.compile(r"[^\s\"'`]+")


def forbidden(detail: str) -> MockResponse:
    return problem(403, "Forbidden", detail)


def page(
    req: MockRequest,
    items: Sequence[Any],
    size: int,
    path: str,
    keep: Mapping[str, str] | None = None,
    render: Callable[[Any], Any] | None = None,
) -> MockResponse:
    """One page of ``items`` (already in answer order) at the request's ``cursor``: offsets in
    the cursor, ``next``/``previous`` URLs under the request's base and prefix, the query
    parameters in ``keep`` carried along; ``render`` turns a record into its JSON (only the
    page's records are rendered). A bad cursor is a 422."""
    start = 0
    cursor = req.query.get("cursor")
    if cursor is not None:
        try:
            direction, start = decode_cursor(cursor)
        except ValueError:
            return invalid([field_error("cursor", "invalid cursor")], "Invalid query")
        if direction != "a":
            return invalid([field_error("cursor", "invalid cursor")], "Invalid query")
    chunk = list(items[start : start + size])
    if render is not None:
        chunk = [render(item) for item in chunk]

    def url(offset: int) -> str:
        params = {**(keep or {}), "cursor": encode_cursor("a", offset)}
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
        return f"{req.base}{req.prefix}/v1{path}?{query}"

    next_url = url(start + size) if start + size < len(items) else None
    previous_url = url(max(0, start - size)) if start > 0 else None
    return json_response(200, {"next": next_url, "previous": previous_url, "results": chunk})


@dataclass(eq=False)
class AccountModel:
    """A model created with ``models.create`` (owned by :data:`ACCOUNT`)."""

    owner: str
    name: str
    description: str | None
    visibility: str
    hardware: str
    created_at: float
    urls: dict[str, str | None] = field(default_factory=dict)
    readme: str | None = None
    deleted_versions: set[str] = field(default_factory=set)

    @property
    def ref(self) -> str:
        return f"{self.owner}/{self.name}"


class Catalog:
    """Models (served and account), versions, collections, hardware and the account."""

    def __init__(
        self,
        config: MockConfig,
        clock: Clock,
        store: Store,
        lifecycle: Lifecycle,
        models: Models,
    ) -> None:
        self.config = config
        self.clock = clock
        self.store = store
        self.lifecycle = lifecycle
        self.models = models
        self.account_models: dict[str, AccountModel] = {}
        self.deployed_versions: Callable[[], Iterable[tuple[str, str]]] = lambda: ()
        """``(model ref, version id)`` of every deployment's current release (set by the
        deployments): a deployed version cannot be deleted."""

    # ------------------------------------------------------------------ lookups

    def served(self, ref: str) -> ModelInfo[Any, Any] | None:
        """The registry model named exactly ``ref`` (``owner/name``)."""
        info = self.models.lookup(ref)
        return info if info is not None and info.ref == ref else None

    def exists(self, ref: str) -> bool:
        return ref in self.account_models or self.served(ref) is not None

    def _ref(self, req: MockRequest) -> str:
        return f"{req.params['model_owner']}/{req.params['model_name']}"

    def trainings_into(self, ref: str) -> list[Prediction]:
        """Trainings with ``ref`` as destination, newest first."""
        found = [t for t in self.store.trainings.values() if t.training is not None]
        return [t for t in reversed(found) if t.training and t.training.destination == ref]

    def trained_versions(self, ref: str) -> list[dict[str, Any]]:
        """The versions trainings made in account model ``ref`` by now, newest first."""
        model = self.account_models.get(ref)
        if model is None:
            return []
        now = self.clock.now()
        versions: list[dict[str, Any]] = []
        for t in self.trainings_into(ref):
            assert t.training is not None
            st = self.lifecycle.state(t, now)
            if st.status != "succeeded" or t.training.version_id in model.deleted_versions:
                continue
            versions.append(
                {
                    "id": t.training.version_id,
                    "created_at": iso(st.completed_at),
                    "cog_version": "0.13.7",
                    "openapi_schema": self.models.openapi_schema(t.info),
                }
            )
        return versions

    def versions_of(self, ref: str) -> list[dict[str, Any]] | None:
        """Every version of ``ref``, newest first; None for an unknown model."""
        if ref in self.account_models:
            return self.trained_versions(ref)
        info = self.served(ref)
        if info is None:
            return None
        return [self.models.version_object(info)]

    def trained_model(self, version_id: str) -> tuple[str, ModelInfo[Any, Any]] | None:
        """``(destination, trainer)`` of a version a training made (it runs like its trainer)."""
        now = self.clock.now()
        for t in self.store.trainings.values():
            target = t.training
            if target is None or target.version_id != version_id:
                continue
            model = self.account_models.get(target.destination)
            if model is None or version_id in model.deleted_versions:
                return None
            if self.lifecycle.state(t, now).status == "succeeded":
                return target.destination, t.info
        return None

    def model_object(self, ref: str) -> dict[str, Any] | None:
        account = self.account_models.get(ref)
        if account is not None:
            versions = self.trained_versions(ref)
            return {
                "url": f"https://replicate.com/{ref}",
                "owner": account.owner,
                "name": account.name,
                "description": account.description,
                "visibility": account.visibility,
                "is_official": False,
                "github_url": account.urls.get("github_url"),
                "paper_url": account.urls.get("paper_url"),
                "license_url": account.urls.get("license_url"),
                "cover_image_url": account.urls.get("cover_image_url"),
                "run_count": self.models.runs[ref],
                "default_example": None,
                "latest_version": versions[0] if versions else None,
            }
        info = self.served(ref)
        if info is None:
            return None
        return {
            "url": f"https://replicate.com/{ref}",
            "owner": info.owner,
            "name": info.name,
            "description": f"{ref} served by the replicate-typed mock",
            "visibility": "public",
            "is_official": info.call_by == "path",
            "github_url": None,
            "paper_url": None,
            "license_url": None,
            "cover_image_url": None,
            "run_count": self.models.runs[ref],
            "default_example": None,
            "latest_version": self.models.version_object(info),
        }

    def _created_at(self, ref: str) -> float:
        account = self.account_models.get(ref)
        return account.created_at if account is not None else _EPOCH

    def _latest_version_at(self, ref: str) -> float:
        if ref in self.account_models:
            trained = [t for t in self.trainings_into(ref) if t.training is not None]
            now = self.clock.now()
            done = [t.end[0] for t in trained if self.lifecycle.state(t, now).status == "succeeded"]
            return max(done, default=self._created_at(ref))
        return _EPOCH

    def all_refs(self) -> list[str]:
        return sorted({*self.models.registry, *self.account_models})

    # ------------------------------------------------------------------ models

    def get(self, req: MockRequest) -> MockResponse:
        """``models.get``"""
        ref = self._ref(req)
        found = self.model_object(ref)
        if found is None:
            return not_found(self.models.missing(f"Model {ref}"))
        return json_response(200, found)

    def list_models(self, req: MockRequest) -> MockResponse:
        """``models.list``: every model, ``sort_by`` / ``sort_direction`` as the document says."""
        sort_by = req.query.get("sort_by", _SORT_BY[0])
        direction = req.query.get("sort_direction", _SORT_DIRECTION[0])
        fields = []
        if sort_by not in _SORT_BY:
            fields.append(field_error("sort_by", f"must be one of {', '.join(_SORT_BY)}", "enum"))
        if direction not in _SORT_DIRECTION:
            fields.append(field_error("sort_direction", "must be one of desc, asc", "enum"))
        if fields:
            return invalid(fields, "Invalid query")
        key = self._created_at if sort_by == "model_created_at" else self._latest_version_at
        refs = sorted(self.all_refs(), key=lambda r: (key(r), r), reverse=direction == "desc")
        objects = [self.model_object(r) for r in refs]
        keep = {k: v for k, v in req.query.items() if k in ("sort_by", "sort_direction")}
        return page(req, [o for o in objects if o], self.config.page_size, "/models", keep)

    def search_models(self, req: MockRequest) -> MockResponse:
        """``models.search`` (``QUERY /v1/models``, the query as the text/plain body)."""
        try:
            text = req.body.decode("utf-8").strip()
        except UnicodeDecodeError:
            return invalid([field_error("body", "the search query must be UTF-8 text")])
        if not _WORD.search(text):
            return invalid([field_error("body", "the search query is required", "required")])
        found = [o for o in (self.model_object(r) for r in self._matching(text)) if o]
        return json_response(
            200, {"next": None, "previous": None, "results": found[: self.config.page_size]}
        )

    def _matching(self, text: str) -> list[str]:
        """Models whose name (or description) holds every word of ``text``; quotes are not
        part of a word (the JS client sends its query JSON-encoded: ``"flux"``)."""
        words = _WORD.findall(text.lower())
        hits = []
        for ref in self.all_refs():
            account = self.account_models.get(ref)
            haystack = f"{ref} {account.description or '' if account else ''}".lower()
            if all(w in haystack for w in words):
                hits.append(ref)
        return hits

    def create(self, req: MockRequest) -> MockResponse:
        """``models.create``: an account model without versions (201)."""
        body = json_body(req)
        if isinstance(body, MockResponse):
            return body
        if not isinstance(body, dict):
            return invalid([field_error("body", "The request body must be a JSON object")])
        fields = [
            field_error(k, f"Additional property {k} is not allowed", "additional_property")
            for k in body
            if k not in _MODEL_KEYS
        ]
        for key in ("owner", "name", "visibility", "hardware"):
            if not isinstance(body.get(key), str):
                fields.append(field_error(key, f"{key} is required (a string)", "required"))
        name = body.get("name")
        if isinstance(name, str) and not NAME.fullmatch(name):
            fields.append(field_error("name", "lower-case letters, digits, '.', '_', '-'"))
        if body.get("visibility") not in (None, "public", "private"):
            fields.append(field_error("visibility", "must be public or private", "enum"))
        hardware = body.get("hardware")
        if isinstance(hardware, str) and hardware not in HARDWARE_SKUS:
            fields.append(field_error("hardware", "not a SKU of hardware.list", "enum"))
        fields += _text_errors(body, ("description",), _URL_KEYS)
        if fields:
            return invalid(fields)
        owner = body["owner"]
        if owner != ACCOUNT["username"]:
            return forbidden(
                f"owner must be the account the token belongs to ({ACCOUNT['username']})"
            )
        ref = f"{owner}/{name}"
        if self.exists(ref):
            return problem(409, "Conflict", f"A model named {ref} already exists")
        self.account_models[ref] = AccountModel(
            owner=owner,
            name=str(name),
            description=body.get("description"),
            visibility=body["visibility"],
            hardware=str(hardware),
            created_at=self.clock.now(),
            urls={k: body.get(k) for k in _URL_KEYS},
        )
        return json_response(201, self.model_object(ref))

    def _own(self, ref: str) -> AccountModel | MockResponse:
        account = self.account_models.get(ref)
        if account is not None:
            return account
        if self.served(ref) is not None:
            return forbidden(f"{ref} is not a model of this account ({ACCOUNT['username']})")
        return not_found(self.models.missing(f"Model {ref}"))

    def update(self, req: MockRequest) -> MockResponse:
        """``models.update``: description, readme and URLs of an account model."""
        body = json_body(req)
        if isinstance(body, MockResponse):
            return body
        if body is None:
            body = {}  # the document's body is optional: nothing to change
        if not isinstance(body, dict):
            return invalid([field_error("body", "The request body must be a JSON object")])
        fields = [
            field_error(k, f"Additional property {k} is not allowed", "additional_property")
            for k in body
            if k not in _UPDATE_KEYS
        ]
        fields += _text_errors(body, ("description", "readme"), _URL_KEYS)
        if fields:
            return invalid(fields)
        account = self._own(self._ref(req))
        if isinstance(account, MockResponse):
            return account
        for key, value in body.items():
            if key == "description":
                account.description = value
            elif key == "readme":
                account.readme = value
            else:
                account.urls[key] = value
        return json_response(200, self.model_object(account.ref))

    def delete(self, req: MockRequest) -> MockResponse:
        """``models.delete``: an account model without versions (204); else 409."""
        account = self._own(self._ref(req))
        if isinstance(account, MockResponse):
            return account
        if self.trained_versions(account.ref):
            return problem(
                409, "Conflict", "A model with versions cannot be deleted: delete its versions"
            )
        del self.account_models[account.ref]
        return MockResponse(204)

    def readme(self, req: MockRequest) -> MockResponse:
        """``models.readme.get``: Markdown (text/plain)."""
        ref = self._ref(req)
        account = self.account_models.get(ref)
        if account is not None:
            if account.readme is None:
                return not_found(f"{ref} has no README")
            text = account.readme
        else:
            info = self.served(ref)
            if info is None:
                return not_found(self.models.missing(f"Model {ref}"))
            text = f"# {ref}\n\nServed by the replicate-typed mock (version {self.models.version_id(info)}).\n"
        return MockResponse(200, {"content-type": "text/plain; charset=utf-8"}, text.encode())

    def examples(self, req: MockRequest) -> MockResponse:
        """``models.examples.list``: the spec's examples as succeeded predictions."""
        ref = self._ref(req)
        if ref in self.account_models:
            return page(req, [], self.config.page_size, f"/models/{ref}/examples")
        info = self.served(ref)
        if info is None:
            return not_found(self.models.missing(f"Model {ref}"))
        return page(
            req,
            [self._example(info, i, e) for i, e in enumerate(info.examples)],
            self.config.page_size,
            f"/models/{ref}/examples",
        )

    def _example(self, info: ModelInfo[Any, Any], index: int, example: Mapping[str, Any]) -> Any:
        inputs = dict(example.get("input") or {})
        pid = hashlib.sha256(f"example {info.ref} {index}".encode()).hexdigest()[:26]
        plan = plan_output(
            ref=info.ref,
            seed=index,
            inputs=inputs,
            input_schema=info.input_schema,
            output_schema=info.output_schema,
            max_side=64,
        )
        files = {f.name: f"https://replicate.delivery/mock/{pid}/{f.name}" for f in plan.files}
        return {
            "id": pid,
            "model": info.ref,
            "version": self.models.version_id(info),
            "input": inputs,
            "output": plan.render(lambda spec: files[spec.name]),
            "logs": "",
            "error": None,
            "status": "succeeded",
            "data_removed": False,
            "created_at": iso(_EPOCH),
            "started_at": iso(_EPOCH + 1),
            "completed_at": iso(_EPOCH + 3),
            "source": "web",
            "metrics": {"predict_time": 2.0, "total_time": 3.0},
            "urls": {
                "get": f"https://api.replicate.com/v1/predictions/{pid}",
                "cancel": f"https://api.replicate.com/v1/predictions/{pid}/cancel",
                "web": f"https://replicate.com/p/{pid}",
            },
        }

    # ------------------------------------------------------------------ versions

    def version(self, req: MockRequest) -> MockResponse:
        """``models.versions.get``"""
        ref, vid = self._ref(req), req.params["version_id"]
        versions = self.versions_of(ref)
        if versions is None:
            return not_found(self.models.missing(f"Model {ref}"))
        found = next((v for v in versions if v["id"] == vid), None)
        if found is None:
            return not_found(f"Version {vid} of {ref} not found")
        return json_response(200, found)

    def versions(self, req: MockRequest) -> MockResponse:
        """``models.versions.list``: newest first (a served model has one version)."""
        ref = self._ref(req)
        versions = self.versions_of(ref)
        if versions is None:
            return not_found(self.models.missing(f"Model {ref}"))
        return page(req, versions, self.config.page_size, f"/models/{ref}/versions")

    def delete_version(self, req: MockRequest) -> MockResponse:
        """``models.versions.delete``: a trained version of an account model (202), unless a
        deployment runs it (409)."""
        ref, vid = self._ref(req), req.params["version_id"]
        account = self._own(ref)
        if isinstance(account, MockResponse):
            return account
        if not any(v["id"] == vid for v in self.trained_versions(ref)):
            return not_found(f"Version {vid} of {ref} not found")
        if (ref, vid) in set(self.deployed_versions()):
            return problem(409, "Conflict", f"Version {vid} has a deployment: delete it first")
        account.deleted_versions.add(vid)
        return MockResponse(202)

    # ------------------------------------------------------------------ the rest

    def account(self, req: MockRequest) -> MockResponse:
        """``account.get``"""
        return json_response(200, ACCOUNT)

    def hardware(self, req: MockRequest) -> MockResponse:
        """``hardware.list``"""
        return json_response(200, list(HARDWARE))

    def _collections(self) -> dict[str, tuple[str, str, list[str]]]:
        """slug -> (name, description, model refs), built from the served models."""
        registry = self.models.registry
        refs = sorted(registry)
        official = [r for r in refs if registry[r].call_by == "path"]
        images = [r for r in refs if "prompt" in (registry[r].input_schema.get("properties") or {})]
        trainers = [r for r in refs if registry[r].training is not None]
        return {
            "text-to-image": (
                "Text to image",
                "Models that generate images from text prompts",
                images,
            ),
            "official": ("Official models", "Models called by name, always on", official),
            "lora-trainers": (
                "LoRA trainers",
                "Models you can fine-tune with your own images",
                trainers,
            ),
        }

    def collections(self, req: MockRequest) -> MockResponse:
        """``collections.list``"""
        items = [
            {"name": name, "slug": slug, "description": description}
            for slug, (name, description, _) in self._collections().items()
        ]
        return page(req, items, self.config.page_size, "/collections")

    def collection(self, req: MockRequest) -> MockResponse:
        """``collections.get``: the collection with its models."""
        slug = req.params["collection_slug"]
        found = self._collections().get(slug)
        if found is None:
            return not_found(f"Collection {slug} not found")
        name, description, refs = found
        return json_response(
            200,
            {
                "name": name,
                "slug": slug,
                "description": description,
                "full_description": f"## {name}\n\n{description}.",
                "models": [o for o in (self.model_object(r) for r in refs) if o],
            },
        )

    def search(self, req: MockRequest) -> MockResponse:
        """``search``: models and collections matching ``query`` (``limit`` 1..50, default 20)."""
        query = req.query.get("query")
        fields = []
        if query is None or not query.strip():
            fields.append(field_error("query", "query is required", "required"))
        raw_limit = req.query.get("limit", "20")
        limit = int(raw_limit) if re.fullmatch(r"[0-9]{1,4}", raw_limit) else None
        if limit is None or not _SEARCH_LIMIT[0] <= limit <= _SEARCH_LIMIT[1]:
            fields.append(field_error("limit", "an integer from 1 to 50"))
        if fields:
            return invalid(fields, "Invalid query")
        assert query is not None and limit is not None
        refs = self._matching(query)[:limit]
        models = []
        for rank, ref in enumerate(refs):
            found = self.model_object(ref)
            if found is not None:
                metadata = {
                    "generated_description": found["description"] or ref,
                    "tags": [ref.split("/")[1]],
                    "score": round(1.0 / (rank + 1), 6),
                }
                models.append({"model": found, "metadata": metadata})
        words = _WORD.findall(query.lower())
        collections = [
            {"name": name, "slug": slug, "description": description, "models": refs_[:10]}
            for slug, (name, description, refs_) in self._collections().items()
            if all(w in f"{slug} {name} {description}".lower() for w in words)
        ]
        return json_response(
            200, {"query": query, "models": models, "collections": collections, "pages": []}
        )


def _text_errors(
    body: Mapping[str, Any], texts: Iterable[str], urls: Iterable[str]
) -> list[dict[str, str]]:
    """``invalid_fields`` for optional text and URL properties of a model body."""
    fields = []
    for key in texts:
        if key in body and not isinstance(body[key], str):
            fields.append(field_error(key, f"{key} must be a string", "invalid_type"))
    for key in urls:
        value = body.get(key)
        if (
            key in body
            and value is not None
            and not (isinstance(value, str) and value.startswith(("http://", "https://")))
        ):
            fields.append(field_error(key, f"{key} must be an http(s) URL"))
    return fields
