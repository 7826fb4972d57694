"""``python -m replicate_typed.cli``: the ``replicate-typed`` command."""

from replicate_typed.cli import main

if __name__ == "__main__":
    main()
