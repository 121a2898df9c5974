"""Layer type -> emitter: how the Keras back ends write each layer.

One table, read by code generation (`plan.py`) and the Keras builder
(`builder.py`): the constructor call (`layers.Dense(10, activation="softmax")`)
and how the layer takes its input tensors. Most types share the generic
emitter; a wrapper writes its inner layers through their own entries. What the
table cannot write is not dropped or guessed: `Problems.unsupported` records a
diagnostic, and `Problems.check` raises them all at once as a `GenError`.
Never imports Keras.
"""

from __future__ import annotations

from collections.abc import Callable

from msgspec import Struct

from nnspec.diagnostics.records import Diagnostic, Span
from nnspec.errors import NnspecError
from nnspec.keras.calls import PyCall, call
from nnspec.vocab.layers.registry import LayerCall
from nnspec.vocab.params import Config

# How a layer takes its input tensors.
ONE = "one"  # layer(x)
LIST = "list"  # layer([a, b]): merge layers, Attention
SPREAD = "spread"  # layer(a, b): MultiHeadAttention's query, value (and key)


class GenError(NnspecError):
    """The spec cannot be written as asked (e.g. `--api sequential` on a graph);
    `diagnostics` holds every problem found, each pointing into the spec."""

    def __init__(self, *diagnostics: Diagnostic):
        hints = dict.fromkeys(h for d in diagnostics for h in d.hints)
        super().__init__("\n".join(d.message for d in diagnostics), hints)
        self.diagnostics = list(diagnostics)
        if any(d.code == "E900" for d in diagnostics):
            self.exit_status = 3  # a layer type the back end lacks is nnspec's bug


class Problems:
    """What the target cannot express, collected as diagnostics (not raised at the first)."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def unsupported(self, code: str, message: str, span: Span, hints: tuple[str, ...] = ()) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, hints))

    def check(self) -> None:
        """Raise GenError with every problem collected, if there is one."""
        if self.diagnostics:
            raise GenError(*self.diagnostics)


class Emitter(Struct, frozen=True):
    """`construct(layer, problems)`: the constructor call, None after recording a problem."""

    construct: Callable[[LayerCall, Problems], PyCall | None]
    takes: str = ONE

    def apply(self, layer, tensors: list):
        """`layer` called on its input tensors the way its Keras class expects."""
        if self.takes == SPREAD:
            return layer(*tensors)
        return layer(tensors if self.takes == LIST else tensors[0])


def generic(layer: LayerCall, problems: Problems) -> PyCall:
    """`layers.<Type>(...)` with the arguments the user wrote."""
    return call(f"layers.{layer.type.name}", layer.type.params, layer.config)


def wrapper(layer: LayerCall, problems: Problems) -> PyCall | None:
    """A wrapper (`Bidirectional(LSTM(8))`): its inner layers through their own emitters."""
    inner = {
        k: emit(v, problems, v.call.span)
        for k, v in layer.config.items()
        if isinstance(v, LayerCall)
    }
    if None in inner.values():
        return None
    config = Config({**layer.config, **inner}, layer.config.explicit)
    return call(f"layers.{layer.type.name}", layer.type.params, config)


# fmt: off
_ONE_INPUT = (
    "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D",
    "Dense", "Activation", "Softmax", "ReLU", "LeakyReLU", "ELU", "PReLU",
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise",
    "Flatten", "Reshape", "Permute", "RepeatVector", "Rescaling", "Embedding",
    "BatchNormalization", "LayerNormalization",
    "MaxPooling1D", "MaxPooling2D", "MaxPooling3D",
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
    "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
    "SimpleRNN", "LSTM", "GRU",
    "UpSampling1D", "UpSampling2D", "UpSampling3D",
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
    "Cropping1D", "Cropping2D", "Cropping3D",
)
_LIST_INPUT = (
    "Attention", "Add", "Multiply", "Average", "Maximum", "Minimum", "Subtract", "Concatenate",
    "Dot",
)
# fmt: on

# Every registered layer type (by its Keras name) -> its emitter; a test keeps
# this table and the registry in step.
EMITTERS: dict[str, Emitter] = {
    **dict.fromkeys(_ONE_INPUT, Emitter(generic)),
    **dict.fromkeys(_LIST_INPUT, Emitter(generic, LIST)),
    "MultiHeadAttention": Emitter(generic, SPREAD),
    "Bidirectional": Emitter(wrapper),
    "TimeDistributed": Emitter(wrapper),
}


def emit(layer: LayerCall, problems: Problems, span: Span, name: str | None = None):
    """`layer`'s constructor call (with `name=` when given); None, after recording a
    problem at `span`, for a layer the table cannot write."""
    found = EMITTERS.get(layer.type.name)
    if found is None:  # a bug: a test keeps every registered type in the table
        problems.unsupported(
            "E900",
            f"internal error: the Keras back end has no emitter for layer type {layer.type.name}",
            span,
            ("please report this with the spec that caused it",),
        )
        return None
    made = found.construct(layer, problems)
    if made is None or name is None:
        return made
    return PyCall(made.func, made.args, (*made.kwargs, ("name", name)))
