"""Secrets sweep: a known API token and webhook secret go through the client (sync and async,
over real HTTP to the mock server), the CLI with debug output, every kind of error, webhook
verification failures and the reprs of everything involved. Everything those produce is
collected -- DEBUG log records of every logger, stdout/stderr, exception messages, reprs and
formatted tracebacks, attributes of errors -- and neither secret, nor a fragment of one, may
appear in any of it.
"""

from __future__ import annotations

import base64
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from replicate_typed.cli.app import app
from replicate_typed.client import AsyncClient, Client, errors
from replicate_typed.client.webhooks import signed_headers, verify
from replicate_typed.mock import MockServer
from replicate_typed.models.stability_ai import sdxl

TOKEN = "r8_SWEEPtoken_f00dfacecafe0123456789abcd"
WHSEC_KEY = base64.b64encode(b"sweep-signing-key-0123456789!").decode()
WHSEC = f"whsec_{WHSEC_KEY}"
# What must never show: the secrets, and telling fragments of them.
FORBIDDEN = (TOKEN, TOKEN[3:20], TOKEN[-16:], WHSEC, WHSEC_KEY, WHSEC_KEY[:16])


class Sweep:
    """Collects everything a scenario produced, then looks for the secrets in it."""

    def __init__(self, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]):
        self.caplog = caplog
        self.capfd = capfd
        self.texts: list[tuple[str, str]] = []

    def add(self, label: str, *things: object) -> None:
        for thing in things:
            self.texts.append((f"{label} repr", repr(thing)))
            self.texts.append((f"{label} str", str(thing)))
            if isinstance(thing, BaseException):
                self.texts.append(
                    (f"{label} traceback", "".join(traceback.format_exception(thing)))
                )
                for name, value in vars(thing).items():
                    if name not in ("request", "response", "prediction"):
                        self.texts.append((f"{label}.{name}", repr(value)))

    def raised(self, label: str, exc_type: type[BaseException], call: Any) -> BaseException:
        with pytest.raises(exc_type) as info:
            call()
        self.add(label, info.value)
        return info.value

    def check(self) -> int:
        out, err = self.capfd.readouterr()
        texts = [
            *self.texts,
            ("log records", self.caplog.text),
            ("log messages", "\n".join(r.getMessage() for r in self.caplog.records)),
            ("stdout", out),
            ("stderr", err),
        ]
        for label, text in texts:
            for secret in FORBIDDEN:
                assert secret not in text, f"{label} shows a secret: {text[:300]!r}"
        return sum(len(text) for _, text in texts)


