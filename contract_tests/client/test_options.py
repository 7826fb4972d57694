"""``client.options`` and ``from_options``: another client configured alike, through the public
API (what the batch runner uses), with the token never shown."""

from __future__ import annotations

import httpx
import pytest
import respx

from contract_tests.client.test_client_helpers import PID, ROUTER, TOKEN, succeeded
from replicate_typed.client import AsyncClient, Client, ClientOptions
from replicate_typed.client.polling import PollPolicy
from replicate_typed.client.retries import RetryPolicy


def test_options_are_resolved_and_never_show_the_token() -> None:
    retry, poll = RetryPolicy(max_retries=1), PollPolicy(initial=0.1)
    client = Client(TOKEN, ROUTER + "/v1/", timeout=7, retry_policy=retry, poll_policy=poll)
    options = client.options
    assert options.base_url == ROUTER  # resolved: no trailing /v1/
    assert options.timeout == httpx.Timeout(7)
    assert options.retry_policy is retry and options.poll_policy is poll
    assert options.api_token is not None and options.api_token.get_secret_value() == TOKEN
    for text in (repr(options), str(options), repr(client), repr(options.api_token)):
        assert TOKEN not in text and "TESTtoken" not in text
    assert "api_token=<set>" in repr(options)
    assert ClientOptions.resolve(base_url=ROUTER).retry_policy.max_retries == 4


@pytest.mark.parametrize("token", [TOKEN, None])
async def test_from_options_sends_like_the_original(
    respx_mock: respx.MockRouter, monkeypatch: pytest.MonkeyPatch, token: str | None
) -> None:
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    route = respx_mock.get(f"{ROUTER}/v1/predictions/{PID}").respond(200, json=succeeded())
    with Client(token, ROUTER, timeout=9, max_retries=2) as client:
        client.predictions.get(PID)
        options = client.options
    # a token set later in the environment is not picked up: the options are already resolved
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8_OTHERtoken_0123456789abcdef")
    async with AsyncClient.from_options(options) as aclient:
        assert aclient.options is options
        assert aclient.base_url == ROUTER
        await aclient.predictions.get(PID)
    with Client.from_options(options) as again:
        again.predictions.get(PID)
    sent = [call.request.headers.get("authorization") for call in route.calls]
    expected = f"Bearer {token}" if token else None
    assert sent == [expected] * 3
