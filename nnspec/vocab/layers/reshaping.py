"""Spatial reshaping layers: UpSampling, ZeroPadding and Cropping in 1D-3D.

(Flatten, Reshape, Permute and RepeatVector live in core.py.)
"""

from __future__ import annotations

from functools import partial

from nnspec.syntax import ir
from nnspec.vocab.argtypes import ArgError, ArgType, Choice, Int, IntTuple
from nnspec.vocab.layers.registry import DATA_FORMAT, LayerType, ShapeError, show
from nnspec.vocab.layers.spatial import SPATIAL_AXES, join_spatial, need_spatial
from nnspec.vocab.params import Param

LAYER_TYPES: list[LayerType] = []  # this module's layers, in the order of the docs


class AxisPairs(ArgType):
    """Keras's padding/cropping for 2D and 3D: an int, `n` ints, or `n` pairs of
    ints >= 0 (items may mix), normalised to `n` (before, after) pairs."""

    n: int

    @property
    def describe(self) -> str:
        return f"an integer >= 0, or a tuple of {self.n} integers or (before, after) pairs"

    def convert(self, value):
        if isinstance(value, ir.Const):
            size = Int(0).convert(value)
            return ((size, size),) * self.n
        if isinstance(value, ir.Seq):
            if len(value.items) != self.n:
                raise ArgError(
                    f"expected {self.n} items, one per spatial axis, found {len(value.items)}",
                    "E106",
                )
            return tuple(IntTuple(2, low=0).convert(v) for v in value.items)
        self.fail(value)


def _pairs(cfg, name: str, rank: int) -> tuple[tuple[int, int], ...]:
    value = cfg[name]
    return (value,) if rank == 1 else value


def _spatial_output(cfg, x, layer: str, rank: int, resize):
    data_format = cfg.get("data_format", "channels_last")
    spatial, channels = need_spatial(x, layer, rank, data_format)
    out = tuple(None if s is None else resize(s, axis) for axis, s in enumerate(spatial))
    return join_spatial(x[0], out, channels, data_format)


# ---- UpSampling --------------------------------------------------------------------


def _upsampling_output(cfg, x, layer: str, rank: int):
    size = (cfg.size,) if rank == 1 else cfg.size
    return _spatial_output(cfg, x, layer, rank, lambda s, axis: s * size[axis])


_UPSAMPLING_DOC = {
    1: "Repeats each step `size` times along the steps axis.",
    2: "Upsamples the height and width axes by `size` (repeats rows and columns, or interpolates).",
    3: "Repeats the input along the depth, height and width axes by `size`.",
}
_INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")

_UPSAMPLING_PARAMS = {
    1: (Param("size", Int(1), 2, "repetitions of each step"),),
    2: (
        Param("size", IntTuple(2), (2, 2), "upsampling factors for rows and columns"),
        DATA_FORMAT,
        Param("interpolation", Choice(_INTERPOLATIONS), "nearest", "resize method"),
    ),
    3: (Param("size", IntTuple(3), (2, 2, 2), "upsampling factors per spatial axis"), DATA_FORMAT),
}

for _rank in (1, 2, 3):
    _name = f"UpSampling{_rank}D"
    LAYER_TYPES.append(
        LayerType(
            _name,
            _UPSAMPLING_PARAMS[_rank],
            partial(_upsampling_output, layer=_name, rank=_rank),
            _UPSAMPLING_DOC[_rank],
            category="reshaping",
        )
    )

# ---- ZeroPadding -------------------------------------------------------------------


def _padding_output(cfg, x, layer: str, rank: int):
    pairs = _pairs(cfg, "padding", rank)
    return _spatial_output(cfg, x, layer, rank, lambda s, axis: s + sum(pairs[axis]))


_PAD_DOC = "zeros added before and after: an int, {n} ints or {n} (before, after) pairs"
_PADDING_PARAM = {
    1: Param("padding", IntTuple(2, low=0), (1, 1), "zeros added: an int or (before, after)"),
    2: Param("padding", AxisPairs(2), ((1, 1), (1, 1)), _PAD_DOC.format(n=2)),
    3: Param("padding", AxisPairs(3), ((1, 1),) * 3, _PAD_DOC.format(n=3)),
}

for _rank in (1, 2, 3):
    _name = f"ZeroPadding{_rank}D"
    LAYER_TYPES.append(
        LayerType(
            _name,
            (_PADDING_PARAM[_rank], DATA_FORMAT),
            partial(_padding_output, layer=_name, rank=_rank),
            f"Pads the {SPATIAL_AXES[_rank]} with zeros.",
            category="reshaping",
        )
    )

# ---- Cropping ----------------------------------------------------------------------


def _cropping_output(cfg, x, layer: str, rank: int):
    pairs = _pairs(cfg, "cropping", rank)

    def crop(size: int, axis: int) -> int:
        if size - sum(pairs[axis]) <= 0:
            keep = tuple(sum(p) + 1 for p in pairs)
            raise ShapeError(
                f"{layer} expects spatial sizes of at least {'x'.join(map(str, keep))} "
                f"to crop {pairs if rank > 1 else pairs[0]}, received {show(x)}",
                hints=("crop less: the output would be empty",),
            )
        return size - sum(pairs[axis])

    return _spatial_output(cfg, x, layer, rank, crop)


_CROP_DOC = "units removed before and after: an int, {n} ints or {n} (before, after) pairs"
_CROPPING_PARAMS = {
    1: (Param("cropping", IntTuple(2, low=0), (1, 1), "steps removed: an int or (before, after)"),),
    2: (Param("cropping", AxisPairs(2), ((0, 0), (0, 0)), _CROP_DOC.format(n=2)), DATA_FORMAT),
    3: (Param("cropping", AxisPairs(3), ((1, 1),) * 3, _CROP_DOC.format(n=3)), DATA_FORMAT),
}

for _rank in (1, 2, 3):
    _name = f"Cropping{_rank}D"
    LAYER_TYPES.append(
        LayerType(
            _name,
            _CROPPING_PARAMS[_rank],
            partial(_cropping_output, layer=_name, rank=_rank),
            f"Crops the {SPATIAL_AXES[_rank]}.",
            category="reshaping",
        )
    )
