"""How fast `nnspec gen` writes the script of every spec in specs/.

    python bench/gen_speed.py              # figures, and PASS/FAIL against the target
    python bench/gen_speed.py --profile    # add a cProfile of rendering every spec

Times, each as a fresh subprocess (best of --repeats runs):
  * one Python process that imports nnspec, compiles and renders every spec
    (target: under 1 s), with the time of each step measured inside it;
  * `nnspec gen SPEC` once per spec, as a Makefile or a pre-commit hook runs it;
  * `nnspec check specs/`, the reference the ratios are taken against.
This is a benchmark, not a test: it prints figures and PASS/FAIL against the target.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.nn"))
TARGET_ALL_S = 1.0

# Runs in the measured process: every step timed from the interpreter's start.
ALL_IN_ONE = """
import json, sys, time
start = time.perf_counter()
from nnspec.check.pipeline import compile_text
from nnspec.keras.codegen import render_script
imported = time.perf_counter()
import black
black_imported = time.perf_counter()
specs = {specs!r}
rows = []
for path in specs:
    t0 = time.perf_counter()
    model = compile_text(open(path, encoding="utf-8").read()).model
    t1 = time.perf_counter()
    script = render_script(model, path)
    t2 = time.perf_counter()
    rows.append({{"spec": path, "compile_s": t1 - t0, "render_s": t2 - t1, "lines": script.count("\\n")}})
end = time.perf_counter()
print(json.dumps({{"import_s": imported - start, "black_import_s": black_imported - imported,
                  "rows": rows, "inside_s": end - start}}))
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


def nnspec_command() -> list[str]:
    exe = Path(sys.executable).parent / "nnspec"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "nnspec.cli"]


def run_best(cmd: list[str], repeats: int) -> tuple[float, subprocess.CompletedProcess]:
    """Best wall time of a subprocess over `repeats` runs, and its last result."""
    best, proc = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        best = min(best, time.perf_counter() - start)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd[:3])} failed:\n{proc.stderr[-2000:]}")
    return best, proc


def relative(paths: list[Path]) -> list[str]:
    return [p.relative_to(ROOT).as_posix() for p in paths]


def all_in_one(repeats: int) -> float:
    """One process rendering every spec: its wall time; prints the steps inside it."""
    code = ALL_IN_ONE.format(specs=relative(SPECS))
    seconds, proc = run_best([sys.executable, "-c", code], repeats)
    inside = json.loads(proc.stdout)
    print(f"one process, import + compile + render of {len(SPECS)} specs (best of {repeats}):")
    print(f"  wall time of the process  {seconds:7.3f} s")
    print(f"  import nnspec.gen         {inside['import_s']:7.3f} s (black loads on first render)")
    print(f"  import black              {inside['black_import_s']:7.3f} s")
    print(f"  {'spec':<24} {'compile ms':>10} {'render ms':>10} {'lines':>6}")
    for row in inside["rows"]:
        print(
            f"  {Path(row['spec']).name:<24} {row['compile_s'] * 1e3:10.1f} "
            f"{row['render_s'] * 1e3:10.1f} {row['lines']:6d}"
        )
    renders = [row["render_s"] for row in inside["rows"]]
    print(
        f"  render: first {renders[0] * 1e3:.1f} ms (Jinja environment, templates compiled), "
        f"then mean {sum(renders[1:]) / len(renders[1:]) * 1e3:.1f} ms (mostly black)"
    )
    return seconds


def one_process_per_spec(repeats: int) -> float:
    """`nnspec gen SPEC` for each spec: the sum of the best wall times."""
    total = 0.0
    print(f"`nnspec gen SPEC`, one process per spec (best of {repeats} each):")
    for path in relative(SPECS):
        seconds, _ = run_best([*nnspec_command(), "gen", path], repeats)
        total += seconds
        print(f"  {Path(path).name:<24} {seconds * 1e3:7.1f} ms")
    print(f"  all {len(SPECS)} in turn: {total:.3f} s")
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement")
    parser.add_argument("--profile", action="store_true", help="cProfile of the renders")
    args = parser.parse_args(argv)

    together = all_in_one(args.repeats)
    print()
    separately = one_process_per_spec(args.repeats)
    print()
    check, _ = run_best([*nnspec_command(), "check", "specs/"], args.repeats)
    print(f"`nnspec check specs/` (best of {args.repeats}): {check:.3f} s")
    print(f"ratio one-process gen / check specs/: {together / check:.1f}x")
    print(f"ratio one process per spec / check specs/: {separately / check:.1f}x")

    ok = together < TARGET_ALL_S
    print("\ntarget:")
    print(
        f"  gen of every spec in one process under {TARGET_ALL_S} s: {together:.3f} s "
        f"{'PASS' if ok else 'FAIL'}"
    )
    if args.profile:
        print("\n---- profile: rendering every spec (compiled beforehand) ----")
        proc = subprocess.run(
            [sys.executable, "-c", PROFILE.format(specs=relative(SPECS))],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        print(proc.stdout or proc.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
