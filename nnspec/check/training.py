"""Checks that need the whole model: loss against output layer, labels and
classes against the data, data shape against the input."""

from __future__ import annotations

from collections.abc import Callable

from msgspec import Struct

from nnspec.check.data import label_column
from nnspec.check.metrics import check_metrics
from nnspec.check.model import CheckedModel, TensorRef
from nnspec.diagnostics.records import Diagnostic, Severity, Span
from nnspec.diagnostics.wording import plural
from nnspec.syntax import ir
from nnspec.vocab.catalog import find_loss
from nnspec.vocab.layers.registry import show


def check_training(model: CheckedModel, spec: ir.Spec, diags: list[Diagnostic]) -> None:
    _softmax_units(model, diags)
    _fit_settings(model, spec.fit, diags)
    if model.compile is not None:
        _losses(model, spec.compile, diags)
        _metrics(model, spec.compile, diags)
        check_metrics(model, spec, diags)
    elif spec.compile is None:  # not one with errors of its own
        _uncompiled(spec, diags)


_COMPILE_HINT = "e.g. `compile { loss: sparse_categorical_crossentropy, optimizer: adam }`"


def _uncompiled(spec: ir.Spec, diags: list[Diagnostic]) -> None:
    """Without a `compile` block Keras can neither fit nor evaluate the model (E406);
    it predicts, with the weights as initialized (W404)."""
    action = {a.keyword: a for a in spec.actions}
    if spec.fit is not None:
        diags.append(
            Diagnostic(
                "E406",
                "`fit` needs a `compile` block with a loss and an optimizer",
                spec.fit.span,
                (_COMPILE_HINT,),
            )
        )
    if "evaluate" in action:
        diags.append(
            Diagnostic(
                "E406",
                "`evaluate` needs a `compile` block: Keras evaluates only a compiled model, "
                "with its loss and metrics",
                action["evaluate"].span,
                (_COMPILE_HINT,),
            )
        )
    if "predict" in action and spec.fit is None:
        diags.append(
            Diagnostic(
                "W404",
                "`predict` without a `compile` block: the model is never trained, and its "
                "predictions come from the initial, random weights",
                action["predict"].span,
                (f"add a `compile` block to train it first, {_COMPILE_HINT}",),
                Severity.WARNING,
            )
        )


# Activation layers by the activation function they apply.
_ACTIVATION_LAYERS = {"LeakyReLU": "leaky_relu", "ELU": "elu"}


def activation_of(model: CheckedModel, ref: TensorRef) -> str | None:
    """The activation a layer ends with: `softmax`, `linear`, `relu` (also from an
    activation layer such as ReLU()); None if unknown."""
    layer = model.layers.get(ref.source)
    if layer is None:
        return None
    kind, cfg = layer.call.type, layer.call.config
    if kind.activation is not None:
        return kind.activation
    if kind.name == "ReLU":
        return "leaky_relu" if cfg.negative_slope else "relu"
    if kind.name in _ACTIVATION_LAYERS:
        return _ACTIVATION_LAYERS[kind.name]
    if "activation" in cfg:
        act = cfg.activation
        return "linear" if act is None else act if isinstance(act, str) else act.name
    return None


def _softmax_units(model: CheckedModel, diags: list[Diagnostic]) -> None:
    for node in model.nodes:
        ref = TensorRef(node.layer, node.app)
        shape = node.shape
        if activation_of(model, ref) == "softmax" and isinstance(shape, tuple) and shape[-1] == 1:
            diags.append(
                Diagnostic(
                    "E403",
                    f"softmax over a single unit in `{node.layer}` always outputs 1.0",
                    model.layers[node.layer].span,
                    (
                        "for a yes/no output use `activation=sigmoid` with binary_crossentropy",
                        "for n classes use n units",
                    ),
                )
            )


def _loss_span(block: ir.Settings) -> Span:
    entry = block.mapping.get("loss")
    return entry.value.span if entry else block.span


