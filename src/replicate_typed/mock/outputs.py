"""Outputs of mock predictions, derived from each model's OUTPUT_SCHEMA and the request's input.

A file output is a :class:`FileSpec` (a recipe); its bytes are encoded on request (so thousands of
predictions cost no memory): PNG, WebP, JPEG or GIF through Pillow at the requested size, capped at
``max_image_side`` pixels per side with the aspect ratio kept; MP4 is a tiny embedded clip (its size
does not follow the input); WAV is a short tone; other formats get placeholder bytes.
"""

from __future__ import annotations

import io
import math
import random
import struct
import wave
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from replicate_typed.mock._media import TINY_MP4

__all__ = ["FileSpec", "OutputPlan", "plan_output", "encode_file", "CONTENT_TYPES"]

CONTENT_TYPES: dict[str, str] = {
    "png": "image/png",
    "webp": "image/webp",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "mp4": "video/mp4",
    "wav": "audio/wav",
    "txt": "text/plain",
    "tar": "application/x-tar",
}
_IMAGE_FORMATS = {"png", "webp", "jpg", "jpeg", "gif"}
_VIDEO_HINTS = ("video", "animate", "animation", "mp4", "movie", "clip")
_VIDEO_INPUTS = ("fps", "num_frames", "video_length", "frames_per_second", "video")
_AUDIO_HINTS = ("audio", "music", "speech", "tts", "voice", "sound")
_WORDS = (
    "a quiet harbor at dawn with gulls over grey water and a red boat drifting past the "
    "lighthouse while the town wakes slowly"
).split()


@dataclass(frozen=True)
class FileSpec:
    """How to produce one output file: ``name`` (``output_0.webp``), format, size, seed."""

    name: str
    fmt: str
    width: int
    height: int
    seed: int
    quality: int = 80

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES.get(self.fmt, "application/octet-stream")

    @property
    def is_image(self) -> bool:
        return self.fmt in _IMAGE_FORMATS


class FileRef:
    """Placeholder for a file URL inside an output template."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


@dataclass
class OutputPlan:
    """The final output as a template (``FileRef`` where file URLs go) plus the files behind it.

    ``progressive`` outputs (``x-cog-array-type: iterator``) grow item by item while processing.
    """

    template: Any
    files: list[FileSpec] = field(default_factory=list)
    progressive: bool = False

    def render(self, file_url: Any, fraction: float = 1.0) -> Any:
        """The output with file URLs filled in; a progressive one cut at ``fraction``."""

        def fill(value: Any) -> Any:
            if isinstance(value, FileRef):
                return file_url(self.files[value.index])
            if isinstance(value, list):
                return [fill(v) for v in value]
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            return value

        value = self.template
        if self.progressive and isinstance(value, list) and fraction < 1.0:
            value = value[: int(math.floor(len(value) * max(fraction, 0.0) + 1e-6))]
        return fill(value)

    def item_count(self, fraction: float = 1.0) -> int:
        """How many items a progressive output has at ``fraction`` (1 for others when done)."""
        if self.progressive and isinstance(self.template, list):
            return int(math.floor(len(self.template) * min(max(fraction, 0.0), 1.0) + 1e-6))
        return 1 if fraction >= 1.0 else 0


def _resolve(schema: Any, root: Mapping[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` / single ``allOf`` and pick the first non-null ``anyOf``/``oneOf`` branch."""
    seen = 0
    while isinstance(schema, dict) and seen < 20:
        seen += 1
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            merged = {k: v for k, v in schema.items() if k != "$ref"}
            schema = {**target, **merged}
            continue
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and all_of:
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            base: dict[str, Any] = {}
            for part in all_of:
                base.update(_resolve(part, root))
            schema = {**base, **merged}
            continue
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                non_null = [
                    o for o in options if not (isinstance(o, dict) and o.get("type") == "null")
                ]
                rest = {k: v for k, v in schema.items() if k != key}
                schema = {**_resolve((non_null or options)[0], root), **rest}
                break
        else:
            return schema
    return schema if isinstance(schema, dict) else {}


