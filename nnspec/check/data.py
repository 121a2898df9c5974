"""The data against the model: which arrays feed which inputs and outputs, and
whether the samples have the inputs' shapes.

A source with one feature array and one label array (Keras's and scikit-learn's
data sets, the generators) feeds a model with one input and one output. An npz
archive or a CSV file feeds several, through the data block's `inputs` and
`outputs` mappings from model input or output name to array or column names.
"""

from __future__ import annotations

from nnspec.check.model import CheckedModel
from nnspec.diagnostics.records import Diagnostic, Severity, Span
from nnspec.diagnostics.wording import did_you_mean, plural
from nnspec.syntax import ir
from nnspec.vocab.layers.registry import show

MAPPED = ("npz", "csv")  # the loaders whose arrays or columns a spec can map
# Data-block settings that change one feature array: they need a single input.
ONE_ARRAY_SETTINGS = ("scale", "standardize", "reshape", "add_channel")


def check_data(model: CheckedModel, spec: ir.Spec, diags: list[Diagnostic]) -> None:
    """Every model input and output has its data, and the samples fit the inputs."""
    data = model.data
    if data is None:
        return
    block = spec.data.settings if spec.data else None
    inputs = [i.name for i in model.inputs]
    outputs = [ref.source for ref in model.outputs]
    before = len(diags)
    for setting, names, kind in (("inputs", inputs, "input"), ("outputs", outputs, "output")):
        _known_names(data.settings[setting], names, kind, diags)
        if data.source.loader in MAPPED:
            _every_name_fed(data.settings[setting], names, kind, _span(block, setting, data), diags)
    if data.source.loader != "csv" and "missing" in data.settings.explicit:
        diags.append(
            Diagnostic(
                "W502",
                f"`missing` is ignored: data `{data.source.name}` has no empty cells",
                _span(block, "missing", data),
                ("remove it; it says what an empty cell of a CSV file becomes",),
                Severity.WARNING,
            )
        )
    if data.source.loader in MAPPED and "labels" in data.settings.explicit:
        diags.append(
            Diagnostic(
                "W502",
                f"`labels` is ignored: data `{data.source.name}` gives the labels as the file "
                "stores them",
                _span(block, "labels", data),
                (
                    "store class ids for sparse_categorical_crossentropy, one-hot rows for "
                    "categorical_crossentropy",
                ),
                Severity.WARNING,
            )
        )
    if data.source.loader in MAPPED:
        _mapped_source(model, spec.data, diags)
    else:
        _one_array_source(model, block, diags)
    if len(diags) == before and len(inputs) == 1 and data.sample_shape is not None:
        _sample_fits_input(model, diags)
    if data.settings.sample_weight is not None:
        _sample_weights(model, spec, diags)


def _span(block: ir.Mapping | None, setting: str, data) -> Span:
    entry = block.get(setting) if block else None
    return entry.value.span if entry else data.span


def _known_names(mapping, names: list[str], kind: str, diags: list[Diagnostic]) -> None:
    for name, _, span in mapping or ():
        if name not in names:
            diags.append(
                Diagnostic(
                    "E202",
                    f"`{name}` is not a model {kind}",
                    span,
                    did_you_mean(name, names) or (f"{kind}s: {', '.join(names)}",),
                )
            )


def _every_name_fed(mapping, names: list[str], kind: str, span: Span, diags) -> None:
    """With several inputs (outputs) every one needs its array: there is no default."""
    if len(names) < 2:
        return
    given = {name for name, _, _ in mapping or ()}
    missing = [n for n in names if n not in given]
    if missing:
        example = ", ".join(f'{n}: "{n}"' for n in names)
        diags.append(
            Diagnostic(
                "E502",
                f"no data for model {kind}{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}: with {plural(len(names), kind)} the data block "
                f"maps each to its array or column",
                span,
                (f"e.g. `{kind}s: {{ {example} }}` in the data block",),
            )
        )


def _mapped_source(model: CheckedModel, decl: ir.DataDecl, diags) -> None:
    """An npz or CSV source: settings that need one array, CSV columns against shapes."""
    data, block = model.data, decl.settings
    for setting in ONE_ARRAY_SETTINGS if len(model.inputs) > 1 else ():
        if setting in data.settings.explicit:
            diags.append(
                Diagnostic(
                    "E502",
                    f"`{setting}` prepares one feature array, but the model has "
                    f"{len(model.inputs)} inputs",
                    _span(block, setting, data),
                    ("store each input's array ready to use: shaped, scaled and typed",),
                )
            )
    if data.settings.target == "inputs" and (len(model.inputs) > 1 or len(model.outputs) > 1):
        diags.append(
            Diagnostic(
                "E502",
                "`target: inputs` reconstructs one input with one output",
                _span(block, "target", data),
            )
        )
    if data.source.loader == "csv":
        _csv_columns(model, decl, diags)


