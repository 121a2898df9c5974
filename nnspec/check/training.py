"""Checks that need the whole model: loss against output layer, labels and
classes against the data, data shape against the input."""

from __future__ import annotations

from nnspec.check.model import CheckedModel, TensorRef
from nnspec.diagnostics.records import Diagnostic, Severity, Span
from nnspec.diagnostics.wording import plural
from nnspec.syntax import ir
from nnspec.vocab.catalog import find_loss
from nnspec.vocab.layers.registry import show


def check_training(model: CheckedModel, spec: ir.Spec, diags: list[Diagnostic]) -> None:
    _softmax_units(model, diags)
    _data_fits_input(model, diags)
    if model.compile is not None:
        _losses(model, spec.compile, diags)
    elif spec.fit is not None:
        diags.append(
            Diagnostic(
                "E406",
                "`fit` needs a `compile` block with a loss and an optimizer",
                spec.fit.span,
                ("e.g. `compile { loss: sparse_categorical_crossentropy, optimizer: adam }`",),
            )
        )


def activation_of(model: CheckedModel, ref: TensorRef) -> str | None:
    """The activation a layer ends with: `softmax`, `sigmoid`, `linear`; None if unknown."""
    layer = model.layers.get(ref.source)
    if layer is None:
        return None
    kind, cfg = layer.call.type, layer.call.config
    if kind.activation is not None:
        return kind.activation
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


def _data_fits_input(model: CheckedModel, diags: list[Diagnostic]) -> None:
    data = model.data
    if data is None or data.sample_shape is None:
        return
    if len(model.inputs) != 1:
        diags.append(
            Diagnostic(
                "E501",
                f"data `{data.source.name}` gives one feature array, "
                f"but the model has {len(model.inputs)} inputs",
                data.span,
                ("use an `npz` source with one array per input",),
            )
        )
        return
    inp = model.inputs[0]
    wanted, found = inp.shape[1:], data.sample_shape
    if len(wanted) == len(found) and all(w is None or w == f for w, f in zip(wanted, found)):
        return
    hints = []
    size = _size(found)
    if _size(wanted) == size:
        hints.append(f"add `reshape: {show(wanted)}` to the data block")
        if len(found) > 1 and len(wanted) == 1:
            hints.append(f"or declare `input {inp.name}: {show(found)}` and start with Flatten()")
    if wanted == found + (1,):
        hints = ["add `add_channel: true` to the data block"]
    diags.append(
        Diagnostic(
            "E501",
            f"data `{data.source.name}` gives samples of shape {show(found)}, "
            f"but input `{inp.name}` expects {show(wanted)}",
            inp.span,
            tuple(hints),
        )
    )


def _size(shape) -> int | None:
    total = 1
    for d in shape:
        if d is None:
            return None
        total *= d
    return total


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


def _loss_fits(
    model: CheckedModel, ref: TensorRef, loss, span: Span, diags: list[Diagnostic]
) -> None:
    shape = model.shape_of(ref)
    if not isinstance(shape, tuple) or shape[-1] is None:
        return
    name = loss if isinstance(loss, str) else loss.name
    info = find_loss(name)
    if info is None:
        return
    units, act = shape[-1], activation_of(model, ref)
    data = model.data
    if data is not None and data.settings.target == "inputs":
        _reconstructs(model, shape, span, diags)
        return
    classes = data.info.classes if data else None
    task = data.info.task if data else "unknown"
    labels = data.settings.labels if data else None
    out = f"output `{ref.source}`"

    def error(code: str, message: str, *hints: str) -> None:
        diags.append(Diagnostic(code, message, span, hints))

    if info.labels != "regression" and task == "regression":
        error(
            "E404",
            f"{name} expects class labels, but data `{data.source.name}` has continuous targets",
            "use a regression loss such as mean_squared_error",
        )
        return
    if info.labels in ("categorical", "sparse"):
        if units == 1:
            error(
                "E401",
                f"{name} needs one unit per class, but {out} has 1 unit"
                + (f" with {act}" if act else ""),
                "for two classes use binary_crossentropy with Dense(1, activation=sigmoid)",
            )
            return
        if info.labels == "categorical" and labels == "integer" and task == "classification":
            error(
                "E404",
                f"{name} expects one-hot labels, but data `{data.source.name}` gives integer class ids",
                "add `labels: one_hot` to the data block, or use sparse_categorical_crossentropy",
            )
        if info.labels == "sparse" and labels == "one_hot":
            error(
                "E404",
                f"{name} expects integer class ids, but the data block asks for one-hot labels",
                "use categorical_crossentropy, or drop `labels: one_hot`",
            )
        if classes is not None and units != classes:
            error(
                "E405",
                f"data `{data.source.name}` has {classes} classes, but {out} has {plural(units, 'unit')}",
                f"give the output layer {classes} units",
            )
    elif info.labels == "binary":
        if act == "softmax" and units > 2:
            error(
                "E401",
                f"{name} scores each unit as a separate yes/no, but {out} is a "
                f"{units}-way softmax",
                "for one class out of many use categorical_crossentropy "
                "(one-hot labels) or sparse_categorical_crossentropy",
            )
            return
        if classes is not None and classes > 2:
            error(
                "E404",
                f"{name} is for two classes, but data `{data.source.name}` has {classes}",
                "use sparse_categorical_crossentropy with one unit per class",
            )
            return
        if classes == 2 and units != (2 if labels == "one_hot" else 1):
            error(
                "E405",
                f"binary labels need {plural(2 if labels == 'one_hot' else 1, 'output unit')}, "
                f"but {out} has {units}",
                "use Dense(1, activation=sigmoid)",
            )
    elif task == "regression" and units != data.info.targets:
        error(
            "E405",
            f"data `{data.source.name}` has {plural(data.info.targets, 'target')}, "
            f"but {out} has {plural(units, 'unit')}",
        )
    logits = isinstance(loss, ir.Call) and any(
        kw.name == "from_logits" and isinstance(kw.value, ir.Const) and kw.value.value is True
        for kw in loss.kwargs
    )
    if info.name.endswith("crossentropy"):
        if logits and act in ("softmax", "sigmoid"):
            diags.append(
                Diagnostic(
                    "W401",
                    f"{out} already applies {act}, but the loss says from_logits=true",
                    span,
                    ("drop from_logits, or remove the output activation",),
                    Severity.WARNING,
                )
            )
        elif not logits and act == "linear":
            diags.append(
                Diagnostic(
                    "W401",
                    f"{out} has no activation, so it gives logits, but {name} expects probabilities",
                    span,
                    (f"write `{name}(from_logits=true)`, or add an output activation",),
                    Severity.WARNING,
                )
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
