"""nnspec: a declarative model-spec compiler for Keras neural networks.

`nnspec.compile_text(text)` runs the whole checking pipeline on a spec's text;
docs/architecture.md describes the stages.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "compile_text"]


def __getattr__(name: str):
    # Imported on first use, so that `import nnspec` (and the CLI) stays light.
    if name == "compile_text":
        from nnspec.check.pipeline import compile_text

        return compile_text
    raise AttributeError(f"module 'nnspec' has no attribute {name!r}")
