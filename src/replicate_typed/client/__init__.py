"""The API layer: request building, the clients, retries, polling, streaming, uploads, downloads,
webhooks and errors. Built on :mod:`replicate_typed.core` and the generated API types; never
imports the applications (CLI, batch runner, mock server).

The public names are re-exported at the package root (``from replicate_typed import Client``).
"""
