"""`nnspec run` against the hand-written seed script: throughput, start-up, quality.

    python bench/run_speed.py                 # full: 60,000 samples, epochs as below
    python bench/run_speed.py --quick         # 6,000 training samples
    python bench/run_speed.py --data-dir DIR  # DIR holds mnist.npz (else NNSPEC_DATA_DIR,
                                              # else ../shared/data)

(1) Throughput: both train the MNIST CNN (specs/mnist_cnn.nn; bench/handwritten_mnist_cnn.py)
    on the same arrays, seed, batch size and epochs, as whole processes; bench/timed_fit.py
    times `Model.fit` in both. Runs alternate, best of --repeats, to share the machine's
    noise. Target: nnspec / script >= 0.97.
(2) Quality: specs/mnist_cnn.nn for the seed's 5 epochs reaches >= 98.5% test accuracy
    (real MNIST only); specs/digits_classifier.nn on scikit-learn's digits always.
(3) Start-up: command to end of a 1-epoch run on 256 samples, both tools.

Without MNIST the arrays are random stand-ins of MNIST's shape: (1) and (3) still hold,
(2) reports digits only. A benchmark, not a test: it prints figures and PASS/FAIL.
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
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
TARGET_RATIO = 0.97
TARGET_ACCURACY = 0.985


def find_mnist(explicit: str | None) -> Path | None:
    for folder in (explicit, os.environ.get("NNSPEC_DATA_DIR"), ROOT.parent / "shared" / "data"):
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


def timed(cmd: list[str], fit_file: Path | None = None) -> float:
    """Seconds the command took, or its `Model.fit` took when `fit_file` is given."""
    if fit_file is not None:
        cmd = [sys.executable, str(ROOT / "bench" / "timed_fit.py"), str(fit_file), *cmd[1:]]
    start = time.perf_counter()
    done = subprocess.run(cmd, env=ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr[-2000:]}")
    return json.loads(fit_file.read_text())["fit_s"] if fit_file else elapsed


def nnspec_cmd(data: Path, epochs: int, limit: int | None, out: Path, spec="mnist_cnn.nn"):
    cmd = [sys.executable, "-m", "nnspec.cli", "run", str(ROOT / "specs" / spec)]
    cmd += ["--epochs", str(epochs), "--seed", "0", "--quiet", "--out", str(out)]
    cmd += ["--data-dir", str(data)]
    return cmd + (["--set", f"data.limit={limit}"] if limit else [])


def script_cmd(data: Path, epochs: int, limit: int | None):
    cmd = [sys.executable, str(ROOT / "bench" / "handwritten_mnist_cnn.py")]
    cmd += ["--data", str(data / "mnist.npz"), "--epochs", str(epochs), "--seed", "0"]
    return cmd + (["--limit", str(limit)] if limit else [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--data-dir")
    parser.add_argument("--epochs", type=int, help="epochs timed (default 3, --quick 2)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="nnspec-bench-"))
    data = find_mnist(args.data_dir)
    real = data is not None
    data = data or stand_in(tmp)
    limit = 6000 if args.quick else None
    samples = limit or 60000
    epochs = args.epochs or (2 if args.quick else 3)
    print(f"data: {'MNIST from ' + str(data) if real else 'random stand-in of MNIST shape'}")
    print(f"training samples: {samples:,}; {epochs} epochs; best of {args.repeats}\n")

    runs = iter(range(1000))
    fit_s: dict[str, list[float]] = {"script": [], "nnspec": []}
    for _ in range(args.repeats):
        fit_s["script"].append(timed(script_cmd(data, epochs, limit), tmp / "fit.json"))
        out = tmp / f"run{next(runs)}"
        fit_s["nnspec"].append(timed(nnspec_cmd(data, epochs, limit, out), tmp / "fit.json"))
    throughput = {tool: epochs * samples / min(t) for tool, t in fit_s.items()}
    ratio = throughput["nnspec"] / throughput["script"]
    print("(1) training throughput (samples/s, time in Model.fit)")
    for tool in ("script", "nnspec"):
        times = ", ".join(f"{t:.1f}" for t in fit_s[tool])
        print(f"    {tool:7} {throughput[tool]:10,.0f}   (fit: {times} s)")
    verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
    print(f"    nnspec / script = {ratio:.3f}   target >= {TARGET_RATIO}: {verdict}\n")

    print("(2) quality")
    if real and not args.quick:
        out = tmp / "quality"
        timed(nnspec_cmd(data, 5, None, out))
        accuracy = json.loads((out / "metrics.json").read_text())["accuracy"]
        verdict = "PASS" if accuracy >= TARGET_ACCURACY else "FAIL"
        print(f"    MNIST CNN, 5 epochs: test accuracy {accuracy:.4f}   target >= 0.985: {verdict}")
    else:
        print("    MNIST CNN: skipped (" + ("--quick" if real else "no mnist.npz here") + ")")
    out = tmp / "digits"
    cmd = [sys.executable, "-m", "nnspec.cli", "run", str(ROOT / "specs" / "digits_classifier.nn")]
    timed([*cmd, "--quiet", "--out", str(out)])
    accuracy = json.loads((out / "metrics.json").read_text())["accuracy"]
    print(f"    digits classifier (specs/digits_classifier.nn): test accuracy {accuracy:.4f}\n")

    print("(3) start-up: a 1-epoch run on 256 samples, median of 3")
    startup = {"script": [], "nnspec": []}
    for _ in range(3):
        startup["script"].append(timed(script_cmd(data, 1, 256)))
        startup["nnspec"].append(timed(nnspec_cmd(data, 1, 256, tmp / f"run{next(runs)}")))
    medians = {tool: statistics.median(v) for tool, v in startup.items()}
    for tool, value in medians.items():
        print(f"    {tool:7} {value:.2f} s")
    print(f"    nnspec / script = {medians['nnspec'] / medians['script']:.2f}")


if __name__ == "__main__":
    main()
