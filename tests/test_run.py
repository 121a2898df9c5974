"""`nnspec run` and `nnspec predict`: real training on scikit-learn's digits,
as real subprocesses (interrupts, kills, resume, races, two workers), and the data
checks."""

from __future__ import annotations

import csv
import json
import os
import random
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import ROOT, python, unreadable
from helpers import nnspec as run_nnspec

from nnspec.check.overrides import Override, OverrideError, apply
from nnspec.check.pipeline import compile_text
from nnspec.syntax.fmt import format_text

SPEC = """\
model digits_small "A small digits classifier"
data digits { scale: 1/16, test_split: 0.25, seed: 3 }
input pixels: (64,)
sequential {
    Dense(32, activation=relu)
    Dense(10, activation=softmax)
}
compile { loss: sparse_categorical_crossentropy, optimizer: adam, metrics: [accuracy] }
fit { epochs: 2, batch_size: 32, validation: test, callbacks: [csv_logger("log.csv")] }
evaluate
save "digits_small.keras"
"""
QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "NO_COLOR": "1"}
ENV = {**os.environ, **QUIET}


def nnspec(*args, cwd=None, timeout=300, env=None) -> subprocess.CompletedProcess:
    return run_nnspec(*args, cwd=cwd, timeout=timeout, env={**QUIET, **(env or {})})


@pytest.fixture
def spec(tmp_path) -> Path:
    path = tmp_path / "digits_small.nn"
    path.write_text(SPEC)
    return path


def history(folder: Path) -> dict:
    return json.loads((folder / "history.json").read_text())


# ---- overrides (no TensorFlow) ---------------------------------------------


@pytest.mark.parametrize(
    "sets, expected",
    [
        (["fit.epochs=7"], "fit { epochs: 7, batch_size: 32"),
        (["fit.shuffle=false"], '    callbacks: [csv_logger("log.csv")]\n    shuffle: false\n}'),
        (["data.limit=100"], "seed: 3, limit: 100 }"),
        (["compile.optimizer=sgd(learning_rate=0.1)"], "    optimizer: sgd(learning_rate=0.1)\n"),
        (["evaluate.batch_size=64"], "evaluate { batch_size: 64 }"),
        (["dense.units=48"], "Dense(48, activation=relu)"),
        (["dense_1.use_bias=false"], "Dense(10, activation=softmax, use_bias=false)"),
    ],
)
def test_override_edits_the_text(sets, expected):
    """Each edit checks, and keeps a spec as `nnspec fmt` writes it (the run folder's
    spec.nn)."""
    clean = format_text(SPEC)
    result = compile_text(clean)
    text = apply(clean, result.spec, result.model, [Override.parse(s) for s in sets])
    assert expected in text
    assert compile_text(text).ok
    assert format_text(text) == text


def test_override_keeps_a_hand_made_layout():
    """A spec not in fmt's layout is edited in place, nothing else moved."""
    result = compile_text(SPEC)
    text = apply(SPEC, result.spec, result.model, [Override.parse("data.limit=100")])
    assert text == SPEC.replace("seed: 3 }", "seed: 3, limit: 100 }")


def test_override_of_a_source_argument():
    text = "data classification(n_samples=300, n_features=8, n_classes=10, n_informative=5)\n"
    text = "model m\n" + text + SPEC.split("\n", 2)[2].replace("(64,)", "(8,)")
    result = compile_text(text)
    new = apply(text, result.spec, result.model, [Override.parse("data.n_samples=500")])
    assert "classification(n_samples=500, n_features=8, n_classes=10" in new
    assert compile_text(new).ok


@pytest.mark.parametrize("bad", ["fit.epochs", "1x=1", "fit.=1", "fit.x-y=1", ".x=1", "x="])
def test_malformed_overrides(bad):
    with pytest.raises(OverrideError):
        Override.parse(bad)


def test_a_setting_without_its_block_is_not_a_parameter():
    result = compile_text(SPEC)
    with pytest.raises(OverrideError) as err:
        apply(SPEC, result.spec, result.model, [Override.parse("epochs=1")])
    assert err.value.message == "the spec has no parameter `epochs`"
    assert err.value.hints == ("a setting is named with its block: `fit.epochs=1`",)


PARAMS = """\
model widths
param width = 64
input pixels: (64,)
sequential {
    for i in range(2) {
        "hidden{i}" = Dense(width, activation=relu)
    }
    head = Dense(10, activation=softmax)
}
"""


def test_override_of_a_parameter():
    result = compile_text(PARAMS)
    new = apply(PARAMS, result.spec, result.model, [Override.parse("width=32")])
    assert "param width = 32\n" in new
    model = compile_text(new).model
    assert [model.layers[f"hidden{i}"].call.config["units"] for i in range(2)] == [32, 32]


@pytest.mark.parametrize(
    "setting, message",
    [
        ("hidden1.units=3", "layer `hidden1` is one of 2 layers a loop makes from line 6"),
        ("widht=3", "the spec has no parameter `widht`"),
    ],
)
def test_override_of_one_of_many_layers_is_refused(setting, message):
    result = compile_text(PARAMS)
    with pytest.raises(OverrideError) as err:
        apply(PARAMS, result.spec, result.model, [Override.parse(setting)])
    assert err.value.message.startswith(message)


def test_override_of_a_layer_made_by_a_block_is_refused():
    text = (Path(__file__).parents[1] / "specs" / "resnet50.nn").read_text()
    result = compile_text(text)
    with pytest.raises(OverrideError) as err:
        apply(text, result.spec, result.model, [Override.parse("conv3_block2_1_conv.filters=64")])
    assert err.value.message.startswith("layer `conv3_block2_1_conv` is made by block `unit`")


