"""How every bench measures, written once.

- Contenders run in interleaved rounds (A B, B A, A B, ...), so a load spike or
  a slowing machine falls on both sides of a comparison, not on one.
- Each sample has wall time and CPU time: in-process `time.process_time()`, for
  a subprocess the children's user + system time from `resource.getrusage`.
  On a shared machine CPU time is the steadier figure; wall time is what a
  user waits.
- Figures are medians with their range (min-max); a ratio is the median of the
  per-round ratios with a bootstrap 95% interval, so only like is divided by like.
- Tables carry the load average at their start and end.

The tree measured is this checkout, or the one named first on PYTHONPATH
(`PYTHONPATH=/path/to/other/tree python bench/compile_speed.py`), in process
and in every subprocess (run in that tree's folder, with that environment).
"""

from __future__ import annotations

import os
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_FIRST_ON_PATH = os.environ.get("PYTHONPATH", "").split(os.pathsep)[0]
TREE = Path(_FIRST_ON_PATH).resolve() if _FIRST_ON_PATH else ROOT
if not _FIRST_ON_PATH:
    sys.path.insert(0, str(ROOT))
ENV = {**os.environ, "PYTHONPATH": str(TREE), "TF_CPP_MIN_LOG_LEVEL": "3"}
_SCRIPT = Path(sys.executable).parent / "nnspec"
NNSPEC = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "nnspec.cli"]


@dataclass(frozen=True)
class Sample:
    """One timed run: seconds of wall-clock time and of CPU time."""

    wall: float
    cpu: float


def call(fn: Callable, *args) -> tuple[Sample, object]:
    """Time `fn(*args)` in this process; the sample and what it returned."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return Sample(time.perf_counter() - wall, time.process_time() - cpu), result


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process(cmd: Sequence[str], ok=(0,), **kwargs) -> tuple[Sample, subprocess.CompletedProcess]:
    """Run `cmd` in the measured tree; its sample, and its result. Exits if the
    status is not in `ok`: a failing run would time the failure."""
    kwargs = {"cwd": TREE, "env": ENV, "capture_output": True, "text": True, **kwargs}
    wall, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run(list(cmd), **kwargs)
    sample = Sample(time.perf_counter() - wall, _children_cpu() - cpu)
    if done.returncode not in ok:
        shown = " ".join(arg if len(arg) < 80 else arg[:40] + "..." for arg in cmd)
        raise SystemExit(f"failed ({done.returncode}): {shown}\n{done.stderr[-2000:]}")
    return sample, done


def interleaved(contenders: dict[str, Callable[[], Sample]], rounds: int) -> dict[str, list]:
    """Each contender once per round, the order rotated every round; samples by name."""
    names = list(contenders)
    samples: dict[str, list[Sample]] = {name: [] for name in names}
    for r in range(rounds):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(contenders[name]())
    return samples


@dataclass(frozen=True)
class Spread:
    """A median with the range or interval around it."""

    median: float
    low: float
    high: float

    def show(self, scale: float = 1.0, digits: int = 1) -> str:
        m, lo, hi = (v * scale for v in (self.median, self.low, self.high))
        return f"{m:.{digits}f} [{lo:.{digits}f}-{hi:.{digits}f}]"


def spread(values: Sequence[float]) -> Spread:
    """Median, min and max."""
    return Spread(statistics.median(values), min(values), max(values))


def ratio(top: Sequence[float], bottom: Sequence[float], resamples: int = 2000) -> Spread:
    """Median of the per-round ratios top/bottom, with a bootstrap 95% interval."""
    ratios = [t / b for t, b in zip(top, bottom, strict=True)]
    rng = random.Random(0)  # the same interval for the same samples
    medians = sorted(
        statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(resamples)
    )
    return Spread(
        statistics.median(ratios), medians[int(0.025 * resamples)], medians[-int(0.025 * resamples)]
    )


def walls(samples: Sequence[Sample]) -> list[float]:
    return [s.wall for s in samples]


def cpus(samples: Sequence[Sample]) -> list[float]:
    return [s.cpu for s in samples]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min; {os.cpu_count()} CPUs)"


@contextmanager
def section(title: str) -> Iterator[None]:
    """A titled part of the report, with the load average before and after it."""
    print(f"== {title}")
    print(f"   load average at start: {load()}")
    yield
    print(f"   load average at end:   {load()}\n")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows under headers; the first column left-aligned, the others right."""
    cells = [list(map(str, headers))] + [list(map(str, row)) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        first = row[0].ljust(widths[0])
        print("   " + "  ".join([first] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
