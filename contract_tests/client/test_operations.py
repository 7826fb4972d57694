"""Every operation of the API document is a method of both clients, generated, and sends exactly
its row of the spec.

Derived from ``specs/api/openapi.json`` at test time (not from the generated code): an operation
added to the spec without regenerating fails here, and so does a method whose method, path,
body, retry class or answer type strays from the spec. For each operation, through ``Client``
and ``AsyncClient`` (respx): the method and path on the wire, the JSON body, the answer parsed
into the spec's type (a page read item by item), the raw answer, a 503 retried unless the
operation creates something, and errors named by the ``operationId``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.api_resources import Method, api_methods
from contract_tests.client.test_client_helpers import PID, SDXL_VERSION, TOKEN, FakeTime
from replicate_typed.client import AsyncClient, Client, errors
from replicate_typed.client import _requests as rq
from replicate_typed.core.calls import RawResponse
from replicate_typed.resources import _calls
from replicate_typed.types import api
from replicate_typed.types.operations import OPERATIONS

ROOT = Path(__file__).resolve().parents[2]
SPEC_FILE = ROOT / "specs" / "api" / "openapi.json"
SPEC: dict[str, Any] = json.loads(SPEC_FILE.read_text("utf-8"))
METHODS: dict[str, Method] = {m.id: m for m in api_methods(SPEC, SPEC_FILE)}
BASE = "https://router.example/replicate"
PREFIX = "/replicate/v1"
REF = "acme/thing"


def spec_operations() -> set[str]:
    return {
        op["operationId"]
        for item in SPEC["paths"].values()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete", "query")
    }


# --- values a call is made with, and answers a server gives, from the spec ---------------------


def sample(method: Method, name: str, annotation: str) -> Any:
    if f"{{{name}_owner}}" in method.path or name in ("model", "destination"):
        return REF
    if name in ("version_id", "version"):
        return SDXL_VERSION
    literal = re.match(r"Literal\['([^']*)'", annotation)
    if literal:
        return literal.group(1)
    return {
        "str": "abc1",
        "int": 3,
        "bool": True,
        "bool | int": True,
        "bytes": b"content",
        "datetime | str": "2025-01-01T00:00:00Z",
        "Mapping[str, Any]": {"k": 1},
    }.get(annotation, [] if annotation.startswith("Sequence") else "abc1")


def arguments(method: Method) -> tuple[list[Any], dict[str, Any]]:
    args = [sample(method, p.name, p.annotation) for p in method.positional]
    kwargs = {p.name: sample(method, p.name, p.annotation) for p in method.keyword if p.required}
    return args, kwargs


def expected_path(method: Method, args: list[Any]) -> str:
    path = method.path
    for param, value in zip(method.positional, args, strict=False):
        if param.where != "path":
            continue
        if f"{{{param.name}_owner}}" in path:
            owner, name = value.split("/")
            path = path.replace(f"{{{param.name}_owner}}", owner)
            path = path.replace(f"{{{param.name}_name}}", name)
        else:
            path = path.replace(f"{{{param.wire}}}", value)
    return PREFIX + path


def resolve(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = SPEC["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def minimal(schema: Any, depth: int = 0) -> Any:
    """The smallest value the schema allows (required properties only)."""
    schema = resolve(schema)
    if not isinstance(schema, dict) or depth > 8:
        return None
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return minimal(schema[key][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        out = {name: minimal(props.get(name, {}), depth + 1) for name in schema.get("required", [])}
        if "id" in props:
            out["id"] = "abc1"
        return out
    if kind == "array":
        return []
    if kind == "string":
        return "2025-01-01T00:00:00Z" if schema.get("format") == "date-time" else "abc1"
    return {"integer": 1, "number": 1.0, "boolean": True}.get(str(kind), "abc1")


def answer(method: Method) -> httpx.Response:
    op = SPEC["paths"][method.path][method.http_method.lower()]
    status = int(min(c for c in op["responses"] if c.startswith("2")))
    if method.kind == "empty":
        return httpx.Response(status)
    if method.kind == "text":
        return httpx.Response(status, text="# readme", headers={"content-type": "text/plain"})
    if method.kind == "bytes":
        return httpx.Response(status, content=b"\x00\x01")
    if method.kind == "page":
        item = minimal({"$ref": f"#/components/schemas/{method.returns}"})
        return httpx.Response(status, json={"results": [item], "next": None, "previous": None})
    schema = op["responses"][str(status)]["content"]["application/json"]["schema"]
    if method.kind == "list":
        return httpx.Response(status, json=[minimal(schema["items"])])
    return httpx.Response(status, json=minimal(schema))


def check_parsed(method: Method, value: Any) -> None:
    if method.kind == "model":
        assert isinstance(value, getattr(api, method.returns)), value
    elif method.kind in ("list", "page"):
        item = re.sub(r"^list\[(\w+)\]$", r"\1", method.returns)
        assert len(value) == 1 and isinstance(value[0], getattr(api, item)), value
    elif method.kind == "text":
        assert value == "# readme"
    elif method.kind == "bytes":
        assert value == b"\x00\x01"
    else:
        assert value is None


def resource(client: Any, op_id: str) -> Any:
    node = client
    for part in op_id.split(".")[:-1]:
        node = getattr(node, part)
    return node


def call_sync(client: Client, method: Method, raw: bool = False) -> Any:
    args, kwargs = arguments(method)
    target = getattr(resource(client.with_raw_response if raw else client, method.id), method.name)
    result = target(*args, **kwargs)
    return list(result) if method.kind == "page" and not raw else result


async def call_async(client: AsyncClient, method: Method, raw: bool = False) -> Any:
    args, kwargs = arguments(method)
    target = getattr(resource(client.with_raw_response if raw else client, method.id), method.name)
    if method.kind == "page" and not raw:
        return [item async for item in target(*args, **kwargs)]
    return await target(*args, **kwargs)


class Recorder:
    """A transport answering from a list of responses (the last repeats), recording requests;
    no respx and no TLS context: a per-operation case costs milliseconds."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = answers
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        template = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return httpx.Response(
            template.status_code, headers=template.headers, content=template.content
        )


