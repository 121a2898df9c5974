"""`nnspec import`: Keras model files back to specs.

The round trips go through real Keras (the `keras` group): spec -> checked IR ->
Keras model -> .keras / .h5 / to_json() -> import -> checked IR, which must equal
the first. The importer itself reads configs without TensorFlow, so the tests of
what it refuses run on hand-written configs and files in the quick group.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
import zipfile

import pytest
from helpers import ROOT, SPECS, compile_file
from layer_cases import load_cases

from nnspec.check.pipeline import compile_text
from nnspec.check.summary import as_dict
from nnspec.keras.calls import class_name
from nnspec.keras.importer import KERAS_DEFAULTS, ImportFailed, import_config, import_file
from nnspec.syntax import ir
from nnspec.vocab.catalog import CONSTRAINTS, INITIALIZERS, REGULARIZERS
from nnspec.vocab.layers.registry import LayerCall, resolve_layer

FORMATS = ("keras", "h5", "json")
NAMED = {**INITIALIZERS, **REGULARIZERS, **CONSTRAINTS}

# Graph features no spec in specs/ uses, from docs/language.md.
EXTRA_SPECS = {
    "siamese": """
        model siamese
        input left: (32,)
        input right: (32,)
        graph {
            encoder = Dense(16, activation=relu, kernel_regularizer=l2(1e-4))
            distance = Subtract()
            score = Dense(1, activation=sigmoid, kernel_initializer=he_normal(seed=3))
            left -> encoder -> distance
            right -> encoder -> distance
            distance -> score
        }""",
    "lstm_state": """
        model lstm_state
        input steps: (10, 3)
        graph {
            enc = LSTM(8, return_state=true, kernel_constraint=max_norm(3))
            head = Dense(1)
            steps -> enc.1 -> head
        }
        output head, enc.2""",
    "attention": """
        model attention
        input q: (5, 8)
        input v: (6, 8)
        graph {
            mha = MultiHeadAttention(2, 4)
            att = Attention()
            both = Concatenate()
            [q, v] -> mha
            [q, v] -> att
            [mha, att] -> both -> TimeDistributed(Dense(3, bias_initializer=ones))
        }""",
}


# ---- what "the same IR" means ---------------------------------------------------


def model_ir(model) -> dict:
    """The model part of a checked spec, without source positions or syntax.

    Compared: the model name; inputs in order (name, shape with batch, dtype);
    every layer by name with its type and its whole bound config (defaults
    filled in, so `padding="valid"` written or not is the same); every
    application with its input tensors (layer, application, output index);
    the outputs in order; whether it is a plain chain. Not compared: the
    description, whether a layer was named or auto-named in the text, and
    data/compile/fit/actions, which a model file does not hold.
    """
    return {
        "name": model.name,
        "sequential": model.sequential,
        "inputs": [(i.name, i.shape, i.dtype) for i in model.inputs],
        "layers": {name: layer_ir(layer.call) for name, layer in model.layers.items()},
        "nodes": sorted(
            (n.layer, n.app, tuple((r.source, r.app, r.index) for r in n.inputs))
            for n in model.nodes
        ),
        "outputs": [(r.source, r.app, r.index) for r in model.outputs],
    }


def layer_ir(call: LayerCall) -> tuple:
    return call.type.name, {k: value_ir(v) for k, v in call.config.items()}


def value_ir(value):
    """A config value; initializers and the like as Keras class and named arguments."""
    if isinstance(value, LayerCall):
        return layer_ir(value)
    if isinstance(value, ir.Call):
        names = dict(zip(NAMED[value.name], value.args))
        names |= {kw.name: kw.value for kw in value.kwargs}
        return class_name(value.name), {k: ir.plain(v) for k, v in names.items()}
    if isinstance(value, str) and value in NAMED:
        return class_name(value), {}
    return value


# ---- fixtures: each spec built in Keras once, saved in every format ---------------


def _save(model, stem: str, folder) -> None:
    model.save(folder / f"{stem}.keras")
    model.save(folder / f"{stem}.h5")
    (folder / f"{stem}.json").write_text(model.to_json())


@pytest.fixture(scope="module")
def originals() -> dict:
    texts = {path.stem: path.read_text() for path in SPECS} | EXTRA_SPECS
    models = {}
    for stem, text in texts.items():
        result = compile_text(text)
        assert result.ok, (stem, result.diagnostics)
        models[stem] = result.model
    return models


@pytest.fixture(scope="module")
def saved(originals, tmp_path_factory):
    from nnspec.keras.builder import build_model

    folder = tmp_path_factory.mktemp("models")
    for stem, model in originals.items():
        _save(build_model(model), stem, folder)
    return folder


@pytest.mark.keras
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("stem", [p.stem for p in SPECS] + list(EXTRA_SPECS))
def test_round_trip(stem, fmt, originals, saved):
    imported = import_file(saved / f"{stem}.{fmt}")
    assert model_ir(imported.model) == model_ir(originals[stem])
    assert compile_text(imported.text).ok


@pytest.mark.keras
def test_sequential_form_names_only_what_differs(saved):
    text = import_file(saved / "mnist_functional.keras").text
    assert "sequential {" in text
    assert "logits = Dense(10)" in text
    assert "dense = " not in text and "dense_1 = " not in text


@pytest.mark.keras
def test_imported_text_is_formatted(saved):
    from nnspec.syntax.fmt import format_text

    text = import_file(saved / "residual_block.keras").text
    assert format_text(text) == text


# ---- every registry layer, through its Keras config --------------------------------

LAYER_CASES = [c for c in load_cases() if c.valid and all(s[0] is None for s in c.shapes)]


def _keras_config(layer) -> dict:
    """A layer's Keras config without its names (the inner layers' included)."""

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("name", "shared_object_id")}
        return [strip(v) for v in value] if isinstance(value, (list, tuple)) else value

    return strip(layer.get_config())


@pytest.mark.keras
def test_every_layer_imports():
    """Each valid layer case, built in Keras, imported and built again, has the
    same Keras config: the imported spec makes the same layer."""
    import keras

    from nnspec.keras.builder import call_layer, make_layer

    wrong = []
    for case in LAYER_CASES:
        expected = resolve_layer(case.call())
        inputs = [keras.Input(batch_shape=shape) for shape in case.shapes]
        original = make_layer(expected)
        outputs = call_layer(original, expected.type, inputs)
        config = json.loads(keras.Model(inputs, outputs).to_json())
        try:
            model = import_config(config).model
        except ImportFailed as err:
            wrong.append(f"{case.where} {case.call_text}: {err}")
            continue
        (layer,) = model.layers.values()
        rebuilt = make_layer(layer.call)
        call_layer(rebuilt, layer.call.type, [keras.Input(batch_shape=s) for s in case.shapes])
        if _keras_config(rebuilt) != _keras_config(original):
            wrong.append(f"{case.where} {case.call_text}: {import_config(config).text}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.keras
def test_keras_defaults_table_is_keras():
    import keras

    for module, table in (
        (keras.initializers, INITIALIZERS),
        (keras.regularizers, REGULARIZERS),
        (keras.constraints, CONSTRAINTS),
    ):
        for name in table:
            cls = class_name(name)
            config = getattr(module, cls)().get_config()
            config = {
                k: float(f"{v:.7g}") if isinstance(v, float) else v for k, v in config.items()
            }
            assert config == KERAS_DEFAULTS[cls], cls


# ---- Keras applications ----------------------------------------------------------


def _count(weights) -> int:
    return sum(math.prod(w.shape) for w in weights)


@pytest.mark.keras
@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda k: k.applications.ResNet50(weights=None), id="ResNet50"),
        pytest.param(
            lambda k: k.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3)),
            id="MobileNetV2",
        ),
    ],
)
def test_application_parameter_counts(build, tmp_path):
    import keras

    model = build(keras)
    path = tmp_path / "model.json"
    path.write_text(model.to_json())
    summary = as_dict(import_file(path).model)
    assert summary["total_params"] == model.count_params()
    assert summary["trainable_params"] == _count(model.trainable_weights)
    assert summary["non_trainable_params"] == _count(model.non_trainable_weights)


# ---- what cannot be imported ------------------------------------------------------


def _nnspec(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nnspec.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.mark.keras
def test_cli_writes_a_spec_that_checks(saved, tmp_path):
    out = tmp_path / "ticket.nn"
    run = _nnspec("import", str(saved / "ticket_classifier.keras"), "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert f"wrote {out}" in run.stderr
    checked = _nnspec("check", str(out))
    assert checked.returncode == 0, checked.stdout
    expected = model_ir(compile_file(ROOT / "specs/ticket_classifier.nn").model)
    assert model_ir(compile_text(out.read_text()).model) == expected


@pytest.fixture(scope="module")
def unsupported(tmp_path_factory):
    """A model with a custom layer and a Keras layer nnspec does not know."""
    import keras

    @keras.saving.register_keras_serializable(package="demo")
    class Scale(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    x = keras.Input((8, 8, 3), name="image")
    y = keras.layers.RandomFlip(name="flip")(x)
    y = Scale(name="double")(y)
    y = keras.layers.Flatten()(y)
    path = tmp_path_factory.mktemp("unsupported") / "custom.keras"
    keras.Model(x, y).save(path)
    return path


@pytest.mark.keras
def test_unsupported_layers_are_named_and_nothing_is_written(unsupported, tmp_path):
    out = tmp_path / "custom.nn"
    run = _nnspec("import", str(unsupported), "-o", str(out))
    assert run.returncode == 1
    assert "layer `flip` (applied to `image`): unsupported layer type `RandomFlip`" in run.stderr
    assert (
        "layer `double` (applied to `flip`): unsupported layer type `Scale` (custom, from `demo>Scale`)"
        in run.stderr
    )
    assert "Traceback" not in run.stderr
    assert not out.exists()


def test_unsupported_argument_is_named():
    dense = {"name": "d", "units": 2, "lora_rank": 4}
    layers = [
        {"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [None, 4]}},
        {"class_name": "Dense", "config": dense},
    ]
    config = {"class_name": "Sequential", "config": {"name": "m", "layers": layers}}
    with pytest.raises(ImportFailed, match=r"layer 1 `d` \(Dense\): argument `lora_rank=4` is not"):
        import_config(config)


@pytest.mark.keras
def test_shared_layer_result_used_twice_is_refused():
    import keras

    x = keras.Input((4,), name="x")
    shared = keras.layers.Dense(4, name="shared")
    a = shared(x)
    b = shared(a)
    model = keras.Model(x, keras.layers.Add(name="add")([a, b]))
    with pytest.raises(ImportFailed, match="shared layer `shared`: the result of call 1"):
        import_config(json.loads(model.to_json()))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x00\x01 not a model", "cannot read"),
        (b'{"class_name": "MyModel", "config": {"name": "m"}}', "not a Sequential or Functional"),
        (b'{"class_name": "Functional", "config": {"name": "m"}}', "lists no layers"),
        (
            b'{"class_name": "Sequential", "config": {"layers": []}, "keras_version": "2.15.0"}',
            "Keras 2.15.0",
        ),
        (b"[1, 2]", "not a Keras model config"),
        (
            b'{"class_name": "Functional", "config": {"layers": '
            b'[{"class_name": "InputLayer", "config": {"batch_shape": 5}}]}}',
            "malformed model config",
        ),
    ],
    ids=["garbage", "subclassed", "no-layers", "keras2", "not-a-config", "malformed"],
)
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "model.json"
    path.write_bytes(content)
    with pytest.raises(ImportFailed, match=message):
        import_file(path)


def test_zip_without_config_and_weights_only_h5(tmp_path):
    h5py = pytest.importorskip("h5py")  # installed with TensorFlow

    archive = tmp_path / "weights.keras"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("model.weights.h5", b"")
    with pytest.raises(ImportFailed, match="without config.json"):
        import_file(archive)
    h5 = tmp_path / "weights.h5"
    with h5py.File(h5, "w") as f:
        f.create_dataset("w", data=[1.0])
    with pytest.raises(ImportFailed, match="no model config"):
        import_file(h5)


# ---- compile settings --------------------------------------------------------------


def _one_output(keras, units: int, activation: str | None):
    layers = [keras.Input((6,), name="x"), keras.layers.Dense(units, activation=activation)]
    return keras.Sequential(layers, name="one")


def _two_outputs(keras, units: int, activation: str | None):
    x = keras.Input((6,), name="x")
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(x)
    kind = keras.layers.Dense(units, activation=activation, name="kind")(hidden)
    score = keras.layers.Dense(1, name="score")(hidden)
    return keras.Model(x, [kind, score], name="two")


# name -> (model builder, output units and activation, compile() arguments from keras)
COMPILE_CASES = {
    "names": (
        _one_output,
        (4, "softmax"),
        lambda k: dict(
            optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"]
        ),
    ),
    "adam": (
        _one_output,
        (4, "softmax"),
        lambda k: dict(
            optimizer=k.optimizers.Adam(learning_rate=1e-4, clipnorm=1.0),
            loss=k.losses.CategoricalCrossentropy(label_smoothing=0.1),
            metrics=["accuracy", k.metrics.AUC(num_thresholds=50)],
        ),
    ),
    "sgd": (
        _one_output,
        (1, None),
        lambda k: dict(
            optimizer=k.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True),
            loss="mse",
            metrics=["mae", k.metrics.RootMeanSquaredError()],
        ),
    ),
    "exponential": (
        _one_output,
        (1, None),
        lambda k: dict(
            optimizer=k.optimizers.RMSprop(
                k.optimizers.schedules.ExponentialDecay(1e-3, 1000, 0.96, staircase=True),
                rho=0.8,
            ),
            loss=k.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.05),
            metrics=[k.metrics.Precision(thresholds=0.3), k.metrics.Accuracy()],
        ),
    ),
    "cosine": (
        _one_output,
        (4, "softmax"),
        lambda k: dict(
            optimizer=k.optimizers.AdamW(
                k.optimizers.schedules.CosineDecay(
                    1e-3, 1000, warmup_target=3e-3, warmup_steps=100
                ),
                weight_decay=0.01,
            ),
            loss=k.losses.CategoricalFocalCrossentropy(gamma=3.0),
            metrics=[k.metrics.TopKCategoricalAccuracy(k=2)],
        ),
    ),
    "piecewise": (
        _one_output,
        (4, None),
        lambda k: dict(
            optimizer=k.optimizers.SGD(
                k.optimizers.schedules.PiecewiseConstantDecay([100, 200], [0.1, 0.01, 0.001])
            ),
            loss=k.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=[k.metrics.SparseTopKCategoricalAccuracy(k=3)],
        ),
    ),
    "defaults-as-objects": (
        _one_output,
        (1, None),
        lambda k: dict(
            optimizer=k.optimizers.Adagrad(),
            loss=k.losses.mean_squared_error,
            metrics=[k.metrics.MeanAbsoluteError()],
        ),
    ),
    "per-output-dict": (
        _two_outputs,
        (3, "softmax"),
        lambda k: dict(
            optimizer=k.optimizers.Nadam(learning_rate=2e-3),
            loss={"kind": "sparse_categorical_crossentropy", "score": k.losses.Huber()},
            loss_weights={"kind": 1.0, "score": 0.2},
            metrics={"kind": ["accuracy"], "score": ["mae", "mse"]},
        ),
    ),
    "per-output-list": (
        _two_outputs,
        (3, "softmax"),
        lambda k: dict(
            optimizer="rmsprop",
            loss=["sparse_categorical_crossentropy", "mse"],
            loss_weights=[1.0, 0.5],
            metrics=[["accuracy"], ["mae"]],
        ),
    ),
}

EXPECTED_COMPILE = {
    "adam": (
        "loss: categorical_crossentropy(label_smoothing=0.1)",
        "optimizer: adam(learning_rate=0.0001, clipnorm=1.0)",
        "metrics: [accuracy, auc(num_thresholds=50)]",
    ),
    "exponential": (
        "optimizer: rmsprop(learning_rate=exponential_decay(0.001, 1000, 0.96, staircase=true), "
        "rho=0.8)",
        "metrics: [precision(thresholds=0.3), accuracy()]",
    ),
    "defaults-as-objects": (
        "loss: mean_squared_error",
        "optimizer: adagrad",
        "metrics: [mean_absolute_error]",
    ),
    "per-output-list": ("loss_weights: [1.0, 0.5]", "metrics: [[accuracy], [mae]]"),
}


def _made(value, make):
    if isinstance(value, list):
        return [_made(v, make) for v in value]
    if isinstance(value, dict):
        return {k: _made(v, make) for k, v in value.items()}
    return make(value)


def _compile_ir(model) -> dict:
    """A model's compile config without names; a loss or metric given by name and
    the same object with Keras's defaults compare equal (but not `accuracy`, which
    Keras matches to the loss, and keras.metrics.Accuracy)."""
    import keras

    config = json.loads(json.dumps(model.get_compile_config()))  # as a file holds it
    return {
        "optimizer": _unnamed(config["optimizer"]),
        "loss": _leaves(config["loss"], keras.losses),
        "metrics": _leaves(config["metrics"], keras.metrics),
        "loss_weights": config["loss_weights"],
    }


def _unnamed(value):
    if isinstance(value, dict):
        return {k: _unnamed(v) for k, v in value.items() if k != "name"}
    return [_unnamed(v) for v in value] if isinstance(value, list) else value


def _leaves(value, module):
    if isinstance(value, list):
        return [_leaves(v, module) for v in value]
    if isinstance(value, dict) and "class_name" not in value:
        return {k: _leaves(v, module) for k, v in value.items()}
    if isinstance(value, dict) and value["class_name"] == "function":
        value = value["config"]
    if isinstance(value, str) and value != "accuracy":
        value = {"class_name": class_name(value), "config": getattr(module, class_name(value))()}
        value["config"] = value["config"].get_config()
    if isinstance(value, dict):
        value = {k: value[k] for k in ("class_name", "config")}
    return _unnamed(value)


def _compiled_file(case: str, folder):
    import keras

    build, (units, activation), kwargs = COMPILE_CASES[case]
    model = build(keras, units, activation)
    model.compile(**kwargs(keras))
    expected = _compile_ir(model)
    path = folder / f"{case}.keras"
    model.save(path)
    model.save(folder / f"{case}.h5")  # which drops the model's compiled optimizer
    return expected, path


@pytest.mark.keras
@pytest.mark.parametrize("case", list(COMPILE_CASES))
def test_compile_settings_round_trip(case, tmp_path):
    """The compile config Keras gets from the imported spec is the original's."""
    from nnspec.keras.builder import build_model, make
    from nnspec.keras.plan import compile_kwargs

    expected, path = _compiled_file(case, tmp_path)
    imported = import_file(path)
    assert imported.notes == (), imported.notes
    assert "compile {" in imported.text
    assert compile_text(imported.text).diagnostics == []
    for line in EXPECTED_COMPILE.get(case, ()):
        assert line in imported.text, imported.text
    h5 = import_file(tmp_path / f"{case}.h5").text
    assert h5.split("\n", 1)[1] == imported.text.split("\n", 1)[1]
    rebuilt = build_model(imported.model)
    rebuilt.compile(**{k: _made(v, make) for k, v in compile_kwargs(imported.model.compile)})
    assert _compile_ir(rebuilt) == expected


