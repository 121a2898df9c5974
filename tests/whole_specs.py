"""Whole-spec differential conformance: drawn complete specs against Keras.

`specs()` is a Hypothesis strategy of complete specs: a sequential model or a
graph with one or two inputs and outputs; data from a scikit-learn set, a
generator, or a CSV or npz file written with the declared shapes; losses that
fit the outputs (now and then deliberately not), metrics, optimizers and
learning-rate schedules, fit settings and callbacks, evaluate, save, predict, plot.

`judge(drawn)` checks the spec as `nnspec check` does. A clean spec is then run
in process the way `nnspec run` runs it (the rendered runtime loads the data,
the builder makes the model, Keras compiles it, fits one step and evaluates it):
any error there is a bug in nnspec. A spec rejected for its training setup only
(E4xx) is run the same way: when Keras trains it, nnspec is stricter than Keras,
and the reason must be listed in STRICTER_REASONS.

tests/test_whole_specs.py runs a seeded sample; tools/conformance_report.py
writes the figures of a larger run into docs/conformance.md.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from nnspec.check.pipeline import compile_text


def one_in(n: int) -> st.SearchStrategy[bool]:
    """True about once in `n` draws (as in tests/conformance.py)."""
    return st.integers(1, n).map(lambda r: r == (n + 1) // 2)


def pick(*options) -> st.SearchStrategy:
    """One of `options` (Hypothesis favours the first ones)."""
    return st.sampled_from(options)


# ---- what is drawn ----------------------------------------------------------------------


@dataclass(frozen=True)
class Port:
    """A model input: its name, shape of one sample and what it holds."""

    name: str
    kind: str  # vector, image, sequence or tokens
    shape: tuple  # without the batch axis; None for an unknown number of steps
    vocab: int = 0  # tokens: the ids are below it


@dataclass(frozen=True)
class Target:
    """A model output and the labels it learns."""

    name: str
    kind: str  # classes or regression
    units: int  # classes, or regression targets
    one_hot: bool = False  # class labels one-hot (as the loss sees them)
    converted: bool = False  # class ids in a CSV column, with `labels: one_hot` (ignored)


@dataclass(frozen=True)
class Feed:
    """One array of a data file (npz array or CSV columns)."""

    key: object  # array name, or a tuple of CSV column names
    kind: str  # float, tokens, classes, one_hot, binary or regression
    shape: tuple = ()  # one sample's shape
    size: int = 0  # tokens: vocabulary; classes: number of classes


@dataclass(frozen=True)
class DataFile:
    """A data file the spec reads, written with the declared shapes before the run."""

    name: str
    fmt: str  # npz or csv
    feeds: tuple[Feed, ...]  # features first, then labels
    labels: tuple[str, ...] = ()  # the label array or column of each output, in order
    samples: int = 64
    split: bool = False  # npz: `_train` and `_test` arrays
    delimiter: str = ","
    blanks: bool = False  # csv: a few empty feature cells


@dataclass(frozen=True)
class Problem:
    """Inputs, outputs and the data statement that feeds them."""

    inputs: tuple[Port, ...]
    targets: tuple[Target, ...]
    data: str  # the `data` statement
    file: DataFile | None
    tags: tuple[str, ...]
    autoencoder: bool = False


@dataclass(frozen=True)
class Drawn:
    """A complete spec and the data file it reads."""

    text: str
    file: DataFile | None = None
    tags: tuple[str, ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        return self.text


# ---- data ------------------------------------------------------------------------------

# scikit-learn's sets: features and classes (None: regression).
BUILTIN = {"iris": (4, 3), "wine": (13, 3), "breast_cancer": (30, 2), "digits": (64, 10)}
BUILTIN["diabetes"] = (10, None)
INPUT_NAMES = {
    "vector": ("features", "meta", "x", "inputs"),
    "image": ("image", "pixels"),
    "sequence": ("steps", "signal"),
    "tokens": ("tokens", "words"),
}
OUTPUT_NAMES = {
    "classes": ("kind", "label", "category"),
    "regression": ("score", "price", "outputs"),
}


def _factor_pairs(n: int) -> list[tuple[int, int]]:
    return [(a, n // a) for a in range(2, n) if n % a == 0]


@st.composite
def _declared(draw, features: int, integers: bool = False):
    """A sample of `features` values as an input shape, and the settings that make it."""
    pairs = _factor_pairs(features)
    options = ["vector", "sequence", "image"] + (["tokens"] if integers else [])
    kind = draw(st.sampled_from(options))
    if kind in ("vector", "tokens") or (kind == "image" and not pairs):
        return ("tokens" if kind == "tokens" else "vector"), (features,), []
    if kind == "sequence":
        if not pairs or draw(one_in(3)):
            return (
                "sequence",
                (features, 1),
                [draw(pick("add_channel: true", f"reshape: ({features}, 1)"))],
            )
        a, b = draw(st.sampled_from(pairs))
        return "sequence", (a, b), [draw(pick(f"reshape: ({a}, {b})", f"reshape: (-1, {b})"))]
    a, b = draw(st.sampled_from(pairs))
    written = draw(pick(f"reshape: ({a}, {b}, 1)", f"reshape: ({a}, {b}), add_channel: true"))
    return "image", (a, b, 1), [written]


@st.composite
def _common_settings(draw, scale: bool = True) -> list[str]:
    """Settings any single-input source takes: scaling, split, seed, limit."""
    found = []
    if scale and draw(one_in(4)):
        found.append(draw(pick("scale: 1/16", "scale: 0.5", "scale: 1 / 255")))
    if scale and draw(one_in(4)):
        found.append("standardize: true")
    if draw(one_in(3)):
        found.append(draw(pick("test_split: 0.25", "test_split: 0.5", "test_split: 0.1")))
    if draw(st.booleans()):
        found.append(draw(pick("seed: 0", "seed: 1", "seed: 42")))
    if draw(one_in(4)):
        found.append(draw(pick("limit: 20", "limit: 64", "limit: 100")))
    return found


@st.composite
def _generator(draw) -> tuple[str, int, int | None, int]:
    """`classification(...)` or `regression(...)`: text, features, classes, targets."""
    features = draw(pick(4, 6, 8, 9, 12, 16))
    samples = draw(pick(60, 100, 150))
    seed = draw(pick("", ", random_state=0", ", random_state=3"))
    if draw(st.booleans()):
        classes = draw(st.integers(2, 4))
        text = (
            f"classification(n_samples={samples}, n_features={features}, n_informative=3, "
            f"n_redundant=0, n_classes={classes}, n_clusters_per_class=1{seed})"
        )
        return text, features, classes, 1
    targets = draw(pick(1, 1, 2))
    noise = draw(pick("", ", noise=0.1"))
    text = (
        f"regression(n_samples={samples}, n_features={features}, n_informative=3, "
        f"n_targets={targets}{noise}{seed})"
    )
    return text, features, None, targets


def _block(source: str, found: list[str]) -> str:
    return f"data {source}" + (f" {{ {', '.join(found)} }}" if found else "")


@st.composite
def _builtin_problem(draw) -> Problem:
    """A scikit-learn set or a generator: one input, one output."""
    name = draw(st.sampled_from([*BUILTIN, "generator", "generator"]))
    if name == "generator":
        source, features, classes, targets = draw(_generator())
    else:
        (features, classes), source, targets = BUILTIN[name], name, 1
    kind, shape, found = draw(_declared(features, integers=name == "digits"))
    found += draw(_common_settings(scale=kind != "tokens"))
    port = Port(draw(st.sampled_from(INPUT_NAMES[kind])), kind, shape, vocab=17)
    if draw(one_in(20)):  # deliberately not the data's shape: E501
        port = Port(port.name, port.kind, (*shape[:-1], shape[-1] + 1), port.vocab)
    autoencoder = kind == "vector" and draw(one_in(5))
    out = draw(st.sampled_from(OUTPUT_NAMES["classes" if classes else "regression"]))
    if autoencoder:
        found.append("target: inputs")
        target = Target(out, "regression", features)
    elif classes:
        one_hot = draw(st.booleans())
        if one_hot or draw(one_in(4)):
            found.append(f"labels: {'one_hot' if one_hot else 'integer'}")
        target = Target(out, "classes", classes, one_hot)
    else:
        target = Target(out, "regression", targets)
    if draw(one_in(25)):
        found.append(draw(pick("missing: drop", 'inputs: { x: "a" }')))  # W502, E502
    tags = ("builtin" if name != "generator" else "generator", source.split("(")[0])
    return Problem((port,), (target,), _block(source, found), None, tags, autoencoder)


@st.composite
def _port(draw, kind: str, taken: set[str]) -> Port:
    name = draw(st.sampled_from([n for n in INPUT_NAMES[kind] if n not in taken]))
    if kind == "vector":
        return Port(name, kind, (draw(st.integers(1, 12)),))
    if kind == "image":
        size = draw(st.integers(4, 8))
        return Port(name, kind, (size, draw(pick(size, size + 2)), draw(pick(1, 3))))
    steps = draw(st.integers(3, 10))
    if kind == "tokens":
        return Port(name, kind, (steps,), vocab=draw(pick(20, 50)))
    return Port(name, kind, (steps, draw(st.integers(1, 4))))


@st.composite
def _target(draw, taken: set[str], csv_file: bool) -> Target:
    kind = draw(pick("classes", "regression"))
    name = draw(st.sampled_from([n for n in OUTPUT_NAMES[kind] if n not in taken]))
    if kind == "classes":
        one_hot = not csv_file and draw(one_in(3))
        return Target(name, kind, draw(st.integers(2, 4)), one_hot)
    return Target(name, kind, 1 if csv_file else draw(pick(1, 1, 2)))


def _label_feed(target: Target, out: Head, key: str) -> Feed:
    """The labels a file holds for an output, as its head and loss declare them:
    class ids for a sparse loss, else rows of the output's shape (one-hot, 0/1 or
    targets). A CSV column holds one value per row whatever the shape."""
    if out.family == "regression":
        return Feed(key, "regression", (out.units,))
    if out.family == "binary":
        return Feed(key, "binary", (out.units,))
    one_hot = out.family == "categorical" and not target.converted
    return Feed(key, "one_hot" if one_hot else "classes", (), out.units)


def _one_hot_setting(draw, targets: list[Target], found: list[str], csv_file: bool) -> None:
    """Now and then `labels: one_hot` on a file source, which reads the labels as
    stored (W502): one-hot rows in an npz archive, class ids in a CSV column."""
    target = targets[0]
    if len(targets) == 1 and target.kind == "classes" and draw(one_in(8)):
        targets[0] = Target(target.name, target.kind, target.units, True, csv_file)
        found.append("labels: one_hot")


@st.composite
def _ports_and_targets(draw, inputs: int, outputs: int, csv_file: bool):
    kinds = ("vector",) if csv_file else ("vector", "vector", "image", "sequence", "tokens")
    ports: list[Port] = []
    for _ in range(inputs):
        ports.append(draw(_port(draw(st.sampled_from(kinds)), {p.name for p in ports})))
    targets: list[Target] = []
    for _ in range(outputs):
        targets.append(draw(_target({t.name for t in targets}, csv_file)))
    return ports, targets


def _mapping(pairs) -> str:
    entries = ", ".join(
        f"{name}: "
        + (f'"{key}"' if isinstance(key, str) else "[" + ", ".join(f'"{k}"' for k in key) + "]")
        for name, key in pairs
    )
    return f"{{ {entries} }}"


@st.composite
def _npz_problem(draw, inputs: int, outputs: int) -> Problem:
    ports, targets = draw(_ports_and_targets(inputs, outputs, csv_file=False))
    several = inputs > 1 or outputs > 1
    mapped = several or draw(one_in(4))
    found, feeds = [], []
    prefix = draw(pick("", "x_", "in_"))
    map_inputs = several or (mapped and draw(st.booleans()))
    for port in ports:
        key = f"{prefix}{port.name}" if map_inputs else "x"
        stored = port.shape
        if not several and port.kind in ("image", "sequence") and draw(one_in(3)):
            stored = (
                port.shape[0] * port.shape[1] * (port.shape[2] if len(port.shape) > 2 else 1),
            )
            found.append(f"reshape: {tuple(port.shape)}".replace(",)", ")"))
        feeds.append(Feed(key, "tokens" if port.kind == "tokens" else "float", stored, port.vocab))
    labels = [(t.name, f"y_{t.name}" if mapped else "y") for t in targets]
    if map_inputs:
        found.append(f"inputs: {_mapping([(p.name, f.key) for p, f in zip(ports, feeds)])}")
    if mapped:
        found.append(f"outputs: {_mapping(labels)}")
    _one_hot_setting(draw, targets, found, csv_file=False)
    found += draw(_common_settings(scale=not several and ports[0].kind != "tokens"))
    if several and draw(one_in(20)):
        found.append("standardize: true")  # E502: prepares one array
    keys = tuple(key for _, key in labels)
    file = DataFile(
        "data.npz", "npz", tuple(feeds), keys, draw(pick(40, 64, 120)), draw(st.booleans())
    )
    tags = ("file", "npz") + (("split",) if file.split else ())
    return Problem(tuple(ports), tuple(targets), _block('npz("data.npz")', found), file, tags)


@st.composite
def _csv_problem(draw, inputs: int, outputs: int) -> Problem:
    ports, targets = draw(_ports_and_targets(inputs, outputs, csv_file=True))
    several = inputs > 1 or outputs > 1
    feeds, found = [], []
    for port in ports:
        columns = tuple(f"{port.name}_{i}" for i in range(port.shape[0]))
        feeds.append(Feed(columns, "float", port.shape))
    args = ""
    if several or draw(st.booleans()):
        if several or draw(st.booleans()):
            pairs = [
                (p.name, f.key[0] if len(f.key) == 1 and draw(st.booleans()) else f.key)
                for p, f in zip(ports, feeds)
            ]
            found.append(f"inputs: {_mapping(pairs)}")
        found.append(f"outputs: {_mapping([(t.name, t.name) for t in targets])}")
    else:
        args = f', label="{targets[0].name}"'
    delimiter = draw(pick(",", ",", ";"))
    if delimiter != ",":
        args += f', delimiter="{delimiter}"'
    blanks = draw(one_in(5))
    if blanks or draw(one_in(10)):
        found.append(draw(pick("missing: drop", "missing: zero")))
    _one_hot_setting(draw, targets, found, csv_file=True)
    found += draw(_common_settings(scale=not several))
    keys = tuple(t.name for t in targets)
    samples = draw(pick(40, 64, 120))
    file = DataFile("data.csv", "csv", tuple(feeds), keys, samples, False, delimiter, blanks)
    return Problem(
        tuple(ports), tuple(targets), _block(f'csv("data.csv"{args})', found), file, ("file", "csv")
    )


@st.composite
def problems(draw) -> Problem:
    inputs, outputs = draw(pick((1, 1), (1, 1), (1, 1), (1, 1), (2, 1), (1, 2), (2, 2)))
    if (inputs, outputs) == (1, 1) and draw(st.booleans()):
        return draw(_builtin_problem())
    if draw(one_in(3)):
        return draw(_csv_problem(inputs, outputs))
    return draw(_npz_problem(inputs, outputs))


# ---- architecture ----------------------------------------------------------------------

ACTIVATIONS = ("relu", "tanh", "gelu", "elu", "sigmoid", "swish")
UNITS = pick(4, 8, 16)


def _act(draw, options=ACTIVATIONS) -> str:
    found = draw(st.sampled_from((*options, None)))
    return f", activation={found}" if found else ""


@st.composite
def _vector_layers(draw, most: int = 3) -> list[str]:
    layers = []
    for _ in range(draw(st.integers(0, most))):
        kind = draw(
            pick(
                "Dense",
                "Dense",
                "Dropout",
                "BatchNormalization",
                "LayerNormalization",
                "GaussianNoise",
                "ReLU",
            )
        )
        if kind == "Dense":
            extra = draw(
                pick(
                    "",
                    "",
                    ", kernel_regularizer=l2(1e-4)",
                    ", kernel_initializer=he_normal(seed=1)",
                    ", use_bias=false",
                )
            )
            layers.append(f"Dense({draw(UNITS)}{_act(draw)}{extra})")
        elif kind == "Dropout":
            layers.append(f"Dropout({draw(pick('0.1', '0.5'))})")
        elif kind == "GaussianNoise":
            layers.append("GaussianNoise(0.1)")
        else:
            layers.append(f"{kind}()")
    return layers


@st.composite
def _image_layers(draw, shape: tuple) -> list[str]:
    height, width = shape[0], shape[1]
    layers = []
    for _ in range(draw(st.integers(1, 2))):
        size = draw(pick(1, 2, 3))
        valid = draw(st.booleans()) and min(height, width) >= size
        if valid:
            height, width = height - size + 1, width - size + 1
        conv = draw(pick("Conv2D", "Conv2D", "SeparableConv2D"))
        padding = "valid" if valid else "same"
        layers.append(f"{conv}({draw(UNITS)}, {size}, padding={padding}{_act(draw)})")
        if min(height, width) >= 2 and draw(st.booleans()):
            layers.append(draw(pick("MaxPooling2D()", "AveragePooling2D(2)")))
            height, width = height // 2, width // 2
        if draw(one_in(4)):
            layers.append("BatchNormalization()")
    layers.append(draw(pick("Flatten()", "GlobalAveragePooling2D()", "GlobalMaxPooling2D()")))
    return layers


@st.composite
def _sequence_layers(draw, steps: int | None) -> list[str]:
    layers = []
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(
            pick("Conv1D", "LSTM", "GRU", "SimpleRNN", "Bidirectional", "MaxPooling1D", "Dropout")
        )
        if kind == "Conv1D":
            size = draw(pick(1, 2, 3))
            padding = draw(pick("same", "causal", "valid"))
            if padding == "valid":
                if steps is None or steps < size:
                    padding = "same"
                else:
                    steps = steps - size + 1
            layers.append(f"Conv1D({draw(UNITS)}, {size}, padding={padding}{_act(draw)})")
        elif kind == "MaxPooling1D" and (steps is None or steps >= 2):
            layers.append("MaxPooling1D()")
            steps = None if steps is None else steps // 2
        elif kind == "Dropout":
            layers.append("Dropout(0.2)")
        elif kind == "Bidirectional":
            layers.append(f"Bidirectional(LSTM({draw(UNITS)}, return_sequences=true))")
        elif kind != "MaxPooling1D":
            layers.append(f"{kind}({draw(UNITS)}, return_sequences=true)")
    ends = [
        "GlobalAveragePooling1D()",
        "GlobalMaxPooling1D()",
        "LSTM(8)",
        "GRU(4)",
        "Bidirectional(GRU(4))",
    ]
    layers.append(draw(st.sampled_from(ends + (["Flatten()"] if steps else []))))
    return layers


@st.composite
def trunk(draw, port: Port) -> tuple[Port, list[str]]:
    """Layers that take `port` to a vector of features, and the input as declared
    (a sequence now and then with a variable number of steps)."""
    if port.kind == "vector":
        return port, draw(_vector_layers())
    if port.kind == "image":
        return port, draw(_image_layers(port.shape)) + draw(_vector_layers(1))
    layers = []
    steps = port.shape[0]
    if port.kind == "tokens":
        mask = draw(pick("", "", ", mask_zero=true"))
        layers.append(f"Embedding({port.vocab + draw(pick(0, 0, 5))}, {draw(UNITS)}{mask})")
    elif draw(one_in(4)):
        steps = None
        port = Port(port.name, port.kind, (None, *port.shape[1:]))
    return port, layers + draw(_sequence_layers(steps)) + draw(_vector_layers(1))


# ---- heads and losses ------------------------------------------------------------------

LOSSES = {
    "sparse": ("sparse_categorical_crossentropy",),
    "categorical": (
        "categorical_crossentropy",
        "categorical_crossentropy(label_smoothing=0.1)",
        "categorical_focal_crossentropy",
        "kl_divergence",
        "categorical_hinge",
    ),
    "binary": ("binary_crossentropy", "bce", "binary_focal_crossentropy", "hinge", "squared_hinge"),
    "regression": (
        "mse",
        "mean_absolute_error",
        "huber(delta=2.0)",
        "log_cosh",
        "msle",
        "poisson",
        "cosine_similarity",
    ),
}
METRICS = {
    "sparse": (
        "accuracy",
        "sparse_categorical_accuracy",
        "sparse_top_k_categorical_accuracy(k=2)",
        "sparse_categorical_crossentropy",
    ),
    "categorical": (
        "accuracy",
        "categorical_accuracy",
        "top_k_categorical_accuracy(k=2)",
        "auc",
        "precision",
        "recall",
        "f1_score",
        "kl_divergence",
    ),
    "binary": (
        "accuracy",
        "binary_accuracy",
        "auc",
        "precision",
        "recall",
        "binary_crossentropy",
        "f1_score(threshold=0.5)",
    ),
    "regression": (
        "mae",
        "mse",
        "root_mean_squared_error",
        "mape",
        "log_cosh_error",
        "r2_score",
        "cosine_similarity",
    ),
}
LOGITS = ("sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy")


@dataclass(frozen=True)
class Head:
    """The output layer of a target, its loss, and the loss's family."""

    layer: str
    loss: str
    family: str
    units: int


