"""`nnspec run`: load the data, build the model from the checked IR, train,
evaluate and save, into a run folder. Imports TensorFlow (only here, in
`builder.py`, `predict.py` and `patches.py`).

Data loading and the curves plot are the very steps `gen` writes into its
scripts: the runtime template is rendered and executed, so the two back ends
share one definition of them.
"""

from __future__ import annotations

import csv
import errno
import importlib.util
import json
import math
import os
import shutil
import signal
import sys
import time
import zipfile
import zlib
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import NoReturn

from msgspec import Struct

from nnspec.check.model import CheckedModel
from nnspec.check.summary import render_summary
from nnspec.diagnostics.wording import did_you_mean, plural
from nnspec.errors import NnspecError, UsageError
from nnspec.files import write_atomic
from nnspec.keras.builder import build_model, make
from nnspec.keras.checkpoint import (
    Checkpoints,
    FolderError,
    State,
    holds_files,
    locked,
    read_manifest,
)
from nnspec.keras.codegen import render_runtime
from nnspec.keras.patches import model_bytes, multiworker_fit
from nnspec.keras.plan import (
    KERAS_FILES,
    Program,
    Var,
    dataset_files,
    output_classes,
    program,
)
from nnspec.keras.rendezvous import joined, peers, supervise
from nnspec.vocab.layers.registry import show

EXIT_INTERRUPTED = 130


class RunError(NnspecError):
    """A run that cannot start or go on; the message says why, the hints what to do."""


class Options(Struct, frozen=True):
    out: str | None = None
    device: str = "auto"
    strategy: str = "auto"
    replicas: int | None = None
    mixed_precision: bool = False
    resume: bool = False
    quiet: bool = False
    data_dir: str | None = None
    overridden: bool = False  # the command changes settings (--set, --epochs, ...)
    rendezvous_timeout: float = 300.0  # multiworker: seconds to wait for the other workers


def run_dir(model: CheckedModel, opts: Options, root: Path = Path("runs")) -> Path:
    """The run folder: `--out`, the latest unfinished run with `--resume`, or a new one."""
    if opts.out:
        return Path(opts.out)
    if opts.resume:
        unfinished = sorted(
            (
                b
                for b in root.glob(f"{model.name}-*/backup")
                if not (b.parent / "run.json").exists()
            ),
            key=lambda p: p.stat().st_mtime,
        )
        if not unfinished:
            raise RunError(f"no interrupted run of `{model.name}` under {root}/ to resume")
        return unfinished[-1].parent
    return root / f"{model.name}-{time.strftime('%Y%m%d-%H%M%S')}"


def load(p: Program) -> tuple[dict, tuple]:
    """Execute the runtime steps; returns their namespace and the four arrays."""
    d = p.data
    namespace: dict = {}
    exec(compile(render_runtime(p), "<nnspec runtime>", "exec"), namespace)  # noqa: S102
    try:
        arrays = namespace["load_data"]()
    except Exception as err:  # noqa: BLE001  (Keras's download fails with a plain Exception)
        raise _load_error(d, err) from None
    return namespace, arrays


def _load_error(d, err: Exception) -> Exception:
    """What a failed `load_data()` tells the user; a fault of nnspec's stays as it is."""
    if d.loader == "keras" and not d.files:  # Keras downloads the data set
        files = ", ".join(KERAS_FILES.get(d.source, ()))
        return RunError(
            f"could not download the {d.source} data set: {err}",
            [
                f"on a machine without internet, put Keras's {d.source} files ({files}) in a "
                "folder and point --data-dir or NNSPEC_DATA_DIR at it"
            ],
        )
    if isinstance(err, KeyError):
        return RunError(f"{_data_name(d)}: missing column or array {err}")
    if isinstance(err, (zipfile.BadZipFile, EOFError, zlib.error)):
        return RunError(f"{_data_name(d)}: damaged ({err})")
    if isinstance(err, ValueError):
        return RunError(f"{_data_name(d)}: cannot read the data as numbers: {err}")
    if isinstance(err, OSError):
        return RunError(f"{_data_name(d)}: {err}")
    return err


