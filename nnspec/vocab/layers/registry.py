"""The one registry of layer types.

Each `LayerType` declares its Keras name and aliases, its arguments (in
Keras's positional order, with Keras's names and defaults), its output-shape
rule and its weight count. Parser, checker, summary, code generation, the
Keras builder, the docs and editor completion all read this table.

Shapes are tuples that include the batch dimension (`None`), as Keras's
`compute_output_shape` reports them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from itertools import chain

from msgspec import Struct, structs

from nnspec.diagnostics.records import Diagnostic
from nnspec.diagnostics.wording import closest
from nnspec.syntax import ir
from nnspec.vocab.argtypes import ArgError, ArgType, Bool, Choice, Named, Optional
from nnspec.vocab.catalog import ACTIVATIONS, CONSTRAINTS, INITIALIZERS, REGULARIZERS
from nnspec.vocab.naming import snake_case
from nnspec.vocab.params import Config, Param, bind

Shape = tuple  # of int | None, batch dimension first


class ShapeError(Exception):
    """The input shapes do not fit the layer: `expected X, received Y`."""

    def __init__(self, message: str, code: str = "E301", hints: tuple[str, ...] = ()):
        super().__init__(message)
        self.message, self.code, self.hints = message, code, hints


class Weights(Struct, frozen=True):
    trainable: int = 0
    non_trainable: int = 0

    def __add__(self, other: Weights) -> Weights:
        return Weights(self.trainable + other.trainable, self.non_trainable + other.non_trainable)

    @property
    def total(self) -> int:
        return self.trainable + self.non_trainable


NO_WEIGHTS = Weights()


def _no_weights(cfg: Config, inputs) -> Weights:
    return NO_WEIGHTS


class LayerType(Struct, frozen=True):
    """A Keras layer class as nnspec knows it.

    `output(cfg, x)` returns the output shape (a list of shapes for layers with
    several outputs); `x` is one shape, or a list of shapes when the layer takes
    several inputs (`min_inputs > 1` or `max_inputs != 1`). `weights(cfg, x)`
    counts parameters. `lint(cfg, x)` returns warnings as (code, message).
    """

    name: str
    params: tuple[Param, ...]
    output: Callable[[Config, object], Shape | list[Shape]]
    doc: str
    weights: Callable[[Config, object], Weights] = _no_weights
    aliases: tuple[str, ...] = ()
    min_inputs: int = 1
    max_inputs: int | None = 1
    lint: Callable[[Config, object], list[tuple[str, str]]] | None = None
    category: str = "core"
    activation: str | None = None  # what the layer always applies, e.g. Softmax's softmax
    common: tuple[str, ...] = ("trainable", "dtype")  # which COMMON arguments Keras takes
    builds: tuple[str, ...] = ()  # unnamed layers Keras makes inside it: their names are taken

    @property
    def multi_input(self) -> bool:
        return self.min_inputs > 1 or self.max_inputs != 1

    @property
    def snake_name(self) -> str:
        """The prefix of Keras's automatic names for the layer: `Conv2D` -> `conv2d`."""
        return snake_case(self.name)


# Every layer type by name and by alias. Filled once, by nnspec/vocab/layers/__init__.py
# from its explicit list of modules: Python runs that __init__ before any module of
# the package can be imported from outside it.
LAYERS: dict[str, LayerType] = {}

COMMON = (
    Param(
        "trainable", Bool(), True, "whether the weights are updated in training", positional=False
    ),
    Param(
        "dtype",
        Optional(
            Choice(("float16", "bfloat16", "float32", "float64", "mixed_float16", "mixed_bfloat16"))
        ),
        None,
        "dtype policy of the layer",
        positional=False,
    ),
)


def registry_of(*groups: Iterable[LayerType]) -> dict[str, LayerType]:
    """The layer types of `groups` by name and alias, in order, each with the
    arguments every layer takes."""
    table: dict[str, LayerType] = {}
    for layer in chain.from_iterable(groups):
        common = tuple(p for p in COMMON if p.name in layer.common)
        full = structs.replace(layer, params=layer.params + common)
        for key in (layer.name, *layer.aliases):
            if key in table:
                raise ValueError(f"layer {key} registered twice")
            table[key] = full
    return table


