"""Shape arithmetic of sliding windows over spatial axes: convolution, pooling,
padding and upsampling layers share it.

Pure functions of ints and tuples, following Keras 3's
`compute_conv_output_shape` and `compute_conv_transpose_output_shape`.
"""

from __future__ import annotations

from nnspec.vocab.layers.registry import LAYERS, ShapeError, show

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
