"""How Prism serves Replicate's document, and proof that its validation really bites.

The contract checks only mean something if Prism rejects a bad request and the suite notices:
the negative controls below send requests that break the document on purpose.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from contract_tests.live.conftest import PRISM, PRISM_TOKEN, LiveTarget, PrismPair
from contract_tests.live.prism import (
    ID_PATTERN,
    ID_SCHEMAS,
    load_upstream,
    prism_document,
    server_base_path,
)
from contract_tests.live.transport import RecordingTransport
from replicate_typed.models.stability_ai import sdxl

prism_targets = pytest.mark.parametrize("target", PRISM, indirect=True)
# Checks of the harness itself (Prism's quirks, the negative controls proving it notices a bad
# request), not of the client: in the slow group, which CI runs (`make test-slow`).
HARNESS = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {PRISM_TOKEN}"}


def test_document_copy_only_prefixes_paths_and_states_the_id_format() -> None:
    upstream = load_upstream()
    derived = prism_document(upstream)
    assert server_base_path(upstream) == "/v1"
    assert list(derived["paths"]) == ["/v1" + path for path in upstream["paths"]]
    assert list(derived["paths"].values()) == list(upstream["paths"].values())
    schemas = derived["components"]["schemas"]
    for name in ID_SCHEMAS:  # the one addition: what real ids look like
        assert schemas[name]["properties"]["id"].pop("pattern") == ID_PATTERN
    rest = {k: v for k, v in derived.items() if k != "paths"}
    assert rest == {k: v for k, v in upstream.items() if k != "paths"}


@HARNESS
def test_prism_ignores_the_server_base_path(prism_pair: PrismPair) -> None:
    """Why the copy exists: Prism routes on the document's paths alone."""
    with httpx.Client(headers=AUTH, timeout=30) as http:
        unprefixed = http.get(f"{prism_pair.static.url}/predictions")
        prefixed = http.get(f"{prism_pair.static.url}/v1/predictions")
    assert unprefixed.status_code == 404
    assert "NO_PATH_MATCHED" in unprefixed.json()["type"]
    assert prefixed.status_code == 200
    assert "results" in prefixed.json()


def prism_transport(pair: PrismPair) -> RecordingTransport:
    from contract_tests.live.prism import prefer_pattern

    return RecordingTransport(prism=True, prefer_pattern=prefer_pattern(pair.document))


def post_create(pair: PrismPair, transport: RecordingTransport, body: Any, **headers: str) -> int:
    with httpx.Client(transport=transport, headers=AUTH, timeout=30) as http:
        response = http.post(f"{pair.static.url}/v1/predictions", json=body, headers=headers)
    return response.status_code


@HARNESS
def test_negative_control_extra_body_key_is_caught(prism_pair: PrismPair) -> None:
    transport = prism_transport(prism_pair)
    body = {"version": sdxl.MODEL.version, "input": {"prompt": "x"}, "bogus": 1}
    assert post_create(prism_pair, transport, body) == 422
    assert any("bogus" in problem for problem in transport.problems), transport.problems


@HARNESS
def test_negative_control_missing_input_is_caught(prism_pair: PrismPair) -> None:
    transport = prism_transport(prism_pair)
    assert post_create(prism_pair, transport, {"version": sdxl.MODEL.version}) == 422
    assert any("input" in problem for problem in transport.problems), transport.problems


@HARNESS
def test_prisms_own_prefer_clashes_with_the_api_prefer_header(prism_pair: PrismPair) -> None:
    """``Prefer: code=202`` is Prism's syntax but breaks the document's Prefer pattern; the suite
    therefore asks Prism for a status with ``?__code=`` (test_contract) and never via Prefer."""
    body = {"version": sdxl.MODEL.version, "input": {"prompt": "x"}}
    clash = prism_transport(prism_pair)
    assert post_create(prism_pair, clash, body, Prefer="code=202") == 422
    assert any("prefer" in problem.lower() for problem in clash.problems), clash.problems
    fine = prism_transport(prism_pair)
    assert post_create(prism_pair, fine, body, Prefer="wait=60") == 201
    assert fine.problems == []


