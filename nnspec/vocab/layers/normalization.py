"""Normalization layers: BatchNormalization and LayerNormalization."""

from __future__ import annotations

from nnspec.syntax import ir
from nnspec.vocab.argtypes import AnyOf, ArgError, ArgType, Bool, Float, Int, Optional, TupleOf
from nnspec.vocab.layers.registry import (
    CONSTRAINT,
    INITIALIZER,
    REGULARIZER,
    VECTOR_INITIALIZER,
    LayerType,
    ShapeError,
    Weights,
    bad_arg,
    check_initializer,
    prod,
    show,
)
from nnspec.vocab.params import Param

LAYER_TYPES: list[LayerType] = []  # this module's layers, in the order of the docs


def _axis_size(x, axis: int, layer: str) -> int:
    """The size of `x` on `axis` (Python indexing, batch axis is 0), which must be known."""
    if not -len(x) <= axis < len(x):
        raise ShapeError(
            f"{layer} axis {axis} is outside input {show(x)}: "
            f"expected an axis in [{-len(x)}, {len(x) - 1}], received {axis}"
        )
    size = x[axis]
    if size is None:
        raise ShapeError(
            f"{layer} needs a known size on axis {axis} (its weights have that size), "
            f"received {show(x)}",
            hints=("give that axis a fixed size in the input shape",),
        )
    return size


def _scale_params(initializer) -> tuple[Param, ...]:
    return (
        Param("center", Bool(), True, "whether to learn an offset `beta`"),
        Param("scale", Bool(), True, "whether to learn a scale `gamma`"),
        Param("beta_initializer", initializer, "zeros", "initializer of beta"),
        Param("gamma_initializer", initializer, "ones", "initializer of gamma"),
    )


def _penalties() -> tuple[Param, ...]:
    return (
        Param("beta_regularizer", REGULARIZER, None, "penalty on beta"),
        Param("gamma_regularizer", REGULARIZER, None, "penalty on gamma"),
        Param("beta_constraint", CONSTRAINT, None, "constraint on beta"),
        Param("gamma_constraint", CONSTRAINT, None, "constraint on gamma"),
    )


# ---- BatchNormalization -------------------------------------------------------


class RenormClipping(ArgType):
    """`{rmax: 3.0, rmin: 0.3, dmax: 5.0}`: clipping of the renorm correction."""

    describe = "a mapping with keys `rmax`, `rmin`, `dmax`"

    def convert(self, value):
        if not isinstance(value, ir.Mapping):
            self.fail(value)
        out = {}
        for entry in value.entries:
            if entry.key not in ("rmax", "rmin", "dmax"):
                raise ArgError(f"unknown key `{entry.key}`; expected {self.describe}", "E106")
            out[entry.key] = Float().convert(entry.value)
        if "rmax" in out and "rmin" in out and out["rmax"] < out["rmin"]:
            raise ArgError(
                f"`rmax` must be at least `rmin`, found rmax={out['rmax']}, rmin={out['rmin']}",
                "E106",
            )
        if out.get("dmax", 0.0) < 0:
            raise ArgError(f"`dmax` must be >= 0, found {out['dmax']}", "E106")
        return out


def _bn_output(cfg, x):
    _axis_size(x, cfg.axis, "BatchNormalization")
    return x


def _bn_weights(cfg, x):
    n = _axis_size(x, cfg.axis, "BatchNormalization")
    trainable = n * (int(cfg.scale) + int(cfg.center))
    # moving mean and variance; renorm adds moving stddev, renorm mean and renorm stddev
    return Weights(trainable, n * (5 if cfg.renorm else 2))


LAYER_TYPES.append(
    LayerType(
        "BatchNormalization",
        (
            Param("axis", Int(), -1, "the feature axis to normalise (the batch axis is 0)"),
            Param("momentum", Float(0.0, 1.0), 0.99, "momentum of the moving averages"),
            Param("epsilon", Float(0.0), 1e-3, "small constant added to the variance"),
            *_scale_params(VECTOR_INITIALIZER),
            Param(
                "moving_mean_initializer",
                VECTOR_INITIALIZER,
                "zeros",
                "initializer of the moving mean",
            ),
            Param(
                "moving_variance_initializer",
                VECTOR_INITIALIZER,
                "ones",
                "initializer of the moving variance",
            ),
            *_penalties(),
            Param("renorm", Bool(), False, "use batch renormalization (adds 3 state vectors)"),
            Param(
                "renorm_clipping",
                Optional(RenormClipping()),
                None,
                "clipping of the renorm correction: `{rmax: .., rmin: .., dmax: ..}`",
            ),
            Param("renorm_momentum", Float(0.0, 1.0), 0.99, "momentum of the renorm statistics"),
            Param(
                "synchronized",
                Bool(),
                False,
                "synchronise batch statistics across devices (TensorFlow only)",
            ),
        ),
        _bn_output,
        "Normalises each feature with batch statistics, tracking moving averages for inference.",
        weights=_bn_weights,
        category="normalization",
    )
)

# ---- LayerNormalization -------------------------------------------------------


def _ln_axes(cfg, x) -> list[int]:
    """The normalised axes, checked: inside the input, distinct, of known size."""
    axes = cfg.axis if isinstance(cfg.axis, tuple) else (cfg.axis,)
    sizes = [_axis_size(x, a, "LayerNormalization") for a in axes]
    seen: dict[int, int] = {}
    for a in axes:
        pos = a % len(x)
        if pos in seen:
            raise bad_arg(
                f"LayerNormalization `axis` {cfg.axis} names axis {pos} twice "
                f"(as {seen[pos]} and {a}) for input {show(x)}; Keras builds it but fails when run"
            )
        seen[pos] = a
    for name in ("beta_initializer", "gamma_initializer"):  # weights shaped like `sizes`
        check_initializer(cfg[name], len(sizes), f"`{name}`: ")
    return sizes


def _ln_output(cfg, x):
    _ln_axes(cfg, x)
    return x


def _ln_weights(cfg, x):
    n = prod(_ln_axes(cfg, x))
    gamma = cfg.scale or cfg.rms_scaling
    beta = cfg.center and not cfg.rms_scaling
    return Weights(n * (int(gamma) + int(beta)))


LAYER_TYPES.append(
    LayerType(
        "LayerNormalization",
        (
            Param(
                "axis",
                AnyOf((Int(), TupleOf(Int(), min_len=1))),
                -1,
                "axis or axes to normalise over (the batch axis is 0)",
            ),
            Param("epsilon", Float(0.0), 1e-3, "small constant added to the variance"),
            *_scale_params(INITIALIZER),
            *_penalties(),
            Param(
                "rms_scaling",
                Bool(),
                False,
                "deprecated in Keras: scale by the variance, no offset (gamma only)",
                positional=False,
            ),
        ),
        _ln_output,
        "Normalises each sample over the given axes (by default the last one).",
        weights=_ln_weights,
        category="normalization",
    )
)
