"""Faults of the user's files and of the machine are errors, never "a bug in nnspec"
(exit 3) nor a traceback: a read-only or full disk, damaged data, a damaged run
folder, model file or sample file. Each is made for real (a read-only bind mount,
a small tmpfs, truncated copies of real files) and met by `nnspec` in a real
process: one plain message naming the file and the cause, exit 1 (2 for a usage
error), and nothing half-written left behind."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import ROOT
from helpers import nnspec as run_nnspec

QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3", "NO_COLOR": "1"}
SPEC = """\
model digits_small
data digits { scale: 1/16, test_split: 0.25, seed: 3 }
input pixels: (64,)
sequential {
    Dense(32, activation=relu)
    Dense(10, activation=softmax)
}
compile { loss: sparse_categorical_crossentropy, optimizer: adam, metrics: [accuracy] }
fit { epochs: 2, batch_size: 32, callbacks: [csv_logger("log.csv")] }
"""
NOISE = ("Traceback", "Exception ignored", "Segmentation", "internal error", "bug in nnspec")


def nnspec(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return run_nnspec(*args, cwd=cwd, env={**QUIET, **(env or {})})


def _environment(env: dict | None = None) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **QUIET, **(env or {})}


def _plain_error(result: subprocess.CompletedProcess, status: int = 1) -> str:
    """The one error line of a failed command (its hints aside), checked for noise."""
    assert result.returncode == status, result.stderr
    assert not any(word in result.stderr for word in NOISE), result.stderr
    errors = [line for line in result.stderr.splitlines() if "error: " in line.lower()]
    assert len(errors) == 1, result.stderr
    return errors[0]


@functools.cache
def _can_mount() -> bool:
    """Whether this process can mount in a mount namespace of its own (root, unshare)."""
    if os.environ.get("NNSPEC_TEST_NO_MOUNT") or os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    with tempfile.TemporaryDirectory() as folder:
        probe = ["unshare", "-m", "mount", "-t", "tmpfs", "-o", "size=4k", "tmpfs", folder]
        return subprocess.run(probe, capture_output=True).returncode == 0


def read_only(cwd: Path, folder: Path, *args, env=None) -> subprocess.CompletedProcess:
    """`nnspec ARGS` in `cwd` with `folder` read-only: a read-only bind mount in a mount
    namespace of its own, else chmod (which does not stop root: then skipped)."""
    command = [sys.executable, "-m", "nnspec.cli", *map(str, args)]
    if _can_mount():
        script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && exec "$@"'
        command = ["unshare", "-m", "sh", "-c", script, str(folder), *command]
    elif os.geteuid() == 0:
        pytest.skip("root ignores chmod, and this machine does not let tests mount")
    else:
        folder.chmod(0o555)
    try:
        return subprocess.run(
            command, cwd=cwd, env=_environment(env), capture_output=True, text=True, timeout=300
        )
    finally:
        folder.chmod(0o755)


def on_a_full_disk(
    cwd: Path, size: str, limit: int, *args, env=None
) -> subprocess.CompletedProcess:
    """`nnspec ARGS` in `cwd` with its folder disk/ on a disk that fills up: a tmpfs of
    `size` ("full": full already) in a mount namespace of its own, else a limit of
    `limit` bytes a file (writes past it fail with EFBIG, as on a full disk). What
    disk/ holds after is copied to after/disk/, with the spec: the command's paths
    hold there too."""
    (cwd / "disk").mkdir()
    (cwd / "after").mkdir()
    shutil.copy(cwd / "digits_small.nn", cwd / "after")
    command = [sys.executable, "-m", "nnspec.cli", *map(str, args)]
    preexec = None
    if _can_mount():
        script = (
            'mount -t tmpfs -o "size=$1" tmpfs "$0" || exit 99; shift; '
            'if [ "$1" = full ]; then cat /dev/zero > "$0/.fill" 2>/dev/null; fi; shift; '
            '"$@"; status=$?; cp -a "$0" after/; exit $status'
        )
        tmpfs = "4k" if size == "full" else size
        command = ["unshare", "-m", "sh", "-c", script, "disk", tmpfs, size, *command]
    else:
        import resource

        def preexec():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    result = subprocess.run(
        command,
        cwd=cwd,
        env=_environment(env),
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=preexec,
    )
    assert result.returncode != 99, f"cannot mount a tmpfs: {result.stderr}"
    if preexec is not None:
        shutil.copytree(cwd / "disk", cwd / "after" / "disk")
    return result


# ---- read-only output folders, before TensorFlow -----------------------------------


@pytest.mark.parametrize("existing", [False, True], ids=["new-folder", "existing-folder"])
def test_a_read_only_out_is_refused_before_tensorflow_and_the_data(tmp_path, existing):
    (tmp_path / "digits_small.nn").write_text(SPEC)
    disk = tmp_path / "disk"
    (disk / "run" if existing else disk).mkdir(parents=True)
    out = disk / "run"
    result = read_only(
        tmp_path, out if existing else disk, "run", "digits_small.nn", "--out", out,
        env={"PYTHONPROFILEIMPORTTIME": "1"},
    )  # fmt: skip
    line = _plain_error(result)
    assert re.fullmatch(
        rf"digits_small.nn: error: cannot use {re.escape(str(out))} as a run folder: "
        "(Read-only file system|Permission denied)",
        line,
    ), line
    imported = {m[1] for m in re.finditer(r"\| +([\w.]+)$", result.stderr, re.M)}
    assert "tensorflow" not in imported and "sklearn" not in imported
    assert [p.name for p in disk.rglob("*")] == (["run"] if existing else [])


def test_predict_output_in_a_read_only_folder_is_refused_before_tensorflow(tmp_path):
    (tmp_path / "model.keras").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip
    (tmp_path / "samples.npy").write_bytes(b"")
    disk = tmp_path / "disk"
    disk.mkdir()
    result = read_only(
        tmp_path, disk, "predict", "model.keras", "--input", "samples.npy",
        "--output", "disk/predictions.csv", env={"PYTHONPROFILEIMPORTTIME": "1"},
    )  # fmt: skip
    line = _plain_error(result, status=2)
    assert re.search(
        "cannot write disk/predictions.csv: (Read-only file system|Permission denied)", line
    )
    assert "tensorflow" not in result.stderr
    assert not any(disk.iterdir())


# ---- a full disk -------------------------------------------------------------------


def test_a_full_disk_is_refused_before_tensorflow(tmp_path):
    """Not even the lock file can be written: said at once, and the folder goes."""
    (tmp_path / "digits_small.nn").write_text(SPEC)
    args = ["run", "digits_small.nn", "--out", "disk/run"]
    result = on_a_full_disk(tmp_path, "full", 0, *args, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert re.fullmatch(
        r"digits_small.nn: error: cannot write disk/run/\.nnspec-run\.lock: "
        "(No space left on device|File too large)",
        _plain_error(result),
    )
    imported = {m[1] for m in re.finditer(r"\| +([\w.]+)$", result.stderr, re.M)}
    assert "tensorflow" not in imported and "sklearn" not in imported
    assert [p.name for p in (tmp_path / "after" / "disk").iterdir()] in ([], [".fill"])


@pytest.mark.keras
@pytest.mark.parametrize(
    "size, limit",
    [("4k", 300), ("100k", 40_000), ("140k", 49_000)],
    ids=["at-the-first-file", "at-a-checkpoint", "at-the-model-file"],
)
def test_a_full_disk_is_an_error_and_the_hint_goes_on(tmp_path, size, limit):
    """Wherever the disk fills up, the run stops with the file it could not write and
    the cause; what is left is whole (no temporary or partial file, every JSON file
    reads), and the command of the hint, once there is space, finishes the run."""
    (tmp_path / "digits_small.nn").write_text(SPEC)
    args = ["run", "digits_small.nn", "--out", "disk/run", "--quiet"]
    result = on_a_full_disk(tmp_path, size, limit, *args)
    line = _plain_error(result)
    assert re.fullmatch(
        r"digits_small.nn: error: cannot write disk/run/\S+( \(the checkpoint of epoch \d\))?: "
        "(No space left on device|File too large)",
        line,
    ), line
    hint = result.stderr.split("  = hint: ", 1)[1].strip()
    assert hint.startswith("once disk/run can be written (space freed?), ")

    after = tmp_path / "after"
    left = [p for p in (after / "disk").rglob("*") if p.is_file()]
    assert not [p for p in left if p.name.endswith(".tmp") or ".partial" in p.name]
    for path in left:
        if path.suffix == ".json":
            json.loads(path.read_text())
    if hint.endswith("run the command again"):
        assert not left  # nothing was written: the run folder went
        command = ["nnspec", *args]
    else:
        command = hint.split("go on with: ", 1)[1].split()
    again = nnspec(*command[1:], cwd=after)
    assert again.returncode == 0, again.stderr
    history = json.loads((after / "disk/run/history.json").read_text())
    assert len(history["loss"]) == 2
    assert not (after / "disk/run/backup").exists()


# ---- damaged data ------------------------------------------------------------------


def test_a_truncated_mnist_npz_is_named_before_tensorflow(tmp_path, data_dir):
    folder = tmp_path / "data"
    folder.mkdir()
    with open(data_dir / "mnist.npz", "rb") as f:
        (folder / "mnist.npz").write_bytes(f.read(1_000_000))
    spec = ROOT / "specs" / "mnist_cnn.nn"
    result = nnspec("run", spec, "--data-dir", folder, "--out", tmp_path / "run", cwd=tmp_path)
    assert _plain_error(result).endswith(
        f"error: {(folder / 'mnist.npz').resolve()}: not a NumPy .npz archive: cut short or damaged "
        "(File is not a zip file)"
    )
    assert not (tmp_path / "run").exists()


def test_truncated_fashion_mnist_files_are_named(tmp_path, data_dir):
    source = data_dir / "fashion-mnist"
    if not source.is_dir():
        pytest.skip(f"no Fashion-MNIST files in {data_dir}")
    folder = tmp_path / "data"
    shutil.copytree(source, folder)
    labels = folder / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(labels.read_bytes()[:2000])
    (tmp_path / "fashion.nn").write_text(
        "model fashion\ndata fashion_mnist { scale: 1/255 }\ninput image: (28, 28)\n"
        "sequential { Flatten()\n Dense(10, activation=softmax) }\n"
        "compile { loss: sparse_categorical_crossentropy, optimizer: adam }\n"
    )
    result = nnspec("run", "fashion.nn", "--data-dir", folder, "--out", "run", cwd=tmp_path)
    assert f"error: {labels.resolve()}: cut short or damaged (" in _plain_error(result)
    assert not (tmp_path / "run").exists()


def test_a_npy_file_named_npz_is_named(tmp_path):
    import numpy as np

    with open(tmp_path / "arrays.npz", "wb") as f:  # numpy.save would add .npy
        np.save(f, np.zeros((10, 4)))
    (tmp_path / "arrays.nn").write_text(
        'model arrays\ndata npz("arrays.npz") { test_split: 0.5 }\ninput x: (4,)\n'
        "sequential { Dense(1) }\ncompile { loss: mse, optimizer: adam }\n"
    )
    result = nnspec("run", "arrays.nn", "--out", "run", cwd=tmp_path)
    assert _plain_error(result) == (
        "arrays.nn: error: arrays.npz: one array saved with numpy.save (a .npy file), "
        "not a .npz archive"
    )
    assert not (tmp_path / "run").exists()


@pytest.mark.keras
def test_labels_that_are_no_class_ids_are_named(tmp_path):
    """Labels beyond the output's units fail TensorFlow in the middle of an epoch; they
    are found when the data is loaded, before anything trains or is written."""
    import numpy as np

    np.savez(tmp_path / "rows.npz", x=np.ones((20, 4), "float32"), y=np.arange(20) % 12)
    (tmp_path / "rows.nn").write_text(
        'model rows\ndata npz("rows.npz") { test_split: 0.5, seed: 1 }\ninput x: (4,)\n'
        "sequential { Dense(10, activation=softmax) }\n"
        "compile { loss: sparse_categorical_crossentropy, optimizer: adam }\n"
    )
    result = nnspec("run", "rows.nn", "--out", "run", "--quiet", cwd=tmp_path)
    assert re.fullmatch(
        r"rows.nn: error: rows.npz: the training label of sample \d+, 1[01], is not a class "
        r"id of output `dense` \(0 to 9, one per unit\)",
        _plain_error(result),
    )
    assert not (tmp_path / "run").exists()


# ---- a damaged run folder, model file or sample file -------------------------------


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A finished run of SPEC, trained once for the tests below (which copy it)."""
    folder = tmp_path_factory.mktemp("finished")
    (folder / "digits_small.nn").write_text(SPEC)
    result = nnspec("run", "digits_small.nn", "--out", "run", "--quiet", cwd=folder)
    assert result.returncode == 0, result.stderr
    return folder / "run"