def _family(draw, target: Target, fixed: bool) -> str:
    if fixed and draw(one_in(8)):  # deliberately any loss
        return draw(pick(*LOSSES))
    if target.kind == "regression":
        return "regression"
    if target.one_hot:
        return "categorical"
    return "binary" if target.units == 2 and draw(st.booleans()) else "sparse"


@st.composite
def head(draw, target: Target, fixed: bool, autoencoder: bool = False) -> Head:
    """The output layer for `target` and a loss for it. With `fixed` labels (a
    built-in source), now and then a loss or a number of units that does not fit."""
    family = "regression" if autoencoder else _family(draw, target, fixed)
    loss = draw(st.sampled_from(LOSSES[family]))
    units = 1 if family == "binary" and target.kind == "classes" else target.units
    activation = {"sparse": "softmax", "categorical": "softmax", "binary": "sigmoid"}.get(family)
    if loss in ("msle", "poisson") or (autoencoder and draw(st.booleans())):
        activation = draw(pick("relu", "softplus", "sigmoid"))
    if loss in LOGITS and draw(one_in(4)):
        loss, activation = f"{loss}(from_logits=true)", None
    if fixed and draw(one_in(12)):
        units += 1  # deliberately one unit too many
    if draw(one_in(12)):
        activation = draw(pick("relu", "tanh", "linear", "softmax", "sigmoid"))
    written = f", activation={activation}" if activation else ""
    return Head(f"Dense({units}{written})", loss, family, units)


