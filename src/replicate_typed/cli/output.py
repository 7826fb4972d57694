"""How the commands print results: predictions, tables (plain tab-separated lines in pipes), JSON
and saved output files. Results go to stdout; notes to stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from replicate_typed.cli.context import stdout
from replicate_typed.cli.errors import EXIT_FAILURE, CliError
from replicate_typed.cli.validate import check_server_id

if TYPE_CHECKING:
    from replicate_typed.types.api import Prediction

__all__ = [
    "JsonFlag",
    "dump",
    "print_json",
    "fmt_time",
    "or_unknown",
    "print_prediction",
    "print_rows",
    "output_dir",
    "save_outputs",
    "print_outputs",
]

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the raw JSON object.")]


def dump(prediction: Prediction) -> dict[str, Any]:
    """The prediction as the API's JSON object."""
    dumped: dict[str, Any] = prediction.model_dump(mode="json", exclude_none=False)
    return dumped


def print_json(value: Any) -> None:
    stdout().print_json(json.dumps(value))


def fmt_time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return "" if value is None else str(value)


def or_unknown(value: Any) -> str:
    """A field as printed: ``unknown`` when the server's answer did not carry it (routers may
    answer with only the id)."""
    return "unknown" if value is None else str(value)


def print_prediction(prediction: Prediction, console: Console) -> None:
    """``key: value`` lines, then the output indented; a field the answer did not carry reads
    ``unknown``."""
    rows: list[tuple[str, str]] = [
        ("id", prediction.id),
        ("model", or_unknown(prediction.model)),
        ("version", or_unknown(prediction.version)),
        ("status", or_unknown(prediction.status)),
        ("created", fmt_time(prediction.created_at) or "unknown"),
    ]
    completed = getattr(prediction, "completed_at", None)
    if completed is not None:
        rows.append(("completed", fmt_time(completed)))
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


def print_rows(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table on a terminal; tab-separated lines (header first) for pipes and scripts."""
    console = stdout()
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


def output_dir(out: Path, prediction_id: Any) -> Path:
    """``out/<prediction id>``; an id the server sent that is not one safe segment, or a folder
    that resolves outside ``out`` (a symbolic link), is refused (client.validation's rule)."""
    from replicate_typed.client import downloads
    from replicate_typed.client.errors import DownloadError

    safe_id = check_server_id(prediction_id)
    try:
        return downloads.output_dir(out, safe_id)
    except DownloadError as exc:
        raise CliError(str(exc), exit_code=EXIT_FAILURE) from None


def save_outputs(
    output: Any, dest: Path, if_exists: str | None = None, outcomes: list[str] | None = None
) -> list[Path]:
    """Download every file of ``output`` into ``dest`` (nothing, not even the folder, if none);
    the same content is never saved twice (``if_exists``: see client.downloads); each file's
    outcome is appended to ``outcomes``."""
    from replicate_typed.client.downloads import download_all, file_urls

    if not file_urls(output):
        return []
    return list(
        download_all(
            output,
            dest,
            if_exists=if_exists,  # type: ignore[arg-type]  # checked by download_all
            on_file=None if outcomes is None else lambda _, outcome: outcomes.append(outcome),
        )
    )


_OUTCOME_WORDS = {
    "saved": "saved",
    "same": "already there with the same content",
    "skipped": "skipped (the name exists)",
    "replaced": "replaced",
}


def print_outputs(
    output: Any, paths: list[Path], out: Console, err: Console, outcomes: Sequence[str] = ()
) -> None:
    """Saved files: their paths on stdout (one a line); otherwise the output itself."""
    if paths:
        where = paths[0].parent
        files = f"{len(paths)} file{'s' if len(paths) != 1 else ''}"
        kinds = {o: outcomes.count(o) for o in _OUTCOME_WORDS if o in outcomes}
        if not kinds or list(kinds) == ["saved"]:
            err.print(f"saved {files} in {where}/", markup=False)
        else:
            how = ", ".join(f"{n} {_OUTCOME_WORDS[o]}" for o, n in kinds.items())
            err.print(f"{files} in {where}/: {how}", markup=False)
        for path in paths:
            out.print(str(path), markup=False)
        return
    if output is None:
        err.print("(no output)", markup=False)
    elif isinstance(output, str):
        out.print(output, markup=False)
    else:
        out.print(json.dumps(output, indent=2, default=str), markup=False)
