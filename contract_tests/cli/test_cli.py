"""The ``replicate-typed`` CLI through Typer's CliRunner, the API faked with respx.

Options are generated from each model's spec; bad values are refused before any request; a run
creates, polls, downloads the output files and prints where they are; the API token never
appears in anything the CLI prints, on success or failure, even with debug tracebacks.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from PIL import Image
from typer.testing import CliRunner, Result

from replicate_typed.cli.app import app
from replicate_typed.cli.commands.run import RUN_OPTIONS
from replicate_typed.cli.options import InputOption, model_options
from replicate_typed.models import registry

TOKEN = "r8_CLItoken_5f1e2d3c4b5a69788796a5b4SECRET"
BASE = "https://router.example.test/replicate"
SDXL = "stability-ai/sdxl"
SDXL_VERSION = "7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"
FLUX = "black-forest-labs/flux-schnell"
PID = "cli0prediction0id0000000001"
FILE_URL = "https://delivery.example.test/pbxt/abc/out-0.png"
FAST = ["--poll-interval", "0.05"]


def png_bytes(size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def prediction(
    status: str = "starting",
    *,
    id: str = PID,
    output: Any = None,
    error: str | None = None,
    logs: str = "",
    model: str = SDXL,
    version: str = SDXL_VERSION,
    data_removed: bool = False,
) -> dict[str, Any]:
    return {
        "id": id,
        "model": model,
        "version": version,
        "input": {"prompt": "a lighthouse"},
        "logs": logs,
        "output": output,
        "data_removed": data_removed,
        "error": error,
        "status": status,
        "created_at": "2025-01-15T10:03:39.896Z",
        "urls": {
            "get": f"{BASE}/v1/predictions/{id}",
            "cancel": f"{BASE}/v1/predictions/{id}/cancel",
            "web": f"https://replicate.com/p/{id}",
        },
    }


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, args: list[str], **env: str | None) -> Result:
    environment: dict[str, str | None] = {
        "REPLICATE_API_TOKEN": TOKEN,
        "REPLICATE_BASE_URL": BASE,
        "REPLICATE_TYPED_DEBUG": None,
        "COLUMNS": "250",
    }
    environment.update(env)
    return runner.invoke(app, args, env=environment)


def assert_no_token(result: Result) -> None:
    assert TOKEN not in result.stdout
    assert TOKEN not in result.stderr
    assert TOKEN[3:20] not in result.output  # not even a fragment


def error_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def assert_one_line_error(result: Result, code: int, *fragments: str) -> str:
    assert result.exit_code == code, result.output
    lines = error_lines(result)
    assert len(lines) == 1, result.stderr
    assert result.stderr.rstrip("\n").splitlines()[-1] == lines[0]
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert_no_token(result)
    return lines[0]


def body(call: Any) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(call.request.content)
    return value


# --- options generated from the spec -----------------------------------------------------


def by_flag(options: list[InputOption]) -> dict[str, InputOption]:
    return {option.flag: option for option in options}


def test_sdxl_options_follow_its_schema() -> None:
    options = by_flag(model_options(registry.get_model(SDXL), reserved=RUN_OPTIONS))
    schema_props = registry.get_model(SDXL).input_schema["properties"]
    assert len(options) == len(schema_props)
    width = options["--width"]
    assert (width.kind, width.default, width.required) == ("int", 1024, False)
    scheduler = options["--scheduler"]
    assert scheduler.kind == "choice"
    assert scheduler.choices == (
        "DDIM",
        "DPMSolverMultistep",
        "HeunDiscrete",
        "KarrasDPM",
        "K_EULER_ANCESTRAL",
        "K_EULER",
        "PNDM",
    )
    assert scheduler.default == "K_EULER"
    assert options["--guidance-scale"].kind == "float"
    assert "Range: 1 to 50." in options["--guidance-scale"].help
    assert options["--apply-watermark"].kind == "bool"
    assert options["--apply-watermark"].default is True
    assert options["--image"].kind == "file"
    assert options["--seed"].default is None
    # In x-order, as the spec lists them.
    assert [o.field for o in model_options(registry.get_model(SDXL))][:3] == [
        "prompt",
        "negative_prompt",
        "image",
    ]


def test_flux_schnell_options_string_enums_and_required_prompt() -> None:
    options = by_flag(model_options(registry.get_model(FLUX), reserved=RUN_OPTIONS))
    assert options["--megapixels"].kind == "choice"
    assert options["--megapixels"].choices == ("1", "0.25")
    assert options["--aspect-ratio"].choices[:3] == ("1:1", "16:9", "21:9")
    assert options["--aspect-ratio"].default == "1:1"
    assert options["--prompt"].required is True
    assert options["--output-format"].choices == ("webp", "jpg", "png")


def test_integer_enum_becomes_integer_choices() -> None:
    options = by_flag(model_options(registry.get_model("stability-ai/stable-diffusion")))
    width = options["--width"]
    assert width.kind == "choice"
    assert all(isinstance(v, int) for v in width.choices)
    assert 512 in width.choices and 100 not in width.choices


def test_input_named_like_a_run_option_gets_a_prefixed_flag() -> None:
    info = registry.get_model(SDXL)
    options = by_flag(model_options(info, reserved=("--seed", "--out")))
    assert "--seed" not in options
    assert options["--input-seed"].field == "seed"


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (
            SDXL,
            [
                "--width",
                "[default: 1024]",
                "--scheduler",
                "DPMSolverMultistep",
                "[default: K_EULER]",
                "--num-outputs",
                "Range: 1 to 4.",
                "--apply-watermark",
                "--no-apply-watermark",
                "PATH|URL",
                f"by version {SDXL_VERSION}",
                "--wait",
                "--timeout",
                "--out",
            ],
        ),
        (
            FLUX,
            [
                "--megapixels",
                "<1|0.25>",
                "--aspect-ratio",
                "16:9",
                "required",
                "Prompt for generated image",
                "by model path",
            ],
        ),
    ],
)
def test_run_help_shows_generated_options(
    runner: CliRunner, model: str, expected: list[str]
) -> None:
    result = invoke(runner, ["run", model, "--help"])
    assert result.exit_code == 0, result.output
    for fragment in expected:
        assert fragment in result.stdout, fragment
    assert_no_token(result)


def test_run_help_lists_every_registry_model(runner: CliRunner) -> None:
    result = invoke(runner, ["run", "--help"])
    assert result.exit_code == 0
    for ref in registry:
        assert ref in result.stdout


# --- bad values: one line, exit 2, no request ----------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        ([SDXL, "--num-outputs", "7"], ["--num-outputs", "7", "less than or equal to 4"]),
        ([SDXL, "--width", "abc"], ["--width", "'abc'", "integer"]),
        ([SDXL, "--scheduler", "FAST"], ["--scheduler", "'FAST'", "is not one of"]),
        (
            [SDXL, "--guidance-scale", "0.5"],
            ["--guidance-scale", "0.5", "greater than or equal to 1"],
        ),
        ([FLUX, "--prompt", "x", "--megapixels", "2"], ["--megapixels", "'2'", "'0.25'"]),
        ([FLUX], ["--prompt"]),
        (["stability-ai/stable-diffusion", "--width", "100"], ["--width", "'100'", "512"]),
        ([SDXL, "--image", "/no/such/file.png"], ["--image", "/no/such/file.png", "not a file"]),
        (["nobody/nothing"], ["nobody/nothing"]),
    ],
)
def test_bad_value_is_rejected_before_any_request(
    runner: CliRunner, respx_mock: respx.MockRouter, args: list[str], fragments: list[str]
) -> None:
    catch_all = respx_mock.route().respond(500)
    result = invoke(runner, ["run", *args])
    assert_one_line_error(result, 2, *fragments)
    assert catch_all.call_count == 0
    assert len(respx_mock.calls) == 0


def test_missing_token_is_one_line_and_sends_nothing(
    runner: CliRunner, respx_mock: respx.MockRouter
) -> None:
    catch_all = respx_mock.route().respond(500)
    result = invoke(runner, ["run", SDXL, "--prompt", "x"], REPLICATE_API_TOKEN=None)
    assert_one_line_error(result, 2, "REPLICATE_API_TOKEN", "--api-token-file")
    assert catch_all.call_count == 0


# --- run end to end ----------------------------------------------------------------------


def test_run_by_version_polls_downloads_and_prints_paths(
    runner: CliRunner, respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    image = png_bytes()
    create = respx_mock.post(f"{BASE}/v1/predictions").respond(201, json=prediction())
    poll = respx_mock.get(f"{BASE}/v1/predictions/{PID}").mock(
        side_effect=[
            httpx.Response(200, json=prediction("processing", logs="step 1/2\n")),
            httpx.Response(
                200,
                json=prediction("succeeded", logs="step 1/2\nstep 2/2\n", output=[FILE_URL]),
            ),
        ]
    )
    fetch = respx_mock.get(FILE_URL).respond(
        200, content=image, headers={"content-type": "image/png"}
    )
    result = invoke(
        runner,
        [
            "run",
            SDXL,
            "--prompt",
            "a lighthouse",
            "--width",
            "768",
            "--scheduler",
            "DDIM",
            "--guidance-scale",
            "5",
            "--no-apply-watermark",
            "--out",
            str(tmp_path),
            *FAST,
        ],
    )
    assert result.exit_code == 0, result.output
    # Only what was given is sent, typed as the schema says; the version comes from the registry.
    assert body(create.calls.last) == {
        "version": SDXL_VERSION,
        "input": {
            "prompt": "a lighthouse",
            "width": 768,
            "scheduler": "DDIM",
            "guidance_scale": 5.0,
            "apply_watermark": False,
        },
    }
    assert create.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Prefer" not in create.calls.last.request.headers
    assert poll.call_count == 2
    assert fetch.call_count == 1
    # The file host never sees the token.
    assert "Authorization" not in fetch.calls.last.request.headers
    saved = tmp_path / PID / "out-0.png"
    assert saved.read_bytes() == image
    assert str(saved) in result.stdout.splitlines()
    assert "step 2/2" in result.stderr  # the logs were shown (plain lines: not a terminal)
    assert "succeeded" in result.stderr
    assert_no_token(result)


def test_run_by_model_path_with_wait(
    runner: CliRunner, respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    image = png_bytes((4, 4))
    data_uri = "data:image/png;base64," + __import__("base64").b64encode(image).decode()
    create = respx_mock.post(f"{BASE}/v1/models/{FLUX}/predictions").respond(
        201,
        json=prediction("succeeded", model=FLUX, version="hidden", output=[data_uri]),
    )
    result = invoke(
        runner,
        [
            "run",
            FLUX,
            "--prompt",
            "a fox",
            "--megapixels",
            "0.25",
            "--aspect-ratio",
            "16:9",
            "--wait",
            "10",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    request = create.calls.last.request
    assert body(create.calls.last) == {
        "input": {"prompt": "a fox", "megapixels": "0.25", "aspect_ratio": "16:9"}
    }
    assert request.headers["Prefer"] == "wait=10"
    files = sorted((tmp_path / PID).iterdir())
    assert len(files) == 1 and files[0].read_bytes() == image
    assert str(files[0]) in result.stdout
    assert_no_token(result)


def test_run_local_file_input_is_sent_as_data_uri(
    runner: CliRunner, respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(png_bytes((2, 2)))
    create = respx_mock.post(f"{BASE}/v1/predictions").respond(
        201, json=prediction("succeeded", output=[])
    )
    result = invoke(runner, ["run", SDXL, "--image", str(source), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    sent = body(create.calls.last)["input"]["image"]
    assert sent.startswith("data:image/png;base64,")


def test_run_failed_prediction_is_one_line_with_id(
    runner: CliRunner, respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    respx_mock.post(f"{BASE}/v1/predictions").respond(201, json=prediction())
    respx_mock.get(f"{BASE}/v1/predictions/{PID}").respond(
        200, json=prediction("failed", error="CUDA out of memory")
    )
    result = invoke(runner, ["run", SDXL, "--out", str(tmp_path), *FAST])
    assert_one_line_error(result, 1, PID, "failed", "CUDA out of memory")
    assert not (tmp_path / PID).exists()


def test_run_timeout_names_the_prediction_and_leaves_it_running(
    runner: CliRunner, respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    respx_mock.post(f"{BASE}/v1/predictions").respond(201, json=prediction("processing"))
    cancel = respx_mock.post(f"{BASE}/v1/predictions/{PID}/cancel").respond(
        200, json=prediction("canceled")
    )
    result = invoke(runner, ["run", SDXL, "--timeout", "0", "--out", str(tmp_path)])
    assert_one_line_error(result, 1, PID, "still processing", f"cancel {PID}")
    assert cancel.call_count == 0


# --- the token is never printed ----------------------------------------------------------


def test_server_error_echoing_the_token_is_masked(
    runner: CliRunner, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(f"{BASE}/v1/predictions").respond(
        401,
        json={"title": "Unauthenticated", "detail": f"token {TOKEN} is not valid", "status": 401},
        headers={"content-type": "application/problem+json"},
    )
    result = invoke(runner, ["run", SDXL, "--prompt", "x"])
    line = assert_one_line_error(result, 1, "401")
    assert "<redacted>" in line or "Unauthenticated" in line


def test_debug_traceback_masks_the_token(runner: CliRunner, respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/v1/predictions/{PID}").respond(
        403,
        json={"title": "Forbidden", "detail": f"{TOKEN} may not read this", "status": 403},
        headers={"content-type": "application/problem+json"},
    )
    result = invoke(runner, ["get", PID], REPLICATE_TYPED_DEBUG="1")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr  # debug mode shows it ...
    assert_no_token(result)  # ... without the token


def test_connection_error_is_one_line(runner: CliRunner, respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/v1/predictions/{PID}").mock(side_effect=httpx.ConnectError("refused"))
    result = invoke(runner, ["--max-retries", "0", "get", PID])
    assert_one_line_error(result, 1, "cannot reach the API")
    assert "refused" in result.stderr or "ConnectError" in result.stderr


def test_token_file_is_used_and_never_printed(
    runner: CliRunner, respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    route = respx_mock.get(f"{BASE}/v1/predictions/{PID}").respond(
        200, json=prediction("succeeded", output=[FILE_URL])
    )
    result = invoke(
        runner,
        ["--api-token-file", str(token_file), "get", PID],
        REPLICATE_API_TOKEN=None,
    )
    assert result.exit_code == 0, result.output
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert PID in result.stdout and "succeeded" in result.stdout
    assert_no_token(result)


def test_help_never_shows_the_token(runner: CliRunner) -> None:
    for args in (["--help"], ["run", SDXL, "--help"], ["get", "--help"]):
        result = invoke(runner, args)
        assert result.exit_code == 0
        assert_no_token(result)


# --- get / cancel / list / download / models --------------------------------------------


def test_get_json_prints_the_raw_object(runner: CliRunner, respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/v1/predictions/{PID}").respond(
        200, json=prediction("processing", logs="hello")
    )
    result = invoke(runner, ["get", PID, "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed["id"] == PID and printed["status"] == "processing" and printed["logs"] == "hello"


def test_cancel(runner: CliRunner, respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(f"{BASE}/v1/predictions/{PID}/cancel").respond(
        200, json=prediction("canceled")
    )
    result = invoke(runner, ["cancel", PID])
    assert result.exit_code == 0, result.output
    assert route.call_count == 1
    assert f"{PID}: canceled" in result.stdout


def test_list_respects_limit_across_pages(runner: CliRunner, respx_mock: respx.MockRouter) -> None:
    page1 = {
        "next": f"{BASE}/v1/predictions?cursor=2",
        "previous": None,
        "results": [prediction(id=f"p{i}") for i in range(2)],
    }
    page2 = {"next": None, "previous": None, "results": [prediction(id=f"p{i}") for i in (2, 3)]}
    route = respx_mock.get(f"{BASE}/v1/predictions").mock(
        side_effect=[httpx.Response(200, json=page1), httpx.Response(200, json=page2)]
    )
    result = invoke(runner, ["list", "--limit", "3"])
    assert result.exit_code == 0, result.output
    for shown in ("p0", "p1", "p2"):
        assert shown in result.stdout
    assert "p3" not in result.stdout
    assert route.call_count == 2


def test_download_saves_outputs_of_a_finished_prediction(
    runner: CliRunner, respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    image = png_bytes()
    respx_mock.get(f"{BASE}/v1/predictions/{PID}").respond(
        200, json=prediction("succeeded", output=[FILE_URL])
    )
    respx_mock.get(FILE_URL).respond(200, content=image, headers={"content-type": "image/png"})
    result = invoke(runner, ["download", PID, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / PID / "out-0.png").read_bytes() == image


def test_download_of_removed_outputs_says_why(
    runner: CliRunner, respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    respx_mock.get(f"{BASE}/v1/predictions/{PID}").respond(
        200, json=prediction("succeeded", output=None, data_removed=True)
    )
    result = invoke(runner, ["download", PID, "--out", str(tmp_path)])
    assert_one_line_error(result, 1, PID, "removed")


def test_models_lists_registry_with_call_mode(runner: CliRunner) -> None:
    result = invoke(runner, ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["model"]: row for row in json.loads(result.stdout)}
    assert set(rows) == set(registry)
    assert rows[SDXL] == {"model": SDXL, "call_by": "version", "version": SDXL_VERSION}
    assert rows[FLUX] == {"model": FLUX, "call_by": "path", "version": None}
    table = invoke(runner, ["models"])
    assert SDXL_VERSION in table.stdout and FLUX in table.stdout


def test_no_arguments_shows_help_without_an_error_line(runner: CliRunner) -> None:
    result = invoke(runner, [])
    assert "Usage: replicate-typed" in result.output
    assert error_lines(result) == []
    assert_no_token(result)


def test_unknown_command_is_one_line(runner: CliRunner) -> None:
    result = invoke(runner, ["frobnicate"])
    assert_one_line_error(result, 2, "frobnicate")


def test_debug_logs_requests_without_the_token(
    runner: CliRunner, respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    respx_mock.post(f"{BASE}/v1/predictions").respond(201, json=prediction("succeeded", output=[]))
    result = invoke(
        runner, ["run", SDXL, "--prompt", "x", "--out", str(tmp_path)], REPLICATE_TYPED_DEBUG="1"
    )
    assert result.exit_code == 0, result.output
    debug = [line for line in result.stderr.splitlines() if line.startswith("debug:")]
    assert any("/v1/predictions" in line for line in debug), result.stderr
    assert_no_token(result)
    # Debug logging is switched off again for the next command in the same process.
    quiet = invoke(runner, ["models"])
    assert "debug:" not in quiet.stderr


@pytest.mark.parametrize("ref", [SDXL_VERSION, f"{SDXL}:{SDXL_VERSION}"])
def test_run_by_version_reference(
    runner: CliRunner, respx_mock: respx.MockRouter, tmp_path: Path, ref: str
) -> None:
    create = respx_mock.post(f"{BASE}/v1/predictions").respond(
        201, json=prediction("succeeded", output=[])
    )
    result = invoke(runner, ["run", ref, "--prompt", "x", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert body(create.calls.last) == {"version": SDXL_VERSION, "input": {"prompt": "x"}}


def test_run_with_a_version_the_spec_does_not_pin_is_refused(
    runner: CliRunner, respx_mock: respx.MockRouter
) -> None:
    catch_all = respx_mock.route().respond(500)
    other = "0" * 64
    result = invoke(runner, ["run", f"{SDXL}:{other}", "--prompt", "x"])
    assert_one_line_error(result, 2, other)
    assert catch_all.call_count == 0


def test_output_that_does_not_fit_the_type_is_still_saved(
    runner: CliRunner, respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    image = png_bytes()
    odd = {"images": [FILE_URL]}  # sdxl's Output is a list of URLs, not an object
    respx_mock.post(f"{BASE}/v1/predictions").respond(201, json=prediction("succeeded", output=odd))
    respx_mock.get(FILE_URL).respond(200, content=image, headers={"content-type": "image/png"})
    result = invoke(runner, ["run", SDXL, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "does not fit" in result.stderr
    assert (tmp_path / PID / "out-0.png").read_bytes() == image


def test_succeeded_with_removed_output_is_one_line(
    runner: CliRunner, respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    respx_mock.post(f"{BASE}/v1/predictions").respond(
        201, json=prediction("succeeded", output=None, data_removed=True)
    )
    result = invoke(runner, ["run", SDXL, "--out", str(tmp_path)])
    assert_one_line_error(result, 1, PID, "removed")


@pytest.mark.parametrize("ref", sorted(registry))
def test_every_model_gets_one_option_per_input(runner: CliRunner, ref: str) -> None:
    info = registry.get_model(ref)
    options = model_options(info, reserved=RUN_OPTIONS)
    assert sorted(o.field for o in options) == sorted(info.input_schema.get("properties", {}))
    assert len({o.flag for o in options}) == len(options)
    required = set(info.input_schema.get("required", []))
    for option in options:
        assert option.required == (
            option.field in required
            and "default" not in info.input_schema["properties"][option.field]
        )
    result = invoke(runner, ["run", ref, "--help"])
    assert result.exit_code == 0, result.output
    for option in options:
        assert option.flag in result.stdout, option.flag


def test_download_of_a_model_without_generated_types(
    runner: CliRunner, respx_mock: respx.MockRouter, tmp_path: Path
) -> None:
    image = png_bytes()
    respx_mock.get(f"{BASE}/v1/predictions/{PID}").respond(
        200,
        json=prediction(
            "succeeded",
            model="someone/not-generated",
            version="f" * 64,
            output={"image": FILE_URL, "caption": "not a file"},
        ),
    )
    respx_mock.get(FILE_URL).respond(200, content=image, headers={"content-type": "image/png"})
    result = invoke(runner, ["download", PID, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert [p.name for p in (tmp_path / PID).iterdir()] == ["out-0.png"]
