"""Names Keras knows outside layers: activations, initializers, regularizers,
constraints, losses, metrics, optimizers, learning-rate schedules and callbacks.

Taken from Keras 3's own tables; checked against Keras in tests/test_keras_catalog.py.
"""

from __future__ import annotations

from collections.abc import Callable

from msgspec import Struct

from nnspec.diagnostics.wording import did_you_mean, plural
from nnspec.syntax import ir
from nnspec.vocab.argtypes import (
    AnyOf,
    ArgError,
    ArgType,
    Bool,
    Choice,
    Float,
    Int,
    Optional,
    Str,
    TupleOf,
    names,
)
from nnspec.vocab.params import Config, Param, bind

ACTIVATIONS = names(
    [
        "celu",
        "elu",
        "exponential",
        "gelu",
        "glu",
        "hard_shrink",
        "hard_sigmoid",
        "hard_silu",
        "hard_swish",
        "hard_tanh",
        "leaky_relu",
        "linear",
        "log_sigmoid",
        "log_softmax",
        "mish",
        "relu",
        "relu6",
        "selu",
        "sigmoid",
        "silu",
        "soft_shrink",
        "softmax",
        "softplus",
        "softsign",
        "sparse_plus",
        "sparse_sigmoid",
        "sparsemax",
        "squareplus",
        "swish",
        "tanh",
        "tanh_shrink",
        "threshold",
    ]
)

_SEEDED = ("seed",)
INITIALIZERS = {
    **names(["zeros", "ones", "identity"]),
    "uniform": ("minval", "maxval", "seed"),
    "normal": ("mean", "stddev", "seed"),
    **{
        n: _SEEDED
        for n in [
            "glorot_normal",
            "glorot_uniform",
            "he_normal",
            "he_uniform",
            "lecun_normal",
            "lecun_uniform",
        ]
    },
    "constant": ("value",),
    "random_normal": ("mean", "stddev", "seed"),
    "random_uniform": ("minval", "maxval", "seed"),
    "truncated_normal": ("mean", "stddev", "seed"),
    "variance_scaling": ("scale", "mode", "distribution", "seed"),
    "orthogonal": ("gain", "seed"),
}
REGULARIZERS = {
    "l1": ("l1",),
    "l2": ("l2",),
    "l1_l2": ("l1", "l2"),
    "orthogonal_regularizer": ("factor", "mode"),
}
CONSTRAINTS = {
    "max_norm": ("max_value", "axis"),
    "min_max_norm": ("min_value", "max_value", "rate", "axis"),
    "non_neg": (),
    "unit_norm": ("axis",),
}


class Loss(Struct, frozen=True):
    """A Keras loss and the labels it expects: categorical (one-hot),
    sparse (integer classes), binary (0/1 per unit) or regression."""

    name: str
    labels: str
    kwargs: tuple[str, ...] = ()


_XENT = ("from_logits", "label_smoothing", "axis")
_LOSS_LIST = [
    Loss("categorical_crossentropy", "categorical", _XENT),
    Loss("categorical_focal_crossentropy", "categorical", ("alpha", "gamma", *_XENT)),
    Loss("categorical_hinge", "categorical"),
    Loss("kl_divergence", "categorical"),
    Loss("sparse_categorical_crossentropy", "sparse", ("from_logits", "ignore_class", "axis")),
    Loss("binary_crossentropy", "binary", _XENT),
    Loss(
        "binary_focal_crossentropy", "binary", ("alpha", "gamma", "apply_class_balancing", *_XENT)
    ),
    Loss("hinge", "binary"),
    Loss("squared_hinge", "binary"),
    Loss("mean_squared_error", "regression"),
    Loss("mean_absolute_error", "regression"),
    Loss("mean_absolute_percentage_error", "regression"),
    Loss("mean_squared_logarithmic_error", "regression"),
    Loss("huber", "regression", ("delta",)),
    Loss("log_cosh", "regression"),
    Loss("poisson", "regression"),
    Loss("cosine_similarity", "regression", ("axis",)),
]
LOSS_ALIASES = {
    "mse": "mean_squared_error",
    "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error",
    "bce": "binary_crossentropy",
    "kld": "kl_divergence",
}
LOSSES = {loss.name: loss for loss in _LOSS_LIST}


def loss_kwargs() -> dict[str, tuple[str, ...]]:
    table = {loss.name: loss.kwargs for loss in _LOSS_LIST}
    table.update({alias: table[full] for alias, full in LOSS_ALIASES.items()})
    return table


