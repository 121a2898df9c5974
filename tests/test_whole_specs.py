"""Whole specs against Keras (tests/whole_specs.py): every drawn spec that `nnspec
check` passes loads, builds, compiles and trains one step the way `nnspec run`
runs it; one it rejects for its training setup only is run too, and where Keras
trains it the reason nnspec is stricter is listed.

CI runs a seeded sample of 40 specs (about two minutes on two cores); set
NNSPEC_WHOLE_SPECS for more (`NNSPEC_WHOLE_SPECS=500 pytest tests/test_whole_specs.py`).
`python tools/conformance_report.py --part specs` writes the figures of a run into
docs/conformance.md.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace

import pytest
import whole_specs
from helpers import ROOT
from whole_specs import DataFile, Drawn, Feed

from nnspec.check.pipeline import compile_text

EXAMPLES = int(os.environ.get("NNSPEC_WHOLE_SPECS", "40"))
REPORT = ROOT / "docs" / "conformance.md"


@pytest.mark.keras
def test_clean_specs_train_in_keras():
    found = whole_specs.survey(EXAMPLES)
    bad = [
        (d, v) for d, v in found if v.kind in (whole_specs.KERAS_FAILURE, whole_specs.UNEXPLAINED)
    ]
    assert not bad, "\n\n".join(f"{v.kind}: {v.detail}\n{d.text}" for d, v in bad)
    trained = sum(v.kind == whole_specs.TRAINED for _, v in found)
    assert trained >= len(found) // 2, "most drawn specs should check clean and train"


def test_drawn_specs_cover_the_language():
    """Every feature of whole_specs.FEATURES shows in a sample (no Keras needed),
    and most drawn specs check clean."""
    drawn = whole_specs.sample(500)
    missing = [
        f"{group}: {name}"
        for group, counts in whole_specs.coverage(drawn).items()
        for name, count in counts.items()
        if count == 0
    ]
    assert not missing
    clean = sum(compile_text(d.text).ok for d in drawn)
    assert clean > 0.6 * len(drawn)


# ---- the bugs the harness found: each spec checked clean, and Keras failed on it -----

REGRESSION = "data regression(n_samples=60, n_features=4, n_informative=3, random_state=0)"
SEQUENTIAL = """model found
{data}
input x: ({features},)
sequential {{
    Dense(8, activation=relu)
    Dense({units}{activation})
}}
compile {{ loss: {loss}, optimizer: adam{metrics} }}
fit {{ epochs: 1, validation: test{fit} }}
"""


def _sequential(data, features, units, loss, activation="", metrics="", fit="") -> str:
    activation = f", activation={activation}" if activation else ""
    metrics = f", metrics: [{metrics}]" if metrics else ""
    fit = f", callbacks: [{fit}]" if fit else ""
    return SEQUENTIAL.format(**locals())


TWO_OUTPUTS = """model found
data npz("data.npz") { inputs: { x: "x" }, outputs: { kind: "kind", score: "score" } }
input x: (4,)
graph {
    body = Dense(8, activation=relu)
    kind = Dense(3, activation=softmax)
    score = Dense(1)
    x -> body
    body -> [kind, score]
}
output kind, score
compile { loss: { kind: sparse_categorical_crossentropy, score: mse }, optimizer: adam }
fit { epochs: 1, validation: 0.2, callbacks: [early_stopping(monitor="val_score_loss")] }
"""
TWO_OUTPUTS_DATA = DataFile(
    "data.npz",
    "npz",
    (Feed("x", "float", (4,)), Feed("kind", "classes", (), 3), Feed("score", "regression")),
)
CSV_ONE_HOT = """model found
data csv("data.csv", label="y") { labels: one_hot }
input x: (4,)
sequential { Dense(3, activation=softmax) }
compile { loss: categorical_crossentropy, optimizer: adam }
fit { epochs: 1 }
"""
CSV_DATA = DataFile(
    "data.csv", "csv", (Feed(("a", "b", "c", "d"), "float", (4,)), Feed("y", "classes", (), 3))
)

# (spec, its data file, the codes `check` gives now, a phrase of the first error)
FOUND = {
    "monitor without a metric": (
        _sequential(REGRESSION, 4, 1, "mse", fit='reduce_lr_on_plateau(monitor="val_accuracy")'),
        None,
        ["E409"],
        "ReduceLROnPlateau watches `val_accuracy` with mode=auto",
    ),
    "monitor of one output's loss": (TWO_OUTPUTS, TWO_OUTPUTS_DATA, ["E409"], "`val_score_loss`"),
    "checkpoint weights in .h5": (
        _sequential(
            "data iris",
            4,
            3,
            "sparse_categorical_crossentropy",
            "softmax",
            fit='checkpoint("best.h5", save_weights_only=true)',
        ),
        None,
        ["E106"],
        "must end in `.weights.h5`",
    ),
    "f1_score on class ids": (
        _sequential(
            "data iris", 4, 3, "sparse_categorical_crossentropy", "softmax", "accuracy, f1_score"
        ),
        None,
        ["E408"],
        "`f1_score` on output `dense_1` needs labels with a column per unit, of shape (N, 3)",
    ),
    "mae on class ids over 3 units": (
        _sequential("data iris", 4, 3, "sparse_categorical_crossentropy", "softmax", "mae"),
        None,
        ["E408"],
        "compares each of the 3 units with the label",
    ),
    "sparse metric on one-hot labels": (
        _sequential(
            "data iris { labels: one_hot }",
            4,
            3,
            "categorical_crossentropy",
            "softmax",
            "sparse_categorical_accuracy",
        ),
        None,
        ["E408"],
        "expects one class id per sample",
    ),
    "top-k on one target": (
        _sequential(REGRESSION, 4, 1, "mse", metrics="top_k_categorical_accuracy(k=2)"),
        None,
        ["E408"],
        "compares the units of an output that has one",
    ),
    "categorical crossentropy as the metric of one unit, labels stored flat": (
        _sequential(
            'data npz("data.npz")',
            4,
            1,
            "binary_crossentropy",
            "sigmoid",
            "categorical_crossentropy",
        ),
        DataFile("data.npz", "npz", (Feed("x", "float", (4,)), Feed("y", "classes", (), 2))),
        ["E408"],
        "its value never changes",
    ),
    "plateau on a schedule": (
        _sequential(
            "data iris",
            4,
            3,
            "sparse_categorical_crossentropy",
            "softmax",
            fit="reduce_lr_on_plateau(patience=0, min_delta=10.0)",
        )
        .replace("optimizer: adam", "optimizer: adam(learning_rate=cosine_decay(1e-3, 100))")
        .replace("epochs: 1", "epochs: 2"),
        None,
        ["E409"],
        "but the optimizer's is a schedule (cosine_decay)",
    ),
    "two weights for one shared loss": (
        TWO_OUTPUTS.replace("Dense(3, activation=softmax)", "Dense(1)")
        .replace("{ kind: sparse_categorical_crossentropy, score: mse }", "mse")
        .replace("optimizer: adam", "optimizer: adam, loss_weights: [1.0, 0.5]")
        .replace('early_stopping(monitor="val_score_loss")', 'csv_logger("log.csv")'),
        replace(
            TWO_OUTPUTS_DATA,
            feeds=(Feed("x", "float", (4,)), *[Feed(k, "regression") for k in ("kind", "score")]),
        ),
        ["E402"],
        "2 weights for one loss shared by every output",
    ),
    "labels: one_hot on a CSV column": (
        CSV_ONE_HOT,
        CSV_DATA,
        ["W502", "E404"],
        "`labels` is ignored",
    ),
}


@pytest.mark.parametrize("name", FOUND)
def test_check_reports_what_keras_refuses(name):
    text, _, codes, phrase = FOUND[name]
    found = compile_text(text).diagnostics
    assert [d.code for d in found] == codes
    assert phrase in found[0].message


@pytest.mark.keras
@pytest.mark.parametrize("name", [n for n in FOUND if FOUND[n][2] != ["E106"]])
def test_keras_refuses_what_check_reports(name):
    """Run anyway, these specs fail in Keras: the errors are no mere strictness."""
    text, data, _, _ = FOUND[name]
    verdict = whole_specs.judge(Drawn(text, data))
    assert verdict.kind == whole_specs.REJECTED_BOTH, verdict.detail


@pytest.mark.keras
def test_a_run_that_fails_is_a_keras_failure():
    """The harness reports a failing run: here the archive's samples do not have
    the declared shape, so `run` refuses the arrays."""
    text = _sequential('data npz("data.npz")', 5, 1, "mse")
    data = DataFile("data.npz", "npz", (Feed("x", "float", (4,)), Feed("y", "regression")))
    verdict = whole_specs.judge(Drawn(text, data))
    assert verdict.kind == whole_specs.KERAS_FAILURE
    assert verdict.detail.startswith("check arrays: RunError")


def test_report_has_the_whole_spec_figures():
    section = REPORT.read_text(encoding="utf-8").partition("\n## Whole specs\n")[2]
    assert section, "run tools/conformance_report.py --part specs"
    figures = dict(re.findall(r"^\| ([^|]+?) \| \**(\d+)\** \|$", section, re.M))
    assert int(figures["Drawn"]) >= 300
    assert int(figures["Keras failures"]) == 0
    assert int(figures["Unexplained rejections"]) == 0


ONE_UNIT_FLAT_LABELS = {
    "npz": (
        'data npz("data.npz")',
        4,
        "f1_score",
        DataFile("data.npz", "npz", (Feed("x", "float", (4,)), Feed("y", "classes", (), 2))),
    ),
    "csv": (
        'data csv("data.csv", label="y")',
        4,
        "binary_crossentropy, f1_score(threshold=0.5)",
        replace(CSV_DATA, feeds=(CSV_DATA.feeds[0], Feed("y", "classes", (), 2))),
    ),
    "breast_cancer": ("data breast_cancer", 30, "accuracy, f1_score", None),
}


@pytest.mark.keras
@pytest.mark.parametrize("source", ONE_UNIT_FLAT_LABELS)
def test_one_unit_labels_stored_flat_with_f1_score(source):
    """Labels of shape (N,) for an output of shape (None, 1): `run` and `gen` make
    them a column for the metrics that need one (F1Score, BinaryCrossentropy)."""
    data, features, metrics, file = ONE_UNIT_FLAT_LABELS[source]
    text = _sequential(data, features, 1, "binary_crossentropy", "sigmoid", metrics)
    assert compile_text(text).ok
    verdict = whole_specs.judge(Drawn(text, file))
    assert verdict.kind == whole_specs.TRAINED, verdict.detail
