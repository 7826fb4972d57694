"""Lifecycles on a fake clock: states, Prefer: wait, Cancel-After, cancel, listing, expiry, SSE."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from contract_tests.mock.conftest import SDXL, Env
from replicate_typed.mock import FakeClock, SystemClock
from replicate_typed.types.api import Prediction, PredictionPage


def test_lifecycle_starting_processing_succeeded(make_env: Callable[..., Env]) -> None:
    env = make_env(default_timing=(1.0, 4.0), log_interval=0.5)
    pid = env.create({"prompt": "a cat", "num_outputs": 2}).json()["id"]
    first = env.get(pid)
    assert first["status"] == "starting"
    assert first["output"] is None and first["started_at"] is None
    env.clock.advance(1.5)
    early = env.get(pid)
    assert early["status"] == "processing"
    assert early["started_at"] is not None and early["completed_at"] is None
    env.clock.advance(2.0)
    later = env.get(pid)
    assert later["status"] == "processing"
    assert len(later["logs"]) > len(early["logs"]) > 0  # logs grow while processing
    assert later["logs"].startswith(early["logs"])
    env.clock.advance(2.0)
    done = Prediction.model_validate(env.get(pid))
    assert done.status == "succeeded"
    assert done.error is None and done.data_removed is False
    assert isinstance(done.output, list) and len(done.output) == 2
    assert done.metrics is not None
    extra = done.metrics.model_dump()
    assert extra["predict_time"] == pytest.approx(4.0)
    assert extra["total_time"] == pytest.approx(5.0)
    assert extra["image_count"] == 2
    assert done.completed_at is not None and done.started_at is not None
    assert (done.completed_at - done.started_at).total_seconds() == pytest.approx(4.0)


def test_per_model_timing_and_request_override(make_env: Callable[..., Env]) -> None:
    env = make_env(default_timing=(0.0, 0.5), timings={SDXL.ref: (10.0, 10.0)})
    slow = env.create({"prompt": "x"}).json()["id"]
    fast = env.create({"prompt": "x"}, headers={"X-Mock-Timing": "0,1"}).json()["id"]
    env.clock.advance(2)
    assert env.get(slow)["status"] == "starting"
    assert env.get(fast)["status"] == "succeeded"


@pytest.mark.parametrize(
    "how,expected",
    [
        ({"headers": {"X-Mock-Outcome": "failed"}}, "failed"),
        ({"input": {"prompt": "please mock:fail"}}, "failed"),
        ({"headers": {"X-Mock-Outcome": "canceled"}}, "canceled"),
        ({"input": {"prompt": "mock:abort"}}, "aborted"),
    ],
)
def test_failed_canceled_aborted_reachable(
    make_env: Callable[..., Env], how: dict[str, dict[str, str]], expected: str
) -> None:
    env = make_env(default_timing=(1.0, 2.0))
    created = env.create(how.get("input", {"prompt": "x"}), headers=how.get("headers"))
    pid = created.json()["id"]
    env.clock.advance(5)
    body = env.get(pid)
    assert body["status"] == expected
    assert body["output"] is None
    if expected == "failed":
        assert body["error"]
    if expected == "aborted":
        assert body["started_at"] is None


def test_per_model_outcome(make_env: Callable[..., Env]) -> None:
    env = make_env(default_timing=(0.0, 1.0), outcomes={SDXL.ref: "failed"})
    pid = env.create().json()["id"]
    env.clock.advance(2)
    assert env.get(pid)["status"] == "failed"


def test_prefer_wait_returns_finished_prediction(env: Env) -> None:
    response = env.create({"prompt": "x"}, headers={"Prefer": "wait"})
    assert response.status_code == 201
    assert response.headers["preference-applied"] == "wait=60"
    assert response.json()["status"] == "succeeded"
    assert response.json()["output"]


def test_prefer_wait_n_may_still_be_running(make_env: Callable[..., Env]) -> None:
    env = make_env(default_timing=(0.5, 30.0))
    before = env.clock.now()
    response = env.create({"prompt": "x"}, headers={"Prefer": "wait=2"})
    assert response.status_code == 201
    assert response.headers["preference-applied"] == "wait=2"
    assert response.json()["status"] == "processing"
    assert env.clock.now() - before == pytest.approx(2.0)  # held exactly N seconds of its clock


def test_cancel_after_before_start_aborts(make_env: Callable[..., Env]) -> None:
    env = make_env(default_timing=(10.0, 10.0))
    created = env.create({"prompt": "x"}, headers={"Cancel-After": "5s"}).json()
    assert created["deadline"] is not None
    env.clock.advance(6)
    body = env.get(created["id"])
    assert body["status"] == "aborted"
    assert body["started_at"] is None


def test_cancel_after_while_running_cancels(make_env: Callable[..., Env]) -> None:
    env = make_env(default_timing=(1.0, 3600.0))
    pid = env.create({"prompt": "x"}, headers={"Cancel-After": "1m30s"}).json()["id"]
    env.clock.advance(60)
    assert env.get(pid)["status"] == "processing"
    env.clock.advance(31)
    body = env.get(pid)
    assert body["status"] == "canceled"
    assert body["started_at"] is not None


def test_predictions_time_out_after_30_minutes(make_env: Callable[..., Env]) -> None:
    env = make_env(default_timing=(0.0, 7200.0))
    pid = env.create().json()["id"]
    env.clock.advance(1801)
    body = env.get(pid)
    assert body["status"] == "failed"
    assert "timed out" in body["error"]


def test_cancel(make_env: Callable[..., Env]) -> None:
    env = make_env(default_timing=(0.0, 10.0))
    pid = env.create().json()["id"]
    env.clock.advance(1)
    response = env.client.post(f"/replicate/v1/predictions/{pid}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    env.clock.advance(20)
    assert env.get(pid)["status"] == "canceled"  # stays canceled
    again = env.client.post(f"/v1/predictions/{pid}/cancel")
    assert again.status_code == 200 and again.json()["status"] == "canceled"


def test_cancel_finished_prediction_changes_nothing(make_env: Callable[..., Env]) -> None:
    env = make_env(default_timing=(0.0, 1.0))
    pid = env.create().json()["id"]
    env.clock.advance(2)
    response = env.client.post(f"/v1/predictions/{pid}/cancel")
    assert response.json()["status"] == "succeeded"


@pytest.mark.parametrize("prefix", ["", "/replicate"])
def test_list_pages_with_full_urls(make_env: Callable[..., Env], prefix: str) -> None:
    env = make_env(page_size=3)
    ids = []
    for _ in range(7):
        ids.append(env.create().json()["id"])
        env.clock.advance(1)
    seen: list[str] = []
    url: str | None = f"{prefix}/v1/predictions"
    pages = 0
    while url:
        response = env.client.get(url)
        assert response.status_code == 200, response.text
        page = PredictionPage.model_validate(response.json())
        assert page.results is not None and len(page.results) <= 3
        seen += [p.id for p in page.results]
        if page.next:
            assert page.next.startswith(f"{env.base}{prefix}/v1/predictions?")
        if pages > 0:
            assert page.previous and page.previous.startswith(f"{env.base}{prefix}/v1/")
        url = page.next
        pages += 1
    assert pages == 3
    assert seen == list(reversed(ids))  # newest first, each exactly once
    # previous of the last page leads back to the middle page
    middle = env.client.get(f"{prefix}/v1/predictions").json()["next"]
    last = env.client.get(env.client.get(middle).json()["next"]).json()
    back = env.client.get(last["previous"]).json()
    assert [p["id"] for p in back["results"]] == seen[3:6]


def test_list_filters_created_after_and_before(make_env: Callable[..., Env]) -> None:
    clock = FakeClock(start=1_767_225_600.0)  # 2026-01-01T00:00:00Z
    env = make_env(clock=clock)
    ids = []
    for _ in range(5):
        ids.append(env.create().json()["id"])
        clock.advance(60)
    response = env.client.get(
        "/v1/predictions",
        params={"created_after": "2026-01-01T00:01:00Z", "created_before": "2026-01-01T00:03:00Z"},
    )
    assert [p["id"] for p in response.json()["results"]] == [ids[2], ids[1]]
    bad = env.client.get("/v1/predictions", params={"created_after": "yesterday"})
    assert bad.status_code == 422
    assert bad.json()["invalid_fields"][0]["field"] == "created_after"


def test_filters_survive_paging(make_env: Callable[..., Env]) -> None:
    clock = FakeClock(start=1_767_225_600.0)
    env = make_env(clock=clock, page_size=2)
    for _ in range(6):
        env.create()
        clock.advance(60)
    url: str | None = "/v1/predictions?created_after=2026-01-01T00:02:00Z"
    count = 0
    while url:
        body = env.client.get(url).json()
        count += len(body["results"])
        url = body["next"]
        if url:
            assert "created_after=2026-01-01T00%3A02%3A00Z" in url
    assert count == 4


def test_expiry_removes_data_and_files(make_env: Callable[..., Env]) -> None:
    env = make_env(default_timing=(0.0, 1.0), output_ttl=3600.0)
    pid = env.create({"prompt": "x"}).json()["id"]
    env.clock.advance(2)
    body = env.get(pid)
    url = body["output"][0]
    assert env.client.get(url).status_code == 200
    env.clock.advance(3600)
    removed = env.get(pid)
    assert removed["data_removed"] is True
    assert removed["output"] is None
    assert removed["status"] == "succeeded"
    assert env.client.get(url).status_code == 404
    assert env.client.get(f"{env.base}/files/{pid}/nonexistent.png").status_code == 404


def _events(text: str) -> list[tuple[str, str]]:
    events = []
    for block in text.strip().split("\n\n"):
        name, data = "", []
        for line in block.splitlines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        events.append((name, "\n".join(data)))
    return events


def _stream(env: Env, url: str) -> list[tuple[str, str]]:
    with env.client.stream("GET", url, headers={"Accept": "text/event-stream"}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return _events(response.read().decode())


def test_sse_stream_success(make_env: Callable[..., Env]) -> None:
    env = make_env(default_timing=(0.5, 2.0), log_interval=0.5)
    created = env.create({"prompt": "x"}).json()
    events = _stream(env, created["urls"]["stream"])
    names = [name for name, _ in events]
    assert names[-1] == "done" and events[-1][1] == "{}"
    assert names.count("logs") >= 3
    outputs = [data for name, data in events if name == "output"]
    assert outputs and created["id"] in outputs[0]
    assert env.get(created["id"])["status"] == "succeeded"


def test_sse_stream_failure_and_cancel(make_env: Callable[..., Env]) -> None:
    env = make_env(default_timing=(0.0, 1.0))
    failed = env.create({"prompt": "x"}, headers={"X-Mock-Outcome": "failed"}).json()
    events = _stream(env, failed["urls"]["stream"])
    assert events[-2][0] == "error" and "detail" in events[-2][1]
    assert events[-1] == ("done", '{"reason":"error"}') or events[-1][1].replace(" ", "") == (
        '{"reason":"error"}'
    )
    canceled = env.create({"prompt": "x"}, headers={"X-Mock-Outcome": "canceled"}).json()
    events = _stream(env, canceled["urls"]["stream"])
    assert events[-1][0] == "done" and "canceled" in events[-1][1]


def test_stream_of_unknown_prediction_is_404(env: Env) -> None:
    response = env.client.get("/v1/predictions/nope/stream")
    assert response.status_code == 404


async def test_async_client_prefer_wait_and_stream(make_env: Callable[..., Env]) -> None:
    env = make_env(default_timing=(0.1, 1.0))
    async with httpx.AsyncClient(base_url=env.base, headers=env.client.headers) as client:
        response = await client.post(
            "/replicate/v1/predictions",
            json={"version": f"{SDXL.ref}:{SDXL.version}", "input": {"prompt": "x"}},
            headers={"Prefer": "wait=10"},
        )
        assert response.status_code == 201
        assert response.json()["status"] == "succeeded"
        created = await client.post(
            "/v1/predictions", json={"version": SDXL.version, "input": {"prompt": "y"}}
        )
        async with client.stream("GET", created.json()["urls"]["stream"]) as stream:
            text = (await stream.aread()).decode()
        assert _events(text)[-1][0] == "done"


def test_sse_reconnect_with_last_event_id(make_env: Callable[..., Env]) -> None:
    env = make_env(default_timing=(0.2, 2.0), log_interval=0.25)
    created = env.create({"prompt": "x"}).json()
    url = created["urls"]["stream"]
    with env.client.stream("GET", url) as response:
        first = response.read().decode()
    ids = [line[4:] for line in first.splitlines() if line.startswith("id: ")]
    assert len(ids) == len(set(ids)) > 5
    assert all(i.endswith(f":{n}") for n, i in enumerate(ids))
    with env.client.stream("GET", url, headers={"Last-Event-ID": ids[2]}) as response:
        resumed = response.read().decode()
    # replayed later, the events after #2 are the very same ones, in the same order
    assert _events(resumed) == _events(first)[3:]
    assert [line[4:] for line in resumed.splitlines() if line.startswith("id: ")] == ids[3:]


def test_unknown_starting_status_on_request(make_env: Callable[..., Env]) -> None:
    env = make_env(default_timing=(1.0, 1.0))
    created = env.create({"prompt": "x"}, headers={"X-Mock-Starting-Status": "queued"})
    assert created.json()["status"] == "queued"  # a status clients have never seen
    env.clock.advance(3)
    assert env.get(created.json()["id"])["status"] == "succeeded"
    bad = env.create({"prompt": "x"}, headers={"X-Mock-Starting-Status": "succeeded"})
    assert bad.status_code == 422


def test_cancel_ends_a_held_create(make_env: Callable[..., Env]) -> None:
    import threading

    env = make_env(clock=SystemClock(), default_timing=(0.0, 30.0))
    result: dict[str, httpx.Response] = {}

    def create() -> None:
        result["response"] = env.create({"prompt": "x"}, headers={"Prefer": "wait=60"})

    thread = threading.Thread(target=create)
    thread.start()
    pid = None
    for _ in range(2000):
        results = env.client.get("/v1/predictions").json()["results"]
        if results:
            pid = results[0]["id"]
            break
        threading.Event().wait(0.005)
    assert pid is not None
    assert env.client.post(f"/v1/predictions/{pid}/cancel").json()["status"] == "canceled"
    thread.join(20)
    assert not thread.is_alive()
    assert result["response"].json()["status"] == "canceled"  # the hold ended with the cancel


def test_web_page_and_upload_expiry(make_env: Callable[..., Env]) -> None:
    env = make_env(upload_ttl=60.0)
    created = env.create().json()
    page = env.client.get(created["urls"]["web"])
    assert page.status_code == 200 and "stability-ai/sdxl" in page.text
    upload = env.client.post("/v1/files", files={"content": ("a.txt", b"abc", "text/plain")})
    url = upload.json()["urls"]["get"]
    assert env.client.get(url).status_code == 200
    env.clock.advance(61)
    assert env.client.get(url).status_code == 404
