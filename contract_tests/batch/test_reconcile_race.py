"""The soak race, replayed deterministically: a listing that began while a create was still on
its way must not answer for that create.

``make soak`` once ended its batch phase with one duplicate create and one lost prediction. The
cause: the runner took the moment a create was *sent* as the moment from which a listing of
the server's predictions could answer "was it created?". A create can reach the server much
later than that (the client waits out a 429's ``Retry-After`` and sends again; a busy machine
delays the request), so a listing started in between -- by another worker reconciling its own
input -- did not hold the prediction, was reused for it, found nothing, and the input was
created again (the first prediction then belonged to nobody).

Here the interleaving is forced with events in a transport between the client and the mock
(no timing involved): input A's create is held until input B's reconciliation listing has been
answered by the server, and only then reaches the server (which creates it and answers 500).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx

from replicate_typed.batch import Journal, arun_many
from replicate_typed.client import AsyncClient
from replicate_typed.mock import MockBackend, MockServer
from replicate_typed.models.stability_ai import sdxl

from .conftest import TOKEN
from .test_runner import FAST, assert_exactly_once

MakeMock = Callable[..., MockBackend]


class Interleave(httpx.AsyncBaseTransport):
    """Real HTTP to the mock, with A's create and B's first listing ordered by events."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.a_waiting = asyncio.Event()  # A's create was sent by the runner and is held here
        self.listed = asyncio.Event()  # the server answered B's listing (without A in it)
        self.a_created = asyncio.Event()  # A reached the server and was created
        self.creates: list[str] = []
        self.listings = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("/v1/predictions"):
            prompt = json.loads(request.content)["input"]["prompt"]
            self.creates.append(prompt)
            first = self.creates.count(prompt) == 1
            if prompt == "race A" and first:
                self.a_waiting.set()
                await self.listed.wait()  # the client is "retrying after a 429" meanwhile
                request.headers["x-mock-fault"] = "500; after"
                response = await self.inner.handle_async_request(request)
                self.a_created.set()
                return response
            if prompt == "race B" and first:
                await self.a_waiting.wait()
                request.headers["x-mock-fault"] = "500; after"
        if request.method == "GET" and request.url.path.endswith("/v1/predictions"):
            self.listings += 1
            response = await self.inner.handle_async_request(request)
            await response.aread()
            if self.listings == 1:
                self.listed.set()
                await self.a_created.wait()  # the listing is still "paging" when A is created
            return response
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_a_listing_started_before_a_create_reached_the_server_does_not_answer_for_it(
    server: MockServer, mock: MakeMock
) -> None:
    backend = mock()
    transport = Interleave()
    items = [sdxl.Input(prompt=f"race {tag}", width=64, height=64) for tag in "AB"]
    with Journal(":memory:") as journal:
        async with AsyncClient(
            api_token=TOKEN, base_url=server.url + "/replicate", transport=transport
        ) as client:
            report = await arun_many(
                client, items, journal=journal, concurrency=2, **{**FAST, "reconcile_delay": 0}
            )
            server_ids = {p.id async for p in client.predictions.list()}
        assert transport.creates.count("race A") == 1, transport.creates  # never paid twice
        assert_exactly_once(backend, 2)
        assert report.ok, [r.describe() for r in report.failures]
        assert report.reconciled == 2 and report.created == 0
        assert {r.prediction_id for r in report.results} == server_ids