@pytest.fixture(scope="module")
def h5_model(finished) -> bytes:
    """The model of the finished run as an `.h5` file (the run saved a `.keras` one)."""
    script = "import sys, keras; keras.models.load_model(sys.argv[1]).save(sys.argv[2])"
    target = finished.parent / "digits_small.h5"
    made = subprocess.run(
        [sys.executable, "-c", script, finished / "digits_small.keras", target],
        env=_environment(),
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    return target.read_bytes()


def _copy(finished: Path, tmp_path: Path) -> Path:
    import numpy as np

    shutil.copytree(finished, tmp_path / "run")
    np.save(tmp_path / "samples.npy", np.zeros((3, 64), "float32"))
    return tmp_path / "run"


RUN_JSON = {
    "truncated": lambda text: text[: len(text) // 2],
    "empty": lambda text: "",
    "not-an-object": lambda text: "[1, 2]",
    "no-model": lambda text: json.dumps(
        {k: v for k, v in json.loads(text).items() if k != "model"}
    ),
    "binary": lambda text: "\udcff\udcfe",
}


@pytest.mark.keras
@pytest.mark.parametrize("damage", RUN_JSON.values(), ids=RUN_JSON.keys())
def test_a_damaged_run_json(finished, tmp_path, damage):
    """`predict` names run.json and says what is wrong with it; `--resume` says the run
    finished (nothing to resume) and that its run.json is damaged."""
    run = _copy(finished, tmp_path)
    manifest = run / "run.json"
    manifest.write_bytes(damage(manifest.read_text()).encode(errors="surrogateescape"))
    predicted = nnspec("predict", "run", "--input", "samples.npy", cwd=tmp_path)
    assert re.fullmatch(
        r"error: run/run\.json is damaged: (not JSON \(.+\)|not the record of a run .*)",
        _plain_error(predicted),
    )
    (tmp_path / "digits_small.nn").write_text(SPEC)
    resumed = nnspec("run", "digits_small.nn", "--resume", "--out", "run", cwd=tmp_path)
    assert _plain_error(resumed).startswith(
        "digits_small.nn: error: run holds a finished run: nothing to resume "
        "(run/run.json is damaged: "
    )


MODEL_FILES = {
    "garbage": lambda data: os.urandom(len(data)),
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
}


@pytest.mark.keras
@pytest.mark.parametrize("damage", MODEL_FILES.values(), ids=MODEL_FILES.keys())
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_a_damaged_model_file(finished, h5_model, tmp_path, damage, suffix):
    """Not "File not found": what is wrong, for `import` and `predict` of the file, and
    for `predict` of the run folder whose run.json names it (the `.keras` file)."""
    run = _copy(finished, tmp_path)
    model = run / f"digits_small{suffix}"
    if suffix == ".h5":  # the run saved a .keras file: an .h5 one is made from it
        model.write_bytes(h5_model)
    model.write_bytes(damage(model.read_bytes()))
    imported = nnspec("import", model.relative_to(tmp_path), cwd=tmp_path)
    assert re.fullmatch(
        rf"run/{model.name}: error: cannot read {model.name}: "
        r"(not an? \.(keras|h5) file: not (a zip archive|an HDF5 file)"
        r"|a zip archive cut short or damaged \(.+\)|Unable to .*truncated file.*)",
        _plain_error(imported),
    )
    for target in (model.relative_to(tmp_path), "run")[: 2 if suffix == ".keras" else 1]:
        predicted = nnspec("predict", target, "--input", "samples.npy", cwd=tmp_path)
        line = _plain_error(predicted)
        assert line.startswith(f"error: run/{model.name}: ") and "not found" not in line


SAMPLES = {
    "strings.npy": ("np.array(['a', 'b'])", "holds text, not numbers"),
    "empty.npy": ("np.zeros((0, 64))", r"no samples: the array is empty \(shape \(0, 64\)\)"),
    "objects.npy": (
        "np.array([{}, None], dtype=object)",
        r"an array of Python objects, not numbers \(nnspec does not load pickles\)",
    ),
    "scalar.npy": ("np.float32(3)", r"one number, not an array of samples \(one per row\)"),
    "archive.npy": (None, r"a \.npz archive, not a \.npy array"),
    "text.npy": (None, r"not a NumPy \.npy file"),
    "cut.npy": (None, r"cut short: EOF: reading array header, .*"),
    "empty.csv": (None, "no samples: the file is empty"),
}


def _samples(path: Path, make: str | None) -> None:
    import numpy as np

    if make is not None:
        np.save(path, eval(make), allow_pickle=True)  # noqa: S307  (the table above)
    elif path.name == "archive.npy":
        with open(path, "wb") as f:
            np.savez(f, x=np.zeros((2, 64)))
    elif path.name == "cut.npy":
        np.save(path, np.zeros((3, 64)))
        path.write_bytes(path.read_bytes()[:40])
    else:
        path.write_text("" if path.suffix == ".csv" else "1,2,3\n")


@pytest.mark.keras
@pytest.mark.parametrize("name", SAMPLES)
def test_bad_samples_for_predict(finished, tmp_path, name):
    """Samples that are no array of numbers are refused naming the file, before
    TensorFlow loads."""
    _copy(finished, tmp_path)
    make, message = SAMPLES[name]
    _samples(tmp_path / name, make)
    result = nnspec(
        "predict", "run", "--input", name, cwd=tmp_path, env={"PYTHONPROFILEIMPORTTIME": "1"}
    )
    assert re.fullmatch(f"error: {re.escape(name)}: {message}", _plain_error(result))
    assert "tensorflow" not in result.stderr