@st.composite
def _metrics_of(draw, family: str) -> list[str]:
    options = METRICS[family] if not draw(one_in(12)) else sum(METRICS.values(), ())
    return draw(st.lists(st.sampled_from(options), min_size=1, max_size=2, unique=True))


def _listed(items) -> str:
    return "[" + ", ".join(items) + "]"


@st.composite
def _per_output(draw, names: list[str], values: list[str]) -> str:
    """One value per output: a mapping, a list in output order, or one for all."""
    if len(names) == 1:
        return values[0]
    form = draw(pick("mapping", "mapping", "list", "single"))
    if draw(one_in(20)):
        form = "short"  # deliberately one short: E402 / E408
    if form == "list" or (form == "single" and len(set(values)) > 1):
        return _listed(values)
    if form == "single":
        return values[0]
    if form == "short":
        return _listed(values[:1])
    return "{ " + ", ".join(f"{n}: {v}" for n, v in zip(names, values)) + " }"


@st.composite
def compile_block(draw, targets: tuple[Target, ...], heads: list[Head]) -> str:
    names = [t.name for t in targets]
    found = [f"loss: {draw(_per_output(names, [h.loss for h in heads]))}"]
    optimizer = draw(optimizers())
    if optimizer:
        found.append(f"optimizer: {optimizer}")
    if draw(st.booleans()):
        metrics = [draw(_metrics_of(h.family)) for h in heads]
        if len(names) == 1:
            found.append(f"metrics: {_listed(metrics[0])}")
        else:
            values = [m[0] if len(m) == 1 and draw(st.booleans()) else _listed(m) for m in metrics]
            found.append(f"metrics: {draw(_per_output(names, values))}")
    if draw(one_in(4)):
        weights = [draw(pick("1.0", "0.5", "2")) for _ in names]
        found.append(f"loss_weights: {draw(_per_output(names, weights))}")
    return "compile { " + ", ".join(found) + " }"


