"""nnspec: a declarative model-spec compiler for Keras neural networks."""

__version__ = "0.1.0"
