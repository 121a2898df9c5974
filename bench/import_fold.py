"""`nnspec import` of keras.applications models: folded against flat.

    python bench/import_fold.py                # DenseNet121, 5 interleaved rounds
    python bench/import_fold.py --rounds 9 --models DenseNet121 ResNet50 MobileNetV2
    PYTHONPATH=OTHER_TREE python bench/import_fold.py   # measure another checkout

Builds each model with `weights=None` once and saves it with `model.save` to a
`.keras` file in a temporary folder. Then times, as whole processes (interpreter
start included), in interleaved rounds (bench/measure.py), wall and CPU time:

- `nnspec import MODEL.keras` (folded into blocks and loops; target: DenseNet121
  under 2 s)
- `nnspec import --flat MODEL.keras`

and prints the medians, the line count of each spec, and whether the folded
spec's parameter count is Keras's. A benchmark, not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import measure
from measure import interleaved, section, spread, table

SAVE = """
import sys, keras
model = getattr(keras.applications, sys.argv[1])(weights=None)
model.save(sys.argv[2])
print(model.count_params())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--models", nargs="+", default=["DenseNet121"], help="applications")
    args = parser.parse_args()
    print(f"tree measured: {measure.TREE}\n")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            with section(f"{name}: nnspec import, whole processes"):
                _bench(name, Path(tmp), args.rounds)


def _bench(name: str, tmp: Path, rounds: int) -> None:
    saved = tmp / f"{name}.keras"
    _, done = measure.process([sys.executable, "-c", SAVE, name, str(saved)])
    keras_params = int(done.stdout.split()[-1])
    specs = {"folded": tmp / f"{name}.nn", "flat": tmp / f"{name}.flat.nn"}
    commands = {
        f"nnspec import {name}.keras": [*measure.NNSPEC, "import", str(saved)],
        f"nnspec import --flat {name}.keras": [*measure.NNSPEC, "import", "--flat", str(saved)],
    }
    for (label, command), spec in zip(commands.items(), specs.values()):
        commands[label] = [*command, "-o", str(spec)]
    samples = interleaved(
        {label: (lambda c=command: measure.process(c)[0]) for label, command in commands.items()},
        rounds,
    )
    rows = [
        [label, spread(measure.walls(s)).show(1e3, 0), spread(measure.cpus(s)).show(1e3, 0)]
        for label, s in samples.items()
    ]
    table([f"median [min-max] of {rounds} rounds", "wall ms", "CPU ms"], rows)
    _, summary = measure.process(
        [*measure.NNSPEC, "summary", "--format", "json", str(specs["folded"])]
    )
    params = json.loads(summary.stdout)["total_params"]
    lines = {kind: len(path.read_text().splitlines()) for kind, path in specs.items()}
    print(f"   lines: {lines['folded']} folded, {lines['flat']} flat")
    print(
        f"   parameters: {params:,} in the folded spec, {keras_params:,} in Keras: "
        f"{'same' if params == keras_params else 'DIFFERENT'}"
    )


if __name__ == "__main__":
    main()
