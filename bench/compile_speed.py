"""How fast nnspec checks specs, and how that compares with building the model in Keras.

    python bench/compile_speed.py            # full run (imports Keras in a subprocess)
    python bench/compile_speed.py --quick    # no Keras, no 10,000-layer size
    python bench/compile_speed.py --profile  # add a cProfile of the largest graph spec

Generates specs of 10 to 10,000 layers, as a plain chain (a sequential block) and
as a graph (named layers, residual `Add` merges when Add is registered), and
times parse + check (`nnspec.compiler.compile_text`, best of a few repeats) and
peak memory (tracemalloc). Then times `nnspec check specs/` as a subprocess
against a subprocess that builds equivalent models in Keras.
This is a benchmark, not a test: it prints figures and PASS/FAIL against targets.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nnspec.check.pipeline import compile_text  # noqa: E402
from nnspec.vocab.layers import LAYERS  # noqa: E402

SIZES = (10, 100, 1_000, 10_000)
TARGET_10K_S = 1.0
TARGET_SPECS_S = 0.5
WIDTH = 64

# (layer type, nnspec call, Keras expression): the repeating pattern of the chain.
CHAIN_PATTERN = (
    ("Dense", f"Dense({WIDTH}, activation=relu)", f"L.Dense({WIDTH}, activation='relu')"),
    ("Dropout", "Dropout(0.1)", "L.Dropout(0.1)"),
    ("Dense", f"Dense({WIDTH})", f"L.Dense({WIDTH})"),
    ("Activation", "Activation(tanh)", "L.Activation('tanh')"),
    ("LeakyReLU", "LeakyReLU(0.2)", "L.LeakyReLU(0.2)"),
)

MNIST_CNN_KERAS = """[
    keras.Input((28, 28, 1)),
    L.Conv2D(32, (3, 3), activation='relu'),
    L.MaxPooling2D((2, 2)),
    L.Conv2D(64, (3, 3), activation='relu'),
    L.MaxPooling2D((2, 2)),
    L.Flatten(),
    L.Dense(128, activation='relu'),
    L.Dense(10, activation='softmax'),
]"""

KERAS_SCRIPT = """
import json, sys, time
sys.setrecursionlimit(100_000)  # Keras maps the layer graph recursively
t0 = time.perf_counter()
import keras
from keras import layers as L
t1 = time.perf_counter()
pattern = [lambda: {pattern}]
chain = keras.Sequential([keras.Input(({width},))] + [pattern[i % len(pattern)]() for i in range({n})])
chain_params = chain.count_params()
t2 = time.perf_counter()
cnn = keras.Sequential({cnn})
cnn_params = cnn.count_params()
t3 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "chain_s": t2 - t1, "cnn_s": t3 - t2,
                  "chain_params": chain_params, "cnn_params": cnn_params}}))
