"""`nnspec check` and `nnspec summary` on an imported ResNet50, against Keras.

    python bench/import_resnet.py              # 5 interleaved rounds
    python bench/import_resnet.py --rounds 9
    PYTHONPATH=OTHER_TREE python bench/import_resnet.py   # measure another checkout

Builds `keras.applications.ResNet50(weights=None)` once, saves its config
(`model.to_json()`) to a temporary folder and imports it with `nnspec import`
(timed too). Then times, as whole processes (interpreter start included), in
interleaved rounds (bench/measure.py), wall and CPU time:

- `nnspec check resnet50.nn`
- `nnspec summary resnet50.nn`
- `python -c "import keras; keras.applications.ResNet50(weights=None)"`

and prints the medians and the ratios of the rounds. It also checks that the
imported spec's parameter count is Keras's. A benchmark, not a test: it prints
figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import measure
from measure import interleaved, section, spread, table

KERAS_BUILD = "import keras; keras.applications.ResNet50(weights=None)"
SAVE_CONFIG = """
import sys, keras
model = keras.applications.ResNet50(weights=None)
open(sys.argv[1], "w").write(model.to_json())
print(model.count_params())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    args = parser.parse_args()
    print(f"tree measured: {measure.TREE}\n")
    with tempfile.TemporaryDirectory() as tmp, section("ResNet50, whole processes"):
        config, spec = Path(tmp) / "resnet50.json", Path(tmp) / "resnet50.nn"
        _, saved = measure.process([sys.executable, "-c", SAVE_CONFIG, str(config)])
        keras_params = int(saved.stdout.split()[-1])
        imported, _ = measure.process([*measure.NNSPEC, "import", str(config), "-o", str(spec)])
        summaries = []

        def summary() -> measure.Sample:
            sample, done = measure.process(
                [*measure.NNSPEC, "summary", "--format", "json", str(spec)]
            )
            summaries.append(done.stdout)
            return sample

        samples = interleaved(
            {
                "nnspec check resnet50.nn": lambda: measure.process(
                    [*measure.NNSPEC, "check", str(spec)]
                )[0],
                "nnspec summary resnet50.nn": summary,
                "python -c 'import keras; ResNet50(weights=None)'": lambda: measure.process(
                    [sys.executable, "-c", KERAS_BUILD]
                )[0],
            },
            args.rounds,
        )
        params = json.loads(summaries[-1])["total_params"]
        print(
            f"   parameters: {params:,} in nnspec, {keras_params:,} in Keras: "
            f"{'same' if params == keras_params else 'DIFFERENT'}"
        )
        rows = [
            [
                "nnspec import resnet50.json (one run)",
                f"{imported.wall * 1e3:.0f}",
                f"{imported.cpu * 1e3:.0f}",
            ]
        ]
        rows += [
            [name, spread(measure.walls(s)).show(1e3, 0), spread(measure.cpus(s)).show(1e3, 0)]
            for name, s in samples.items()
        ]
        table([f"median [min-max] of {args.rounds} rounds", "wall ms", "CPU ms"], rows)
        check, summary_samples, keras = samples.values()
        for name, ours in (("check", check), ("summary", summary_samples)):
            wall = measure.ratio(measure.walls(keras), measure.walls(ours))
            cpu = measure.ratio(measure.cpus(keras), measure.cpus(ours))
            print(f"   Keras build / {name}: wall {wall.show()}x, CPU {cpu.show()}x")


if __name__ == "__main__":
    main()