# Learning-rate schedules by name (Hypothesis picks the first entries most often).
SCHEDULES = {
    "piecewise_constant": ("piecewise_constant([10, 20], [1e-3, 5e-4, 1e-4])",),
    "cosine_decay_restarts": ("cosine_decay_restarts(1e-3, 50)",),
    "inverse_time_decay": ("inverse_time_decay(1e-3, 100, 0.5)",),
    "polynomial_decay": ("polynomial_decay(1e-2, 100, end_learning_rate=1e-4, power=2.0)",),
    "exponential_decay": (
        "exponential_decay(1e-3, 100, 0.9)",
        "exponential_decay(1e-2, decay_steps=10, decay_rate=0.5, staircase=true)",
    ),
    "cosine_decay": (
        "cosine_decay(1e-3, 100)",
        "cosine_decay(1e-3, 100, alpha=0.1, warmup_target=1e-2, warmup_steps=10)",
    ),
}


@st.composite
def optimizers(draw) -> str | None:
    """None (the default, rmsprop), a name, or a call with arguments."""
    name = draw(
        pick(
            None,
            "adam",
            "sgd",
            "rmsprop",
            "adamw",
            "nadam",
            "adamax",
            "adagrad",
            "adadelta",
            "lion",
            "Adam",
        )
    )
    if name is None or draw(st.booleans()):
        return name
    args = []
    if not draw(one_in(3)):
        if draw(one_in(3)):
            rate = draw(pick("1e-3", "0.01"))
        else:
            rate = draw(st.sampled_from(SCHEDULES[draw(st.sampled_from(list(SCHEDULES)))]))
        args.append(f"learning_rate={rate}")
    extra = {
        "sgd": ("momentum=0.9", "nesterov=true"),
        "adam": ("amsgrad=true", "beta_1=0.8"),
        "rmsprop": ("centered=true", "momentum=0.5"),
        "adamw": ("weight_decay=0.01",),
    }.get(name.lower(), ())
    args += draw(
        st.lists(
            st.sampled_from(extra + ("clipnorm=1.0", "weight_decay=1e-4")), max_size=2, unique=True
        )
    )
    if "weight_decay=0.01" in args and "weight_decay=1e-4" in args:
        args.remove("weight_decay=1e-4")
    return f"{name}({', '.join(args)})"


