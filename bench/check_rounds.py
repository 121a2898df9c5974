"""How many rounds of `nnspec check` a user needs to reach a clean spec.

    python bench/check_rounds.py                       # this checkout
    PYTHONPATH=OTHER_TREE python bench/check_rounds.py # another one (before/after)

The corpus: each spec of specs/ with three mistakes put in at once (seeded), of
the kinds users make at every stage: a misspelled statement keyword (syntax), a
misspelled layer, argument or activation (names), a wrong unit count or input
size (shapes, training setup). A round is one `check`; after it the user fixes
every mistake on a line the check reported, as its hints say, and for each error
that points elsewhere (a loss line for an output's unit count) the mistake it
leads to. The figure is the number of rounds until the spec checks clean: 1
when every mistake shows in the first run. An error left when every mistake is
fixed would be a bug of the check; the bench fails on it.
"""

from __future__ import annotations

import random
import re
import statistics
import sys

import measure  # noqa: F401  (puts the measured tree on sys.path)

from nnspec.check.pipeline import compile_text

PER_SPEC = 3
SPECS_PER_FILE = 3  # mistake sets per spec: 11 specs -> 33 broken files

# (kind, pattern, replacement): the first match after a random offset is broken.
MISTAKES = (
    ("statement keyword", r"^(sequential|compile|fit)\b", lambda m: m[1][:-1] + m[1][-1] * 2),
    ("layer name", r"\b(Dense|Conv2D|LSTM|Flatten|Embedding|Dropout)\(", lambda m: m[1][:-1] + "("),
    ("argument name", r"\b(activation|kernel_size|pool_size|rate)=", lambda m: m[1][1:] + "="),
    ("activation", r"activation=(relu|softmax|sigmoid)\b", lambda m: f"activation={m[1]}x"),
    ("unit count", r"Dense\((\d+)", lambda m: f"Dense({int(m[1]) + 3}"),
    ("loss name", r"loss: (\w+)", lambda m: f"loss: {m[1]}s"),
)


def break_spec(text: str, rng: random.Random) -> tuple[str, list[tuple[int, str, str]]]:
    """`text` with up to PER_SPEC mistakes on distinct lines; each (line, broken, good)."""
    lines = text.splitlines()
    done: dict[int, tuple[str, str]] = {}
    for _kind, pattern, replace in rng.sample(MISTAKES, len(MISTAKES)):
        candidates = [
            i for i, line in enumerate(lines) if i not in done and re.search(pattern, line)
        ]
        if not candidates or len(done) == PER_SPEC:
            continue
        i = rng.choice(candidates)
        broken = re.sub(pattern, replace, lines[i], count=1)
        done[i] = (broken, lines[i])
        lines[i] = broken
    return "\n".join(lines) + "\n", [(i, b, g) for i, (b, g) in sorted(done.items())]


def rounds(text: str, mistakes: list[tuple[int, str, str]]) -> int:
    """Checks until clean, fixing after each every mistake on a reported line."""
    lines, left, count = text.splitlines(), list(mistakes), 0
    while True:
        count += 1
        found = compile_text("\n".join(lines) + "\n")
        if found.ok:
            return count - 1  # the last check only confirms
        reported = {d.span.line - 1 for d in found.errors}
        fixed = [m for m in left if m[0] in reported]
        elsewhere = [d for d in found.errors if d.span.line - 1 not in {m[0] for m in left}]
        fixed += [m for m in left if m not in fixed][: len(elsewhere)]  # followed to its cause
        if not fixed:
            shown = "; ".join(f"{d.code} {d.message}" for d in found.errors)
            raise SystemExit(f"errors that match no mistake left: {shown}")
        for i, _, good in fixed:
            lines[i] = good
        left = [m for m in left if m not in fixed]


def main() -> int:
    rng = random.Random(7)
    counts, by_kind = [], {}
    for path in sorted((measure.TREE / "specs").glob("*.nn")):
        good = path.read_text()
        if not compile_text(good).ok:
            continue
        for _ in range(SPECS_PER_FILE):
            text, mistakes = break_spec(good, rng)
            if not mistakes:
                continue
            n = rounds(text, mistakes)
            counts.append(n)
            by_kind.setdefault(len(mistakes), []).append(n)
    print(f"tree measured: {measure.TREE}")
    print(f"broken specs: {len(counts)} (from specs/, up to {PER_SPEC} mistakes each)")
    histogram = {n: counts.count(n) for n in sorted(set(counts))}
    print(
        "rounds of `nnspec check` to a clean spec: "
        + ", ".join(f"{n} round{'s' if n > 1 else ''}: {c}" for n, c in histogram.items())
    )
    print(
        f"mean {statistics.mean(counts):.2f}, max {max(counts)}; one round: "
        f"{histogram.get(1, 0) / len(counts):.0%}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