def check_files(p: Program, data_dir: str | None) -> None:
    """Every file the data needs exists: checked before TensorFlow loads."""
    d = p.data
    for path in [*d.files, *([d.path] if d.path else [])]:
        if not Path(path).is_file():
            where = f" in {data_dir}" if d.files else ""
            hint = (
                "set --data-dir or NNSPEC_DATA_DIR to the folder holding Keras's dataset files"
                if d.files
                else "paths in a spec are relative to the working directory"
            )
            raise RunError(f"data file not found{where}: {path}", [hint])
    for path in d.files:  # Keras's own files in --data-dir: whole?
        if path.endswith(".npz"):
            _archive_names(path, ("x_train", "y_train", "x_test", "y_test"))
        elif path.endswith(".gz"):
            _check_gzip(path)
    if d.loader == "csv":
        _check_columns(d)
    if d.loader == "npz":
        _check_arrays_named(d)
        if d.sample_weight:
            _check_npz_weights(d)


def _archive_names(path: str, wanted: tuple[str, ...] = ()) -> set[str]:
    """The names of the arrays in the `.npz` archive `path`, from its central directory
    (nothing else is read); a file that is not one, or lacks an array of `wanted`,
    is a RunError saying so."""
    try:
        with open(path, "rb") as f:
            head = f.read(6)
        with zipfile.ZipFile(path) as archive:
            names = {n.removesuffix(".npy") for n in archive.namelist()}
    except OSError as err:
        raise RunError(f"{path}: cannot read it: {err.strerror or err}") from None
    except zipfile.BadZipFile as err:
        if head == b"\x93NUMPY":
            raise RunError(
                f"{path}: one array saved with numpy.save (a .npy file), not a .npz archive",
                ["save the arrays by name with numpy.savez(path, x_train=..., y_train=..., ...)"],
            ) from None
        what = "cut short or damaged" if head.startswith(b"PK") else "not a zip archive"
        raise RunError(f"{path}: not a NumPy .npz archive: {what} ({err})") from None
    missing = [name for name in wanted if name not in names]
    if missing:
        raise RunError(f"{path}: no array {', '.join(missing)} in it")
    return names


