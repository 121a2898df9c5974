"""Reads the layer case tables in tests/layer_cases/*.txt."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from nnspec.syntax import ir
from nnspec.syntax.lower import lower
from nnspec.syntax.parser import parse

CASE_DIR = Path(__file__).parent / "layer_cases"


@dataclass(frozen=True)
class Case:
    call_text: str
    shapes: tuple[tuple, ...]
    valid: bool
    where: str

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


def load_cases() -> list[Case]:
    cases = []
    for path in sorted(CASE_DIR.glob("*.txt")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            call_text, shapes_text = (part.strip() for part in line.split("<-"))
            valid = not call_text.startswith("!")
            shapes = tuple(ast.literal_eval(s.strip()) for s in shapes_text.split(";"))
            cases.append(Case(call_text.lstrip("!"), shapes, valid, f"{path.name}:{number}"))
    return cases


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