# ---- fit and actions -------------------------------------------------------------------


@st.composite
def callbacks(draw, monitors: list[str]) -> list[str]:
    made = []
    for kind in draw(
        st.lists(
            pick("early", "plateau", "csv", "checkpoint", "tensorboard"), max_size=3, unique=True
        )
    ):
        monitor = draw(st.sampled_from(monitors))
        if kind == "early":
            extra = draw(
                pick(
                    "",
                    ", restore_best_weights=true",
                    ", mode=min",
                    ", start_from_epoch=1, baseline=10.0",
                )
            )
            made.append(
                f'{draw(pick("early_stopping", "EarlyStopping"))}(monitor="{monitor}", patience={draw(pick(0, 1, 3))}{extra})'
            )
        elif kind == "plateau":
            made.append(
                f'reduce_lr_on_plateau(monitor="{monitor}", factor=0.5, patience=0, min_delta=10.0)'
            )
        elif kind == "csv":
            made.append(
                draw(
                    pick(
                        'csv_logger("log.csv")', 'csv_logger("log.csv", separator=";", append=true)'
                    )
                )
            )
        elif kind == "checkpoint":
            path = draw(pick("best.keras", "best.weights.h5", "best.h5"))
            weights = (
                ", save_weights_only=true" if path.endswith(".h5") and draw(st.booleans()) else ""
            )
            best = draw(pick("", f', save_best_only=true, monitor="{monitor}"'))
            made.append(f'{draw(pick("model_checkpoint", "checkpoint"))}("{path}"{weights}{best})')
        elif draw(one_in(8)):
            made.append('tensorboard(log_dir="logs")')
    return made


def _monitors(heads: list[Head], targets: tuple[Target, ...]) -> list[str]:
    """Quantities a callback may watch: losses, and one Keras may not log."""
    found = ["val_loss", "loss", "val_loss", "val_accuracy"]
    return found + ([f"val_{targets[0].name}_loss"] if len(targets) > 1 else [])


@st.composite
def fit_block(draw, targets: tuple[Target, ...], heads: list[Head]) -> str | None:
    if draw(one_in(6)):
        return None
    found = [f"epochs: {draw(pick(1, 1, 1, 2))}"]
    if draw(st.booleans()):
        found.append(f"batch_size: {draw(pick(4, 8, 16, 64))}")
    validation = draw(pick(None, "test", "0.2"))
    if validation:
        found.append(f"validation: {validation}")
        if draw(one_in(5)):
            found.append("validation_steps: 1")
    if draw(one_in(6)):
        found.append("shuffle: false")
    if len(targets) == 1 and (targets[0].kind == "classes" or draw(one_in(3))) and draw(one_in(5)):
        classes = max(targets[0].units - draw(pick(0, 0, 1)), 1)  # now and then one short
        weights = ", ".join(f"{c}: {draw(pick('1.0', '2', '0.5'))}" for c in range(classes))
        found.append(f"class_weight: {{ {weights} }}")
    made = draw(callbacks(_monitors(heads, targets)))
    if made:
        found.append(f"callbacks: {_listed(made)}")
    if draw(one_in(6)):
        found.append(f"verbose: {draw(pick(0, 2))}")
    return "fit { " + ", ".join(found) + " }"


@st.composite
def actions(draw) -> list[str]:
    found = []
    if draw(st.booleans()):
        found.append(draw(pick("evaluate", "evaluate { batch_size: 16 }")))
    if draw(one_in(5)):
        found.append(draw(pick('save "model.keras"', 'save "model.h5"')))
    if draw(one_in(5)):
        found.append('predict "predictions.csv"')
    if draw(one_in(6)):
        found.append('plot "curves.png"')
    return found


# ---- the whole spec --------------------------------------------------------------------


def _inputs_text(ports) -> list[str]:
    lines = []
    for port in ports:
        shape = ", ".join("None" if d is None else str(d) for d in port.shape)
        shape = f"({shape},)" if len(port.shape) == 1 else f"({shape})"
        dtype = ", dtype=int32" if port.kind == "tokens" else ""
        lines.append(f"input {port.name}: {shape}{dtype}")
    return lines


@st.composite
def sequential_text(draw, port: Port, target: Target, out: Head) -> tuple[tuple[Port, ...], str]:
    """The declared input and a `sequential` block: the trunk, then the head."""
    port, layers = draw(trunk(port))
    if draw(one_in(3)) and layers:
        layers[0] = f"hidden = {layers[0]}"
    layers.append(f"{target.name} = {out.layer}" if draw(st.booleans()) else out.layer)
    return (port,), "\n".join(["sequential {", *(f"    {line}" for line in layers), "}"])


