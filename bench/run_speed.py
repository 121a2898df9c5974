"""`nnspec run` against the hand-written seed script: throughput, start-up, quality.

    python bench/run_speed.py                        # 60,000 samples, 3 epochs, 3 pairs
    python bench/run_speed.py --epochs 2 --samples 6000 --pairs 2   # a quick proof
    python bench/run_speed.py --data-dir DIR         # DIR holds mnist.npz (else
                                                     # NNSPEC_DATA_DIR, else ../shared/data)

(1) Throughput: both train the MNIST CNN (specs/mnist_cnn.nn; bench/handwritten_mnist_cnn.py)
    on the same float32 arrays, seed, batch size and epochs, as whole processes in
    interleaved pairs (bench/measure.py). bench/timed_fit.py times the training batches
    of each epoch in both; the first epoch (tracing) and validation are left out.
    Target: the median of the pairs' nnspec / script samples/s >= 0.97.
(2) Quality (full size, real MNIST only): specs/mnist_cnn.nn for the seed's 5 epochs
    reaches >= 98.5% test accuracy; specs/digits_classifier.nn on scikit-learn's
    digits always.
(3) Start-up: command to end of a 1-epoch run on 256 samples, both tools, interleaved.

Without MNIST the arrays are random stand-ins of MNIST's shape: (1) and (3) still hold,
(2) reports digits only. A benchmark, not a test: it prints figures and PASS/FAIL.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
from pathlib import Path

import measure
from measure import Sample, interleaved, section, spread, table

TARGET_RATIO = 0.97
TARGET_ACCURACY = 0.985
FULL = 60_000
TIMED_FIT = str(measure.ROOT / "bench" / "timed_fit.py")
HANDWRITTEN = str(measure.ROOT / "bench" / "handwritten_mnist_cnn.py")


def find_mnist(explicit: str | None) -> Path | None:
    default = measure.ROOT.parent / "shared" / "data"
    for folder in (explicit, os.environ.get("NNSPEC_DATA_DIR"), default):
        if folder and (Path(folder) / "mnist.npz").is_file():
            return Path(folder)
    return None


def stand_in(folder: Path) -> Path:
    import numpy as np

    rng = np.random.default_rng(0)
    np.savez(
        folder / "mnist.npz",
        x_train=rng.integers(0, 256, (60000, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, 60000, dtype=np.uint8),
        x_test=rng.integers(0, 256, (10000, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, 10000, dtype=np.uint8),
    )
    return folder


def nnspec_args(data: Path, epochs: int, limit: int, out: Path, spec="mnist_cnn.nn") -> list:
    args = ["-m", "nnspec.cli", "run", f"specs/{spec}", "--epochs", str(epochs)]
    args += ["--seed", "0", "--quiet", "--out", str(out), "--data-dir", str(data)]
    return args + (["--set", f"data.limit={limit}"] if limit < FULL else [])


def script_args(data: Path, epochs: int, limit: int) -> list:
    args = [HANDWRITTEN, "--data", str(data / "mnist.npz"), "--epochs", str(epochs)]
    return args + ["--seed", "0"] + (["--limit", str(limit)] if limit < FULL else [])


def fit_run(args: list, record: Path, runs: list) -> Sample:
    """One whole training process under bench/timed_fit.py; its fit record joins `runs`."""
    sample, _ = measure.process([sys.executable, TIMED_FIT, str(record), *args])
    runs.append(json.loads(record.read_text()))
    return sample


def rates(runs: list[dict]) -> tuple[list[float], list[float]]:
    """Samples per second (wall) and CPU ms per 1,000 samples of each run, first epoch out."""
    per_wall, per_cpu = [], []
    for run in runs:
        later = run["epochs"][1:]
        trained = run["samples"] * len(later)
        per_wall.append(trained / sum(e["wall"] for e in later))
        per_cpu.append(sum(e["cpu"] for e in later) / trained * 1e6)
    return per_wall, per_cpu


def throughput(data: Path, tmp: Path, epochs: int, samples: int, pairs: int) -> None:
    """(1): interleaved pairs of training processes, timed inside `Model.fit`."""
    fits: dict[str, list[dict]] = {"script": [], "nnspec": []}
    outs = (tmp / f"throughput{i}" for i in itertools.count())
    interleaved(
        {
            "script": lambda: fit_run(
                script_args(data, epochs, samples), tmp / "fit.json", fits["script"]
            ),
            "nnspec": lambda: fit_run(
                nnspec_args(data, epochs, samples, next(outs)), tmp / "fit.json", fits["nnspec"]
            ),
        },
        pairs,
    )
    rows, speed = [], {}
    for tool, runs in fits.items():
        speed[tool], cpu = rates(runs)
        first = [run["epochs"][0]["wall"] for run in runs]
        dtypes = {" ".join(run["dtypes"]) for run in runs}
        trained = {run["samples"] for run in runs}
        rows.append(
            [
                tool,
                spread(speed[tool]).show(digits=0),
                spread(cpu).show(digits=1),
                spread(first).show(digits=1),
                ", ".join(sorted(dtypes)),
                ", ".join(map(str, trained)),
            ]
        )
    table(
        ["tool", "samples/s", "CPU ms / 1,000 samples", "first epoch s", "x, y dtypes", "samples"],
        rows,
    )
    print(f"   epochs 2 to {epochs}, training batches only (tracing epoch and validation left out)")
    ratio = measure.ratio(speed["nnspec"], speed["script"])
    print(
        f"   nnspec / script samples/s, per pair: {ratio.show(digits=3)}   target >= "
        f"{TARGET_RATIO}: {measure.verdict(ratio.median >= TARGET_RATIO)}"
    )


def quality(data: Path, tmp: Path, real: bool, full: bool) -> None:
    """(2): test accuracy of the MNIST CNN (full size, real MNIST) and of the digits."""
    if real and full:
        out = tmp / "quality"
        measure.process([sys.executable, *nnspec_args(data, 5, FULL, out)])
        accuracy = json.loads((out / "metrics.json").read_text())["accuracy"]
        print(
            f"   MNIST CNN, 5 epochs: test accuracy {accuracy:.4f}   target >= "
            f"{TARGET_ACCURACY}: {measure.verdict(accuracy >= TARGET_ACCURACY)}"
        )
    else:
        print(f"   MNIST CNN: skipped ({'fewer samples' if real else 'no mnist.npz here'})")
    out = tmp / "digits"
    measure.process(
        [*measure.NNSPEC, "run", "specs/digits_classifier.nn", "--quiet", "--out", str(out)]
    )
    accuracy = json.loads((out / "metrics.json").read_text())["accuracy"]
    print(f"   digits classifier (specs/digits_classifier.nn): test accuracy {accuracy:.4f}")


def startup(data: Path, tmp: Path, rounds: int) -> None:
    """(3): whole 1-epoch runs on 256 samples, interleaved."""
    outs = (tmp / f"startup{i}" for i in itertools.count())
    samples = interleaved(
        {
            "script": lambda: measure.process([sys.executable, *script_args(data, 1, 256)])[0],
            "nnspec": lambda: measure.process(
                [sys.executable, *nnspec_args(data, 1, 256, next(outs))]
            )[0],
        },
        rounds,
    )
    rows = [
        [tool, spread(measure.walls(s)).show(digits=2), spread(measure.cpus(s)).show(digits=2)]
        for tool, s in samples.items()
    ]
    table(["1-epoch run, 256 samples", "wall s", "CPU s"], rows)
    for label, of in (("wall", measure.walls), ("CPU", measure.cpus)):
        ratio = measure.ratio(of(samples["nnspec"]), of(samples["script"]))
        print(f"   nnspec / script, {label}: {ratio.show(digits=2)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir")
    parser.add_argument("--epochs", type=int, default=3, help="epochs (>= 2: the first is out)")
    parser.add_argument("--samples", type=int, default=FULL, help="training samples")
    parser.add_argument("--pairs", type=int, default=3, help="interleaved pairs of runs")
    args = parser.parse_args()
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first (tracing) epoch is not counted")
    tmp = Path(tempfile.mkdtemp(prefix="nnspec-bench-"))
    data = find_mnist(args.data_dir)
    real = data is not None
    data = data or stand_in(tmp)
    print(f"tree measured: {measure.TREE}")
    print(f"data: {'MNIST from ' + str(data) if real else 'random stand-in of MNIST shape'}")
    print(f"training samples: {args.samples:,}; {args.epochs} epochs; {args.pairs} pairs\n")
    with section("(1) training throughput, median [min-max] of interleaved pairs"):
        throughput(data, tmp, args.epochs, args.samples, args.pairs)
    with section("(2) quality"):
        quality(data, tmp, real, args.samples >= FULL)
    with section("(3) start-up, median [min-max] of interleaved pairs"):
        startup(data, tmp, args.pairs)


if __name__ == "__main__":
    main()
