"""``replicate-typed run OWNER/NAME --<input> VALUE ...``: one generated command per model.

The options of ``run owner/name`` are generated at run time from that model's spec (see
:mod:`replicate_typed.cli.options`) and validated through its generated ``Input`` before any
request is sent. Whether the model is called by version or by model path comes from the
registry. The command of a model is built only when it is asked for, so ``replicate-typed
--help`` imports no model module.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from replicate_typed.cli import context
from replicate_typed.cli.errors import EXIT_INTERRUPTED, CliError, redactor
from replicate_typed.cli.help import HelpCommand, HelpGroup
from replicate_typed.cli.options import build_input, model_options, option_parameters
from replicate_typed.cli.output import output_dir, print_outputs, save_outputs
from replicate_typed.cli.validate import cancel_after_callback, usage_error

if TYPE_CHECKING:
    from replicate_typed.core.model import ModelInfo, ModelInput
    from replicate_typed.types.api import Prediction

__all__ = ["RUN_OPTIONS", "RUN_PANEL", "run_app", "model_command"]

RUN_PANEL = "Run options"
RUN_OPTIONS = ("--wait", "--timeout", "--out", "--cancel-after", "--poll-interval")
"""Flags of ``run`` itself; a model input with one of these names becomes ``--input-<name>``."""
_GIVEN_SOURCES = frozenset({"COMMANDLINE", "ENVIRONMENT", "PROMPT"})


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
                    help="Give up after this many seconds, the create and every request "
                    "included (default 2100: predictions end within 30 minutes; the prediction "
                    "keeps running, see `get` / `cancel`).",
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
                    callback=cancel_after_callback,
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


def model_command(ref: str, info: ModelInfo[Any, Any]) -> Any:
    """The click command ``run <ref>``: one option per model input, then the run options."""
    options = model_options(info, reserved=RUN_OPTIONS)

    def run_model(**values: Any) -> None:
        ctx: typer.Context = values.pop("ctx")
        given = _given(ctx, [o.param for o in options])
        model_input = build_input(info, options, values, given)
        run_prediction(
            context.state(ctx),
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
        cls=HelpCommand,
        help=escape(f"Run {info.ref}, called {how}. Model inputs come from its spec."),
        short_help="called by version" if info.call_by == "version" else "called by model path",
        context_settings={"help_option_names": ["-h", "--help"]},
    )(run_model)
    command = typer.main.get_command(single)
    command.name = ref
    return command


class ModelGroup(HelpGroup):
    """``run``: one sub-command per generated model, built when it is asked for."""

    def list_commands(self, ctx: Any) -> list[str]:
        from replicate_typed.models import registry

        return sorted(registry)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        from replicate_typed.core.registry import UnknownModelError
        from replicate_typed.models import registry

        try:
            info = registry.get_model(cmd_name)
        except UnknownModelError as exc:
            raise usage_error("MODEL (run OWNER/NAME)", str(exc)) from None
        return model_command(cmd_name, info)


run_app = typer.Typer(
    cls=ModelGroup,
    name="run",
    help="Run a generated model: replicate-typed run OWNER/NAME --<input> VALUE ... "
    "(`run OWNER/NAME --help` lists that model's inputs).",
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def run_prediction(
    cli_state: context.CliState,
    info: ModelInfo[Any, Any],
    model_input: ModelInput[Any],
    *,
    wait: int | None,
    timeout: float | None,
    out: Path,
    cancel_after: str | None,
    poll_interval: float,
) -> None:
    """Create, follow (live display on stderr), download the outputs, print their paths."""
    from replicate_typed.cli.progress import make_display
    from replicate_typed.client.errors import (
        NoOutputError,
        OutputRemovedError,
        OutputValidationError,
        PredictionTimeoutError,
    )
    from replicate_typed.client.limits import Deadline, deadline
    from replicate_typed.client.outputs import succeeded_output
    from replicate_typed.client.polling import PollPolicy
    from replicate_typed.predictions import UNKNOWN, status_of

    client = context.make_client(cli_state)
    err, stdout = context.stderr(), context.stdout()
    create_options: dict[str, Any] = {}
    if wait is not None:
        create_options["wait"] = wait
    if cancel_after:
        create_options["cancel_after"] = cancel_after
    # one deadline for the whole command: the create (given at least 5 s: its answer carries
    # the id of a paid prediction), every request, retry and rate-limit pause, the wait
    until = Deadline(client.options.limits.wait_seconds(timeout), time.monotonic)
    raw: Prediction | None = None
    interrupted = False
    try:
        display = make_display(info.ref, err, redact=redactor)
        with display:
            with deadline(until.at_least(5.0)):
                typed = client.create(model_input, **create_options)
            raw = typed.raw
            # a create answer may carry only the id (a router's): no status is not terminal
            display.update(status_of(raw) or UNKNOWN, raw.logs, raw.id)
            # the prediction's stream ends the wait when it has one, else polls (0.1 s, x1.6)
            policy = PollPolicy(
                initial=min(0.1, poll_interval), factor=1.6, max_interval=poll_interval,
                use_progress=False,
            )  # fmt: skip
            left = until.left()
            remaining = math.inf if left is None else max(0.0, left)
            try:
                raw = client.predictions.wait(
                    raw, timeout=remaining, poll_policy=policy,
                    on_update=lambda p: display.update(status_of(p) or UNKNOWN, p.logs, p.id),
                )  # fmt: skip
            except PredictionTimeoutError as exc:
                raise CliError(
                    f"prediction {raw.id} is still {exc.last_status or UNKNOWN} after {until.seconds:g}s; it keeps "
                    f"running (replicate-typed get {raw.id} / cancel {raw.id})"
                ) from None
        if status_of(raw) != "succeeded":
            detail = f": {raw.error}" if raw.error else ""
            raise CliError(f"prediction {raw.id} {status_of(raw)}{detail}")
        output: Any
        try:  # the one output rule of run(), the typed waits and the batch
            output = succeeded_output(raw, info)
        except OutputRemovedError:
            raise CliError(
                f"prediction {raw.id} succeeded but its output was already removed"
            ) from None
        except NoOutputError as exc:
            raise CliError(str(exc)) from None
        except OutputValidationError as exc:
            err.print(f"warning: {exc}; saving it as it is", markup=False)
            output = raw.output
        paths = save_outputs(output, output_dir(out, raw.id))
        print_outputs(output, paths, stdout, err)
    except KeyboardInterrupt:
        interrupted = True
        if raw is not None:
            raise CliError(
                f"interrupted; prediction {raw.id} keeps running "
                f"(replicate-typed cancel {raw.id} stops it)",
                exit_code=EXIT_INTERRUPTED,
            ) from None
        raise
    finally:
        context.close(client, interrupted=interrupted)