@pytest.fixture
def sweep(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Iterator[Sweep]:
    caplog.set_level(logging.DEBUG)  # every logger: replicate_typed, httpx, httpcore, uvicorn
    collected = Sweep(caplog, capfd)
    yield collected
    assert collected.check() > 0


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(
        api_tokens=(TOKEN,), webhook_secret=WHSEC, default_timing=(0.02, 0.1)
    ) as running:
        yield running


def echoing_server(request: httpx.Request) -> httpx.Response:
    """A misbehaving router that echoes the credentials it got in every kind of answer."""
    auth = request.headers.get("authorization", "")
    path = request.url.path
    if path.endswith("/v1/predictions") and request.method == "POST":
        return httpx.Response(
            422,
            json={
                "title": "Invalid input",
                "detail": f"{auth} cannot create",
                "status": 422,
                "invalid_fields": [{"field": "input.prompt", "description": auth}],
            },
        )
    if "html" in path:
        return httpx.Response(502, text=f"<html><body>bad gateway for {auth}</body></html>")
    if "text" in path:
        return httpx.Response(200, text=f"not json: {auth}")
    if "shape" in path:
        # only the id is certain, so a malformed field (not a missing one) makes it an error
        return httpx.Response(200, json={"id": "x", "created_at": f"at {auth}"})
    if "limit" in path:
        return httpx.Response(429, json={"detail": f"throttled {auth}"})
    return httpx.Response(
        401, json={"title": "Unauthenticated", "detail": f"bad token {auth}", "status": 401}
    )


def test_client_over_http_with_debug_logging(server: MockServer, sweep: Sweep) -> None:
    base = server.url + "/replicate"
    with Client(api_token=TOKEN, base_url=base) as client:
        sweep.add("client", client)
        images = client.run(sdxl.Input(prompt="a lighthouse", width=64, height=64))
        prediction = client.create(sdxl.Input(prompt="another", width=64, height=64))
        done = client.predictions.wait(prediction.raw)
        pages = list(client.predictions.list())
        secret = client.webhooks.default_secret()
        uploaded = client.files.create(b"\x89PNG" + b"0" * 64, filename="x.png")
        canceled = client.predictions.cancel(prediction.id)
        sweep.add("results", images, prediction, done, pages, secret, uploaded, canceled)
        assert secret.key.get_secret_value() == WHSEC  # usable, yet never shown
        sweep.raised(
            "failed run",
            errors.PredictionError,
            lambda: client.run(sdxl.Input(prompt="mock:fail")),
        )
        sweep.raised("unknown id", errors.NotFoundError, lambda: client.predictions.get("nope0"))
        sweep.raised(
            "timeout",
            errors.PredictionTimeoutError,
            lambda: client.run(sdxl.Input(prompt="slow"), timeout=0, wait=None),
        )
        sweep.raised("bad input", ValidationError, lambda: sdxl.Input(prompt="x", num_outputs=7))
        sweep.raised(
            "bad version",
            errors.InputError,
            lambda: client.predictions.create(version="not a version", input={}),
        )
    with Client(api_token=TOKEN + "x", base_url=base, max_retries=0) as wrong:
        sweep.raised("wrong token", errors.AuthenticationError, lambda: wrong.predictions.get("a"))
    with Client(api_token=TOKEN, base_url="http://127.0.0.1:9/replicate", max_retries=1) as down:
        sweep.raised("refused", errors.APIConnectionError, lambda: down.predictions.get("abc"))
    assert any("authorization" in r.getMessage() for r in sweep.caplog.records)  # headers logged


async def test_async_client_over_http(server: MockServer, sweep: Sweep) -> None:
    async with AsyncClient(api_token=TOKEN, base_url=server.url + "/replicate") as client:
        sweep.add("async client", client)
        images = await client.run(sdxl.Input(prompt="async", width=64, height=64))
        sweep.add("async output", images)
        with pytest.raises(errors.PredictionError) as info:
            await client.run(sdxl.Input(prompt="mock:cancel"))
        sweep.add("async canceled", info.value)


@pytest.mark.parametrize("path", ["plain", "html", "text", "shape", "limit"])
def test_a_server_echoing_the_token_cannot_leak_it(path: str, sweep: Sweep) -> None:
    transport = httpx.MockTransport(echoing_server)
    base = f"https://echo.test/{path}"
    with Client(
        api_token=TOKEN, base_url=base, transport=transport, sleep=lambda _: None
    ) as client:
        exc = sweep.raised(path, errors.ReplicateError, lambda: client.predictions.get("abc"))
        created = sweep.raised(
            "create",
            errors.UnprocessableEntityError,
            lambda: client.predictions.create(version="a/b", input={"prompt": "x"}),
        )
    assert "<redacted>" in str(created) and "<redacted>" in repr(created.body)  # type: ignore[attr-defined]
    assert isinstance(exc, errors.APIError)


def test_cli_with_debug_output(server: MockServer, tmp_path: Path, sweep: Sweep) -> None:
    env = {
        "REPLICATE_API_TOKEN": TOKEN,
        "REPLICATE_BASE_URL": server.url + "/replicate",
        "REPLICATE_TYPED_DEBUG": "1",
        "COLUMNS": "200",
    }
    runner = CliRunner()
    results = [
        runner.invoke(app, args, env=env)
        for args in (
            ["run", "stability-ai/sdxl", "--prompt", "cli", "--width", "64", "--height", "64",
             "--out", str(tmp_path)],
            ["run", "stability-ai/sdxl", "--prompt", "mock:fail", "--out", str(tmp_path)],
            ["list", "--limit", "3"],
            ["get", "nope0"],
            ["--help"],
        )
    ]  # fmt: skip
    wrong = runner.invoke(app, ["get", "abc"], env={**env, "REPLICATE_API_TOKEN": TOKEN + "x"})
    for result in [*results, wrong]:
        sweep.texts.append(("cli output", result.output))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            sweep.add("cli exception", result.exception)
    assert results[0].exit_code == 0, results[0].output
    assert [r.exit_code for r in results[1:4]] == [1, 0, 1]
    assert wrong.exit_code == 1 and "401" in wrong.output
    assert "debug:" in results[0].output  # the debug log was on


def test_webhook_verification_failures(sweep: Sweep) -> None:
    body = b'{"id": "p1", "status": "succeeded"}'
    good = signed_headers(WHSEC, body, msg_id="msg_1", timestamp=1_700_000_000)
    cases: dict[str, tuple[bytes, dict[str, str], str]] = {
        "tampered": (body + b" ", good, WHSEC),
        "stale": (body, good, WHSEC),
        "other secret": (body, good, "whsec_" + base64.b64encode(b"other").decode()),
        "no signature": (body, {k: v for k, v in good.items() if "signature" not in k}, WHSEC),
        "bad signature": (body, {**good, "webhook-signature": "v1,AAAA v2,x"}, WHSEC),
        "secret not base64": (body, good, WHSEC + "!*"),
        "bare key not base64": (body, good, WHSEC_KEY + "%%"),
    }
    for label, (data, headers, secret) in cases.items():
        now = None if label == "stale" else 1_700_000_000
        sweep.raised(
            label,
            errors.WebhookVerificationError,
            lambda data=data, headers=headers, secret=secret, now=now: verify(
                data, headers, secret, now=now
            ),
        )
