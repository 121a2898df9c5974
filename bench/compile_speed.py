"""How fast nnspec checks specs: in process, as a whole command, and against Keras.

    python bench/compile_speed.py            # full run (imports Keras in a subprocess)
    python bench/compile_speed.py --quick    # no Keras, no 10,000-layer size
    python bench/compile_speed.py --profile  # add a cProfile of the largest specs
    PYTHONPATH=OTHER_TREE python bench/compile_speed.py   # measure another checkout

(1) Parse + check (`compile_text`) of generated specs of 10 to 10,000 layers, as a
    plain chain (a sequential block), as a graph (residual `Add` blocks written out)
    and as the same residual block written once and repeated by a loop, with
    the garbage collector off (as the CLI runs) and on, in interleaved pairs: the
    gc share is 1 - off/on. Peak memory from tracemalloc. Then specs/resnet50.nn
    with ResNet152's stages (3, 8, 36, 3), the depth of keras.applications.ResNet152.
(2) Whole processes, interleaved: `python -c pass` (the interpreter's floor),
    importing the libraries `check` runs on (click, Lark, msgspec: its floor),
    `nnspec check` of one small spec (budget: 60 ms; nnspec's own share above its
    floor: 40 ms), `nnspec check specs/`; then the largest imports of
    `python -X importtime -m nnspec.cli check`.
(3) Building the same two models (the 1,000-layer chain, the MNIST CNN) in Keras
    against checking them with nnspec: whole processes, and the build alone
    against `compile_text` in process.
Every figure is a median with its range over the rounds (bench/measure.py).
This is a benchmark, not a test: it prints figures and PASS/FAIL against targets.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import io
import json
import pstats
import sys
import tempfile
import tracemalloc
from pathlib import Path

import measure
from measure import Sample, interleaved, section, spread, table

from nnspec.check.pipeline import compile_text

SIZES = (10, 100, 1_000, 10_000)
TARGET_10K_S = 1.0
TARGET_10K_BLOCKS_S = 0.6  # 10,000 layers made by expanding blocks
RESNET152_STAGES = ("(3, 128, 4, 2), (4, 256, 6, 2)", "(3, 128, 8, 2), (4, 256, 36, 2)")
RESNET152_PARAMS = 60_419_944  # keras.applications.ResNet152(weights=None).count_params()
TARGET_SPECS_S = 0.5
TARGET_ONE_S = 0.060
TARGET_OWN_S = 0.040
CHECK_DEPENDENCIES = ("click", "lark", "msgspec")  # what `nnspec check` cannot start without
ONE_SPEC = "specs/mnist_cnn.nn"
WIDTH = 64

# (nnspec call, Keras expression): the repeating pattern of the chain.
CHAIN_PATTERN = (
    (f"Dense({WIDTH}, activation=relu)", f"L.Dense({WIDTH}, activation='relu')"),
    ("Dropout(0.1)", "L.Dropout(0.1)"),
    (f"Dense({WIDTH})", f"L.Dense({WIDTH})"),
    ("Activation(tanh)", "L.Activation('tanh')"),
    ("LeakyReLU(0.2)", "L.LeakyReLU(0.2)"),
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
import keras
from keras import layers as L
wall, cpu = time.perf_counter(), time.process_time()
pattern = [lambda: {pattern}]
chain = keras.Sequential([keras.Input(({width},))] + [pattern[i % len(pattern)]() for i in range({n})])
cnn = keras.Sequential({cnn})
built = {{"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}}
print(json.dumps({{"build": built, "params": [chain.count_params(), cnn.count_params()]}}))
"""


# ---- spec generators ---------------------------------------------------------------


def chain_spec(n: int) -> str:
    """A sequential block of n layers cycling through the pattern."""
    body = "\n".join(f"    {CHAIN_PATTERN[i % len(CHAIN_PATTERN)][0]}" for i in range(n))
    return f'model chain_{n} "generated chain"\ninput x: ({WIDTH},)\nsequential {{\n{body}\n}}\n'


