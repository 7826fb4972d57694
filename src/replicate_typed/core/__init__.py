"""The base layer: what generated model modules import.

``types`` (FileInput, FileOutput, Secret), ``model`` (ModelInput, ModelInfo), ``predictions``
(TypedPrediction), ``registry`` (the Registry machinery behind ``replicate_typed.models.registry``).
Nothing here imports the API client, the applications or generated code.
"""
