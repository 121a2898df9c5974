"""The checked model as the steps of a training program: load the data, build
the model, compile, fit, evaluate, save, plot, predict.

`gen` renders a `Program` through the templates; `run` executes the same
steps. Both read every Keras argument from here, so they cannot disagree.
Never imports Keras.
"""

from __future__ import annotations

from pathlib import Path

from msgspec import Struct, structs

from nnspec.check.metrics import column_labels, metric_name, per_output
from nnspec.check.model import CheckedModel, Data, InputNode, TensorRef
from nnspec.check.training import activation_of
from nnspec.keras.calls import PyCall, bound_call, named_value, python_name
from nnspec.keras.emitters import EMITTERS, LIST, SPREAD, Problems, emit
from nnspec.vocab.layers import LAYERS
from nnspec.vocab.naming import AutoNames
from nnspec.vocab.params import Config
from nnspec.vocab.settings import COMPILE, FIT, PerOutput

SKLEARN_FUNCTIONS = {
    "digits": "load_digits",
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
    "diabetes": "load_diabetes",
    "classification": "make_classification",
    "regression": "make_regression",
}
# Keras's dataset files, for machines that cannot download them.
KERAS_FILES = {
    "mnist": ("mnist.npz",),
    "fashion_mnist": (
        "train-labels-idx1-ubyte.gz",
        "train-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
    ),
}
# Callback arguments naming files that training writes.
OUTPUT_PATHS = frozenset({"filepath", "log_dir", "filename"})
# Names the script defines itself: a tensor variable must not shadow them.
_RESERVED = frozenset(
    [
        "keras",
        "layers",
        "np",
        "pd",
        "tf",
        "plt",
        "Figure",
        "build_model",
        "load_data",
        "main",
        "model",
        "history",
        "inputs",
        "outputs",
        "x",
        "y",
        "x_train",
        "y_train",
        "x_test",
        "y_test",
        "w_train",
        "w_test",
        "results",
    ]
)


class Var(Struct, frozen=True):
    """A variable of the generated program, e.g. `x_test`."""

    name: str


class DataPlan(Struct, frozen=True):
    """How `load_data()` gets and prepares the arrays."""

    source: str
    loader: str  # keras, sklearn, synthetic, csv, npz
    function: str | None  # the scikit-learn loader or generator
    kwargs: tuple[tuple[str, object], ...]  # the source's arguments the spec gives
    x_dtype: str
    y_dtype: str | None  # None: leave as loaded (integer class labels)
    scale: float | None
    standardize: bool
    one_hot: int | None  # number of classes when labels become one-hot
    reshape: tuple[int, ...] | None
    add_channel: bool
    test_split: float
    seed: int | None
    limit: int | None
    autoencoder: bool
    path: str | None = None  # csv and npz
    label: str | None = None  # csv
    delimiter: str = ","  # csv
    missing: str = "error"  # csv: what an empty cell becomes (error: checked before loading)
    files: tuple[str, ...] = ()  # Keras's dataset files in an offline folder
    # npz and csv with mappings: (model input or output name, array or column(s));
    # a csv input of None takes the columns that are no label.
    inputs: tuple[tuple[str, object], ...] = ()
    outputs: tuple[tuple[str, object], ...] = ()
    input_dtypes: tuple[tuple[str, str], ...] = ()  # of several inputs, by name
    sample_weight: str | None = None  # npz array or CSV column of one weight per sample
    column_labels: tuple[str, ...] = ()  # outputs of one unit whose labels become (N, 1)

    @property
    def label_columns(self) -> list[str]:
        """A CSV's label columns, in order."""
        found = []
        for _, key in self.outputs:
            found.extend([key] if isinstance(key, str) else key)
        return found

    @property
    def weight_columns(self) -> list[str]:
        """A CSV's column of sample weights, if any: no feature either."""
        return [self.sample_weight] if self.sample_weight else []

    @property
    def scale_divisor(self) -> int | None:
        """`255` for `scale: 1/255`: the script divides, as people write it."""
        if not self.scale or self.scale >= 1:
            return None
        divisor = round(1 / self.scale)
        return divisor if abs(1 / divisor - self.scale) < 1e-12 else None


class Tensor(Struct, frozen=True):
    """One layer application in a Functional model: `var = layer(inputs)`."""

    var: str
    layer: str  # the variable holding the layer object
    call: PyCall | None  # set where the layer object is created (first application)
    inputs: tuple[tuple[str, int | None], ...]  # (variable, output index or None)
    spread: bool  # the layer takes its inputs as separate arguments
    multi: bool  # the layer takes a list of tensors
    inline: bool  # created and applied in one expression