@pytest.mark.keras
def test_compile_defaults_tables_are_keras():
    """The defaults the importer leaves out are Keras's own."""
    import keras

    from nnspec.keras.importer import (
        LOSS_DEFAULTS,
        METRIC_CLASS_DEFAULTS,
        METRIC_DEFAULTS,
        OPTIMIZER_DEFAULTS,
    )
    from nnspec.vocab.catalog import LOSSES, METRICS, OPTIMIZERS

    for name in LOSSES:
        config = getattr(keras.losses, class_name(name))().get_config()
        config.pop("name")
        assert {k: LOSS_DEFAULTS[k] for k in config} == config, name
    for name in METRICS:
        cls = class_name(name)
        defaults = METRIC_DEFAULTS | METRIC_CLASS_DEFAULTS.get(cls, {})
        config = getattr(keras.metrics, cls)().get_config()
        config.pop("name")
        assert {k: defaults[k] for k in config} == config, name
    for callee in OPTIMIZERS.values():
        config = getattr(keras.optimizers, callee.name)().get_config()
        rest = set(config) - {p.name for p in callee.params} - {"name"}
        assert {k: OPTIMIZER_DEFAULTS[k] for k in rest} == {k: config[k] for k in rest}


def _config_with(compile_config, activation: str = "softmax") -> dict:
    layers = [
        {"class_name": "InputLayer", "config": {"name": "x", "batch_shape": [None, 4]}},
        {"class_name": "Dense", "config": {"name": "d", "units": 3, "activation": activation}},
    ]
    config = {"class_name": "Sequential", "config": {"name": "m", "layers": layers}}
    return config | {"compile_config": compile_config}