def _losses(model: CheckedModel, block: ir.Settings, diags: list[Diagnostic]) -> None:
    per = model.compile.loss
    outputs = model.outputs
    names = [ref.source for ref in outputs]
    span = _loss_span(block)
    if per.items:
        if len(per.items) != len(outputs):
            diags.append(
                Diagnostic(
                    "E402",
                    f"{plural(len(per.items), 'loss', 'losses')} for "
                    f"{plural(len(outputs), 'output')} ({', '.join(names)})",
                    span,
                    ("give one loss per output, in output order, or a mapping by name",),
                )
            )
            return
        losses = list(per.items)
    elif per.by_name:
        given = {name: (loss, key_span) for name, loss, key_span in per.by_name}
        for name, (_, key_span) in given.items():
            if name not in names:
                diags.append(
                    Diagnostic(
                        "E202",
                        f"`{name}` is not a model output",
                        key_span,
                        (f"outputs: {', '.join(names)}",),
                    )
                )
        missing = [n for n in names if n not in given]
        if missing:
            diags.append(
                Diagnostic(
                    "E402",
                    f"no loss for output{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
                    span,
                )
            )
            return
        losses = [given[n][0] for n in names]
    else:
        losses = [per.single] * len(outputs)
    for ref, loss in zip(outputs, losses):
        _loss_fits(model, ref, loss, span, diags)


class _Fit(Struct, frozen=True):
    """One output, the loss on it and what the data says about its labels."""

    loss: str  # as written, e.g. `bce`
    expects: str  # the loss's labels: categorical, sparse, binary or regression
    crossentropy: bool
    logits: bool  # the loss says from_logits=true
    out: str  # "output `name`", for messages
    units: int
    act: str | None
    data: str | None  # the data source's name
    task: str
    classes: int | None
    labels: str | None  # the data block's `labels` setting
    targets: int | None
    outputs: int  # how many outputs the model has
    column: str | None = None  # the one CSV column the labels are read from

    @property
    def class_labels(self) -> bool:
        """The data's class labels are this output's: a classification source, one output."""
        return self.task == "classification" and self.outputs == 1

    @property
    def binary_units(self) -> int:
        return 2 if self.labels == "one_hot" else 1

    @property
    def probabilities(self) -> bool:
        """The loss takes the log of the outputs: a crossentropy without from_logits."""
        return self.crossentropy and not self.logits

    @property
    def proper(self) -> str:
        """The output activation that gives the probabilities the loss expects."""
        return "sigmoid" if self.expects == "binary" else "softmax"


class _Rule(Struct, frozen=True):
    """A way a loss can disagree with its output or its labels.

    A `final` rule that fires ends the checks: the later ones would only
    restate the same mistake."""

    code: str
    expects: tuple[str, ...]  # the losses it concerns, by the labels they expect
    when: Callable[[_Fit], bool]
    message: Callable[[_Fit], str]
    hint: str | Callable[[_Fit], str] | None = None
    final: bool = False
    severity: Severity = Severity.ERROR

    def diagnostic(self, fit: _Fit, span: Span) -> Diagnostic:
        hint = self.hint(fit) if callable(self.hint) else self.hint
        return Diagnostic(
            self.code, self.message(fit), span, (hint,) if hint else (), self.severity
        )


_CLASS_LOSSES = ("categorical", "sparse")
_LABEL_LOSSES = (*_CLASS_LOSSES, "binary")
_ANY_LOSS = (*_LABEL_LOSSES, "regression")

# Output activations that give no probabilities, by what they give instead; what
# Keras 3 does with each against a crossentropy is in the E401/W401 rules below.
_NEGATIVE = frozenset(
    ("celu", "elu", "gelu", "hard_shrink", "hard_silu", "hard_swish", "hard_tanh")
    + ("leaky_relu", "log_sigmoid", "log_softmax", "mish", "selu", "silu", "soft_shrink")
    + ("softsign", "swish", "tanh", "tanh_shrink")
)
_ALL_ZERO = frozenset(("relu", "relu6"))  # every unit can be 0, with no gradient
_ZERO_SUM = _ALL_ZERO | {"hard_sigmoid"}  # the units can sum to 0
_ABOVE_ONE = frozenset(("relu", "relu6", "softplus", "exponential", "squareplus", "sparse_plus"))
# Positive, but the units do not sum to 1.
_PER_UNIT = (_ABOVE_ONE - _ALL_ZERO) | {"sigmoid", "hard_sigmoid", "sparse_sigmoid"}


