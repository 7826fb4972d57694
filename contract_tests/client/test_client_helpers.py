"""Shared helpers of the client contract tests (no tests here).

Realistic prediction objects follow the router seed (flux-schnell called by model path:
``version`` is ``dp-<32 hex>``, ``urls`` has no ``web``, nanosecond timestamps).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

TOKEN = "r8_TESTtoken_0123456789abcdefSECRET"
ROUTER = "https://router.example/replicate"
OFFICIAL = "https://api.replicate.com"
BASES = [ROUTER, OFFICIAL]
SDXL_VERSION = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
PID = "ctdwaehfz1rm80cmd5nsjd8114"
OUT_URL = (
    "https://replicate.delivery/xezq/RoEhEdyl8PoIGFFPg46TU4Svj24i1NDVYmzehJfqLuX9nTFUA/out-0.jpg"
)


def prediction(
    status: str = "starting",
    *,
    id: str = PID,
    output: Any = None,
    error: str | None = None,
    logs: str = "",
    model: str = "black-forest-labs/flux-schnell",
    version: str = "dp-4d0bcc010b3049749a251855f12800be",
    data_removed: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": id,
        "model": model,
        "version": version,
        "input": {"prompt": "Japanese cartoon anime style", "num_outputs": 1},
        "logs": logs,
        "output": output,
        "data_removed": data_removed,
        "error": error,
        "status": status,
        "created_at": "2025-01-15T10:03:39.896Z",
        "urls": {
            "cancel": f"https://api.replicate.com/v1/predictions/{id}/cancel",
            "get": f"https://api.replicate.com/v1/predictions/{id}",
            "stream": "https://stream.replicate.com/v1/files/bcwr-q57vie7wuzg3wxv2hvpajgmzqzmxe67kqddednevutmrpdcft6xq",
        },
    }
    if status in ("processing", "succeeded", "failed", "canceled"):
        body["started_at"] = "2025-01-15T10:03:40.584470194Z"
    if status in ("succeeded", "failed", "canceled", "aborted"):
        body["completed_at"] = "2025-01-15T10:03:41.142386377Z"
    if status == "succeeded":
        body["metrics"] = {"image_count": 1, "predict_time": 0.557916184}
    body.update(extra)
    return body


def succeeded(**kw: Any) -> dict[str, Any]:
    return prediction("succeeded", output=[OUT_URL], **kw)


def problem(status: int, title: str, detail: str, **extra: Any) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps({"title": title, "detail": detail, "status": status, **extra}),
        headers={"content-type": "application/problem+json"},
    )


class FakeTime:
    """A clock and a sleep that advances it: tests never really sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)
