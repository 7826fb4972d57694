"""client/_urls.py: request URLs joined onto the parsed base URL agree with parsing the string.

The fast join (parsed base + plain path) replaces httpx's parse of ``f"{base}{path}"``; these
properties prove both give the same URL for every base URL a client accepts and every path,
and that the requests the client builds go where the string says.
"""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replicate_typed.client import Client, _urls
from replicate_typed.client import _requests as rq
from replicate_typed.client._urls import BaseURL
from replicate_typed.resources import _calls

PLAIN = "abcXYZ019-._~"
HOSTS = ["api.replicate.com", "router.example", "127.0.0.1", "[::1]", "xn--bcher-kva.example",
         "Bücher.example", "HOST.Example"]  # fmt: skip
PREFIXES = ["", "/replicate", "/a/b", "/r%20x", "/a b", "/ü", "/x/..", "/./y", "//z", "/a;b",
            "/%7Euser", "/a@b:c"]  # fmt: skip

segments = st.text(alphabet=PLAIN + "/%?#: @ü", min_size=0, max_size=12)
paths = st.lists(segments, min_size=1, max_size=5).map(lambda parts: "/" + "/".join(parts))
bases = st.builds(
    lambda scheme, host, port, prefix: f"{scheme}://{host}{port}{prefix}",
    st.sampled_from(["http", "https", "HTTPS"]),
    st.sampled_from(HOSTS),
    st.sampled_from(["", ":8080", ":443", ":80"]),
    st.sampled_from(PREFIXES),
)


def _same(fast: httpx.URL | str, text: str) -> None:
    parsed = httpx.URL(text)
    url = httpx.URL(fast)
    assert str(url) == str(parsed)
    assert (url.scheme, url.host, url.port, url.netloc, url.raw_path) == (
        parsed.scheme,
        parsed.host,
        parsed.port,
        parsed.netloc,
        parsed.raw_path,
    )
    assert url == parsed


@settings(max_examples=150, deadline=None)
@given(bases, paths)
def test_join_agrees_with_parsing(base: str, path: str) -> None:
    try:
        resolved = rq.resolve_base_url(base)
        httpx.URL(resolved + path)
    except Exception:  # noqa: BLE001  (a URL neither way accepts: nothing to compare)
        return
    _same(BaseURL(resolved).join(path), resolved + path)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(HOSTS), st.sampled_from(PREFIXES[:4]), st.text(PLAIN, min_size=1))
def test_plain_paths_take_the_fast_join(host: str, prefix: str, segment: str) -> None:
    base = rq.resolve_base_url(f"https://{host}{prefix}")
    urls = BaseURL(base)
    assert urls.fast
    path = f"/v1/predictions/{segment}"
    joined = urls.join(path)
    if segment.startswith("."):  # a dot segment is parsed (httpx resolves it)
        assert isinstance(joined, str)
    else:
        assert isinstance(joined, httpx.URL)
    _same(joined, base + path)


def test_a_disagreeing_probe_turns_the_fast_join_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # a probe whose parse differs from the join (httpx resolves its dot segment) stands for an
    # httpx whose parsed form no longer joins this way: every URL is then parsed
    monkeypatch.setattr(_urls, "_PROBE", "/v1/../predictions")
    urls = BaseURL("https://h.example/replicate")
    assert not urls.fast
    assert urls.join("/v1/predictions") == "https://h.example/replicate/v1/predictions"


def test_without_httpx_parsed_form_every_url_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(httpx.URL, "_uri_reference", raising=False)
    monkeypatch.setattr(httpx.URL, "__init__", lambda self, url="": None)
    assert not BaseURL("https://h.example").fast


def test_absolute_links_are_left_to_httpx() -> None:
    link = "https://api.replicate.com/v1/predictions?cursor=abc"
    assert BaseURL("https://api.replicate.com").join(link) == link


@pytest.mark.parametrize(
    "prediction_id", ["ctdwaehfz1rm80cmd5nsjd8114", "a.b~c_d-e", "id%20x", "ü-id", "x" * 200]
)
def test_requests_go_where_the_path_says(prediction_id: str) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(404, json={"detail": "no"})

    base = "https://router.example/replicate"
    with Client(api_token="r8_x", base_url=base, transport=httpx.MockTransport(handler)) as client:
        try:
            spec = rq.spec_of(_calls.predictions_get(prediction_id))
        except Exception:  # noqa: BLE001  (an id the rule refuses: never sent)
            return
        request = client._core.build(client._http, spec)
        expected = httpx.URL(rq.join_url(base, spec.url))
        assert request.url == expected
        assert request.url.raw_path == expected.raw_path
        assert request.headers["host"] == "router.example"