@HARNESS
@pytest.mark.parametrize("value", ["wait=0", "wait=61", "wait=5s", "code=201"])
def test_transport_flags_a_prefer_value_outside_the_contract(
    prism_pair: PrismPair, value: str
) -> None:
    transport = prism_transport(prism_pair)
    post_create(prism_pair, transport, {"version": sdxl.MODEL.version, "input": {}}, Prefer=value)
    assert any("Prefer" in problem for problem in transport.problems), transport.problems


@prism_targets
@pytest.mark.parametrize("wait", [True, 1, 60])
def test_client_prefer_values_pass_prism(target: LiveTarget, wait: bool | int) -> None:
    with target.client() as client:
        client.predictions.create(version=str(sdxl.MODEL.version), input={"prompt": "x"}, wait=wait)
    exchange = target.transport.last("POST", "/v1/predictions")
    assert exchange.prefer_sent == ("wait" if wait is True else f"wait={wait}")
    assert exchange.status == 201


def test_missing_prism_skips_outside_ci_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from contract_tests.live import prism

    monkeypatch.setattr(prism, "ROOT", tmp_path)  # a checkout without node_modules
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="make prism"):
        prism.prism_binary()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        prism.prism_binary()


@pytest.mark.parametrize("target", ["prism-dynamic"], indirect=True)
def test_generated_answers_parse_into_our_types_again_and_again(target: LiveTarget) -> None:
    """Prism --dynamic makes up a new answer from the schemas every time: many samples per
    operation, each of which must parse (the client parses; so do we, from the raw bytes)."""
    from replicate_typed.types.api import (
        File,
        Model,
        ModelVersion,
        Prediction,
        PredictionPage,
        WebhookSecret,
    )

    version = str(sdxl.MODEL.version)
    pid = "gm3qorzdhgbfurvjtvhg6dckhu"
    with target.client() as client:
        for round_ in range(8):
            target.transport.prism_query = {"__code": "202"} if round_ % 2 else {}
            client.predictions.create(version=version, input={"prompt": "x"})
            client.models.predictions.create(
                "black-forest-labs/flux-schnell", input={"prompt": "x"}
            )
            target.transport.prism_query = {}
            client.predictions.get(pid)
            client.predictions.cancel(pid)
            client.models.get("stability-ai/sdxl")
            client.models.versions.get("stability-ai/sdxl", version)
            client.files.create(b"x", filename="x.txt")
            client.webhooks.default_secret()
            try:
                next(iter(client.predictions.list()), None)
            except Exception as exc:  # an empty made-up page with a made-up `next` link
                assert "next page link" in str(exc), exc
    parsers = {
        "/v1/predictions/" + pid: Prediction,
        "/v1/predictions/" + pid + "/cancel": Prediction,
        "/v1/models/stability-ai/sdxl": Model,
        f"/v1/models/stability-ai/sdxl/versions/{version}": ModelVersion,
        "/v1/files": File,
        "/v1/webhooks/default/secret": WebhookSecret,
    }
    counts: dict[str, int] = {}
    for exchange in target.transport.exchanges:
        if exchange.method == "GET" and exchange.path == "/v1/predictions":
            PredictionPage.model_validate_json(exchange.response_body)
        elif exchange.path.endswith("/predictions") and exchange.method == "POST":
            assert exchange.status in (201, 202)
            Prediction.model_validate_json(exchange.response_body)
        else:
            parsers[exchange.path].model_validate_json(exchange.response_body)
        counts[exchange.path] = counts.get(exchange.path, 0) + 1
    assert all(n >= 8 for n in counts.values()), counts
    statuses = {e.status for e in target.transport.exchanges if e.method == "POST"}
    assert {201, 202} <= statuses
