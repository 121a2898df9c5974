"""Convolution layers: Conv1D/2D/3D, their transposes, separable and depthwise
convolutions.

The window arithmetic lives in `spatial.py`, shared with pooling and reshaping.
"""

from __future__ import annotations

import math
from functools import partial

from nnspec.vocab.argtypes import Bool, Choice, Int, IntTuple, Optional
from nnspec.vocab.layers.registry import (
    ACTIVATION,
    CONSTRAINT,
    DATA_FORMAT,
    KERNEL_INITIALIZER,
    PADDING,
    REGULARIZER,
    VECTOR_INITIALIZER,
    LayerType,
    ShapeError,
    Weights,
    bad_arg,
    kernel_params,
    show,
)
from nnspec.vocab.layers.spatial import (
    SPATIAL_AXES,
    join_spatial,
    need_channels,
    need_spatial,
    transpose_length,
    windowed,
)
from nnspec.vocab.params import Param

LAYER_TYPES: list[LayerType] = []  # this module's layers, in the order of the docs


def _strided_dilation(cfg, layer: str) -> None:
    if max(cfg.strides) > 1 and max(cfg.dilation_rate) > 1:
        raise bad_arg(
            f"{layer} does not support strides > 1 together with dilation_rate > 1 "
            f"(strides={cfg.strides}, dilation_rate={cfg.dilation_rate})"
        )


# ---- parameters -----------------------------------------------------------------

_FILTERS = Param("filters", Int(1), doc="number of output channels (filters)")
_GROUPS = Param(
    "groups", Int(1), 1, "channel groups convolved separately; divides channels and filters"
)
_DEPTH_MULTIPLIER = Param(
    "depth_multiplier", Int(1), 1, "depthwise output channels per input channel"
)


def _kernel_size(rank: int) -> Param:
    return Param("kernel_size", IntTuple(rank), doc=f"window size: an int or {rank} ints")


def _strides(rank: int) -> Param:
    return Param("strides", IntTuple(rank), (1,) * rank, "step of the window on each spatial axis")


def _padding(causal: bool = False) -> Param:
    if causal:
        return Param(
            "padding",
            Choice(("valid", "same", "causal")),
            "valid",
            "`valid` (none), `same` (output = ceil(input / strides)) or `causal` (left only)",
        )
    return Param(
        "padding", PADDING, "valid", "`valid` (none) or `same` (output = ceil(input / strides))"
    )


def _dilation(rank: int) -> Param:
    return Param("dilation_rate", IntTuple(rank), (1,) * rank, "spacing between kernel taps")


def _output_padding(rank: int) -> Param:
    return Param(
        "output_padding",
        Optional(IntTuple(rank, low=0)),
        None,
        "extra size added to each output axis; less than strides",
    )


# ---- Conv1D / Conv2D / Conv3D ------------------------------------------------------


def _spatial_and_channels(cfg, x, layer: str, rank: int):
    """The spatial sizes, and the channel count, which must be known: it sizes the kernel."""
    spatial, channels = need_spatial(x, layer, rank, cfg.data_format)
    return spatial, need_channels(x, layer, channels)


def _conv_input(cfg, x, layer: str, rank: int):
    spatial, channels = _spatial_and_channels(cfg, x, layer, rank)
    groups = cfg.groups
    if cfg.filters % groups:
        raise bad_arg(f"{layer} filters={cfg.filters} must be divisible by groups={groups}")
    if channels % groups:
        raise ShapeError(
            f"{layer} with groups={groups} expects a channel count divisible by {groups}, "
            f"received {show(x)} with {channels} channels"
        )
    return spatial, channels


def _conv_output(cfg, x, layer: str, rank: int):
    _strided_dilation(cfg, layer)
    spatial, _ = _conv_input(cfg, x, layer, rank)
    out = windowed(x, layer, spatial, cfg.kernel_size, cfg.strides, cfg.padding, cfg.dilation_rate)
    return join_spatial(x[0], out, cfg.filters, cfg.data_format)


