"""Metrics against the labels of their outputs, loss weights against the losses,
and the callbacks that watch the metrics.

Keras's metrics read labels in three ways (found by running every metric on every
kind of labels; tests/whole_specs.py runs whole specs): the element-wise ones
broadcast one label per sample over one output unit only, some need a label
column per unit, and the sparse ones need one class id per sample. Keras stops
with `Dimensions must be equal` or `must have the same rank` otherwise. For an
output of one unit, `run` and `gen` make flat labels a column where one of its
metrics needs that and makes sense on one unit (`column_labels`).

A callback that watches a quantity (EarlyStopping, ReduceLROnPlateau,
ModelCheckpoint) with `mode=auto` must tell whether it should fall or rise:
Keras knows that of `loss` and of each compiled metric, by the metric's own
name (`accuracy`, also on a model whose outputs log `kind_accuracy`), and stops
training with an error after the first epoch for anything else. ReduceLROnPlateau
sets the optimizer's learning rate, which Keras refuses when it is a schedule.

Keras takes one loss weight per loss as written: one weight for one loss shared by
all outputs, one per output for a list or mapping of losses.
"""

from __future__ import annotations

from msgspec import Struct

from nnspec.check.data import label_column
from nnspec.check.model import CheckedModel, TensorRef
from nnspec.diagnostics.records import Diagnostic, Span
from nnspec.diagnostics.wording import plural
from nnspec.syntax import ir
from nnspec.vocab.catalog import BoundCall, find_loss
from nnspec.vocab.settings import PerOutput

# One value per sample broadcast over the units: fine for one unit only.
_ELEMENTWISE = frozenset(
    ("binary_accuracy", "mae", "mse", "mape", "msle", "mean_absolute_error")
    + ("mean_squared_error", "mean_absolute_percentage_error", "mean_squared_logarithmic_error")
    + ("root_mean_squared_error", "log_cosh_error", "kl_divergence", "poisson", "hinge")
    + ("squared_hinge", "categorical_hinge", "cosine_similarity", "auc", "precision", "recall")
    + ("r2_score",)
)
# Labels of the output's rank: a column per unit, also for a single unit.
_SAME_RANK = frozenset(
    ("binary_crossentropy", "categorical_crossentropy", "top_k_categorical_accuracy", "f1_score")
)
# Of those, the ones that make sense on one unit: nnspec makes the flat labels (N,) of
# a one-unit output a column (N, 1) for them (Keras's losses and its other metrics
# take either).
COLUMN_METRICS = frozenset(("binary_crossentropy", "f1_score"))
# One class id per sample.
_SPARSE = frozenset(
    ("sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy")
    + ("sparse_categorical_crossentropy",)
)
# Across the units of one output: on a single unit there is one class, and the value
# is constant (Keras also fails on such labels stored flat, `(N,)`).
_ACROSS_UNITS = frozenset(
    ("categorical_crossentropy", "top_k_categorical_accuracy", "categorical_accuracy")
)
_WATCHERS = ("EarlyStopping", "ReduceLROnPlateau", "ModelCheckpoint")
_ID_METRICS = "accuracy, sparse_categorical_accuracy or sparse_top_k_categorical_accuracy"


def check_metrics(model: CheckedModel, spec: ir.Spec, diags: list[Diagnostic]) -> None:
    """Each output's metrics against its labels; the callbacks' monitored quantities."""
    if model.compile is None:
        return
    names = [ref.source for ref in model.outputs]
    metrics = per_output(model.compile.metrics, names)
    if model.compile.loss_weights is not None and spec.compile is not None:
        _loss_weights(model.compile, names, spec.compile.mapping.get("loss_weights"), diags)
    if model.compile.metrics is not None and spec.compile is not None:
        span = spec.compile.mapping.get("metrics").value.span
        losses = per_output(model.compile.loss, names)
        for ref in model.outputs:
            for metric in metrics.get(ref.source, ()):
                _metric_fits(model, ref, metric, losses.get(ref.source, [None])[0], span, diags)
    if model.fit is not None:
        known = {"loss"} | {metric_name(m) for found in metrics.values() for m in found}
        _monitors(model, known, diags)
        _plateau_on_schedule(model, diags)


