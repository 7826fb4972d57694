"""The one home of the rules for model references and version ids.

Used by the client (request paths and bodies), the model registry, the code generator (spec
files, ``add-model``) and the mock: they all agree because they all read these.

* a version id is 64 lowercase hex digits;
* a model (or deployment) reference is ``owner/name``, each part letters, digits, ``.``, ``_``
  or ``-``; the owner starts with a letter or digit, the name with anything but ``.`` (so
  neither is ever ``.`` or ``..``: both go into URL paths).
"""

from __future__ import annotations

import re

__all__ = [
    "MODEL_REF",
    "MODEL_REF_PATTERN",
    "NAME_SLUG",
    "SLUG",
    "VERSION_ID",
    "VERSION_ID_PATTERN",
    "is_model_ref",
    "is_version_id",
    "split_model_ref",
]

SLUG = r"[A-Za-z0-9][A-Za-z0-9._-]*"
"""The owner part of ``owner/name``."""
NAME_SLUG = r"[A-Za-z0-9_-][A-Za-z0-9._-]*"
"""The name part of ``owner/name`` (``-dash.1.5`` is a name; ``.x`` is not)."""
VERSION_ID_PATTERN = r"^[0-9a-f]{64}$"
MODEL_REF_PATTERN = rf"^{SLUG}/{NAME_SLUG}$"
VERSION_ID = re.compile(VERSION_ID_PATTERN)
MODEL_REF = re.compile(MODEL_REF_PATTERN)


def is_version_id(value: object) -> bool:
    """A 64-hex version id (a string, nothing around it)."""
    return isinstance(value, str) and len(value) == 64 and VERSION_ID.match(value) is not None


def is_model_ref(value: object) -> bool:
    """``owner/name`` by the rule above."""
    return isinstance(value, str) and MODEL_REF.match(value) is not None and "\n" not in value


def split_model_ref(value: str) -> tuple[str, str] | None:
    """``owner/name`` -> (owner, name); None when it breaks the rule."""
    if not is_model_ref(value):
        return None
    owner, name = value.split("/")
    return owner, name