def layer_types() -> list[LayerType]:
    """Every registered layer type once, in registration order."""
    seen: dict[str, LayerType] = {}
    for layer in LAYERS.values():
        seen.setdefault(layer.name, layer)
    return list(seen.values())


# ---- argument types shared by many layers ----------------------------------------

ACTIVATION = Optional(Named("activation", lambda: ACTIVATIONS))


def check_initializer(value, rank: int, what: str = "") -> None:
    """Raise unless the initializer (a name or a call) fits weights of `rank` dimensions:
    Keras's `identity` makes 2D matrices only, `orthogonal` needs 2 dimensions or more.
    `what` names the argument in the message."""
    name = value if isinstance(value, str) else value.name
    if (name == "identity" and rank != 2) or (name == "orthogonal" and rank < 2):
        needs = "2D weights" if name == "identity" else "weights of 2 or more dimensions"
        shape = {1: "a vector", 2: "2D"}.get(rank, f"{rank}D")
        raise ArgError(
            f"{what}`{name}` initializes {needs}, but these weights are {shape}",
            "E106",
            ("use e.g. `glorot_uniform`, `zeros` or `ones`",),
        )


class WeightInitializer(Named):
    """An initializer of weights with `rank` dimensions (3: three or more)."""

    rank: int = 2

    def convert(self, value):
        out = super().convert(value)
        check_initializer(out, self.rank)
        return out


class Regularizer(Named):
    """A regularizer name; `l1_l2` must be called: Keras has no string for it."""

    def convert(self, value):
        out = super().convert(value)
        if out == "l1_l2":
            raise ArgError(
                "`l1_l2` must be called with its factors: Keras cannot look it up by name",
                "E106",
                ("e.g. `l1_l2(l1=0.01, l2=0.01)`",),
            )
        return out


INITIALIZER = Named("initializer", lambda: INITIALIZERS)  # of 2D weights, or any rank
VECTOR_INITIALIZER = WeightInitializer("initializer", lambda: INITIALIZERS, rank=1)
KERNEL_INITIALIZER = WeightInitializer("initializer", lambda: INITIALIZERS, rank=3)
REGULARIZER = Optional(Regularizer("regularizer", lambda: REGULARIZERS))
CONSTRAINT = Optional(Named("constraint", lambda: CONSTRAINTS))
PADDING = Choice(("valid", "same"))


class DataFormat(ArgType):
    """`channels_last` (the default, also for None) or `channels_first`."""

    describe = "`channels_last` or `channels_first`"

    def convert(self, value):
        inner = Optional(Choice(("channels_last", "channels_first")))
        return inner.convert(value) or "channels_last"


DATA_FORMAT = Param("data_format", DataFormat(), "channels_last", "where the channel axis is")


def kernel_params(
    prefix: str = "kernel", activation: bool = True, rank: int = 3
) -> tuple[Param, ...]:
    """activation, use_bias and the initializer/regularizer/constraint family;
    `rank`: of the kernel (3: three or more)."""
    head = (
        (Param("activation", ACTIVATION, None, "activation applied to the output"),)
        if activation
        else ()
    )
    return head + (
        Param("use_bias", Bool(), True, "whether to add a bias vector"),
        Param(
            f"{prefix}_initializer",
            INITIALIZER if rank == 2 else KERNEL_INITIALIZER,
            "glorot_uniform",
            f"initializer of the {prefix} weights",
        ),
        Param("bias_initializer", VECTOR_INITIALIZER, "zeros", "initializer of the bias"),
        Param(f"{prefix}_regularizer", REGULARIZER, None, f"penalty on the {prefix} weights"),
        Param("bias_regularizer", REGULARIZER, None, "penalty on the bias"),
        Param("activity_regularizer", REGULARIZER, None, "penalty on the output"),
        Param(f"{prefix}_constraint", CONSTRAINT, None, f"constraint on the {prefix} weights"),
        Param("bias_constraint", CONSTRAINT, None, "constraint on the bias"),
    )


# ---- small shape helpers ----------------------------------------------------------


