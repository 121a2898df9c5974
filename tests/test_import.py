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
