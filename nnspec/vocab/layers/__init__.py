"""Layer types: importing this package fills the registry."""

from nnspec.vocab.layers import (  # noqa: F401  (each module registers its layers)
    attention,
    conv,
    core,
    merge,
    normalization,
    pooling,
    recurrent,
    reshaping,
    wrappers,
)
from nnspec.vocab.layers.registry import LAYERS, LayerType, ShapeError, Weights, layer_types, show

__all__ = ["LAYERS", "LayerType", "ShapeError", "Weights", "layer_types", "show"]