def column_labels(model: CheckedModel) -> tuple[str, ...]:
    """The outputs of shape (None, 1) whose labels `run` and `gen` reshape to (N, 1):
    a metric of theirs needs labels of the output's rank (labels stored as a column
    already are left as they are)."""
    data = model.data
    if model.compile is None or data is None or data.settings.target == "inputs":
        return ()
    if data.info.task == "classification" and data.settings.labels == "one_hot":
        return ()
    metrics = per_output(model.compile.metrics, [ref.source for ref in model.outputs])
    return tuple(
        ref.source
        for ref in model.outputs
        if model.shape_of(ref) == (None, 1)
        and any(metric_name(m) in COLUMN_METRICS for m in metrics.get(ref.source, ()))
    )


def per_output(value: PerOutput | None, names: list[str]) -> dict[str, list]:
    """The entries of a per-output setting (loss, metrics) for each output, as Keras
    reads them: for one output a list is all its own."""
    if value is None:
        return {}
    if value.items:
        if len(names) == 1:
            return {names[0]: _flat(value.items)}
        return {name: _flat([item]) for name, item in zip(names, value.items)}
    if value.by_name:
        return {name: _flat([item]) for name, item, _ in value.by_name}
    if value.single is None:  # an empty list: `metrics: []`
        return {}
    return {name: _flat([value.single]) for name in names}


def _flat(values) -> list:
    found = []
    for value in values:
        found.extend(value if isinstance(value, tuple) else [value])
    return found


def metric_name(metric) -> str:
    """`auc` for `auc` and `auc(num_thresholds=100)`."""
    return metric if isinstance(metric, str) else metric.name


class _Labels(Struct, frozen=True):
    """How an output's labels reach Keras: `ids` (one class id or one target per
    sample) or `rows` (one-hot, or several targets); classes or not; in words."""

    form: str
    classes: bool
    said: str


def _labels(model: CheckedModel, output: str, loss) -> _Labels | None:
    """The labels of an output with `loss`, from the data where it tells, else from
    the loss; None if unknown."""
    data = model.data
    if data is not None and data.settings.target == "inputs":
        return None
    if data is not None and data.info.task != "unknown" and len(model.outputs) == 1:
        source = data.source.name
        if data.info.task == "classification":
            if data.settings.labels == "one_hot":
                return _Labels("rows", True, "the data block makes the labels one-hot")
            return _Labels("ids", True, f"data `{source}` gives one integer class id per sample")
        if data.info.targets == 1:
            return _Labels("ids", False, f"data `{source}` gives one target per sample")
        return _Labels("rows", False, f"data `{source}` gives {data.info.targets} targets")
    info = find_loss(metric_name(loss)) if loss is not None else None
    column = label_column(data, output) if data is not None else None
    if column is not None:
        classes = info is None or info.labels != "regression"
        return _Labels("ids", classes, f"CSV column `{column}` gives one value per sample")
    if info is not None and info.labels == "sparse":
        return _Labels("ids", True, f"`{info.name}` takes one integer class id per sample")
    if info is not None and info.labels == "categorical":
        return _Labels("rows", True, f"`{info.name}` takes one-hot labels")
    return None


def _problem(name: str, labels: _Labels, shape: tuple) -> str | None:
    """What goes wrong with metric `name` on an output of `shape`; None if nothing does."""
    units = shape[-1]
    if labels.form == "ids" and name in _ELEMENTWISE and units > 1:
        return f"compares each of the {units} units with the label"
    column = shape == (None, 1) and name in COLUMN_METRICS  # labels made a column
    if labels.form == "ids" and name in _SAME_RANK and not column:
        return f"needs labels with a column per unit, of shape (N, {units})"
    if labels.form == "ids" and name == "sparse_categorical_crossentropy" and units == 1:
        return "needs one output unit per class"
    if labels.form == "rows" and name in _SPARSE:
        return "expects one class id per sample"
    return None


def _hint(labels: _Labels, units: int) -> str:
    """Metrics that take these labels."""
    if not labels.classes:
        return "use mae, mse, root_mean_squared_error or r2_score"
    if labels.form == "rows":
        return "use accuracy, categorical_accuracy or top_k_categorical_accuracy"
    if units == 1:
        return "use accuracy, binary_accuracy, auc, precision or recall"
    return f"use {_ID_METRICS}"