def _input_value(name: str, inputs: Mapping[str, Any], input_schema: Mapping[str, Any]) -> Any:
    if name in inputs:
        return inputs[name]
    prop = (input_schema.get("properties") or {}).get(name)
    if isinstance(prop, dict):
        if "default" in prop:
            return prop["default"]
        return _resolve(prop, input_schema).get("default")
    return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _size(
    inputs: Mapping[str, Any], input_schema: Mapping[str, Any], max_side: int
) -> tuple[int, int]:
    width = _as_int(_input_value("width", inputs, input_schema))
    height = _as_int(_input_value("height", inputs, input_schema))
    if width and height and width > 0 and height > 0:
        w, h = width, height
    else:
        ratio = _input_value("aspect_ratio", inputs, input_schema)
        rw, rh = 1, 1
        if isinstance(ratio, str) and ":" in ratio:
            left, _, right = ratio.partition(":")
            try:
                rw, rh = max(int(float(left)), 1), max(int(float(right)), 1)
            except ValueError:
                rw, rh = 1, 1
        if width and width > 0:
            w, h = width, max(1, round(width * rh / rw))
        elif height and height > 0:
            w, h = max(1, round(height * rw / rh)), height
        elif (rw, rh) != (1, 1) or ratio is not None:
            w, h = (
                (max_side, max(1, round(max_side * rh / rw)))
                if rw >= rh
                else (
                    max(1, round(max_side * rw / rh)),
                    max_side,
                )
            )
        else:
            w, h = max_side // 2, max_side // 2
    scale = min(1.0, max_side / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _file_format(ref: str, inputs: Mapping[str, Any], input_schema: Mapping[str, Any]) -> str:
    fmt = _input_value("output_format", inputs, input_schema)
    if isinstance(fmt, str) and fmt.strip():
        value = fmt.strip().lower().lstrip(".")
        return "jpg" if value == "jpeg" else value
    props = input_schema.get("properties") or {}
    name = ref.split("/")[-1].lower()
    if any(h in name for h in _VIDEO_HINTS) or any(p in props for p in _VIDEO_INPUTS):
        return "mp4"
    if any(h in name for h in _AUDIO_HINTS):
        return "wav"
    return "png"


class _Builder:
    def __init__(
        self,
        *,
        ref: str,
        seed: int,
        inputs: Mapping[str, Any],
        input_schema: Mapping[str, Any],
        output_schema: Mapping[str, Any],
        max_side: int,
    ) -> None:
        self.ref = ref
        self.rng = random.Random(seed)
        self.seed = seed
        self.inputs = inputs
        self.input_schema = input_schema
        self.root = output_schema
        self.files: list[FileSpec] = []
        self.fmt = _file_format(ref, inputs, input_schema)
        self.size = _size(inputs, input_schema, max_side)
        quality = _as_int(_input_value("output_quality", inputs, input_schema))
        self.quality = min(max(quality if quality is not None else 80, 1), 100)
        count = _as_int(_input_value("num_outputs", inputs, input_schema))
        self.num_outputs = min(max(count if count is not None else 1, 1), 16)

    def file(self) -> FileRef:
        index = len(self.files)
        self.files.append(
            FileSpec(
                name=f"output_{index}.{self.fmt}",
                fmt=self.fmt,
                width=self.size[0],
                height=self.size[1],
                seed=self.seed * 31 + index,
                quality=self.quality,
            )
        )
        return FileRef(index)

    def text(self, words: int = 12) -> str:
        return " ".join(self.rng.choice(_WORDS) for _ in range(words))

    def build(self, schema: Any, depth: int = 0) -> Any:
        node = _resolve(schema, self.root)
        if depth > 6:
            return None
        if "enum" in node and isinstance(node["enum"], list) and node["enum"]:
            return node["enum"][0]
        kind = node.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if kind == "string" or (kind is None and node.get("format") == "uri"):
            if node.get("format") == "uri":
                return self.file()
            return self.text()
        if kind == "integer":
            return self.rng.randint(0, 100)
        if kind == "number":
            return round(self.rng.uniform(-1.0, 1.0), 6)
        if kind == "boolean":
            return True
        if kind == "array":
            items = _resolve(node.get("items", {}), self.root)
            item_kind = items.get("type")
            if item_kind == "string" and items.get("format") == "uri":
                return [self.file() for _ in range(self.num_outputs)]
            if item_kind == "string":
                words = [self.rng.choice(_WORDS) for _ in range(12)]
                return [w + " " for w in words[:-1]] + [words[-1]]
            if item_kind in ("number", "integer"):
                return [self.build(items, depth + 1) for _ in range(8)]
            return [self.build(items, depth + 1) for _ in range(2)]
        if kind == "object" or "properties" in node:
            props = node.get("properties") or {}
            return {k: self.build(v, depth + 1) for k, v in props.items()}
        return self.text()


def plan_output(
    *,
    ref: str,
    seed: int,
    inputs: Mapping[str, Any],
    input_schema: Mapping[str, Any],
    output_schema: Mapping[str, Any],
    max_side: int,
) -> OutputPlan:
    """Plan a prediction's output from the model's OUTPUT_SCHEMA (and ``num_outputs``, sizes...)."""
    builder = _Builder(
        ref=ref,
        seed=seed,
        inputs=inputs,
        input_schema=input_schema,
        output_schema=output_schema,
        max_side=max_side,
    )
    template = builder.build(output_schema)
    progressive = output_schema.get("x-cog-array-type") == "iterator" and isinstance(template, list)
    return OutputPlan(template=template, files=builder.files, progressive=progressive)


def _picture(spec: FileSpec, frame: int = 0) -> Any:
    from PIL import Image, ImageDraw

    rng = random.Random(spec.seed + frame * 7919)
    top = tuple(rng.randint(0, 255) for _ in range(3))
    bottom = tuple(rng.randint(0, 255) for _ in range(3))
    image = Image.new("RGB", (spec.width, spec.height), top)
    draw = ImageDraw.Draw(image)
    for y in range(0, spec.height, max(1, spec.height // 16)):
        t = y / max(spec.height - 1, 1)
        color = tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.rectangle((0, y, spec.width, y + max(1, spec.height // 16)), fill=color)
    w, h = spec.width, spec.height
    x0 = (frame * max(1, w // 8)) % max(w, 1)
    draw.ellipse((x0, h // 4, x0 + max(w // 3, 1), h // 4 + max(h // 3, 1)), fill=(255, 255, 255))
    return image


def _wav(spec: FileSpec) -> bytes:
    rate, seconds, freq = 8000, 0.25, 220 + spec.seed % 440
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * freq * i / rate)))
        for i in range(int(rate * seconds))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


def encode_file(spec: FileSpec) -> bytes:
    """The bytes of one output file (deterministic for a given spec)."""
    if spec.fmt in ("png", "webp", "jpg", "jpeg"):
        image = _picture(spec)
        out = io.BytesIO()
        if spec.fmt == "png":
            image.save(out, format="PNG")
        elif spec.fmt == "webp":
            image.save(out, format="WEBP", quality=spec.quality)
        else:
            image.save(out, format="JPEG", quality=spec.quality)
        return out.getvalue()
    if spec.fmt == "gif":
        frames = [_picture(spec, i).convert("P", palette=1, colors=64) for i in range(4)]
        out = io.BytesIO()
        frames[0].save(
            out, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0
        )
        return out.getvalue()
    if spec.fmt == "mp4":
        return TINY_MP4
    if spec.fmt == "wav":
        return _wav(spec)
    if spec.fmt == "txt":
        return b"mock output\n"
    return f"replicate-typed mock output ({spec.fmt})\n".encode()