def _check_gzip(path: str) -> None:
    """The gzip file `path` decompresses to its end (a download cut short does not)."""
    import gzip

    try:
        with gzip.open(path) as f:
            while f.read(1 << 22):
                pass
    except (EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise RunError(f"{path}: cut short or damaged ({err})") from None
    except OSError as err:
        raise RunError(f"{path}: cannot read it: {err.strerror or err}") from None


def _check_columns(d) -> None:
    """The CSV's header names every column the spec maps, and some features; every
    row has every field, and every cell the model reads is a number (an empty one
    only with `missing: drop` or `zero`)."""
    try:
        with open(d.path, newline="", encoding="utf-8-sig") as f:
            rows = csv.reader(f, delimiter=d.delimiter)
            header = next(rows, [])
            _check_header(d, header)
            _check_rows(d, header, rows)
    except OSError as err:
        raise RunError(f"{d.path}: cannot read it: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise RunError(f"{d.path}: not UTF-8 text") from None


def _check_header(d, header: list[str]) -> None:
    labels = d.label_columns or [d.label]
    wanted = [*labels, *d.weight_columns, *(c for _, key in d.inputs if key for c in _as_list(key))]
    for column in wanted:
        if column not in header:
            raise RunError(
                f"{d.path}: no column `{column}` in the header ({', '.join(header) or 'empty'})",
                did_you_mean(column, header),
            )
    if len(header) <= len(labels) + len(d.weight_columns):
        besides = " and the sample weights" if d.weight_columns else ""
        raise RunError(f"{d.path}: no feature columns besides the label `{labels[0]}`{besides}")


def _check_rows(d, header: list[str], rows) -> None:
    """Every row against the header; the message gives file:line:column."""
    mapped = [c for _, key in d.inputs if key for c in _as_list(key)]
    read = (
        set(mapped + (d.label_columns or [d.label]) + d.weight_columns) if mapped else set(header)
    )
    for line_fields in rows:
        if not line_fields:
            continue  # a blank line: pandas skips it too
        line = rows.line_num
        if len(line_fields) != len(header):
            raise RunError(
                f"{d.path}:{line}: {plural(len(line_fields), 'field')}, but the header has "
                f"{len(header)}"
            )
        for column, (name, cell) in enumerate(zip(header, line_fields), start=1):
            if name in read:
                _check_cell(d, line, column, name, cell.strip())


def _check_cell(d, line: int, column: int, name: str, cell: str) -> None:
    where = f"{d.path}:{line}:{column}"
    if not cell:
        if d.missing == "error":
            raise RunError(
                f"{where}: empty cell in column `{name}`",
                ["fill it in, or say what an empty cell becomes: `missing: drop` (or `zero`)"],
            )
        return
    try:
        value = float(cell)
    except ValueError:
        raise RunError(f"{where}: `{cell}` in column `{name}` is not a number") from None
    if name == d.sample_weight and not (math.isfinite(value) and value >= 0):
        raise RunError(f"{where}: sample weight `{cell}` in column `{name}` is not a number >= 0")


def _as_list(key) -> list[str]:
    return [key] if isinstance(key, str) else list(key)


def _check_arrays_named(d) -> None:
    """The archive holds every array the spec maps: all split into `_train` and
    `_test` (as the first label array is), or all whole."""
    names = _archive_names(d.path)
    keys = [key for _, key in (*d.outputs, *d.inputs)] or ["x", "y"]
    keys += d.weight_columns  # the sample weights' array, split like the others
    split = f"{keys[0]}_test" in names
    wanted = [f"{k}_{part}" for k in keys for part in ("train", "test")] if split else keys
    if not set(wanted) <= names:
        expected = (
            "x_train, y_train, x_test, y_test, or x and y"
            if not d.outputs and not d.sample_weight
            else ", ".join(wanted)
        )
        raise RunError(
            f"{d.path}: expected arrays {expected}; found {', '.join(sorted(names)) or 'none'}"
        )


def _check_npz_weights(d) -> None:
    """The archive's sample weights against the samples they weigh (the first label
    array's), before `load_data()` splits them alike."""
    import numpy as np

    label = d.outputs[0][1] if d.outputs else "y"
    try:
        with np.load(d.path) as archive:
            split = f"{label}_test" in archive.files
            for suffix, part in (
                (("_train", "training"), ("_test", "test")) if split else [("", "")]
            ):
                samples = len(archive[label + suffix])
                _check_weights(d, part, archive[d.sample_weight + suffix], samples, suffix)
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, zlib.error) as err:
        raise RunError(
            f"{d.path}: cannot read the sample weights `{d.sample_weight}`: {err}"
        ) from None


def _check_weights(d, split: str, weights, samples: int, suffix: str = "") -> None:
    """Sample weights: numbers, one per sample (a flat array), finite, none negative."""
    import numpy as np

    weights = np.asarray(weights)
    what = (
        f"{_data_name(d)}: the {split} sample weights" if split else f"{d.path}: the sample weights"
    )
    what += f" (`{d.sample_weight}{suffix}`)"
    if weights.dtype.kind not in "biuf":
        raise RunError(f"{what} are not numbers but {weights.dtype}")
    if weights.shape != (samples,):
        raise RunError(
            f"{what} have shape {show(weights.shape)}, but {plural(samples, 'sample')} take "
            f"one weight each: shape {show((samples,))}"
        )
    bad = ~np.isfinite(weights) | (weights < 0)
    if bad.any():
        sample = int(np.argwhere(bad)[0][0])
        raise RunError(
            f"{what}: the weight of sample {sample}, {weights[sample]:g}, is not a number >= 0"
        )


def _data_name(d) -> str:
    return d.path or (d.files[0] if d.files else d.source)


def named_arrays(arrays) -> dict:
    """The arrays `load_data()` returns, by the names the script gives them:
    x_train, y_train (w_train with sample weights), x_test, y_test (w_test)."""
    train, test = arrays
    named = {f"{var}_train": array for var, array in zip("xyw", train)}
    named.update({f"{var}_test": array for var, array in zip("xyw", test)})
    return named


def check_arrays(model: CheckedModel, p: Program, arrays) -> None:
    """The loaded arrays against the model, before training: every input's sample
    shape in both splits, as many samples in every array of a split, no NaN, and
    the sample weights."""
    named = named_arrays(arrays)
    name = _data_name(p.data)
    for split, part in (("training", "train"), ("test", "test")):
        x, y = named[f"x_{part}"], named[f"y_{part}"]
        by_input = _by_name(x, [i.name for i in model.inputs])
        for inp in model.inputs:
            want, got = inp.shape[1:], tuple(by_input[inp.name].shape[1:])
            if len(want) != len(got) or any(w is not None and w != g for w, g in zip(want, got)):
                raise RunError(
                    f"{name}: {split} samples have shape {show(got)}, but input `{inp.name}` "
                    f"expects {show(want)}"
                )
        counts = {len(a) for a in [*_arrays(x), *_arrays(y)]}
        if len(counts) > 1:
            raise RunError(
                f"{name}: the {split} arrays hold different numbers of samples "
                f"({', '.join(map(str, sorted(counts)))})"
            )
        if counts == {0}:
            raise RunError(f"{name}: no samples in the {split} split")
        _no_nan(name, split, [*_arrays(x), *_arrays(y)])
        _class_ids(model, name, split, y)
        if f"w_{part}" in named:
            _check_weights(p.data, split, named[f"w_{part}"], len(_arrays(y)[0]))


def _class_ids(model: CheckedModel, name: str, split: str, y) -> None:
    """The labels of an output trained with sparse_categorical_crossentropy are class
    ids: whole numbers from 0 to its units - 1. TensorFlow stops on any other in the
    middle of an epoch."""
    import numpy as np

    for ref, loss in zip(model.outputs, _losses(model)):
        labels = y.get(ref.source) if isinstance(y, dict) else y
        units = (model.shape_of(ref) or (None,))[-1]
        if "sparsecategoricalcrossentropy" not in loss or labels is None or units is None:
            continue
        labels = np.asarray(labels).reshape(len(labels), -1)
        if labels.dtype.kind not in "biuf" or labels.shape[1] != 1:
            continue  # the checks of the spec and of the shapes cover these
        bad = (labels < 0) | (labels >= units) | (labels != np.round(labels))
        if bad.any():
            sample = int(np.argwhere(bad)[0][0])
            raise RunError(
                f"{name}: the {split} label of sample {sample}, {labels[sample][0]:g}, is not a "
                f"class id of output `{ref.source}` (0 to {units - 1}, one per unit)",
                ["give the output one unit per class, or number the classes from 0"],
            )


def _losses(model: CheckedModel) -> list[str]:
    """Each output's loss, its name in lower case without underscores ("" if none)."""
    loss = (model.compile or {}).get("loss")
    if loss is None:
        return [""] * len(model.outputs)
    if loss.single is not None:
        each = [loss.single] * len(model.outputs)
    elif loss.items:
        each = list(loss.items)
    else:
        named = {entry[0]: entry[1] for entry in loss.by_name}
        each = [named.get(ref.source) for ref in model.outputs]
    names = [
        v if isinstance(v, str) else getattr(getattr(v, "callee", None), "name", "") for v in each
    ]
    return [(n or "").lower().replace("_", "") for n in names]


def _no_nan(name: str, split: str, arrays: list) -> None:
    import numpy as np

    for array in arrays:
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            sample = int(np.argwhere(~np.isfinite(array))[0][0])
            raise RunError(
                f"{name}: the {split} data holds NaN or infinity (sample {sample} of the split)",
                ["a missing value? fill it in, or use `missing: drop` (CSV files)"],
            )


def _by_name(x, names: list[str]) -> dict:
    """Feature arrays by input name: a dict as loaded, or the one array."""
    return x if isinstance(x, dict) else {names[0]: x}


def _arrays(value) -> list:
    return list(value.values()) if isinstance(value, dict) else [value]


class Interrupt:
    """SIGINT / SIGTERM stop training after the current step: Keras checks
    `stop_training` after every batch, so no per-batch callback slows it."""

    def __init__(self, model):
        self.model = model
        self.requested = False
        self._previous = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.requested = True
        self.model.stop_training = True

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _saving(keras, interrupt: Interrupt, checkpoints: Checkpoints, folder: Path, history: dict):
    class Save(keras.callbacks.Callback):
        """After each completed epoch: its checkpoint, then history.json and history.csv
        written from it. An interrupted epoch is not saved: it is trained again."""

        def on_epoch_end(self, epoch, logs=None):
            if interrupt.requested:
                return
            for key, value in numbers(logs or {}).items():
                history.setdefault(key, []).append(value)
            checkpoints.save(self.model, epoch + 1, history)
            write_history(folder, history)

    return Save()


def numbers(logs: dict) -> dict[str, float]:
    """Keras's logs or results as numbers: a metric of one value per class (`f1_score`
    without `average`) gives `f1_score_0`, `f1_score_1`, ...; one of a single value
    (also on an output of one unit), that value."""
    import numpy as np

    found = {}
    for key, value in logs.items():
        values = np.ravel(np.asarray(value, dtype="float64"))
        if values.size == 1:
            found[key] = float(values[0])
        else:
            found.update({f"{key}_{i}": float(v) for i, v in enumerate(values)})
    return found


def write_history(folder: Path, history: dict) -> None:
    write_atomic(folder / "history.json", json.dumps(history, indent=2) + "\n")
    keys = list(history)
    rows = [",".join(["epoch", *keys])]
    for i in range(len(history[keys[0]]) if keys else 0):
        rows.append(",".join([str(i + 1), *(repr(history[k][i]) for k in keys)]))
    write_atomic(folder / "history.csv", "\n".join(rows) + "\n")


def _make(value, namespace: dict):
    """A program value as a Python object: calls made, variables looked up."""
    if isinstance(value, Var):
        return namespace[value.name]
    if isinstance(value, (list, tuple)):
        return type(value)(_make(v, namespace) for v in value)
    if isinstance(value, dict):
        return {k: _make(v, namespace) for k, v in value.items()}
    return make(value)


def select_devices(tf, opts: Options):
    """Memory growth on every GPU; the strategy, a description, whether GPUs train."""
    gpus = [] if opts.device == "cpu" else tf.config.list_physical_devices("GPU")
    if opts.device == "gpu" and not gpus:
        raise RunError("--device gpu: TensorFlow sees no GPU here (is `nnspec[gpu]` installed?)")
    for gpu in gpus:
        tf.config.experimental.set_memory_growth(gpu, True)
    if opts.replicas and not gpus:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * opts.replicas
        )
    kind = "GPU" if gpus else "CPU"
    strategy = opts.strategy
    if strategy == "auto":
        strategy = "mirrored" if len(gpus) > 1 else "default"
    if strategy == "one":
        made = tf.distribute.OneDeviceStrategy("/gpu:0" if gpus else "/cpu:0")
    elif strategy == "mirrored":
        devices = None
        if not gpus:
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        made = tf.distribute.MirroredStrategy(devices)
    elif strategy == "multiworker":
        made = tf.distribute.MultiWorkerMirroredStrategy()
        joined()
    else:
        made = tf.distribute.get_strategy()
    replicas = made.num_replicas_in_sync
    names = ", ".join(d.name.split("device:")[-1] for d in (gpus or [])) or kind
    where = f"{replicas} {kind} replica{'s' if replicas > 1 else ''}" if replicas > 1 else names
    return made, f"{where}, strategy {strategy}", bool(gpus)