def find_loss(name: str) -> Loss | None:
    return LOSSES.get(LOSS_ALIASES.get(name, name))


METRICS = {
    **names(
        [
            "accuracy",
            "binary_accuracy",
            "categorical_accuracy",
            "sparse_categorical_accuracy",
            "mae",
            "mse",
            "mape",
            "msle",
            "mean_absolute_error",
            "mean_squared_error",
            "root_mean_squared_error",
            "mean_absolute_percentage_error",
            "mean_squared_logarithmic_error",
            "log_cosh_error",
            "binary_crossentropy",
            "categorical_crossentropy",
            "sparse_categorical_crossentropy",
            "kl_divergence",
            "poisson",
            "hinge",
            "squared_hinge",
            "categorical_hinge",
            "cosine_similarity",
        ]
    ),
    "auc": ("num_thresholds", "curve", "multi_label", "from_logits"),
    "precision": ("thresholds", "top_k", "class_id"),
    "recall": ("thresholds", "top_k", "class_id"),
    "top_k_categorical_accuracy": ("k",),
    "sparse_top_k_categorical_accuracy": ("k",),
    "f1_score": ("average", "threshold"),
    "r2_score": ("class_aggregation",),
}


class Callee(Struct, frozen=True):
    """Something called with arguments: an optimizer, a learning-rate schedule or a
    callback. `validate` checks the arguments together (raises ArgError)."""

    name: str  # the Keras class name
    params: tuple[Param, ...]
    doc: str
    aliases: tuple[str, ...] = ()
    validate: Callable[[Config], None] | None = None
    package: str | None = None  # a package Keras needs for it that TensorFlow may lack


class BoundCall(Struct, frozen=True):
    """A callee with its checked arguments; `module` is where Keras keeps it."""

    callee: Callee
    config: Config
    call: ir.Call
    module: str


class CalleeArg(ArgType):
    """A name or call from a table of callees, e.g. `adam(learning_rate=1e-3)`."""

    kind: str
    table: dict[str, Callee]
    code: str
    module: str  # under `keras.`: optimizers, callbacks, optimizers.schedules

    @property
    def describe(self) -> str:
        return f"an {self.kind}" if self.kind[0] in "aeiou" else f"a {self.kind}"

    def convert(self, value):
        if isinstance(value, ir.Ident):
            value = ir.Call(value.name, (), (), value.span, value.span)
        if isinstance(value, ir.Const) and isinstance(value.value, str):
            value = ir.Call(value.value, (), (), value.span, value.span)
        if not isinstance(value, ir.Call):
            self.fail(value)
        callee = self.table.get(value.name)
        if callee is None:
            raise ArgError(
                f"unknown {self.kind} `{value.name}`",
                self.code,
                did_you_mean(value.name, self.table),
            )
        bound = bind(value, callee.params, f"{self.kind} {callee.name}")
        if not bound.ok:
            raise ArgError(
                f"invalid {self.kind}", bound.diagnostics[0].code, diagnostics=bound.diagnostics
            )
        if callee.validate is not None:
            callee.validate(bound.config)
        return BoundCall(callee, bound.config, value, self.module)


def _table(entries: list[Callee]) -> dict[str, Callee]:
    return {key: c for c in entries for key in (c.name, *c.aliases)}


def _piecewise(cfg: Config) -> None:
    boundaries, values = cfg["boundaries"], cfg["values"]
    if len(values) != len(boundaries) + 1:
        raise ArgError(
            f"{plural(len(boundaries), 'boundary', 'boundaries')} need "
            f"{len(boundaries) + 1} values, one per interval; found {len(values)}",
            "E106",
        )
    if list(boundaries) != sorted(set(boundaries)):
        raise ArgError("boundaries must increase", "E106")


