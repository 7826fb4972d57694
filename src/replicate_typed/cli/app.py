"""``replicate-typed``: run generated models from the command line (Typer + Rich).

    replicate-typed run stability-ai/sdxl --prompt "a lighthouse" --width 768 --out ./out
    replicate-typed run black-forest-labs/flux-schnell --prompt "..." --megapixels 0.25
    replicate-typed get ID | cancel ID | list --limit 5 | models | download ID --out DIR
    replicate-typed mock --port 8080          # the built-in mock server, in the foreground

The options of ``run owner/name`` are generated at run time from that model's spec (see
:mod:`replicate_typed.cli.options`) and validated through its generated ``Input`` before
any request is sent. Whether the model is called by version or by model path comes from the
registry. The API token is read from ``REPLICATE_API_TOKEN`` (or ``--api-token-file``) and is
never printed: every error is one line with the token masked, and a non-zero exit code
(2 for bad usage or input, 1 for everything else, 130 when interrupted). Set
``REPLICATE_TYPED_DEBUG=1`` for tracebacks (still masked).
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from typer.core import TyperGroup

from replicate_typed.cli.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CliError,
    debug_enabled,
    describe,
    print_debug_traceback,
    redactor,
)
from replicate_typed.cli.options import (
    build_input,
    model_options,
    option_parameters,
)
from replicate_typed.cli.progress import make_display
from replicate_typed.client._logging import logger
from replicate_typed.client.errors import ReplicateError
from replicate_typed.core.model import ModelInfo, ModelInput
from replicate_typed.core.predictions import TERMINAL_STATUSES
from replicate_typed.core.registry import UnknownModelError

if TYPE_CHECKING:
    from replicate_typed.client._client import Client
    from replicate_typed.types.api import Prediction

__all__ = ["app", "main", "RUN_OPTIONS"]

_STATE_KEY = "replicate_typed.cli"
RUN_PANEL = "Run options"
RUN_OPTIONS = ("--wait", "--timeout", "--out", "--cancel-after", "--poll-interval")
"""Flags of ``run`` itself; a model input with one of these names becomes ``--input-<name>``."""
_GIVEN_SOURCES = frozenset({"COMMANDLINE", "ENVIRONMENT", "PROMPT"})


@dataclass
class _State:
    base_url: str | None = None
    api_token_file: Path | None = None
    request_timeout: float = 60.0
    max_retries: int = 4


def _state(ctx: typer.Context) -> _State:
    state = ctx.meta.get(_STATE_KEY)
    if not isinstance(state, _State):
        state = _State(base_url=os.environ.get("REPLICATE_BASE_URL") or None)
        ctx.meta[_STATE_KEY] = state
    return state


def _out() -> Console:
    return Console(soft_wrap=True, highlight=False)


def _err() -> Console:
    return Console(stderr=True, soft_wrap=True, highlight=False)


def _read_token(state: _State) -> str:
    if state.api_token_file is not None:
        try:
            token = state.api_token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise CliError(
                f"cannot read --api-token-file {str(state.api_token_file)!r}: {exc.strerror}",
                exit_code=EXIT_USAGE,
            ) from None
        if not token:
            raise CliError(
                f"--api-token-file {str(state.api_token_file)!r} is empty", exit_code=EXIT_USAGE
            )
    else:
        token = os.environ.get("REPLICATE_API_TOKEN", "").strip()
        if not token:
            raise CliError(
                "no API token: set REPLICATE_API_TOKEN or pass --api-token-file PATH",
                exit_code=EXIT_USAGE,
            )
    redactor.add(token)
    return token


def _client(state: _State) -> Client:
    from replicate_typed.client._client import Client

    token = _read_token(state)
    return Client(
        api_token=token,
        base_url=state.base_url,
        timeout=state.request_timeout,
        max_retries=state.max_retries,
    )


def _close(client: Any) -> None:
    close = getattr(client, "close", None)
    if callable(close):
        close()


# --------------------------------------------------------------------------------------------
# Root group: one-line errors, exit codes, token masking.
# --------------------------------------------------------------------------------------------


def _is_click_error(exc: BaseException) -> bool:
    """Typer's own usage errors (missing option, bad value ...), recognised by their interface."""
    return isinstance(getattr(exc, "exit_code", None), int) and callable(
        getattr(exc, "format_message", None)
    )


