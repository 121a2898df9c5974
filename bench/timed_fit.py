"""Run a Python program or module and report how long `Model.fit` took.

    python bench/timed_fit.py OUT.json -m nnspec.cli run spec.nn ...
    python bench/timed_fit.py OUT.json script.py --epochs 2

The same instrumentation wraps both sides of `bench/run_speed.py`, so start-up,
data loading and evaluation stay out of the throughput figure.
"""

import json
import runpy
import sys
import time

import keras

out, *target = sys.argv[1:]
fit = keras.Model.fit
spent = []


def timed(self, *args, **kwargs):
    start = time.perf_counter()
    try:
        return fit(self, *args, **kwargs)
    finally:
        spent.append(time.perf_counter() - start)
        with open(out, "w") as f:
            json.dump({"fit_s": sum(spent)}, f)


keras.Model.fit = timed
if target[0] == "-m":
    sys.argv = [target[1], *target[2:]]
    runpy.run_module(target[1], run_name="__main__")
else:
    sys.argv = target
    runpy.run_path(target[0], run_name="__main__")
