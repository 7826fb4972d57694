"""``replicate-typed batch FILE.jsonl --model owner/name --out DIR``: a durable batch from the CLI.

Each line of FILE is a JSON object of inputs, validated through the model's generated ``Input``
before it is sent: a bad line is reported (a ``warning:`` while the others run) with its line
number, field, value and rule (``--strict``: nothing runs if any line is bad; the file is then
read twice). FILE is read as a stream, a line at a time as workers free up: the first create
does not wait for the whole file and memory does not grow with its length. The journal lives in
``DIR/journal.sqlite3``; run the same command again after a crash or Ctrl-C to resume. One run
per DIR at a time: a second one exits 75 at once, naming the process that holds the journal
(``--wait-for-lock SECONDS`` waits for it instead). Each line's create + wait + download ends
within ``--job-timeout`` (default 2400 s). A long rate-limit pause (the client's retries or the
runner's own, capped at 60 s) is announced on the progress line. Outputs go to ``DIR/<prediction id>/``. The summary
has one line per outcome, each input line counted once (succeeded, failed, skipped as already
done, duplicate lines, invalid lines ...), then what this run did. Exit 0 when every input
succeeded and was saved, 1 otherwise, 2 for bad usage or (with ``--strict``) bad lines, 75 when
another run holds DIR's journal.

The batch runner is imported only when this command runs.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

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

    from replicate_typed.batch.runner import BatchItem, BatchReport, BatchResult, InvalidInput
    from replicate_typed.core.model import ModelInfo

__all__ = ["EXIT_LOCKED", "MAX_LINE_BYTES", "batch_command", "iter_jsonl", "read_jsonl"]

EXIT_LOCKED = 75
"""Another batch run holds the folder's journal (sysexits' EX_TEMPFAIL: try again later)."""
MAX_LINE_BYTES = 16 * 1024 * 1024
"""The longest input line read (longer lines are invalid, skipped without being held whole)."""


def _open(path: Path) -> IO[bytes]:
    try:
        return path.open("rb")
    except OSError as exc:
        raise CliError(
            f"cannot read FILE {str(path)!r}: {exc.strerror}", exit_code=EXIT_USAGE
        ) from None


def iter_jsonl(handle: IO[bytes]) -> Iterator[tuple[int, Any] | InvalidInput]:
    """``(line number, parsed object)`` for each non-blank line, read one line at a time;
    a line that is not JSON (or longer than :data:`MAX_LINE_BYTES`) is an
    :class:`~replicate_typed.batch.runner.InvalidInput`."""
    from replicate_typed.batch.runner import InvalidInput

    for number in itertools.count(1):
        line = handle.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass  # skip the rest of the line without holding it
            shown = line[:60].decode("utf-8", "replace")
            yield InvalidInput(
                number, "", json.dumps(shown), f"line longer than {MAX_LINE_BYTES} bytes"
            )
            continue
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except (ValueError, UnicodeDecodeError) as exc:
            shown = line[:60].decode("utf-8", "replace")
            yield InvalidInput(number, "", json.dumps(shown), f"not valid JSON ({exc})")


def read_jsonl(path: Path) -> tuple[list[tuple[int, Any]], list[InvalidInput]]:
    """:func:`iter_jsonl` of the file at ``path`` as two lists (rows, problems)."""
    from replicate_typed.batch.runner import InvalidInput

    rows: list[tuple[int, Any]] = []
    bad: list[InvalidInput] = []
    with _open(path) as handle:
        for entry in iter_jsonl(handle):
            if isinstance(entry, InvalidInput):
                bad.append(entry)
            else:
                rows.append(entry)
    return rows, bad


def _checked(handle: IO[bytes], info: ModelInfo[Any, Any]) -> Iterator[BatchItem | InvalidInput]:
    """Each line of ``handle`` parsed and validated, one at a time."""
    from replicate_typed.batch.runner import InvalidInput, iter_items

    for entry in iter_jsonl(handle):
        if isinstance(entry, InvalidInput):
            yield entry
        else:
            yield from iter_items([entry], info)


class _Display:
    """A Rich progress bar on a terminal, one plain line per event otherwise (stderr)."""

    def __init__(self, console: Console, total: int | None) -> None:
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

    def set_total(self, total: int) -> None:
        """The input was read to its end: ``total`` lines to run."""
        self.total = total
        if self.progress is not None:
            self.progress.update(self.task, total=total)

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
    for line, first in report.duplicate_lines:
        console.print(f"line {line}: same input as line {first}, run once", markup=False)
    if report.duplicates > len(report.duplicate_lines):
        more = report.duplicates - len(report.duplicate_lines)
        console.print(f"... and {more} more duplicate line(s)", markup=False)
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
    job_timeout: Annotated[
        float,
        typer.Option(
            "--job-timeout",
            help="Deadline in seconds of each line's create + wait + download (Replicate ends "
            "a prediction after 30 minutes); a line past it is reported with its prediction "
            "id and picked up again by the next run.",
            min=1.0,
            metavar="SECONDS",
        ),
    ] = 2400.0,
    wait_for_lock: Annotated[
        float,
        typer.Option(
            "--wait-for-lock",
            help="When another batch run holds DIR's journal, wait up to SECONDS for it "
            "(default 0: exit 75 at once, naming that process).",
            min=0.0,
            metavar="SECONDS",
        ),
    ] = 0.0,
) -> None:
    """Run every line of a JSONL file through one model, durably (resume by running it again)."""
    import asyncio

    from replicate_typed.batch.lock import JournalLockedError
    from replicate_typed.batch.runner import BatchOptions, InvalidInput, arun_many
    from replicate_typed.cli.progress import announce_pauses
    from replicate_typed.core.registry import UnknownModelError
    from replicate_typed.models import registry

    err = context.stderr()
    try:
        info = registry.get_model(model)
    except UnknownModelError as exc:
        raise usage_error("--model", str(exc)) from None

    def report_invalid(bad: InvalidInput, label: str) -> None:
        err.print(redactor(f"{label}: invalid input for {info.ref}, not sent: {bad}"), markup=False)

    invalid: list[InvalidInput] = []
    if strict:  # a first pass: nothing runs if any line is bad
        with _open(file) as handle:
            for entry in _checked(handle, info):
                if isinstance(entry, InvalidInput):
                    report_invalid(entry, "invalid")
                    invalid.append(entry)
        if invalid:
            bad_lines = sorted({b.line for b in invalid})
            raise CliError(
                f"{len(bad_lines)} invalid line(s) ({', '.join(map(str, bad_lines[:10]))}); "
                "nothing was sent (--strict)",
                exit_code=EXIT_USAGE,
            )
    handle = _open(file)
    try:
        checked = _checked(handle, info)
        # read up to the first valid line: a file without one is bad usage (exit 2)
        before: list[InvalidInput] = []
        first = None
        for entry in checked:
            if isinstance(entry, InvalidInput):
                before.append(entry)
            else:
                first = entry
                break
        # Each bad line is named; the one ``error:`` line is reserved for a run that stops.
        for bad in before:
            report_invalid(bad, "warning" if first is not None else "invalid")
        invalid.extend(before)
        if first is None:
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
            job_timeout=job_timeout,
            wait_for_lock=wait_for_lock,
            keep_results=False,
        )

        def lines(display: _Display) -> Iterator[tuple[int, Any]]:
            """The valid lines, read as the runner asks; bad ones reported as they come."""
            valid = 1
            assert first is not None
            yield first.line, first.input
            for entry in checked:
                if isinstance(entry, InvalidInput):
                    report_invalid(entry, "warning")
                    invalid.append(entry)
                    continue
                valid += 1
                yield entry.line, entry.input
            display.set_total(valid)

        async def main(display: _Display) -> BatchReport:
            async with context.make_async_client(cli_state) as client:
                return await arun_many(
                    client,
                    lines(display),
                    numbered=True,
                    out_dir=out,
                    options=options,
                    on_event=display,
                )

        try:
            with (
                _Display(err, None) as display,
                announce_pauses(display.console),  # a long rate-limit pause, on the progress line
                interrupts.asyncio_handling(),
            ):
                report = asyncio.run(main(display))
        except KeyboardInterrupt:
            raise CliError(
                f"interrupted; the journal in {out}/ is intact: run the same command again to "
                "resume",
                exit_code=EXIT_INTERRUPTED,
            ) from None
        except JournalLockedError as exc:
            raise CliError(str(exc), exit_code=EXIT_LOCKED) from None
    finally:
        handle.close()
    report.invalid = invalid
    _summary(report, err)
    if report.aborted:
        raise CliError(f"batch stopped: {report.aborted}")
    if not report.ok:
        raise typer.Exit(EXIT_FAILURE)