ADAM = {"module": "keras.optimizers", "class_name": "Adam", "config": {"name": "adam"}}


def test_no_compile_config_imports_as_before():
    plain = import_config(_config_with(None))
    assert "compile" not in plain.text
    assert plain.text == import_config(_config_with({})).text
    assert plain.notes == ()


def test_unknown_optimizer_leaves_the_block_out():
    custom = {
        "module": "demo",
        "class_name": "Fancy",
        "config": {},
        "registered_name": "demo>Fancy",
    }
    imported = import_config(
        _config_with({"optimizer": custom, "loss": "categorical_crossentropy"})
    )
    assert "compile" not in imported.text
    assert imported.notes == (
        "compile settings left out: optimizer `Fancy` (custom, from `demo>Fancy`) "
        "is not one nnspec knows",
    )


@pytest.mark.parametrize(
    "loss, message",
    [
        ({"module": "demo", "class_name": "MyLoss", "config": {}}, "loss `MyLoss` (custom"),
        ("dice", "loss `dice` is not one nnspec knows"),
        (
            {"class_name": "CategoricalCrossentropy", "config": {"reduction": "sum"}},
            'loss `categorical_crossentropy` with `reduction="sum"`',
        ),
        (None, "a loss of None"),
    ],
)
def test_loss_nnspec_cannot_write_leaves_the_block_out(loss, message):
    imported = import_config(_config_with({"optimizer": ADAM, "loss": loss}))
    assert "compile" not in imported.text
    (note,) = imported.notes
    assert note.startswith("compile settings left out: " + message), note


