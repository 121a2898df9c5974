"""Attention layers: Attention (dot-product, Luong-style) and MultiHeadAttention.

Both take `[query, value]` or `[query, value, key]` (key defaults to value).
"""

from __future__ import annotations

from nnspec.vocab.argtypes import AnyOf, Bool, Choice, Float, Int, Optional, TupleOf
from nnspec.vocab.layers.registry import (
    CONSTRAINT,
    INITIALIZER,
    KERNEL_INITIALIZER,
    REGULARIZER,
    LayerType,
    ShapeError,
    Weights,
    bad_arg,
    check_initializer,
    known,
    prod,
    show,
)
from nnspec.vocab.params import Param

LAYER_TYPES: list[LayerType] = []  # this module's layers, in the order of the docs

_SEED = Param("seed", Optional(Int()), None, "random seed of the dropout")


def _qvk(shapes, layer: str):
    if not 2 <= len(shapes) <= 3:
        raise ShapeError(
            f"{layer} expects inputs [query, value] or [query, value, key], received "
            f"{len(shapes)} input{'s' if len(shapes) != 1 else ''}: {show(list(shapes))}",
            "E206",
        )
    query, value = shapes[0], shapes[1]
    key = shapes[2] if len(shapes) > 2 else value
    return query, value, key


def _names(shapes) -> str:
    labels = ("query", "value", "key")
    return ", ".join(f"{label} {show(s)}" for label, s in zip(labels, shapes))


def _same(a, b) -> bool:
    return a is None or b is None or a == b


# ---- Attention ---------------------------------------------------------------------


def _attention_output(cfg, shapes):
    query, value, key = _qvk(shapes, "Attention")
    ranks = {len(query), len(value), len(key)}
    if len(ranks) != 1 or min(ranks) < 2:
        raise ShapeError(
            "Attention expects query, value and key of the same rank, e.g. "
            f"(batch, Tq, dim), (batch, Tv, dim), received {_names(shapes)}",
            "E302",
        )
    q_dim, k_dim = query[-1], key[-1]
    fits = _same(q_dim, k_dim) or (cfg.score_mode == "concat" and 1 in (q_dim, k_dim))
    if not fits:
        raise ShapeError(
            f"Attention ({cfg.score_mode} scores) expects query and key with the same last "
            f"dimension, received {_names(shapes)} (Keras builds it but fails when run)",
            "E302",
        )
    if len(query) > 2 and not _same(value[-2], key[-2]):
        raise ShapeError(
            "Attention expects value and key with the same number of steps (axis -2), "
            f"received {_names(shapes)} (Keras builds it but fails when run)",
            "E302",
        )
    for axis in range(len(query) - 2):
        if not (_same(query[axis], key[axis]) and _same(value[axis], key[axis])):
            raise ShapeError(
                f"Attention expects query, value and key with the same sizes on axis {axis}, "
                f"received {_names(shapes)}",
                "E302",
            )
    return (*query[:-1], value[-1])


def _attention_weights(cfg, shapes):
    return Weights(int(cfg.use_scale) + int(cfg.score_mode == "concat"))


LAYER_TYPES.append(
    LayerType(
        "Attention",
        (
            Param("use_scale", Bool(), False, "learn a scalar that scales the scores"),
            Param(
                "score_mode",
                Choice(("dot", "concat")),
                "dot",
                "`dot`: query-key dot product; `concat`: sum of tanh(query + key)",
            ),
            Param(
                "dropout",
                Float(0.0, 1.0),
                0.0,
                "fraction of the attention scores dropped",
            ),
            _SEED,
        ),
        _attention_output,
        "Dot-product attention over inputs [query, value] or [query, value, key].",
        weights=_attention_weights,
        min_inputs=2,
        max_inputs=3,
        category="attention",
    )
)

# ---- MultiHeadAttention -------------------------------------------------------------


def _mha_output_shape(cfg) -> tuple[int, ...] | None:
    shape = cfg.output_shape
    return (shape,) if isinstance(shape, int) else shape


