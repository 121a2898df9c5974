"""Convolution layers: Conv1D/2D/3D, their transposes, separable and depthwise
convolutions.

The arithmetic follows Keras 3 (`compute_conv_output_shape` and
`compute_conv_transpose_output_shape`); the small helpers at the top are also
used by the pooling and reshaping layers.
"""

from __future__ import annotations

import math
from functools import partial

from ..argtypes import Bool, Choice, Int, IntTuple, Optional
from ..signature import Param
from .registry import (
    ACTIVATION,
    CONSTRAINT,
    DATA_FORMAT,
    INITIALIZER,
    LAYERS,
    PADDING,
    REGULARIZER,
    LayerType,
    ShapeError,
    Weights,
    bad_arg,
    kernel_params,
    register,
    show,
)

# ---- shared arithmetic (pure functions of ints) ------------------------------


def conv_length(
    size: int | None, kernel: int, stride: int = 1, padding: str = "valid", dilation: int = 1
) -> int | None:
    """Output length of one axis of a convolution or pooling window (Keras's rule).

    `valid`: floor((size - dilation * (kernel - 1) - 1) / stride) + 1, which may
    be zero or negative; `same` and `causal`: ceil(size / stride).
    """
    if size is None:
        return None
    if padding == "valid":
        return (size - dilation * (kernel - 1) - 1) // stride + 1
    return (size - 1) // stride + 1


def transpose_length(
    size: int | None,
    kernel: int,
    stride: int = 1,
    padding: str = "valid",
    output_padding: int | None = None,
    dilation: int = 1,
) -> int | None:
    """Output length of one axis of a transposed convolution (Keras's rule)."""
    if size is None:
        return None
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return (size - 1) * stride + span + extra
    if output_padding is None:
        return size * stride
    return (size - 1) * stride + span % 2 + output_padding


# ---- shared shape helpers ---------------------------------------------------------

_AXES = {
    1: ("steps",),
    2: ("height", "width"),
    3: ("depth", "height", "width"),
}
SPATIAL_AXES = {1: "steps axis", 2: "height and width axes", 3: "depth, height and width axes"}


def _layout(rank: int, data_format: str) -> str:
    axes = ", ".join(_AXES.get(rank, ("spatial",) * rank))
    if data_format == "channels_first":
        return f"batch, channels, {axes}"
    return f"batch, {axes}, channels"


def need_spatial(x, layer: str, rank: int, data_format: str = "channels_last"):
    """Check that `x` has `rank` spatial axes; return (spatial dims, channels)."""
    if len(x) != rank + 2:
        hints = []
        other = layer.replace(f"{rank}D", f"{len(x) - 2}D")
        if len(x) == rank + 1 and len(x) > 1:
            target = (*x[1:], 1) if data_format == "channels_last" else (1, *x[1:])
            example = "Reshape" if None in target else f"Reshape({show(target)})"
            hints.append(f"add a channel axis of size 1 with {example} before it")
        if other != layer and other in LAYERS:
            hints.append(f"for a rank-{len(x)} input use {other}")
        raise ShapeError(
            f"{layer} expects an input of rank {rank + 2} ({_layout(rank, data_format)}), "
            f"received {show(x)} of rank {len(x)}",
            hints=tuple(hints),
        )
    if data_format == "channels_first":
        return tuple(x[2:]), x[1]
    return tuple(x[1:-1]), x[-1]


def join_spatial(batch, spatial, channels, data_format: str = "channels_last") -> tuple:
    """The inverse of `need_spatial`: batch, spatial axes and channels in layout order."""
    if data_format == "channels_first":
        return (batch, channels, *spatial)
    return (batch, *spatial, channels)


def need_channels(x, layer: str, channels: int | None) -> int:
    """The channel count, which sizes the kernel and so must be known."""
    if channels is None:
        raise ShapeError(
            f"{layer} expects a known number of channels, received {show(x)}",
            hints=("the kernel's size depends on it: give the channel axis a fixed size",),
        )
    return channels


def windowed(
    x,
    layer: str,
    spatial: tuple,
    window: tuple[int, ...],
    strides: tuple[int, ...],
    padding: str,
    dilation: tuple[int, ...] | None = None,
    what: str = "kernel_size",
) -> tuple:
    """Output spatial sizes of a sliding window; raises if one would be zero or less."""
    dilation = dilation or (1,) * len(window)
    out = tuple(
        conv_length(s, k, st, padding, d) for s, k, st, d in zip(spatial, window, strides, dilation)
    )
    if any(n is not None and n <= 0 for n in out):
        span = tuple(d * (k - 1) + 1 for k, d in zip(window, dilation))
        dilated = f", dilation_rate={dilation}" if max(dilation) > 1 else ""
        raise ShapeError(
            f"{layer} expects spatial sizes of at least {'x'.join(map(str, span))} "
            f'for {what}={window}{dilated} with padding="valid", received {show(x)}',
            hints=(
                f'use padding="same", a smaller {what}, or less downsampling before this layer',
            ),
        )
    return out


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


def _conv_input(cfg, x, layer: str, rank: int):
    spatial, channels = need_spatial(x, layer, rank, cfg.data_format)
    channels = need_channels(x, layer, channels)
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
    register(
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
    spatial, channels = need_spatial(x, layer, rank, cfg.data_format)
    return spatial, need_channels(x, layer, channels)


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
    register(
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


def _depthwise_input(cfg, x, layer: str, rank: int):
    spatial, channels = need_spatial(x, layer, rank, cfg.data_format)
    return spatial, need_channels(x, layer, channels)


def _separable_output(cfg, x, layer: str, rank: int):
    spatial, _ = _depthwise_input(cfg, x, layer, rank)
    out = windowed(x, layer, spatial, cfg.kernel_size, cfg.strides, cfg.padding, cfg.dilation_rate)
    return join_spatial(x[0], out, cfg.filters, cfg.data_format)


def _separable_weights(cfg, x, layer: str, rank: int):
    _, channels = _depthwise_input(cfg, x, layer, rank)
    depthwise = math.prod(cfg.kernel_size) * channels * cfg.depth_multiplier
    pointwise = channels * cfg.depth_multiplier * cfg.filters
    return Weights(depthwise + pointwise + (cfg.filters if cfg.use_bias else 0))


_SEPARABLE_PARAMS = (
    Param("activation", ACTIVATION, None, "activation applied to the output"),
    Param("use_bias", Bool(), True, "whether to add a bias vector"),
    Param(
        "depthwise_initializer",
        INITIALIZER,
        "glorot_uniform",
        "initializer of the depthwise kernel",
    ),
    Param(
        "pointwise_initializer",
        INITIALIZER,
        "glorot_uniform",
        "initializer of the pointwise kernel",
    ),
    Param("bias_initializer", INITIALIZER, "zeros", "initializer of the bias"),
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
    register(
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
    spatial, channels = _depthwise_input(cfg, x, layer, rank)
    out = windowed(x, layer, spatial, cfg.kernel_size, cfg.strides, cfg.padding, cfg.dilation_rate)
    return join_spatial(x[0], out, channels * cfg.depth_multiplier, cfg.data_format)


def _depthwise_weights(cfg, x, layer: str, rank: int):
    _, channels = _depthwise_input(cfg, x, layer, rank)
    outputs = channels * cfg.depth_multiplier
    return Weights(math.prod(cfg.kernel_size) * outputs + (outputs if cfg.use_bias else 0))


for _rank in (1, 2):
    _name = f"DepthwiseConv{_rank}D"
    register(
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