_RATE = Float(0.0, open_low=True)
_INITIAL = Param("initial_learning_rate", _RATE, doc="learning rate at step 0")
_STEPS = Param("decay_steps", Int(1), doc="steps over which the rate decays")
_STAIRCASE = Param("staircase", Bool(), False, "decay in whole steps of decay_steps")
SCHEDULES = _table(
    [
        Callee(
            "ExponentialDecay",
            (
                _INITIAL,
                _STEPS,
                Param("decay_rate", _RATE, doc="factor per decay_steps"),
                _STAIRCASE,
            ),
            "initial * decay_rate ** (step / decay_steps)",
            ("exponential_decay",),
        ),
        Callee(
            "InverseTimeDecay",
            (_INITIAL, _STEPS, Param("decay_rate", _RATE, doc="decay per decay_steps"), _STAIRCASE),
            "initial / (1 + decay_rate * step / decay_steps)",
            ("inverse_time_decay",),
        ),
        Callee(
            "PolynomialDecay",
            (
                _INITIAL,
                _STEPS,
                Param("end_learning_rate", Float(0.0), 0.0001, "rate after decay_steps"),
                Param("power", Float(0.0, open_low=True), 1.0, "power of the polynomial"),
                Param("cycle", Bool(), False, "start again after decay_steps"),
            ),
            "polynomial decay to end_learning_rate",
            ("polynomial_decay",),
        ),
        Callee(
            "CosineDecay",
            (
                _INITIAL,
                _STEPS,
                Param("alpha", Float(0.0, 1.0), 0.0, "final rate as a fraction of the initial"),
                Param("warmup_target", Optional(_RATE), None, "rate reached after the warmup"),
                Param("warmup_steps", Int(0), 0, "steps of linear warmup before the decay"),
            ),
            "cosine decay, with an optional linear warmup",
            ("cosine_decay",),
        ),
        Callee(
            "CosineDecayRestarts",
            (
                _INITIAL,
                Param("first_decay_steps", Int(1), doc="steps of the first period"),
                Param("t_mul", Float(0.0, open_low=True), 2.0, "growth of each period"),
                Param("m_mul", Float(0.0, open_low=True), 1.0, "scale of each restart"),
                Param("alpha", Float(0.0, 1.0), 0.0, "final rate as a fraction of the initial"),
            ),
            "cosine decay with warm restarts",
            ("cosine_decay_restarts",),
        ),
        Callee(
            "PiecewiseConstantDecay",
            (
                Param("boundaries", TupleOf(Int(0), min_len=1), doc="steps where the rate changes"),
                Param("values", TupleOf(_RATE, min_len=2), doc="the rate in each interval"),
            ),
            "a fixed rate per interval of steps",
            ("piecewise_constant",),
            _piecewise,
        ),
    ]
)
SCHEDULE = CalleeArg("learning-rate schedule", SCHEDULES, "E110", "optimizers.schedules")
_LR = Param("learning_rate", AnyOf((_RATE, SCHEDULE)), 0.001, "step size, or a schedule")
_CLIP = (
    Param("weight_decay", Optional(Float(0.0)), None, "decoupled weight decay", positional=False),
    Param("clipnorm", Optional(Float(0.0)), None, "clip each gradient's norm", positional=False),
    Param("clipvalue", Optional(Float(0.0)), None, "clip each gradient's values", positional=False),
    Param("global_clipnorm", Optional(Float(0.0)), None, "clip the global norm", positional=False),
)
_BETAS = (
    Param("beta_1", Float(0.0, 1.0, open_high=True), 0.9, "decay of the first moment"),
    Param("beta_2", Float(0.0, 1.0, open_high=True), 0.999, "decay of the second moment"),
    Param("epsilon", Float(0.0, open_low=True), 1e-7, "numerical stability constant"),
)
OPTIMIZERS = _table(
    [
        Callee(
            "Adam",
            (_LR, *_BETAS, Param("amsgrad", Bool(), False, "use AMSGrad"), *_CLIP),
            "Adam",
            ("adam",),
        ),
        Callee(
            "AdamW",
            (
                Param("learning_rate", _LR.type, 0.001),
                Param("weight_decay", Float(0.0), 0.004),
                *_BETAS,
                Param("amsgrad", Bool(), False),
                *_CLIP[1:],
            ),
            "Adam with decoupled weight decay",
            ("adamw",),
        ),
        Callee("Adamax", (_LR, *_BETAS, *_CLIP), "Adamax", ("adamax",)),
        Callee("Nadam", (_LR, *_BETAS, *_CLIP), "Adam with Nesterov momentum", ("nadam",)),
        Callee(
            "SGD",
            (
                Param("learning_rate", _LR.type, 0.01),
                Param("momentum", Float(0.0), 0.0, "momentum"),
                Param("nesterov", Bool(), False, "Nesterov momentum"),
                *_CLIP,
            ),
            "stochastic gradient descent",
            ("sgd",),
        ),
        Callee(
            "RMSprop",
            (
                _LR,
                Param("rho", Float(0.0, 1.0), 0.9),
                Param("momentum", Float(0.0), 0.0),
                Param("epsilon", Float(0.0, open_low=True), 1e-7),
                Param("centered", Bool(), False),
                *_CLIP,
            ),
            "RMSprop",
            ("rmsprop",),
        ),
        Callee(
            "Adagrad",
            (
                _LR,
                Param("initial_accumulator_value", Float(0.0), 0.1),
                Param("epsilon", Float(0.0, open_low=True), 1e-7),
                *_CLIP,
            ),
            "Adagrad",
            ("adagrad",),
        ),
        Callee(
            "Adadelta",
            (
                _LR,
                Param("rho", Float(0.0, 1.0), 0.95),
                Param("epsilon", Float(0.0, open_low=True), 1e-7),
                *_CLIP,
            ),
            "Adadelta",
            ("adadelta",),
        ),
        Callee(
            "Lion",
            (
                Param("learning_rate", _LR.type, 0.001),
                Param("beta_1", Float(0.0, 1.0), 0.9),
                Param("beta_2", Float(0.0, 1.0), 0.99),
                *_CLIP,
            ),
            "Lion",
            ("lion",),
        ),
    ]
)


