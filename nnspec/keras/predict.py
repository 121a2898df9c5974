"""`nnspec predict`: a saved model (or a run folder) applied to samples in a
`.npy` or `.csv` file. Imports TensorFlow."""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from pathlib import Path

from nnspec.errors import NnspecError
from nnspec.keras.checkpoint import read_manifest
from nnspec.keras.codegen import render_predictions

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


class PredictError(NnspecError):
    """Bad model or input file; the message names it."""


def _model_file(path: Path) -> tuple[Path, list[str] | None, str | None]:
    """The model file, and its classes' names and task when a run says them."""
    if path.is_dir():
        info = read_manifest(path)  # a FolderError if missing or damaged
        classes = info.get("classes")
        if isinstance(classes, int):  # a run folder of an earlier nnspec
            classes = [str(i) for i in range(classes)]
        model = path / info["model"]
        if not model.is_file():
            raise PredictError(f"{model}: no such file, though {path / 'run.json'} names it")
        _check_model_file(model)
        return model, classes, info.get("task")
    if path.suffix not in (".keras", ".h5"):
        raise PredictError(f"{path}: expected a .keras or .h5 model, or a run folder")
    _check_model_file(path)
    return path, None, None


def _check_model_file(path: Path) -> None:
    """A `.keras` file is a whole zip archive, an `.h5` file an HDF5 file: checked before
    TensorFlow loads (Keras says "File not found" of a damaged `.keras` file)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            whole = path.suffix != ".keras" or zipfile.is_zipfile(f)
    except OSError as err:
        raise PredictError(f"{path}: cannot read it: {err.strerror or err}") from None
    if path.suffix == ".keras" and not whole:
        what = "cut short or damaged" if head.startswith(b"PK") else "not a zip archive"
        raise PredictError(f"{path}: not a .keras model file: {what}")
    if path.suffix == ".h5" and head != HDF5_SIGNATURE:
        raise PredictError(f"{path}: not an .h5 model file: not an HDF5 file")


def read_samples(path: Path):
    """The samples in `path`, a `.npy` array or a CSV file of numbers: an array of one
    sample or more; anything else is a PredictError naming the file."""
    import numpy as np

    try:
        if path.suffix == ".npy":
            return _samples(path, _read_npy(path))
        if path.suffix == ".csv":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "Empty input file": said below
                rows = np.genfromtxt(path, delimiter=",", dtype="float32")
            if rows.size == 0:
                raise PredictError(f"{path}: no samples: the file is empty")
            rows = rows.reshape(-1, rows.shape[-1]) if rows.ndim else rows.reshape(1, 1)
            if np.isnan(rows[0]).all():  # a header row
                rows = rows[1:]
            if np.isnan(rows).any():
                row = int(np.argwhere(np.isnan(rows))[0][0]) + 2
                raise PredictError(f"{path}: non-numeric or missing value near line {row}")
            return _samples(path, rows)
    except OSError as err:
        raise PredictError(f"{path}: cannot read it: {err.strerror or err}") from None
    except (ValueError, EOFError) as err:
        short = isinstance(err, EOFError) or str(err).startswith("EOF")
        raise PredictError(f"{path}: {'cut short: ' if short else ''}{err}") from None
    raise PredictError(f"{path}: expected a .npy or .csv file")


def _read_npy(path: Path):
    """The array in `.npy` file `path`, never a pickle; another kind of file is named."""
    import numpy as np

    with open(path, "rb") as f:
        head = f.read(6)
    if head.startswith(b"PK"):
        raise PredictError(f"{path}: a .npz archive, not a .npy array")
    if head != b"\x93NUMPY":
        raise PredictError(f"{path}: not a NumPy .npy file")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise PredictError(
                f"{path}: an array of Python objects, not numbers (nnspec does not load pickles)"
            ) from None
        raise


def _samples(path: Path, samples):
    """`samples` if it holds numbers, one sample or more; a PredictError otherwise."""
    if samples.dtype.kind not in "biuf":
        kind = "text" if samples.dtype.kind in "SU" else f"{samples.dtype} values"
        raise PredictError(f"{path}: holds {kind}, not numbers")
    if samples.ndim == 0:
        raise PredictError(f"{path}: one number, not an array of samples (one per row)")
    if samples.size == 0:
        raise PredictError(f"{path}: no samples: the array is empty (shape {samples.shape})")
    return samples


def run_preprocessing(folder: Path):
    """The run's own preprocessing of raw samples, as its spec says (the `preprocess`
    step `gen` writes, then the standardization with the training statistics), its
    steps in words, and the shape of a raw sample; None where it has none."""

    from nnspec.check.pipeline import compile_text
    from nnspec.keras.codegen import render_runtime
    from nnspec.keras.plan import program

    spec = folder / "spec.nn"
    model = compile_text(spec.read_text()).model if spec.is_file() else None
    if model is None or model.data is None or len(model.inputs) > 1:
        return None
    p = program(model)
    d = p.data
    namespace: dict = {}
    exec(compile(render_runtime(p), "<nnspec runtime>", "exec"), namespace)  # noqa: S102
    steps = [f"reshape to {tuple(d.reshape)}"] if d.reshape else []
    steps += ["a channel axis"] if d.add_channel else []
    if d.scale is not None:
        steps.append(f"scale 1/{d.scale_divisor}" if d.scale_divisor else f"scale {d.scale:g}")
    statistics = None
    if d.standardize:
        statistics = _statistics(folder / "standardization.npz")
        steps.append("standardization with the training statistics")

    def prepare(x):
        x = namespace["preprocess"](x)
        return x if statistics is None else (x - statistics[0]) / statistics[1]

    return (prepare, steps, model.data.info.features) if steps else None


def _statistics(path: Path):
    """The mean and the standard deviation a run standardized its training data with."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as saved:
            return saved["mean"], saved["std"]
    except FileNotFoundError:
        raise PredictError(f"{path}: missing: the run standardized its samples with it") from None
    except OSError as err:
        raise PredictError(f"{path}: cannot read it: {err.strerror or err}") from None
    except (ValueError, KeyError, EOFError, AttributeError, zipfile.BadZipFile) as err:
        raise PredictError(f"{path}: damaged ({type(err).__name__}: {err})") from None