def train(spec_path: str, text: str, model: CheckedModel, opts: Options, echo) -> Path:
    """The whole run of `model`, compiled from `text` (the spec, overrides applied);
    returns the run folder, locked throughout. Raises RunError, or exits on interrupt."""
    folder = run_dir(model, opts)
    with locked(folder):
        if opts.resume:
            text, model = _as_started(folder, text, model, opts, echo)
        p, saved = _prepare(folder, model, opts, echo)
        try:
            return _run(spec_path, text, model, p, folder, saved, opts, echo)
        except (OSError, FolderError) as err:  # a full disk, a folder made read-only
            raise _cannot_write(err, folder, spec_path) from None


# What writing a file meets on a full disk, past a quota or a size limit, in a folder
# made read-only or not one's own, on a failing disk.
WRITE_ERRORS = frozenset(
    [errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO]
)


def _cannot_write(err: OSError | FolderError, folder: Path, spec_path: str) -> Exception:
    """A file of the run that could not be written, named, and how to go on: what is
    in the run folder is whole (every file is written under a temporary name, then
    renamed), so the run resumes from its last checkpoint, or starts again. Another
    OSError stays as it is."""
    if isinstance(err, FolderError):
        message = err.message
    elif err.errno not in WRITE_ERRORS:
        return err
    else:
        where = err.filename or f"a file in {folder}"
        message = f"cannot write {where}: {err.strerror or err}"
    if (folder / "spec.nn").is_file():
        then = f"go on with: nnspec run {spec_path} --resume --out {folder}"
    else:
        then = "run the command again"
    return RunError(message, [f"once {folder} can be written (space freed?), {then}"])


