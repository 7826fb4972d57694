"""Tool names from model references: valid everywhere, unique, the same on every run.

MCP allows ``[A-Za-z0-9._-]{1,128}``; several agent hosts accept only ``[A-Za-z0-9_-]{1,64}``,
so a tool name keeps to the narrower rule. ``owner/name`` whose parts are letters, digits and
``-`` becomes ``owner__name`` (reversible: the parts hold no ``_``). Any other reference (a ``.``
or ``_`` in it, or too long) becomes its sanitised form cut to fit, plus ``_`` and 8 hex digits
of the reference's sha256: it depends on the reference alone, so adding or removing other models
never renames a tool, and it cannot equal a plain name (those hold exactly one ``_`` pair).
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["MAX_TOOL_NAME", "TOOL_NAME", "tool_name", "tool_names"]

MAX_TOOL_NAME = 64
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_PLAIN_PART = re.compile(r"^[A-Za-z0-9-]+$")
_UNSAFE = re.compile(r"[^A-Za-z0-9-]")
_HASH_DIGITS = 8


def tool_name(ref: str) -> str:
    """The tool name of the model ``owner/name``."""
    owner, _, name = ref.partition("/")
    plain = f"{owner}__{name}"
    if _PLAIN_PART.match(owner) and _PLAIN_PART.match(name) and len(plain) <= MAX_TOOL_NAME:
        return plain
    digest = hashlib.sha256(ref.encode("utf-8")).hexdigest()[:_HASH_DIGITS]
    base = f"{_UNSAFE.sub('-', owner)}__{_UNSAFE.sub('-', name)}"
    return f"{base[: MAX_TOOL_NAME - _HASH_DIGITS - 1]}_{digest}"


def tool_names(refs: list[str], reserved: frozenset[str] = frozenset()) -> dict[str, str]:
    """``tool name -> ref`` for ``refs``; raises ``ValueError`` on a clash (with each other or
    with a ``reserved`` name), which only a sha256 prefix collision can cause."""
    names: dict[str, str] = {}
    for ref in refs:
        name = tool_name(ref)
        if name in names or name in reserved:
            raise ValueError(f"tool name {name!r} of {ref!r} is taken (by {names.get(name)!r})")
        names[name] = ref
    return names
