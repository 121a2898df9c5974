"""Predictions in one format: the spec's `predict "file.csv"` (in `run` and in
the generated script) and `nnspec predict` write a header, each class's
probability named by the class and the predicted class, or the values."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest
from helpers import nnspec

QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "NO_COLOR": "1"}
IRIS = """model iris_mlp
data iris {{ standardize: true, seed: 0 }}
input x: (4,)
sequential {{
    Dense(8, activation=relu)
    Dense({units}, activation={activation})
}}
compile {{ loss: {loss}, optimizer: adam }}
fit {{ epochs: 2 }}
predict "preds.csv"
"""


def _rows(path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))


@pytest.mark.keras
def test_run_script_and_predict_write_one_format(tmp_path):
    import numpy as np

    (tmp_path / "iris.nn").write_text(
        IRIS.format(units=3, activation="softmax", loss="sparse_categorical_crossentropy")
    )
    run = nnspec("run", "iris.nn", "--out", "run", "--quiet", cwd=tmp_path, env=QUIET)
    assert run.returncode == 0, run.stderr
    header = ["p_setosa", "p_versicolor", "p_virginica", "class"]
    ran = _rows(tmp_path / "run" / "preds.csv")
    assert ran[0] == header and len(ran) == 1 + 30
    for row in ran[1:]:
        probabilities = [float(v) for v in row[:3]]
        assert abs(sum(probabilities) - 1) < 1e-4
        assert row[3] == header[int(np.argmax(probabilities))][2:]

    assert nnspec("gen", "iris.nn", "-o", "iris.py", cwd=tmp_path).returncode == 0
    script = subprocess.run(
        [sys.executable, "iris.py"], cwd=tmp_path, capture_output=True, env={**os.environ, **QUIET}
    )
    assert script.returncode == 0, script.stderr
    assert _rows(tmp_path / "preds.csv") == ran  # seeded: the same model, the same rows

    np.save(tmp_path / "samples.npy", np.zeros((2, 4), "float32"))
    predicted = nnspec("predict", "run", "--input", "samples.npy", cwd=tmp_path, env=QUIET)
    assert predicted.returncode == 0, predicted.stderr
    lines = predicted.stdout.splitlines()
    assert lines[0] == ",".join(header) and len(lines) == 3


@pytest.mark.keras
def test_one_sigmoid_unit_scores_both_classes(tmp_path):
    text = IRIS.replace("data iris", "data breast_cancer").replace("(4,)", "(30,)")
    (tmp_path / "b.nn").write_text(text.format(units=1, activation="sigmoid", loss="bce"))
    run = nnspec("run", "b.nn", "--out", "run", "--quiet", cwd=tmp_path, env=QUIET)
    assert run.returncode == 0, run.stderr
    rows = _rows(tmp_path / "run" / "preds.csv")
    assert rows[0] == ["p_malignant", "p_benign", "class"]
    first = rows[1]
    assert abs(float(first[0]) + float(first[1]) - 1) < 1e-5
    assert first[2] == ("benign" if float(first[1]) > 0.5 else "malignant")


@pytest.mark.keras
def test_predict_applies_the_runs_preprocessing_to_raw_samples(tmp_path):
    """Raw digits through a run folder equal the same samples prepared by hand."""
    import numpy as np
    from sklearn.datasets import load_digits

    spec = """model digits_prep
data digits { scale: 1/16, standardize: true, seed: 0 }
input pixels: (64,)
sequential { Dense(10, activation=softmax) }
compile { loss: sparse_categorical_crossentropy, optimizer: adam }
fit { epochs: 1 }
"""
    (tmp_path / "d.nn").write_text(spec)
    run = nnspec("run", "d.nn", "--out", "run", "--quiet", cwd=tmp_path, env=QUIET)
    assert run.returncode == 0, run.stderr
    raw = load_digits().data[:5]
    np.save(tmp_path / "raw.npy", raw)
    with np.load(tmp_path / "run" / "standardization.npz") as saved:
        prepared = (raw.astype("float32") / 16 - saved["mean"]) / saved["std"]
    np.save(tmp_path / "prepared.npy", prepared)

    from_raw = nnspec("predict", "run", "--input", "raw.npy", cwd=tmp_path, env=QUIET)
    assert from_raw.returncode == 0, from_raw.stderr
    assert "applied the run's preprocessing: scale 1/16, standardization" in from_raw.stderr
    by_hand = nnspec(
        "predict", "run", "--input", "prepared.npy", "--prepared", cwd=tmp_path, env=QUIET
    )
    assert by_hand.returncode == 0, by_hand.stderr
    assert "applied" not in by_hand.stderr
    assert from_raw.stdout == by_hand.stdout
    assert from_raw.stdout.splitlines()[0].startswith("p_0,p_1,")
