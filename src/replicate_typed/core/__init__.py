"""The base layer: what generated code imports.

``types`` (FileInput, FileOutput, Secret), ``model`` (ModelInput, ModelInfo), ``registry`` (the
Registry machinery behind ``replicate_typed.models.registry``). Nothing here imports the
generated code, the API client or the applications. The typed prediction view sits one layer up,
in :mod:`replicate_typed.predictions`, because it wraps the generated API type ``Prediction``.
"""
