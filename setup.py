"""One import package, ``replicate_typed``, from two folders (all other metadata: pyproject.toml).

``src/replicate_typed`` is the hand-written runtime; ``generated/replicate_typed`` holds the
generator's output (``models/``, ``types/``). The wheel merges them into one folder; in a source
checkout the package root joins the generated half to its ``__path__``.

The top-level ``codegen/`` folder ships as ``replicate_typed_codegen`` (the console script
``replicate-typed-codegen``; a generic top-level ``codegen`` would clash with other projects'),
which is why its modules import each other relatively.
"""

from pathlib import Path

from setuptools import find_namespace_packages, find_packages, setup

HERE = Path(__file__).parent
runtime = find_packages(str(HERE / "src"), include=["replicate_typed", "replicate_typed.*"])
generated = [
    name
    for name in find_namespace_packages(str(HERE / "generated"), include=["replicate_typed.*"])
    if "__pycache__" not in name
]
codegen = ["replicate_typed_codegen"] + [
    "replicate_typed_codegen." + name for name in find_packages(str(HERE / "codegen"))
]
setup(
    packages=sorted({*runtime, *generated, *codegen}),
    package_dir={
        "replicate_typed_codegen": "codegen",
        "replicate_typed": "src/replicate_typed",
        **{
            name: "generated/" + name.replace(".", "/")
            for name in generated
            if name.count(".") == 1
        },
    },
)
