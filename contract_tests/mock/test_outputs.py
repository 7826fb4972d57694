"""Outputs are real files of the requested format and size, derived from each model's schema."""

from __future__ import annotations

import io
import struct
from typing import Any

import pytest
from PIL import Image

from contract_tests.mock.conftest import Env
from replicate_typed.core.model import ModelInfo
from replicate_typed.mock.outputs import FileSpec, encode_file, plan_output
from replicate_typed.models import registry

MAGIC = {
    "png": b"\x89PNG\r\n\x1a\n",
    "jpg": b"\xff\xd8\xff",
    "gif": b"GIF89a",
}


def _run(env: Env, ref: str, inputs: dict[str, Any]) -> dict[str, Any]:
    info = registry[ref]
    if info.call_by == "path":
        response = env.client.post(
            f"/v1/models/{ref}/predictions", json={"input": inputs}, headers={"Prefer": "wait"}
        )
    else:
        response = env.client.post(
            "/v1/predictions",
            json={"version": info.version, "input": inputs},
            headers={"Prefer": "wait"},
        )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] == "succeeded", body
    return body


def _fetch(env: Env, url: str) -> tuple[bytes, str]:
    response = env.client.get(url)
    assert response.status_code == 200, url
    return response.content, response.headers["content-type"]


def _image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize(
    "fmt,pil,ctype",
    [("png", "PNG", "image/png"), ("webp", "WEBP", "image/webp"), ("jpg", "JPEG", "image/jpeg")],
)
def test_flux_images_follow_output_format_and_aspect_ratio(
    env: Env, fmt: str, pil: str, ctype: str
) -> None:
    body = _run(
        env,
        "black-forest-labs/flux-schnell",
        {"prompt": "x", "output_format": fmt, "aspect_ratio": "16:9", "num_outputs": 2},
    )
    assert len(body["output"]) == 2
    for url in body["output"]:
        assert url.endswith(f".{fmt}")
        data, content_type = _fetch(env, url)
        assert content_type == ctype
        if fmt in MAGIC:
            assert data.startswith(MAGIC[fmt])
        else:
            assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
        image = _image(data)
        assert image.format == pil
        assert image.size == (256, 144)  # 16:9 with the longest side capped at 256


def test_default_output_format_comes_from_the_schema(env: Env) -> None:
    body = _run(env, "black-forest-labs/flux-schnell", {"prompt": "x"})
    data, _ = _fetch(env, body["output"][0])
    assert _image(data).format == "WEBP"  # flux-schnell's schema default
    assert _image(data).size == (256, 256)  # aspect_ratio default 1:1


def test_small_sizes_are_exact_and_large_ones_capped(env: Env) -> None:
    body = _run(env, "stability-ai/stable-diffusion", {"prompt": "x", "width": 128, "height": 192})
    data, ctype = _fetch(env, body["output"][0])
    assert ctype == "image/png" and data.startswith(MAGIC["png"])
    assert _image(data).size == (128, 192)
    body = _run(env, "stability-ai/stable-diffusion", {"prompt": "x", "width": 1024, "height": 512})
    assert _image(_fetch(env, body["output"][0])[0]).size == (256, 128)
    body = _run(env, "stability-ai/sdxl", {"prompt": "x"})  # schema defaults 1024x1024
    assert _image(_fetch(env, body["output"][0])[0]).size == (256, 256)


def test_animation_gif_and_mp4(env: Env) -> None:
    body = _run(
        env,
        "andreasjansson/stable-diffusion-animation",
        {"prompt_start": "a", "prompt_end": "b", "width": 128, "height": 128},
    )
    data, ctype = _fetch(env, body["output"][0])
    assert ctype == "image/gif" and data.startswith(MAGIC["gif"])
    gif = _image(data)
    assert gif.size == (128, 128)
    assert getattr(gif, "n_frames", 1) > 1
    body = _run(
        env,
        "andreasjansson/stable-diffusion-animation",
        {"prompt_start": "a", "prompt_end": "b", "output_format": "mp4"},
    )
    data, ctype = _fetch(env, body["output"][0])
    assert ctype == "video/mp4"
    _assert_mp4(data)