def _run(spec_path, text, model, p: Program, folder: Path, saved: State | None, opts, echo):
    """`train` once the run folder is locked and checked; TensorFlow starts here."""
    if opts.strategy == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise RunError(
                "--strategy multiworker reads the cluster from TF_CONFIG, which is not set "
                "(see docs/run.md, 'Several machines')"
            )
        supervise(opts.rendezvous_timeout, peers(os.environ["TF_CONFIG"]), spec_path)
    keras, strategy, where = _start_tensorflow(p, opts, echo)
    namespace, arrays = load(p)
    check_arrays(model, p, arrays)
    namespace.update(named_arrays(arrays))
    x_train, x_test, y_test = (namespace[k] for k in ("x_train", "x_test", "y_test"))

    echo(
        f"nnspec run: {model.name} on {where}; {len(x_train):,} training and "
        f"{len(x_test):,} test samples; run folder {folder}"
    )
    with strategy.scope():
        net = build_model(model)
        if p.compile_kwargs is not None:  # else `check` promised untrained predictions (W404)
            net.compile(**{k: _make(v, namespace) for k, v in p.compile_kwargs})
    write_atomic(folder / "spec.nn", text)  # first: it makes the folder a run's
    if namespace.get("STATISTICS"):  # the standardization, for `nnspec predict`
        _save_arrays(folder / "standardization.npz", namespace["STATISTICS"])
    write_atomic(folder / "summary.txt", render_summary(model) + "\n")

    history, results = {}, {}
    if p.compile_kwargs is None:
        echo("note: no `compile` block: the model predicts untrained, with its initial weights")
    else:
        history = _fit(spec_path, net, p, folder, saved, (keras, strategy), namespace, opts, echo)
        weights = namespace.get("w_test")  # the sample weights weigh the test loss too
        results = net.evaluate(
            x_test,
            y_test,
            sample_weight=weights,
            return_dict=True,
            verbose=0,
            **dict(p.evaluate or ()),
        )
        results = numbers(results)
    model_file = folder / (Path(p.save).name if p.save else f"{model.name}.keras")
    write_atomic(model_file, model_bytes(net, model_file.suffix))
    if results:
        write_atomic(folder / "metrics.json", json.dumps(results, indent=2) + "\n")
    _write_curves_and_predictions(net, p, folder, namespace, history, x_test)
    _write_manifest(folder, spec_path, model, model_file)  # the run is finished: then
    Checkpoints(folder).remove()
    if results:
        echo(metrics_table(results))
    echo(f"saved {model_file}")
    return folder


