"""Exit codes match the CLI page's table (docs/cli.md) everywhere: commands x bad inputs.

2: bad usage or input, found before any request (nothing is sent), one line naming the argument
or option, the value and the rule. 1: the API or a prediction failed. 75: a batch whose journal
another run holds (nothing sent). 130: interrupted. The
table below is the specification; ``test_the_docs_document_the_codes_tested_here`` ties it to
docs/cli.md so the two cannot drift apart.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from replicate_typed.batch import JournalLock
from replicate_typed.batch.journal import JOURNAL_NAME
from replicate_typed.batch.lock import lock_path
from replicate_typed.cli.commands.batch import EXIT_LOCKED
from replicate_typed.cli.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE
from replicate_typed.cli.root import exit_code_of
from replicate_typed.client.errors import InputError, ReplicateError

from .test_cli import BASE, FILE_URL, PID, SDXL, assert_one_line_error, invoke, prediction

CLI_PAGE = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


@dataclass(frozen=True)
class Case:
    name: str
    args: list[str]
    code: int
    fragments: list[str]
    env: dict[str, str | None] = field(default_factory=dict)


NO_TOKEN: dict[str, str | None] = {"REPLICATE_API_TOKEN": None}
BAD_INPUT = [
    # prediction ids: one path segment of letters, digits, '-', '_', '.', '~'
    *(
        Case(f"{cmd} {bad!r}", [cmd, bad], 2, ["ID", repr(bad), "not a prediction id"])
        for cmd in ("get", "cancel", "download")
        for bad in ("../../x", "a/b", "a b", "", "x?y=1", "%2e%2e/x")
    ),
    *(
        Case(f"{cmd} {bad!r}", [cmd, bad], 2, ["ID", repr(bad), "path step"])
        for cmd in ("get", "cancel", "download")
        for bad in ("..", ".")
    ),
    # model references
    Case("run bad ref", ["run", "not a ref"], 2, ["MODEL", "'not a ref'", "owner/name"]),
    Case("run path ref", ["run", "../../x"], 2, ["MODEL", "'../../x'", "owner/name"]),
    Case("run unknown", ["run", "nobody/nothing"], 2, ["MODEL", "'nobody/nothing'", "no generated"]),
    Case("run bad version", ["run", f"{SDXL}:xyz"], 2, ["MODEL", "'xyz'", "64-hex"]),
    Case("batch unknown model", ["batch", "{jsonl}", "--model", "x/y"], 2, ["--model", "'x/y'"]),
    # options with a rule
    Case("run --cancel-after", ["run", SDXL, "--cancel-after", "soon"], 2, ["--cancel-after", "'soon'", "duration"]),
    Case("run --cancel-after short", ["run", SDXL, "--cancel-after", "1s"], 2, ["--cancel-after", "'1s'", "minimum 5s"]),
    Case("batch --cancel-after", ["batch", "{jsonl}", "--model", SDXL, "--cancel-after", "1x"], 2, ["--cancel-after", "'1x'", "duration"]),
    Case("run --wait 0", ["run", SDXL, "--wait", "0"], 2, ["--wait", "'0'", "greater than or equal to 1"]),
    Case("run --wait 61", ["run", SDXL, "--wait", "61"], 2, ["--wait", "'61'", "less than or equal to 60"]),
    Case("run --timeout -1", ["run", SDXL, "--timeout", "-1"], 2, ["--timeout", "'-1'", "greater than or equal to 0"]),
    Case("run model input", ["run", SDXL, "--num-outputs", "9"], 2, ["--num-outputs", "9", "less than or equal to 4"]),
    Case("run model choice", ["run", SDXL, "--scheduler", "X"], 2, ["--scheduler", "'X'", "is not one of"]),
    Case("list --limit 0", ["list", "--limit", "0"], 2, ["--limit", "'0'", "greater than or equal to 1"]),
    Case("list --limit abc", ["list", "--limit", "abc"], 2, ["--limit", "'abc'", "valid integer"]),
    Case("mock --port", ["mock", "--port", "70000"], 2, ["--port", "'70000'", "less than or equal to 65535"]),
    Case("batch -j 0", ["batch", "{jsonl}", "--model", SDXL, "-j", "0"], 2, ["--concurrency", "'0'"]),
    Case("download --out file", ["download", PID, "--out", "{jsonl}"], 2, ["--out", "is a file"]),
    Case("global --request-timeout", ["--request-timeout", "0", "get", PID], 2, ["--request-timeout", "'0'", "0.1"]),
    Case("global --max-retries", ["--max-retries", "-1", "get", PID], 2, ["--max-retries", "'-1'"]),
    # the base URL (option or environment)
    Case("--base-url ftp", ["--base-url", "ftp://x", "get", PID], 2, ["--base-url", "'ftp://x'", "http(s)"]),
    Case("--base-url query", ["--base-url", "https://x/r?a=1", "list"], 2, ["--base-url", "'https://x/r?a=1'", "query"]),
    Case("REPLICATE_BASE_URL", ["cancel", PID], 2, ["REPLICATE_BASE_URL", "'nope'", "http(s)"], {"REPLICATE_BASE_URL": "nope"}),
    Case("batch REPLICATE_BASE_URL", ["batch", "{jsonl}", "--model", SDXL], 2, ["REPLICATE_BASE_URL", "'nope'"], {"REPLICATE_BASE_URL": "nope"}),
    # the token
    *(
        Case(f"{args[0]} without token", args, 2, ["REPLICATE_API_TOKEN", "--api-token-file"], NO_TOKEN)
        for args in (
            ["get", PID],
            ["cancel", PID],
            ["list"],
            ["download", PID],
            ["run", SDXL, "--prompt", "x"],
            ["batch", "{jsonl}", "--model", SDXL],
        )
    ),
    Case("token with a line break", ["get", PID], 2, ["REPLICATE_API_TOKEN", "control characters"], {"REPLICATE_API_TOKEN": "r8_a\nb"}),
    Case("missing --api-token-file", ["--api-token-file", "{missing}", "get", PID], 2, ["--api-token-file", "missing.txt", "No such file"]),
    Case("empty --api-token-file", ["--api-token-file", "{empty}", "list"], 2, ["--api-token-file", "empty.txt", "empty"]),
    # files and usage
    Case("batch missing FILE", ["batch", "{missing}", "--model", SDXL], 2, ["FILE", "missing.txt", "No such file"]),
    Case("batch --strict bad line", ["batch", "{bad_jsonl}", "--model", SDXL, "--strict"], 2, ["invalid line", "nothing was sent"]),
    Case("batch only bad lines", ["batch", "{bad_jsonl}", "--model", SDXL], 2, ["no valid input"]),
    Case("unknown command", ["frobnicate"], 2, ["frobnicate"]),
    Case("unknown option", ["get", PID, "--bogus"], 2, ["--bogus"]),
    Case("missing argument", ["get"], 2, ["ID"]),
    Case("missing model input", ["run", "black-forest-labs/flux-schnell"], 2, ["--prompt", "Missing option"]),
]  # fmt: skip


def fill(args: list[str], tmp_path: Path) -> list[str]:
    (tmp_path / "in.jsonl").write_text('{"prompt": "x"}\n')
    (tmp_path / "bad.jsonl").write_text('{"width": "wide"}\n')
    (tmp_path / "empty.txt").write_text("  \n")
    places = {
        "{jsonl}": tmp_path / "in.jsonl",
        "{bad_jsonl}": tmp_path / "bad.jsonl",
        "{missing}": tmp_path / "missing.txt",
        "{empty}": tmp_path / "empty.txt",
    }
    return [str(places[a]) if a in places else a for a in args]


@pytest.mark.parametrize("case", BAD_INPUT, ids=lambda c: c.name)
def test_bad_input_exits_2_before_any_request(
    case: Case, respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    catch_all = respx_mock.route().respond(500)
    runner = CliRunner()
    result = invoke(runner, fill(case.args, tmp_path), **case.env)
    assert_one_line_error(result, case.code, *case.fragments)
    assert catch_all.call_count == 0
    assert not (tmp_path / "out").exists()


# --- failures of the API or of a prediction: exit 1; interrupted: 130 --------------------------


def _problem(status: int, title: str) -> httpx.Response:
    return httpx.Response(
        status,
        json={"title": title, "detail": f"{title} (test)", "status": status},
        headers={"content-type": "application/problem+json"},
    )


def _raiser(exc: BaseException) -> Any:
    def side_effect(request: httpx.Request) -> httpx.Response:
        raise exc

    return side_effect


@dataclass(frozen=True)
class ServerCase:
    name: str
    args: list[str]
    method: str
    url: str
    answer: Any
    code: int
    fragments: list[str]


SERVER = [
    ServerCase("get 404", ["get", PID], "GET", f"/v1/predictions/{PID}", _problem(404, "Not found"), 1, ["404", "Not found"]),
    ServerCase("cancel 409", ["cancel", PID], "POST", f"/v1/predictions/{PID}/cancel", _problem(409, "Conflict"), 1, ["409"]),
    ServerCase("list 500", ["--max-retries", "0", "list"], "GET", "/v1/predictions", _problem(500, "Boom"), 1, ["500"]),
    ServerCase("get 401", ["get", PID], "GET", f"/v1/predictions/{PID}", _problem(401, "Unauthenticated"), 1, ["authentication failed"]),
    ServerCase("download unfinished", ["download", PID], "GET", f"/v1/predictions/{PID}", httpx.Response(200, json=prediction("processing")), 1, [PID, "still processing"]),
    ServerCase("download: the server's id is a path step", ["download", PID], "GET", f"/v1/predictions/{PID}", httpx.Response(200, json=prediction("succeeded", id="..", output=[FILE_URL])), 1, ["'..'", "not a prediction id", "output folder"]),
    ServerCase("run failed", ["run", SDXL, "--wait", "5"], "POST", "/v1/predictions", httpx.Response(201, json=prediction("failed", error="OOM")), 1, [PID, "failed", "OOM"]),
    ServerCase("get interrupted", ["get", PID], "GET", f"/v1/predictions/{PID}", KeyboardInterrupt(), 130, ["interrupted"]),
]  # fmt: skip


@pytest.mark.parametrize("case", SERVER, ids=lambda c: c.name)
def test_api_failures_exit_1_and_interrupts_130(
    case: ServerCase, respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    route = respx_mock.route(method=case.method, url=BASE + case.url)
    if isinstance(case.answer, BaseException):
        route.mock(side_effect=_raiser(case.answer))
    else:
        route.mock(return_value=case.answer)
    files = respx_mock.get(FILE_URL).respond(200, content=b"png")
    result = invoke(
        CliRunner(),
        [
            *case.args,
            *(["--out", str(tmp_path)] if "download" in case.args or "run" in case.args else []),
        ],
    )
    assert_one_line_error(result, case.code, *case.fragments)
    assert files.call_count == 0
    assert list(tmp_path.iterdir()) == []


def test_run_interrupted_while_waiting_names_the_running_prediction(
    respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    respx_mock.post(f"{BASE}/v1/predictions").respond(201, json=prediction("processing"))
    respx_mock.get(f"{BASE}/v1/predictions/{PID}").mock(side_effect=_raiser(KeyboardInterrupt()))
    result = invoke(CliRunner(), ["run", SDXL, "--out", str(tmp_path), "--poll-interval", "0.05"])
    assert_one_line_error(result, 130, PID, f"cancel {PID}")


@pytest.mark.parametrize("interrupt", [True, False], ids=["interrupted", "finished"])
def test_after_ctrl_c_the_pool_is_left_to_the_exit(
    respx_mock: respx.MockRouter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interrupt: bool
) -> None:
    """Ctrl-C may land while the interrupted code holds the connection pool's lock; closing the
    pool then would wait forever (seen once in CI: the process never exited). After an interrupt
    the CLI exits without closing it; otherwise it closes it."""
    from replicate_typed.client import Client

    closed: list[bool] = []
    monkeypatch.setattr(Client, "close", lambda self: closed.append(True))
    respx_mock.post(f"{BASE}/v1/predictions").respond(201, json=prediction("processing"))
    route = respx_mock.get(f"{BASE}/v1/predictions/{PID}")
    if interrupt:
        route.mock(side_effect=_raiser(KeyboardInterrupt()))
        args = ["run", SDXL, "--out", str(tmp_path), "--poll-interval", "0.05"]
    else:
        route.respond(200, json=prediction("succeeded", output=[FILE_URL]))
        args = ["get", PID]
    result = invoke(CliRunner(), args)
    assert result.exit_code == (130 if interrupt else 0), result.output
    assert closed == ([] if interrupt else [True])


def test_a_batch_whose_journal_another_run_holds_exits_75(
    respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    """75 (sysexits' EX_TEMPFAIL, "try again later"): nothing was sent, the holder is named."""
    catch_all = respx_mock.route().respond(500)
    out = tmp_path / "out"
    holder = JournalLock(lock_path(out / JOURNAL_NAME))
    asyncio.run(holder.acquire())
    try:
        args = fill(["batch", "{jsonl}", "--model", SDXL, "--out", str(out)], tmp_path)
        result = invoke(CliRunner(), args)
    finally:
        holder.release()
    assert_one_line_error(result, 75, "holds the journal", "--wait-for-lock")
    assert catch_all.call_count == 0


def test_input_error_from_the_client_is_bad_input() -> None:
    """The client's InputError means "caught before any request was sent": exit 2."""
    assert exit_code_of(InputError("cancel_after: 'x' is not a duration")) == EXIT_USAGE
    assert exit_code_of(ReplicateError("prediction p1 failed")) == EXIT_FAILURE
    assert exit_code_of(KeyboardInterrupt()) == EXIT_INTERRUPTED


# --- the class: any id that is not one, any id that is ------------------------------------------

_ID_CHARS = re.compile(r"[A-Za-z0-9._~-]+")


def _is_valid_id(text: str) -> bool:
    return _ID_CHARS.fullmatch(text) is not None and set(text) != {"."}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(bad=st.text(max_size=24).filter(lambda s: not _is_valid_id(s) and not s.startswith("-")))
def test_property_any_invalid_id_exits_2_without_a_request(
    bad: str, respx_mock: respx.MockRouter
) -> None:
    catch_all = respx_mock.route().respond(500)
    before = catch_all.call_count
    result = invoke(CliRunner(), ["get", bad])
    line = assert_one_line_error(result, 2, "invalid value for ID")
    assert "not a prediction id" in line or "path step" in line
    assert catch_all.call_count == before


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(good=st.from_regex(r"[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,30}", fullmatch=True))
def test_property_any_valid_id_reaches_the_api(good: str, respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(url__regex=rf"{re.escape(BASE)}/v1/predictions/.+").mock(
        return_value=_problem(404, "Not found")
    )
    before = route.call_count
    # "--" ends the options: a valid id may start with "-"
    result = invoke(CliRunner(), ["--max-retries", "0", "get", "--", good])
    assert_one_line_error(result, 1, "404")
    assert route.call_count == before + 1


# --- the CLI page's table is the one tested here --------------------------------------------------


def test_the_docs_document_the_codes_tested_here() -> None:
    section = CLI_PAGE.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\d+)` \| (.+) \|$", section, flags=re.M))
    assert set(rows) == {"0", "1", "2", "75", "130"}
    tested = {c.code for c in BAD_INPUT} | {c.code for c in SERVER} | {EXIT_LOCKED}
    assert tested == {1, 2, 75, 130}
    assert "before any request" in rows["2"]
    for word in ("ID", "--cancel-after", "--base-url", "token", "option"):
        assert word in rows["2"], word
    assert "interrupted" in rows["130"].lower()
    for words in ("batch", "journal", "--wait-for-lock", "nothing was sent"):
        assert words in rows["75"], words