def _assert_mp4(data: bytes) -> None:
    size, kind = struct.unpack(">I4s", data[:8])
    assert kind == b"ftyp" and 16 <= size <= len(data)
    assert data[8:12] in (b"isom", b"mp42", b"mp41", b"avc1")
    boxes = []
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        assert size >= 8
        boxes.append(kind)
        offset += size
    assert offset == len(data)  # the top-level boxes tile the file exactly
    assert b"moov" in boxes and b"mdat" in boxes


def test_video_model_without_output_format_serves_mp4(env: Env) -> None:
    body = _run(env, "lucataco/animate-diff", {})
    assert isinstance(body["output"], str) and body["output"].endswith(".mp4")
    data, ctype = _fetch(env, body["output"])
    assert ctype == "video/mp4"
    _assert_mp4(data)


def test_data_uri_outputs_on_request(env: Env) -> None:
    response = env.client.post(
        "/v1/models/black-forest-labs/flux-schnell/predictions",
        json={"input": {"prompt": "x", "output_format": "png"}},
        headers={"Prefer": "wait", "X-Mock-Output": "data-uri"},
    )
    url = response.json()["output"][0]
    assert url.startswith("data:image/png;base64,")


def _minimal_input(info: ModelInfo[Any, Any]) -> dict[str, Any]:
    if info.examples:
        example: dict[str, Any] = info.examples[0]["input"]
        return example
    values: dict[str, Any] = {}
    props = info.input_schema.get("properties", {})
    for name in info.input_schema.get("required", []):
        prop = props[name]
        if prop.get("format") == "uri":
            values[name] = "https://example.com/input.png"
        elif prop.get("type") == "integer":
            values[name] = prop.get("minimum", 1)
        elif prop.get("type") == "number":
            values[name] = prop.get("minimum", 1.0)
        else:
            values[name] = "a watercolor of a lighthouse"
    return values


@pytest.mark.parametrize("ref", sorted(registry))
def test_every_model_runs_and_its_output_parses(env: Env, ref: str) -> None:
    info = registry[ref]
    body = _run(env, ref, _minimal_input(info))
    value = info.parse_output(body["output"])  # the typed client accepts what the mock returns
    assert value is not None
    urls = body["output"] if isinstance(body["output"], list) else [body["output"]]
    for url in urls:
        if isinstance(url, str) and url.startswith("http"):
            data, ctype = _fetch(env, url)
            assert data and ctype != "application/octet-stream"


def test_plans_follow_output_schemas() -> None:
    schemas: dict[str, Any] = {
        "text": {"type": "string"},
        "chunks": {
            "type": "array",
            "items": {"type": "string"},
            "x-cog-array-type": "iterator",
            "x-cog-array-display": "concatenate",
        },
        "embedding": {"type": "array", "items": {"type": "number"}},
        "object": {
            "type": "object",
            "properties": {
                "file": {"type": "string", "format": "uri"},
                "score": {"type": "number"},
            },
        },
        "ref": {"$ref": "#/$defs/Out", "$defs": {"Out": {"type": "integer"}}},
    }
    plans = {
        name: plan_output(
            ref="someone/some-model",
            seed=7,
            inputs={},
            input_schema={"type": "object", "properties": {}},
            output_schema=schema,
            max_side=256,
        )
        for name, schema in schemas.items()
    }
    assert isinstance(plans["text"].render(str), str)
    chunks = plans["chunks"].render(str)
    assert isinstance(chunks, list) and len(chunks) > 1 and all(isinstance(c, str) for c in chunks)
    assert plans["chunks"].progressive
    assert len(plans["chunks"].render(str, 0.5)) < len(chunks)  # iterators grow while running
    embedding = plans["embedding"].render(str)
    assert embedding and all(isinstance(x, float) for x in embedding)
    obj = plans["object"].render(lambda spec: f"https://x/{spec.name}")
    assert obj["file"] == "https://x/output_0.png" and isinstance(obj["score"], float)
    assert isinstance(plans["ref"].render(str), int)


def test_wav_and_unknown_formats_encode() -> None:
    wav = encode_file(FileSpec("a.wav", "wav", 1, 1, seed=1))
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE"
    other = encode_file(FileSpec("a.obj", "obj", 1, 1, seed=1))
    assert other
