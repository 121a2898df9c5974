"""`nnspec run`: load the data, build the model from the checked IR, train,
evaluate and save, into a run folder. Imports TensorFlow (only here, in
`builder.py`, `predict.py` and `patches.py`).

Data loading and the curves plot are the very steps `gen` writes into its
scripts: the runtime template is rendered and executed, so the two back ends
share one definition of them.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import NoReturn

from msgspec import Struct

from nnspec.check.model import CheckedModel
from nnspec.check.summary import render_summary
from nnspec.diagnostics.wording import did_you_mean
from nnspec.errors import NnspecError
from nnspec.files import write_atomic
from nnspec.keras.builder import build_model, make
from nnspec.keras.codegen import render_runtime
from nnspec.keras.patches import multiworker_fit
from nnspec.keras.plan import KERAS_FILES, Program, Var, dataset_files, program

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


def run_dir(model: CheckedModel, opts: Options, root: Path = Path("runs")) -> Path:
    """The run folder: `--out`, the latest unfinished run with `--resume`, or a new one."""
    if opts.out:
        return Path(opts.out)
    if opts.resume:
        unfinished = sorted(root.glob(f"{model.name}-*/backup"), key=lambda p: p.stat().st_mtime)
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
    if d.loader == "csv":
        _check_columns(d.path, d.label, d.delimiter)
    if d.loader == "npz":
        _check_arrays_named(d.path)


def _check_columns(path: str, label: str, delimiter: str) -> None:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f, delimiter=delimiter), [])
    except OSError as err:
        raise RunError(f"{path}: cannot read it: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise RunError(f"{path}: not UTF-8 text") from None
    if label not in header:
        raise RunError(
            f"{path}: no column `{label}` in the header ({', '.join(header) or 'empty'})",
            did_you_mean(label, header),
        )
    if len(header) < 2:
        raise RunError(f"{path}: no feature columns besides the label `{label}`")


def _check_arrays_named(path: str) -> None:
    import numpy as np

    try:
        with np.load(path) as archive:
            names = set(archive.files)
    except (OSError, ValueError) as err:
        raise RunError(f"{path}: not a NumPy .npz archive ({err})") from None
    if not ({"x_train", "y_train", "x_test", "y_test"} <= names or {"x", "y"} <= names):
        raise RunError(
            f"{path}: expected arrays x_train, y_train, x_test, y_test, or x and y; "
            f"found {', '.join(sorted(names)) or 'none'}"
        )


def _data_name(d) -> str:
    return d.path or (d.files[0] if d.files else d.source)


def check_arrays(model: CheckedModel, p: Program, arrays) -> None:
    (x_train, y_train), (x_test, _) = arrays
    want = model.inputs[0].shape[1:]
    got = tuple(x_train.shape[1:])
    if len(want) != len(got) or any(w is not None and w != g for w, g in zip(want, got)):
        shown = "(" + ", ".join("None" if w is None else str(w) for w in want) + ")"
        raise RunError(
            f"{_data_name(p.data)}: samples have shape {got}, but input "
            f"`{model.inputs[0].name}` expects {shown}"
        )
    if len(x_train) != len(y_train):
        raise RunError(f"{_data_name(p.data)}: {len(x_train)} samples but {len(y_train)} labels")
    if len(x_train) == 0 or len(x_test) == 0:
        raise RunError(f"{_data_name(p.data)}: no samples in the training or the test split")


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


def _callbacks(keras, interrupt: Interrupt, folder: Path, history: dict):
    class Backup(keras.callbacks.BackupAndRestore):
        """Saves completed epochs only: an interrupted one is trained again."""

        def on_epoch_end(self, epoch, logs=None):
            if not interrupt.requested:
                super().on_epoch_end(epoch, logs)

    class HistoryFiles(keras.callbacks.Callback):
        """history.json and history.csv, rewritten after each completed epoch."""

        def on_epoch_end(self, epoch, logs=None):
            if interrupt.requested:
                return
            for key, value in (logs or {}).items():
                history.setdefault(key, []).append(float(value))
            write_history(folder, history)

    backup = Backup(backup_dir=str(folder / "backup"), delete_checkpoint=False)
    return [backup, HistoryFiles()]


def write_history(folder: Path, history: dict) -> None:
    write_atomic(folder / "history.json", json.dumps(history, indent=2) + "\n")
    keys = list(history)
    rows = [",".join(["epoch", *keys])]
    for i in range(len(history[keys[0]]) if keys else 0):
        rows.append(",".join([str(i + 1), *(repr(history[k][i]) for k in keys)]))
    write_atomic(folder / "history.csv", "\n".join(rows) + "\n")


def _read_history(folder: Path) -> dict:
    path = folder / "history.json"
    return json.loads(path.read_text()) if path.is_file() else {}


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
        if "TF_CONFIG" not in os.environ:
            raise RunError(
                "--strategy multiworker reads the cluster from TF_CONFIG, which is not set "
                "(see docs/run.md, 'Several machines')"
            )
        made = tf.distribute.MultiWorkerMirroredStrategy()
    else:
        made = tf.distribute.get_strategy()
    replicas = made.num_replicas_in_sync
    names = ", ".join(d.name.split("device:")[-1] for d in (gpus or [])) or kind
    where = f"{replicas} {kind} replica{'s' if replicas > 1 else ''}" if replicas > 1 else names
    return made, f"{where}, strategy {strategy}", bool(gpus)


def train(spec_path: str, text: str, model: CheckedModel, opts: Options, echo) -> Path:
    """The whole run of `model`, compiled from `text` (the spec, overrides applied);
    returns the run folder. Raises RunError, or exits on interrupt."""
    if opts.resume:
        text, model = _as_started(run_dir(model, opts), text, model, opts, echo)
    folder, p = _prepare(model, opts)
    if _never_got_going(folder):
        echo(f"nnspec run: {folder} holds a run that ended before its first epoch: starting again")
    keras, strategy, where = _start_tensorflow(p, opts, echo)
    namespace, arrays = load(p)
    check_arrays(model, p, arrays)
    (x_train, y_train), (x_test, y_test) = arrays
    namespace.update(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)

    folder.mkdir(parents=True, exist_ok=True)
    echo(
        f"nnspec run: {model.name} on {where}; {len(x_train):,} training and "
        f"{len(x_test):,} test samples; run folder {folder}"
    )
    with strategy.scope():
        net = build_model(model)
        net.compile(**{k: _make(v, namespace) for k, v in p.compile_kwargs})
    write_atomic(folder / "summary.txt", render_summary(model) + "\n")
    write_atomic(folder / "spec.nn", text)

    history = _read_history(folder) if opts.resume else {}
    fit_kwargs = {k: _make(v, namespace) for k, v in p.fit_kwargs}
    with Interrupt(net) as interrupt:
        fit_kwargs["callbacks"] = [
            *fit_kwargs.get("callbacks", []),
            *_callbacks(keras, interrupt, folder, history),
        ]
        if opts.quiet:
            fit_kwargs["verbose"] = 0
        elif not sys.stdout.isatty():  # a log file or pipe: one line an epoch, no progress bar
            fit_kwargs.setdefault("verbose", 2)
        patched = multiworker_fit(net) if opts.strategy == "multiworker" else nullcontext()
        with strategy.scope(), patched:
            net.fit(x_train, y_train, **fit_kwargs)
    if interrupt.requested:
        _stopped(spec_path, folder, history, fit_kwargs.get("epochs", 1), echo)

    results = net.evaluate(x_test, y_test, return_dict=True, verbose=0, **dict(p.evaluate or ()))
    results = {k: float(v) for k, v in results.items()}
    model_file = folder / (Path(p.save).name if p.save else f"{model.name}.keras")
    net.save(model_file)
    write_atomic(folder / "metrics.json", json.dumps(results, indent=2) + "\n")
    _write_curves_and_predictions(net, p, folder, namespace, history, x_test)
    _write_manifest(folder, spec_path, model, model_file)
    _remove_backup(folder)
    echo(metrics_table(results))
    echo(f"saved {model_file}")
    return folder


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


def _prepare(model: CheckedModel, opts: Options) -> tuple[Path, Program]:
    """The run folder and the program, once everything checkable without TensorFlow is."""
    if model.data is None:
        raise RunError("the spec has no `data` statement: nothing to train on")
    if model.compile is None:
        raise RunError("the spec has no `compile` block: a loss and an optimizer are needed")
    data_dir = opts.data_dir or os.environ.get("NNSPEC_DATA_DIR")
    folder = run_dir(model, opts)
    p = program(model, dataset_files(model, data_dir), str(folder))
    check_files(p, data_dir)
    again = _never_got_going(folder)  # failed or stopped before an epoch ended
    if opts.resume and not (folder / "backup").is_dir() and not again:
        raise RunError(f"nothing to resume in {folder}: no checkpoint of an interrupted run")
    if not opts.resume and folder.exists() and any(folder.iterdir()) and not again:
        raise RunError(f"{folder} already holds a run; pick another --out, or --resume it")
    return folder, p


def _never_got_going(folder: Path) -> bool:
    """A run folder of a run that failed or was stopped before its first epoch ended
    (its spec.nn, no checkpoint, no finished run.json): nothing in it to keep."""
    return (
        (folder / "spec.nn").is_file()
        and not (folder / "backup").is_dir()
        and not (folder / "run.json").exists()
    )


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
        namespace["plot_history"](
            history, str(folder / (Path(p.plot).name if p.plot else "curves.png"))
        )
    if p.predict:
        import numpy as np

        np.savetxt(folder / Path(p.predict).name, net.predict(x_test, verbose=0), delimiter=",")


def _write_manifest(folder: Path, spec_path: str, model: CheckedModel, model_file: Path) -> None:
    """run.json: what `nnspec predict` needs to use the saved model."""
    manifest = {
        "spec": str(spec_path),
        "model": model_file.name,
        "task": model.data.info.task,
        "classes": model.data.info.classes,
    }
    write_atomic(folder / "run.json", json.dumps(manifest, indent=2) + "\n")


def _remove_backup(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder / "backup", ignore_errors=True)


def metrics_table(results: dict[str, float]) -> str:
    width = max(len(k) for k in results) if results else 0
    lines = [f"{'test metric'.ljust(max(width, 11))}  value", "-" * (max(width, 11) + 12)]
    lines += [f"{k.ljust(max(width, 11))}  {v:.4f}" for k, v in results.items()]
    return "\n".join(lines)