def _fit(spec_path, net, p: Program, folder: Path, saved, tf_parts, namespace, opts, echo):
    """Train `net` (built and compiled) from `saved`, checkpointing every epoch; returns
    the history. Exits after Ctrl-C, once the last completed epoch is saved."""
    keras, strategy = tf_parts
    checkpoints = Checkpoints(folder)
    history = _start_from(saved, checkpoints, net, strategy, folder)
    fit_kwargs = {k: _make(v, namespace) for k, v in p.fit_kwargs}
    done, epochs = saved.epoch if saved else 0, fit_kwargs.get("epochs", 1)
    with Interrupt(net) as interrupt:
        fit_kwargs["callbacks"] = [
            *fit_kwargs.get("callbacks", []),
            _saving(keras, interrupt, checkpoints, folder, history),
        ]
        if opts.quiet:
            fit_kwargs["verbose"] = 0
        elif not sys.stdout.isatty():  # a log file or pipe: one line an epoch, no progress bar
            fit_kwargs.setdefault("verbose", 2)
        patched = multiworker_fit(net) if opts.strategy == "multiworker" else nullcontext()
        if done < epochs:  # else killed after the last epoch was saved
            with strategy.scope(), patched:
                net.fit(
                    namespace["x_train"], namespace["y_train"], initial_epoch=done, **fit_kwargs
                )
    if interrupt.requested:
        _stopped(spec_path, folder, history, epochs, echo)
    return history


