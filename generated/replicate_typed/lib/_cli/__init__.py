"""Pieces of the ``replicate-typed`` CLI (:mod:`replicate_typed.lib.cli` is the entry point).

``options``: one command-line option per model input, generated at run time from the model's
spec; ``progress``: the live status display; ``errors``: one-line errors with the token redacted.
"""