def _mha_check(cfg, shapes):
    """Checks as Keras's build does, plus the ones Keras leaves to the first run."""
    query, value, key = _qvk(shapes, "MultiHeadAttention")
    if cfg.flash_attention and cfg.dropout > 0:
        raise bad_arg("MultiHeadAttention does not support dropout with `flash_attention=true`")
    if value[1:-1] != key[1:-1]:
        raise ShapeError(
            "MultiHeadAttention expects value and key with equal sizes on every axis but the "
            f"last (unknown sizes must be unknown in both), received {_names(shapes)}",
            "E302",
        )
    for role, shape in zip(("query", "value", "key"), (query, value, key)):
        known(shape[-1], f"{role} feature size (last dimension)", "MultiHeadAttention", shape)
    if len(query) != len(value) or len(query) < 3:
        raise ShapeError(
            "MultiHeadAttention expects query, value and key of the same rank, at least 3, "
            f"e.g. (batch, Tq, dim), (batch, Tv, dim), received {_names(shapes)}"
            " (Keras builds it but fails when run)",
            "E302",
        )
    if cfg.use_bias:  # query, key and value biases are (heads, dim); the output's as `out`
        out = _mha_output_shape(cfg) or (query[-1],)
        for rank in (2, len(out)):
            check_initializer(cfg.bias_initializer, rank, "`bias_initializer`: ")
    rank = len(value) + 1  # of the projected tensors: (batch, ..., heads, dim)
    axes = cfg.attention_axes
    if axes is None:
        return
    axes = (axes,) if isinstance(axes, int) else axes
    normal = [a if a >= 0 else (rank - 1) + a for a in axes]
    for a, n in zip(axes, normal):
        if not -rank <= n < rank:
            raise ShapeError(
                f"MultiHeadAttention attention axis {a} is outside inputs of rank {len(value)}: "
                f"received {_names(shapes)}"
            )
    if all(1 <= n <= len(value) - 2 for n in normal):
        for axis in range(1, len(value) - 1):
            if axis not in normal and not _same(query[axis], key[axis]):
                raise ShapeError(
                    f"MultiHeadAttention expects query and key with the same size on axis {axis}"
                    f" (not an attention axis), received {_names(shapes)}"
                    " (Keras builds it but fails when run)",
                    "E302",
                )


def _mha_output(cfg, shapes):
    _mha_check(cfg, shapes)
    query = shapes[0]
    out = _mha_output_shape(cfg)
    return query[:-1] + out if out else query


def _mha_weights(cfg, shapes):
    query, value, key = _qvk(shapes, "MultiHeadAttention")
    heads, k_dim = cfg.num_heads, cfg.key_dim
    v_dim = cfg.value_dim or cfg.key_dim
    bias = int(cfg.use_bias)

    def proj(n_in, dim):  # EinsumDense from n_in features to (heads, dim)
        return n_in * heads * dim + bias * heads * dim

    out = _mha_output_shape(cfg) or (query[-1],)
    total = proj(query[-1], k_dim) + proj(key[-1], k_dim) + proj(value[-1], v_dim)
    if cfg.use_gate:
        total += proj(query[-1], v_dim)
    total += heads * v_dim * prod(out) + bias * prod(out)
    return Weights(total)


_AXES = AnyOf((Int(), TupleOf(Int(), min_len=1)))
_SHAPE = AnyOf((Int(1), TupleOf(Int(1), min_len=1)))

LAYER_TYPES.append(
    LayerType(
        "MultiHeadAttention",
        (
            Param("num_heads", Int(1), doc="number of attention heads"),
            Param("key_dim", Int(1), doc="size of each head for query and key"),
            Param("value_dim", Optional(Int(1)), None, "size of each head for value (key_dim)"),
            Param(
                "dropout",
                Float(0.0, 1.0),
                0.0,
                "fraction of the attention scores dropped",
            ),
            Param("use_bias", Bool(), True, "whether the projections have biases"),
            Param(
                "output_shape",
                Optional(_SHAPE),
                None,
                "size(s) of the output's last axes; by default the query's last dimension",
            ),
            Param(
                "attention_axes",
                Optional(_AXES),
                None,
                "axes attention is applied over; by default all but batch, heads and features",
            ),
            Param(
                "sliding_window",
                Optional(Int(1)),
                None,
                "attend only to keys within this distance of the query",
            ),
            Param("flash_attention", Optional(Bool()), None, "use flash attention if available"),
            Param(
                "kernel_initializer",
                KERNEL_INITIALIZER,
                "glorot_uniform",
                "initializer of the kernels",
            ),
            Param("bias_initializer", INITIALIZER, "zeros", "initializer of the biases"),
            Param("kernel_regularizer", REGULARIZER, None, "penalty on the kernels"),
            Param("bias_regularizer", REGULARIZER, None, "penalty on the biases"),
            Param("activity_regularizer", REGULARIZER, None, "penalty on the output"),
            Param("kernel_constraint", CONSTRAINT, None, "constraint on the kernels"),
            Param("bias_constraint", CONSTRAINT, None, "constraint on the biases"),
            Param("use_gate", Bool(), False, "add a sigmoid gate computed from the query"),
            _SEED,
        ),
        _mha_output,
        "Multi-head attention over inputs [query, value] or [query, value, key].",
        weights=_mha_weights,
        min_inputs=2,
        max_inputs=3,
        category="attention",
        builds=("softmax", "dropout"),
    )
)