def _metric_fits(model, ref: TensorRef, metric, loss, span: Span, diags) -> None:
    shape = model.shape_of(ref)
    if not isinstance(shape, tuple) or shape[-1] is None:
        return
    name, where = metric_name(metric), metric.span if isinstance(metric, ir.Call) else span
    if shape[-1] == 1 and name in _ACROSS_UNITS:
        message = (
            f"`{name}` on output `{ref.source}` compares the units of an output that has "
            "one: its value never changes (and Keras fails on labels stored flat)"
        )
        hint = "use accuracy, binary_accuracy, auc, precision or recall"
        diags.append(Diagnostic("E408", message, where, (hint,)))
        return
    labels = _labels(model, ref.source, loss)
    found = labels and _problem(name, labels, shape)
    if found:
        message = f"`{name}` on output `{ref.source}` {found}, but {labels.said}: "
        hint = _hint(labels, shape[-1])
        diags.append(Diagnostic("E408", message + "Keras stops with a shape error", where, (hint,)))


def _monitors(model: CheckedModel, known: set[str], diags: list[Diagnostic]) -> None:
    """Callbacks watching, with mode=auto, a quantity Keras cannot tell the direction of."""
    for callback in model.fit.callbacks or ():
        if callback.callee.name not in _WATCHERS or callback.config["mode"] != "auto":
            continue
        monitor = callback.config["monitor"]
        if monitor.removeprefix("val_") in known:
            continue
        metrics = ", ".join(f"`{m}`" for m in sorted(known - {"loss"})) or "none"
        hint = "add `mode=min` if it should fall, `mode=max` if it should rise"
        if monitor.endswith("_loss") and len(model.outputs) > 1:
            hint = "add `mode=min`: Keras knows the direction of `loss`, not of each output's"
        diags.append(
            Diagnostic(
                "E409",
                f"{callback.callee.name} watches `{monitor}` with mode=auto, but Keras can tell "
                f"only whether `loss` and the compiled metrics ({metrics}) should fall or rise: "
                "training stops with an error after the first epoch",
                callback.call.span,
                (hint,),
            )
        )


def _plateau_on_schedule(model: CheckedModel, diags: list[Diagnostic]) -> None:
    """ReduceLROnPlateau with an optimizer whose learning rate is a schedule."""
    optimizer = model.compile.optimizer
    rate = optimizer.config["learning_rate"] if isinstance(optimizer, BoundCall) else None
    if not isinstance(rate, BoundCall):
        return
    for callback in model.fit.callbacks or ():
        if callback.callee.name == "ReduceLROnPlateau":
            diags.append(
                Diagnostic(
                    "E409",
                    f"ReduceLROnPlateau sets the learning rate, but the optimizer's is a "
                    f"schedule ({rate.call.name}): Keras stops training with an error the "
                    "first time it lowers it",
                    callback.call.span,
                    ("give the optimizer a fixed learning_rate, or drop the callback",),
                )
            )


def _loss_weights(cfg, names: list[str], entry, diags: list[Diagnostic]) -> None:
    """As many loss weights as losses, each output's named once in a mapping."""
    for name, _, span in cfg.loss_weights.by_name:
        if name not in names:
            hint = f"outputs: {', '.join(names)}"
            diags.append(Diagnostic("E202", f"`{name}` is not a model output", span, (hint,)))
    found = _weights_problem(cfg.loss, cfg.loss_weights, names)
    if found is not None:
        message = f"`loss_weights`: {found[0]}; Keras takes one weight per loss"
        diags.append(Diagnostic("E402", message, entry.value.span, (found[1],)))


def _weights_problem(
    loss: PerOutput, weights: PerOutput, names: list[str]
) -> tuple[str, str] | None:
    """What is wrong with `weights` for `loss`, and a hint; None if nothing is."""
    given = len(weights.items) or len(weights.by_name) or 1
    per_output = "give one weight per output, in output order or by name"
    if loss.single is not None:
        if given == 1:
            return None
        return f"{plural(given, 'weight')} for one loss shared by every output", (
            "give one number, or one loss per output"
        )
    if weights.single is not None:
        return "one number, but `loss` gives each output its own loss", per_output
    if weights.items and given != len(names):
        return f"{plural(given, 'weight')} for {plural(len(names), 'loss', 'losses')}", per_output
    missing = [n for n in names if n not in {k for k, _, _ in weights.by_name}]
    if weights.by_name and missing:
        return f"no weight for output{'s' if len(missing) > 1 else ''} {', '.join(missing)}", (
            per_output
        )
    return None
