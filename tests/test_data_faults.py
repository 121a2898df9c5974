"""Bad data is refused before training, naming the file, the line and the column:
short rows, empty cells, words among numbers, test arrays of the wrong shape,
NaN. Real files; `nnspec run` in real processes."""

from __future__ import annotations

import pytest
from helpers import nnspec

from nnspec.check.pipeline import compile_text

QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "NO_COLOR": "1"}
HEADER = "a,b,c,d,label\n"
GOOD = "1,2,3,4,0\n5,6,7,8,1\n1,2,3,4,0\n5,6,7,8,1\n"


def _spec(tmp_path, body: str, settings: str = "") -> str:
    (tmp_path / "rows.csv").write_text(HEADER + body)
    text = (
        f'model rows\ndata csv("rows.csv", label="label") {{ test_split: 0.5{settings} }}\n'
        "input x: (4,)\nsequential { Dense(1, activation=sigmoid) }\n"
        "compile { loss: binary_crossentropy, optimizer: adam }\nfit { epochs: 1 }\n"
    )
    (tmp_path / "rows.nn").write_text(text)
    return text


def _check_files(text: str, tmp_path, monkeypatch):
    from nnspec.keras.plan import program
    from nnspec.keras.train import check_files

    monkeypatch.chdir(tmp_path)
    check_files(program(compile_text(text).model), None)


@pytest.mark.parametrize(
    "body, message",
    [
        ("1,2,3,4,0\n5,6,7,1\n", "rows.csv:3: 4 fields, but the header has 5"),
        ("1,2,3,4,0\n5,,7,8,1\n", "rows.csv:3:2: empty cell in column `b`"),
        ("1,2,3,4,0\n5,6,7,8,\n", "rows.csv:3:5: empty cell in column `label`"),
        ("1,2,3,4,0\n5,six,7,8,1\n", "rows.csv:3:2: `six` in column `b` is not a number"),
        ('1,2,3,4,0\n"5\n",6,7,8,1\n9,9,9,,1\n', "rows.csv:5:4: empty cell in column `d`"),
    ],
)
def test_bad_rows_are_named_by_line_and_column(tmp_path, monkeypatch, body, message):
    from nnspec.keras.train import RunError

    with pytest.raises(RunError) as err:
        _check_files(_spec(tmp_path, body), tmp_path, monkeypatch)
    assert str(err.value).endswith(message)


@pytest.mark.parametrize("missing", ["drop", "zero"])
def test_empty_cells_pass_when_the_spec_says_what_they_become(tmp_path, monkeypatch, missing):
    text = _spec(tmp_path, GOOD + "5,,7,8,1\n", f", missing: {missing}")
    _check_files(text, tmp_path, monkeypatch)


def test_missing_is_for_csv_files():
    text = "model m\ndata iris { missing: drop }\ninput x: (4,)\nsequential { Dense(3) }\n"
    assert [d.code for d in compile_text(text).diagnostics] == ["W502"]


@pytest.mark.keras
@pytest.mark.parametrize(
    "missing, counts", [("drop", "2 training and 2 test"), ("zero", "2 training and 3 test")]
)
def test_runs_fill_or_drop_empty_cells(tmp_path, missing, counts):
    _spec(tmp_path, GOOD + "5,,7,8,1\n", f", missing: {missing}, seed: 0")
    run = nnspec("run", "rows.nn", "--out", "run", "--quiet", cwd=tmp_path, env=QUIET)
    assert run.returncode == 0, run.stderr
    assert f"{counts} samples" in run.stdout


@pytest.mark.keras
def test_an_empty_cell_is_refused_before_tensorflow_starts(tmp_path):
    _spec(tmp_path, GOOD + "5,,7,8,1\n")
    run = nnspec(
        "run",
        "rows.nn",
        "--out",
        "run",
        cwd=tmp_path,
        env={**QUIET, "PYTHONPROFILEIMPORTTIME": "1"},
    )
    assert run.returncode == 1
    assert "rows.csv:6:2: empty cell in column `b`" in run.stderr
    assert "tensorflow" not in run.stderr.split("rows.csv:6:2")[0]  # never imported
    assert not (tmp_path / "run").exists()


@pytest.mark.keras
@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"x_test": (4, 5)}, "test samples have shape (5,), but input `x` expects (4,)"),
        ({"x_train_nan": True}, "the training data holds NaN or infinity (sample 2 of the split)"),
    ],
)
def test_npz_arrays_are_checked_before_training(tmp_path, arrays, message):
    import numpy as np

    rng = np.random.default_rng(0)
    x_train = rng.random((8, 4))
    if arrays.get("x_train_nan"):
        x_train[2, 1] = np.nan
    np.savez(
        tmp_path / "d.npz",
        x_train=x_train,
        y_train=rng.integers(0, 2, 8),
        x_test=rng.random(arrays.get("x_test", (4, 4))),
        y_test=rng.integers(0, 2, 4),
    )
    (tmp_path / "d.nn").write_text(
        'model d\ndata npz("d.npz")\ninput x: (4,)\nsequential { Dense(1, activation=sigmoid) }\n'
        "compile { loss: binary_crossentropy, optimizer: adam }\nfit { epochs: 2 }\n"
    )
    run = nnspec("run", "d.nn", "--out", "run", "--quiet", cwd=tmp_path, env=QUIET)
    assert run.returncode == 1, run.stderr
    assert message in run.stderr
    assert not (tmp_path / "run" / "history.json").exists()