class Prediction(Struct, frozen=True):
    """Where one output's test predictions go, and its classes' names (None: values)."""

    path: str
    classes: tuple[str, ...] | None


class Program(Struct, frozen=True):
    name: str
    description: str | None
    sequential: bool
    inputs: tuple[tuple[str, PyCall], ...]  # (variable, keras.Input(...))
    layers: tuple[PyCall, ...]  # Sequential: the layer stack (chains only)
    tensors: tuple[Tensor, ...]  # Functional: the applications in order (every model)
    outputs: tuple[tuple[str, int | None], ...]
    data: DataPlan | None
    compile_kwargs: tuple[tuple[str, object], ...] | None
    fit_kwargs: tuple[tuple[str, object], ...]
    evaluate: tuple[tuple[str, object], ...] | None  # None: the spec does not evaluate
    save: str | None
    plot: str | None
    predict: tuple[Prediction, ...]  # one per output; () for none
    seed: int | None
    per_class: bool = False  # a metric gives one value per class: the script prints arrays


def dataset_files(model: CheckedModel, data_dir: str | None) -> tuple[str, ...]:
    """The paths of the model's Keras dataset in `data_dir` (or its `fashion-mnist/`)."""
    if data_dir is None or model.data is None or model.data.source.name not in KERAS_FILES:
        return ()
    names = KERAS_FILES[model.data.source.name]
    folder = Path(data_dir).resolve()
    if not (folder / names[0]).exists() and (folder / "fashion-mnist" / names[0]).exists():
        folder = folder / "fashion-mnist"
    return tuple(str(folder / name) for name in names)


def data_plan(
    data: Data,
    inputs: tuple[InputNode, ...],
    outputs: list[str],
    files: tuple[str, ...] = (),
    columns: tuple[str, ...] = (),
) -> DataPlan:
    """How to load `data` for the model's inputs and outputs; `columns`: the outputs
    whose flat labels become a column (see `check.metrics.column_labels`)."""
    settings = data.settings
    source = data.source
    classification = data.info.task == "classification" and settings.target == "labels"
    one_hot = data.info.classes if classification and settings.labels == "one_hot" else None
    feeds = _feeds(data, [i.name for i in inputs], outputs)
    several = len(feeds[1]) > 1  # outputs: labels stay as loaded, one array each
    return DataPlan(
        source=source.name,
        loader=source.loader,
        function=SKLEARN_FUNCTIONS.get(source.name),
        kwargs=tuple((k, data.config[k]) for k in data.config.explicit),
        x_dtype="int32" if inputs[0].dtype.startswith("int") else "float32",
        y_dtype=None if (classification and not one_hot) or several else "float32",
        scale=settings.scale,
        standardize=settings.standardize,
        one_hot=one_hot,
        reshape=settings.reshape,
        add_channel=settings.add_channel,
        test_split=settings.test_split,
        seed=settings.seed,
        limit=settings.limit,
        autoencoder=settings.target == "inputs",
        path=data.config.get("path"),
        label=data.config.get("label"),
        delimiter=data.config.get("delimiter", ","),
        missing=settings.missing,
        files=files,
        inputs=feeds[0],
        outputs=feeds[1],
        input_dtypes=tuple((i.name, i.dtype) for i in inputs) if len(inputs) > 1 else (),
        sample_weight=settings.sample_weight,
        column_labels=columns,
    )


def _feeds(data: Data, inputs: list[str], outputs: list[str]) -> tuple[tuple, tuple]:
    """What feeds each input and output, in model order, where the spec maps them:
    empty for a source of one feature and one label array."""
    settings = data.settings
    if data.source.loader not in ("npz", "csv") or not (settings.inputs or settings.outputs):
        return (), ()
    npz = data.source.loader == "npz"
    given_in = {name: key for name, key, _ in settings.inputs or ()}
    given_out = {name: key for name, key, _ in settings.outputs or ()}
    label = data.config.get("label")
    return (
        tuple((n, given_in.get(n, "x" if npz else None)) for n in inputs),
        tuple((n, given_out.get(n, "y" if npz else label)) for n in outputs),
    )


def _per_output(value: PerOutput, convert) -> object:
    if value.items:
        return [convert(v) for v in value.items]
    if value.by_name:
        return {name: convert(v) for name, v, _ in value.by_name}
    return convert(value.single)


def _metrics(value):
    """A metric, or one output's list of them."""
    if isinstance(value, tuple):
        return [named_value("metric", m) for m in value]
    return named_value("metric", value)


