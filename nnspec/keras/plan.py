"""The checked model as the steps of a training program: load the data, build
the model, compile, fit, evaluate, save, plot, predict.

`gen` renders a `Program` through the templates; `run` executes the same
steps. Both read every Keras argument from here, so they cannot disagree.
Never imports Keras.
"""

from __future__ import annotations

import keyword
from pathlib import Path

from msgspec import Struct

from nnspec.check.model import CheckedModel, Data, TensorRef
from nnspec.keras.calls import PyCall, call, identifier, named_value
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
    files: tuple[str, ...] = ()  # Keras's dataset files in an offline folder

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
    predict: str | None
    seed: int | None


def dataset_files(model: CheckedModel, data_dir: str | None) -> tuple[str, ...]:
    """The paths of the model's Keras dataset in `data_dir` (or its `fashion-mnist/`)."""
    if data_dir is None or model.data is None or model.data.source.name not in KERAS_FILES:
        return ()
    names = KERAS_FILES[model.data.source.name]
    folder = Path(data_dir).resolve()
    if not (folder / names[0]).exists() and (folder / "fashion-mnist" / names[0]).exists():
        folder = folder / "fashion-mnist"
    return tuple(str(folder / name) for name in names)


def data_plan(data: Data, input_dtype: str, files: tuple[str, ...] = ()) -> DataPlan:
    settings = data.settings
    source = data.source
    classification = data.info.task == "classification" and settings.target == "labels"
    one_hot = data.info.classes if classification and settings.labels == "one_hot" else None
    return DataPlan(
        source=source.name,
        loader=source.loader,
        function=SKLEARN_FUNCTIONS.get(source.name),
        kwargs=tuple((k, data.config[k]) for k in data.config.explicit),
        x_dtype="int32" if input_dtype.startswith("int") else "float32",
        y_dtype=None if classification and not one_hot else "float32",
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
        files=files,
    )


def _per_output(value: PerOutput, convert) -> object:
    if value.items:
        return [convert(v) for v in value.items]
    if value.by_name:
        return {name: convert(v) for name, v, _ in value.by_name}
    return convert(value.single)


def compile_kwargs(cfg) -> tuple[tuple[str, object], ...]:
    explicit = {p.name for p in COMPILE if p.name in cfg.explicit}
    out: list[tuple[str, object]] = []
    if "optimizer" in explicit:
        bound = cfg.optimizer
        made = call(f"keras.optimizers.{bound.callee.name}", bound.callee.params, bound.config)
        out.append(("optimizer", made if made.args or made.kwargs else bound.callee.name.lower()))
    out.append(("loss", _per_output(cfg.loss, lambda v: named_value("loss", v))))
    if cfg.metrics:
        out.append(("metrics", [named_value("metric", m) for m in cfg.metrics]))
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


def fit_kwargs(cfg, out_dir: str | None = None) -> tuple[tuple[str, object], ...]:
    out: list[tuple[str, object]] = []
    for param in FIT:
        if cfg is None or param.name not in cfg.explicit:
            continue
        value = cfg[param.name]
        if param.name == "validation":
            if value == "test":
                out.append(("validation_data", (Var("x_test"), Var("y_test"))))
            else:
                out.append(("validation_split", value))
        elif param.name == "callbacks":
            if value:
                out.append(
                    (
                        "callbacks",
                        [
                            call(
                                f"keras.callbacks.{b.callee.name}",
                                b.callee.params,
                                _in_folder(b.config, out_dir),
                            )
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
        var = identifier(name + "_" if keyword.iskeyword(name) else name)  # `class` -> `class_`
        while var in taken:
            var += "_"
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
        data = data_plan(model.data, model.inputs[0].dtype, data_files)
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
        fit_kwargs=fit_kwargs(model.fit, out_dir),
        evaluate=evaluate_kwargs,
        save=paths["save"],
        plot=paths["plot"],
        predict=paths["predict"],
        seed=data.seed if data else None,
    )
