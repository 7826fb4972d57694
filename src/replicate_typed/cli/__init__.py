"""The ``replicate-typed`` command line (Typer + Rich).

- ``app``: assembles the Typer application and ``main``; ``root``: the root group that turns
  every failure into one line and an exit code; ``help``: ``--help`` that never cuts names.
- ``context``: what the command groups share (global options, consoles, token, client factory);
  ``validate``: checks of typed values (exit 2); ``output``: how results are printed.
- ``commands/``: one module per command group (``run``, ``predictions``, ``download``,
  ``models``, ``mock``, ``batch``).
- ``options``: one command-line option per model input, generated at run time from the model's
  spec; ``progress``: the live status display; ``errors``: one-line errors with the token masked;
  ``interrupts``: Ctrl-C always ends the process (a watchdog after the first, at once on the second).
"""

from __future__ import annotations

from replicate_typed._extras import require

require("cli", "the replicate-typed command line (replicate_typed.cli)")


def main() -> None:
    """Console-script entry point (``replicate-typed``)."""
    from replicate_typed.cli import interrupts
    from replicate_typed.cli.app import main as run

    interrupts.install()
    run()