def compile_kwargs(cfg) -> tuple[tuple[str, object], ...]:
    explicit = {p.name for p in COMPILE if p.name in cfg.explicit}
    out: list[tuple[str, object]] = []
    if "optimizer" in explicit:
        made = bound_call(cfg.optimizer)
        out.append(
            ("optimizer", made if made.args or made.kwargs else made.func.split(".")[-1].lower())
        )
    out.append(("loss", _per_output(cfg.loss, lambda v: named_value("loss", v))))
    if cfg.metrics is not None:
        out.append(("metrics", _per_output(cfg.metrics, _metrics)))
    if cfg.loss_weights is not None:
        out.append(("loss_weights", _per_output(cfg.loss_weights, lambda v: v)))
    return tuple(out)


def _in_folder(config: Config, out_dir: str | None) -> Config:
    """Callback arguments naming files, moved into `out_dir` when relative."""
    if out_dir is None:
        return config
    moved = {
        k: str(Path(out_dir) / v) if k in OUTPUT_PATHS and not Path(v).is_absolute() else v
        for k, v in config.items()
    }
    return Config(moved, config.explicit)


def fit_kwargs(
    cfg, out_dir: str | None = None, weighted: bool = False
) -> tuple[tuple[str, object], ...]:
    """`fit`'s keyword arguments; `weighted`: with the data's sample weights, which
    weigh the validation loss as they weigh the training loss."""
    out: list[tuple[str, object]] = [("sample_weight", Var("w_train"))] if weighted else []
    for param in FIT:
        if cfg is None or param.name not in cfg.explicit:
            continue
        value = cfg[param.name]
        if param.name == "validation":
            if value == "test":
                test = ("x_test", "y_test", "w_test") if weighted else ("x_test", "y_test")
                out.append(("validation_data", tuple(Var(name) for name in test)))
            else:
                out.append(("validation_split", value))
        elif param.name == "callbacks":
            if value:
                out.append(
                    (
                        "callbacks",
                        [
                            bound_call(structs.replace(b, config=_in_folder(b.config, out_dir)))
                            for b in value
                        ],
                    )
                )
        elif value != param.default:
            out.append((param.name, value))
    return tuple(out)


def _variables(model: CheckedModel) -> dict[str, str]:
    """A safe, unique Python variable for every input and layer."""
    taken = set(_RESERVED)
    names = {}
    for name in [i.name for i in model.inputs] + list(model.layers):
        var = python_name(name, taken)  # `class` -> `class_`, `conv-1` -> `conv_1`
        taken.add(var)
        names[name] = var
    return names


def _layer_calls(model: CheckedModel, problems: Problems) -> dict[str, PyCall | None]:
    """Each layer's constructor call, from the table of emitters, in the order the
    script makes them (None for a layer the table cannot write: see `problems`).

    A layer the spec leaves unnamed keeps Keras's automatic name where Keras
    would pick nnspec's name; elsewhere (a name the spec gave another layer,
    layers wrapped in arguments counting too) the call names it.
    """
    auto_names = AutoNames()  # as Keras counts them: unnamed layers, inner ones first

    def count(value) -> None:
        if isinstance(value, (tuple, list)):
            for item in value:
                count(item)
        elif isinstance(value, PyCall):
            count([*value.args, *(v for _, v in value.kwargs)])
            if value.func.startswith("layers.") and "name" not in dict(value.kwargs):
                auto_names.count(LAYERS[value.func.removeprefix("layers.")].snake_name)

    calls: dict[str, PyCall | None] = {}
    for node in model.nodes:
        layer = model.layers[node.layer]
        if node.layer in calls:
            continue
        made = calls[node.layer] = emit(layer.call, problems, layer.span)
        if made is None:
            continue
        count([*made.args, *(v for _, v in made.kwargs)])
        prefix = layer.call.type.snake_name
        if layer.named or node.layer != auto_names.peek(prefix):
            made = emit(layer.call, problems, layer.span, node.layer)
        else:
            auto_names.take(prefix)
        for inner in layer.call.type.builds:  # built on its first application
            auto_names.count(inner)
        calls[node.layer] = made
    return calls


def _tensors(model: CheckedModel, var: dict[str, str], calls: dict[str, PyCall]):
    applications = {}
    for node in model.nodes:
        applications[node.layer] = applications.get(node.layer, 0) + 1
    taken = set(var.values()) | _RESERVED
    tensor_var: dict[tuple[str, int], str] = {(i.name, 0): var[i.name] for i in model.inputs}

    def expr(ref: TensorRef) -> tuple[str, int | None]:
        return tensor_var[(ref.source, ref.app)], ref.index

    out = []
    for node in model.nodes:
        takes = EMITTERS[model.layers[node.layer].call.type.name].takes
        shared = applications[node.layer] > 1
        if shared:
            name = f"{var[node.layer]}_{node.app + 1}"
            while name in taken:
                name += "_"
            taken.add(name)
        else:
            name = var[node.layer]
        tensor_var[(node.layer, node.app)] = name
        out.append(
            Tensor(
                var=name,
                layer=var[node.layer],
                call=calls[node.layer] if node.app == 0 else None,
                inputs=tuple(expr(r) for r in node.inputs),
                spread=takes == SPREAD,
                multi=takes in (LIST, SPREAD),
                inline=not shared,
            )
        )
    return tuple(out), tuple(expr(r) for r in model.outputs)