def _checkpoint(cfg: Config) -> None:
    """What Keras's ModelCheckpoint refuses when it is made."""
    path = cfg["filepath"]
    if cfg["save_weights_only"] and not path.endswith(".weights.h5"):
        raise ArgError(
            f"ModelCheckpoint with save_weights_only=true: `filepath` must end in "
            f"`.weights.h5`, found {path!r}",
            "E106",
        )
    if not cfg["save_weights_only"] and not path.endswith((".keras", ".h5")):
        raise ArgError(
            f"ModelCheckpoint: `filepath` must end in `.keras` or `.h5`, found {path!r}", "E106"
        )
    if cfg["save_freq"] != "epoch":
        raise ArgError(
            f"ModelCheckpoint: `save_freq` must be \"epoch\", found {cfg['save_freq']!r}", "E106"
        )


_MONITOR = Param("monitor", Str(), "val_loss", "quantity to watch, e.g. `val_accuracy`")
_MODE = Param(
    "mode",
    Choice(("auto", "min", "max")),
    "auto",
    "whether the quantity should fall or rise",
    positional=False,
)
_VERBOSE = Param("verbose", Int(0, 2), 0, "print a line when it acts", positional=False)
CALLBACKS = _table(
    [
        Callee(
            "EarlyStopping",
            (
                _MONITOR,
                Param("min_delta", Float(0.0), 0.0),
                Param("patience", Int(0), 0, "epochs without improvement before stopping"),
                _VERBOSE,
                _MODE,
                Param("baseline", Optional(Float()), None),
                Param("restore_best_weights", Bool(), False, "roll back to the best epoch"),
                Param("start_from_epoch", Int(0), 0),
            ),
            "stop training when a quantity stops improving",
            ("early_stopping",),
        ),
        Callee(
            "ModelCheckpoint",
            (
                Param("filepath", Str(), doc="where to save, `.keras` or `.weights.h5`"),
                _MONITOR,
                _VERBOSE,
                Param("save_best_only", Bool(), False),
                Param("save_weights_only", Bool(), False),
                _MODE,
                Param("save_freq", Str(), "epoch"),
            ),
            "save the model during training",
            ("model_checkpoint", "checkpoint"),
            _checkpoint,
        ),
        Callee(
            "ReduceLROnPlateau",
            (
                _MONITOR,
                Param("factor", Float(0.0, 1.0, open_low=True, open_high=True), 0.1),
                Param("patience", Int(0), 10),
                _VERBOSE,
                _MODE,
                Param("min_delta", Float(0.0), 1e-4),
                Param("cooldown", Int(0), 0),
                Param("min_lr", Float(0.0), 0.0),
            ),
            "lower the learning rate when a quantity stops improving",
            ("reduce_lr_on_plateau",),
        ),
        Callee(
            "TensorBoard",
            (
                Param("log_dir", Str(), "logs"),
                Param("histogram_freq", Int(0), 0),
                Param("write_graph", Bool(), True),
                Param("update_freq", Choice(("epoch", "batch")), "epoch"),
            ),
            "write logs for TensorBoard",
            ("tensorboard",),
            package="tensorboard",  # TensorFlow 2.21 no longer installs it
        ),
        Callee(
            "CSVLogger",
            (
                Param("filename", Str()),
                Param("separator", Str(), ","),
                Param("append", Bool(), False),
            ),
            "stream epoch results to a CSV file",
            ("csv_logger",),
        ),
    ]
)