def test_custom_metric_and_other_settings_are_noted():
    custom = {
        "module": "demo",
        "class_name": "Fancy",
        "config": {},
        "registered_name": "demo>Fancy",
    }
    smooth = {"class_name": "BinaryCrossentropy", "config": {"label_smoothing": 0.2}}
    optimizer = {"class_name": "Adam", "config": {"learning_rate": 0.01, "use_ema": True}}
    compile_config = {
        "optimizer": optimizer,
        "loss": "categorical_crossentropy",
        "metrics": ["acc", custom, smooth, "dice"],
        "weighted_metrics": ["mae"],
        "steps_per_execution": 4,
        "jit_compile": True,
    }
    imported = import_config(_config_with(compile_config))
    assert (
        "compile { loss: categorical_crossentropy, optimizer: adam(learning_rate=0.01), "
        "metrics: [accuracy] }\n"
    ) in imported.text
    assert imported.notes == (
        "compile: `use_ema=true` of Adam left out: nnspec's `adam` does not take it",
        "compile: metric `Fancy` (custom, from `demo>Fancy`) left out: not one nnspec knows",
        "compile: metric `binary_crossentropy` left out: `label_smoothing=0.2` cannot be written",
        "compile: metric `dice` left out: not one nnspec knows",
        'compile: `weighted_metrics=["mae"]` left out: a spec cannot write it',
        "compile: `steps_per_execution=4` left out: a spec cannot write it",
    )


def test_compile_settings_that_do_not_check_are_commented_out():
    """Keras takes a crossentropy on a relu output; nnspec refuses it (E401)."""
    imported = import_config(
        _config_with({"optimizer": ADAM, "loss": "categorical_crossentropy"}, "relu")
    )
    assert "\n# compile {\n#     loss: categorical_crossentropy\n#     optimizer: adam\n# }\n" in (
        imported.text
    )
    (note,) = imported.notes
    assert note.startswith("compile settings left out (commented out): E401 ")
    assert imported.model.compile is None or not imported.model.compile
