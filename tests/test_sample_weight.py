"""`sample_weight` in the data block: one weight per sample, read from an npz array
or a CSV column, split with the samples and passed to `fit` (and to the validation
and the test evaluation), in `run` and in the script `gen` writes."""

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

QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "NO_COLOR": "1"}
GOLDEN = Path(__file__).parent / "golden" / "data"

MODEL = """input x: (4,)
sequential {
    Dense(8, activation=relu)
    Dense(1, activation=sigmoid)
}
compile { loss: binary_crossentropy, optimizer: adam }
"""


def spec(data: str, fit: str = "") -> str:
    return f"model weighted\n{data}\n{MODEL}{fit}"


# ---- check (no TensorFlow) -------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        'data npz("d.npz") { sample_weight: "w" }',
        'data csv("d.csv", label="y") { sample_weight: "weight" }',
        'data csv("d.csv") { outputs: { dense_1: "y" }, sample_weight: "weight" }',
    ],
)
def test_weights_from_an_npz_array_or_a_csv_column(data):
    assert codes(spec(data)) == []


@pytest.mark.parametrize(
    "data, code, phrase",
    [
        (
            'data breast_cancer { sample_weight: "w" }',
            "E503",
            "data `breast_cancer` has no sample weights",
        ),
        (
            'data classification(n_features=4) { sample_weight: "w" }',
            "E503",
            "data `classification` has no sample weights",
        ),
        (
            'data csv("d.csv", label="y") { sample_weight: "y" }',
            "E503",
            "column `y` is the label",
        ),
        (
            'data csv("d.csv", label="y") { inputs: { x: ["a", "b", "c", "w"] }, '
            'sample_weight: "w" }',
            "E503",
            "column `w` is a column of input `x`",
        ),
        (
            'data npz("d.npz") { sample_weight: { dense_1: "w" } }',
            "E105",
            "Keras 3 takes no sample weights by output name",
        ),
    ],
)
def test_weights_the_data_cannot_give(data, code, phrase):
    found = [d for d in compile_text(spec(data)).diagnostics if d.code == code]
    assert len(found) == 1 and phrase in found[0].message


def test_weights_and_class_weights_are_one_or_the_other():
    """Keras: "You cannot `class_weight` and `sample_weight` at the same time"."""
    text = spec(
        'data npz("d.npz") { sample_weight: "w" }', "fit { class_weight: { 0: 1, 1: 2 } }\n"
    )
    found = compile_text(text).diagnostics
    assert [d.code for d in found] == ["E409"]
    assert found[0].span.line == 9  # at `class_weight`


TWO_OUTPUTS = """model two
data npz("d.npz") { outputs: { kind: "kind", score: "score" }, sample_weight: "w" }
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
compile { loss: { kind: sparse_categorical_crossentropy, score: mse }, optimizer: adam }
fit { epochs: 1 }
"""


def test_weights_need_a_model_with_one_output():
    found = compile_text(TWO_OUTPUTS).diagnostics
    assert [d.code for d in found] == ["E409"]
    assert "Keras 3 fails on sample weights with labels by output name" in found[0].message


# ---- gen (no TensorFlow) ---------------------------------------------------

CSV_SPEC = spec(
    'data csv("customers.csv", label="churned") '
    '{ sample_weight: "weight", standardize: true, limit: 500, seed: 7 }',
    "fit { epochs: 10, validation: test }\nevaluate\n",
)
NPZ_SPEC = spec(
    'data npz("scores.npz") { sample_weight: "w" }', "fit { epochs: 3, validation: 0.25 }\n"
)


@pytest.mark.parametrize(
    "name, text", [("sample_weight_csv", CSV_SPEC), ("sample_weight_npz", NPZ_SPEC)]
)
def test_generated_script_golden(name, text, update_goldens):
    """The weights are split with the samples, weigh `fit` and the validation and
    test losses (tests/golden/data/)."""
    source = render_script(compile_text(text).model, f"{name}.nn")
    golden = GOLDEN / f"{name}.py"
    if update_goldens:
        golden.write_text(source)
    assert source == golden.read_text()


def test_the_weight_column_is_no_feature():
    text = spec('data csv("d.csv") { outputs: { dense_1: "y" }, sample_weight: "w" }')
    source = render_script(compile_text(text).model, "d.nn")
    assert 'frame.drop(columns=["y", "w"]).to_numpy()' in source
    assert 'w = frame["w"].to_numpy()' in source


# ---- the weights, checked before TensorFlow loads --------------------------


def _npz_problem(tmp_path: Path, **arrays):
    import numpy as np

    from nnspec.keras.plan import program
    from nnspec.keras.train import RunError, check_files

    rng = np.random.default_rng(0)
    data = {"x": rng.random((10, 4)), "y": rng.integers(0, 2, 10), **arrays}
    np.savez(tmp_path / "d.npz", **data)
    text = spec(f'data npz("{tmp_path / "d.npz"}") {{ sample_weight: "w" }}')
    with pytest.raises(RunError) as err:
        check_files(program(compile_text(text).model), None)
    return str(err.value)


@pytest.mark.parametrize(
    "weights, message",
    [
        (
            [1.0] * 9,
            "the sample weights (`w`) have shape (9,), but 10 samples take one weight each",
        ),
        ([[1.0]] * 10, "the sample weights (`w`) have shape (10, 1)"),
        ([1.0] * 9 + [-2.0], "the weight of sample 9, -2, is not a number >= 0"),
        ([1.0] * 4 + [float("nan")] * 6, "the weight of sample 4, nan, is not a number >= 0"),
        (["a"] * 10, "are not numbers but <U1"),
    ],
)
def test_bad_npz_weights_are_named_before_training(tmp_path, weights, message):
    found = _npz_problem(tmp_path, w=weights)
    assert found.startswith(f"{tmp_path / 'd.npz'}: ")
    assert message in found


