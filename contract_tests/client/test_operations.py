"""Every request the client sends is its operation's row of the generated table, nothing else.

Table-driven over :data:`replicate_typed.types.operations.OPERATIONS` (from the spec): an
operation added to ``specs/api/openapi.json`` without a request builder in
``_requests.BUILDERS`` and a case here fails, and a builder whose method, path or retry class
strays from the spec's row fails. Through both clients: the method and path on the wire, the
retry class by behaviour (a 503 is retried unless the operation creates something) and the
operation's name (its ``operationId``) in errors.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import strategies as st

from contract_tests.client.test_client_helpers import PID, SDXL_VERSION, TOKEN, FakeTime, succeeded
from replicate_typed.client import _requests as rq
from replicate_typed.client import errors
from replicate_typed.client._client import AsyncClient, Client
from replicate_typed.types.operations import OPERATIONS, Operation

BASE = "https://router.example/replicate"
PREFIX = "/replicate/v1"


async def _alist(client: AsyncClient) -> list[Any]:
    return [p async for p in client.predictions.list()]


async def _alist_files(client: AsyncClient) -> list[Any]:
    return [f async for f in client.files.list()]


async def _alist_versions(client: AsyncClient) -> list[Any]:
    return [v async for v in client.models.versions.list("stability-ai/sdxl")]


@dataclass(frozen=True)
class Case:
    """How to call one operation: its builder, both clients, and a 2xx body that parses."""

    builder_args: tuple[Any, ...]
    builder_kwargs: dict[str, Any]
    path_params: dict[str, str]
    call: Callable[[Client], Any]
    acall: Callable[[AsyncClient], Awaitable[Any]]
    body: Any
    status: int = 200
    extra: dict[str, Any] = field(default_factory=dict)


FILE_BODY = {
    "id": "f1",
    "checksums": {},
    "content_type": "text/plain",
    "created_at": "2024-02-21T12:54:18.578761Z",
    "expires_at": "2024-02-21T13:54:18.578761Z",
    "metadata": {},
    "size": 3,
    "urls": {"get": f"{BASE}/v1/files/f1"},
}
MODEL = {"model_owner": "stability-ai", "model_name": "sdxl"}
VERSION_BODY = {"id": SDXL_VERSION, "created_at": "2023-07-26T21:10:30Z", "openapi_schema": {}}

CASES: dict[str, Case] = {
    "predictions.list": Case(
        (),
        {},
        {},
        lambda c: list(c.predictions.list()),
        _alist,
        {"results": [succeeded()], "next": None},
    ),
    "predictions.create": Case(
        (),
        {"version": SDXL_VERSION, "input": {"prompt": "x"}},
        {},
        lambda c: c.predictions.create(version=SDXL_VERSION, input={"prompt": "x"}),
        lambda c: c.predictions.create(version=SDXL_VERSION, input={"prompt": "x"}),
        succeeded(),
        201,
    ),
    "predictions.get": Case(
        (PID,),
        {},
        {"prediction_id": PID},
        lambda c: c.predictions.get(PID),
        lambda c: c.predictions.get(PID),
        succeeded(),
    ),
    "predictions.cancel": Case(
        (PID,),
        {},
        {"prediction_id": PID},
        lambda c: c.predictions.cancel(PID),
        lambda c: c.predictions.cancel(PID),
        succeeded(),
    ),
    "models.predictions.create": Case(
        ("stability-ai/sdxl",),
        {"input": {"prompt": "x"}},
        MODEL,
        lambda c: c.models.predictions.create("stability-ai/sdxl", input={"prompt": "x"}),
        lambda c: c.models.predictions.create("stability-ai/sdxl", input={"prompt": "x"}),
        succeeded(),
        201,
    ),
    "models.get": Case(
        ("stability-ai/sdxl",),
        {},
        MODEL,
        lambda c: c.models.get("stability-ai/sdxl"),
        lambda c: c.models.get("stability-ai/sdxl"),
        {"owner": "stability-ai", "name": "sdxl"},
    ),
    "models.versions.get": Case(
        ("stability-ai/sdxl", SDXL_VERSION),
        {},
        {**MODEL, "version_id": SDXL_VERSION},
        lambda c: c.models.versions.get("stability-ai/sdxl", SDXL_VERSION),
        lambda c: c.models.versions.get("stability-ai/sdxl", SDXL_VERSION),
        VERSION_BODY,
    ),
    "models.versions.list": Case(
        ("stability-ai/sdxl",),
        {},
        MODEL,
        lambda c: list(c.models.versions.list("stability-ai/sdxl")),
        _alist_versions,
        {"results": [VERSION_BODY], "next": None, "previous": None},
    ),
    "files.list": Case(
        (),
        {},
        {},
        lambda c: list(c.files.list()),
        _alist_files,
        {"results": [FILE_BODY], "next": None, "previous": None},
    ),
    "files.get": Case(
        ("f1",),
        {},
        {"file_id": "f1"},
        lambda c: c.files.get("f1"),
        lambda c: c.files.get("f1"),
        FILE_BODY,
    ),
    "files.delete": Case(
        ("f1",),
        {},
        {"file_id": "f1"},
        lambda c: c.files.delete("f1"),
        lambda c: c.files.delete("f1"),
        None,
        204,
    ),
    "files.create": Case(
        (b"abc",),
        {"filename": "a.txt", "content_type": "text/plain"},
        {},
        lambda c: c.files.create(b"abc", filename="a.txt"),
        lambda c: c.files.create(b"abc", filename="a.txt"),
        FILE_BODY,
        201,
    ),
    "webhooks.default.secret.get": Case(
        (),
        {},
        {},
        lambda c: c.webhooks.default_secret(),
        lambda c: c.webhooks.default_secret(),
        {"key": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"},
    ),
}


def case_of(op: Operation) -> Case:
    if op.id not in rq.BUILDERS:
        pytest.fail(
            f"operation {op.id} ({op.method} {op.path}) is in the spec but has no request builder "
            "in replicate_typed.client._requests.BUILDERS"
        )
    if op.id not in CASES:
        pytest.fail(f"operation {op.id}: add a client method for it and a Case to this test")
    return CASES[op.id]


def expected_path(op: Operation, params: dict[str, str]) -> str:
    return "/v1" + op.path.format(**params)


def test_builders_are_exactly_the_operations() -> None:
    assert set(rq.BUILDERS) == set(OPERATIONS)
    assert set(CASES) == set(OPERATIONS)


@pytest.mark.parametrize("op_id", sorted(OPERATIONS))
def test_builder_uses_its_table_row(op_id: str) -> None:
    op = OPERATIONS[op_id]
    case = case_of(op)
    spec = rq.BUILDERS[op_id](*case.builder_args, **case.builder_kwargs)
    assert (spec.method, spec.kind, spec.operation) == (op.method, op.retry, op.id)
    assert spec.url == expected_path(op, case.path_params)
    assert set(case.path_params) == set(op.path_params)


class Script:
    """Answers a fixed list of statuses (the last repeats) and records what was asked."""

    def __init__(self, case: Case, statuses: list[int]) -> None:
        self.case, self.statuses = case, statuses
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        status = self.statuses[min(len(self.requests), len(self.statuses) - 1)]
        self.requests.append(request)
        if status < 300:
            return httpx.Response(status, json=self.case.body)
        return httpx.Response(status, json={"title": "nope", "detail": "nope", "status": status})


def run_both(op_id: str, statuses: list[int], mode: str, respx_mock: respx.MockRouter) -> Any:
    op = OPERATIONS[op_id]
    case = case_of(op)
    script = Script(case, statuses)
    respx_mock.route().mock(side_effect=script)
    clock = FakeTime()
    if mode == "sync":
        with Client(TOKEN, BASE, sleep=clock.sleep, clock=clock.clock) as client:
            try:
                outcome: Any = case.call(client)
            except errors.ReplicateError as exc:
                outcome = exc
    else:

        async def main() -> Any:
            async with AsyncClient(TOKEN, BASE, sleep=clock.asleep, clock=clock.clock) as client:
                try:
                    return await case.acall(client)
                except errors.ReplicateError as exc:
                    return exc

        outcome = asyncio.run(main())
    return op, case, script, outcome


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("op_id", sorted(OPERATIONS))
def test_client_sends_the_row_and_retries_by_its_class(
    op_id: str, mode: str, respx_mock: respx.MockRouter
) -> None:
    op, case, script, outcome = run_both(
        op_id, [503, case_of(OPERATIONS[op_id]).status], mode, respx_mock
    )
    first = script.requests[0]
    assert first.method == op.method
    assert first.url.path == PREFIX + expected_path(op, case.path_params)[len("/v1") :]
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    if op.retry == "create":  # never repeated once the server may have it
        assert len(script.requests) == 1
        assert isinstance(outcome, errors.InternalServerError)
        assert str(outcome).startswith(f"{op.id}: HTTP 503")
        assert outcome.prediction_may_exist
    else:
        assert len(script.requests) == 2, outcome
        assert not isinstance(outcome, BaseException), outcome


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("op_id", sorted(OPERATIONS))
def test_errors_name_the_operation_by_its_operation_id(
    op_id: str, mode: str, respx_mock: respx.MockRouter
) -> None:
    op, _, script, outcome = run_both(op_id, [404], mode, respx_mock)
    assert len(script.requests) == 1
    assert isinstance(outcome, errors.NotFoundError)
    assert str(outcome).startswith(f"{op.id}: HTTP 404 nope")


# --- path parameters ----------------------------------------------------------------------------

path_values = st.text(min_size=1, max_size=20).filter(lambda v: v not in (".", ".."))


@given(owner=path_values, name=path_values, version=path_values)
def test_path_parameters_are_percent_encoded_into_their_own_segment(
    owner: str, name: str, version: str
) -> None:
    from replicate_typed.types.operations import MODELS_VERSIONS_GET as op

    params = {"model_owner": owner, "model_name": name, "version_id": version}
    path = rq.operation_path(op, params)
    assert re.fullmatch(r"[A-Za-z0-9\-._~%/]+", path), path  # nothing that ends or bends a path
    segments = path.split("/")
    assert len(segments) == 7 and segments[:3] == ["", "v1", "models"]
    assert [unquote(segments[i]) for i in (3, 4, 6)] == [owner, name, version]
    # the URL the client sends keeps every segment as it is (no dot-segment resolution)
    assert httpx.URL(BASE + path).raw_path.decode() == "/replicate" + path


@given(st.sampled_from([".", ".."]), st.sampled_from(["predictions.get", "predictions.cancel"]))
def test_dot_segment_ids_are_refused_before_any_request(value: str, op_id: str) -> None:
    """``..`` as a prediction id would send the request to another resource (URL normalisation
    resolves it): refused with the field and the rule, and by ``operation_path`` itself."""
    with pytest.raises(errors.InputError, match=r"id: '\.+' is not a prediction id.*not '\.'"):
        rq.BUILDERS[op_id](value)
    with pytest.raises(ValueError, match="dot segment"):
        rq.operation_path(OPERATIONS[op_id], {"prediction_id": value})


@pytest.mark.parametrize(
    "params",
    [{}, {"prediction_id": PID, "extra": "x"}, {"id": PID}, {"prediction_id": ""}],
)
def test_wrong_path_parameters_are_refused(params: dict[str, str]) -> None:
    from replicate_typed.types.operations import PREDICTIONS_GET as op

    with pytest.raises(ValueError, match="predictions.get: path parameter"):
        rq.operation_path(op, params)


# --- list operations ----------------------------------------------------------------------------

LISTS: dict[str, tuple[Callable[[Client], list[Any]], dict[str, Any]]] = {
    "predictions.list": (lambda c: list(c.predictions.list()), succeeded()),
    "files.list": (lambda c: list(c.files.list()), FILE_BODY),
    "models.versions.list": (
        lambda c: list(c.models.versions.list("stability-ai/sdxl")),
        VERSION_BODY,
    ),
}


@pytest.mark.parametrize("op_id", sorted(LISTS))
def test_list_operations_follow_next_on_the_base_and_refuse_loops(
    op_id: str, respx_mock: respx.MockRouter
) -> None:
    """``next`` links on another host are re-rooted on the configured base (the token goes
    nowhere else); a link that repeats is an error naming the operation, not an endless loop."""
    op = OPERATIONS[op_id]
    call, item = LISTS[op_id]
    upstream_next = f"https://api.replicate.com/v1{op.path}?cursor=2".replace(
        "{model_owner}/{model_name}", "stability-ai/sdxl"
    )
    pages = iter(
        [
            {"results": [item], "next": upstream_next},
            {"results": [item], "next": upstream_next},
        ]
    )
    route = respx_mock.route().mock(
        side_effect=lambda request: httpx.Response(200, json=next(pages))
    )
    with Client(TOKEN, BASE) as client:
        with pytest.raises(
            errors.APIResponseValidationError, match=rf"^{op_id}: page link .* repeats"
        ):
            call(client)
    urls = [str(call.request.url) for call in route.calls]
    assert urls[1] == BASE + upstream_next.removeprefix("https://api.replicate.com")
    assert all(u.startswith(BASE + "/v1/") for u in urls)
