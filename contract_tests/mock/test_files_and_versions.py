"""``files.list`` / ``files.get`` / ``files.delete`` and ``models.versions.list`` on the mock,
over HTTP and respx, raw and through the typed client (which pages through ``next``)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest

from contract_tests.mock.conftest import SDXL, TOKEN, Env
from replicate_typed.client import Client
from replicate_typed.client.errors import InputError, NotFoundError
from replicate_typed.types.api import File, FilePage, ModelVersionPage


def upload(env: Env, data: bytes, name: str = "a.txt") -> dict[str, object]:
    response = env.client.post("/v1/files", files={"content": (name, data, "text/plain")})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_file_answer_carries_what_the_api_sends(env: Env) -> None:
    body = upload(env, b"hello", "hello.txt")
    md5 = hashlib.md5(b"hello").hexdigest()
    assert body["name"] == "hello.txt" and body["size"] == 5
    assert body["etag"] == md5  # the API's etag is the content's MD5
    assert body["checksums"] == {"sha256": hashlib.sha256(b"hello").hexdigest(), "md5": md5}
    assert File.model_validate(body).urls.get == f"{env.base}/v1/files/{body['id']}"


def test_files_list_pages_newest_first(make_env: Callable[..., Env]) -> None:
    env = make_env(page_size=2)
    ids = [upload(env, bytes([i]))["id"] for i in range(5)]
    seen: list[object] = []
    url: str | None = "/replicate/v1/files"
    pages = 0
    while url is not None:
        response = env.client.get(url)
        assert response.status_code == 200, response.text
        page = FilePage.model_validate(response.json())
        assert page.previous is None and len(page.results or []) <= 2
        seen += [f.id for f in page.results or []]
        url = page.next
        assert url is None or url.startswith(f"{env.base}/replicate/v1/files?cursor=")
        pages += 1
    assert seen == ids[::-1] and pages == 3


def test_files_get_and_delete(env: Env) -> None:
    fid = upload(env, b"abc")["id"]
    assert env.client.get(f"/v1/files/{fid}").json()["id"] == fid
    deleted = env.client.delete(f"/v1/files/{fid}")
    assert deleted.status_code == 204 and deleted.content == b""
    for response in (
        env.client.get(f"/v1/files/{fid}"),
        env.client.get(f"/v1/files/{fid}/download"),
        env.client.delete(f"/v1/files/{fid}"),
    ):
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    assert env.client.get("/v1/files").json()["results"] == []


def test_expired_files_are_gone_everywhere(make_env: Callable[..., Env]) -> None:
    env = make_env(upload_ttl=10.0)
    fid = upload(env, b"abc")["id"]
    env.clock.advance(11.0)
    assert env.client.get("/v1/files").json()["results"] == []
    assert env.client.get(f"/v1/files/{fid}").status_code == 404
    assert env.client.delete(f"/v1/files/{fid}").status_code == 404


@pytest.mark.parametrize("cursor", ["x", "YTE", "Yi0x", ""])  # garbage, an "after" cursor, b-1
def test_files_list_refuses_bad_cursors(env: Env, cursor: str) -> None:
    response = env.client.get("/v1/files", params={"cursor": cursor})
    assert response.status_code == 422
    assert response.json()["invalid_fields"][0]["field"] == "cursor"


def test_models_versions_list(env: Env) -> None:
    response = env.client.get(f"/v1/models/{SDXL.ref}/versions")
    assert response.status_code == 200, response.text
    page = ModelVersionPage.model_validate(response.json())
    assert page.next is None and [v.id for v in page.results or []] == [SDXL.version]
    single = env.client.get(f"/v1/models/{SDXL.ref}/versions/{SDXL.version}").json()
    assert response.json()["results"][0] == single
    assert env.client.get("/v1/models/nobody/nothing/versions").status_code == 404


def test_the_typed_client_lists_gets_and_deletes(make_env: Callable[..., Env]) -> None:
    env = make_env(page_size=2)
    with Client(api_token=TOKEN, base_url=env.base + "/replicate", max_retries=0) as client:
        made = [client.files.create(bytes([i]) * 3, filename=f"f{i}.bin") for i in range(5)]
        listed = list(client.files.list())
        assert [f.id for f in listed] == [f.id for f in reversed(made)]
        assert all(f.urls.get and "/replicate/v1/files/" in f.urls.get for f in listed)
        assert (
            client.files.get(made[0].id).checksums.sha256 == hashlib.sha256(b"\0" * 3).hexdigest()
        )
        assert client.files.delete(made[0].id) is None
        with pytest.raises(NotFoundError, match=r"^files.get: HTTP 404"):
            client.files.get(made[0].id)
        with pytest.raises(NotFoundError, match=r"^files.delete: HTTP 404"):
            client.files.delete(made[0].id)
        assert len(list(client.files.list())) == 4
        versions = list(client.models.versions.list(SDXL.ref))
        assert [v.id for v in versions] == [SDXL.version]
        with pytest.raises(InputError, match=r"file_id: '\.\.' is not a file id"):
            client.files.get("..")
    stats = env.backend.stats()["operations"]
    assert stats["files.list"] == 3 + 2  # 5 files in pages of 2, then 4 files in pages of 2
    assert stats["models.versions.list"] == 1
