"""Layer types: the registry, built from each module's `LAYER_TYPES` in one place.

The order of the modules below is the order of docs/language.md and of editor
completion.
"""

from nnspec.vocab.layers import (
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
from nnspec.vocab.layers.registry import (
    LAYERS,
    LayerType,
    ShapeError,
    Weights,
    layer_types,
    registry_of,
    show,
)

LAYERS.update(
    registry_of(
        attention.LAYER_TYPES,
        conv.LAYER_TYPES,
        core.LAYER_TYPES,
        merge.LAYER_TYPES,
        normalization.LAYER_TYPES,
        pooling.LAYER_TYPES,
        recurrent.LAYER_TYPES,
        reshaping.LAYER_TYPES,
        wrappers.LAYER_TYPES,
    )
)

__all__ = ["LAYERS", "LayerType", "ShapeError", "Weights", "layer_types", "show"]
