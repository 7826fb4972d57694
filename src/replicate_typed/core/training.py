"""What a training produces, as the API answers it: ``output = {"version", "weights"}``.

A trainer model's generated module types the training's *input* (``TrainingInput``, from the
trainer version's ``components.schemas.TrainingInput``); the output has one shape for every
trainer, so it lives here: :class:`TrainingOutput`.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict

from replicate_typed.core.field_types import FileOutput

__all__ = ["TRAINING_OUTPUT_SCHEMA", "TrainingOutput"]


class TrainingOutput(BaseModel):
    """A succeeded training's output: the new ``version`` (``owner/name:<64-hex id>`` of the
    destination model) and the trained ``weights`` file. Extra fields a server adds are kept."""

    model_config = ConfigDict(extra="allow", frozen=True)

    version: str | None = None
    weights: FileOutput | None = None

    @property
    def version_id(self) -> str | None:
        """The new version's id (the part after ``:``), None when the answer carried none."""
        if self.version is None:
            return None
        return self.version.rpartition(":")[2] or None


TRAINING_OUTPUT_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "title": "TrainingOutput",
    "properties": {
        "version": {"type": "string", "title": "Version"},
        "weights": {"type": "string", "format": "uri", "title": "Weights"},
    },
}
""":class:`TrainingOutput` as JSON Schema (draft 2020-12): what the API's training answers carry."""
