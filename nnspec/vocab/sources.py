"""Data sources and their preprocessing, as declared in a `data` statement.

Checking needs only what each source is statically: the shape of one sample,
the number of classes and the task. Loading the arrays is `nnspec run`'s job.
"""

from __future__ import annotations

from collections.abc import Callable

from msgspec import Struct

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
)
from nnspec.vocab.params import Config, Param


class DataInfo(Struct, frozen=True):
    """What checking knows about a source: None where it depends on a file."""

    features: tuple[int, ...] | None
    classes: int | None  # None: regression, or unknown until loaded
    task: str  # "classification", "regression" or "unknown"
    targets: int = 1
    names: tuple[str, ...] = ()  # the classes' names, where the source has them


class Source(Struct, frozen=True):
    name: str
    params: tuple[Param, ...]
    info: Callable[[Config], DataInfo]
    doc: str
    loader: str  # how `run` and `gen` load it: keras, sklearn, synthetic, csv, npz


def _fixed(features, classes, names=()):
    task = "classification" if classes else "regression"
    return lambda cfg: DataInfo(features, classes, task, names=names)


_DIGITS = tuple(str(i) for i in range(10))
_FASHION = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat")
_FASHION += ("Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


_SEED = Param("random_state", Optional(Int(0)), None, "seed of the generator")


def _classification(cfg: Config) -> DataInfo:
    used = cfg.n_informative + cfg.n_redundant + cfg.n_repeated
    if used > cfg.n_features:
        raise ArgError(
            f"n_informative + n_redundant + n_repeated ({used}) must not exceed n_features "
            f"({cfg.n_features})",
            "E106",
        )
    if cfg.n_classes * cfg.n_clusters_per_class > 2**cfg.n_informative:
        raise ArgError(
            "n_classes * n_clusters_per_class must not exceed 2 ** n_informative "
            f"({cfg.n_classes} * {cfg.n_clusters_per_class} > {2**cfg.n_informative})",
            "E106",
            ("raise n_informative",),
        )
    return DataInfo((cfg.n_features,), cfg.n_classes, "classification")


def _regression(cfg: Config) -> DataInfo:
    return DataInfo((cfg.n_features,), None, "regression", cfg.n_targets)


SOURCES: dict[str, Source] = {
    s.name: s
    for s in [
        Source(
            "mnist",
            (),
            _fixed((28, 28), 10, _DIGITS),
            "MNIST digits, 60,000 + 10,000 28x28 images",
            "keras",
        ),
        Source(
            "fashion_mnist",
            (),
            _fixed((28, 28), 10, _FASHION),
            "Fashion-MNIST, 60,000 + 10,000 28x28 images of clothes",
            "keras",
        ),
        Source(
            "digits",
            (),
            _fixed((64,), 10, _DIGITS),
            "scikit-learn's 1,797 8x8 digit images, flattened",
            "sklearn",
        ),
        Source(
            "iris",
            (),
            _fixed((4,), 3, ("setosa", "versicolor", "virginica")),
            "scikit-learn's iris flowers: 150 samples, 3 classes",
            "sklearn",
        ),
        Source(
            "wine",
            (),
            _fixed((13,), 3, ("class_0", "class_1", "class_2")),
            "scikit-learn's wines: 178 samples, 3 classes",
            "sklearn",
        ),
        Source(
            "breast_cancer",
            (),
            _fixed((30,), 2, ("malignant", "benign")),
            "scikit-learn's breast cancer: 569 samples, 2 classes",
            "sklearn",
        ),
        Source(
            "diabetes",
            (),
            _fixed((10,), None),
            "scikit-learn's diabetes regression: 442 samples",
            "sklearn",
        ),
        Source(
            "classification",
            (
                Param("n_samples", Int(2), 100, "number of samples"),
                Param("n_features", Int(1), 20, "number of features"),
                Param("n_informative", Int(1), 2, "informative features"),
                Param("n_redundant", Int(0), 2, "linear combinations of informative features"),
                Param("n_repeated", Int(0), 0, "duplicated features"),
                Param("n_classes", Int(2), 2, "number of classes"),
                Param("n_clusters_per_class", Int(1), 2, "clusters per class"),
                Param("flip_y", Float(0.0, 1.0), 0.01, "fraction of labels flipped"),
                Param("class_sep", Float(0.0), 1.0, "separation of the classes"),
                _SEED,
            ),
            _classification,
            "synthetic classification data (scikit-learn's make_classification)",
            "synthetic",
        ),
        Source(
            "regression",
            (
                Param("n_samples", Int(2), 100, "number of samples"),
                Param("n_features", Int(1), 100, "number of features"),
                Param("n_informative", Int(0), 10, "informative features"),
                Param("n_targets", Int(1), 1, "number of regression targets"),
                Param("noise", Float(0.0), 0.0, "standard deviation of the noise"),
                _SEED,
            ),
            _regression,
            "synthetic regression data (scikit-learn's make_regression)",
            "synthetic",
        ),
        Source(
            "csv",
            (
                Param("path", Str(), doc="CSV file with a header row"),
                Param("label", Optional(Str()), None, "name of the label column"),
                Param("delimiter", Str(), ",", "field separator"),
            ),
            lambda cfg: DataInfo(None, None, "unknown"),
            "a CSV file: numeric feature columns and one label column",
            "csv",
        ),
        Source(
            "npz",
            (
                Param(
                    "path", Str(), doc="`.npz` file with x_train, y_train[, x_test, y_test] or x, y"
                ),
            ),
            lambda cfg: DataInfo(None, None, "unknown"),
            "a NumPy `.npz` archive",
            "npz",
        ),
    ]
}


class DataKeys(ArgType):
    """`{ image: "x_image", meta: "x_meta" }`: what feeds each model input or output,
    by its name: an npz array, a CSV column, or a list of CSV columns."""

    describe = 'a mapping from input or output name to an array or column name, e.g. `{ a: "x_a" }`'

    def convert(self, value):
        if not isinstance(value, ir.Mapping):
            self.fail(value)
        return tuple((str(e.key), _KEYS.convert(e.value), e.span) for e in value.entries)


_KEYS = AnyOf((Str(), TupleOf(Str(), min_len=1)))


class WeightKey(Str):
    """`"w"`: the npz array or CSV column holding one weight per sample."""

    describe = "the name of an npz array or CSV column"

    def convert(self, value):
        if isinstance(value, ir.Mapping):
            raise ArgError(
                "expected the name of an npz array or CSV column, found a mapping: Keras 3 "
                "takes no sample weights by output name",
                hints=("weight the outputs' losses with `loss_weights` in the compile block",),
            )
        return super().convert(value)


# The settings of the data block: `data mnist { scale: 1/255, labels: one_hot }`.
SETTINGS = (
    Param("scale", Optional(Float()), None, "multiply features, e.g. `1/255`"),
    Param("standardize", Bool(), False, "zero mean, unit variance (fitted on training data)"),
    Param(
        "labels", Choice(("integer", "one_hot")), "integer", "class labels as integers or one-hot"
    ),
    Param(
        "reshape", Optional(TupleOf(Int(), min_len=1)), None, "shape of one sample, one -1 allowed"
    ),
    Param("add_channel", Bool(), False, "append a channel axis of size 1"),
    Param("test_split", Float(0.0, 1.0, open_low=True, open_high=True), 0.2, "held-out fraction"),
    Param(
        "seed", Optional(Int(0)), None, "seed of the split, the initial weights and the shuffling"
    ),
    Param("limit", Optional(Int(1)), None, "use only the first N training samples"),
    Param(
        "target",
        Choice(("labels", "inputs")),
        "labels",
        "learn the labels, or reconstruct the inputs",
    ),
    Param(
        "missing",
        Choice(("error", "drop", "zero")),
        "error",
        "an empty CSV cell: an error, drop its row, or read it as 0",
    ),
    Param("inputs", Optional(DataKeys()), None, "npz array or CSV column(s) of each input"),
    Param("outputs", Optional(DataKeys()), None, "npz array or CSV column of each output"),
    Param(
        "sample_weight",
        Optional(WeightKey()),
        None,
        "npz array or CSV column of one weight >= 0 per sample, weighting its loss",
    ),
)


def sample_shape(info: DataInfo, settings: Config) -> tuple[int, ...] | None:
    """The shape of one sample after reshape / add_channel, or None if unknown."""
    shape = info.features
    if shape is None:
        return None
    if settings.reshape is not None:
        target = settings.reshape
        size = 1
        for d in shape:
            size *= d
        known = 1
        for d in target:
            known *= d if d != -1 else 1
        if target.count(-1) > 1 or any(d == 0 or d < -1 for d in target):
            raise ArgError(
                f"invalid reshape {target}: sizes must be positive, one -1 at most", "E106"
            )
        if -1 in target:
            if size % known:
                raise ArgError(f"cannot reshape samples of shape {shape} into {target}", "E303")
            target = tuple(size // known if d == -1 else d for d in target)
        elif known != size:
            raise ArgError(
                f"cannot reshape samples of shape {shape} ({size} values) into {target} ({known} values)",
                "E303",
            )
        shape = tuple(target)
    if settings.add_channel:
        shape = shape + (1,)
    return shape
