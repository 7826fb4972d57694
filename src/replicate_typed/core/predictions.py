"""Typed views of predictions: a generated model's input and output on top of the raw object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic

from pydantic import ValidationError

from replicate_typed.core.model import InputT, ModelInfo, OutputT

if TYPE_CHECKING:
    from replicate_typed.types.api import Prediction

__all__ = ["TypedPrediction", "TERMINAL_STATUSES"]

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "canceled", "aborted"})


@dataclass(frozen=True)
class TypedPrediction(Generic[InputT, OutputT]):
    """A prediction of one generated model: the raw :class:`Prediction` plus typed accessors."""

    raw: Prediction
    model: ModelInfo[InputT, OutputT]

    @property
    def id(self) -> str:
        return self.raw.id

    @property
    def status(self) -> str:
        return str(self.raw.status)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def error(self) -> Any:
        return self.raw.error

    @property
    def logs(self) -> str | None:
        return self.raw.logs

    @property
    def data_removed(self) -> bool:
        return bool(self.raw.data_removed)

    @property
    def input(self) -> InputT | dict[str, Any]:
        """The input echoed by the server, typed when it validates (else the raw dict)."""
        try:
            return self.model.input_type.model_validate(self.raw.input)
        except ValidationError:
            return dict(self.raw.input)

    @property
    def output(self) -> OutputT | None:
        """The typed output, or None while there is none (or after the data was removed)."""
        if self.raw.output is None:
            return None
        return self.model.parse_output(self.raw.output)
