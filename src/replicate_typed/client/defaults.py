"""The client's defaults, each in one place (imports nothing: the CLI reads them at start-up)."""

from __future__ import annotations

__all__ = ["DEFAULT_MAX_RETRIES", "DEFAULT_TIMEOUT"]

DEFAULT_MAX_RETRIES = 4
"""Retries of one request unless a client or a call says otherwise."""

DEFAULT_TIMEOUT = 60.0
"""Seconds one HTTP request may take unless a client or a call says otherwise."""
