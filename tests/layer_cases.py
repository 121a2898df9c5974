"""The layer case tables in tests/layer_cases/*.txt.

A case is one line, `CALL <- INPUTS -> EXPECTED`; inputs are shapes with the
batch dimension, `;` between them. For a call Keras accepts, EXPECTED is
Keras's output shape (a list of shapes for several outputs) and its weight
counts, `params TRAINABLE + NON_TRAINABLE`. A leading `!` marks a call Keras
rejects; EXPECTED then names the nnspec error that must reject it too:
ShapeError (the shape rules) or ArgError (the argument rules).

The expected columns come from Keras: after adding or changing cases, run
`python tests/layer_cases.py --update` (with TensorFlow) and review the diff.
"""

from __future__ import annotations

import argparse
import ast
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from nnspec.syntax import ir
from nnspec.syntax.lower import lower
from nnspec.syntax.parser import parse
from nnspec.vocab.argtypes import ArgError
from nnspec.vocab.layers import ShapeError

CASE_DIR = Path(__file__).parent / "layer_cases"
ERRORS = {"ShapeError": ShapeError, "ArgError": ArgError}
ARROW_COLUMN_MAX = 96  # `->` lines up within a file, except after longer cases


@dataclass(frozen=True)
class Case:
    call_text: str
    shapes: tuple[tuple, ...]
    valid: bool
    where: str
    # (output shape, trainable, non-trainable), or an error name for `!` cases;
    # None until `--update` fills it in
    expected: tuple | str | None

    @property
    def id(self) -> str:
        return (
            ("!" if not self.valid else "")
            + self.call_text
            + " <- "
            + "; ".join(map(str, self.shapes))
        )

    def call(self) -> ir.Call:
        return parse_call(self.call_text)


def parse_call(text: str) -> ir.Call:
    diags = []
    result = parse(f"graph {{ x = {text} }}")
    assert result.tree is not None and not result.diagnostics, (text, result.diagnostics)
    spec = lower(result.tree, diags)
    assert not diags, diags
    return spec.architecture.layers[0].call


def read_case(line: str, where: str) -> Case:
    """One table line (not blank, not a comment) as a Case."""
    written, _, expected_text = line.partition("->")
    call_text, shapes_text = (part.strip() for part in written.split("<-"))
    valid = not call_text.startswith("!")
    shapes = tuple(ast.literal_eval(s.strip()) for s in shapes_text.split(";"))
    expected = read_expected(expected_text.strip()) if expected_text.strip() else None
    return Case(call_text.lstrip("!"), shapes, valid, where, expected)


def read_expected(text: str) -> tuple | str:
    if text in ERRORS:
        return text
    shape_text, _, counts = text.rpartition(", params ")
    trainable, non_trainable = (int(n) for n in counts.split("+"))
    return ast.literal_eval(shape_text), trainable, non_trainable


def show_expected(expected: tuple | str) -> str:
    if isinstance(expected, str):
        return expected
    shape, trainable, non_trainable = expected
    return f"{shape}, params {trainable} + {non_trainable}"


def _case_lines(path: Path):
    """(line number, stripped line) of each case in a table file."""
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            yield number, line


def load_cases() -> list[Case]:
    return [
        read_case(line, f"{path.name}:{number}")
        for path in sorted(CASE_DIR.glob("*.txt"))
        for number, line in _case_lines(path)
    ]


def nnspec_result(case: Case):
    """(output shape, trainable, non-trainable) as nnspec computes them."""
    from nnspec.vocab.layers.registry import resolve_layer

    layer = resolve_layer(case.call())
    x = list(case.shapes) if layer.type.multi_input else case.shapes[0]
    out = layer.type.output(layer.config, x)
    weights = layer.type.weights(layer.config, x)
    if not layer.config.get("trainable", True):
        return out, 0, weights.total
    return out, weights.trainable, weights.non_trainable


# ---- Keras's answer (imports TensorFlow) -----------------------------------------------


def _raw_keras(value):
    """An IR value as a plain Python/Keras value, without nnspec's checks."""
    import keras

    if isinstance(value, ir.Call):
        cls = getattr(keras.layers, value.name, None)
        if cls is None:
            return value.name  # an initializer or regularizer name: as Keras reads a string
        return cls(
            *map(_raw_keras, value.args), **{k.name: _raw_keras(k.value) for k in value.kwargs}
        )
    if isinstance(value, ir.Seq):
        items = [_raw_keras(v) for v in value.items]
        return items if value.is_list else tuple(items)
    return ir.plain(value)


def keras_result(case: Case, checked: bool = True):
    """(output shape, trainable, non-trainable) of the case built in Keras: through
    nnspec's builder, or (checked=False) straight from the written arguments, so
    Keras judges them itself."""
    import keras

    from nnspec.keras.builder import call_layer, make_layer
    from nnspec.vocab.layers.registry import LAYERS, resolve_layer

    kind = LAYERS[case.call().name]
    keras_layer = make_layer(resolve_layer(case.call())) if checked else _raw_keras(case.call())
    inputs = [keras.Input(batch_shape=shape) for shape in case.shapes]
    out = call_layer(keras_layer, kind, inputs)
    shapes = [tuple(t.shape) for t in out] if isinstance(out, (list, tuple)) else tuple(out.shape)

    def count(weights):
        return sum(math.prod(w.shape) for w in weights)

    return shapes, count(keras_layer.trainable_weights), count(keras_layer.non_trainable_weights)


# ---- python tests/layer_cases.py --update -------------------------------------------------


def expected_from_keras(case: Case) -> tuple | str:
    """What the table should say: Keras's figures for the layer nnspec's builder
    makes, or for a call Keras itself rejects, the nnspec error that rejects it.
    Raises when Keras and the `!` disagree."""
    if case.valid:
        return keras_result(case)
    try:
        keras_result(case, checked=False)
        accepted = True
    except Exception:  # Keras raises ValueError, TypeError, ...
        accepted = False
    if accepted:
        raise AssertionError(f"{case.where}: Keras accepts {case.call_text}, marked `!`")
    try:
        nnspec_result(case)
    except (ShapeError, ArgError) as err:
        return type(err).__name__
    raise AssertionError(f"{case.where}: nnspec accepts {case.call_text}, which Keras rejects")


def update(path: Path) -> None:
    """Rewrite a table file's expected columns from Keras; comments stay as they are."""
    lines = path.read_text().splitlines()
    written = {}
    for number, line in _case_lines(path):
        case = read_case(line, f"{path.name}:{number}")
        written[number] = line.partition("->")[0].rstrip()
        lines[number - 1] = show_expected(expected_from_keras(case))
    fitting = [len(text) for text in written.values() if len(text) <= ARROW_COLUMN_MAX]
    column = max(fitting, default=0)
    for number, text in written.items():
        lines[number - 1] = f"{text.ljust(column)} -> {lines[number - 1]}"
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="rewrite the expected columns")
    parser.add_argument("files", nargs="*", type=Path, help="table files (default: all)")
    args = parser.parse_args(argv)
    if not args.update:
        parser.error("nothing to do without --update")
    for path in args.files or sorted(CASE_DIR.glob("*.txt")):
        update(path)
        print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