def _as_started(folder: Path, text: str, model: CheckedModel, opts: Options, echo):
    """The spec and model a resumed run goes on with: the ones it was started with
    (its spec.nn, overrides applied), whatever the spec file says now. Other settings
    given with --resume are refused: a run does not change course halfway."""
    from nnspec.check.pipeline import compile_text

    saved = folder / "spec.nn"
    if not saved.is_file() or (started := saved.read_text(encoding="utf-8")) == text:
        return text, model
    if opts.overridden:
        raise RunError(
            f"{folder} was started with other settings than this command gives",
            [
                f"a resumed run goes on as it was started ({saved}): resume without --set, "
                "--epochs, --batch-size and --seed, or start a new run without --resume"
            ],
        )
    result = compile_text(started)
    if not result.ok or result.model is None:
        raise RunError(f"{saved} does not check any more: the run cannot go on")
    echo(f"nnspec run: resuming {folder} as it was started, with {saved} (the spec has changed)")
    return started, result.model


def _prepare(
    folder: Path, model: CheckedModel, opts: Options, echo
) -> tuple[Program, State | None]:
    """The program and the state to resume from, once everything checkable without
    TensorFlow is (the run folder is locked)."""
    if model.data is None:
        raise RunError("the spec has no `data` statement: nothing to train on")
    if model.compile is None and not any(a.keyword == "predict" for a in model.actions):
        raise RunError("the spec has no `compile` block: a loss and an optimizer are needed")
    _callback_packages(model)
    data_dir = opts.data_dir or os.environ.get("NNSPEC_DATA_DIR")
    p = program(model, dataset_files(model, data_dir), str(folder))
    check_files(p, data_dir)
    finished = (folder / "run.json").exists()
    saved = None if finished else Checkpoints(folder).latest(echo)
    again = _never_got_going(folder, saved)  # failed or stopped before an epoch ended
    if opts.resume and saved is None and not again:
        if finished:
            try:
                read_manifest(folder)
            except FolderError as err:  # damaged: the run finished all the same
                raise RunError(
                    f"{folder} holds a finished run: nothing to resume ({err.message})"
                ) from None
            raise RunError(f"{folder} holds a finished run: nothing to resume")
        raise RunError(f"nothing to resume in {folder}: no checkpoint of an interrupted run")
    if not opts.resume and not again and holds_files(folder):
        raise RunError(f"{folder} already holds a run; pick another --out, or --resume it")
    if again:
        left = any((folder / "backup").glob("epoch-*.json"))
        why = (
            "no checkpoint that can be used" if left else "a run that ended before its first epoch"
        )
        echo(f"nnspec run: {folder} holds {why}: starting again")
    return p, saved


def _callback_packages(model: CheckedModel) -> None:
    """A callback whose package is not installed (TensorBoard's: TensorFlow 2.21 no
    longer installs it) is a usage error, said before TensorFlow loads."""
    for callback in model.fit.callbacks if model.fit is not None else ():
        package = callback.callee.package
        if package is not None and not _installed(package):
            raise UsageError(
                f"the `{callback.call.name}` callback needs the {package} package, "
                "which is not installed",
                [f"install it: pip install {package} (nnspec's `tf` and `gpu` extras include it)"],
            )


def _installed(package: str) -> bool:
    try:
        return importlib.util.find_spec(package) is not None
    except (ImportError, ValueError):  # blocked, or a broken install
        return False


def _never_got_going(folder: Path, saved: State | None) -> bool:
    """A run folder of a run that failed or was stopped before its first epoch ended
    (its spec.nn, no checkpoint, no finished run.json): nothing in it to keep."""
    return saved is None and (folder / "spec.nn").is_file() and not (folder / "run.json").exists()