def predictions(model: CheckedModel, path: str | None) -> tuple[Prediction, ...]:
    """`predict "p.csv"`: p.csv, or p_NAME.csv for each of several outputs."""
    if path is None:
        return ()
    names = [ref.source for ref in model.outputs]
    if len(names) == 1:
        return (Prediction(path, output_classes(model, model.outputs[0])),)
    stem = Path(path)
    return tuple(
        Prediction(
            str(stem.with_name(f"{stem.stem}_{name}{stem.suffix}")), output_classes(model, ref)
        )
        for name, ref in zip(names, model.outputs)
    )


def output_classes(model: CheckedModel, ref: TensorRef) -> tuple[str, ...] | None:
    """The classes an output scores: the data's names, else class ids for a softmax
    or sigmoid output; None for an output of values."""
    data, units = model.data, model.shape_of(ref)[-1]
    labels = data is not None and data.settings.target == "labels"
    if len(model.outputs) == 1 and labels and data.info.task == "classification":
        return data.info.names or tuple(str(i) for i in range(data.info.classes))
    if activation_of(model, ref) in ("softmax", "sigmoid") and units is not None:
        return tuple(str(i) for i in range(max(units, 2)))
    return None


# Metrics of one value per class unless an argument says how to average them, and
# that argument's default.
_PER_CLASS = {"f1_score": ("average", None), "r2_score": ("class_aggregation", "uniform_average")}


def per_class(model: CheckedModel) -> bool:
    """Whether a compiled metric gives one value per class, an array: `f1_score`
    without `average`, `r2_score` with `class_aggregation=None`."""
    names = [ref.source for ref in model.outputs]
    for metrics in per_output(model.compile.metrics if model.compile else None, names).values():
        for metric in metrics:
            key, default = _PER_CLASS.get(metric_name(metric), (None, 0))
            made = named_value("metric", metric)
            given = dict(made.kwargs) if isinstance(made, PyCall) else {}
            if key is not None and given.get(key, default) is None:
                return True
    return False


def _action(model: CheckedModel, keyword: str):
    return next((a for a in model.actions if a.keyword == keyword), None)


def program(
    model: CheckedModel,
    data_files: tuple[str, ...] = (),
    out_dir: str | None = None,
    problems: Problems | None = None,
) -> Program:
    """The steps of training `model`, for a template or for `run`.

    `data_files`: Keras's dataset files where they cannot be downloaded;
    `out_dir`: the folder for files that callbacks write (`run`'s run folder);
    `problems`: what the caller found the target cannot express. Raises GenError
    with those and every layer the table of emitters cannot write.
    """
    var = _variables(model)
    inputs = tuple(
        (
            var[i.name],
            PyCall(
                "keras.Input",
                (),
                (
                    ("shape", tuple(i.shape[1:])),
                    *((("dtype", i.dtype),) if i.dtype != "float32" else ()),
                    ("name", i.name),
                ),
            ),
        )
        for i in model.inputs
    )
    problems = Problems() if problems is None else problems
    calls = _layer_calls(model, problems)
    problems.check()
    layers = tuple(calls[n.layer] for n in model.nodes) if model.sequential else ()
    tensors, outputs = _tensors(model, var, calls)  # a chain can be written with either API
    cfg = model.evaluate
    evaluate_kwargs = None if cfg is None else tuple((k, cfg[k]) for k in cfg.explicit)
    data = None
    if model.data is not None:
        names = [ref.source for ref in model.outputs]
        data = data_plan(model.data, model.inputs, names, data_files, column_labels(model))
    paths = {k: (a.path if (a := _action(model, k)) else None) for k in ("save", "plot", "predict")}
    return Program(
        name=model.name,
        description=model.description,
        sequential=model.sequential,
        inputs=inputs,
        layers=layers,
        tensors=tensors,
        outputs=outputs,
        data=data,
        compile_kwargs=compile_kwargs(model.compile) if model.compile is not None else None,
        fit_kwargs=fit_kwargs(model.fit, out_dir, bool(data and data.sample_weight)),
        evaluate=evaluate_kwargs,
        save=paths["save"],
        plot=paths["plot"],
        predict=predictions(model, paths["predict"]),
        seed=data.seed if data else None,
        per_class=per_class(model),
    )