def graph_spec(n: int) -> str:
    """n named layers in residual blocks `[b, prev] -> add`, the remainder a chain.

    A block is `prev -> dense_a -> dense_b`, `[dense_b, prev] -> add -> act`:
    four layers, the activation output feeding the next block.
    """
    defs, edges, prev, i = [], [], "x", 0
    while n - i >= 4:
        a, b, add, act = f"d{i}", f"d{i + 1}", f"add{i + 2}", f"act{i + 3}"
        defs += [
            f"{a} = Dense({WIDTH}, activation=relu)",
            f"{b} = Dense({WIDTH})",
            f"{add} = Add()",
            f"{act} = Activation(relu)",
        ]
        edges += [f"{prev} -> {a} -> {b}", f"[{b}, {prev}] -> {add} -> {act}"]
        prev, i = act, i + 4
    while i < n:
        defs.append(f"d{i} = Dense({WIDTH})")
        edges.append(f"{prev} -> d{i}")
        prev, i = f"d{i}", i + 1
    body = "\n".join(f"    {line}" for line in defs + [""] + edges)
    return f'model graph_{n} "generated graph"\ninput x: ({WIDTH},)\ngraph {{\n{body}\n}}\n'


def blocks_spec(n: int) -> str:
    """The residual block of `graph_spec` written once, used n // 4 times by a loop;
    the remainder a chain."""
    rest = "".join(f"    Dense({WIDTH})\n" for _ in range(n % 4))
    return f"""model blocks_{n} "generated repetition"
input x: ({WIDTH},)
block residual(width) {{
    input x
    a = Dense(width, activation=relu)
    b = Dense(width)
    add = Add()
    act = Activation(relu)
    x -> a -> b
    [b, x] -> add -> act
    output act
}}
sequential {{
    for i in range({n // 4}) {{
        "res{{i}}" = residual({WIDTH})
    }}
{rest}}}
"""


def resnet152_spec() -> str:
    """specs/resnet50.nn with the stages of ResNet152."""
    text = (measure.TREE / "specs" / "resnet50.nn").read_text()
    assert RESNET152_STAGES[0] in text, "specs/resnet50.nn no longer lists its stages so"
    return text.replace(*RESNET152_STAGES)


def resnet152(rounds: int) -> float:
    """Print the check of the ResNet152-depth spec; its median CPU seconds."""
    text = resnet152_spec()
    model = compile_text(text).model
    samples = interleaved(
        {"resnet152": functools.partial(compile_sample, text, len(model.nodes), False)}, rounds
    )["resnet152"]
    cpu = spread(measure.cpus(samples))
    same = "same as Keras" if model.weights.total == RESNET152_PARAMS else "NOT KERAS'S"
    print(
        f"   ResNet152 depth (specs/resnet50.nn, stages 3, 8, 36, 3): {len(model.nodes)} layers, "
        f"{model.weights.total:,} parameters ({same}); CPU ms {cpu.show(1e3)}"
    )
    return cpu.median


def keras_script(n: int) -> str:
    """A script building the n-layer chain and the MNIST CNN in Keras, printing JSON."""
    pattern = ", lambda: ".join(keras for _, keras in CHAIN_PATTERN)
    return KERAS_SCRIPT.format(width=WIDTH, pattern=pattern, n=n, cnn=MNIST_CNN_KERAS)


# ---- measuring -------------------------------------------------------------------------


def compiled(text: str, layers: int):
    """The checked model of `text`; exits if the spec is not clean or not `layers` long."""
    result = compile_text(text)
    if not result.ok:
        first = result.errors[0]
        raise SystemExit(f"generated spec does not check: {first.code} {first.message}")
    if len(result.model.nodes) != layers:
        raise SystemExit(f"expected {layers} layers, found {len(result.model.nodes)}")
    return result.model


def compile_sample(text: str, layers: int, collector: bool) -> Sample:
    """One parse + check with the garbage collector on or off, from a collected heap."""
    gc.collect()
    if collector:
        gc.enable()
    else:
        gc.disable()
    try:
        sample, _ = measure.call(compiled, text, layers)
    finally:
        gc.enable()
    return sample


