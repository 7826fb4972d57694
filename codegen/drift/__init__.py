"""API drift: detect and classify upstream changes to model schemas and to the API document.

``python -m codegen drift`` compares ``specs/`` with upstream (live through the runtime client, or
recorded version files with ``--from-dir``) and classifies every difference as BREAKING,
COMPATIBLE or COSMETIC for an existing caller. See docs/codegen.md, section "API drift".
"""

from .api_diff import diff_api_documents
from .changes import Change, Severity
from .schema_diff import diff_model_schemas

__all__ = ["Change", "Severity", "diff_api_documents", "diff_model_schemas"]
