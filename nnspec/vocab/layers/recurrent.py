"""Recurrent layers: SimpleRNN, LSTM and GRU.

With `return_state=True` a recurrent layer has several outputs: the output
(the last step, or every step with `return_sequences=True`) followed by the
final states, one `(batch, units)` tensor each (h for SimpleRNN and GRU,
h and c for LSTM).
"""

from __future__ import annotations

from collections.abc import Callable

from nnspec.syntax import ir
from nnspec.vocab.argtypes import ArgError, ArgType, Bool, Float, Int, Optional
from nnspec.vocab.layers.registry import (
    ACTIVATION,
    CONSTRAINT,
    INITIALIZER,
    REGULARIZER,
    VECTOR_INITIALIZER,
    LayerType,
    ShapeError,
    Weights,
    known,
    need_rank,
    show,
)
from nnspec.vocab.params import Config, Param

LAYER_TYPES: list[LayerType] = []  # this module's layers, in the order of the docs

_SEED = Param("seed", Optional(Int()), None, "random seed of the dropout masks")


def _cell_params(gates: bool) -> tuple[Param, ...]:
    """units, activations, bias and the kernel/recurrent/bias initializer family."""
    recurrent_activation = (
        (
            Param(
                "recurrent_activation",
                ACTIVATION,
                "sigmoid",
                "activation of the gates",
            ),
        )
        if gates
        else ()
    )
    return (
        Param("units", Int(1), doc="size of the output and of each state"),
        Param("activation", ACTIVATION, "tanh", "activation of the candidate state and output"),
        *recurrent_activation,
        Param("use_bias", Bool(), True, "whether to add bias vectors"),
        Param(
            "kernel_initializer", INITIALIZER, "glorot_uniform", "initializer of the input kernel"
        ),
        Param(
            "recurrent_initializer",
            INITIALIZER,
            "orthogonal",
            "initializer of the recurrent kernel",
        ),
        Param("bias_initializer", VECTOR_INITIALIZER, "zeros", "initializer of the bias"),
    )


def _penalty_params() -> tuple[Param, ...]:
    return (
        Param("kernel_regularizer", REGULARIZER, None, "penalty on the input kernel"),
        Param("recurrent_regularizer", REGULARIZER, None, "penalty on the recurrent kernel"),
        Param("bias_regularizer", REGULARIZER, None, "penalty on the bias"),
        Param("activity_regularizer", REGULARIZER, None, "penalty on the output"),
        Param("kernel_constraint", CONSTRAINT, None, "constraint on the input kernel"),
        Param("recurrent_constraint", CONSTRAINT, None, "constraint on the recurrent kernel"),
        Param("bias_constraint", CONSTRAINT, None, "constraint on the bias"),
        Param(
            "dropout",
            Float(0.0, 1.0),
            0.0,
            "fraction of the input units dropped at each step",
        ),
        Param(
            "recurrent_dropout",
            Float(0.0, 1.0),
            0.0,
            "fraction of the recurrent units dropped at each step",
        ),
    )


def _sequence_params() -> tuple[Param, ...]:
    return (
        Param("return_sequences", Bool(), False, "return the output of every step, not the last"),
        Param("return_state", Bool(), False, "also return the final states as extra outputs"),
        Param("go_backwards", Bool(), False, "process the sequence in reverse"),
        Param(
            "stateful", Bool(), False, "keep the states between batches (needs a fixed batch size)"
        ),
        Param("unroll", Bool(), False, "unroll the loop (needs a known number of steps)"),
    )


class CudnnFlag(ArgType):
    """`auto`, true or false: Keras's `use_cudnn`."""

    describe = "`auto`, true or false"

    def convert(self, value):
        if isinstance(value, ir.Const) and isinstance(value.value, bool):
            return value.value
        word = value.name if isinstance(value, ir.Ident) else getattr(value, "value", None)
        if word == "auto":
            return word
        if isinstance(word, str):
            raise ArgError(f"expected {self.describe}, found `{word}`", "E106")
        self.fail(value)


_USE_CUDNN = Param("use_cudnn", CudnnFlag(), "auto", "use the cuDNN kernel: `auto`, true or false")


def rnn_output(name: str, states: int):
    """The shape rule of a recurrent layer with `states` state tensors."""

    def output(cfg, x):
        need_rank(x, name, 3)
        known(x[-1], "feature size (last dimension)", name, x)
        if cfg.stateful and x[0] is None:
            raise ShapeError(
                f"{name} with `stateful=true` needs a fixed batch size, received {show(x)}",
                hints=("Keras creates the state variables with the batch size",),
            )
        if cfg.unroll and x[1] is None:
            raise ShapeError(
                f"{name} with `unroll=true` needs a known number of steps, received {show(x)} "
                "(Keras builds it but fails when run)"
            )
        out = (x[0], x[1], cfg.units) if cfg.return_sequences else (x[0], cfg.units)
        if cfg.return_state:
            return [out] + [(x[0], cfg.units)] * states
        return out

    return output


def rnn_weights(gates: int, bias: Callable[[Config], int]):
    def weights(cfg, x):
        u, n = cfg.units, x[-1]
        return Weights(gates * (n * u + u * u) + (bias(cfg) if cfg.use_bias else 0))

    return weights


LAYER_TYPES.append(
    LayerType(
        "SimpleRNN",
        (
            *_cell_params(gates=False),
            *_penalty_params(),
            *_sequence_params(),
            _SEED,
        ),
        rnn_output("SimpleRNN", 1),
        "Fully connected recurrent layer: `h = activation(x @ W + h @ U + b)` at each step.",
        weights=rnn_weights(1, lambda cfg: cfg.units),
        category="recurrent",
    )
)

LAYER_TYPES.append(
    LayerType(
        "LSTM",
        (
            *_cell_params(gates=True),
            Param("unit_forget_bias", Bool(), True, "initialise the forget-gate bias to 1"),
            *_penalty_params(),
            _SEED,
            *_sequence_params(),
            _USE_CUDNN,
        ),
        rnn_output("LSTM", 2),
        "Long short-term memory layer; with `return_state` it also returns the states h and c.",
        weights=rnn_weights(4, lambda cfg: 4 * cfg.units),
        category="recurrent",
    )
)

LAYER_TYPES.append(
    LayerType(
        "GRU",
        (
            *_cell_params(gates=True),
            *_penalty_params(),
            _SEED,
            *_sequence_params(),
            Param(
                "reset_after",
                Bool(),
                True,
                "apply the reset gate after the matrix product (cuDNN-compatible, 2 biases)",
            ),
            _USE_CUDNN,
        ),
        rnn_output("GRU", 1),
        "Gated recurrent unit layer; with `return_state` it also returns the state h.",
        weights=rnn_weights(3, lambda cfg: (6 if cfg.reset_after else 3) * cfg.units),
        category="recurrent",
    )
)