"""


# ---- spec generators ---------------------------------------------------------------


def chain_pattern() -> list[tuple[str, str, str]]:
    """The chain pattern, limited to the layer types registered now."""
    return [row for row in CHAIN_PATTERN if row[0] in LAYERS]


def chain_calls(n: int) -> list[tuple[str, str]]:
    """n layers cycling through the pattern: (nnspec call, Keras expression)."""
    pattern = chain_pattern()
    return [pattern[i % len(pattern)][1:] for i in range(n)]


def chain_spec(n: int) -> str:
    """A sequential block of n layers."""
    body = "\n".join(f"    {call}" for call, _ in chain_calls(n))
    return f'model chain_{n} "generated chain"\ninput x: ({WIDTH},)\nsequential {{\n{body}\n}}\n'


def graph_spec(n: int) -> str:
    """n named layers; with Add registered, residual blocks `[b, prev] -> add`.

    A block is `prev -> dense_a -> dense_b`, `[dense_b, prev] -> add -> act`:
    four layers, the activation output feeding the next block.
    """
    residual = "Add" in LAYERS
    defs, edges, prev, i = [], [], "x", 0
    while n - i >= (4 if residual else 1):
        if residual:
            a, b, add, act = f"d{i}", f"d{i + 1}", f"add{i + 2}", f"act{i + 3}"
            defs += [
                f"{a} = Dense({WIDTH}, activation=relu)",
                f"{b} = Dense({WIDTH})",
                f"{add} = Add()",
                f"{act} = Activation(relu)",
            ]
            edges += [f"{prev} -> {a} -> {b}", f"[{b}, {prev}] -> {add} -> {act}"]
            prev, i = act, i + 4
        else:
            defs.append(f"d{i} = Dense({WIDTH}, activation=relu)")
            edges.append(f"{prev} -> d{i}")
            prev, i = f"d{i}", i + 1
    while i < n:  # the remainder, as a plain chain
        defs.append(f"d{i} = Dense({WIDTH})")
        edges.append(f"{prev} -> d{i}")
        prev, i = f"d{i}", i + 1
    body = "\n".join(f"    {line}" for line in defs + [""] + edges)
    return f'model graph_{n} "generated graph"\ninput x: ({WIDTH},)\ngraph {{\n{body}\n}}\n'


def keras_script(n: int) -> str:
    """A script building the n-layer chain and the MNIST CNN in Keras, printing JSON."""
    pattern = ", lambda: ".join(row[2] for row in chain_pattern())
    return KERAS_SCRIPT.format(width=WIDTH, pattern=pattern, n=n, cnn=MNIST_CNN_KERAS)


# ---- measuring -------------------------------------------------------------------------


def check_once(text: str, layers: int) -> float:
    """Seconds for one parse + check; fails loudly if the spec is not clean."""
    start = time.perf_counter()
    result = compile_text(text)
    elapsed = time.perf_counter() - start
    if not result.ok:
        first = result.errors[0]
        raise SystemExit(f"generated spec does not check: {first.code} {first.message}")
    if len(result.model.nodes) != layers:
        raise SystemExit(f"expected {layers} layers, found {len(result.model.nodes)}")
    return elapsed


def best_time(text: str, layers: int, repeats: int) -> float:
    return min(check_once(text, layers) for _ in range(repeats))


def gc_seconds(text: str) -> float:
    """Seconds the garbage collector runs during one parse + check."""
    spent, started = [0.0], [0.0]

    def hook(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]

    gc.collect()
    gc.callbacks.append(hook)
    try:
        compile_text(text)
    finally:
        gc.callbacks.remove(hook)
    return spent[0]


def peak_mib(text: str) -> float:
    tracemalloc.start()
    try:
        compile_text(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def run_best(cmd: list[str], repeats: int, env=None) -> tuple[float, subprocess.CompletedProcess]:
    """Best wall time of a subprocess over `repeats` runs, and its last result."""
    best, proc = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
        best = min(best, time.perf_counter() - start)
    return best, proc


def nnspec_command() -> list[str]:
    exe = Path(sys.executable).parent / "nnspec"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "nnspec.cli"]


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# ---- sections of the report ------------------------------------------------------------


def scaling(sizes: tuple[int, ...], repeats: int) -> dict[tuple[str, int], float]:
    """Print the size table; return the best seconds per (kind, size)."""
    print(
        f"{'layers':>7} {'kind':<6} {'seconds':>9} {'us/layer':>9} {'peak MiB':>9} "
        f"{'growth':>7} {'gc share':>9}"
    )
    times: dict[tuple[str, int], float] = {}
    for kind, make in (("chain", chain_spec), ("graph", graph_spec)):
        previous = None
        for n in sizes:
            text = make(n)
            reps = repeats if n < 10_000 else max(1, min(repeats, 3))
            seconds = best_time(text, n, reps)
            times[(kind, n)] = seconds
            growth = f"{seconds / previous:7.1f}" if previous else f"{'-':>7}"
            share = gc_seconds(text) / seconds
            print(
                f"{n:>7} {kind:<6} {seconds:9.4f} {seconds / n * 1e6:9.1f} "
                f"{peak_mib(text):9.2f} {growth} {share:9.0%}"
            )
            previous = seconds
    return times


def specs_check(repeats: int) -> float:
    seconds, proc = run_best([*nnspec_command(), "check", "specs/"], repeats)
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    print(f"nnspec check specs/ (subprocess, best of {repeats}): {seconds:.3f} s")
    print(f"  exit status {proc.returncode}: {tail}")
    return seconds


def keras_comparison(specs_seconds: float, repeats: int) -> None:
    """Keras building the 1,000-layer chain and the MNIST CNN, against nnspec."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    seconds, proc = run_best([sys.executable, "-c", keras_script(1_000)], repeats, env)
    if proc.returncode != 0:
        print(f"Keras comparison skipped: {proc.stderr.strip().splitlines()[-1:]}")
        return
    inside = json.loads(proc.stdout.strip().splitlines()[-1])
    with tempfile.TemporaryDirectory() as tmp:
        chain_file = Path(tmp) / "chain_1000.nn"
        chain_file.write_text(chain_spec(1_000))
        cmd = [*nnspec_command(), "check", str(chain_file), str(ROOT / "specs/mnist_cnn.nn")]
        same, same_proc = run_best(cmd, repeats)
    print(f"Keras build (subprocess, best of {repeats}): {seconds:.3f} s")
    print(
        f"  inside: import {inside['import_s']:.3f} s, 1,000-layer chain {inside['chain_s']:.3f} s "
        f"({inside['chain_params']:,} params), MNIST CNN {inside['cnn_s']:.3f} s "
        f"({inside['cnn_params']:,} params)"
    )
    print(
        f"nnspec check of the same two models (subprocess, best of {repeats}): {same:.3f} s "
        f"(exit {same_proc.returncode})"
    )
    ours = (
        compile_text(chain_spec(1_000)).model.weights.total,
        compile_text((ROOT / "specs/mnist_cnn.nn").read_text()).model.weights.total,
    )
    agree = ours == (inside["chain_params"], inside["cnn_params"])
    print(f"  nnspec counts {ours[0]:,} and {ours[1]:,} params: {'same' if agree else 'DIFFERENT'}")
    print(f"ratio Keras / nnspec check specs/: {seconds / specs_seconds:.1f}x")
    print(f"ratio Keras / nnspec check of the same models: {seconds / same:.1f}x")