def _fail(exc: BaseException, code: int) -> int:
    if debug_enabled():
        print_debug_traceback(exc)
    sys.stderr.write(f"error: {describe(exc)}\n")
    sys.stderr.flush()
    return code


def _given_value(flags: Sequence[str], args: Sequence[str]) -> str | None:
    """The value given for one of ``flags`` on the command line (last one wins)."""
    found: str | None = None
    for index, arg in enumerate(args):
        for flag in flags:
            if arg == flag and index + 1 < len(args):
                found = args[index + 1]
            elif arg.startswith(flag + "="):
                found = arg[len(flag) + 1 :]
    return found


def _usage_message(exc: Exception, args: Sequence[str] | None) -> str:
    """Typer's usage error as one line that names the option, the value given and the rule."""
    message = str(exc.format_message()).strip()  # type: ignore[attr-defined]
    if not message:
        return ""
    message = message.replace("Value error, ", "")
    param = getattr(exc, "param", None)
    flags = [o for o in getattr(param, "opts", ()) if o.startswith("-")]
    if flags and message.startswith("Invalid value for"):
        value = _given_value(flags, list(sys.argv[1:] if args is None else args))
        _, _, rule = message.partition(": ")
        shown = f" {value!r}" if value is not None and repr(value) not in rule else ""
        message = f"invalid value for {flags[0]}{shown}: {rule or message}"
    usage_ctx = getattr(exc, "ctx", None)
    path = getattr(usage_ctx, "command_path", None)
    hint = f" (see '{path} --help')" if path else ""
    return message.rstrip(".") + hint


class _DebugHandler(logging.Handler):
    """``REPLICATE_TYPED_DEBUG=1``: the runtime's log records on stderr, the token masked."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(redactor(self.format(record)) + "\n")
        except Exception:  # pragma: no cover - logging must never break the command
            self.handleError(record)


_DEBUG_HANDLER = _DebugHandler()
_DEBUG_HANDLER.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))


def _debug_logging(enabled: bool) -> None:
    if enabled:
        if _DEBUG_HANDLER not in logger.handlers:
            logger.addHandler(_DEBUG_HANDLER)
        logger.setLevel(logging.DEBUG)
    elif _DEBUG_HANDLER in logger.handlers:
        logger.removeHandler(_DEBUG_HANDLER)
        logger.setLevel(logging.NOTSET)


class _RootGroup(TyperGroup):
    """Runs the CLI and turns every failure into ``error: <one line>`` and an exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        code = self._run(args, prog_name, complete_var, windows_expand_args, **extra)
        if standalone_mode:
            sys.exit(code)
        return code

    def _run(
        self,
        args: Sequence[str] | None,
        prog_name: str | None,
        complete_var: str | None,
        windows_expand_args: bool,
        **extra: Any,
    ) -> int:
        _debug_logging(debug_enabled())
        try:
            result = super().main(
                args,
                prog_name or "replicate-typed",
                complete_var,
                standalone_mode=False,
                windows_expand_args=windows_expand_args,
                **extra,
            )
            return result if isinstance(result, int) else 0
        except CliError as exc:
            return _fail(exc, exc.exit_code)
        except ReplicateError as exc:
            return _fail(exc, EXIT_FAILURE)
        except typer.Abort as exc:
            return (
                _fail(CliError("aborted"), EXIT_FAILURE) if not debug_enabled() else _fail(exc, 1)
            )
        except KeyboardInterrupt:
            return _fail(CliError("interrupted"), EXIT_INTERRUPTED)
        except Exception as exc:
            if _is_click_error(exc):
                code = int(exc.exit_code)  # type: ignore[attr-defined]
                message = _usage_message(exc, args)
                if not message:  # no arguments: Typer has already shown the help
                    return code
                return _fail(CliError(message), code)
            if debug_enabled():
                return _fail(exc, EXIT_FAILURE)
            sys.stderr.write(
                f"error: {describe(exc)} (set REPLICATE_TYPED_DEBUG=1 for a traceback)\n"
            )
            return EXIT_FAILURE


