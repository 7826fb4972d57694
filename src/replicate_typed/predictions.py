"""Typed views of predictions: a generated model's input and output on top of the raw object."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic_core import ValidationError

# no runtime import of the model machinery (pydantic's BaseModel): the client's polling reads
# TERMINAL_STATUSES while a client is constructed
if TYPE_CHECKING:
    from replicate_typed.core.model import ModelInfo, ModelInput
    from replicate_typed.types.api import Prediction, PredictionMetrics, PredictionUrls

InputT = TypeVar("InputT", bound="ModelInput[Any]")
OutputT = TypeVar("OutputT")

__all__ = ["TypedPrediction", "TERMINAL_STATUSES", "UNKNOWN", "status_of", "unknown_fields"]

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "canceled", "aborted"})

UNKNOWN = "unknown"
"""How a status the server did not send is shown (``status_of`` returns None for it, and a
prediction without a status is never terminal: waiting fetches it again)."""


def status_of(prediction: Prediction) -> str | None:
    """The prediction's status, or None when the answer did not carry one (a router's create
    answer may be ``{"id": ...}`` alone)."""
    status = prediction.status
    return None if status is None else str(status)


def unknown_fields(prediction: Prediction) -> frozenset[str]:
    """The fields of the API's prediction object this answer did not carry.

    Only ``id`` is certain: routers answer with subsets of the object (a create answer may be
    ``{"id", "status"}``). A missing field reads as None on the raw object; this tells a field
    that was sent as ``null`` (known to be empty) from one that was not sent at all (unknown).
    """
    return frozenset(type(prediction).model_fields) - prediction.model_fields_set


@dataclass(frozen=True)
class TypedPrediction(Generic[InputT, OutputT]):
    """A prediction of one generated model: the raw :class:`Prediction` plus typed accessors.

    The common fields of the raw prediction are read through directly (``urls``, ``created_at``,
    ``started_at``, ``completed_at``, ``error``, ``logs``, ``metrics``, ``version``,
    ``model_ref`` ...). Routers may answer with a subset of the fields: an absent field reads as
    ``None``, never an ``AttributeError``. ``model`` is the generated model's :class:`ModelInfo`;
    the prediction's own ``owner/name`` string is ``model_ref``.
    """

    raw: Prediction
    model: ModelInfo[InputT, OutputT]

    @property
    def id(self) -> str:
        return self.raw.id

    @property
    def status(self) -> str | None:
        """The status, or None when the server's answer did not carry one."""
        return status_of(self.raw)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL_STATUSES

    def _field(self, name: str) -> Any:
        return getattr(self.raw, name, None)

    @property
    def unknown(self) -> frozenset[str]:
        """The API fields the server's answer did not carry (see :func:`unknown_fields`)."""
        return unknown_fields(self.raw)

    @property
    def error(self) -> Any:
        """The error the model reported (``None`` unless it failed)."""
        return self._field("error")

    @property
    def logs(self) -> str | None:
        value = self._field("logs")
        return value if isinstance(value, str) else None

    @property
    def data_removed(self) -> bool:
        return bool(self._field("data_removed"))

    @property
    def urls(self) -> PredictionUrls | None:
        """``get``, ``cancel``, ``web`` and (when it can stream) ``stream`` URLs."""
        value: PredictionUrls | None = self._field("urls")
        return value

    @property
    def created_at(self) -> datetime | None:
        return self._time("created_at")

    @property
    def started_at(self) -> datetime | None:
        return self._time("started_at")

    @property
    def completed_at(self) -> datetime | None:
        return self._time("completed_at")

    @property
    def deadline(self) -> datetime | None:
        """When the server cancels the prediction if it has not finished."""
        return self._time("deadline")

    def _time(self, name: str) -> datetime | None:
        value = self._field(name)
        return value if isinstance(value, datetime) else None

    @property
    def metrics(self) -> PredictionMetrics | None:
        """``predict_time``, ``total_time`` ... (an open object; ``None`` until the server sends it)."""
        value: PredictionMetrics | None = self._field("metrics")
        return value

    @property
    def version(self) -> str | None:
        """The version id the server ran (``"hidden"`` for official models called by path)."""
        value = self._field("version")
        return str(value) if value is not None else None

    @property
    def model_ref(self) -> str | None:
        """The prediction's model as the server names it: ``owner/name``."""
        value = self._field("model")
        return str(value) if value is not None else None

    @property
    def source(self) -> str | None:
        """``"api"`` or ``"web"`` when the server says how the prediction was created."""
        value = self._field("source")
        return str(value) if value is not None else None

    @property
    def deployment(self) -> str | None:
        value = self._field("deployment")
        return str(value) if value is not None else None

    @property
    def input(self) -> InputT | dict[str, Any] | None:
        """The input echoed by the server, typed when it validates (else the raw dict); None
        when the answer carried none."""
        echoed = self._field("input")
        if not isinstance(echoed, dict):
            return None
        try:
            return self.model.input_type.model_validate(echoed)
        except ValidationError:
            return dict(echoed)

    @property
    def output(self) -> OutputT | None:
        """The typed output, or None while there is none (or after the data was removed)."""
        raw_output = self._field("output")
        if raw_output is None:
            return None
        return self.model.parse_output(raw_output)