@pytest.mark.parametrize(
    "bad, message, hints",
    [
        ("dense_2.units=3", "`dense_2` is neither a block", ("did you mean `dense_1`?",)),
        ("dens.units=3", "`dens` is neither a block", ("did you mean `dense`?",)),
        (
            "dense.unit=3",
            "layer `dense` (Dense) has no argument `unit`",
            ("did you mean `units`?",),
        ),
    ],
)
def test_overrides_naming_nothing(bad, message, hints):
    result = compile_text(SPEC)
    with pytest.raises(OverrideError, match=re.escape(message)) as err:
        apply(SPEC, result.spec, result.model, [Override.parse(bad)])
    assert err.value.hints == hints


def test_bad_override_value_is_reported_in_context(spec):
    result = nnspec("run", spec, "--set", "fit.epochs=0", "--set", "fit.batchsize=8")
    assert result.returncode == 1
    assert "(with --set)" in result.stdout
    assert "epochs: 0" in result.stdout and "^" in result.stdout
    assert "batch_size" in result.stdout  # did you mean
    assert "Traceback" not in result.stdout + result.stderr


def test_unknown_block_is_a_usage_error(spec):
    result = nnspec("run", spec, "--set", "train.epochs=1")
    assert result.returncode == 2
    assert "`train` is neither a block" in result.stderr


def test_override_hint_is_a_line_of_its_own(spec):
    result = nnspec("run", spec, "--set", "dense.unit=3")
    assert result.returncode == 2
    assert result.stderr.endswith(
        "Error: layer `dense` (Dense) has no argument `unit`\n  = hint: did you mean `units`?\n"
    )


def test_unreadable_spec_is_a_usage_error(tmp_path):
    result = nnspec("run", unreadable(tmp_path, "locked.nn"), "--out", tmp_path / "run")
    assert result.returncode == 2
    assert "Error: cannot read " in result.stderr and "locked.nn" in result.stderr
    assert "E900" not in result.stdout + result.stderr
    assert not (tmp_path / "run").exists()


def test_native_start_up_noise_is_filtered_and_the_rest_passes():
    code = (
        "import os\n"
        "from nnspec.keras.native_logs import filtered_stderr\n"
        "with filtered_stderr():\n"
        "    os.write(2, b'WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\\n')\n"
        "    os.write(2, b'I0000 00:00:1795495423.147487   20348 port.cc:153] oneDNN custom operations are on.\\n')\n"
        "    os.write(2, b'E0000 00:00:1795495423.147487   20348 cuda.cc:1] a real failure\\n')\n"
        "    os.write(2, b'a warning of our own\\n')\n"
    )
    run = python("-c", code)
    assert run.returncode == 0
    assert run.stderr == (
        "E0000 00:00:1795495423.147487   20348 cuda.cc:1] a real failure\na warning of our own\n"
    )


# ---- data errors --------------------------------------------------------------


def _csv_spec(tmp_path, body: str, columns=("a", "b", "label")) -> Path:
    (tmp_path / "rows.csv").write_text(",".join(columns) + "\n" + body)
    path = tmp_path / "rows.nn"
    path.write_text(
        'model rows\ndata csv("rows.csv", label="label") { test_split: 0.5 }\n'
        "input x: (2,)\nsequential { Dense(1, activation=sigmoid) }\n"
        "compile { loss: binary_crossentropy, optimizer: adam }\nfit { epochs: 1 }\n"
    )
    return path


@pytest.mark.keras
@pytest.mark.parametrize(
    "body, columns, message",
    [
        ("1,x,0\n3,4,1\n5,6,0\n7,8,1\n", ("a", "b", "label"), "cannot read the data as numbers"),
        (
            "1,2,3,0\n3,4,5,1\n5,6,7,0\n7,8,9,1\n",
            ("a", "b", "c", "label"),
            "samples have shape (3,)",
        ),
    ],
)
def test_bad_csv_is_reported_naming_the_file(tmp_path, monkeypatch, body, columns, message):
    from nnspec.keras.plan import program
    from nnspec.keras.train import RunError, check_arrays, load

    path = _csv_spec(tmp_path, body, columns)
    model = compile_text(path.read_text()).model
    monkeypatch.chdir(tmp_path)
    p = program(model)
    with pytest.raises(RunError, match="rows.csv") as err:
        _, arrays = load(p)
        check_arrays(model, p, arrays)
    assert message in str(err.value)


def test_csv_without_the_label_column(tmp_path):
    from nnspec.keras.plan import program
    from nnspec.keras.train import RunError, check_files

    path = _csv_spec(tmp_path, "1,2,0\n", ("a", "b", "labels"))
    (tmp_path / "rows.nn").write_text(
        path.read_text().replace("rows.csv", str(tmp_path / "rows.csv"))
    )
    with pytest.raises(RunError) as err:
        check_files(program(compile_text(path.read_text()).model), None)
    assert str(err.value).endswith("rows.csv: no column `label` in the header (a, b, labels)")
    assert err.value.hints == ("did you mean `labels`?",)


@pytest.mark.parametrize("arrays", [{"x": [1]}, {"features": [1], "labels": [0]}])
def test_npz_without_the_expected_arrays(tmp_path, arrays):
    import numpy as np

    from nnspec.keras.plan import program
    from nnspec.keras.train import RunError, check_files

    np.savez(tmp_path / "d.npz", **arrays)
    text = f'model m\ndata npz("{tmp_path / "d.npz"}")\ninput x: (2,)\nsequential {{ Dense(1) }}\n'
    with pytest.raises(
        RunError, match="expected arrays x_train, y_train, x_test, y_test, or x and y"
    ):
        check_files(program(compile_text(text).model), None)