def _class_loss(fit: _Fit) -> str:
    """The hint for a regression loss on class labels: the loss to use instead."""
    if fit.labels == "one_hot":
        return "use categorical_crossentropy with activation=softmax"
    if fit.units == 1 and fit.classes == 2:
        return "use binary_crossentropy with activation=sigmoid"
    out = f"Dense({fit.classes}, activation=softmax)" if fit.classes else "a softmax output"
    return f"use sparse_categorical_crossentropy with {out}"


# In order: the messages a spec gets are the rules that fire, top to bottom.
_RULES = (
    _Rule(
        "E404",
        _LABEL_LOSSES,
        when=lambda f: f.task == "regression",
        message=lambda f: f"{f.loss} expects class labels, but data `{f.data}` has continuous targets",
        hint="use a regression loss such as mean_squared_error",
        final=True,
    ),
    _Rule(
        "E401",
        _CLASS_LOSSES,
        when=lambda f: f.units == 1,
        message=lambda f: f"{f.loss} needs one unit per class, but {f.out} has 1 unit"
        + (f" with {f.act}" if f.act else ""),
        hint="for two classes use binary_crossentropy with Dense(1, activation=sigmoid)",
        final=True,
    ),
    _Rule(
        "E404",
        ("categorical", "binary", "regression"),
        when=lambda f: f.column is not None and f.units > 1,
        message=lambda f: f"{f.loss} compares each of the {f.units} units of {f.out} with the "
        f"label, but CSV column `{f.column}` gives one value per sample: Keras stops with "
        "a shape error",
        hint="use sparse_categorical_crossentropy on class ids, or give the output one unit",
        final=True,
    ),
    _Rule(
        "E404",
        ("categorical",),
        when=lambda f: f.labels == "integer" and f.task == "classification",
        message=lambda f: f"{f.loss} expects one-hot labels, but data `{f.data}` gives integer class ids",
        hint="add `labels: one_hot` to the data block, or use sparse_categorical_crossentropy",
    ),
    _Rule(
        "E404",
        ("sparse",),
        when=lambda f: f.labels == "one_hot",
        message=lambda f: f"{f.loss} expects integer class ids, but the data block asks for one-hot labels",
        hint="use categorical_crossentropy, or drop `labels: one_hot`",
    ),
    _Rule(
        "E405",
        _CLASS_LOSSES,
        when=lambda f: f.classes is not None and f.units != f.classes,
        message=lambda f: f"data `{f.data}` has {f.classes} classes, but {f.out} has {plural(f.units, 'unit')}",
        hint=lambda f: f"give the output layer {f.classes} units",
    ),
    _Rule(
        "E401",
        ("binary",),
        when=lambda f: f.act == "softmax" and f.units > 2,
        message=lambda f: f"{f.loss} scores each unit as a separate yes/no, but {f.out} is a "
        f"{f.units}-way softmax",
        hint="for one class out of many use categorical_crossentropy "
        "(one-hot labels) or sparse_categorical_crossentropy",
        final=True,
    ),
    _Rule(
        "E404",
        ("binary",),
        when=lambda f: f.classes is not None and f.classes > 2,
        message=lambda f: f"{f.loss} is for two classes, but data `{f.data}` has {f.classes}",
        hint="use sparse_categorical_crossentropy with one unit per class",
        final=True,
    ),
    _Rule(
        "E405",
        ("binary",),
        when=lambda f: f.classes == 2 and f.units != f.binary_units,
        message=lambda f: f"binary labels need {plural(f.binary_units, 'output unit')}, "
        f"but {f.out} has {f.units}",
        hint="use Dense(1, activation=sigmoid)",
    ),
    _Rule(
        "E405",
        ("regression",),
        when=lambda f: f.task == "regression" and f.units != f.targets,
        message=lambda f: f"data `{f.data}` has {plural(f.targets, 'target')}, "
        f"but {f.out} has {plural(f.units, 'unit')}",
    ),
    _Rule(
        "W401",
        _ANY_LOSS,
        when=lambda f: f.crossentropy and f.logits and f.act in ("softmax", "sigmoid"),
        message=lambda f: f"{f.out} already applies {f.act}, but the loss says from_logits=true",
        hint="drop from_logits, or remove the output activation",
        severity=Severity.WARNING,
    ),
    _Rule(
        "W401",
        _ANY_LOSS,
        when=lambda f: f.crossentropy and not f.logits and f.act == "linear",
        message=lambda f: f"{f.out} has no activation, so it gives logits, "
        f"but {f.loss} expects probabilities",
        hint=lambda f: f"write `{f.loss}(from_logits=true)`, or add an output activation",
        severity=Severity.WARNING,
    ),
    _Rule(
        "E401",
        _LABEL_LOSSES,
        when=lambda f: f.probabilities and f.act in _NEGATIVE,
        message=lambda f: f"{f.out} ends in {f.act}, which can be negative, but {f.loss} takes "
        "the log of probabilities: Keras clips negative values to 1e-7, and they stop learning",
        hint=lambda f: f"use activation={f.proper}, or no activation and "
        f"`{f.loss}(from_logits=true)`",
        final=True,
    ),
    _Rule(
        "E401",
        ("categorical",),
        when=lambda f: f.probabilities and f.act in _ZERO_SUM,
        message=lambda f: f"{f.out} ends in {f.act}, whose units can all be 0 at once, and "
        f"{f.loss} divides each by their sum: 0/0 turns the loss NaN",
        hint="use activation=softmax",
        final=True,
    ),
    _Rule(
        "E401",
        ("sparse",),
        when=lambda f: f.probabilities and f.act in _ALL_ZERO,
        message=lambda f: f"{f.out} ends in {f.act}, and {f.loss} takes the log of each unit: "
        "a unit at 0 is clipped to 1e-7 and gets no gradient, so training stalls",
        hint="use activation=softmax",
        final=True,
    ),
    _Rule(
        "W401",
        _CLASS_LOSSES,
        when=lambda f: f.probabilities and f.act in _PER_UNIT,
        message=lambda f: f"{f.out} ends in {f.act}, so its {f.units} units do not sum to 1: "
        f"{f.loss} trains it, but its predictions are not class probabilities",
        hint="use activation=softmax",
        severity=Severity.WARNING,
    ),
    _Rule(
        "W401",
        ("binary",),
        when=lambda f: f.probabilities and f.act in _ABOVE_ONE,
        message=lambda f: f"{f.out} ends in {f.act}, which can exceed 1, but {f.loss} expects "
        "probabilities: Keras clips outputs to [1e-7, 1 - 1e-7], and clipped ones stop learning",
        hint="use activation=sigmoid",
        severity=Severity.WARNING,
    ),
    _Rule(
        "E404",
        ("regression",),
        when=lambda f: f.class_labels and f.labels != "one_hot" and f.units > 1,
        message=lambda f: f"{f.loss} compares each of the {f.units} units of {f.out} with the "
        f"label, but data `{f.data}` gives one integer class id per sample: Keras stops with "
        "`Incompatible shapes`",
        hint="use sparse_categorical_crossentropy with activation=softmax",
        final=True,
    ),
    _Rule(
        "E405",
        ("regression",),
        when=lambda f: f.class_labels
        and f.labels == "one_hot"
        and f.classes is not None
        and f.units != f.classes,
        message=lambda f: f"data `{f.data}` gives one-hot labels for {f.classes} classes, "
        f"but {f.out} has {plural(f.units, 'unit')}",
        hint=lambda f: f"give the output layer {f.classes} units",
        final=True,
    ),
    _Rule(
        "W402",
        ("regression",),
        when=lambda f: f.class_labels,
        message=lambda f: f"{f.loss} is a regression loss, but data `{f.data}` has "
        + (f"{f.classes} classes" if f.classes else "class labels")
        + (": it fits the class ids as numbers" if f.units == 1 and f.classes != 2 else ""),
        hint=_class_loss,
        severity=Severity.WARNING,
    ),
)


