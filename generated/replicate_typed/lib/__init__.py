"""Hand-written runtime of replicate_typed.

Everything under ``replicate_typed/lib/`` is written by hand and is never touched by the code
generator (``python -m codegen generate`` rewrites every other folder of the package). Generated
modules import from here; nothing here imports generated modules at import time.
"""
