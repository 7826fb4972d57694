"""The command groups of ``replicate-typed``, one module each; :mod:`replicate_typed.cli.app`
assembles them. Each module imports only :mod:`replicate_typed.cli.context` (and the other small
CLI modules), never the root application, and imports what is expensive (the mock server, the
batch runner, the model modules) inside the command that needs it.
"""
