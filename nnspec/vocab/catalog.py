"""Names Keras knows outside layers: activations, initializers, regularizers,
constraints, losses, metrics, optimizers and callbacks.

Taken from Keras 3's own tables; checked against Keras in tests/test_keras_catalog.py.
"""

from __future__ import annotations

from msgspec import Struct

from nnspec.vocab.argtypes import Bool, Choice, Float, Int, Optional, Str, names
from nnspec.vocab.params import Param

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
    """Something called with arguments: an optimizer or a callback."""

    name: str  # the Keras class name
    params: tuple[Param, ...]
    doc: str
    aliases: tuple[str, ...] = ()


def _table(entries: list[Callee]) -> dict[str, Callee]:
    return {key: c for c in entries for key in (c.name, *c.aliases)}


_LR = Param("learning_rate", Float(0.0, open_low=True), 0.001, "step size")
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