app = typer.Typer(
    cls=_RootGroup,
    name="replicate-typed",
    help="Typed client for Replicate-format prediction APIs: run generated models, inspect "
    "predictions, download outputs, start the built-in mock server.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"replicate-typed {version('replicate-typed')}")
        except PackageNotFoundError:
            typer.echo("replicate-typed (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            envvar="REPLICATE_BASE_URL",
            help="API base URL: https://api.replicate.com (the default) or a router's "
            "https://host/replicate; requests go to {base}/v1/...",
        ),
    ] = None,
    api_token_file: Annotated[
        Path | None,
        typer.Option(
            "--api-token-file",
            help="Read the API token from this file instead of REPLICATE_API_TOKEN.",
            dir_okay=False,
        ),
    ] = None,
    request_timeout: Annotated[
        float,
        typer.Option("--request-timeout", help="Seconds one HTTP request may take.", min=0.1),
    ] = 60.0,
    max_retries: Annotated[
        int,
        typer.Option(
            "--max-retries",
            help="Retries of one request after a connection error, 429 or 5xx (with backoff).",
            min=0,
        ),
    ] = 4,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Show the version and exit.",
            callback=_version_callback,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """Global options. The token comes from REPLICATE_API_TOKEN or --api-token-file only."""
    state = _state(ctx)
    state.base_url = base_url or None
    state.api_token_file = api_token_file
    state.request_timeout = request_timeout
    state.max_retries = max_retries


# --------------------------------------------------------------------------------------------
# run owner/name --<input> ...: one generated command per model
# --------------------------------------------------------------------------------------------


def _run_parameters() -> list[inspect.Parameter]:
    kw = inspect.Parameter.KEYWORD_ONLY
    return [
        inspect.Parameter(
            "opt_wait",
            kw,
            default=None,
            annotation=Annotated[
                int | None,
                typer.Option(
                    "--wait",
                    help="Hold the create request up to N seconds (1-60) for the result "
                    "(Prefer: wait=N), then poll.",
                    min=1,
                    max=60,
                    metavar="N",
                    rich_help_panel=RUN_PANEL,
                ),
            ],
        ),
        inspect.Parameter(
            "opt_timeout",
            kw,
            default=None,
            annotation=Annotated[
                float | None,
                typer.Option(
                    "--timeout",
                    help="Stop waiting after this many seconds (the prediction keeps running; "
                    "see `get` / `cancel`).",
                    min=0.0,
                    metavar="SECONDS",
                    rich_help_panel=RUN_PANEL,
                ),
            ],
        ),
        inspect.Parameter(
            "opt_out",
            kw,
            default=Path("out"),
            annotation=Annotated[
                Path,
                typer.Option(
                    "--out",
                    help="Folder for the output files (saved under DIR/<prediction id>/ as soon "
                    "as the prediction succeeds, before the links expire).",
                    file_okay=False,
                    metavar="DIR",
                    rich_help_panel=RUN_PANEL,
                ),
            ],
        ),
        inspect.Parameter(
            "opt_cancel_after",
            kw,
            default=None,
            annotation=Annotated[
                str | None,
                typer.Option(
                    "--cancel-after",
                    help="Let the server cancel the prediction after this long (Cancel-After: "
                    "30s, 5m, 1h30m; minimum 5s).",
                    metavar="DURATION",
                    rich_help_panel=RUN_PANEL,
                ),
            ],
        ),
        inspect.Parameter(
            "opt_poll_interval",
            kw,
            default=1.0,
            annotation=Annotated[
                float,
                typer.Option(
                    "--poll-interval",
                    help="Longest pause between two status checks, in seconds.",
                    min=0.05,
                    metavar="SECONDS",
                    rich_help_panel=RUN_PANEL,
                ),
            ],
        ),
    ]


