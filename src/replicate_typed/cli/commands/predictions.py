"""``get ID``, ``cancel ID``, ``list``: one prediction, or the recent ones."""

from __future__ import annotations

from itertools import islice
from typing import Annotated

import typer

from replicate_typed.cli import context
from replicate_typed.cli.output import (
    JsonFlag,
    dump,
    fmt_time,
    or_unknown,
    print_json,
    print_prediction,
    print_rows,
)
from replicate_typed.cli.validate import IdArgument

__all__ = ["get_prediction", "cancel_prediction", "list_predictions"]


def get_prediction(
    ctx: typer.Context, prediction_id: IdArgument, as_json: JsonFlag = False
) -> None:
    """Show one prediction."""
    with context.open_client(ctx) as client:
        prediction = client.predictions.get(prediction_id)
    if as_json:
        print_json(dump(prediction))
    else:
        print_prediction(prediction, context.stdout())


def cancel_prediction(
    ctx: typer.Context, prediction_id: IdArgument, as_json: JsonFlag = False
) -> None:
    """Cancel a prediction."""
    with context.open_client(ctx) as client:
        prediction = client.predictions.cancel(prediction_id)
    if as_json:
        print_json(dump(prediction))
    else:
        context.stdout().print(f"{prediction.id}: {or_unknown(prediction.status)}", markup=False)


def list_predictions(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="Show at most this many.", min=1)
    ] = 20,
    as_json: JsonFlag = False,
) -> None:
    """List recent predictions, newest first (follows the API's pages as needed)."""
    with context.open_client(ctx) as client:
        predictions = list(islice(client.predictions.list(), limit))
    if as_json:
        print_json([dump(p) for p in predictions])
        return
    print_rows(
        ("id", "model", "status", "created"),
        [
            (p.id, or_unknown(p.model), or_unknown(p.status), fmt_time(p.created_at))
            for p in predictions
        ],
    )
    if not predictions:
        context.stderr().print("no predictions", markup=False)