def _conv_weights(cfg, x, layer: str, rank: int):
    _, channels = _conv_input(cfg, x, layer, rank)
    kernel = math.prod(cfg.kernel_size) * (channels // cfg.groups) * cfg.filters
    return Weights(kernel + (cfg.filters if cfg.use_bias else 0))


for _rank in (1, 2, 3):
    _name = f"Conv{_rank}D"
    LAYER_TYPES.append(
        LayerType(
            _name,
            (
                _FILTERS,
                _kernel_size(_rank),
                _strides(_rank),
                _padding(causal=_rank == 1),
                DATA_FORMAT,
                _dilation(_rank),
                _GROUPS,
                *kernel_params(),
            ),
            partial(_conv_output, layer=_name, rank=_rank),
            f"{_rank}D convolution: `filters` learned kernels slid over the {SPATIAL_AXES[_rank]}.",
            weights=partial(_conv_weights, layer=_name, rank=_rank),
            aliases=(f"Convolution{_rank}D",),
            category="convolution",
        )
    )

# ---- Conv1DTranspose / Conv2DTranspose / Conv3DTranspose ---------------------------


def _transpose_input(cfg, x, layer: str, rank: int):
    _strided_dilation(cfg, layer)
    if cfg.output_padding is not None:
        for axis, (op, s) in enumerate(zip(cfg.output_padding, cfg.strides)):
            if op >= s:
                raise bad_arg(
                    f"{layer} output_padding must be less than strides on every axis; "
                    f"axis {axis} has output_padding={op}, strides={s}"
                )
    return _spatial_and_channels(cfg, x, layer, rank)


def _transpose_output(cfg, x, layer: str, rank: int):
    spatial, _ = _transpose_input(cfg, x, layer, rank)
    pads = cfg.output_padding or (None,) * rank
    out = tuple(
        transpose_length(s, k, st, cfg.padding, op, d)
        for s, k, st, op, d in zip(spatial, cfg.kernel_size, cfg.strides, pads, cfg.dilation_rate)
    )
    shape = join_spatial(x[0], out, cfg.filters, cfg.data_format)
    if any(n is not None and n <= 0 for n in out):
        raise ShapeError(
            f"{layer} expects an input that gives a non-empty output, received {show(x)}: "
            f"the output would be {show(shape)}",
            hints=(
                'with padding="same", an even kernel_size and output_padding=0 the output is '
                "(input - 1) * strides: leave output_padding unset or raise it",
            ),
        )
    return shape


def _transpose_weights(cfg, x, layer: str, rank: int):
    _, channels = _transpose_input(cfg, x, layer, rank)
    kernel = math.prod(cfg.kernel_size) * cfg.filters * channels
    return Weights(kernel + (cfg.filters if cfg.use_bias else 0))


for _rank in (1, 2, 3):
    _name = f"Conv{_rank}DTranspose"
    _middle = (DATA_FORMAT, _output_padding(_rank))  # Conv3DTranspose's own order
    if _rank < 3:
        _middle = _middle[::-1]
    LAYER_TYPES.append(
        LayerType(
            _name,
            (
                _FILTERS,
                _kernel_size(_rank),
                _strides(_rank),
                _padding(),
                *_middle,
                _dilation(_rank),
                *kernel_params(),
            ),
            partial(_transpose_output, layer=_name, rank=_rank),
            f"Transposed {_rank}D convolution (deconvolution): upsamples by `strides`.",
            weights=partial(_transpose_weights, layer=_name, rank=_rank),
            aliases=(f"Convolution{_rank}DTranspose",),
            category="convolution",
        )
    )

# ---- SeparableConv1D / SeparableConv2D -------------------------------------------


def _separable_output(cfg, x, layer: str, rank: int):
    spatial, _ = _spatial_and_channels(cfg, x, layer, rank)
    out = windowed(x, layer, spatial, cfg.kernel_size, cfg.strides, cfg.padding, cfg.dilation_rate)
    return join_spatial(x[0], out, cfg.filters, cfg.data_format)


def _separable_weights(cfg, x, layer: str, rank: int):
    _, channels = _spatial_and_channels(cfg, x, layer, rank)
    depthwise = math.prod(cfg.kernel_size) * channels * cfg.depth_multiplier
    pointwise = channels * cfg.depth_multiplier * cfg.filters
    return Weights(depthwise + pointwise + (cfg.filters if cfg.use_bias else 0))


_SEPARABLE_PARAMS = (
    Param("activation", ACTIVATION, None, "activation applied to the output"),
    Param("use_bias", Bool(), True, "whether to add a bias vector"),
    Param(
        "depthwise_initializer",
        KERNEL_INITIALIZER,
        "glorot_uniform",
        "initializer of the depthwise kernel",
    ),
    Param(
        "pointwise_initializer",
        KERNEL_INITIALIZER,
        "glorot_uniform",
        "initializer of the pointwise kernel",
    ),
    Param("bias_initializer", VECTOR_INITIALIZER, "zeros", "initializer of the bias"),
    Param("depthwise_regularizer", REGULARIZER, None, "penalty on the depthwise kernel"),
    Param("pointwise_regularizer", REGULARIZER, None, "penalty on the pointwise kernel"),
    Param("bias_regularizer", REGULARIZER, None, "penalty on the bias"),
    Param("activity_regularizer", REGULARIZER, None, "penalty on the output"),
    Param("depthwise_constraint", CONSTRAINT, None, "constraint on the depthwise kernel"),
    Param("pointwise_constraint", CONSTRAINT, None, "constraint on the pointwise kernel"),
    Param("bias_constraint", CONSTRAINT, None, "constraint on the bias"),
)

for _rank in (1, 2):
    _name = f"SeparableConv{_rank}D"
    LAYER_TYPES.append(
        LayerType(
            _name,
            (
                _FILTERS,
                _kernel_size(_rank),
                _strides(_rank),
                _padding(),
                DATA_FORMAT,
                _dilation(_rank),
                _DEPTH_MULTIPLIER,
                *_SEPARABLE_PARAMS,
            ),
            partial(_separable_output, layer=_name, rank=_rank),
            f"Depthwise separable {_rank}D convolution: a per-channel convolution, "
            "then a 1x1 convolution mixing channels.",
            weights=partial(_separable_weights, layer=_name, rank=_rank),
            aliases=(f"SeparableConvolution{_rank}D",),
            category="convolution",
        )
    )

# ---- DepthwiseConv1D / DepthwiseConv2D ---------------------------------------------


def _depthwise_output(cfg, x, layer: str, rank: int):
    spatial, channels = _spatial_and_channels(cfg, x, layer, rank)
    out = windowed(x, layer, spatial, cfg.kernel_size, cfg.strides, cfg.padding, cfg.dilation_rate)
    return join_spatial(x[0], out, channels * cfg.depth_multiplier, cfg.data_format)


def _depthwise_weights(cfg, x, layer: str, rank: int):
    _, channels = _spatial_and_channels(cfg, x, layer, rank)
    outputs = channels * cfg.depth_multiplier
    return Weights(math.prod(cfg.kernel_size) * outputs + (outputs if cfg.use_bias else 0))


for _rank in (1, 2):
    _name = f"DepthwiseConv{_rank}D"
    LAYER_TYPES.append(
        LayerType(
            _name,
            (
                _kernel_size(_rank),
                _strides(_rank),
                _padding(),
                _DEPTH_MULTIPLIER,
                DATA_FORMAT,
                _dilation(_rank),
                *kernel_params("depthwise"),
            ),
            partial(_depthwise_output, layer=_name, rank=_rank),
            f"Depthwise {_rank}D convolution: each input channel convolved on its own "
            "(`depth_multiplier` outputs per channel).",
            weights=partial(_depthwise_weights, layer=_name, rank=_rank),
            category="convolution",
        )
    )