def test_missing_data_file_trains_nothing(tmp_path):
    path = _csv_spec(tmp_path, "1,2,0\n")
    (tmp_path / "rows.csv").unlink()
    result = nnspec("run", path, "--out", tmp_path / "run", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.endswith(
        "rows.nn: error: data file not found: rows.csv\n"
        "  = hint: paths in a spec are relative to the working directory\n"
    )
    assert not (tmp_path / "run").exists()


@pytest.mark.keras
def test_failed_download_is_a_plain_error(tmp_path):
    """A Keras data set that cannot be downloaded is the user's situation, not a bug
    (exit 1, not 3): the message says how to use local files. The download is made
    to fail for real: through a proxy on a closed loopback port, with an empty cache."""
    offline = {
        "HOME": str(tmp_path),
        "KERAS_HOME": str(tmp_path / "keras"),
        "NNSPEC_DATA_DIR": None,
        "https_proxy": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "no_proxy": None,
        "NO_PROXY": None,
    }
    spec = ROOT / "specs" / "mnist_cnn.nn"
    result = run_nnspec("run", spec, "--epochs", "1", "--out", tmp_path / "run", env=offline)
    assert result.returncode == 1, result.stderr
    assert "error: could not download the mnist data set: " in result.stderr
    assert result.stderr.endswith(
        "  = hint: on a machine without internet, put Keras's mnist files (mnist.npz) in a "
        "folder and point --data-dir or NNSPEC_DATA_DIR at it\n"
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


def test_unreadable_data_file_trains_nothing(tmp_path):
    """Not "training failed" (exit 3, a bug): an error naming the file (exit 1)."""
    path = _csv_spec(tmp_path, "1,2,0\n")
    (tmp_path / "rows.csv").unlink()
    unreadable(tmp_path, "rows.csv")
    result = nnspec("run", path, "--out", tmp_path / "run", cwd=tmp_path)
    assert result.returncode == 1
    assert "rows.nn: error: rows.csv: cannot read it: Input/output error" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


def test_mnist_without_data_dir_names_the_folder(tmp_path):
    result = nnspec(
        "run",
        ROOT / "specs" / "mnist_cnn.nn",
        "--data-dir",
        tmp_path,
        "--out",
        tmp_path / "run",
    )
    assert result.returncode == 1
    assert "mnist.npz" in result.stderr and "NNSPEC_DATA_DIR" in result.stderr


# ---- training -----------------------------------------------------------------


@pytest.mark.keras
def test_output_to_a_pipe_has_one_line_an_epoch(spec, tmp_path):
    """Logs (CI, `> file`, `| tee`) get Keras's one line an epoch, not thousands of
    progress-bar redraws."""
    result = nnspec("run", spec, "--out", tmp_path / "run", "--seed", 5)
    assert result.returncode == 0, result.stderr
    epochs = [line for line in result.stdout.splitlines() if line.startswith("Epoch ")]
    assert epochs == ["Epoch 1/2", "Epoch 2/2"]
    assert "\r" not in result.stdout and "\x08" not in result.stdout and "━" not in result.stdout
    assert len(result.stdout.splitlines()) < 20


@pytest.mark.keras
def test_run_leaves_a_tidy_run_folder_and_predict_reads_it(spec, tmp_path):
    import keras
    import numpy as np

    out = tmp_path / "run"
    result = nnspec("run", spec, "--out", out, "--quiet", "--seed", 5)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("nnspec run: digits_small on CPU, strategy default;")
    assert "oneDNN" not in result.stderr and "absl::InitializeLog" not in result.stderr
    assert "test metric" in result.stdout and "accuracy" in result.stdout
    names = {p.name for p in out.iterdir()}
    assert {
        "digits_small.keras",
        "history.json",
        "history.csv",
        "metrics.json",
        "summary.txt",
        "curves.png",
        "log.csv",
        "run.json",
        "spec.nn",
    } <= names
    assert "--seed" not in (out / "spec.nn").read_text()
    assert "seed: 5" in (out / "spec.nn").read_text()  # as trained, overrides applied
    assert "backup" not in names
    assert len(history(out)["loss"]) == 2 and "val_accuracy" in history(out)
    assert (out / "history.csv").read_text().startswith("epoch,")
    assert set(json.loads((out / "metrics.json").read_text())) == {"loss", "accuracy"}
    assert "Total params: 2,410" in (out / "summary.txt").read_text()
    assert (out / "curves.png").read_bytes().startswith(b"\x89PNG")
    assert [layer.name for layer in keras.models.load_model(out / "digits_small.keras").layers] == [
        "dense",
        "dense_1",
    ]

    samples = tmp_path / "samples.npy"
    np.save(samples, np.zeros((3, 64), "float32"))
    predicted = nnspec("predict", out, "--input", samples)
    assert predicted.returncode == 0, predicted.stderr
    lines = predicted.stdout.splitlines()
    assert lines[0] == ",".join([f"p_{i}" for i in range(10)] + ["class"])
    assert len(lines) == 4
    assert abs(sum(float(v) for v in lines[1].split(",")[:10]) - 1) < 1e-4

    np.save(samples, np.zeros((3, 5), "float32"))
    wrong = nnspec("predict", out, "--input", samples)
    assert wrong.returncode == 1 and "samples have shape (5,)" in wrong.stderr


@pytest.mark.keras
def test_seeded_runs_repeat_and_match_the_generated_script(spec, tmp_path):
    """Two seeded CPU runs, and the `gen` script, give the same loss history."""
    runs = []
    for name in ("a", "b"):
        result = nnspec("run", spec, "--out", tmp_path / name, "--quiet")
        assert result.returncode == 0, result.stderr
        runs.append(history(tmp_path / name))
    assert runs[0]["loss"] == runs[1]["loss"]

    script = tmp_path / "script" / "digits_small.py"
    script.parent.mkdir()
    assert nnspec("gen", spec, "-o", script).returncode == 0
    done = subprocess.run(
        [sys.executable, script.name], cwd=script.parent, env=ENV, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    logged = (script.parent / "log.csv").read_text().splitlines()
    column = logged[0].split(",").index("loss")
    script_loss = [float(row.split(",")[column]) for row in logged[1:]]
    assert script_loss == pytest.approx(runs[0]["loss"], abs=1e-5)


def interrupted(args: list, ready) -> str:
    """Start `nnspec ARGS`, stop it with SIGTERM once `ready()` holds; its stdout.
    It must exit as an interrupted run does (130)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "nnspec.cli", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**ENV, "PYTHONPATH": str(ROOT)},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not ready():
        time.sleep(0.02)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    return stdout


@pytest.mark.keras
def test_interrupted_run_resumes_to_the_full_epoch_count(spec, tmp_path):
    out = tmp_path / "run"
    args = ["run", spec, "--out", out, "--quiet", "--set", "fit.epochs=30"]
    args += ["--set", "fit.batch_size=4"]
    stdout = interrupted(
        args, lambda: (out / "history.json").exists() and len(history(out)["loss"]) >= 2
    )
    done = len(history(out)["loss"])
    assert 2 <= done < 30
    assert f"interrupted: {done} of 30 epochs done" in stdout
    assert (out / "backup").is_dir()

    # The command the interruption prints, word for word: without the --set options,
    # the run still goes on as it was started (30 epochs of 4 samples).
    command = stdout.split("resume with: ", 1)[1].splitlines()[0]
    assert command == f"nnspec run {spec} --resume --out {out}"
    resumed = nnspec(*shlex.split(command)[1:])
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming {out} as it was started, with {out / 'spec.nn'}" in resumed.stdout
    assert len(history(out)["loss"]) == 30
    assert not (out / "backup").exists()


@pytest.mark.keras
def test_interruption_before_the_first_epoch_ends_is_no_dead_end(spec, tmp_path):
    """Stopped before any epoch ended: no checkpoint, and the printed command starts
    the run again as it was started (its settings included) and finishes it."""
    out = tmp_path / "run"
    args = ["run", spec, "--out", out, "--quiet", "--set", "fit.batch_size=1"]
    stdout = interrupted(args, (out / "log.csv").exists)  # as soon as training begins
    assert f"interrupted: no epoch ended yet in {out}" in stdout
    assert not (out / "backup").exists()

    command = stdout.split("resume with: ", 1)[1].splitlines()[0]
    resumed = nnspec(*shlex.split(command)[1:])
    assert resumed.returncode == 0, resumed.stderr
    assert f"{out} holds a run that ended before its first epoch: starting again" in resumed.stdout
    assert len(history(out)["loss"]) == 2
    assert "batch_size: 1" in (out / "spec.nn").read_text()  # as it was started


@pytest.mark.keras
def test_a_run_that_failed_before_training_can_be_run_again(spec, tmp_path):
    """What a failed start leaves (spec.nn, summary.txt) does not block the next run."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "spec.nn").write_text(spec.read_text())
    (out / "summary.txt").write_text("")
    again = nnspec("run", spec, "--out", out, "--quiet")
    assert again.returncode == 0, again.stderr
    assert (out / "run.json").is_file()
    unrelated = tmp_path / "elsewhere"
    unrelated.mkdir()
    (unrelated / "notes.txt").write_text("mine")
    refused = nnspec("run", spec, "--out", unrelated, "--quiet")
    assert refused.returncode == 1 and "already holds a run" in refused.stderr
    assert [p.name for p in unrelated.iterdir()] == ["notes.txt"]


def test_resume_with_other_settings_is_refused(spec, tmp_path):
    """Settings given with --resume that differ from the run's own are refused before
    anything loads (no TensorFlow), and the folder is left as it was."""
    out = tmp_path / "run"
    (out / "backup").mkdir(parents=True)
    (out / "spec.nn").write_text(spec.read_text().replace("epochs: 2", "epochs: 30"))
    before = sorted(p.name for p in out.iterdir())
    result = nnspec("run", spec, "--out", out, "--resume", "--epochs", "3")
    assert result.returncode == 1
    assert result.stderr == (
        f"{spec}: error: {out} was started with other settings than this command gives\n"
        f"  = hint: a resumed run goes on as it was started ({out / 'spec.nn'}): resume without "
        "--set, --epochs, --batch-size and --seed, or start a new run without --resume\n"
    )
    assert sorted(p.name for p in out.iterdir()) == before


@pytest.mark.keras
@pytest.mark.parametrize(
    "args, header",
    [
        (["--strategy", "mirrored", "--replicas", "2"], "2 CPU replicas, strategy mirrored"),
        (["--strategy", "one", "--device", "cpu"], "on CPU, strategy one"),
    ],
    ids=["mirrored-2-cpus", "one-device"],
)
def test_strategies_on_cpu(spec, tmp_path, args, header):
    out = tmp_path / "run"
    result = nnspec("run", spec, "--out", out, "--quiet", *args)
    assert result.returncode == 0, result.stderr
    assert header in result.stdout
    assert len(history(out)["loss"]) == 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.keras
def test_two_workers_finish_with_identical_weights(spec, tmp_path):
    import keras
    import numpy as np

    ports = [_free_port(), _free_port()]
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = []
    for index in range(2):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        workers.append(
            subprocess.Popen(
                [sys.executable, "-m", "nnspec.cli", "run", str(spec), "--quiet"]
                + ["--strategy", "multiworker", "--out", str(tmp_path / f"w{index}")],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env={**ENV, "PYTHONPATH": str(ROOT), "TF_CONFIG": config},
            )
        )
    try:
        outputs = [w.communicate(timeout=180) for w in workers]
    finally:
        for w in workers:
            w.kill()
    for w, (_, err) in zip(workers, outputs):
        assert w.returncode == 0, err
    weights = [
        keras.models.load_model(tmp_path / f"w{i}" / "digits_small.keras").get_weights()
        for i in range(2)
    ]
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_resume_picks_the_latest_unfinished_run(tmp_path):
    from nnspec.keras.train import Options, RunError, run_dir

    model = compile_text(SPEC).model
    with pytest.raises(RunError, match="no interrupted run of `digits_small`"):
        run_dir(model, Options(resume=True), tmp_path)
    for name in ("digits_small-1", "digits_small-2", "other-3"):
        (tmp_path / name / "backup").mkdir(parents=True)
        time.sleep(0.01)
    (tmp_path / "digits_small-4").mkdir()  # finished: no backup
    assert run_dir(model, Options(resume=True), tmp_path) == tmp_path / "digits_small-2"
    assert run_dir(model, Options(out="x", resume=True), tmp_path) == Path("x")
    assert run_dir(model, Options(), tmp_path).name.startswith("digits_small-")


def test_a_finished_run_folder_is_not_overwritten(spec, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "metrics.json").write_text("{}")
    result = nnspec("run", spec, "--out", tmp_path / "run")
    assert result.returncode == 1
    assert "already holds a run; pick another --out, or --resume it" in result.stderr


# ---- the run folder under kills, damage and races -----------------------------


def _state(out: Path):
    """The newest committed checkpoint of run folder `out`, which no kill damages."""
    from nnspec.keras.checkpoint import Checkpoints

    damaged: list[str] = []
    state = Checkpoints(out).latest(damaged.append)
    assert not damaged, damaged
    return state


def _check_history_files(out: Path, epochs: int) -> dict:
    """history.json holds `epochs` epochs, and history.csv the same rows, numbered 1.."""
    data = history(out)
    assert {len(values) for values in data.values()} == {epochs}
    rows = list(csv.reader((out / "history.csv").read_text().splitlines()))
    assert rows[0] == ["epoch", *data]
    for number, row in enumerate(rows[1:], 1):
        assert row[0] == str(number)
        assert [float(v) for v in row[1:]] == [data[key][number - 1] for key in data]
    assert len(rows) == epochs + 1
    return data


FAULT_EPOCHS = 30
FAULT_SETTINGS = [f"fit.epochs={FAULT_EPOCHS}", "fit.batch_size=1024"]  # 2 steps an epoch


def _kill_moment(rng: random.Random) -> tuple[str, int, float]:
    """When to kill: so many seconds after a text shows so many times in the output.
    Any instant from the start (start-up, lock, data, restore); one amid the epochs
    and their checkpoints, once the first epoch (slow: TensorFlow traces it) is over;
    or one about the end (the last epoch and checkpoint, the evaluation, the model,
    the finished run's files)."""
    when = rng.choices(["start", "train", "end"], weights=[2, 6, 2])[0]
    if when == "start":
        return "", 0, rng.uniform(0, 8)
    if when == "train":
        return "Epoch ", 2, rng.uniform(0, 1.5)
    return f"Epoch {FAULT_EPOCHS}/{FAULT_EPOCHS}", 1, rng.uniform(0, 1)


def _run_or_kill(spec: Path, out: Path, log: Path, moment) -> bool:
    """Run the command that goes on with run folder `out` (`--resume` once it holds
    a run's spec.nn); SIGKILL it at `moment` (None: never). Whether it was killed;
    one that ends by itself must succeed."""
    args = ["run", spec, "--out", out]
    args += [f"--set={s}" for s in FAULT_SETTINGS]
    args += ["--resume"] if (out / "spec.nn").exists() else []
    with open(log, "w") as stdout:
        process = subprocess.Popen(
            [sys.executable, "-m", "nnspec.cli", *map(str, args)],
            stdout=stdout,
            stderr=subprocess.STDOUT,
            env={**ENV, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
        )
    try:
        if moment is not None:
            awaited, count, delay = moment
            while log.read_text().count(awaited) < count and process.poll() is None:
                time.sleep(0.005)
            try:
                process.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                return True
        process.wait(timeout=300)
    finally:
        process.kill()
    assert process.returncode == 0, log.read_text()
    return False


def _check_after_kill(out: Path, before):
    """What a kill left: the newest checkpoint intact and extending the one before
    (no epoch lost or changed), the history files at most one epoch behind it."""
    state = _state(out)
    if (out / "run.json").exists():
        return state or before
    if before is not None:
        assert state is not None and state.epoch >= before.epoch
        assert all(state.history[k][: before.epoch] == v for k, v in before.history.items())
    if (out / "history.json").exists():
        assert state is not None
        files = history(out)
        assert len(files["loss"]) in (state.epoch - 1, state.epoch)
        assert all(values == state.history[k][: len(values)] for k, values in files.items())
    assert len(list((out / "backup").glob("epoch-*.json"))) <= 3
    return state


def _left(out: Path, state) -> str:
    """What a kill left, in words: the last epoch saved, and any file of a checkpoint
    being written or replaced."""
    if (out / "run.json").exists():
        return "the run finished"
    epochs = (state.epoch, state.epoch - 1) if state else ()
    kept = {f"epoch-{e}{end}" for e in epochs for end in (".json", ".weights.h5")}
    extra = sorted(p.name for p in out.glob("backup/*") if p.name not in kept)
    words = f"epoch {state.epoch if state else 0} saved"
    if extra:
        words += f", amid a checkpoint ({', '.join(extra)})"
    if state and history(out) != state.history:
        words += ", history files one epoch behind"
    return words


def _campaign(spec: Path, out: Path, rng, kills: int, deadline: float, trace: list[str]) -> int:
    """Train into `out` to the end, killed at random up to `kills` times before
    `deadline`; check every kill's leftovers and the finished run. The kills made."""
    import keras

    made, state, ended_itself = 0, None, False
    while not (out / "run.json").exists():
        moment = _kill_moment(rng) if made < kills and time.monotonic() < deadline else None
        if _run_or_kill(spec, out, out.parent / f"{out.name}-{made}.log", moment):
            made += 1
            state = _check_after_kill(out, state)
            after = f"{moment[0]!r} x{moment[1]}" if moment[0] else "the start"
            trace.append(f"{out.name}: killed {moment[2]:.2f} s after {after}: {_left(out, state)}")
        else:
            ended_itself = True
    data = _check_history_files(out, FAULT_EPOCHS)
    if state is not None:  # the epochs saved before a kill are the run's first ones
        assert all(data[k][: state.epoch] == v for k, v in state.history.items())
    if ended_itself:
        assert not (out / "backup").exists()
    net = keras.models.load_model(out / "digits_small.keras")
    assert int(net.optimizer.iterations) == 2 * FAULT_EPOCHS  # each epoch trained once
    return made


@pytest.mark.keras
def test_kills_at_random_instants_lose_and_repeat_no_epoch(spec, tmp_path):
    """A fault-injection loop: `nnspec run` killed with SIGKILL at random instants
    (seeded), then the run resumed, again and again. No kill leaves a damaged
    checkpoint, none loses or repeats an epoch, nothing exits 3. At most
    NNSPEC_FAULT_ROUNDS kills (8) and NNSPEC_FAULT_SECONDS seconds (100), each run
    then trained to its end; NNSPEC_FAULT_SEED changes the instants."""
    rounds = int(os.environ.get("NNSPEC_FAULT_ROUNDS", "8"))
    seed = int(os.environ.get("NNSPEC_FAULT_SEED", "12"))
    deadline = time.monotonic() + float(os.environ.get("NNSPEC_FAULT_SECONDS", "100"))
    rng = random.Random(seed)
    kills = runs = 0
    trace: list[str] = []
    while kills < rounds and time.monotonic() < deadline:
        kills += _campaign(spec, tmp_path / f"run{runs}", rng, rounds - kills, deadline, trace)
        runs += 1
    print(f"\n{kills} kills over {runs} runs of {FAULT_EPOCHS} epochs (seed {seed}):")
    print("\n".join(trace))
    assert kills > 0


def _tiny_net():
    import keras

    net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    net.compile(optimizer="adam", loss="mse")
    return net


def _cut(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = {
    "manifest half-written": lambda d: _cut(d / "epoch-3.json"),
    "manifest of another epoch": lambda d: (d / "epoch-3.json").write_bytes(
        (d / "epoch-2.json").read_bytes()
    ),
    "weights half-written": lambda d: _cut(d / "epoch-3.weights.h5"),
    "weights with a flipped byte": lambda d: _flip(d / "epoch-3.weights.h5"),
    "weights missing": lambda d: (d / "epoch-3.weights.h5").unlink(),
}
# What a kill amid saving epoch 4 leaves, besides epochs 2 and 3 (see checkpoint.py).
AMID_A_SAVE = {
    "weights being written": lambda d: (d / "epoch-4.partial.weights.h5").write_bytes(b"\x89HDF"),
    "weights written": lambda d: (d / "epoch-4.weights.h5").write_bytes(
        (d / "epoch-3.weights.h5").read_bytes()
    ),
    "manifest being written": lambda d: (d / ".epoch-4.json.k1ll3d.tmp").write_text('{"epoch": 4'),
}


@pytest.mark.keras
@pytest.mark.parametrize("damage", [*DAMAGE, *AMID_A_SAVE])
def test_a_damaged_or_unfinished_checkpoint_is_passed_over(tmp_path, damage):
    """Resuming takes the newest checkpoint that is whole: a damaged one (a manifest cut
    short or wrong, weights cut short, changed or gone) is reported and passed over,
    what a kill left of an unfinished one is ignored; the state before is restored,
    optimizer included, and everything else goes."""
    import numpy as np

    from nnspec.keras.checkpoint import Checkpoints

    x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
    net, saving, history_so_far, weights = _tiny_net(), Checkpoints(tmp_path), {"loss": []}, {}
    for epoch in (1, 2, 3):
        net.fit(x, y, verbose=0)
        history_so_far["loss"].append(float(epoch))
        saving.save(net, epoch, history_so_far)
        weights[epoch] = net.get_weights()
    assert sorted(p.name for p in saving.dir.iterdir()) == [
        "epoch-2.json",
        "epoch-2.weights.h5",
        "epoch-3.json",
        "epoch-3.weights.h5",
    ]
    {**DAMAGE, **AMID_A_SAVE}[damage](saving.dir)
    said: list[str] = []
    state = Checkpoints(tmp_path).latest(said.append)
    expected = 2 if damage in DAMAGE else 3
    assert state.epoch == expected and state.history == {"loss": [1.0, 2.0, 3.0][:expected]}
    assert len(said) == (damage in DAMAGE)
    assert all(s.startswith("nnspec run: passing over the checkpoint of epoch 3: ") for s in said)

    fresh = _tiny_net()
    Checkpoints(tmp_path).restore(fresh, state)
    for got, saved in zip(fresh.get_weights(), weights[expected]):
        np.testing.assert_array_equal(got, saved)
    assert int(fresh.optimizer.iterations) == expected
    assert sorted(p.name for p in saving.dir.iterdir()) == [
        f"epoch-{expected}.json",
        f"epoch-{expected}.weights.h5",
    ]


@pytest.mark.keras
def test_a_committed_checkpoint_not_yet_pruned_is_the_newest(tmp_path):
    """Killed after epoch 3's manifest is in place, before the older files go."""
    import numpy as np

    from nnspec.keras.checkpoint import Checkpoints

    net, saving = _tiny_net(), Checkpoints(tmp_path)
    net.fit(np.ones((4, 3)), np.zeros((4, 2)), verbose=0)
    for epoch in (1, 2, 3):
        saving.save(net, epoch, {"loss": [0.5] * epoch})
        if epoch == 1:
            kept = {p.name: p.read_bytes() for p in saving.dir.iterdir()}
    for name, data in kept.items():
        (saving.dir / name).write_bytes(data)
    state = Checkpoints(tmp_path).latest(print)
    assert state.epoch == 3
    for path in saving.dir.glob("epoch-*.json"):
        path.write_text("{")  # nothing left that can be used
    said: list[str] = []
    assert Checkpoints(tmp_path).latest(said.append) is None
    assert [s.split(":")[1] for s in said] == [
        f" passing over the checkpoint of epoch {e}" for e in (3, 2, 1)
    ]


@pytest.mark.keras
@pytest.mark.parametrize(
    "damage, said",
    [
        ("the newest manifest cut short", "passing over the checkpoint of epoch"),
        ("every weights file cut short", "holds no checkpoint that can be used: starting again"),
    ],
)
def test_a_run_with_a_damaged_checkpoint_resumes(spec, tmp_path, damage, said):
    """`--resume` after the newest checkpoint was damaged goes on from the one before,
    or starts again when none is left: it finishes (exit 0), with no traceback."""
    out = tmp_path / "run"
    args = ["run", spec, "--out", out, "--quiet", "--set", "fit.epochs=8"]
    args += ["--set", "fit.batch_size=64"]
    interrupted(args, lambda: len(list((out / "backup").glob("epoch-*.json"))) >= 2)
    state = _state(out)
    if damage == "the newest manifest cut short":
        _cut(out / "backup" / f"epoch-{state.epoch}.json")
    else:
        for path in (out / "backup").glob("*.weights.h5"):
            _cut(path)
    resumed = nnspec("run", spec, "--out", out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert said in resumed.stdout
    assert "Traceback" not in resumed.stdout + resumed.stderr
    data = _check_history_files(out, 8)
    kept = state.epoch - 1 if damage == "the newest manifest cut short" else 0
    assert data["loss"][:kept] == state.history["loss"][:kept]
    if kept:
        assert f"passing over the checkpoint of epoch {state.epoch}: " in resumed.stdout


@pytest.mark.keras
def test_a_second_run_into_a_busy_folder_is_refused_at_once(spec, tmp_path):
    """Two runs into one --out: the second (a new run or --resume) is refused before
    TensorFlow loads, naming the first's process; the first finishes as it began."""
    out = tmp_path / "run"
    first = subprocess.Popen(
        [sys.executable, "-m", "nnspec.cli", "run", str(spec), "--out", str(out), "--quiet"]
        + ["--seed", "1", "--batch-size", "8"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**ENV, "PYTHONPATH": str(ROOT)},
    )
    try:
        while not (out / ".nnspec-run.lock").exists() and first.poll() is None:
            time.sleep(0.01)
        imports = {"PYTHONPROFILEIMPORTTIME": "1"}
        second = nnspec("run", spec, "--out", out, "--quiet", "--seed", "2", env=imports)
        resumed = nnspec("run", spec, "--out", out, "--resume", env=imports)
        assert first.poll() is None  # still training: both came while it held the folder
    finally:
        stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    for refused in (second, resumed):
        assert refused.returncode == 1
        assert refused.stdout == ""
        assert f"error: {out} is in use by another nnspec run (pid {first.pid})\n" in refused.stderr
        assert "  = hint: wait for that run to end, or give another --out\n" in refused.stderr
        assert not re.search(r"\| +tensorflow$", refused.stderr, re.M)  # never imported
    assert "seed: 1" in (out / "spec.nn").read_text()
    assert len(history(out)["loss"]) == 2
    assert not (out / "backup").exists() and not (out / ".nnspec-run.lock").exists()


def test_the_lock_of_a_run_folder(tmp_path):
    """One holder at a time; a lock file left by a killed run does not block; the lock
    file goes when the run ends, and so do folders made for it and left empty."""
    from nnspec.keras.checkpoint import LOCK, FolderError, locked

    folder = tmp_path / "runs" / "a"
    with locked(folder):
        assert (folder / LOCK).read_text() == f"{os.getpid()}\n"
        with pytest.raises(FolderError) as err, locked(folder):
            pass
        assert err.value.message == f"{folder} is in use by another nnspec run (pid {os.getpid()})"
        (folder / "spec.nn").write_text("")
    assert [p.name for p in folder.iterdir()] == ["spec.nn"]

    (folder / LOCK).write_text("999999\n")  # a killed run's: not locked any more
    with locked(folder):
        assert (folder / LOCK).read_text() == f"{os.getpid()}\n"
    assert not (folder / LOCK).exists()

    with locked(tmp_path / "b" / "c"):
        assert (tmp_path / "b" / "c").is_dir()
    assert not (tmp_path / "b").exists()
    (tmp_path / "file").write_text("")
    with (
        pytest.raises(FolderError, match="cannot use .*file as a run folder: "),
        locked(tmp_path / "file"),
    ):
        pass


# ---- a callback's own package; a spec that predicts without `compile` -----------------

TENSORBOARD = SPEC.replace('csv_logger("log.csv")', 'tensorboard(log_dir="tb")').replace(
    "epochs: 2", "epochs: 1"
)
UNCOMPILED = """\
model digits_untrained
data digits { scale: 1/16, test_split: 0.25, seed: 3 }
input pixels: (64,)
sequential { Dense(10, activation=softmax) }
save "untrained.keras"
predict "predictions.csv"
"""


def test_tensorboard_without_its_package_says_what_to_install(tmp_path):
    """TensorFlow 2.21 no longer installs tensorboard: without it (made unimportable in
    the child process) `run` exits 2 before TensorFlow loads, and writes nothing."""
    spec = tmp_path / "tb.nn"
    spec.write_text(TENSORBOARD)
    argv = ["run", str(spec), "--out", str(tmp_path / "run")]
    code = (
        "import sys\n"
        "sys.modules['tensorboard'] = None\n"
        "from nnspec.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "finally:\n"
        "    print('TENSORFLOW LOADED' if 'tensorflow' in sys.modules else 'NO TENSORFLOW')\n"
    )
    run = python("-c", code, cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert (
        "the `tensorboard` callback needs the tensorboard package, which is not installed"
        in run.stderr
    )
    assert "= hint: install it: pip install tensorboard" in run.stderr
    assert "Traceback" not in run.stderr
    assert "NO TENSORFLOW" in run.stdout
    assert not (tmp_path / "run").exists()


@pytest.mark.keras
def test_tensorboard_callback_writes_its_logs_in_the_run_folder(tmp_path):
    spec = tmp_path / "tb.nn"
    spec.write_text(TENSORBOARD)
    out = tmp_path / "run"
    result = nnspec("run", spec, "--out", out, "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert any((out / "tb" / "train").iterdir())


def test_uncompiled_spec_that_evaluates_is_refused_by_check_gen_and_run(tmp_path):
    """Keras evaluates only a compiled model: E406, and nothing runs or is written."""
    spec = tmp_path / "evaluates.nn"
    spec.write_text(UNCOMPILED + "evaluate\n")
    for args in (["check"], ["gen", "-o", tmp_path / "s.py"], ["run", "--out", tmp_path / "r"]):
        result = nnspec(args[0], spec, *args[1:], cwd=tmp_path)
        assert result.returncode == 1, (args, result.stderr)
        assert "error[E406]: `evaluate` needs a `compile` block" in result.stdout + result.stderr
    assert not (tmp_path / "s.py").exists() and not (tmp_path / "r").exists()


def test_uncompiled_spec_that_predicts_generates_a_script_that_predicts(tmp_path):
    """W404, and the script does what the warning says: it predicts, untrained."""
    spec = tmp_path / "untrained.nn"
    spec.write_text(UNCOMPILED)
    checked = nnspec("check", spec, cwd=tmp_path)
    assert checked.returncode == 0 and "warning[W404]" in checked.stdout
    script = nnspec("gen", spec, cwd=tmp_path).stdout
    main = script.partition("def main():\n")[2]
    assert "    _, (x_test, _) = load_data()\n" in main
    assert 'model.save("untrained.keras")' in main
    assert 'write_predictions(\n        model.predict(x_test),\n        "predictions.csv",' in main
    assert "compile(" not in main and "fit(" not in main and "evaluate(" not in main


@pytest.mark.keras
def test_uncompiled_spec_that_predicts_runs_as_check_says(tmp_path):
    """`run` and the generated script both predict with the initial weights: no
    training, no metrics, no curves; the run folder serves `nnspec predict`."""
    import numpy as np

    spec = tmp_path / "untrained.nn"
    spec.write_text(UNCOMPILED)
    out = tmp_path / "run"
    result = nnspec("run", spec, "--out", out, "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "note: no `compile` block: the model predicts untrained" in result.stdout
    assert "test metric" not in result.stdout
    names = {p.name for p in out.iterdir()}
    assert {"untrained.keras", "predictions.csv", "run.json", "spec.nn", "summary.txt"} <= names
    assert not names & {"metrics.json", "history.json", "curves.png", "backup"}
    rows = (out / "predictions.csv").read_text().splitlines()
    assert rows[0] == ",".join([f"p_{i}" for i in range(10)] + ["class"]) and len(rows) == 451

    samples = tmp_path / "samples.npy"
    np.save(samples, np.zeros((2, 64), "float32"))
    predicted = nnspec("predict", out, "--input", samples)
    assert predicted.returncode == 0, predicted.stderr
    assert len(predicted.stdout.splitlines()) == 3

    (tmp_path / "script.py").write_text(nnspec("gen", spec, cwd=tmp_path).stdout)
    script = python("script.py", cwd=tmp_path, env=QUIET)
    assert script.returncode == 0, script.stderr
    assert len((tmp_path / "predictions.csv").read_text().splitlines()) == 451
    assert (tmp_path / "untrained.keras").is_file()


@pytest.mark.keras
def test_whole_specs_harness_runs_an_uncompiled_spec_that_predicts():
    """The harness counts it as nothing to train, after predicting the way `run` does."""
    import whole_specs

    verdict = whole_specs.judge(whole_specs.Drawn(UNCOMPILED, None))
    assert verdict.kind == whole_specs.NOTHING_TO_TRAIN
    assert "predicts with the initial weights" in verdict.detail
    refused = whole_specs.judge(whole_specs.Drawn(UNCOMPILED.replace("predict", "# "), None))
    assert refused.kind == whole_specs.NOTHING_TO_TRAIN and "refuses" in refused.detail