def _merge_inputs(draw, ports: tuple[Port, ...]) -> tuple[tuple[Port, ...], list[str], list[str]]:
    """Each input's trunk into `merged` (two inputs) or `body` (one): the declared
    inputs, definitions and edges."""
    merge = None
    defs, edges, declared = [], [], []
    if len(ports) > 1:
        merge = draw(pick("Concatenate()", "Concatenate()", "Add()", "Average()", "Multiply()"))
        defs.append(f"merged = {merge}")
    width = draw(UNITS)
    for port in ports:
        port, layers = draw(trunk(port))
        declared.append(port)
        if merge and merge != "Concatenate()":
            layers.append(f"Dense({width})")  # equal shapes for an element-wise merge
        edges.append(" -> ".join([port.name, *layers, "merged" if merge else "body"]))
    if not merge:
        defs.append(
            f"body = {draw(pick('Dense(16, activation=relu)', 'Dropout(0.1)', 'Activation(relu)'))}"
        )
    return tuple(declared), defs, edges


@st.composite
def graph_text(draw, ports, targets, heads) -> tuple[tuple[Port, ...], str]:
    """The declared inputs, a `graph` block and its `output` statement."""
    ports, defs, edges = _merge_inputs(draw, ports)
    last = "merged" if len(ports) > 1 else "body"
    if draw(st.booleans()):
        defs.append(f"hidden = Dense({draw(UNITS)}{_act(draw)})")
        edges.append(f"{last} -> hidden")
        last = "hidden"
    defs += [f"{t.name} = {h.layer}" for t, h in zip(targets, heads)]
    names = [t.name for t in targets]
    if len(names) > 1 and draw(st.booleans()):
        edges.append(f"{last} -> [{', '.join(names)}]")
    else:
        edges += [f"{last} -> {name}" for name in names]
    lines = ["graph {", *(f"    {line}" for line in [*defs, *edges]), "}"]
    if len(names) > 1 or draw(st.booleans()):
        lines.append(f"output {', '.join(names)}")
    return ports, "\n".join(lines)


@st.composite
def specs(draw) -> Drawn:
    """A complete spec: model, data, inputs, architecture, compile, fit, actions."""
    problem = draw(problems())
    fixed = problem.file is None
    heads = [draw(head(t, fixed, problem.autoencoder)) for t in problem.targets]
    file = problem.file
    if file is not None:
        labels = [_label_feed(t, h, k) for t, h, k in zip(problem.targets, heads, file.labels)]
        file = replace(file, feeds=file.feeds + tuple(labels))
    single = len(problem.inputs) == 1 and len(problem.targets) == 1
    sequential = single and draw(st.booleans())
    if sequential:
        ports, arch = draw(sequential_text(problem.inputs[0], problem.targets[0], heads[0]))
    else:
        ports, arch = draw(graph_text(problem.inputs, problem.targets, heads))
    lines = [f"model {draw(pick('drawn', 'spec', 'whole'))}", problem.data]
    lines += [*_inputs_text(ports), arch]
    if not draw(one_in(25)):  # deliberately no compile block now and then: E406
        lines.append(draw(compile_block(problem.targets, heads)))
    fit = draw(fit_block(problem.targets, heads))
    lines += [fit] if fit else []
    lines += draw(actions())
    api = "sequential" if sequential else "graph"
    shape = f"{len(problem.inputs)} in, {len(problem.targets)} out"
    tags = (api, shape, *problem.tags, *(h.family for h in heads))
    return Drawn("\n".join(lines) + "\n", file, tags)


# ---- what the drawn specs cover -------------------------------------------------------


def _text(pattern: str) -> Callable[[Drawn], bool]:
    found = re.compile(pattern, re.M)
    return lambda drawn: bool(found.search(drawn.text))


def _tag(tag: str) -> Callable[[Drawn], bool]:
    return lambda drawn: tag in drawn.tags


_DATA_SETTINGS = ("scale", "standardize", "labels", "reshape", "add_channel", "test_split")
_DATA_SETTINGS += ("seed", "limit", "target", "missing", "inputs", "outputs")
_OPTIMIZERS = ("adam", "sgd", "rmsprop", "adamw", "nadam", "adamax", "adagrad", "adadelta", "lion")

# What a sample of drawn specs must cover, by group: a feature and how to see it.
FEATURES: dict[str, dict[str, Callable[[Drawn], bool]]] = {
    "Models": {
        "sequential": _text(r"^sequential \{"),
        "graph": _text(r"^graph \{"),
        "two inputs": lambda d: d.text.count("\ninput ") > 1,
        "two outputs": _text(r"^output \w+, \w+"),
        "Concatenate": _text(r"merged = Concatenate"),
        "Add, Average, Multiply": _text(r"merged = (Add|Average|Multiply)"),
        "Conv2D": _text(r"Conv2D\("),
        "Conv1D": _text(r"Conv1D\("),
        "LSTM, GRU, SimpleRNN": _text(r"(LSTM|GRU|SimpleRNN)\("),
        "Bidirectional": _text(r"Bidirectional\("),
        "Embedding": _text(r"Embedding\("),
        "BatchNormalization": _text(r"BatchNormalization\("),
        "Dropout": _text(r"Dropout\("),
        "variable steps": _text(r"^input \w+: \(None"),
    },
    "Data": {
        **{name: _text(rf"^data {name}\b") for name in BUILTIN},
        "classification(...)": _text(r"^data classification\("),
        "regression(...)": _text(r"^data regression\("),
        "csv": _text(r"^data csv\("),
        "npz": _text(r"^data npz\("),
        "npz split": lambda d: d.file is not None and d.file.split,
        "csv with empty cells": lambda d: d.file is not None and d.file.blanks,
        **{f"{name}:": _text(rf"^data .*\b{name}: ") for name in _DATA_SETTINGS},
    },
    "Compile": {
        **{f"{family} loss": _tag(family) for family in ("sparse", "categorical", "binary")},
        "regression loss": _tag("regression"),
        "from_logits": _text(r"from_logits=true"),
        "losses by output": _text(r"loss: \{"),
        "losses as a list": _text(r"loss: \["),
        "metrics": _text(r"metrics: \["),
        "metrics by output": _text(r"metrics: \{"),
        "loss_weights": _text(r"loss_weights: "),
        "default optimizer": lambda d: "compile {" in d.text and "optimizer:" not in d.text,
        **{name: _text(rf"optimizer: {name}\b") for name in _OPTIMIZERS},
        **{name: _text(rf"\b{name}\(") for name in SCHEDULES},
    },
    "Fit": {
        "epochs: 2": _text(r"epochs: 2"),
        "batch_size": _text(r"batch_size: "),
        "validation: test": _text(r"validation: test"),
        "validation fraction": _text(r"validation: 0\."),
        "class_weight": _text(r"class_weight: "),
        "early_stopping": _text(r"(early_stopping|EarlyStopping)\("),
        "reduce_lr_on_plateau": _text(r"reduce_lr_on_plateau\("),
        "csv_logger": _text(r"csv_logger\("),
        "model_checkpoint": _text(r"checkpoint\("),
        "tensorboard": _text(r"tensorboard\("),
        "evaluate": _text(r"^evaluate"),
        "save": _text(r"^save "),
        "predict": _text(r"^predict "),
        "plot": _text(r"^plot "),
    },
}


