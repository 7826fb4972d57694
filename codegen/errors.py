"""Errors the compiler reports to the user: a file, a JSON pointer into it, and the rule broken."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class SpecError(Exception):
    """A spec that cannot be compiled. Printed as one line; never a traceback."""

    file: Path | str
    pointer: str
    rule: str

    def __str__(self) -> str:
        return f"{self.file}: at {self.pointer or '/'}: {self.rule}"


@dataclass(frozen=True)
class SpecWarning:
    """Something odd in a spec that the generator handles on purpose (and says so)."""

    file: Path | str
    pointer: str
    rule: str

    def __str__(self) -> str:
        return f"warning: {self.file}: at {self.pointer or '/'}: {self.rule}"


class SpecErrors(Exception):
    """Several spec errors found in one run (all are reported, not just the first)."""

    def __init__(self, errors: list[SpecError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def pointer(parts: object) -> str:
    """A JSON pointer (RFC 6901) from path parts."""
    items = list(parts) if not isinstance(parts, str) else [parts]  # type: ignore[call-overload]
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in items)