def show(shape: Shape) -> str:
    """A shape as Keras prints it: `(None, 28, 28, 1)`."""
    if isinstance(shape, list):
        return "[" + ", ".join(show(s) for s in shape) + "]"
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def need_rank(x: Shape, layer: str, rank: int | None = None, min_rank: int | None = None) -> None:
    """Raise unless `x` has the given rank (batch included)."""
    if rank is not None and len(x) != rank:
        raise ShapeError(
            f"{layer} expects an input of rank {rank} "
            f"({_rank_example(rank)}), received {show(x)} of rank {len(x)}"
        )
    if min_rank is not None and len(x) < min_rank:
        raise ShapeError(f"{layer} expects an input of rank {min_rank} or more, received {show(x)}")


def _rank_example(rank: int) -> str:
    return {
        2: "batch, features",
        3: "batch, steps, features",
        4: "batch, height, width, channels",
        5: "batch, depth, height, width, channels",
    }.get(rank, "batch included")


def known(dim: int | None, what: str, layer: str, x: Shape) -> int:
    if dim is None:
        raise ShapeError(f"{layer} needs a known {what}, received {show(x)}")
    return dim


def prod(dims) -> int | None:
    """Product of sizes, None if any is unknown."""
    dims = tuple(dims)
    return None if any(d is None for d in dims) else math.prod(dims)


def identity(cfg: Config, x: Shape) -> Shape:
    return x


def bad_arg(message: str) -> ArgError:
    return ArgError(message, "E106")


class LayerCall(Struct, frozen=True):
    """A layer given as an argument of another (Bidirectional's `layer`)."""

    type: LayerType
    config: Config
    call: ir.Call


class LayerArg(ArgType):
    """A layer call as an argument, e.g. `Bidirectional(LSTM(32))`."""

    describe = "a layer, e.g. `LSTM(32)`"

    def convert(self, value):
        if not isinstance(value, ir.Call):
            self.fail(value)
        return resolve_layer(value)


class LayerError(ArgError):
    """E101 for a misspelled layer type (`diagnostics`), with the layer it most
    likely is (`guess`: the closest registered type, where the arguments bind to
    it; else None): shape inference goes on past it in the same run."""

    def __init__(self, message: str, code: str, hints, diagnostics, guess: LayerCall | None):
        super().__init__(message, code, hints, diagnostics)
        self.guess = guess


def resolve_layer(call: ir.Call) -> LayerCall:
    """Look up and bind a layer call; errors raise ArgError with diagnostics."""
    layer = LAYERS.get(call.name)
    if layer is None:
        raise _misspelled(call)
    bound = bind(call, layer.params, f"layer {layer.name}")
    if not bound.ok:
        raise ArgError(
            f"invalid layer {layer.name}", bound.diagnostics[0].code, diagnostics=bound.diagnostics
        )
    return LayerCall(layer, bound.config, call)


def _misspelled(call: ir.Call) -> ArgError:
    """E101; a LayerError with a guess where the name is close to a registered layer."""
    error = unknown_layer(call.name)
    match = closest(call.name, LAYERS)
    if match is None or error.hints != (f"did you mean `{match}`?",):
        return error
    kind = LAYERS[match]
    bound = bind(call, kind.params, f"layer {kind.name}")
    hints = error.hints
    if bound.diagnostics:  # they say `layer Dense`: say why
        hints += (f"its arguments are checked as those of `{kind.name}`",)
    first = Diagnostic(error.code, error.message, call.name_span, hints)
    guess = LayerCall(kind, bound.config, call) if bound.ok else None
    return LayerError(error.message, error.code, hints, (first, *bound.diagnostics), guess)


def unknown_layer(name: str) -> ArgError:
    """E101 for a name not in the registry: a Keras layer nnspec does not support
    yet, or a typo (with the closest layer, supported or not)."""
    from nnspec.vocab.keras_layers import KERAS_LAYERS, unsupported_layer

    found = unsupported_layer(name)
    if found is not None:
        return ArgError(found[0], "E101", found[1])
    match = closest(name, [*LAYERS, *(n for n in KERAS_LAYERS if n not in LAYERS)])
    hints = (f"did you mean `{match}`?",) if match else ()
    if match is not None and match not in LAYERS:
        hints = (f"did you mean `{match}`? nnspec does not support that Keras layer yet",)
    return ArgError(f"unknown layer type `{name}`", "E101", hints)
