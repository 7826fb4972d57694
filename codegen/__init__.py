"""The compiler: specs/ -> generated/replicate_typed. Run ``python -m codegen --help``."""
