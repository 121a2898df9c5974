"""Run a Python program or module and time the training inside its `Model.fit`.

    python bench/timed_fit.py OUT.json -m nnspec.cli run spec.nn ...
    python bench/timed_fit.py OUT.json script.py --epochs 2

The same instrumentation wraps both sides of `bench/run_speed.py`: a callback,
first in fit's list, times each epoch (wall and CPU) from its start to the start
of its validation, or to its end when it has none, so start-up, data loading,
validation, the other callbacks' epoch-end work and evaluation stay out.
OUT.json also records the training samples and the dtypes of the arrays fed.
"""

import json
import runpy
import sys
import time

import keras

out, *target = sys.argv[1:]
fit = keras.Model.fit
epochs = []


class EpochTimer(keras.callbacks.Callback):
    """Wall and CPU seconds of each epoch's training batches."""

    def __init__(self):
        super().__init__()
        self.started = None

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter(), time.process_time()

    def on_test_begin(self, logs=None):  # fit's validation: the epoch's training is done
        self._close()

    def on_epoch_end(self, epoch, logs=None):
        self._close()

    def _close(self):
        if self.started is not None:
            wall, cpu = self.started
            epochs.append({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu})
            self.started = None


def timed(self, x=None, y=None, *args, **kwargs):
    if kwargs.get("validation_split"):
        sys.exit("timed_fit: validation_split would make the training samples differ from len(x)")
    kwargs["callbacks"] = [EpochTimer(), *(kwargs.get("callbacks") or [])]
    record = {"samples": len(x), "dtypes": [str(x.dtype), str(y.dtype)], "epochs": epochs}
    try:
        return fit(self, x, y, *args, **kwargs)
    finally:
        with open(out, "w") as f:
            json.dump(record, f)


keras.Model.fit = timed
if target[0] == "-m":
    sys.argv = [target[1], *target[2:]]
    runpy.run_module(target[1], run_name="__main__")
else:
    sys.argv = target
    runpy.run_path(target[0], run_name="__main__")