def run(mode: str, method: Method, recorder: Recorder, raw: bool = False) -> Any:
    clock = FakeTime()
    if mode == "sync":
        transport = httpx.MockTransport(recorder)
        with Client(TOKEN, BASE, transport=transport, sleep=clock.sleep, clock=clock.clock) as c:
            try:
                return call_sync(c, method, raw)
            except errors.ReplicateError as exc:
                return exc

    async def main() -> Any:
        transport = httpx.MockTransport(recorder)
        async with AsyncClient(
            TOKEN, BASE, transport=transport, sleep=clock.asleep, clock=clock.clock
        ) as client:
            try:
                return await call_async(client, method, raw)
            except errors.ReplicateError as exc:
                return exc

    return asyncio.run(main())


# --- every operation, a method of both clients ------------------------------------------------


def test_the_spec_the_table_and_the_generated_methods_have_the_same_operations() -> None:
    assert len(spec_operations()) >= 37
    assert spec_operations() == set(OPERATIONS) == set(METHODS)


@pytest.mark.parametrize("op_id", sorted(spec_operations()))
def test_every_operation_is_a_method_of_both_clients(op_id: str) -> None:
    method = METHODS[op_id]
    for client in (Client(TOKEN, BASE), AsyncClient(TOKEN, BASE)):
        target = getattr(resource(client, op_id), method.name)
        assert callable(target) and (target.__doc__ or "").strip(), op_id
        raw = getattr(resource(client.with_raw_response, op_id), method.name)
        assert callable(raw), op_id
        for option in ("extra_headers", "timeout", "max_retries"):
            assert option in target.__code__.co_varnames, (op_id, option)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("op_id", sorted(spec_operations()))
def test_each_operation_sends_its_row_and_parses_its_answer(op_id: str, mode: str) -> None:
    method = METHODS[op_id]
    recorder = Recorder(answer(method))
    value = run(mode, method, recorder)
    assert not isinstance(value, BaseException), value
    check_parsed(method, value)
    request = recorder.requests[0]
    args, kwargs = arguments(method)
    assert request.method == method.http_method
    assert request.url.raw_path.decode().split("?")[0] == expected_path(method, args)
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    body_params = {p.name: p.wire for p in method.by("json")}
    if body_params:
        sent = json.loads(request.content)
        assert sent == {body_params[k]: v for k, v in kwargs.items() if k in body_params}
    for param in method.by("query"):
        if param.required:
            assert request.url.params[param.wire] == str(kwargs[param.name])
    if method.by("content"):
        assert request.content.decode() == args[-1]
    if method.by("form"):
        assert b'name="content"' in request.content
    # the raw answer: the HTTP response as received, and the same typed value on .parse()
    raw = run(mode, method, recorder, raw=True)
    assert isinstance(raw, RawResponse) and raw.status_code == answer(method).status_code
    parsed = raw.parse()
    if method.kind == "page":
        assert isinstance(parsed, getattr(api, method.raw_returns))
    else:
        check_parsed(method, parsed)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("op_id", sorted(spec_operations()))
