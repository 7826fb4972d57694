"""A server that answers ids meant to escape: every id the client *receives* is checked by the
same rule as the ids it sends, before it can reach a URL or a file name.

The answer is refused with an ``APIResponseValidationError`` naming the field, the id (escaped)
and the rule; the id is not attached to the error (it must not be used); a create answered with
such an id says the prediction may exist (it was paid for).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from replicate_typed.client import AsyncClient, Client, errors
from replicate_typed.client.downloads import output_dir
from replicate_typed.client.webhooks import WebhookRejected, signed_headers, verify

TOKEN = "r8_HOSTILE_token_0123456789abcdefXYZ"
BASE = "https://router.example.test/replicate"
VERSION = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
ESCAPES = ["../../escaped", "/tmp/abs", "..", ".", "a/b", "a\\b", "a\x00b", "\u2215x", "con"]


def prediction(id: str, status: str = "starting", output: Any = None) -> dict[str, Any]:
    return {
        "id": id,
        "model": "stability-ai/sdxl",
        "version": VERSION,
        "input": {"prompt": "x"},
        "logs": "",
        "output": output,
        "data_removed": False,
        "error": None,
        "status": status,
        "created_at": "2025-01-15T10:03:39.896Z",
        "urls": {"get": "", "cancel": "", "web": ""},
    }


def client() -> Client:
    return Client(api_token=TOKEN, base_url=BASE, max_retries=0)


@pytest.mark.parametrize("hostile", ESCAPES)
def test_a_create_answered_with_an_unsafe_id_is_refused_and_may_exist(
    respx_mock: respx.MockRouter, hostile: str
) -> None:
    respx_mock.post(f"{BASE}/v1/predictions").respond(201, json=prediction(hostile))
    with client() as c, pytest.raises(errors.APIResponseValidationError) as caught:
        c.predictions.create(version=VERSION, input={"prompt": "x"})
    error = caught.value
    assert error.prediction_may_exist is True
    assert error.prediction_id is None  # never handed on for use in a URL or path
    assert f"id: {ascii(hostile)} is not a prediction id" in str(error)
    assert "\x00" not in str(error)


async def test_async_create_and_get_refuse_unsafe_ids(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(f"{BASE}/v1/models/o/m/predictions").respond(201, json=prediction(".."))
    respx_mock.get(f"{BASE}/v1/predictions/abc").respond(200, json=prediction("../x"))
    async with AsyncClient(api_token=TOKEN, base_url=BASE, max_retries=0) as c:
        with pytest.raises(errors.APIResponseValidationError, match="not a prediction id"):
            await c.models.predictions.create("o/m", input={})
        with pytest.raises(
            errors.APIResponseValidationError, match="not a prediction id"
        ) as caught:
            await c.predictions.get("abc")
    assert caught.value.prediction_may_exist is False


def test_get_list_and_files_refuse_unsafe_ids(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/v1/predictions/abc").respond(200, json=prediction("/etc"))
    respx_mock.get(f"{BASE}/v1/predictions").respond(
        200, json={"next": None, "previous": None, "results": [prediction("ok1"), prediction("..")]}
    )
    respx_mock.post(f"{BASE}/v1/files").respond(
        201,
        json={
            "id": "../f",
            "name": "f.png",
            "content_type": "image/png",
            "size": 1,
            "etag": "e",
            "checksums": {"sha256": "0" * 64},
            "metadata": {},
            "created_at": "2025-01-15T10:03:39Z",
            "expires_at": "2025-01-16T10:03:39Z",
            "urls": {"get": "https://router.example.test/f"},
        },
    )
    with client() as c:
        with pytest.raises(errors.APIResponseValidationError, match="id: '/etc'"):
            c.predictions.get("abc")
        # a page item with an unsafe id costs that item only: the rest stays reachable and the
        # bad one is reported (never used in a URL or folder); iterating the items ends with
        # the error naming it, after the good ones
        seen: list[str] = []
        with pytest.raises(errors.APIResponseValidationError, match=r"results\.1\.id: '\.\.'"):
            seen.extend(p.id for p in c.predictions.list())
        assert seen == ["ok1"]
        page = c.predictions.list().first_page()
        assert [p.id for p in page] == ["ok1"]
        assert [(i.index, i.id) for i in page.invalid] == [(1, None)]
        assert "is not a prediction id" in page.invalid[0].reason
        with pytest.raises(errors.APIResponseValidationError, match="id: '../f'"):
            c.files.create(b"x", filename="f.png")


def test_output_dir_confines_and_names_the_rule(tmp_path: Path) -> None:
    assert output_dir(tmp_path, "abc") == tmp_path / "abc"
    for hostile in ESCAPES:
        with pytest.raises(errors.DownloadError, match="refusing to save outputs"):
            output_dir(tmp_path, hostile)
    assert list(tmp_path.iterdir()) == []


def test_a_webhook_carrying_an_unsafe_id_is_refused() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = httpx.Response(200, json=prediction("../../escaped", "succeeded")).content
    with pytest.raises(WebhookRejected) as caught:
        verify(body, signed_headers(secret, body), secret)
    assert caught.value.reason == "invalid_body" and "not a prediction id" in str(caught.value)