def _is_classifier(model, task: str | None) -> bool:
    if task is not None:
        return task == "classification"
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    name = getattr(activation, "__name__", "")
    return name in ("softmax", "sigmoid") or type(last).__name__ == "Softmax"


def predict_file(model_path: str, input_path: str, prepared: bool = False):
    """CSV text: one row per sample; probabilities and the class for classifiers;
    and the preprocessing steps applied to the samples (a run's, unless `prepared`)."""
    import os
    from importlib.util import find_spec

    for module in ("tensorflow", "keras"):  # a light install is told so first
        if find_spec(module) is None:
            raise ModuleNotFoundError(f"No module named {module!r}", name=module)
    path, classes, task = _model_file(Path(model_path))  # checked before TensorFlow loads
    samples = read_samples(Path(input_path))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as err:  # noqa: BLE001  (a damaged file fails anywhere in Keras)
        cause = str(err).strip() or type(err).__name__
        raise PredictError(f"{path}: cannot load the model: {cause}") from None
    if len(model.inputs) > 1 or len(model.outputs) > 1:
        raise PredictError(
            f"{path}: `nnspec predict` feeds one array to a model with one input and one "
            f"output; this model has {len(model.inputs)} inputs and {len(model.outputs)} outputs",
            ["a spec's `predict` statement writes the test predictions of every output"],
        )
    found = None
    if not prepared and Path(model_path).is_dir():
        found = run_preprocessing(Path(model_path))
    if found is not None:
        prepare, steps, raw = found
        samples = prepare(_shaped(samples, raw))
    want = tuple(model.inputs[0].shape[1:])
    samples = _shaped(samples, want)
    got = samples.shape[1:]
    if len(got) != len(want) or any(w is not None and w != g for w, g in zip(want, got)):
        raise PredictError(
            f"{input_path}: samples have shape {got}, the model expects {want}"
            + ("" if found is None else " after the run's preprocessing")
        )
    outputs = np.asarray(model.predict(samples, verbose=0)).reshape(len(samples), -1)
    if classes is None and _is_classifier(model, task):
        classes = [str(i) for i in range(max(outputs.shape[1], 2))]
    namespace: dict = {}
    exec(compile(render_predictions(), "<nnspec predictions>", "exec"), namespace)  # noqa: S102
    header, rows = namespace["prediction_rows"](outputs, classes if task != "regression" else None)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue(), ([] if found is None else found[1])


def _shaped(samples, shape):
    """Flat rows (a CSV's) in `shape`, where their size says they are."""
    import numpy as np

    flat = samples.ndim == 2 and shape and len(shape) > 1 and None not in shape
    if flat and samples.shape[1] == int(np.prod(shape)):
        return samples.reshape(len(samples), *shape)
    return samples
