"""client/_http.py: the httpx client a Replicate client makes for itself keeps no cookies.

Its requests are built by the client (never through httpx's cookie merging), so a cookie a
server sets was never sent back; the jar is not filled either. A caller's ``http_client``
is used as given, jar and all.
"""

from __future__ import annotations

import httpx
import pytest

from contract_tests.client.test_client_helpers import PID, TOKEN, prediction
from replicate_typed import AsyncClient, Client
from replicate_typed.client._http import APIHTTPClient, AsyncAPIHTTPClient, NoCookies

BASE = "https://router.example/replicate"


def _handler(seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200, json=prediction("processing"), headers={"Set-Cookie": "session=abc; Path=/"}
        )

    return httpx.MockTransport(handle)


def test_own_client_keeps_no_cookie_and_sends_none() -> None:
    seen: list[httpx.Request] = []
    with Client(api_token=TOKEN, base_url=BASE, transport=_handler(seen)) as client:
        client.predictions.get(PID)
        client.predictions.get(PID)
        assert isinstance(client.http, APIHTTPClient)
        assert isinstance(client.http.cookies, NoCookies) and not list(client.http.cookies.jar)
    assert [r.headers.get("cookie") for r in seen] == [None, None]


async def test_async_own_client_keeps_no_cookie_and_sends_none() -> None:
    seen: list[httpx.Request] = []
    async with AsyncClient(api_token=TOKEN, base_url=BASE, transport=_handler(seen)) as client:
        await client.predictions.get(PID)
        await client.predictions.get(PID)
        assert isinstance(client.http, AsyncAPIHTTPClient)
        assert not list(client.http.cookies.jar)
    assert [r.headers.get("cookie") for r in seen] == [None, None]


def test_a_callers_http_client_keeps_its_jar() -> None:
    seen: list[httpx.Request] = []
    with httpx.Client(transport=_handler(seen)) as http:
        with Client(api_token=TOKEN, base_url=BASE, http_client=http) as client:
            client.predictions.get(PID)
        assert http.cookies.get("session") == "abc"


@pytest.mark.parametrize("cls", [APIHTTPClient, AsyncAPIHTTPClient])
def test_setting_cookies_keeps_a_jar_that_reads_no_answer(cls: type[httpx.Client]) -> None:
    http = cls()
    http.cookies = {"a": "1"}
    assert isinstance(http.cookies, NoCookies) and http.cookies.get("a") == "1"
    response = httpx.Response(
        200, headers={"Set-Cookie": "b=2"}, request=httpx.Request("GET", "https://h/")
    )
    http.cookies.extract_cookies(response)
    assert http.cookies.get("b") is None
