"""A finished prediction as MCP content: files as resource links, small images also inline,
text as text; the prediction itself as structured content.

Inline images are bounded: at most ``max_images`` per result, each downloaded with the client's
download rules (http(s)/``data:`` only, redirects checked, no ``Authorization`` sent) under a size
cap, and kept only when its bytes are an image (PNG, JPEG, GIF, WebP by their magic numbers).
"""

from __future__ import annotations

import base64
import json
import mimetypes
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import mcp_types as types

from replicate_typed.client.downloads import adownload, file_urls
from replicate_typed.client.errors import ReplicateError
from replicate_typed.core.model import ModelInfo, join_text

__all__ = ["InlineLimits", "output_content", "prediction_summary", "sniff_image"]

_MAX_TEXT = 100_000


@dataclass(frozen=True)
class InlineLimits:
    """How much image data a result may carry inline."""

    max_images: int = 4
    max_image_bytes: int = 1024 * 1024


def sniff_image(data: bytes) -> str | None:
    """The image MIME type of ``data`` by its magic number, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _name_and_type(url: str, index: int) -> tuple[str, str | None]:
    if url.startswith("data:"):
        mime = url[5:].split(";", 1)[0].split(",", 1)[0] or None
        ext = mimetypes.guess_extension(mime) if mime else None
        return f"output-{index}{ext or ''}", mime
    path = unquote(urlsplit(url).path)
    name = path.rsplit("/", 1)[-1] or f"output-{index}"
    return name[:200], mimetypes.guess_type(name)[0]


async def _inline_image(url: str, limits: InlineLimits) -> types.ImageContent | None:
    with tempfile.TemporaryDirectory(prefix="replicate-typed-mcp-") as folder:
        try:
            path = await adownload(url, Path(folder), max_bytes=limits.max_image_bytes)
        except (ReplicateError, OSError):
            return None  # too large or unreachable: the link is there
        data = path.read_bytes()
    mime = sniff_image(data)
    if mime is None:
        return None
    return types.ImageContent(data=base64.b64encode(data).decode("ascii"), mime_type=mime)


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=1, default=str)
    if len(text) > _MAX_TEXT:
        return text[:_MAX_TEXT] + f"\n... ({len(text) - _MAX_TEXT} more characters)"
    return text


async def output_content(
    raw_output: Any, info: ModelInfo[Any, Any], limits: InlineLimits
) -> list[types.ContentBlock]:
    """The content blocks of a succeeded prediction's ``output``."""
    blocks: list[types.ContentBlock] = []
    urls = file_urls(raw_output)
    images = 0
    for index, url in enumerate(urls):
        name, mime = _name_and_type(url, index)
        if not url.startswith("data:"):
            blocks.append(types.ResourceLink(name=name, uri=url, mime_type=mime))
        if mime is not None and mime.startswith("image/") and images < limits.max_images:
            image = await _inline_image(url, limits)
            if image is not None:
                blocks.append(image)
                images += 1
                continue
        if url.startswith("data:"):
            blocks.append(
                types.TextContent(
                    text=f"{name}: a data: URI of {len(url)} characters ({mime or 'unknown type'}), "
                    "not shown inline; it is in structuredContent.output"
                )
            )
    if not urls:
        value = raw_output
        if info.output_concatenate and isinstance(value, list):
            value = join_text(value)  # null chunks skipped, never the word "None"
        blocks.append(types.TextContent(text=_text(value)))
    return blocks


def prediction_summary(prediction: Any) -> dict[str, Any]:
    """The fields of a prediction an agent needs (JSON): no input, no API URLs but the web page."""
    data = prediction.model_dump(mode="json", exclude_none=True, by_alias=True)
    keep = (
        "id",
        "model",
        "version",
        "status",
        "created_at",
        "started_at",
        "completed_at",
        "error",
        "metrics",
        "output",
        "logs",
        "source",
        "data_removed",
        "deadline",
    )
    summary = {key: data[key] for key in keep if key in data}
    if "output" in summary:
        size = len(json.dumps(summary["output"]))
        if size > _MAX_TEXT:
            urls = [url for url in file_urls(summary["output"]) if not url.startswith("data:")]
            summary["output"] = {
                "omitted": f"{size} characters of JSON (larger than {_MAX_TEXT})",
                "files": urls,
            }
    logs = summary.get("logs")
    if isinstance(logs, str) and len(logs) > 4000:
        summary["logs"] = "..." + logs[-4000:]
    web = (data.get("urls") or {}).get("web")
    if isinstance(web, str):
        summary["web"] = web
    return summary
