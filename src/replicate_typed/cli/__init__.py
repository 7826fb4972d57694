"""The ``replicate-typed`` command line (Typer + Rich): ``app`` is the entry point.

``options``: one command-line option per model input, generated at run time from the model's
spec; ``progress``: the live status display; ``errors``: one-line errors with the token redacted;
``batch``: the ``batch`` command group.
"""

from __future__ import annotations


def main() -> None:
    """Console-script entry point (``replicate-typed``)."""
    from replicate_typed.cli.app import main as run

    run()