def test_split_npz_weights_are_checked_split_by_split(tmp_path):
    import numpy as np

    arrays = {
        "x_train": np.zeros((6, 4)),
        "y_train": np.zeros(6),
        "x_test": np.zeros((3, 4)),
        "y_test": np.zeros(3),
        "w_train": np.ones(6),
        "w_test": np.ones(4),
    }
    found = _npz_problem(tmp_path, **arrays)
    assert "the test sample weights (`w_test`) have shape (4,), but 3 samples" in found


def test_npz_without_the_weights_array(tmp_path):
    found = _npz_problem(tmp_path, weights=[1.0] * 10)
    assert "expected arrays x, y, w; found weights, x, y" in found


def test_bad_csv_weight_is_named_with_its_line_and_column(tmp_path):
    from nnspec.keras.plan import program
    from nnspec.keras.train import RunError, check_files

    (tmp_path / "d.csv").write_text("a,b,c,d,weight,y\n1,2,3,4,1,0\n1,2,3,4,-1,1\n")
    text = spec(f'data csv("{tmp_path / "d.csv"}", label="y") {{ sample_weight: "weight" }}')
    with pytest.raises(RunError) as err:
        check_files(program(compile_text(text).model), None)
    assert str(err.value).endswith(
        "d.csv:3:5: sample weight `-1` in column `weight` is not a number >= 0"
    )


def test_run_refuses_bad_weights_with_exit_status_1(tmp_path):
    import numpy as np

    np.savez(tmp_path / "d.npz", x=np.zeros((10, 4)), y=np.zeros(10), w=-np.ones(10))
    (tmp_path / "w.nn").write_text(spec('data npz("d.npz") { sample_weight: "w" }'))
    result = nnspec("run", "w.nn", "--out", "run", cwd=tmp_path, env=QUIET)
    assert result.returncode == 1, result.stderr
    assert "d.npz: the sample weights (`w`): the weight of sample 0, -1" in result.stderr
    assert "Traceback" not in result.stderr


# ---- run and gen (TensorFlow) ----------------------------------------------

# y = 2x on the first half of the samples, y = -2x on the second: weighted 1 and 0,
# the model learns y = 2x; all weighted alike, it learns y = 0.
REGRESSION = """model weighted
data npz("line.npz") {{ sample_weight: "{weights}", seed: 3 }}
input x: (1,)
sequential {{ Dense(1, use_bias=false) }}
compile {{ loss: mse, optimizer: adam(learning_rate=0.05) }}
fit {{ epochs: 40, batch_size: 16, validation: test, callbacks: [csv_logger("log.csv")] }}
"""


def _line_data(folder: Path) -> None:
    import numpy as np

    x = np.random.default_rng(0).uniform(-1, 1, (200, 1)).astype("float32")
    first = np.arange(200) < 100
    y = np.where(first, 2 * x[:, 0], -2 * x[:, 0]).astype("float32")
    np.savez(folder / "line.npz", x=x, y=y, half=first.astype("float32"), ones=np.ones(200))


def _kernel(folder: Path) -> float:
    import keras

    net = keras.models.load_model(folder / "weighted.keras")
    return float(net.layers[-1].get_weights()[0][0, 0])


@pytest.mark.keras
def test_weights_change_what_is_learned_and_the_script_matches_run(tmp_path):
    _line_data(tmp_path)
    for weights in ("half", "ones"):
        (tmp_path / f"{weights}.nn").write_text(REGRESSION.format(weights=weights))
        run = nnspec("run", f"{weights}.nn", "--out", weights, "--quiet", cwd=tmp_path, env=QUIET)
        assert run.returncode == 0, run.stderr
    assert _kernel(tmp_path / "half") == pytest.approx(2.0, abs=0.2)
    assert _kernel(tmp_path / "ones") == pytest.approx(0.0, abs=0.3)

    # The test split's weights weigh the validation loss and the test loss alike.
    history = json.loads((tmp_path / "half" / "history.json").read_text())
    results = json.loads((tmp_path / "half" / "metrics.json").read_text())
    assert results["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-4)

    assert nnspec("gen", "half.nn", "-o", "half.py", cwd=tmp_path).returncode == 0
    env = {**os.environ, **QUIET}
    done = subprocess.run(
        [sys.executable, "half.py"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    logged = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert [float(row["loss"]) for row in logged] == pytest.approx(history["loss"], abs=1e-5)


@pytest.mark.keras
@pytest.mark.parametrize(
    "fit", ["fit { epochs: 1 }", "fit { epochs: 1, class_weight: { 0: 1, 1: 2 } }"]
)
def test_keras_fails_where_check_refuses_weights(fit):
    """Run anyway as `run` runs it, a spec `check` refuses (E409) fails in Keras: on
    a model with two outputs (KeyError: 0), with class weights (a ValueError)."""
    import whole_specs
    from whole_specs import DataFile, Drawn, Feed

    if "class_weight" in fit:
        text = spec('data npz("d.npz") { sample_weight: "w" }', fit + "\n")
        feeds = (Feed("x", "float", (4,)), Feed("y", "classes", (), 2), Feed("w", "float"))
    else:
        text = TWO_OUTPUTS
        feeds = (
            Feed("x", "float", (4,)),
            Feed("kind", "classes", (), 3),
            Feed("score", "regression"),
            Feed("w", "float"),
        )
    assert codes(text) == ["E409"]
    verdict = whole_specs.judge(Drawn(text, DataFile("d.npz", "npz", feeds)))
    assert verdict.kind == whole_specs.REJECTED_BOTH, verdict.detail
