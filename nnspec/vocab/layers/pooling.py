"""Pooling layers: MaxPooling/AveragePooling 1D-3D and their global versions."""

from __future__ import annotations

from functools import partial

from nnspec.vocab.argtypes import Bool, IntTuple, Optional
from nnspec.vocab.layers.registry import DATA_FORMAT, PADDING, LayerType
from nnspec.vocab.layers.spatial import SPATIAL_AXES, join_spatial, need_spatial, windowed
from nnspec.vocab.params import Param

LAYER_TYPES: list[LayerType] = []  # this module's layers, in the order of the docs

# ---- MaxPooling / AveragePooling ---------------------------------------------------


def _pool_output(cfg, x, layer: str, rank: int):
    spatial, channels = need_spatial(x, layer, rank, cfg.data_format)
    strides = cfg.pool_size if cfg.strides is None else cfg.strides
    out = windowed(x, layer, spatial, cfg.pool_size, strides, cfg.padding, what="pool_size")
    return join_spatial(x[0], out, channels, cfg.data_format)


def _pool_params(rank: int, default_size: tuple[int, ...] | None) -> tuple[Param, ...]:
    size_doc = f"window size: an int or {rank} ints"
    size = (
        Param("pool_size", IntTuple(rank), doc=size_doc)
        if default_size is None
        else Param("pool_size", IntTuple(rank), default_size, size_doc)
    )
    return (
        size,
        Param(
            "strides", Optional(IntTuple(rank)), None, "step of the window; None means pool_size"
        ),
        Param(
            "padding", PADDING, "valid", "`valid` (none) or `same` (output = ceil(input / strides))"
        ),
        DATA_FORMAT,
    )


for _mode, _short, _verb in (("Max", "Max", "maximum"), ("Average", "Avg", "average")):
    for _rank in (1, 2, 3):
        _default = (2,) * _rank if _mode == "Max" else None  # AveragePooling has no default
        _name = f"{_mode}Pooling{_rank}D"
        LAYER_TYPES.append(
            LayerType(
                _name,
                _pool_params(_rank, _default),
                partial(_pool_output, layer=_name, rank=_rank),
                f"{_rank}D {_verb} pooling: the {_verb} of each window over the {SPATIAL_AXES[_rank]}.",
                aliases=(f"{_short}Pool{_rank}D",),
                category="pooling",
            )
        )

# ---- GlobalMaxPooling / GlobalAveragePooling --------------------------------------


def _global_output(cfg, x, layer: str, rank: int):
    _, channels = need_spatial(x, layer, rank, cfg.data_format)
    kept = (1,) * rank if cfg.keepdims else ()
    if cfg.data_format == "channels_first":
        return (x[0], channels, *kept)
    return (x[0], *kept, channels)


_GLOBAL_PARAMS = (
    DATA_FORMAT,
    Param("keepdims", Bool(), False, "keep the pooled axes with size 1"),
)

for _mode, _short, _verb in (("Max", "Max", "maximum"), ("Average", "Avg", "average")):
    for _rank in (1, 2, 3):
        _name = f"Global{_mode}Pooling{_rank}D"
        LAYER_TYPES.append(
            LayerType(
                _name,
                _GLOBAL_PARAMS,
                partial(_global_output, layer=_name, rank=_rank),
                f"Global {_verb} pooling over the whole {SPATIAL_AXES[_rank]}: one value per channel.",
                aliases=(f"Global{_short}Pool{_rank}D",),
                category="pooling",
            )
        )