def test_a_503_is_retried_by_the_operations_class_and_errors_name_it(op_id: str, mode: str) -> None:
    method = METHODS[op_id]
    op = OPERATIONS[op_id]
    problem = httpx.Response(503, json={"title": "nope", "detail": "nope", "status": 503})
    recorder = Recorder(problem, answer(method))
    outcome = run(mode, method, recorder)
    if op.retry == "create":  # never repeated once the server may have it
        assert len(recorder.requests) == 1
        assert isinstance(outcome, errors.InternalServerError)
        assert str(outcome).startswith(f"{op_id}: HTTP 503 nope")
        assert outcome.prediction_may_exist
    else:
        assert len(recorder.requests) == 2
        assert not isinstance(outcome, BaseException), outcome


# --- per-call options, with_options, with_raw_response ----------------------------------------


def test_per_call_timeout_retries_and_headers(respx_mock: respx.MockRouter) -> None:
    problem = httpx.Response(503, json={"title": "busy"})
    route = respx_mock.get(f"{BASE}/v1/account").mock(side_effect=[problem, problem, problem])
    clock = FakeTime()
    with Client(TOKEN, BASE, max_retries=4, sleep=clock.sleep, clock=clock.clock) as client:
        with pytest.raises(errors.InternalServerError):
            client.account.get(max_retries=1, timeout=2.5, extra_headers={"X-Trace": "t1"})
    assert route.call_count == 2  # one retry, not the client's four
    request = route.calls[0].request
    assert request.headers["x-trace"] == "t1"
    assert request.extensions["timeout"]["read"] == 2.5
    with pytest.raises(errors.InputError, match="extra_headers: Authorization is the client's own"):
        Client(TOKEN, BASE).account.get(extra_headers={"Authorization": "Bearer other"})
    with pytest.raises(errors.InputError, match="extra_headers"):
        Client(TOKEN, BASE).account.get(extra_headers={"X-Bad": "a\nb"})
    with pytest.raises(errors.InputError, match="max_retries"):
        Client(TOKEN, BASE).account.get(max_retries=-1)


async def test_with_options_shares_the_pool_and_changes_defaults(
    respx_mock: respx.MockRouter,
) -> None:
    route = respx_mock.get(f"{BASE}/v1/hardware").respond(200, json=[{"name": "T4", "sku": "t4"}])
    async with AsyncClient(TOKEN, BASE) as client:
        other = client.with_options(timeout=3, max_retries=0, extra_headers={"X-Team": "a"})
        assert other.http is client.http and other.base_url == client.base_url
        assert other.options.retry_policy.max_retries == 0
        hardware = await other.hardware.list()
        assert [h.sku for h in hardware] == ["t4"]
        await client.hardware.list()
    first, second = (call.request for call in route.calls)
    assert first.headers["x-team"] == "a" and "x-team" not in second.headers
    assert first.extensions["timeout"]["read"] == 3
    assert TOKEN not in repr(other)


