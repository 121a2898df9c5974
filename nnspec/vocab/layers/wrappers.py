"""Wrappers: Bidirectional and TimeDistributed, which take a layer as argument."""

from __future__ import annotations

from nnspec.syntax import ir
from nnspec.vocab.argtypes import ArgType, Choice, Optional
from nnspec.vocab.layers.registry import (
    LayerArg,
    LayerCall,
    LayerType,
    ShapeError,
    Weights,
    bad_arg,
    need_rank,
    show,
)
from nnspec.vocab.params import Param

LAYER_TYPES: list[LayerType] = []  # this module's layers, in the order of the docs


def inner_weights(layer: LayerCall, x) -> Weights:
    """The weights of a wrapped layer; all non-trainable when it has `trainable=false`."""
    weights = layer.type.weights(layer.config, x)
    if not layer.config.get("trainable", True):
        return Weights(0, weights.total)
    return weights


def _as_list(shape) -> list:
    return list(shape) if isinstance(shape, list) else [shape]


# ---- Bidirectional -----------------------------------------------------------------

_RNN_FLAGS = ("go_backwards", "return_sequences", "return_state", "stateful")


class _NoneOnly(ArgType):
    """Keras's `weights` (initial weight arrays) cannot be written in a spec."""

    describe = "None (initial weight arrays cannot be given in a spec)"

    def convert(self, value):
        if isinstance(value, ir.Const) and value.value is None:
            return None
        self.fail(value)


def _directions(cfg) -> tuple[LayerCall, LayerCall]:
    """The forward and backward layers, checked as Keras's Bidirectional checks them."""
    forward = cfg.layer
    for role, layer in (("layer", forward), ("backward_layer", cfg.backward_layer)):
        if layer is None:
            continue
        names = {p.name for p in layer.type.params}
        if not all(flag in names for flag in _RNN_FLAGS):
            raise bad_arg(
                f"Bidirectional `{role}` must be a recurrent layer (SimpleRNN, LSTM, GRU...), "
                f"received {layer.type.name}"
            )
        if layer.type.multi_input:
            raise bad_arg(
                f"Bidirectional cannot wrap {layer.type.name}, which takes several inputs"
            )
    backward = cfg.backward_layer
    if backward is None:
        if forward.config.go_backwards:
            raise bad_arg(
                "Bidirectional builds its backward layer with `go_backwards=true`: "
                "the wrapped layer must have `go_backwards=false`"
            )
        return forward, forward
    fwd, bwd = forward.config, backward.config
    if fwd.go_backwards == bwd.go_backwards:
        raise bad_arg(
            "Bidirectional's layer and backward_layer need different `go_backwards`: "
            f"expected one of them true, received {fwd.go_backwards} for both",
        )
    for flag in ("stateful", "return_sequences", "return_state"):
        if fwd[flag] != bwd[flag]:
            raise bad_arg(
                f"Bidirectional's layer and backward_layer need the same `{flag}`: "
                f"received {fwd[flag]} for layer and {bwd[flag]} for backward_layer"
            )
    return forward, backward


def _bidirectional_output(cfg, x):
    forward, backward = _directions(cfg)
    out = forward.type.output(forward.config, x)
    if backward is not forward:
        back = backward.type.output(backward.config, x)
        if _as_list(back) != _as_list(out):
            raise ShapeError(
                f"Bidirectional's backward layer must give the same outputs as the forward "
                f"layer: expected {show(out)}, received {show(back)} "
                "(Keras builds it but reports the forward shapes, and fails when run)"
            )
    outs = _as_list(out)
    output, states = outs[0], outs[1:]
    if cfg.merge_mode == "concat":
        if output[-1] is not None:
            output = output[:-1] + (output[-1] * 2,)
        merged = [output]
    elif cfg.merge_mode is None:
        merged = [output, output]
    else:
        merged = [output]
    if not forward.config.return_state and len(merged) == 1:
        return merged[0]
    return merged + states + states


def _bidirectional_weights(cfg, x):
    forward, backward = _directions(cfg)
    return inner_weights(forward, x) + inner_weights(backward, x)


LAYER_TYPES.append(
    LayerType(
        "Bidirectional",
        (
            Param("layer", LayerArg(), doc="the recurrent layer run forwards, e.g. `LSTM(32)`"),
            Param(
                "merge_mode",
                Optional(Choice(("sum", "mul", "ave", "concat"))),
                "concat",
                "how the two directions are combined; None returns both as two outputs",
            ),
            Param("weights", _NoneOnly(), None, "initial weight arrays (not supported in a spec)"),
            Param(
                "backward_layer",
                Optional(LayerArg()),
                None,
                "the layer run backwards (with `go_backwards=true`); by default a copy of `layer`",
            ),
        ),
        _bidirectional_output,
        "Runs a recurrent layer forwards and backwards and merges the two outputs.",
        weights=_bidirectional_weights,
        category="wrapper",
    )
)

# ---- TimeDistributed ---------------------------------------------------------------


def _child_shape(cfg, x):
    need_rank(x, "TimeDistributed", min_rank=3)
    if cfg.layer.type.multi_input:
        raise bad_arg(
            f"TimeDistributed cannot wrap {cfg.layer.type.name}, which takes several inputs"
        )
    return (x[0], *x[2:])


def _time_distributed_output(cfg, x):
    inner = cfg.layer
    child = _child_shape(cfg, x)
    try:
        out = inner.type.output(inner.config, child)
    except ShapeError as err:
        raise ShapeError(
            f"TimeDistributed applies {inner.type.name} to each time step of {show(x)}, "
            f"of shape {show(child)}: {err.message}",
            err.code,
            err.hints,
        ) from None
    if isinstance(out, list):
        raise ShapeError(
            f"TimeDistributed needs a layer with one output: {inner.type.name} "
            f"gives {len(out)} outputs {show(out)}"
        )
    return (out[0], x[1], *out[1:])


def _time_distributed_weights(cfg, x):
    return inner_weights(cfg.layer, _child_shape(cfg, x))


LAYER_TYPES.append(
    LayerType(
        "TimeDistributed",
        (Param("layer", LayerArg(), doc="the layer applied to every time step, e.g. `Dense(8)`"),),
        _time_distributed_output,
        "Applies a layer to every time step (axis 1) of the input, with shared weights.",
        weights=_time_distributed_weights,
        category="wrapper",
    )
)
