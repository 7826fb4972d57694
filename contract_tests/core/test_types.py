"""FileInput, FileOutput and Secret: the value types generated models use."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from pydantic import ValidationError

from replicate_typed.core.field_types import FileOutput
from replicate_typed.models.stability_ai import stable_diffusion_img2img as img2img

TOKEN_LIKE = "r8_SECRET_VALUE_THAT_MUST_NOT_PRINT"


@pytest.mark.parametrize(
    "value", ["https://example.com/a.png", "http://x/y", "data:image/png;base64,iVBORw0KGgo="]
)
def test_file_input_accepts_urls_and_data_uris(value: str) -> None:
    assert img2img.Input(image=value).image == value


@pytest.mark.parametrize(
    "value", ["ftp://x/y", "file:///etc/passwd", "not a url", "javascript:alert(1)"]
)
def test_file_input_rejects_other_schemes_naming_field_and_value(value: str) -> None:
    with pytest.raises(ValidationError) as info:
        img2img.Input(image=value)
    text = str(info.value)
    assert "image" in text and "http(s) URL" in text and value[:20] in text


def test_file_input_accepts_local_files_and_serialises_them_as_data_uris(tmp_path: Path) -> None:
    path = tmp_path / "in.png"
    path.write_bytes(b"\x89PNG fake")
    for value in (path, b"\x89PNG fake", io.BytesIO(b"\x89PNG fake")):
        sent = img2img.Input(image=value).to_request_input()["image"]
        assert sent.startswith("data:")
        assert base64.b64decode(sent.split(",", 1)[1]) == b"\x89PNG fake"
    assert (
        img2img.Input(image=path).to_request_input()["image"].startswith("data:image/png;base64,")
    )


def test_file_input_rejects_other_types() -> None:
    with pytest.raises(ValidationError, match="image"):
        img2img.Input(image=42)  # type: ignore[arg-type]


def test_file_output_is_a_str_with_helpers() -> None:
    out = FileOutput("https://replicate.delivery/x/out-0.webp")
    assert out == "https://replicate.delivery/x/out-0.webp"
    assert out.filename == "out-0.webp" and out.scheme == "https" and not out.is_data_uri
    data = FileOutput("data:image/png;base64," + "A" * 500)
    assert data.is_data_uri and data.filename == "output"
    assert len(repr(data)) < 200


def test_unset_defaults_are_not_sent_and_set_ones_are() -> None:
    sent = img2img.Input(image="https://e/x.png", num_outputs=2).to_request_input()
    assert sent == {"image": "https://e/x.png", "num_outputs": 2}


def test_secret_never_prints_but_is_sent() -> None:
    from replicate_typed.core.field_types import Secret
    from replicate_typed.core.model import ModelInput

    class WithSecret(ModelInput[str]):
        api_key: Secret

    value = WithSecret(api_key=TOKEN_LIKE)  # type: ignore[arg-type]
    for shown in (repr(value), str(value), repr(value.api_key), str(value.api_key)):
        assert TOKEN_LIKE not in shown
    assert value.to_request_input() == {"api_key": TOKEN_LIKE}


def test_python_dump_keeps_local_file_objects_for_the_uploader() -> None:
    buffer = io.BytesIO(b"\x89PNG fake")
    buffer.name = "photo.png"
    dumped = img2img.Input(image=buffer, prompt="p").request_values()
    assert dumped == {"image": buffer, "prompt": "p"}
    assert dumped["image"] is buffer
    assert buffer.read() == b"\x89PNG fake"  # not consumed


def test_client_uploads_large_file_objects_under_their_own_name(respx_mock: object) -> None:
    import httpx
    import respx

    from replicate_typed.client import Client

    assert isinstance(respx_mock, respx.MockRouter)
    big = io.BytesIO(b"\x89PNG" + b"\0" * (300 * 1024))
    big.name = "holiday.png"
    upload = respx_mock.post("https://api.replicate.com/v1/files").mock(
        return_value=httpx.Response(
            201,
            json={
                "id": "f1",
                "urls": {"get": "https://api.replicate.com/v1/files/f1"},
                "content_type": "image/png",
                "size": 1,
                "checksums": {},
                "metadata": {},
                "created_at": "2025-01-01T00:00:00Z",
                "expires_at": "2025-01-02T00:00:00Z",
            },
        )
    )
    created = respx_mock.post("https://api.replicate.com/v1/predictions").mock(
        return_value=httpx.Response(
            201,
            json={
                "id": "p1",
                "model": "stability-ai/stable-diffusion-img2img",
                "version": img2img.MODEL.version,
                "input": {},
                "output": None,
                "data_removed": False,
                "error": None,
                "status": "starting",
                "created_at": "2025-01-01T00:00:00Z",
                "urls": {"get": "https://x/g", "cancel": "https://x/c", "web": "https://x/w"},
            },
        )
    )
    with Client(api_token="t", max_retries=0) as client:
        client.create(img2img.Input(image=big, prompt="p"))
    assert b'filename="holiday.png"' in upload.calls.last.request.content
    import json

    sent = json.loads(created.calls.last.request.content)
    assert sent["input"] == {"image": "https://api.replicate.com/v1/files/f1", "prompt": "p"}