def _csv_columns(model: CheckedModel, decl: ir.DataDecl, diags) -> None:
    """A CSV source names its label column(s); mapped columns give inputs of shape (k,)."""
    data = model.data
    if data.config.label is None and data.settings.outputs is None:
        diags.append(
            Diagnostic(
                "E103",
                "data source `csv` needs the argument `label` (a string), "
                "or an `outputs` mapping in the data block",
                decl.source.span,
                ("e.g. `csv(label=...)`",),
            )
        )
    shapes = {i.name: i.shape[1:] for i in model.inputs}
    for name, columns, span in data.settings.inputs or ():
        count = 1 if isinstance(columns, str) else len(columns)
        if name in shapes and shapes[name] != (count,):
            diags.append(
                Diagnostic(
                    "E501",
                    f"{plural(count, 'column')} give{'s' if count == 1 else ''} `{name}` "
                    f"samples of shape {show((count,))}, but it expects {show(shapes[name])}",
                    span,
                )
            )


def _one_array_source(model: CheckedModel, block: ir.Mapping | None, diags) -> None:
    """Keras's and scikit-learn's data sets and the generators: one input, one output."""
    data = model.data
    name = data.source.name
    for setting in ("inputs", "outputs"):
        if data.settings[setting] is not None:
            diags.append(
                Diagnostic(
                    "E502",
                    f"`{setting}` maps npz arrays or CSV columns; data `{name}` gives one "
                    f"feature array and one label array",
                    _span(block, setting, data),
                    ("remove it",),
                )
            )
    for kind, count in (("input", len(model.inputs)), ("output", len(model.outputs))):
        if count > 1:
            diags.append(
                Diagnostic(
                    "E501",
                    f"data `{name}` gives one {'feature' if kind == 'input' else 'label'} "
                    f"array, but the model has {count} {kind}s",
                    data.span,
                    (f"use an `npz` or `csv` source, with `{kind}s: {{...}}` in the data block",),
                )
            )


def _sample_weights(model: CheckedModel, spec: ir.Spec, diags: list[Diagnostic]) -> None:
    """`sample_weight`: an npz array or a CSV column of its own, for a model with one
    output (Keras 3 fails on sample weights with labels by output name), without
    `class_weight` (Keras takes one or the other)."""
    data, key = model.data, model.data.settings.sample_weight
    span = _span(spec.data.settings, "sample_weight", data)
    if data.source.loader not in MAPPED:
        diags.append(
            Diagnostic(
                "E503",
                f"`sample_weight` reads an npz array or a CSV column, but data "
                f"`{data.source.name}` has no sample weights",
                span,
                ("store the samples and their weights in an `npz` archive or a `csv` file",),
            )
        )
        return
    taken = _csv_columns_read(model) if data.source.loader == "csv" else {}
    if key in taken:
        diags.append(
            Diagnostic(
                "E503",
                f"`sample_weight`: column `{key}` is {taken[key]}; the weights need a "
                "column of their own",
                span,
            )
        )
    if len(model.outputs) > 1:
        diags.append(
            Diagnostic(
                "E409",
                f"`sample_weight` needs a model with one output; this one has "
                f"{len(model.outputs)}: Keras 3 fails on sample weights with labels by "
                "output name",
                span,
                ("weight the outputs' losses with `loss_weights` in the compile block",),
            )
        )
    if model.fit is not None and model.fit.class_weight is not None:
        diags.append(
            Diagnostic(
                "E409",
                "`class_weight` together with the data's `sample_weight`: Keras takes one "
                "or the other",
                spec.fit.mapping.get("class_weight").value.span,
                ("multiply each sample's weight by its class's weight in the data file",),
            )
        )


def _csv_columns_read(model: CheckedModel) -> dict[str, str]:
    """The CSV columns the model reads as labels or features, and what each is."""
    data = model.data
    read = {data.config.label: "the label"} if data.config.label else {}
    for kind, mapping in (("output", data.settings.outputs), ("input", data.settings.inputs)):
        for name, columns, _ in mapping or ():
            for column in [columns] if isinstance(columns, str) else columns:
                read[column] = f"a column of {kind} `{name}`"
    return read


def _sample_fits_input(model: CheckedModel, diags: list[Diagnostic]) -> None:
    data = model.data
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


def label_column(data, output: str) -> str | None:
    """The one CSV column the labels of `output` are read from, if one."""
    if data.source.loader != "csv":
        return None
    mapped = {name: key for name, key, _ in data.settings.outputs or ()}
    key = mapped.get(output, data.config.get("label"))
    return key if isinstance(key, str) else None
