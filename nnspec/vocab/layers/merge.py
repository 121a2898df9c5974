"""Merge layers: Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum and Dot.

Each takes a list of inputs; the shape rule receives the list of shapes.
"""

from __future__ import annotations

from nnspec.syntax import ir
from nnspec.vocab.argtypes import ArgError, ArgType, Bool, Int
from nnspec.vocab.layers.registry import LayerType, ShapeError, bad_arg, show
from nnspec.vocab.params import Param

LAYER_TYPES: list[LayerType] = []  # this module's layers, in the order of the docs


def _all(shapes) -> str:
    return ", ".join(show(s) for s in shapes)


def _batch(name: str, shapes) -> int | None:
    """The common batch size of the inputs (None when unknown)."""
    sizes = {s[0] for s in shapes if s} - {None}
    if len(sizes) > 1:
        raise ShapeError(
            f"{name} expects inputs with the same batch size, received {_all(shapes)}", "E302"
        )
    return sizes.pop() if sizes else None


# ---- element-wise merges --------------------------------------------------------


def _broadcast(name: str, a: tuple, b: tuple, shapes) -> tuple:
    """Keras's Merge rule for two shapes without batch axis: aligned from the last
    axis, sizes equal or 1; an unknown size on either side gives an unknown size."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return a
    out = list(a[: len(a) - len(b)])
    for i, j in zip(a[len(a) - len(b) :], b):
        if i is None or j is None:
            out.append(None)
        elif i == 1:
            out.append(j)
        elif j == 1 or i == j:
            out.append(i)
        else:
            raise ShapeError(
                f"{name} expects inputs of the same shape (or sizes of 1 that broadcast, "
                f"aligned from the last axis), received {_all(shapes)}: "
                f"{show((None, *a))} and {show((None, *b))} differ ({i} against {j})",
                "E302",
                ("make the shapes agree, e.g. with a Dense or Reshape layer before merging",),
            )
    return tuple(out)


def _elementwise(name: str, exactly: int | None = None):
    def output(cfg, shapes):
        if exactly is not None and len(shapes) != exactly:
            raise ShapeError(
                f"{name} expects exactly {exactly} inputs, received {len(shapes)}: {_all(shapes)}",
                "E206",
            )
        batch = _batch(name, shapes)
        out = tuple(shapes[0][1:])
        for shape in shapes[1:]:
            out = _broadcast(name, out, tuple(shape[1:]), shapes)
        return (batch, *out)

    return output


_ELEMENTWISE = {
    "Add": "Adds its inputs element-wise.",
    "Multiply": "Multiplies its inputs element-wise.",
    "Average": "Averages its inputs element-wise.",
    "Maximum": "Element-wise maximum of its inputs.",
    "Minimum": "Element-wise minimum of its inputs.",
}

for _name, _doc in _ELEMENTWISE.items():
    LAYER_TYPES.append(
        LayerType(
            _name,
            (),
            _elementwise(_name),
            _doc,
            min_inputs=1,
            max_inputs=None,
            category="merge",
        )
    )

LAYER_TYPES.append(
    LayerType(
        "Subtract",
        (),
        _elementwise("Subtract", exactly=2),
        "Subtracts its second input from its first, element-wise.",
        min_inputs=2,
        max_inputs=2,
        category="merge",
    )
)

# ---- Concatenate -------------------------------------------------------------------


def _concatenate_output(cfg, shapes):
    axis = cfg.axis
    rank = len(shapes[0])
    mismatch = (
        f"Concatenate(axis={axis}) expects inputs of the same rank with equal sizes on every "
        f"axis but the concatenation axis, received {_all(shapes)}"
    )
    if any(len(s) != rank for s in shapes):
        raise ShapeError(mismatch, "E302")
    if not -rank <= axis < rank:
        raise ShapeError(
            f"Concatenate axis {axis} is outside inputs of rank {rank}: expected an axis "
            f"in [{-rank}, {rank - 1}], received {axis} for {_all(shapes)}"
        )
    pos = axis % rank
    for i in range(rank):
        if i == pos:
            continue
        sizes = {s[i] for s in shapes} - {None}
        if len(sizes) > 1:
            raise ShapeError(
                mismatch + f": axis {i} has sizes {', '.join(map(str, sorted(sizes)))}", "E302"
            )
    sizes = [s[pos] for s in shapes]
    out = list(shapes[0])
    out[pos] = None if None in sizes else sum(sizes)
    return tuple(out)


LAYER_TYPES.append(
    LayerType(
        "Concatenate",
        (Param("axis", Int(), -1, "axis along which the inputs are joined (the batch axis is 0)"),),
        _concatenate_output,
        "Joins its inputs along one axis; all other sizes must match.",
        min_inputs=1,
        max_inputs=None,
        category="merge",
    )
)

# ---- Dot ---------------------------------------------------------------------------


class DotAxes(ArgType):
    """An axis, or a pair of axes (one per input)."""

    describe = "an integer or a pair of integers"

    def convert(self, value):
        if isinstance(value, ir.Seq):
            if len(value.items) != 2:
                raise ArgError(
                    f"expected a pair of axes (one per input), found {len(value.items)} items",
                    "E106",
                )
            return tuple(Int().convert(v) for v in value.items)
        return Int().convert(value)


def _dot_axes(cfg, a, b) -> tuple[int, int]:
    axes = cfg.axes if isinstance(cfg.axes, tuple) else (cfg.axes, cfg.axes)
    out = []
    for axis, shape in zip(axes, (a, b)):
        if not -len(shape) <= axis < len(shape):
            raise ShapeError(
                f"Dot axis {axis} is outside input {show(shape)}: expected an axis in "
                f"[{-len(shape)}, {len(shape) - 1}], received {axis}"
            )
        if axis % len(shape) == 0:
            raise bad_arg(
                f"Dot `axes` {cfg.axes} names the batch axis of {show(shape)}; "
                "Keras builds it but fails when run"
            )
        out.append(axis % len(shape))
    return out[0], out[1]


def _dot_output(cfg, shapes):
    if len(shapes) != 2:
        raise ShapeError(
            f"Dot expects exactly 2 inputs, received {len(shapes)}: {_all(shapes)}", "E206"
        )
    a, b = shapes
    i, j = _dot_axes(cfg, a, b)
    if a[i] != b[j]:
        raise ShapeError(
            f"Dot expects equal sizes on the contracted axes, received {show(a)} (axis {i}: "
            f"{a[i]}) and {show(b)} (axis {j}: {b[j]})"
            + (" (Keras needs both sizes known)" if None in (a[i], b[j]) else ""),
            "E302",
        )
    out = a[:i] + a[i + 1 :] + (b[1:j] + b[j + 1 :])
    return out + (1,) if len(out) == 1 else out


LAYER_TYPES.append(
    LayerType(
        "Dot",
        (
            Param("axes", DotAxes(), doc="axis to contract, or one axis per input (batch is 0)"),
            Param("normalize", Bool(), False, "L2-normalise both inputs first (cosine similarity)"),
        ),
        _dot_output,
        "Dot product of two inputs along the given axes, per sample.",
        min_inputs=2,
        max_inputs=2,
        category="merge",
    )
)
