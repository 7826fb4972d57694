"""``download ID --out DIR``: the output files of a finished prediction."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from replicate_typed.cli import context
from replicate_typed.cli.errors import CliError
from replicate_typed.cli.output import output_dir, print_outputs, save_outputs
from replicate_typed.cli.validate import IdArgument

__all__ = ["download_outputs"]


class IfExistsChoice(StrEnum):
    keep_both = "keep-both"
    skip = "skip"
    overwrite = "overwrite"


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
    if_exists: Annotated[
        IfExistsChoice,
        typer.Option(
            "--if-exists",
            help="When a file of that name exists: keep-both (a new name, unless it holds the "
            "same content: never saved twice), skip (keep it, do not download) or overwrite.",
        ),
    ] = IfExistsChoice.keep_both,
) -> None:
    """Download the output files of a finished prediction (again: nothing is saved twice)."""
    from replicate_typed.client._logging import logger
    from replicate_typed.models import registry
    from replicate_typed.predictions import TERMINAL_STATUSES, UNKNOWN, status_of

    with context.open_client(ctx) as client:
        prediction = client.predictions.get(prediction_id)
    status = status_of(prediction)
    if status not in TERMINAL_STATUSES:
        raise CliError(
            f"prediction {prediction.id} is still {status or UNKNOWN}; nothing to download yet"
        )
    if prediction.output is None:
        why = (
            "its data was removed (outputs expire an hour after the prediction)"
            if prediction.data_removed
            else f"it has no output (status {status})"
        )
        raise CliError(f"prediction {prediction.id}: nothing to download, {why}")
    output: Any = prediction.output
    try:
        if prediction.model is None:
            raise LookupError("the answer names no model")
        output = registry.get_model(prediction.model).parse_output(prediction.output)
    except Exception:  # a model without generated types: its raw output's URLs are the files
        logger.debug("download: %s output kept untyped", prediction.model, exc_info=True)
    outcomes: list[str] = []
    paths = save_outputs(output, output_dir(out, prediction.id), if_exists.value, outcomes)
    if not paths:
        raise CliError(f"prediction {prediction.id} has no output files")
    print_outputs(output, paths, context.stdout(), context.stderr(), outcomes)
