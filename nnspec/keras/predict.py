"""`nnspec predict`: a saved model (or a run folder) applied to samples in a
`.npy` or `.csv` file. Imports TensorFlow."""

from __future__ import annotations

import io
import json
from pathlib import Path

from nnspec.errors import NnspecError


class PredictError(NnspecError):
    """Bad model or input file; the message names it."""


def _model_file(path: Path) -> tuple[Path, str | None]:
    """The model file and its task ("classification", ...) when a run says it."""
    if path.is_dir():
        manifest = path / "run.json"
        if not manifest.is_file():
            raise PredictError(f"{path} is not a finished run folder: it has no run.json")
        info = json.loads(manifest.read_text())
        return path / info["model"], info.get("task")
    if path.suffix not in (".keras", ".h5"):
        raise PredictError(f"{path}: expected a .keras or .h5 model, or a run folder")
    return path, None


def read_samples(path: Path):
    import numpy as np

    try:
        if path.suffix == ".npy":
            return np.load(path, allow_pickle=False)
        if path.suffix == ".csv":
            rows = np.genfromtxt(path, delimiter=",", dtype="float32")
            rows = rows.reshape(-1, rows.shape[-1]) if rows.ndim else rows.reshape(1, 1)
            if np.isnan(rows[0]).all():  # a header row
                rows = rows[1:]
            if np.isnan(rows).any():
                row = int(np.argwhere(np.isnan(rows))[0][0]) + 2
                raise PredictError(f"{path}: non-numeric or missing value near line {row}")
            return rows
    except (OSError, ValueError) as err:
        raise PredictError(f"{path}: {err}") from None
    raise PredictError(f"{path}: expected a .npy or .csv file")


def _is_classifier(model, task: str | None) -> bool:
    if task is not None:
        return task == "classification"
    last = model.layers[-1]
    activation = getattr(last, "activation", None)
    name = getattr(activation, "__name__", "")
    return name in ("softmax", "sigmoid") or type(last).__name__ == "Softmax"


def predict_file(model_path: str, input_path: str) -> str:
    """CSV text: one row per sample; probabilities and the class for classifiers."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    path, task = _model_file(Path(model_path))
    try:
        model = keras.models.load_model(path, compile=False)
    except (OSError, ValueError) as err:
        raise PredictError(f"{path}: cannot load the model: {err}") from None
    samples = read_samples(Path(input_path))
    want = tuple(model.inputs[0].shape[1:])
    if samples.ndim == 2 and len(want) > 1 and samples.shape[1] == int(np.prod(want)):
        samples = samples.reshape(len(samples), *want)
    got = samples.shape[1:]
    if len(got) != len(want) or any(w is not None and w != g for w, g in zip(want, got)):
        raise PredictError(
            f"{input_path}: samples have shape {got}, the model expects {want} "
            "(inputs are fed as the model sees them, after the spec's preprocessing)"
        )
    outputs = np.asarray(model.predict(samples, verbose=0)).reshape(len(samples), -1)
    classify = _is_classifier(model, task)
    if classify and outputs.shape[1] == 1:
        header = ["probability", "class"]
        classes = (outputs[:, 0] > 0.5).astype(int)
    elif classify:
        header = [f"p{i}" for i in range(outputs.shape[1])] + ["class"]
        classes = outputs.argmax(axis=1)
    else:
        header = [
            f"y{i}" if outputs.shape[1] > 1 else "prediction" for i in range(outputs.shape[1])
        ]
        classes = None
    buffer = io.StringIO()
    buffer.write(",".join(header) + "\n")
    for i, row in enumerate(outputs):
        cells = [f"{v:.6g}" for v in row]
        if classes is not None:
            cells.append(str(int(classes[i])))
        buffer.write(",".join(cells) + "\n")
    return buffer.getvalue()