def _loss_fits(
    model: CheckedModel, ref: TensorRef, loss, span: Span, diags: list[Diagnostic]
) -> None:
    """Check the loss on output `ref` against the output layer and the labels."""
    shape = model.shape_of(ref)
    if not isinstance(shape, tuple) or shape[-1] is None:
        return
    name = loss if isinstance(loss, str) else loss.name
    info = find_loss(name)
    if info is None:
        return
    data = model.data
    if data is not None and data.settings.target == "inputs":
        _reconstructs(model, shape, span, diags)
        return
    fit = _Fit(
        loss=name,
        expects=info.labels,
        crossentropy=info.name.endswith("crossentropy"),
        logits=_from_logits(loss),
        out=f"output `{ref.source}`",
        units=shape[-1],
        act=activation_of(model, ref),
        data=data.source.name if data else None,
        task=data.info.task if data else "unknown",
        classes=data.info.classes if data else None,
        labels=data.settings.labels if data else None,
        targets=data.info.targets if data else None,
        outputs=len(model.outputs),
        column=label_column(data, ref.source) if data else None,
    )
    for rule in _RULES:
        if fit.expects in rule.expects and rule.when(fit):
            diags.append(rule.diagnostic(fit, span))
            if rule.final:
                return


def _from_logits(loss) -> bool:
    """Whether the loss is written `name(from_logits=true)`."""
    return isinstance(loss, ir.Call) and any(
        kw.name == "from_logits" and isinstance(kw.value, ir.Const) and kw.value.value is True
        for kw in loss.kwargs
    )


