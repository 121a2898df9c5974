"""How fast `nnspec gen` writes the script of every spec in specs/.

    python bench/gen_speed.py              # figures, and PASS/FAIL against the target
    python bench/gen_speed.py --profile    # add a cProfile of rendering every spec
    PYTHONPATH=OTHER_TREE python bench/gen_speed.py   # measure another checkout

Whole processes in interleaved rounds (bench/measure.py), wall and CPU time:
  * one Python process that imports nnspec, compiles and renders every spec
    (target: under 1 s), against `nnspec check specs/`, the same specs checked;
    the steps inside it are timed too;
  * `nnspec gen SPEC` once per spec, as a Makefile or a pre-commit hook runs it,
    against `nnspec check SPEC` once per spec.
This is a benchmark, not a test: it prints figures and PASS/FAIL against the target.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

import measure
from measure import Sample, interleaved, section, spread, table

SPECS = [p.relative_to(measure.TREE).as_posix() for p in sorted(measure.TREE.glob("specs/*.nn"))]
TARGET_ALL_S = 1.0

# Runs in the measured process: every step timed from the interpreter's start.
ALL_IN_ONE = """
import json, time
start = time.perf_counter(), time.process_time()
from nnspec.check.pipeline import compile_text
from nnspec.keras.codegen import render_script
def now():
    return time.perf_counter(), time.process_time()
def since(t):
    n = now()
    return {{"wall": n[0] - t[0], "cpu": n[1] - t[1]}}
imported = since(start)
rows = []
for path in {specs!r}:
    t = now()
    model = compile_text(open(path, encoding="utf-8").read()).model
    compiled = since(t)
    t = now()
    script = render_script(model, path)
    rows.append({{"compile": compiled, "render": since(t)}})
print(json.dumps({{"import": imported, "rows": rows}}))
"""

PROFILE = """
import cProfile, pstats
from nnspec.check.pipeline import compile_text
from nnspec.keras.codegen import render_script
models = [(p, compile_text(open(p, encoding="utf-8").read()).model) for p in {specs!r}]
profile = cProfile.Profile()
profile.enable()
for path, model in models:
    render_script(model, path)
profile.disable()
stats = pstats.Stats(profile)
stats.sort_stats("cumulative").print_stats(15)
stats.sort_stats("tottime").print_stats(10)
"""


def each_spec(command: str, per_spec: dict[str, list[Sample]]) -> Sample:
    """`nnspec COMMAND SPEC` for every spec in turn: the sum; each one kept in per_spec."""
    samples = []
    for spec in SPECS:
        sample, _ = measure.process([*measure.NNSPEC, command, spec])
        per_spec.setdefault(spec, []).append(sample)
        samples.append(sample)
    return Sample(sum(s.wall for s in samples), sum(s.cpu for s in samples))


def measured(rounds: int) -> tuple[dict[str, list[Sample]], list[dict], dict]:
    """The four contenders in interleaved rounds; the steps inside the one-process runs;
    `nnspec gen SPEC` by spec."""
    inside, per_spec = [], {}

    def all_in_one() -> Sample:
        sample, done = measure.process([sys.executable, "-c", ALL_IN_ONE.format(specs=SPECS)])
        inside.append(json.loads(done.stdout))
        return sample

    samples = interleaved(
        {
            "one process: gen of every spec": all_in_one,
            "nnspec check specs/": lambda: measure.process([*measure.NNSPEC, "check", "specs/"])[0],
            "nnspec gen SPEC, each spec": lambda: each_spec("gen", per_spec),
            "nnspec check SPEC, each spec": lambda: each_spec("check", {}),
        },
        rounds,
    )
    return samples, inside, per_spec


def step_table(inside: list[dict]) -> None:
    """The steps inside the one-process runs: medians over the rounds."""

    def median(pick) -> str:
        wall = statistics.median(pick(run)["wall"] for run in inside) * 1e3
        cpu = statistics.median(pick(run)["cpu"] for run in inside) * 1e3
        return f"{wall:.1f} / {cpu:.1f}"

    rows = [["import nnspec (compile, codegen)", median(lambda run: run["import"]), ""]]
    for i, spec in enumerate(SPECS):
        rows.append(
            [
                Path(spec).name,
                median(lambda run, i=i: run["rows"][i]["compile"]),
                median(lambda run, i=i: run["rows"][i]["render"]),
            ]
        )
    table(["inside the one process", "compile ms wall / CPU", "render ms wall / CPU"], rows)
    print("   the first render builds the Jinja environment and imports black")


def report(samples: dict[str, list[Sample]], per_spec: dict[str, list[Sample]]) -> float:
    """The tables of whole processes and ratios; the median CPU seconds of the one process."""
    rows = [
        [name, spread(measure.walls(s)).show(1e3, 0), spread(measure.cpus(s)).show(1e3, 0)]
        for name, s in samples.items()
    ]
    table(["whole processes", "wall ms", "CPU ms"], rows)
    rows = [
        [
            Path(spec).name,
            spread(measure.walls(s)).show(1e3, 0),
            spread(measure.cpus(s)).show(1e3, 0),
        ]
        for spec, s in per_spec.items()
    ]
    table(["nnspec gen SPEC", "wall ms", "CPU ms"], rows)
    together, check, each, check_each = samples.values()
    rows = []
    for label, top, bottom in (
        ("gen / check, every spec in one process", together, check),
        ("gen / check, one process per spec", each, check_each),
    ):
        rows.append(
            [
                label,
                measure.ratio(measure.walls(top), measure.walls(bottom)).show(digits=2),
                measure.ratio(measure.cpus(top), measure.cpus(bottom)).show(digits=2),
            ]
        )
    table(["ratio of interleaved pairs", "wall", "CPU"], rows)
    return spread(measure.cpus(together)).median


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--profile", action="store_true", help="cProfile of the renders")
    args = parser.parse_args(argv)
    print(f"tree measured: {measure.TREE}; {len(SPECS)} specs\n")
    with section("whole processes, median [min-max] of interleaved rounds"):
        samples, inside, per_spec = measured(args.rounds)
        together = report(samples, per_spec)
        step_table(inside)
    ok = together < TARGET_ALL_S
    print("target (median CPU time):")
    print(
        f"   gen of every spec in one process under {TARGET_ALL_S} s: {together:.3f} s "
        f"{measure.verdict(ok)}"
    )
    if args.profile:
        print("\n---- profile: rendering every spec (compiled beforehand) ----")
        proc = subprocess.run(
            [sys.executable, "-c", PROFILE.format(specs=SPECS)],
            capture_output=True,
            text=True,
            cwd=measure.TREE,
            env=measure.ENV,
        )
        print(proc.stdout or proc.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