def _given(ctx: typer.Context, names: Sequence[str]) -> set[str]:
    given: set[str] = set()
    for name in names:
        source = ctx.get_parameter_source(name)
        if source is not None and source.name in _GIVEN_SOURCES:
            given.add(name)
    return given


def _model_command(ref: str, info: ModelInfo[Any, Any]) -> Any:
    options = model_options(info, reserved=RUN_OPTIONS)

    def run_model(**values: Any) -> None:
        ctx: typer.Context = values.pop("ctx")
        given = _given(ctx, [o.param for o in options])
        model_input = build_input(info, options, values, given)
        _run(
            _state(ctx),
            info,
            model_input,
            wait=values["opt_wait"],
            timeout=values["opt_timeout"],
            out=values["opt_out"],
            cancel_after=values["opt_cancel_after"],
            poll_interval=values["opt_poll_interval"],
        )

    params = [
        inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context),
        *option_parameters(options, markup=True),
        *_run_parameters(),
    ]
    setattr(run_model, "__signature__", inspect.Signature(params))  # noqa: B010
    how = (
        f"by version {info.version}"
        if info.call_by == "version"
        else f"by model path (POST /v1/models/{info.ref}/predictions)"
    )
    single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    single.command(
        name=ref,
        help=escape(f"Run {info.ref}, called {how}. Model inputs come from its spec."),
        short_help=escape(f"{info.ref} (by {info.call_by})"),
        context_settings={"help_option_names": ["-h", "--help"]},
    )(run_model)
    command = typer.main.get_command(single)
    command.name = ref
    return command


class _ModelGroup(TyperGroup):
    """``run``: one sub-command per generated model, built when it is asked for."""

    def list_commands(self, ctx: Any) -> list[str]:
        from replicate_typed.models import registry

        return sorted(registry)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        from replicate_typed.models import registry

        try:
            info = registry.get_model(cmd_name)
        except UnknownModelError as exc:
            raise CliError(f"run: {exc}", exit_code=EXIT_USAGE) from None
        return _model_command(cmd_name, info)


