"""The one rule for a succeeded prediction's output, shared by ``run()``, the typed waits, the
CLI and the batch runner (:func:`succeeded_output`).

=======================================  ==============================================
the succeeded prediction's answer        result
=======================================  ==============================================
``output`` null and ``data_removed``     :class:`OutputRemovedError` (gone: the API deletes
                                         outputs about an hour after a prediction ends)
no ``output`` field at all               :class:`OutputValidationError` (get it again)
``output`` null, the model's Output      ``None``
type accepts null
``output`` null, it does not             :class:`NoOutputError` ("succeeded but produced
                                         no output"): never "succeeded, 0 files"
anything else                            the model's typed output, or
                                         :class:`OutputValidationError` naming the field
=======================================  ==============================================

An empty list is an output (the model made no files), not a missing one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from pydantic_core import ValidationError

from replicate_typed.client import errors

if TYPE_CHECKING:
    from replicate_typed.core.model import ModelInfo
    from replicate_typed.types.api import Prediction

__all__ = ["succeeded_output", "output_error_location"]

T = TypeVar("T")

_MAX_SNIPPET = 200


def succeeded_output(prediction: Prediction, info: ModelInfo[Any, T]) -> T:
    """The typed output of a prediction that ``succeeded`` (the caller checked the status).

    Raises :class:`OutputRemovedError`, :class:`NoOutputError` or
    :class:`OutputValidationError` (each carries the prediction and its id; see the module).
    The batch runner builds a ``Prediction(id=..., status="succeeded", output=...)`` from its
    journal when it has no fresher answer.
    """
    output = prediction.output
    if output is None and prediction.data_removed:
        raise errors.OutputRemovedError(
            f"prediction {prediction.id} ({info.ref}) succeeded but its output was removed "
            "(data_removed: the API deletes outputs about an hour after a prediction ends)",
            prediction=prediction,
        )
    if "output" not in prediction.model_fields_set:
        raise errors.OutputValidationError(
            f"prediction {prediction.id} ({info.ref}) succeeded but the server's answer carries "
            "no output field (get it again with client.predictions.get)",
            prediction=prediction,
        )
    if output is None and not _accepts_none(info):
        raise errors.NoOutputError(
            f"prediction {prediction.id} ({info.ref}) succeeded but produced no output "
            "(output: null; the model's Output type needs a value)",
            prediction=prediction,
        )
    try:
        return info.parse_output(output)
    except ValidationError as exc:
        snippet = _snippet(output)
        raise errors.OutputValidationError(
            f"prediction {prediction.id} ({info.ref}): output does not fit the model's Output "
            f"type: {output_error_location(exc)}; output: {snippet}",
            prediction=prediction,
            snippet=snippet,
        ) from None


def output_error_location(exc: ValidationError) -> str:
    """``output[2]: must be an http(s) URL or a data: URI ...``: the first problem, by field."""
    problems = exc.errors()
    if not problems:
        return str(exc)
    first = problems[0]
    where = "output" + "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in first.get("loc", ())
    )
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{where}: {first.get('msg', 'invalid')}{more}"


def _accepts_none(info: ModelInfo[Any, Any]) -> bool:
    try:
        info.parse_output(None)
    except (ValidationError, ValueError, TypeError):
        return False
    return True


def _snippet(output: object) -> str:
    text = repr(output)
    return text if len(text) <= _MAX_SNIPPET else text[:_MAX_SNIPPET] + "..."