def coverage(drawn: list[Drawn]) -> dict[str, dict[str, int]]:
    """How many of the drawn specs show each feature."""
    return {
        group: {name: sum(map(seen, drawn)) for name, seen in features.items()}
        for group, features in FEATURES.items()
    }


# ---- the data file ---------------------------------------------------------------------


def _values(rng, feed: Feed, samples: int):
    import numpy as np

    shape = (samples, *feed.shape)
    if feed.kind == "tokens":
        return rng.integers(0, feed.size, shape)
    if feed.kind == "classes":
        return rng.integers(0, feed.size, samples)
    if feed.kind == "binary":
        return rng.integers(0, 2, shape)
    if feed.kind == "one_hot":
        return np.eye(feed.size, dtype="float32")[rng.integers(0, feed.size, samples)]
    if feed.kind == "regression":
        return rng.normal(size=shape).astype("float32")
    return rng.random(shape).astype("float32")


def write_file(file: DataFile, folder: Path) -> None:
    """Write the data file with random values of the declared shapes."""
    import numpy as np

    rng = np.random.default_rng(0)
    if file.fmt == "npz":
        parts = (("_train", file.samples), ("_test", 16)) if file.split else (("", file.samples),)
        arrays = {
            f"{feed.key}{suffix}": _values(rng, feed, n)
            for suffix, n in parts
            for feed in file.feeds
        }
        np.savez(folder / file.name, **arrays)
        return
    header, columns = [], []
    for feed in file.feeds:
        keys = feed.key if isinstance(feed.key, tuple) else (feed.key,)
        values = _values(rng, feed, file.samples).reshape(file.samples, -1)
        header += keys
        columns += [values[:, i].round(4).tolist() for i in range(len(keys))]
    rows = [list(row) for row in zip(*columns)]
    if file.blanks:
        for i in (1, 5, 9):
            rows[i][0] = ""
    with open(folder / file.name, "w", newline="") as f:
        writer = csv.writer(f, delimiter=file.delimiter)
        writer.writerow(header)
        writer.writerows(rows)


# ---- running a spec as `nnspec run` does -----------------------------------------------


@contextlib.contextmanager
def _working_dir(folder: Path):
    """Paths in a spec are relative to the working directory, as for `nnspec run`."""
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


class Failed(Exception):
    """A step of the run failed: the step and the error."""

    def __init__(self, step: str, error: BaseException):
        super().__init__(f"{step}: {type(error).__name__}: {_first_line(error)}")
        self.step = step


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:400]


def _step(name: str, action, *args, **kwargs):
    try:
        return action(*args, **kwargs)
    except Exception as err:  # noqa: BLE001  (Keras raises ValueError, TypeError, ...)
        raise Failed(name, err) from err


def _made(kwargs, namespace: dict) -> dict:
    """Keyword arguments as `run` makes them: calls made, variables looked up."""
    from nnspec.keras import train

    return {k: train._make(v, namespace) for k, v in kwargs}


def run_model(model, folder: Path) -> dict:
    """Load the data, build, compile, fit one step and evaluate `model` (a checked
    model) in `folder`, as `nnspec run` does; returns the test metrics. Raises
    Failed with the step that failed."""
    import keras

    from nnspec.keras import train
    from nnspec.keras.builder import build_model
    from nnspec.keras.plan import program

    out = folder / "run"
    out.mkdir(exist_ok=True)
    p = _step("program", program, model, (), str(out))
    _step("check files", train.check_files, p, None)
    namespace, arrays = _step("load", train.load, p)
    _step("check arrays", train.check_arrays, model, p, arrays)
    namespace.update(train.named_arrays(arrays))  # w_train and w_test with sample weights
    x_train, y_train, x_test, y_test = (
        namespace[k] for k in ("x_train", "y_train", "x_test", "y_test")
    )
    keras.backend.clear_session()
    if p.seed is not None:
        keras.utils.set_random_seed(p.seed)
    net = _step("build", build_model, model)
    results, history = {}, None
    if p.compile_kwargs is not None:  # else it predicts untrained, as `run` does (W404)
        made = _step("compile", _made, p.compile_kwargs, namespace)
        _step("compile", net.compile, **made)
        fit = _step("fit", _made, p.fit_kwargs, namespace)
        fit.update(steps_per_epoch=1, verbose=0)
        history = _step("fit", net.fit, x_train, y_train, **fit)
        results = _step(
            "evaluate",
            net.evaluate,
            x_test,
            y_test,
            sample_weight=namespace.get("w_test"),
            return_dict=True,
            verbose=0,
            **dict(p.evaluate or ()),
        )
    if p.save:
        _step("save", net.save, out / Path(p.save).name)
    if p.plot and history is not None:
        _step("plot", namespace["plot_history"], history.history, str(out / Path(p.plot).name))
    if p.predict:
        predictions = _step("predict", net.predict, x_test, verbose=0)
        if len(p.predict) > 1 and len(predictions) != len(p.predict):
            raise Failed(
                "predict", ValueError(f"{len(predictions)} predictions, {len(p.predict)} files")
            )
    return results


def run_drawn(drawn: Drawn, model) -> str | None:
    """Run the drawn spec's model on its data in a fresh folder: the error, or None."""
    with tempfile.TemporaryDirectory(prefix="nnspec-whole-") as tmp:
        folder = Path(tmp)
        if drawn.file is not None:
            write_file(drawn.file, folder)
        with _working_dir(folder), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                run_model(model, folder)
            except Failed as err:
                return str(err)
    return None


