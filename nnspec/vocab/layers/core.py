"""Core layers: Dense, activations, dropout and noise, Flatten, Reshape,
Permute, RepeatVector, Rescaling and Embedding."""

from __future__ import annotations

from nnspec.vocab.argtypes import Bool, Float, Int, Optional, TupleOf
from nnspec.vocab.layers.registry import (
    ACTIVATION,
    CONSTRAINT,
    DATA_FORMAT,
    INITIALIZER,
    REGULARIZER,
    LayerType,
    ShapeError,
    Weights,
    bad_arg,
    check_initializer,
    identity,
    kernel_params,
    known,
    need_rank,
    prod,
    show,
)
from nnspec.vocab.params import Param

LAYER_TYPES: list[LayerType] = []  # this module's layers, in the order of the docs

# ---- Dense -----------------------------------------------------------------


def _dense_output(cfg, x):
    need_rank(x, "Dense", min_rank=2)
    known(x[-1], "last dimension", "Dense", x)
    return x[:-1] + (cfg.units,)


def _dense_weights(cfg, x):
    return Weights(x[-1] * cfg.units + (cfg.units if cfg.use_bias else 0))


def _dense_lint(cfg, x):
    if len(x) > 3:
        return [
            (
                "W301",
                f"Dense acts on the last axis only: input {show(x)} keeps its "
                f"{len(x) - 2} middle axes; add Flatten() before it if you meant a "
                "fully connected layer",
            )
        ]
    return []


LAYER_TYPES.append(
    LayerType(
        "Dense",
        (Param("units", Int(1), doc="number of output units"), *kernel_params(rank=2)),
        _dense_output,
        "Fully connected layer: `activation(x @ kernel + bias)` on the last axis.",
        weights=_dense_weights,
        lint=_dense_lint,
    )
)

# ---- activations -----------------------------------------------------------

LAYER_TYPES.append(
    LayerType(
        "Activation",
        (Param("activation", ACTIVATION.inner, doc="the activation function"),),
        identity,
        "Applies an activation function.",
        category="activation",
    )
)
LAYER_TYPES.append(
    LayerType(
        "Softmax",
        (Param("axis", Int(), -1, "axis along which the softmax is normalised"),),
        identity,
        "Softmax activation layer.",
        category="activation",
        activation="softmax",
    )
)
LAYER_TYPES.append(
    LayerType(
        "ReLU",
        (
            Param("max_value", Optional(Float(0.0)), None, "saturation threshold"),
            Param("negative_slope", Float(0.0), 0.0, "slope below the threshold"),
            Param("threshold", Float(0.0), 0.0, "values below it are set to zero (or scaled)"),
        ),
        identity,
        "Rectified linear unit layer.",
        category="activation",
    )
)
LAYER_TYPES.append(
    LayerType(
        "LeakyReLU",
        (Param("negative_slope", Float(0.0), 0.3, "slope for negative inputs"),),
        identity,
        "Leaky rectified linear unit layer.",
        category="activation",
    )
)
LAYER_TYPES.append(
    LayerType(
        "ELU",
        (Param("alpha", Float(), 1.0, "scale for the negative part"),),
        identity,
        "Exponential linear unit layer.",
        category="activation",
    )
)


def _prelu_weights(cfg, x):
    check_initializer(cfg.alpha_initializer, len(x) - 1, f"`alpha_initializer` on {show(x)}: ")
    shape = list(x[1:])
    for axis in cfg.shared_axes or ():
        if not 1 <= axis <= len(shape):
            raise ShapeError(f"PReLU shared axis {axis} is outside input {show(x)}")
        shape[axis - 1] = 1
    if any(d is None for d in shape):
        raise ShapeError(
            f"PReLU needs known sizes on unshared axes, received {show(x)}",
            hints=("share the unknown axes with `shared_axes=(...)`",),
        )
    return Weights(prod(shape))


LAYER_TYPES.append(
    LayerType(
        "PReLU",
        (
            Param("alpha_initializer", INITIALIZER, "zeros", "initializer of the slopes"),
            Param("alpha_regularizer", REGULARIZER, None, "penalty on the slopes"),
            Param("alpha_constraint", CONSTRAINT, None, "constraint on the slopes"),
            Param("shared_axes", Optional(TupleOf(Int(1))), None, "axes sharing one slope"),
        ),
        identity,
        "Parametric ReLU: a learned slope for negative inputs.",
        weights=_prelu_weights,
        category="activation",
    )
)

# ---- regularisation ----------------------------------------------------------

_RATE = Param("rate", Float(0.0, 1.0), doc="fraction of inputs to drop")
_SEED = Param("seed", Optional(Int()), None, "random seed", positional=False)

LAYER_TYPES.append(
    LayerType(
        "Dropout",
        (
            _RATE,
            Param(
                "noise_shape",
                Optional(TupleOf(Optional(Int(1)))),
                None,
                "shape of the dropout mask",
            ),
            _SEED,
        ),
        identity,
        "Randomly sets input units to 0 during training.",
        category="regularization",
    )
)


