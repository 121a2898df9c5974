"""Models with several inputs and outputs: the data that feeds them, metrics and
settings per output. Checked without TensorFlow, then run, generated and
compared with Keras itself."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import codes, nnspec

from nnspec.check.pipeline import compile_text
from nnspec.keras.codegen import render_script
from nnspec.keras.plan import Prediction, predictions

QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "NO_COLOR": "1"}
QUIET_ENV = {**os.environ, **QUIET}

GRAPH = """
input a: (4,)
input b: (3,)
graph {
    merged = Concatenate()
    hidden = Dense(8, activation=relu)
    kind = Dense(3, activation=softmax)
    score = Dense(1)
    [a, b] -> merged -> hidden
    hidden -> kind
    hidden -> score
}
output kind, score
"""
COMPILE = """
compile {{
    loss: {{ kind: sparse_categorical_crossentropy, score: mse }}
    optimizer: adam
    metrics: {metrics}
}}
"""
NPZ = 'data npz("mi.npz") {{ {settings} }}'
MAPPED = 'inputs: { a: "xa", b: "xb" }, outputs: { kind: "kind", score: "score" }, seed: 0'


def spec(data: str = NPZ.format(settings=MAPPED), metrics="{ kind: [accuracy], score: mae }"):
    return "model two_in_two_out\n" + data + GRAPH + COMPILE.format(metrics=metrics)


# ---- check (no TensorFlow) -------------------------------------------------


@pytest.mark.parametrize(
    "metrics",
    [
        "{ kind: [accuracy], score: mae }",
        "{ kind: accuracy }",
        "[accuracy, mae]",
        "[[accuracy, sparse_categorical_crossentropy], [mae, mse]]",
    ],
)
def test_metrics_keras_takes_for_two_outputs(metrics):
    assert codes(spec(metrics=metrics)) == []


@pytest.mark.parametrize(
    "metrics, code",
    [("[accuracy]", "E408"), ("[accuracy, mae, mse]", "E408"), ("{ kinds: [accuracy] }", "E202")],
)
def test_metrics_keras_refuses_for_two_outputs(metrics, code):
    assert codes(spec(metrics=metrics)) == [code]


def test_class_weight_needs_one_output():
    text = spec() + "fit { class_weight: { 0: 1.0, 1: 2.0, 2: 1.0 } }\n"
    assert codes(text) == ["E409"]


@pytest.mark.parametrize(
    "settings, expected",
    [
        (MAPPED, []),
        ('inputs: { a: "xa", b: "xb" }', ["E502"]),  # no outputs mapping
        ('outputs: { kind: "k", score: "s" }', ["E502"]),  # no inputs mapping
        (MAPPED.replace("b: ", "c: "), ["E502", "E202"]),
        (MAPPED + ", scale: 0.5", ["E502"]),
        (MAPPED + ", standardize: true", ["E502"]),
        (MAPPED + ", target: inputs", ["E502"]),
    ],
)
def test_npz_maps_every_input_and_output(settings, expected):
    assert sorted(codes(spec(NPZ.format(settings=settings)))) == sorted(expected)


def test_a_builtin_source_cannot_feed_two_inputs_or_two_outputs():
    found = compile_text(spec("data iris"))
    assert [d.code for d in found.diagnostics if d.code == "E501"] == ["E501", "E501"]
    assert "gives one feature array, but the model has 2 inputs" in found.diagnostics[0].message


def test_a_builtin_source_takes_no_mapping():
    one = 'model m\ndata iris { inputs: { x: "a" } }\ninput x: (4,)\nsequential { Dense(3, activation=softmax) }\n'
    assert codes(one) == ["E502"]


def test_csv_columns_against_the_input_shape():
    data = (
        'data csv("mi.csv") { inputs: { a: ["a1", "a2"], b: ["b1", "b2", "b3"] }, '
        'outputs: { kind: "kind", score: "score" } }'
    )
    found = compile_text(spec(data)).diagnostics
    assert [d.code for d in found] == ["E501"]
    assert "2 columns give `a` samples of shape (2,), but it expects (4,)" in found[0].message


def test_csv_needs_a_label_or_an_outputs_mapping():
    data = 'data csv("mi.csv") { inputs: { a: ["a1", "a2", "a3", "a4"], b: ["b1", "b2", "b3"] } }'
    assert "E103" in codes(spec(data))


def test_one_input_keeps_its_defaults():
    one = 'model m\ndata npz("d.npz")\ninput x: (4,)\nsequential { Dense(1) }\n'
    assert codes(one + "compile { loss: mse, metrics: [mae, mse] }\n") == []


def test_predictions_one_file_per_output_with_its_classes():
    model = compile_text(spec()).model
    assert predictions(model, None) == ()
    assert predictions(model, "out/p.csv") == (
        Prediction("out/p_kind.csv", ("0", "1", "2")),
        Prediction("out/p_score.csv", None),
    )
    iris = compile_text(
        "model m\ndata iris\ninput x: (4,)\nsequential { Dense(3, activation=softmax) }\n"
    ).model
    assert predictions(iris, "p.csv") == (
        Prediction("p.csv", ("setosa", "versicolor", "virginica")),
    )


ONE_INPUT = """model one_in_two_out
data npz("one.npz") { outputs: { kind: "kind", score: "score" }, scale: 0.5, limit: 30 }
input x: (4,)
graph {
    hidden = Dense(8, activation=relu)
    kind = Dense(3, activation=softmax)
    score = Dense(1)
    x -> hidden
    hidden -> kind
    hidden -> score
}
output kind, score
compile { loss: [sparse_categorical_crossentropy, mse], optimizer: adam, metrics: [accuracy, mae] }
fit { epochs: 1 }
predict "preds.csv"
"""
GOLDEN = Path(__file__).parent / "golden" / "data"


@pytest.mark.parametrize(
    "name, text",
    [("two_in_two_out_npz", spec()), ("two_in_two_out_csv", None), ("one_in_two_out", ONE_INPUT)],
)
def test_generated_loading_golden(name, text, update_goldens):
    """The scripts `gen` writes for several inputs and outputs (tests/golden/data/)."""
    text = text or spec(CSV)
    source = render_script(compile_text(text).model, f"{name}.nn")
    golden = GOLDEN / f"{name}.py"
    if update_goldens:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(source)
    assert source == golden.read_text()


# ---- run and gen (TensorFlow) ----------------------------------------------


def _write_data(folder: Path, split: bool) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    arrays = {}
    for part, n in (("_train", 48), ("_test", 16)) if split else (("", 64),):
        arrays |= {
            f"xa{part}": rng.random((n, 4)),
            f"xb{part}": rng.random((n, 3)),
            f"kind{part}": rng.integers(0, 3, n),
            f"score{part}": rng.random(n),
        }
    np.savez(folder / "mi.npz", **arrays)
    with open(folder / "mi.csv", "w", newline="") as f:
        rows = csv.writer(f)
        rows.writerow(["a1", "a2", "a3", "a4", "b1", "b2", "b3", "kind", "score"])
        for _ in range(64):
            rows.writerow(
                [*rng.random(7).round(4), int(rng.integers(0, 3)), round(rng.random(), 4)]
            )


CSV = (
    'data csv("mi.csv") { inputs: { a: ["a1", "a2", "a3", "a4"], b: ["b1", "b2", "b3"] }, '
    'outputs: { kind: "kind", score: "score" }, seed: 0 }'
)


@pytest.mark.keras
@pytest.mark.parametrize("source", ["npz whole", "npz split", "csv"])
def test_two_inputs_two_outputs_run_and_match_the_generated_script(tmp_path, source):
    _write_data(tmp_path, split=source == "npz split")
    text = spec(CSV if source == "csv" else NPZ.format(settings=MAPPED))
    text += (
        'fit { epochs: 2, batch_size: 8, validation: test, callbacks: [csv_logger("log.csv")] }\n'
    )
    text += 'predict "preds.csv"\n'
    (tmp_path / "mi.nn").write_text(text)
    run = nnspec("run", "mi.nn", "--out", "run", "--quiet", cwd=tmp_path, env=QUIET)
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert {"kind_accuracy", "score_mae", "kind_loss", "score_loss"} <= set(results)
    for name in ("preds_kind.csv", "preds_score.csv"):
        assert (tmp_path / "run" / name).is_file()
    test_samples = 16 if source == "npz split" else 13  # 20% of 64, rounded up
    kind = (tmp_path / "run" / "preds_kind.csv").read_text().splitlines()
    assert kind[0] == "p_0,p_1,p_2,class" and len(kind) == 1 + test_samples
    score = (tmp_path / "run" / "preds_score.csv").read_text().splitlines()
    assert score[0] == "prediction" and len(score) == 1 + test_samples

    assert nnspec("gen", "mi.nn", "-o", "mi.py", cwd=tmp_path).returncode == 0
    done = subprocess.run(
        [sys.executable, "mi.py"], cwd=tmp_path, capture_output=True, text=True, env=QUIET_ENV
    )
    assert done.returncode == 0, done.stderr
    logged = list(csv.DictReader((tmp_path / "log.csv").open()))
    ran = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [float(row["loss"]) for row in logged] == pytest.approx(ran["loss"], abs=1e-5)


@pytest.mark.keras
def test_run_refuses_arrays_of_the_wrong_shape_before_training(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "mi.npz",
        xa=rng.random((20, 5)),
        xb=rng.random((20, 3)),
        kind=rng.integers(0, 3, 20),
        score=rng.random(20),
    )
    (tmp_path / "mi.nn").write_text(spec())
    run = nnspec("run", "mi.nn", "--out", "run", "--quiet", cwd=tmp_path, env=QUIET)
    assert run.returncode == 1
    assert "samples have shape (5,), but input `a` expects (4,)" in run.stderr
    assert not (tmp_path / "run" / "history.json").exists()


@pytest.mark.keras
@pytest.mark.parametrize(
    "metrics",
    [
        "{ kind: [accuracy], score: mae }",
        "[accuracy, mae]",
        "[[accuracy], [mae, mse]]",
        "[accuracy]",
        "[accuracy, mae, mse]",
    ],
)
def test_check_agrees_with_keras_on_metrics(metrics):
    """A structure `check` accepts compiles and fits one step in Keras; one it
    refuses, Keras refuses too."""
    import numpy as np

    from nnspec.keras.builder import build_model, make
    from nnspec.keras.plan import compile_kwargs

    result = compile_text(spec(metrics=metrics))
    accepted = result.ok
    checked = result.model
    net = build_model(checked)
    x = {"a": np.zeros((4, 4), "float32"), "b": np.zeros((4, 3), "float32")}
    y = {"kind": np.zeros(4, "int32"), "score": np.zeros(4, "float32")}
    try:
        kwargs = {k: _made(v, make) for k, v in compile_kwargs(checked.compile)}
        net.compile(**kwargs)
        net.fit(x, y, epochs=1, verbose=0)
        keras_accepts = True
    except ValueError:
        keras_accepts = False
    assert accepted == keras_accepts


def _made(value, make):
    if isinstance(value, list):
        return [_made(v, make) for v in value]
    if isinstance(value, dict):
        return {k: _made(v, make) for k, v in value.items()}
    return make(value)