# ---- verdicts --------------------------------------------------------------------------

TRAINED = "trained"  # checks clean; Keras trains it
KERAS_FAILURE = "Keras failure"  # checks clean, but the run fails: a bug in nnspec
REJECTED_BOTH = "rejected by both"  # nnspec reports an error; Keras fails too
STRICTER = "stricter"  # nnspec reports an error; Keras trains it (reason in STRICTER_REASONS)
UNEXPLAINED = "unexplained"  # nnspec reports an error Keras does not: a reason to find
NOT_RUN = "rejected, not run"  # nnspec's errors leave nothing Keras could run
HOST_LIMIT = "host limit"  # the run fails for a reason outside the spec (HOST_LIMITS)
NOTHING_TO_TRAIN = "nothing to train"  # checks clean, no compile block: `run` refuses, or predicts

# Errors about the training setup: the model, the data and the compile arguments are
# all there, so Keras can be asked whether it trains the spec anyway.
TRAINING_SETUP = ("E401", "E402", "E403", "E404", "E405", "E408", "E409")

# nnspec rejects, Keras trains: a phrase of nnspec's message -> why nnspec is stricter.
STRICTER_REASONS = {
    "one: its value never changes": (
        "categorical_crossentropy, categorical_accuracy or top_k_categorical_accuracy as the "
        "metric of a one-unit output: Keras computes a constant (and fails on labels stored "
        "flat, `(N,)`); nnspec reports it (E408)"
    ),
    "a unit at 0 is clipped to 1e-7": (
        "relu before sparse_categorical_crossentropy: Keras trains it, but a unit at 0 gets "
        "no gradient and training stalls (E401)"
    ),
    "which can be negative": (
        "an output that can be negative before a crossentropy: Keras clips negative values "
        "to 1e-7, and they stop learning (E401)"
    ),
    "whose units can all be 0 at once": (
        "relu or hard_sigmoid before categorical_crossentropy: the loss turns NaN when every "
        "unit is 0 (E401)"
    ),
    "scores each unit as a separate yes/no": (
        "binary_crossentropy on a softmax over more than two units: Keras trains it, but "
        "scores each class as a separate yes/no (E401)"
    ),
    "sets the learning rate, but the optimizer's is a schedule": (
        "ReduceLROnPlateau with a learning-rate schedule: Keras fails only when the callback "
        "first lowers the rate (not within the one or two epochs run here); nnspec reports "
        "it before training (E409)"
    ),
    "expects class labels, but data": (
        "a class loss on continuous targets: Keras computes it on any numbers, but it is no "
        "regression loss (E404)"
    ),
    "is for two classes, but data": (
        "a binary loss on labels of more than two classes: Keras computes it (labels above 1 "
        "count as more than certain), but it cannot learn the classes; nnspec reports it (E404)"
    ),
    "classes, but output": (
        "an output with more units than the data has classes: Keras trains it, but the "
        "extra units never see a label; nnspec asks for one unit per class (E405)"
    ),
    "always outputs 1.0": (
        "a softmax over a single unit always outputs 1.0, so the output learns nothing (E403)"
    ),
}


# Run-time failures that say nothing about the spec: a phrase of the error -> why.
HOST_LIMITS = {
    "TensorBoard is not installed": (
        "the `tensorboard` callback needs the tensorboard package, which TensorFlow 2.21 "
        "no longer installs: nnspec's `tf` and `gpu` extras list it, and `nnspec run` "
        "without it exits 2 saying so (`pip install tensorboard`)"
    ),
}


@dataclass(frozen=True)
class Verdict:
    kind: str
    detail: str = ""
    seconds: float = 0.0


def _reason(errors) -> str | None:
    """The reason nnspec is stricter, when the table explains every error."""
    reasons = []
    for diag in errors:
        text = f"{diag.code} {diag.message}"
        found = next((r for phrase, r in STRICTER_REASONS.items() if phrase in text), None)
        if found is None:
            return None
        reasons.append(found)
    return "; ".join(dict.fromkeys(reasons))


def judge(drawn: Drawn) -> Verdict:
    """Check the spec, then run it (when it checks clean, or is rejected for its
    training setup only) and compare."""
    start = time.perf_counter()
    result = compile_text(drawn.text)
    errors = result.errors
    codes = " ".join(f"{d.code} {d.message}" for d in errors)
    runnable = result.model is not None and all(d.code in TRAINING_SETUP for d in errors)
    if not runnable:
        return Verdict(NOT_RUN, codes, time.perf_counter() - start)
    untrained = result.model.compile is None
    if untrained and not any(a.keyword == "predict" for a in result.model.actions):
        why = "no compile block: `nnspec run` refuses the spec before TensorFlow starts"
        return Verdict(NOTHING_TO_TRAIN, why, time.perf_counter() - start)
    error = run_drawn(drawn, result.model)
    took = time.perf_counter() - start
    limit = next((why for phrase, why in HOST_LIMITS.items() if phrase in (error or "")), None)
    if limit is not None:
        return Verdict(HOST_LIMIT, limit, took)
    if not errors and untrained and error is None:
        why = "no compile block: `nnspec run` predicts with the initial weights (W404)"
        return Verdict(NOTHING_TO_TRAIN, why, took)
    if not errors:
        return Verdict(TRAINED if error is None else KERAS_FAILURE, error or "", took)
    if error is not None:
        return Verdict(REJECTED_BOTH, f"nnspec: {codes} | Keras: {error}", took)
    reason = _reason(errors)
    if reason is None:
        return Verdict(UNEXPLAINED, f"nnspec: {codes}; Keras trains it", took)
    return Verdict(STRICTER, reason, took)


def sample(examples: int) -> list[Drawn]:
    """`examples` different drawn specs, seeded: the same specs every run.

    Hypothesis mutates earlier draws, so some come out alike: twice as many
    are drawn (a few milliseconds each) and the first different ones kept."""
    found: dict[str, Drawn] = {}

    @settings(
        max_examples=2 * examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(specs())
    def draw(drawn):
        found.setdefault(drawn.text, drawn)

    draw()
    return list(found.values())[:examples]


def survey(examples: int, echo=None) -> list[tuple[Drawn, Verdict]]:
    """Judge `examples` drawn specs; `echo` is told of each verdict as it comes."""
    found = []
    for drawn in sample(examples):
        found.append((drawn, judge(drawn)))
        if echo is not None:
            echo(len(found), *found[-1])
    return found