def _spatial_dropout(rank: int, name: str):
    def output(cfg, x):
        need_rank(x, name, rank)
        return x

    return output


LAYER_TYPES.append(
    LayerType(
        "SpatialDropout1D",
        (_RATE, _SEED),
        _spatial_dropout(3, "SpatialDropout1D"),
        "Drops whole 1D feature maps.",
        category="regularization",
        common=("dtype",),
    )
)
LAYER_TYPES.append(
    LayerType(
        "SpatialDropout2D",
        (_RATE, DATA_FORMAT, _SEED),
        _spatial_dropout(4, "SpatialDropout2D"),
        "Drops whole 2D feature maps.",
        category="regularization",
        common=("dtype",),
    )
)
LAYER_TYPES.append(
    LayerType(
        "GaussianNoise",
        (Param("stddev", Float(0.0, 1.0), doc="standard deviation of the noise"), _SEED),
        identity,
        "Adds zero-centred Gaussian noise during training.",
        category="regularization",
    )
)

# ---- reshaping ---------------------------------------------------------------


def _flatten_output(cfg, x):
    rest = x[1:]
    if cfg.data_format == "channels_first" and len(x) > 2:
        rest = x[2:] + x[1:2]
    return (x[0], 1 if not rest else prod(rest))


LAYER_TYPES.append(
    LayerType(
        "Flatten",
        (DATA_FORMAT,),
        _flatten_output,
        "Flattens all axes but the batch axis.",
        category="reshaping",
    )
)


def _reshape_output(cfg, x):
    target = cfg.target_shape
    if sum(d == -1 for d in target) > 1:
        raise bad_arg("Reshape allows at most one -1 in `target_shape`")
    if any(d == 0 or (d is not None and d < -1) for d in target):
        raise bad_arg(f"Reshape sizes must be positive or -1, found {target}")
    size = prod(x[1:])
    if -1 in target:
        rest = prod(d for d in target if d != -1)
        if size is None:
            return (x[0], *(None if d == -1 else d for d in target))
        if size % rest:
            raise ShapeError(
                f"cannot reshape {show(x)} ({size} values) into {show(target)}: "
                f"{size} is not a multiple of {rest}",
                "E303",
            )
        return (x[0], *(size // rest if d == -1 else d for d in target))
    if size is not None and size != prod(target):
        raise ShapeError(
            f"cannot reshape {show(x)} ({size} values) into {show(target)} ({prod(target)} values)",
            "E303",
            ("use -1 for the axis whose size should be inferred",),
        )
    return (x[0], *target)


LAYER_TYPES.append(
    LayerType(
        "Reshape",
        (
            Param(
                "target_shape",
                TupleOf(Int(), min_len=1),
                doc="shape without the batch axis; one -1 is inferred",
            ),
        ),
        _reshape_output,
        "Reshapes the input to `target_shape` (batch axis kept).",
        category="reshaping",
    )
)


def _permute_output(cfg, x):
    dims = cfg.dims
    if sorted(dims) != list(range(1, len(x))):
        raise ShapeError(
            f"Permute dims {dims} must be a permutation of 1..{len(x) - 1} for input {show(x)}"
        )
    return (x[0], *(x[d] for d in dims))


LAYER_TYPES.append(
    LayerType(
        "Permute",
        (
            Param(
                "dims", TupleOf(Int(1), min_len=1), doc="permutation of the non-batch axes, from 1"
            ),
        ),
        _permute_output,
        "Permutes the non-batch axes.",
        category="reshaping",
    )
)


def _repeat_output(cfg, x):
    need_rank(x, "RepeatVector", 2)
    return (x[0], cfg.n, x[1])


LAYER_TYPES.append(
    LayerType(
        "RepeatVector",
        (Param("n", Int(1), doc="number of repetitions"),),
        _repeat_output,
        "Repeats a (batch, features) input n times: (batch, n, features).",
        category="reshaping",
    )
)
LAYER_TYPES.append(
    LayerType(
        "Rescaling",
        (
            Param("scale", Float(), doc="multiplier"),
            Param("offset", Float(), 0.0, "added after scaling"),
        ),
        identity,
        "Multiplies inputs by `scale` and adds `offset`.",
        category="preprocessing",
    )
)

# ---- Embedding ---------------------------------------------------------------


def _embedding_output(cfg, x):
    return x + (cfg.output_dim,)


LAYER_TYPES.append(
    LayerType(
        "Embedding",
        (
            Param("input_dim", Int(1), doc="vocabulary size: largest index + 1"),
            Param("output_dim", Int(1), doc="size of each embedding vector"),
            Param("embeddings_initializer", INITIALIZER, "uniform", "initializer of the table"),
            Param("embeddings_regularizer", REGULARIZER, None, "penalty on the table"),
            Param("embeddings_constraint", CONSTRAINT, None, "constraint on the table"),
            Param("mask_zero", Bool(), False, "treat index 0 as padding"),
        ),
        _embedding_output,
        "Maps integer indices to dense vectors.",
        weights=lambda cfg, x: Weights(cfg.input_dim * cfg.output_dim),
        category="embedding",
    )
)