def test_raw_response_of_a_create_keeps_the_id(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(f"{BASE}/v1/deployments/acme/sdxl/predictions").respond(
        201, json={"id": PID, "status": "starting"}, headers={"x-request-id": "r1"}
    )
    with Client(TOKEN, BASE) as client:
        raw = client.with_raw_response.deployments.predictions.create("acme/sdxl", input={"a": 1})
        assert raw.headers["x-request-id"] == "r1"
        assert raw.parse().id == PID


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
    assert httpx.URL(BASE + path).raw_path.decode() == "/replicate" + path


@given(st.sampled_from([".", ".."]), st.sampled_from(["get", "cancel"]))
def test_dot_segment_ids_are_refused_before_any_request(value: str, name: str) -> None:
    """``..`` as a prediction id would send the request to another resource (URL normalisation
    resolves it): refused with the field and the rule, and by ``operation_path`` itself."""
    client = Client(TOKEN, BASE, transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    with pytest.raises(errors.InputError, match=r"id: '\.+' is not a prediction id.*not '\.'"):
        getattr(client.predictions, name)(value)
    with pytest.raises(ValueError, match="dot segment"):
        rq.operation_path(OPERATIONS[f"predictions.{name}"], {"prediction_id": value})


@pytest.mark.parametrize("value", ["a", "a/b/c", "../x", "a/.", "", "a b/c"])
def test_owner_name_arguments_follow_the_one_rule(value: str) -> None:
    client = Client(TOKEN, BASE, transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    with pytest.raises(errors.InputError, match=r"^deployment: .* is not owner/name"):
        client.deployments.get(value)
    with pytest.raises(errors.InputError, match=r"^model: .* is not owner/name"):
        client.models.readme.get(value)


@pytest.mark.parametrize(
    "params",
    [{}, {"prediction_id": PID, "extra": "x"}, {"id": PID}, {"prediction_id": ""}],
)
def test_wrong_path_parameters_are_refused(params: dict[str, str]) -> None:
    from replicate_typed.types.operations import PREDICTIONS_GET as op

    with pytest.raises(ValueError, match="predictions.get: path parameter"):
        rq.operation_path(op, params)


# --- list operations ----------------------------------------------------------------------------

PAGES = sorted(m.id for m in METHODS.values() if m.kind == "page")


def test_every_list_operation_is_a_pager() -> None:
    assert {"predictions.list", "models.list", "deployments.list", "trainings.list"} <= set(PAGES)


@pytest.mark.parametrize("op_id", PAGES)
def test_list_operations_follow_next_on_the_base_and_refuse_loops(
    op_id: str, respx_mock: respx.MockRouter
) -> None:
    """``next`` links on another host are re-rooted on the configured base (the token goes
    nowhere else); a link that repeats is an error naming the operation, not an endless loop."""
    method = METHODS[op_id]
    args, _ = arguments(method)
    path = expected_path(method, args).removeprefix("/replicate")
    upstream_next = f"https://api.replicate.com{path}?cursor=2"
    item = answer(method).json()["results"][0]
    page = {"results": [item], "next": upstream_next}
    route = respx_mock.route().mock(side_effect=lambda request: httpx.Response(200, json=page))
    with Client(TOKEN, BASE) as client:
        with pytest.raises(
            errors.APIResponseValidationError, match=rf"^{re.escape(op_id)}: page link .* repeats"
        ):
            call_sync(client, method)
    urls = [str(call.request.url) for call in route.calls]
    assert urls[1] == BASE + upstream_next.removeprefix("https://api.replicate.com")
    assert all(u.startswith(BASE + "/v1/") for u in urls)
    assert {call.request.method for call in route.calls} == {method.http_method}


def _pages(count: int) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("cursor", "1"))
        link = f"{BASE}/v1/models?cursor={n + 1}" if n < count else None
        results = [{"owner": "o", "name": f"m{n}-{i}"} for i in range(2)]
        return httpx.Response(200, json={"results": results, "next": link, "previous": None})

    return answer


def test_a_pager_is_bounded_by_pages_and_items(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    respx_mock.get(url__startswith=f"{BASE}/v1/models").mock(side_effect=_pages(50))
    with Client(TOKEN, BASE) as client:
        pager = client.models.list()
        names = [m.name for m in pager.items(max_pages=3)]
        assert names == ["m1-0", "m1-1", "m2-0", "m2-1", "m3-0", "m3-1"] and pager.truncated
        assert "stopped after 3 pages" in caplog.text
        assert len(list(client.models.list().items(max_items=5))) == 5
        first = client.models.list().first_page()
        assert len(first) == 2 and first.has_next and first.invalid == []
        assert sum(1 for _ in client.models.list()) == 100  # every page under the default bound
        with pytest.raises(ValueError, match="max_pages"):
            list(client.models.list().pages(max_pages=0))


async def test_a_malformed_item_costs_that_item_only(
    respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    results = [
        {"id": "d1", "owner": "acme", "name": "one"},
        {"id": "d2", "owner": "acme", "name": "two", "current_release": "not an object"},
        {"id": "d3", "owner": "acme", "name": "three"},
    ]
    respx_mock.get(f"{BASE}/v1/deployments").respond(
        200, json={"results": results, "next": None, "previous": None}
    )
    async with AsyncClient(TOKEN, BASE) as client:
        page = await client.deployments.list()
        assert [d.name for d in page] == ["one", "three"]
        assert [(bad.index, bad.id) for bad in page.invalid] == [(1, "d2")]
        assert "current_release" in page.invalid[0].reason
        pages = [p async for p in client.deployments.list().pages()]
        assert [[d.name for d in p] for p in pages] == [["one", "three"]]
        seen: list[str | None] = []
        with pytest.raises(errors.APIResponseValidationError, match=r"1 item\(s\) .* left out"):
            async for deployment in client.deployments.list():
                seen.append(deployment.name)
        assert seen == ["one", "three"]  # every good item first, then the error naming the bad
    assert "deployments.list: 1 item(s) of the page left out" in caplog.text


def test_the_operations_page_is_generated_from_the_spec() -> None:
    from codegen import generate
    from codegen.api_resources import render_operations_doc

    page = (ROOT / "docs" / "api-operations.md").read_text("utf-8")
    assert page == render_operations_doc(generate.Paths(ROOT))
    for op_id in spec_operations():
        assert f"| `{op_id}` |" in page


def test_the_readme_lists_every_operation_with_its_python_call() -> None:
    """README's table of the whole API: one row per spec operation, the generated page's call."""
    page = (ROOT / "docs" / "api-operations.md").read_text("utf-8")
    calls = dict(re.findall(r"^\| `([^`]+)` \| `[^`]+` \| `([^`]+)` \|", page, re.MULTILINE))
    readme = (ROOT / "README.md").read_text("utf-8")
    rows = dict(re.findall(r"^\| `([^`]+)` \| `(client\.[^`]+)` \|$", readme, re.MULTILINE))
    assert sorted(rows) == sorted(spec_operations())
    assert rows == calls


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.builds(lambda n: {"id": f"p{n}"}, st.integers(0, 10**6)),
            st.sampled_from(
                [
                    {"id": ".."},
                    {"id": "a/b"},
                    {"id": 7},
                    {"status": "succeeded"},
                    [],
                    "not an object",
                    None,
                    {"id": "ok", "urls": "not an object"},
                ]
            ),
        ),
        max_size=12,
    )
)
def test_a_page_keeps_every_good_item_in_order_and_names_every_bad_one(
    results: list[Any],
) -> None:
    """The class: whatever mix of items a page carries, the good ones come back in order and
    each bad one is reported by its index; an unsafe id never comes back."""
    from replicate_typed.core.calls import APICall

    response = httpx.Response(200, json={"results": results, "next": None, "previous": None})
    page = rq.parse_page_items(
        response, APICall("predictions.list", cast_to="PredictionPage", item="Prediction")
    )
    good = [
        i
        for i, r in enumerate(results)
        if isinstance(r, dict)
        and isinstance(r.get("id"), str)
        and r["id"].startswith("p")
        and "urls" not in r
    ]
    assert [p.id for p in page.results] == [results[i]["id"] for i in good]
    assert [bad.index for bad in page.invalid] == [i for i in range(len(results)) if i not in good]
    assert all(bad.id is None or bad.id.startswith("p") or bad.id == "ok" for bad in page.invalid)


@given(st.text(max_size=12), st.text(max_size=12))
def test_an_owner_name_the_rule_accepts_stays_in_its_two_segments(owner: str, name: str) -> None:
    """The one rule (core/refs.py): whatever it accepts is two plain path segments, never a dot
    segment; whatever it refuses is refused before any request, naming the argument."""
    from replicate_typed.core.refs import is_model_ref

    value = f"{owner}/{name}"
    if is_model_ref(value.strip()):  # surrounding blanks are trimmed, as a user types them
        owner, name = value.strip().split("/")
        assert owner not in (".", "..") and name not in (".", "..")
        spec = rq.spec_of(_calls.models_get(value))
        assert spec.url == f"/v1/models/{owner}/{name}"
    else:
        with pytest.raises(errors.InputError, match=r"^model: .* is not owner/name"):
            rq.spec_of(_calls.models_get(value))
