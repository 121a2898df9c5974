"""The settings of `input`, `compile`, `fit` and `evaluate`, declared like layer arguments."""

from __future__ import annotations

from msgspec import Struct

from nnspec.syntax import ir
from nnspec.vocab.argtypes import (
    SHAPE,
    AnyOf,
    ArgError,
    ArgType,
    Bool,
    Choice,
    Float,
    Int,
    Named,
    Optional,
    TupleOf,
)
from nnspec.vocab.catalog import CALLBACKS, METRICS, OPTIMIZERS, CalleeArg, loss_kwargs
from nnspec.vocab.params import Param


class PerOutput(Struct, frozen=True):
    """A value for each model output: one for all, a list in output order, or
    a mapping from output name."""

    single: object = None
    items: tuple = ()
    by_name: tuple[tuple[str, object, ir.Span], ...] = ()


class PerOutputArg(ArgType):
    item: ArgType

    @property
    def describe(self) -> str:
        return f"{self.item.describe}, a list of them, or a mapping from output name"

    def convert(self, value):
        if isinstance(value, (ir.Seq, ir.Mapping)) and not (
            value.items if isinstance(value, ir.Seq) else value.entries
        ):
            raise ArgError(f"expected {self.describe}, found an empty one", "E106")
        if isinstance(value, ir.Seq):
            return PerOutput(items=tuple(self.item.convert(v) for v in value.items))
        if isinstance(value, ir.Mapping):
            return PerOutput(
                by_name=tuple(
                    (str(e.key), self.item.convert(e.value), e.span) for e in value.entries
                )
            )
        return PerOutput(single=self.item.convert(value))


LOSS = Named("loss", loss_kwargs, code="E109")
METRIC = Named("metric", lambda: METRICS, code="E111")


class MetricsArg(ArgType):
    """Metrics as Keras takes them: a list (for several outputs, one entry per
    output: a metric or a list of them), or a mapping from output name."""

    describe = "a list of metrics, or a mapping from output name to metrics"

    def convert(self, value):
        if isinstance(value, ir.Mapping):
            return PerOutput(
                by_name=tuple(
                    (str(e.key), _OUTPUT_METRICS.convert(e.value), e.span) for e in value.entries
                )
            )
        if not isinstance(value, ir.Seq):
            self.fail(value)
        return PerOutput(items=TupleOf(_OUTPUT_METRICS).convert(value))


_OUTPUT_METRICS = AnyOf((METRIC, TupleOf(METRIC)))
OPTIMIZER = CalleeArg("optimizer", OPTIMIZERS, "E110", "optimizers")
CALLBACK = CalleeArg("callback", CALLBACKS, "E112", "callbacks")


class Validation(ArgType):
    """`test` (the data's test split) or a fraction of the training data."""

    describe = "`test` or a fraction in (0, 1)"

    def convert(self, value):
        if isinstance(value, ir.Ident) and value.name == "test":
            return "test"
        if isinstance(value, ir.Const) and type(value.value) in (int, float):
            return Float(0.0, 1.0, open_low=True, open_high=True).convert(value)
        self.fail(value)


class ClassWeights(ArgType):
    """`{0: 1.0, 1: 5.0}`: a weight for each class index."""

    describe = "a mapping from class index to weight, e.g. `{0: 1.0, 1: 5.0}`"

    def convert(self, value):
        if not isinstance(value, ir.Mapping):
            self.fail(value)
        for entry in value.entries:
            if not isinstance(entry.key, int):
                error = ArgError(
                    f"class weights are keyed by class index (0, 1, ...), found `{entry.key}`"
                )
                error.span = entry.span
                raise error
        return {e.key: Float(0.0).convert(e.value) for e in value.entries}


DTYPES = ("float32", "float16", "bfloat16", "float64", "int32", "int64", "uint8", "bool")
INPUT_PARAMS = (
    Param("shape", SHAPE, doc="shape of one sample, None for a variable size"),
    Param("dtype", Choice(DTYPES), "float32", "element type", positional=False),
)
COMPILE = (
    Param("loss", PerOutputArg(LOSS), doc="loss function, or one per output"),
    Param("optimizer", OPTIMIZER, "rmsprop", "optimizer, e.g. `adam(learning_rate=1e-3)`"),
    Param("metrics", Optional(MetricsArg()), None, "metrics to report, e.g. `[accuracy]`"),
    Param("loss_weights", Optional(PerOutputArg(Float(0.0))), None, "weight of each output's loss"),
)
FIT = (
    Param("epochs", Int(1), 1, "passes over the training data"),
    Param("batch_size", Int(1), 32, "samples per gradient step"),
    Param("validation", Optional(Validation()), None, "`test` or a fraction held out"),
    Param("shuffle", Bool(), True, "shuffle the training data each epoch"),
    Param("steps_per_epoch", Optional(Int(1)), None, "batches per epoch (default: all)"),
    Param("validation_steps", Optional(Int(1)), None, "validation batches (default: all)"),
    Param("class_weight", Optional(ClassWeights()), None, "weight per class index"),
    Param("callbacks", TupleOf(CALLBACK), (), "e.g. `[early_stopping(patience=3)]`"),
    Param("verbose", Optional(Int(0, 2)), None, "Keras progress output: 0, 1 or 2"),
)
EVALUATE = (Param("batch_size", Optional(Int(1)), None, "samples per evaluation step"),)
