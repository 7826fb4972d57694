"""Tolerant of shape: a prediction answer needs only its ``id``.

Routers answer with subsets of the official object (seed 001 documents the create answer as
``{"id", "status"}``, every field optional; seed 003's ``urls`` point at api.replicate.com and
have no ``web``; model-path predictions show ``version: "dp-<32 hex>"``). Every client operation
must give the user the prediction (with the id) or an error carrying the id; a create answer that
carries an id is never reported as "may not exist"; and the token only ever goes to the
configured base, whatever host the answer's ``urls`` name.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract_tests.client.test_client_helpers import (
    OUT_URL,
    PID,
    ROUTER,
    SDXL_VERSION,
    TOKEN,
    FakeTime,
    succeeded,
)
from replicate_typed.client import AsyncClient, Client, errors
from replicate_typed.core.field_types import FileOutput
from replicate_typed.core.model import ModelInput
from replicate_typed.models.black_forest_labs import flux_schnell
from replicate_typed.models.stability_ai import sdxl
from replicate_typed.predictions import TypedPrediction, status_of, unknown_fields
from replicate_typed.types.api import Prediction

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "apifox"
FLUX_PATH = f"{ROUTER}/v1/models/black-forest-labs/flux-schnell/predictions"


def seed_objects(name: str) -> list[dict[str, Any]]:
    """The JSON objects of a seed document that look like predictions (have id and status)."""
    text = next(SEEDS.glob(f"{name}_*.txt")).read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    found = []
    for match in re.finditer(r"^\{", text, re.M):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict) and "id" in value and "status" in value:
            found.append(value)
    return found


SEED_001_CREATE = seed_objects("001")[0]
SEED_003_CREATE, SEED_003_GET = seed_objects("003")


def make(clock: FakeTime, **kw: Any) -> Client:
    return Client(api_token=TOKEN, base_url=ROUTER, sleep=clock.sleep, clock=clock.clock, **kw)


def test_the_seeds_hold_the_shapes_these_tests_are_about() -> None:
    assert SEED_001_CREATE == {"id": "qpt5jq1fssrmc0cmd5hvy31mdg", "status": "starting"}
    assert SEED_003_GET["version"].startswith("dp-")
    assert SEED_003_GET["urls"]["get"].startswith("https://api.replicate.com/")
    assert "web" not in SEED_003_GET["urls"]


# --- the seeds' answers -------------------------------------------------------------------------


def test_seed_001_create_answer_parses_and_says_what_is_unknown(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, json=SEED_001_CREATE)
    with make(FakeTime()) as client:
        created = client.predictions.create(version=SDXL_VERSION, input={"prompt": "x"})
    assert created.id == SEED_001_CREATE["id"]
    assert status_of(created) == "starting"
    assert created.model is None and created.urls is None and created.created_at is None
    assert unknown_fields(created) >= {"model", "version", "input", "output", "urls", "created_at"}
    assert "id" not in unknown_fields(created) and "status" not in unknown_fields(created)


def test_typed_view_of_a_bare_answer() -> None:
    typed = TypedPrediction(Prediction.model_validate({"id": PID}), sdxl.MODEL)
    assert typed.id == PID
    assert typed.status is None and not typed.done
    assert typed.input is None and typed.output is None and typed.error is None
    assert not typed.data_removed
    assert "status" in typed.unknown and "id" not in typed.unknown
    # a field sent as null is known (empty), not unknown
    explicit = TypedPrediction(Prediction.model_validate({"id": PID, "output": None}), sdxl.MODEL)
    assert "output" not in explicit.unknown


def test_seed_003_get_answer_parses_with_router_version_and_upstream_urls() -> None:
    parsed = Prediction.model_validate(SEED_003_GET)
    assert parsed.version == "dp-4d0bcc010b3049749a251855f12800be"
    assert parsed.urls is not None and parsed.urls.web is None
    assert unknown_fields(parsed) == {"deadline", "deployment", "source"}


def test_run_from_an_id_only_create_answer_polls_the_configured_base(
    respx_mock: respx.MockRouter,
) -> None:
    """run() needs nothing but the id: the status comes from GETs on the router (never on the
    api.replicate.com URLs the answers name, which would receive the router's token)."""
    pid = SEED_003_GET["id"]
    respx_mock.post(FLUX_PATH).respond(201, json={"id": pid})
    get = respx_mock.get(f"{ROUTER}/v1/predictions/{pid}")
    get.side_effect = [
        httpx.Response(200, json={"id": pid, "status": "processing"}),
        httpx.Response(200, json={"id": pid}),  # no status: still not terminal
        httpx.Response(200, json=SEED_003_GET),
    ]
    with make(FakeTime()) as client:
        output = client.run(flux_schnell.Input(prompt="a fox"))
    assert [str(item) for item in output] == SEED_003_GET["output"]
    assert all(isinstance(item, FileOutput) for item in output)
    assert get.call_count == 3
    hosts = {call.request.url.host for call in respx_mock.calls}
    assert hosts == {"router.example"}  # respx refuses anything unrouted, e.g. api.replicate.com


def test_wait_on_answers_without_status_times_out_with_the_id(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").respond(200, json={"id": PID})
    with make(FakeTime()) as client, pytest.raises(errors.PredictionTimeoutError) as raised:
        client.predictions.wait(PID, timeout=10)
    assert raised.value.prediction_id == PID and raised.value.last_status is None
    assert "unknown status" in str(raised.value) and PID in str(raised.value)


def test_a_succeeded_answer_without_output_is_an_error_with_the_id(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(f"{ROUTER}/v1/predictions").respond(
        201, json={"id": PID, "status": "succeeded"}
    )
    with make(FakeTime()) as client, pytest.raises(errors.OutputValidationError) as raised:
        client.run(sdxl.Input(prompt="x"))
    assert raised.value.prediction_id == PID
    assert "no output field" in str(raised.value)


def test_stream_without_urls_names_the_prediction() -> None:
    with Client(api_token=TOKEN, base_url=ROUTER) as client:
        with pytest.raises(errors.StreamError) as raised:
            list(client.predictions.stream(Prediction.model_validate({"id": PID})))
    assert raised.value.prediction_id == PID


# --- create answers that do not fit -------------------------------------------------------------


def test_a_create_answer_with_an_id_that_does_not_fit_gives_the_id(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.post(f"{ROUTER}/v1/predictions").respond(
        201, json={"id": PID, "status": "starting", "created_at": "yesterday"}
    )
    with make(FakeTime()) as client, pytest.raises(errors.APIResponseValidationError) as raised:
        client.predictions.create(version=SDXL_VERSION, input={"prompt": "x"})
    assert raised.value.prediction_id == PID
    assert raised.value.prediction_may_exist  # it does: the server answered 201 with its id
    assert f"predictions.get({PID!r})" in str(raised.value)


@pytest.mark.parametrize("body", [b"{}", b"not json", b'{"id": 7}', b""])
def test_a_create_answer_without_an_id_may_exist(respx_mock: respx.MockRouter, body: bytes) -> None:
    respx_mock.post(f"{ROUTER}/v1/predictions").respond(201, content=body)
    with make(FakeTime()) as client, pytest.raises(errors.APIResponseValidationError) as raised:
        client.predictions.create(version=SDXL_VERSION, input={"prompt": "x"})
    assert raised.value.prediction_may_exist and raised.value.prediction_id is None
    assert "may have been created" in str(raised.value)


def test_an_upstream_stream_url_gets_no_router_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = b"event: done\ndata: {}\n\n"
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    raw = Prediction.model_validate(SEED_003_GET)
    with Client(api_token=TOKEN, base_url=ROUTER, transport=httpx.MockTransport(handler)) as client:
        events = list(client.predictions.stream(raw))
    assert [e.event for e in events] == ["done"]
    assert seen and all("authorization" not in r.headers for r in seen)


# --- property: random subsets of fields ---------------------------------------------------------

FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "model": st.sampled_from(["black-forest-labs/flux-schnell", "stability-ai/sdxl", None]),
    "version": st.sampled_from(
        ["dp-4d0bcc010b3049749a251855f12800be", "hidden", SDXL_VERSION, None]
    ),
    "input": st.sampled_from([{"prompt": "x"}, {}, None]),
    "output": st.sampled_from([None, [OUT_URL], OUT_URL, "text", 3]),
    "logs": st.sampled_from(["", "Using seed: 1\n 3/4 [00:00<00:00, 15.38it/s]\n", None]),
    "error": st.sampled_from([None, "boom"]),
    "status": st.sampled_from(
        ["starting", "processing", "succeeded", "failed", "canceled", "aborted", "queued", None]
    ),
    "data_removed": st.sampled_from([False, True, None]),
    "created_at": st.sampled_from(["2025-01-15T10:03:39.896Z", None]),
    "started_at": st.sampled_from(["2025-01-15T10:03:40.584470194Z", None]),
    "completed_at": st.sampled_from(["2025-01-15T10:03:41.142386377Z", None]),
    "metrics": st.sampled_from([{"predict_time": 0.5, "image_count": 1}, {}, None]),
    "urls": st.sampled_from(
        [
            {"get": f"https://api.replicate.com/v1/predictions/{PID}"},
            succeeded()["urls"],
            {},
            None,
        ]
    ),
    "source": st.sampled_from(["api", "web", None]),
    "deadline": st.sampled_from(["2025-01-15T11:03:39Z", None]),
    "deployment": st.sampled_from(["acme/deploy", None]),
}
KNOWN = set(Prediction.model_fields)
extra_names = st.text(min_size=1, max_size=12).filter(lambda name: name not in KNOWN)
scalar = st.none() | st.booleans() | st.integers() | st.text(max_size=10)
extra_values = st.recursive(
    scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def partial_prediction(draw: st.DrawFn) -> dict[str, Any]:
    """``id`` plus a random subset of the other fields (valid values, null included) plus
    random fields the API does not define."""
    names = draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), unique=True))
    body: dict[str, Any] = {name: draw(FIELD_VALUES[name]) for name in names}
    body.update(draw(st.dictionaries(extra_names, extra_values, max_size=3)))
    body["id"] = PID
    return body


PROPERTY = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

CREATES = {"predictions.create", "models.predictions.create", "create", "run"}
OPERATIONS: dict[str, Callable[[Client], Any]] = {
    "predictions.create": lambda c: c.predictions.create(version=SDXL_VERSION, input={"p": 1}),
    "models.predictions.create": lambda c: c.models.predictions.create(
        "black-forest-labs/flux-schnell", input={"prompt": "x"}
    ),
    "create": lambda c: c.create(flux_schnell.Input(prompt="x")),
    "predictions.get": lambda c: c.predictions.get(PID),
    "predictions.cancel": lambda c: c.predictions.cancel(PID),
    "predictions.wait": lambda c: c.predictions.wait(PID, timeout=30),
    "run": lambda c: c.run(flux_schnell.Input(prompt="x"), timeout=30),
    "predictions.list": lambda c: list(c.predictions.list()),
}


def answer(
    request: httpx.Request, bodies: list[dict[str, Any]], calls: list[int]
) -> httpx.Response:
    body = bodies[min(calls[0], len(bodies) - 1)]
    calls[0] += 1
    if request.method == "GET" and request.url.path.endswith("/v1/predictions"):
        return httpx.Response(200, json={"results": [body], "next": None})
    return httpx.Response(201 if request.method == "POST" else 200, json=body)


def check(name: str, result: Any) -> None:
    """The operation's result names the prediction: a Prediction / TypedPrediction with the id,
    a page holding it, or (run) the typed output of a prediction that succeeded."""
    if isinstance(result, (Prediction, TypedPrediction)):
        assert result.id == PID
    elif name == "predictions.list":
        assert [p.id for p in result] == [PID]
    else:
        assert name == "run"


def check_error(name: str, exc: errors.ReplicateError) -> None:
    assert exc.prediction_id == PID, (name, exc)
    assert PID in str(exc)
    if isinstance(exc, errors.APIResponseValidationError) and name in CREATES:
        assert exc.prediction_may_exist


@PROPERTY
@given(
    name=st.sampled_from(sorted(OPERATIONS)),
    bodies=st.lists(partial_prediction(), min_size=1, max_size=4),
)
def test_any_subset_of_fields_gives_the_prediction_or_an_error_with_its_id(
    name: str, bodies: list[dict[str, Any]]
) -> None:
    calls = [0]
    fake = FakeTime()
    with Client(
        api_token=TOKEN,
        base_url=ROUTER,
        transport=httpx.MockTransport(lambda r: answer(r, bodies, calls)),
        sleep=fake.sleep,
        clock=fake.clock,
    ) as client:
        try:
            result = OPERATIONS[name](client)
        except errors.ReplicateError as exc:
            check_error(name, exc)
        else:
            check(name, result)
    assert calls[0] >= 1


ASYNC_OPERATIONS: dict[str, Callable[[AsyncClient], Any]] = {
    "predictions.create": lambda c: c.predictions.create(version=SDXL_VERSION, input={"p": 1}),
    "create": lambda c: c.create(flux_schnell.Input(prompt="x")),
    "predictions.get": lambda c: c.predictions.get(PID),
    "predictions.wait": lambda c: c.predictions.wait(PID, timeout=30),
    "run": lambda c: c.run(flux_schnell.Input(prompt="x"), timeout=30),
}


@PROPERTY
@given(
    name=st.sampled_from(sorted(ASYNC_OPERATIONS)),
    bodies=st.lists(partial_prediction(), min_size=1, max_size=4),
)
def test_async_any_subset_of_fields_gives_the_prediction_or_an_error_with_its_id(
    name: str, bodies: list[dict[str, Any]]
) -> None:
    calls = [0]
    fake = FakeTime()

    async def handler(request: httpx.Request) -> httpx.Response:
        return answer(request, bodies, calls)

    async def scenario() -> None:
        async with AsyncClient(
            api_token=TOKEN,
            base_url=ROUTER,
            transport=httpx.MockTransport(handler),
            sleep=fake.asleep,
            clock=fake.clock,
        ) as client:
            try:
                result = await ASYNC_OPERATIONS[name](client)
            except errors.ReplicateError as exc:
                check_error(name, exc)
            else:
                check(name, result)

    asyncio.run(scenario())


@PROPERTY
@given(body=partial_prediction())
def test_any_subset_of_fields_types_as_a_typed_prediction(body: dict[str, Any]) -> None:
    raw = Prediction.model_validate(body)
    typed: TypedPrediction[ModelInput[Any], Any] = TypedPrediction(raw, flux_schnell.MODEL)
    assert typed.id == PID
    assert typed.unknown == KNOWN - set(body)
    assert typed.status == (None if body.get("status") is None else body["status"])
    assert typed.done == (body.get("status") in {"succeeded", "failed", "canceled", "aborted"})
