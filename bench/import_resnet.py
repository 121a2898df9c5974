"""`nnspec check` and `nnspec summary` on an imported ResNet50, against Keras.

    python bench/import_resnet.py              # 5 repetitions of each process
    python bench/import_resnet.py --repeat 9

Builds `keras.applications.ResNet50(weights=None)` once, saves its config
(`model.to_json()`) to a temporary folder and imports it with `nnspec import`
(timed too). Then times, as whole processes (interpreter start included,
median of the repetitions):

- `nnspec check resnet50.nn`
- `nnspec summary resnet50.nn`
- `python -c "import keras; keras.applications.ResNet50(weights=None)"`

and prints the figures and the ratios, measured in this one run. It also
checks that the imported spec's parameter count is Keras's. A benchmark, not a
test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NNSPEC = [sys.executable, "-m", "nnspec.cli"]
KERAS_BUILD = "import keras; keras.applications.ResNet50(weights=None)"
SAVE_CONFIG = """
import sys, keras
model = keras.applications.ResNet50(weights=None)
open(sys.argv[1], "w").write(model.to_json())
print(model.count_params())
"""
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}


def timed(command: list[str], repeat: int) -> tuple[float, subprocess.CompletedProcess]:
    """Median wall time of `command` over `repeat` runs; the last run's result."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=ENV)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            sys.exit(f"failed: {' '.join(command)}\n{done.stdout}{done.stderr}")
    return statistics.median(times), done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config, spec = Path(tmp) / "resnet50.json", Path(tmp) / "resnet50.nn"
        saved = subprocess.run(
            [sys.executable, "-c", SAVE_CONFIG, str(config)],
            capture_output=True,
            text=True,
            env=ENV,
            check=True,
        )
        keras_params = int(saved.stdout.split()[-1])
        t_import, _ = timed([*NNSPEC, "import", str(config), "-o", str(spec)], 1)
        t_check, _ = timed([*NNSPEC, "check", str(spec)], args.repeat)
        t_summary, summary = timed([*NNSPEC, "summary", "--format", "json", str(spec)], args.repeat)
        t_keras, _ = timed([sys.executable, "-c", KERAS_BUILD], args.repeat)
    params = json.loads(summary.stdout)["total_params"]
    print(f"ResNet50 (weights=None): {params:,} parameters in nnspec, {keras_params:,} in Keras")
    print(f"  {'parameters agree' if params == keras_params else 'PARAMETERS DIFFER'}")
    print(f"median of {args.repeat} runs, whole processes (interpreter start included):")
    rows = [
        ("nnspec import resnet50.json (one run)", t_import),
        ("nnspec check resnet50.nn", t_check),
        ("nnspec summary resnet50.nn", t_summary),
        ("python -c 'import keras; ResNet50(weights=None)'", t_keras),
    ]
    for label, seconds in rows:
        print(f"  {label:<52} {seconds:7.3f} s")
    print(f"  check   is {t_keras / t_check:5.1f}x faster than building the model in Keras")
    print(f"  summary is {t_keras / t_summary:5.1f}x faster than building the model in Keras")


if __name__ == "__main__":
    main()