def peak_mib(text: str) -> float:
    tracemalloc.start()
    try:
        compile_text(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def percent(share: measure.Spread) -> str:
    return f"{share.median:.0%} [{share.low:.0%}-{share.high:.0%}]"


# ---- sections of the report ------------------------------------------------------------


def size_row(kind: str, n: int, text: str, rounds: int, previous: float | None):
    """The table row of one spec, collector off and on in interleaved pairs; and the
    median CPU seconds with it off."""
    samples = interleaved(
        {
            "off": functools.partial(compile_sample, text, n, False),
            "on": functools.partial(compile_sample, text, n, True),
        },
        rounds,
    )
    off_cpu, on_cpu = measure.cpus(samples["off"]), measure.cpus(samples["on"])
    off = spread(off_cpu)
    kept = measure.ratio(off_cpu, on_cpu)
    share = measure.Spread(1 - kept.median, 1 - kept.high, 1 - kept.low)
    row = [
        n,
        kind,
        spread(measure.walls(samples["off"])).show(1e3),
        off.show(1e3),
        f"{off.median / n * 1e6:.1f}",
        spread(on_cpu).show(1e3),
        percent(share),
        f"{peak_mib(text):.2f}",
        f"{off.median / previous:.1f}" if previous else "-",
    ]
    return row, off.median


def scaling(sizes: tuple[int, ...], rounds: int) -> dict[tuple[str, int], float]:
    """Print the size table; return the median CPU seconds (collector off) per (kind, size)."""
    rows, cpu_off = [], {}
    for kind, make in (("chain", chain_spec), ("graph", graph_spec), ("blocks", blocks_spec)):
        previous = None
        for n in sizes:
            reps = rounds if n < 10_000 else max(2, min(rounds, 3))
            row, previous = size_row(kind, n, make(n), reps, previous)
            rows.append(row)
            cpu_off[(kind, n)] = previous
    headers = ["layers", "kind", "wall ms", "CPU ms", "CPU us/layer"]
    headers += ["CPU ms gc on", "gc share", "peak MiB", "growth"]
    table(headers, rows)
    print("   collector off (as the CLI runs) unless marked; gc share = 1 - off/on per pair")
    return cpu_off


def importtime(spec: str, top: int = 12) -> None:
    """The largest imports of `nnspec check SPEC`, by cumulative time (nested ones included)."""
    _, done = measure.process(
        [sys.executable, "-X", "importtime", "-m", "nnspec.cli", "check", spec], ok=(0, 1)
    )
    entries = []
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "[us]" not in line:
            own, cumulative, name = line.removeprefix("import time:").split("|")
            entries.append((int(cumulative), int(own), name.strip()))
    entries.sort(reverse=True)
    print(f"   python -X importtime -m nnspec.cli check {spec}: largest of {len(entries)} imports")
    rows = [[name, f"{own:,}", f"{cumulative:,}"] for cumulative, own, name in entries[:top]]
    table(["module", "self us", "cumulative us"], rows)


def processes(rounds: int) -> tuple[float, float, float]:
    """Whole processes, interleaved; the median CPU seconds of one spec, of specs/, and
    of one spec above the import of the libraries `check` is built on."""
    deps = f"import {', '.join(CHECK_DEPENDENCIES)}"
    samples = interleaved(
        {
            "python -c pass": lambda: measure.process([sys.executable, "-c", "pass"])[0],
            f"python -c '{deps}'": lambda: measure.process([sys.executable, "-c", deps])[0],
            f"nnspec check {ONE_SPEC}": lambda: measure.process(
                [*measure.NNSPEC, "check", ONE_SPEC]
            )[0],
            "nnspec check specs/": lambda: measure.process([*measure.NNSPEC, "check", "specs/"])[0],
        },
        rounds,
    )
    rows = [
        [name, spread(measure.walls(s)).show(1e3), spread(measure.cpus(s)).show(1e3)]
        for name, s in samples.items()
    ]
    table(["whole process", "wall ms", "CPU ms"], rows)
    floor, libraries, one, every = samples.values()
    above = measure.ratio(measure.cpus(one), measure.cpus(floor))
    print(f"   check of one spec / python -c pass, CPU: {above.show(digits=2)}")
    own = spread([o.cpu - d.cpu for o, d in zip(one, libraries)])
    print(f"   check of one spec minus '{deps}', CPU ms: {own.show(1e3)}")
    importtime(ONE_SPEC)
    return spread(measure.cpus(one)).median, spread(measure.cpus(every)).median, own.median


def keras_comparison(rounds: int) -> None:
    """Keras building the 1,000-layer chain and the MNIST CNN, against nnspec checking them."""
    texts = [(chain_spec(1_000), 1_000), ((measure.TREE / ONE_SPEC).read_text(), 7)]
    builds, params = [], []

    def keras() -> Sample:
        sample, done = measure.process([sys.executable, "-c", keras_script(1_000)])
        inside = json.loads(done.stdout.strip().splitlines()[-1])
        builds.append(Sample(**inside["build"]))
        params[:] = inside["params"]
        return sample

    with tempfile.TemporaryDirectory() as tmp:
        chain_file = Path(tmp) / "chain_1000.nn"
        chain_file.write_text(texts[0][0])
        command = [*measure.NNSPEC, "check", str(chain_file), ONE_SPEC]
        samples = interleaved(
            {
                "keras": keras,
                "nnspec": lambda: measure.process(command)[0],
                "compile": lambda: measure.call(lambda: [compiled(*t) for t in texts])[0],
            },
            rounds,
        )
    ours = [compiled(*t).weights.total for t in texts]
    print(
        f"   parameters: Keras {params[0]:,} and {params[1]:,}, nnspec {ours[0]:,} and "
        f"{ours[1]:,}: {'same' if ours == params else 'DIFFERENT'}"
    )
    rows = []
    for label, top, bottom in (
        ("whole process: Keras build / nnspec check", samples["keras"], samples["nnspec"]),
        ("in process: Keras build / compile_text", builds, samples["compile"]),
    ):
        rows.append([label + " (wall)", *keras_row(top, bottom, measure.walls)])
        rows.append([label + " (CPU)", *keras_row(top, bottom, measure.cpus)])
    table(["the same two models", "Keras ms", "nnspec ms", "ratio"], rows)


def keras_row(top: list[Sample], bottom: list[Sample], of) -> list[str]:
    """Medians [ranges] of both sides and the ratio of the pairs."""
    a, b = of(top), of(bottom)
    return [spread(a).show(1e3, 0), spread(b).show(1e3, 0), measure.ratio(a, b).show(digits=1)]


def profile(kind: str, n: int, top: int = 20) -> None:
    """cProfile of parse + check of the n-layer spec of `kind`, by own and cumulative time."""
    text = {"chain": chain_spec, "graph": graph_spec, "blocks": blocks_spec}[kind](n)
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


def targets(
    largest: int, cpu: dict[tuple[str, int], float], one: float, every: float, own: float
) -> None:
    """PASS/FAIL on median CPU time: wall time on a shared machine measures the machine."""
    print("targets (median CPU time):")
    scaled = "" if largest == 10_000 else " (scaled linearly from 10,000)"
    for kind in ("chain", "graph", "blocks"):
        seconds = cpu[(kind, largest)]
        limit = (TARGET_10K_BLOCKS_S if kind == "blocks" else TARGET_10K_S) * largest / 10_000
        print(
            f"   {largest:,}-layer {kind} under {limit:g} s{scaled}: {seconds:.3f} s "
            f"{measure.verdict(seconds < limit)}"
        )
    print(
        f"   nnspec check {ONE_SPEC} under {TARGET_ONE_S * 1e3:g} ms: {one * 1e3:.0f} ms "
        f"{measure.verdict(one < TARGET_ONE_S)}"
    )
    print(
        f"   of which nnspec's own, above importing its libraries, under "
        f"{TARGET_OWN_S * 1e3:g} ms: {own * 1e3:.0f} ms {measure.verdict(own < TARGET_OWN_S)}"
    )
    print(
        f"   nnspec check specs/ under {TARGET_SPECS_S} s: {every:.3f} s "
        f"{measure.verdict(every < TARGET_SPECS_S)}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip Keras and the 10,000 size")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per figure")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest specs")
    args = parser.parse_args(argv)
    sizes = SIZES[:-1] if args.quick else SIZES
    print(f"tree measured: {measure.TREE}")
    first, _ = measure.call(compiled, chain_spec(10), 10)  # builds (or loads) the Lark parser
    print(
        f"first compile (parser built or loaded): wall {first.wall * 1e3:.0f} ms, "
        f"CPU {first.cpu * 1e3:.0f} ms\n"
    )
    with section("(1) parse + check in process, median [min-max]"):
        cpu = scaling(sizes, args.rounds)
        resnet152(args.rounds)
    with section("(2) whole processes, median [min-max] of interleaved rounds"):
        one, every, own = processes(max(args.rounds, 9))
    if not args.quick:
        with section("(3) Keras against nnspec on the same models, interleaved rounds"):
            keras_comparison(max(3, args.rounds // 2 + 1))
    targets(sizes[-1], cpu, one, every, own)
    if args.profile:
        for kind in ("chain", "graph", "blocks"):
            print()
            profile(kind, sizes[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
