"""Whole-model agreement: each spec built in Keras has the layer names, output
shapes and parameter counts that `nnspec summary` reports."""

from __future__ import annotations

import math

import pytest
from helpers import SPECS, compile_file

from nnspec.summary import as_dict

pytestmark = pytest.mark.keras


def _count(weights):
    return sum(math.prod(w.shape) for w in weights)


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_spec_agrees_with_keras(path):
    from nnspec.keras_build import build_model

    checked = compile_file(path).model
    model = build_model(checked)
    summary = as_dict(checked)
    rows = {r["name"]: r for r in summary["layers"]}
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        row = rows[layer.name]
        assert type(layer).__name__ == row["type"]
        outputs = layer.output if isinstance(layer.output, (list, tuple)) else [layer.output]
        shapes = [list(t.shape) for t in outputs]
        assert (shapes if len(shapes) > 1 else shapes[0]) == row["shape"], layer.name
        assert layer.count_params() == row["params"], layer.name
    assert model.count_params() == summary["total_params"]
    assert _count(model.trainable_weights) == summary["trainable_params"]
    assert _count(model.non_trainable_weights) == summary["non_trainable_params"]