def _start_from(saved: State | None, checkpoints: Checkpoints, net, strategy, folder: Path):
    """The history so far: `saved`'s, whose weights and optimizer state `net` gets, and
    the history files rewritten from it; with nothing saved, none, and what an earlier
    start left goes."""
    if saved is None:
        checkpoints.remove()
        for name in ("history.json", "history.csv"):
            (folder / name).unlink(missing_ok=True)
        return {}
    with strategy.scope():
        checkpoints.restore(net, saved)
    write_history(folder, saved.history)
    return {k: list(v) for k, v in saved.history.items()}


def _stopped(spec_path: str, folder: Path, history: dict, epochs: int, echo) -> NoReturn:
    """After Ctrl-C (or SIGTERM): what was kept, and the command that goes on (a run
    stopped before its first epoch ended starts again, as it was started)."""
    done = len(next(iter(history.values()), []))
    kept = f"{done} of {epochs} epochs done, saved in" if done else "no epoch ended yet in"
    echo(
        f"\ninterrupted: {kept} {folder}\n"
        f"resume with: nnspec run {spec_path} --resume --out {folder}"
    )
    raise SystemExit(EXIT_INTERRUPTED)


def _start_tensorflow(p: Program, opts: Options, echo):
    """Import TensorFlow quietly, pick the devices, seed and set the precision;
    returns keras, the distribution strategy and a description of the devices."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if opts.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"
    import absl.logging
    import keras
    import tensorflow as tf

    absl.logging.set_verbosity(absl.logging.ERROR)  # e.g. "HDF5 is legacy" for a `.h5` save

    strategy, where, on_gpu = select_devices(tf, opts)
    if p.seed is not None:
        keras.utils.set_random_seed(p.seed)
        tf.config.experimental.enable_op_determinism()
    if opts.mixed_precision:
        if on_gpu:
            keras.mixed_precision.set_global_policy("mixed_float16")
        else:
            echo("note: --mixed-precision needs a GPU; training in float32")
    return keras, strategy, where


def _write_curves_and_predictions(
    net, p: Program, folder: Path, namespace: dict, history: dict, x_test
) -> None:
    """The training curves plot, and the test predictions if the spec asks for them."""
    if history:
        plot = folder / (Path(p.plot).name if p.plot else "curves.png")
        _write_whole(plot, lambda path: namespace["plot_history"](history, path))
    if p.predict:
        predictions = net.predict(x_test, verbose=0)
        for each, array in zip(p.predict, predictions if len(p.predict) > 1 else [predictions]):
            _write_whole(
                folder / Path(each.path).name,
                lambda path, a=array, e=each: namespace["write_predictions"](
                    a, path, _listed(e.classes)
                ),
            )


def _write_whole(path: Path, write: Callable[[str], object]) -> None:
    """`write(name)` writes a file at `name`: made in a temporary folder beside `path`,
    then renamed to `path`, it is there whole or not at all. An OSError names `path`."""
    staging = path.parent / f".{path.name}.tmp"
    try:
        staging.mkdir(exist_ok=True)
        write(str(staging / path.name))
        os.replace(staging / path.name, path)
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_manifest(folder: Path, spec_path: str, model: CheckedModel, model_file: Path) -> None:
    """run.json: what `nnspec predict` needs to use the saved model."""
    manifest = {
        "spec": str(spec_path),
        "model": model_file.name,
        "task": model.data.info.task,
        "classes": _listed(output_classes(model, model.outputs[0])),
    }
    write_atomic(folder / "run.json", json.dumps(manifest, indent=2) + "\n")


def _save_arrays(path: Path, arrays: dict) -> None:
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_atomic(path, buffer.getvalue())


def _listed(names: tuple[str, ...] | None) -> list[str] | None:
    return None if names is None else list(names)


def metrics_table(results: dict[str, float]) -> str:
    width = max(len(k) for k in results) if results else 0
    lines = [f"{'test metric'.ljust(max(width, 11))}  value", "-" * (max(width, 11) + 12)]
    lines += [f"{k.ljust(max(width, 11))}  {v:.4f}" for k, v in results.items()]
    return "\n".join(lines)