run_app = typer.Typer(
    cls=_ModelGroup,
    name="run",
    help="Run a generated model: replicate-typed run OWNER/NAME --<input> VALUE ... "
    "(`run OWNER/NAME --help` lists that model's inputs).",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(run_app, name="run")


def _save_outputs(output: Any, dest: Path) -> list[Path]:
    """Download every file of ``output`` into ``dest`` (nothing, not even the folder, if none)."""
    from replicate_typed.client.downloads import download_all, file_urls

    if not file_urls(output):
        return []
    return list(download_all(output, dest))


def _print_outputs(output: Any, paths: list[Path], out: Console, err: Console) -> None:
    if paths:
        where = paths[0].parent
        err.print(
            f"saved {len(paths)} file{'s' if len(paths) != 1 else ''} in {where}/", markup=False
        )
        for path in paths:
            out.print(str(path), markup=False)
        return
    if output is None:
        err.print("(no output)", markup=False)
    elif isinstance(output, str):
        out.print(output, markup=False)
    else:
        out.print(json.dumps(output, indent=2, default=str), markup=False)


def _run(
    state: _State,
    info: ModelInfo[Any, Any],
    model_input: ModelInput[Any],
    *,
    wait: int | None,
    timeout: float | None,
    out: Path,
    cancel_after: str | None,
    poll_interval: float,
) -> None:
    client = _client(state)
    err, stdout = _err(), _out()
    create_options: dict[str, Any] = {}
    if wait is not None:
        create_options["wait"] = wait
    if cancel_after:
        create_options["cancel_after"] = cancel_after
    started = time.monotonic()
    raw: Prediction | None = None
    try:
        display = make_display(info.ref, err, redact=redactor)
        with display:
            typed = client.create(model_input, **create_options)
            raw = typed.raw
            display.update(str(raw.status), raw.logs, raw.id)
            pause = min(0.1, poll_interval)
            while str(raw.status) not in TERMINAL_STATUSES:
                if timeout is not None and time.monotonic() - started >= timeout:
                    raise CliError(
                        f"prediction {raw.id} is still {raw.status} after {timeout:g}s; it keeps "
                        f"running (replicate-typed get {raw.id} / cancel {raw.id})"
                    )
                time.sleep(pause)
                pause = min(pause * 1.6, poll_interval)
                raw = client.predictions.get(raw.id)
                display.update(str(raw.status), raw.logs, raw.id)
        if str(raw.status) != "succeeded":
            detail = f": {raw.error}" if raw.error else ""
            raise CliError(f"prediction {raw.id} {raw.status}{detail}")
        if raw.output is None and raw.data_removed:
            raise CliError(f"prediction {raw.id} succeeded but its output was already removed")
        output: Any
        try:
            output = info.parse_output(raw.output)
        except ValidationError as exc:
            err.print(
                f"warning: the output of {raw.id} does not fit {info.ref}'s Output type "
                f"({exc.error_count()} problem(s)); saving it as it is",
                markup=False,
            )
            output = raw.output
        paths = _save_outputs(output, out / raw.id)
        _print_outputs(output, paths, stdout, err)
    except KeyboardInterrupt:
        if raw is not None:
            raise CliError(
                f"interrupted; prediction {raw.id} keeps running "
                f"(replicate-typed cancel {raw.id} stops it)",
                exit_code=EXIT_INTERRUPTED,
            ) from None
        raise
    finally:
        _close(client)


# --------------------------------------------------------------------------------------------
# get / cancel / list / download / models / mock
# --------------------------------------------------------------------------------------------


def _dump(prediction: Prediction) -> dict[str, Any]:
    dumped: dict[str, Any] = prediction.model_dump(mode="json", exclude_none=False)
    return dumped


def _fmt_time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return "" if value is None else str(value)


def _print_prediction(prediction: Prediction, console: Console) -> None:
    rows: list[tuple[str, str]] = [
        ("id", prediction.id),
        ("model", str(prediction.model)),
        ("version", str(prediction.version)),
        ("status", str(prediction.status)),
        ("created", _fmt_time(prediction.created_at)),
    ]
    completed = getattr(prediction, "completed_at", None)
    if completed is not None:
        rows.append(("completed", _fmt_time(completed)))
    if prediction.error:
        rows.append(("error", str(prediction.error)))
    if prediction.data_removed:
        rows.append(("data removed", "yes (inputs, outputs and logs are gone)"))
    for key, value in rows:
        console.print(f"{key + ':':<11}{value}", markup=False)
    output = prediction.output
    if output is not None:
        shown = output if isinstance(output, str) else json.dumps(output, indent=2)
        console.print("output:", markup=False)
        for line in str(shown).splitlines():
            console.print(f"  {line}", markup=False)


def _print_rows(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table on a terminal; tab-separated lines (header first) for pipes and scripts."""
    console = _out()
    if not console.is_terminal:
        for row in (headers, *rows):
            sys.stdout.write("\t".join(row) + "\n")
        return
    table = Table(box=None, pad_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    console.print(table)


IdArgument = Annotated[str, typer.Argument(help="Prediction id.", metavar="ID")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the raw JSON object.")]


@app.command("get")
def get_prediction(
    ctx: typer.Context, prediction_id: IdArgument, as_json: JsonFlag = False
) -> None:
    """Show one prediction."""
    client = _client(_state(ctx))
    try:
        prediction = client.predictions.get(prediction_id)
    finally:
        _close(client)
    if as_json:
        _out().print_json(json.dumps(_dump(prediction)))
    else:
        _print_prediction(prediction, _out())


@app.command("cancel")
def cancel_prediction(
    ctx: typer.Context, prediction_id: IdArgument, as_json: JsonFlag = False
) -> None:
    """Cancel a prediction."""
    client = _client(_state(ctx))
    try:
        prediction = client.predictions.cancel(prediction_id)
    finally:
        _close(client)
    if as_json:
        _out().print_json(json.dumps(_dump(prediction)))
    else:
        _out().print(f"{prediction.id}: {prediction.status}", markup=False)


@app.command("list")
def list_predictions(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="Show at most this many.", min=1)
    ] = 20,
    as_json: JsonFlag = False,
) -> None:
    """List recent predictions, newest first (follows the API's pages as needed)."""
    client = _client(_state(ctx))
    try:
        predictions = list(islice(client.predictions.list(), limit))
    finally:
        _close(client)
    if as_json:
        _out().print_json(json.dumps([_dump(p) for p in predictions]))
        return
    _print_rows(
        ("id", "model", "status", "created"),
        [(p.id, str(p.model), str(p.status), _fmt_time(p.created_at)) for p in predictions],
    )
    if not predictions:
        _err().print("no predictions", markup=False)


@app.command("download")
def download_outputs(
    ctx: typer.Context,
    prediction_id: IdArgument,
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder; files go to DIR/<prediction id>/.",
            file_okay=False,
            metavar="DIR",
        ),
    ] = Path("out"),
) -> None:
    """Download the output files of a finished prediction."""
    from replicate_typed.models import registry

    client = _client(_state(ctx))
    try:
        prediction = client.predictions.get(prediction_id)
    finally:
        _close(client)
    if str(prediction.status) not in TERMINAL_STATUSES:
        raise CliError(
            f"prediction {prediction.id} is still {prediction.status}; nothing to download yet"
        )
    if prediction.output is None:
        why = (
            "its data was removed (outputs expire an hour after the prediction)"
            if prediction.data_removed
            else f"it has no output (status {prediction.status})"
        )
        raise CliError(f"prediction {prediction.id}: nothing to download, {why}")
    output: Any = prediction.output
    try:
        output = registry.get_model(str(prediction.model)).parse_output(prediction.output)
    except Exception:  # a model without generated types: its raw output's URLs are the files
        logger.debug("download: %s output kept untyped", prediction.model, exc_info=True)
    paths = _save_outputs(output, out / prediction.id)
    if not paths:
        raise CliError(f"prediction {prediction.id} has no output files")
    _print_outputs(output, paths, _out(), _err())


@app.command("models")
def list_models(as_json: JsonFlag = False) -> None:
    """The generated models: how each is called (by version or by model path)."""
    from replicate_typed.models import registry

    rows = []
    for ref in sorted(registry):
        info = registry.get_model(ref)
        rows.append({"model": ref, "call_by": info.call_by, "version": info.version})
    if as_json:
        _out().print_json(json.dumps(rows))
        return
    _print_rows(
        ("model", "call by", "version"),
        [(str(r["model"]), str(r["call_by"]), str(r["version"] or "-")) for r in rows],
    )


@app.command("mock")
def run_mock(
    port: Annotated[
        int, typer.Option("--port", "-p", help="Port (0 picks a free one).", min=0, max=65535)
    ] = 8080,
    host: Annotated[str, typer.Option("--host", help="Interface to bind.")] = "127.0.0.1",
) -> None:
    """Start the built-in mock server in the foreground (Ctrl-C stops it)."""
    from replicate_typed.mock import MockServer

    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, _on_signal)
    server = MockServer(host=host, port=port)
    server.start()
    try:
        out = _out()
        out.print(f"mock server listening on {server.url}", markup=False)
        out.print(f"  export REPLICATE_BASE_URL={server.url}", markup=False)
        out.print("  (any REPLICATE_API_TOKEN works; Ctrl-C stops the server)", markup=False)
        sys.stdout.flush()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
        _err().print("mock server stopped", markup=False)


# batch FILE.jsonl --model owner/name --out DIR: lives in lib/batch/cli.py
from replicate_typed.cli.batch import register as _register_batch  # noqa: E402

_register_batch(app)


def main() -> None:
    """Console entry point (``replicate-typed``)."""
    command = typer.main.get_command(app)
    command.main(prog_name="replicate-typed")


if __name__ == "__main__":  # pragma: no cover
    main()
