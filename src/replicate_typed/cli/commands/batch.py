"""``replicate-typed batch FILE.jsonl --model owner/name --out DIR``: a durable batch from the CLI.

Each line of FILE is a JSON object of inputs, validated through the model's generated ``Input``
before anything is sent: a bad line is reported (a ``warning:`` while the others run) with its
line number, field, value and rule (``--strict``: nothing runs if any line is bad). The journal
lives in ``DIR/journal.sqlite3``; run the same command again after a crash or Ctrl-C to resume.
Outputs go to ``DIR/<prediction id>/``. The summary has one line per outcome, each input line
counted once (succeeded, failed, skipped as already done, duplicate lines, invalid lines ...), then
what this run did. Exit 0 when every input succeeded and was saved, 1 otherwise, 2 for bad usage
or (with ``--strict``) bad lines.

The batch runner is imported only when this command runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from replicate_typed.cli import context, interrupts
from replicate_typed.cli.errors import (
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CliError,
    redactor,
)
from replicate_typed.cli.validate import cancel_after_callback, usage_error

if TYPE_CHECKING:
    from rich.progress import Progress

    from replicate_typed.batch.runner import BatchReport, BatchResult, InvalidInput

__all__ = ["batch_command", "read_jsonl"]


def read_jsonl(path: Path) -> tuple[list[tuple[int, Any]], list[InvalidInput]]:
    """``(line number, parsed object)`` for each non-blank line; lines that are not JSON become
    :class:`~replicate_typed.batch.runner.InvalidInput`."""
    from replicate_typed.batch.runner import InvalidInput

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CliError(
            f"cannot read FILE {str(path)!r}: {exc.strerror}", exit_code=EXIT_USAGE
        ) from None
    rows: list[tuple[int, Any]] = []
    bad: list[InvalidInput] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except (ValueError, UnicodeDecodeError) as exc:
            shown = line[:60].decode("utf-8", "replace")
            bad.append(InvalidInput(number, "", json.dumps(shown), f"not valid JSON ({exc})"))
    return rows, bad


class _Display:
    """A Rich progress bar on a terminal, one plain line per event otherwise (stderr)."""

    def __init__(self, console: Console, total: int) -> None:
        self.console = console
        self.total = total
        self.progress: Progress | None = None
        if console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self.progress = Progress(
                TextColumn("batch"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[note]}"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )
            self.task = self.progress.add_task("batch", total=total, note="")

    def __enter__(self) -> _Display:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def __call__(self, kind: str, result: BatchResult) -> None:
        pid = f" (prediction {result.prediction_id})" if result.prediction_id else ""
        line = {
            "created": f"line {result.line}: created{pid}",
            "reconciled": f"line {result.line}: found on the server, not created again{pid}",
            "downloaded": f"line {result.line}: saved {len(result.files)} file(s){pid}",
            "skipped": f"line {result.line}: already done{pid}",
            "failed": f"line {result.line}: {result.error or result.status}"
            + ("" if result.prediction_id and result.prediction_id in str(result.error) else pid),
            "rejected": f"line {result.line}: rejected: {result.error}",
        }.get(kind)
        if self.progress is not None:
            if kind == "done":
                self.progress.advance(self.task)
            elif kind in ("failed", "rejected") and line:
                self.progress.console.print(redactor(line), markup=False)
            elif line:
                self.progress.update(self.task, note=redactor(line))
        elif line:
            self.console.print(redactor(line), markup=False)


def _summary(report: BatchReport, console: Console) -> None:
    """One line per outcome (each input counted once: the lines add up to the inputs), then what
    this run did."""
    from replicate_typed.batch.runner import OUTCOMES

    shown = [
        (OUTCOMES[key], value)
        for key, value in report.outcomes().items()
        if value or key in ("succeeded", "failed")
    ]
    activity = ", ".join(f"{name} {value}" for name, value in report.activity().items())
    if console.is_terminal:
        from rich.table import Table

        table = Table(title=f"batch summary: {report.inputs} input line(s)", box=None)
        table.add_column("outcome")
        table.add_column("inputs", justify="right")
        for label, value in shown:
            table.add_row(escape(label), str(value))
        console.print(table)
    else:
        console.print(f"summary: {report.inputs} input line(s)", markup=False)
        for label, value in shown:
            console.print(f"  {label}: {value}", markup=False)
    console.print(f"this run: {activity}", markup=False)
    for bad in report.invalid:
        console.print(redactor(f"warning: invalid, not sent: {bad}"), markup=False)
    for result in report.results:
        if result.same_as is not None:
            console.print(
                f"line {result.line}: same input as line {result.same_as}, run once", markup=False
            )
    for result in report.failures:
        if result.same_as is not None:
            continue
        label = "unresolved" if result.state == "creating" else "failed"
        console.print(redactor(f"{label}: {result.describe()}"), markup=False)
    if report.journal_path:
        console.print(f"journal: {report.journal_path}", markup=False)


def batch_command(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(help="JSONL file: one JSON object of inputs per line.", dir_okay=False),
    ],
    model: Annotated[str, typer.Option("--model", "-m", help="The generated model: owner/name.")],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Folder for the journal and the outputs (DIR/<prediction id>/).",
            file_okay=False,
            metavar="DIR",
        ),
    ] = Path("out"),
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-j", help="Predictions in flight.", min=1)
    ] = 8,
    creates_per_minute: Annotated[
        float, typer.Option("--creates-per-minute", help="Create rate limit.", min=0.1)
    ] = 540.0,
    strict: Annotated[
        bool, typer.Option("--strict", help="Run nothing if any line is invalid.")
    ] = False,
    download: Annotated[
        bool, typer.Option("--download/--no-download", help="Save output files.")
    ] = True,
    cancel_after: Annotated[
        str | None,
        typer.Option(
            "--cancel-after",
            help="Cancel each prediction after this (5m, 1h30m).",
            callback=cancel_after_callback,
        ),
    ] = None,
    recreate_unknown: Annotated[
        bool,
        typer.Option(
            "--recreate-unknown",
            help="Create an input again when its create's outcome is unknown and the server "
            "cannot list predictions to check (it may then be paid for twice).",
        ),
    ] = False,
) -> None:
    """Run every line of a JSONL file through one model, durably (resume by running it again)."""
    import asyncio

    from replicate_typed.batch.runner import BatchOptions, arun_many, prepare_items
    from replicate_typed.core.registry import UnknownModelError
    from replicate_typed.models import registry

    err = context.stderr()
    try:
        info = registry.get_model(model)
    except UnknownModelError as exc:
        raise usage_error("--model", str(exc)) from None
    rows, unparsable = read_jsonl(file)
    items, invalid = prepare_items(rows, info)
    invalid = sorted([*unparsable, *invalid], key=lambda i: i.line)
    # Each bad line is named; the one ``error:`` line is reserved for a run that stops.
    label = "warning" if items and not strict else "invalid"
    for bad in invalid:
        err.print(redactor(f"{label}: invalid input for {info.ref}, not sent: {bad}"), markup=False)
    if invalid and strict:
        lines = sorted({b.line for b in invalid})
        raise CliError(
            f"{len(lines)} invalid line(s) ({', '.join(map(str, lines[:10]))}); "
            "nothing was sent (--strict)",
            exit_code=EXIT_USAGE,
        )
    if not items:
        raise CliError(f"{file}: no valid input to run", exit_code=EXIT_USAGE)
    cli_state = context.state(ctx)
    context.read_token(cli_state)  # exit 2 before anything runs when there is none
    context.base_url(cli_state)
    create_options: dict[str, Any] = {}
    if cancel_after:
        create_options["cancel_after"] = cancel_after
    options = BatchOptions(
        concurrency=concurrency,
        creates_per_minute=creates_per_minute,
        download=download,
        create_options=create_options,
        recreate_unknown=recreate_unknown,
    )

    async def main(display: _Display) -> BatchReport:
        async with context.make_async_client(cli_state) as client:
            return await arun_many(
                client,
                [(item.line, item.input) for item in items],
                numbered=True,
                out_dir=out,
                options=options,
                on_event=display,
            )

    try:
        with _Display(err, len(items)) as display, interrupts.asyncio_handling():
            report = asyncio.run(main(display))
    except KeyboardInterrupt:
        raise CliError(
            f"interrupted; the journal in {out}/ is intact: run the same command again to resume",
            exit_code=EXIT_INTERRUPTED,
        ) from None
    report.invalid = invalid
    _summary(report, err)
    if report.aborted:
        raise CliError(f"batch stopped: {report.aborted}")
    if not report.ok:
        raise typer.Exit(EXIT_FAILURE)