def profile(kind: str, n: int, top: int = 20) -> None:
    """cProfile of parse + check of the n-layer spec of `kind`, by own and cumulative time."""
    text = (chain_spec if kind == "chain" else graph_spec)(n)
    print(f"---- profile: {n:,}-layer {kind} ----")
    compile_text(text)  # warm caches
    prof = cProfile.Profile()
    prof.enable()
    compile_text(text)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top)
    print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip Keras and the 10,000 size")
    parser.add_argument("--repeats", type=int, default=5, help="timing repeats per size")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest specs")
    args = parser.parse_args(argv)
    sizes = SIZES[:-1] if args.quick else SIZES

    start = time.perf_counter()
    compile_text(chain_spec(10))  # builds (or loads) the Lark parser
    print(f"first compile (parser construction included): {time.perf_counter() - start:.3f} s")
    print(f"chain pattern: {', '.join(row[1] for row in chain_pattern())}")
    print(f"graph: residual Add blocks: {'yes' if 'Add' in LAYERS else 'no (Add not registered)'}")
    print()
    times = scaling(sizes, args.repeats)
    print()
    specs_seconds = specs_check(3)
    if not args.quick:
        print()
        keras_comparison(specs_seconds, 3)

    print("\ntargets:")
    largest = sizes[-1]
    scaled = "" if largest == 10_000 else " (10,000 under 1 s, scaled linearly)"
    passed = []
    for kind in ("chain", "graph"):
        seconds = times[(kind, largest)]
        limit = TARGET_10K_S * largest / 10_000
        passed.append(seconds < limit)
        print(
            f"  {largest:,}-layer {kind} under {limit:g} s{scaled}: {seconds:.3f} s "
            f"{verdict(passed[-1])}"
        )
    passed.append(specs_seconds < TARGET_SPECS_S)
    print(
        f"  nnspec check specs/ under {TARGET_SPECS_S} s: {specs_seconds:.3f} s "
        f"{verdict(passed[-1])}"
    )
    if not all(passed) and not args.profile:
        print("  (run with --profile to see where the time goes)")
    if args.profile:
        for kind in ("chain", "graph"):
            print()
            profile(kind, largest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
