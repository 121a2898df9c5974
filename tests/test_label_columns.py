"""Labels stored flat, `(N,)`, for an output of one unit `(None, 1)`: `run` and
`gen` make them a column `(N, 1)` where a metric needs one (Keras's F1Score and
BinaryCrossentropy metric fail on flat labels); and metrics of one value per
class (`f1_score` without `average`) in `run`'s history and results and in the
script's printed results."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from helpers import nnspec

from nnspec.check.metrics import column_labels
from nnspec.check.pipeline import compile_text
from nnspec.keras.codegen import render_script
from nnspec.keras.plan import per_class

QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "NO_COLOR": "1"}

ONE_UNIT = """model flat
data {data}
input x: ({features},)
sequential {{
    Dense(8, activation=relu)
    Dense({units}, activation={activation})
}}
compile {{ loss: {loss}, optimizer: adam, metrics: [{metrics}] }}
fit {{ epochs: 2 }}
evaluate
"""


def spec(metrics: str, data='npz("flat.npz")', features=4, units=1, loss="binary_crossentropy"):
    activation = "sigmoid" if units == 1 else "softmax"
    return ONE_UNIT.format(**locals())


@pytest.mark.parametrize(
    "text, reshaped",
    [
        (spec("f1_score"), ("dense_1",)),
        (spec("accuracy, binary_crossentropy"), ("dense_1",)),
        (spec("f1_score(threshold=0.5)", data='csv("flat.csv", label="y")'), ("dense_1",)),
        (spec("f1_score", data="breast_cancer", features=30), ("dense_1",)),
        (spec("accuracy, auc"), ()),  # Keras takes flat labels for these
        (
            spec(
                "f1_score",
                data="iris { labels: one_hot }",
                units=3,
                loss="categorical_crossentropy",
            ),
            (),
        ),
    ],
)
def test_which_outputs_get_their_labels_as_a_column(text, reshaped):
    result = compile_text(text)
    assert result.ok, result.diagnostics
    assert column_labels(result.model) == reshaped


def test_f1_score_on_class_ids_over_several_units_is_still_refused():
    text = spec("f1_score", data="iris", units=3, loss="sparse_categorical_crossentropy")
    found = compile_text(text).diagnostics
    assert [d.code for d in found] == ["E408"]
    assert "needs labels with a column per unit, of shape (N, 3)" in found[0].message


def test_the_script_reshapes_only_where_a_metric_needs_it():
    line = "y_train, y_test = y_train.reshape(-1, 1), y_test.reshape(-1, 1)"
    assert line in render_script(compile_text(spec("f1_score")).model, "flat.nn")
    assert line not in render_script(compile_text(spec("accuracy")).model, "flat.nn")


@pytest.mark.parametrize(
    "metrics, expected",
    [
        ("f1_score", True),
        ('f1_score(average="macro")', False),
        ("f1_score(average=None)", True),
        ("r2_score", False),
        ("accuracy", False),
    ],
)
def test_metrics_of_one_value_per_class(metrics, expected):
    model = compile_text(spec(metrics)).model
    assert per_class(model) is expected
    source = render_script(model, "flat.nn")
    assert ('print(f"test {name}: {np.round(value, 4)}")' in source) is expected


@pytest.mark.keras
def test_run_and_script_train_flat_labels_with_f1_score(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "flat.npz", x=rng.random((50, 4)), y=rng.integers(0, 2, 50))
    (tmp_path / "flat.nn").write_text(spec("accuracy, f1_score"))
    run = nnspec("run", "flat.nn", "--out", "run", "--quiet", cwd=tmp_path, env=QUIET)
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(results) == {"accuracy", "f1_score", "loss"}
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history["f1_score"]) == 2

    assert nnspec("gen", "flat.nn", "-o", "flat.py", cwd=tmp_path).returncode == 0
    done = subprocess.run(
        [sys.executable, "flat.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, **QUIET},
    )
    assert done.returncode == 0, done.stderr
    assert "test f1_score: [" in done.stdout


@pytest.mark.keras
def test_run_keeps_a_value_per_class_of_f1_score(tmp_path):
    (tmp_path / "iris.nn").write_text(
        spec("f1_score", data="iris { labels: one_hot }", units=3, loss="categorical_crossentropy")
    )
    run = nnspec("run", "iris.nn", "--out", "run", "--quiet", cwd=tmp_path, env=QUIET)
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(results) == {"f1_score_0", "f1_score_1", "f1_score_2", "loss"}
    history = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert history[0] == "epoch,f1_score_0,f1_score_1,f1_score_2,loss"