def _reconstructs(model: CheckedModel, shape, span: Span, diags: list[Diagnostic]) -> None:
    """With `target: inputs` (an autoencoder) the output must have the sample's shape."""
    data = model.data
    if data.sample_shape is not None and shape[1:] != data.sample_shape:
        diags.append(
            Diagnostic(
                "E501",
                f"with `target: inputs` the output must reproduce samples of shape "
                f"{show(data.sample_shape)}, but it has shape {show(shape[1:])}",
                span,
            )
        )


def _metrics(model: CheckedModel, block: ir.Settings, diags: list[Diagnostic]) -> None:
    """Keras takes any list of metrics for one output; for several, one entry per
    output in order (a metric or a list), or a mapping by output name."""
    per, names = model.compile.metrics, [ref.source for ref in model.outputs]
    if per is None:
        return
    span = block.mapping.get("metrics").value.span
    for name, _, key_span in per.by_name:
        if name not in names:
            diags.append(
                Diagnostic(
                    "E202",
                    f"`{name}` is not a model output",
                    key_span,
                    (f"outputs: {', '.join(names)}",),
                )
            )
    if len(names) > 1 and per.items and len(per.items) != len(names):
        example = ", ".join(f"{n}: [...]" for n in names)
        diags.append(
            Diagnostic(
                "E408",
                f"{plural(len(per.items), 'metrics entry', 'metrics entries')} for "
                f"{plural(len(names), 'output')} ({', '.join(names)}): with several outputs "
                "Keras takes one entry per output, in output order",
                span,
                (f"name the output of each metric: `metrics: {{ {example} }}`",),
            )
        )


def _fit_settings(model: CheckedModel, block: ir.Settings | None, diags) -> None:
    """Fit settings Keras refuses for this model, or ignores."""
    fit = model.fit
    if fit is None:
        return
    if fit.class_weight is not None and len(model.outputs) > 1:
        diags.append(
            Diagnostic(
                "E409",
                f"`class_weight` needs a model with one output; this one has {len(model.outputs)}",
                block.mapping.get("class_weight").value.span,
                ("weight the outputs' losses with `loss_weights` in the compile block",),
            )
        )
    if fit.validation_steps is not None and fit.validation is None:
        diags.append(
            Diagnostic(
                "W403",
                "`validation_steps` is ignored: nothing is validated",
                block.mapping.get("validation_steps").value.span,
                ("add `validation: test` (or a fraction), or remove it",),
                Severity.WARNING,
            )
        )
