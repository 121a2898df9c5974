"""Whole-model agreement: each spec built in Keras (by `nnspec.keras.builder.build_model`, the
builder `nnspec run` uses) has the layers, output shapes and parameter counts
(trainable and non-trainable, per layer and in total) that `nnspec summary` reports."""

from __future__ import annotations

import math

import pytest
from helpers import SPECS

from nnspec.check.pipeline import compile_text
from nnspec.check.summary import as_dict

pytestmark = pytest.mark.keras


def _count(weights):
    return sum(math.prod(w.shape) for w in weights)


# Non-trainable weights (BatchNormalization's statistics, a frozen layer) and a shared
# layer, which none of specs/ has.
FROZEN = """
input x: (6, 4)
graph {
    norm = BatchNormalization()
    frozen = Dense(4, trainable=false)
    shared = Dense(3)
    joined = Concatenate()
    x -> norm -> frozen -> shared -> joined
    x -> shared -> joined
}
"""


@pytest.mark.parametrize(
    "text", [*(p.read_text() for p in SPECS), FROZEN], ids=[*(p.stem for p in SPECS), "frozen"]
)
def test_spec_agrees_with_keras(text):
    from nnspec.keras.builder import build_model

    checked = compile_text(text).model
    model = build_model(checked)
    summary = as_dict(checked)
    rows = {r["name"]: r for r in summary["layers"]}
    first = {n.layer: n for n in checked.nodes if n.app == 0}
    built = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    assert sorted(layer.name for layer in built) == sorted(first)
    for layer in built:
        row = rows[layer.name]
        assert type(layer).__name__ == row["type"]
        outputs = layer.output if isinstance(layer.output, (list, tuple)) else [layer.output]
        shapes = [list(t.shape) for t in outputs]
        assert (shapes if len(shapes) > 1 else shapes[0]) == row["shape"], layer.name
        assert layer.count_params() == row["params"], layer.name
        weights = first[layer.name].weights
        assert _count(layer.trainable_weights) == weights.trainable, layer.name
        assert _count(layer.non_trainable_weights) == weights.non_trainable, layer.name
    assert model.count_params() == summary["total_params"]
    assert _count(model.trainable_weights) == summary["trainable_params"]
    assert _count(model.non_trainable_weights) == summary["non_trainable_params"]
