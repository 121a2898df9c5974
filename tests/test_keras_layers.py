"""Every registry entry against Keras itself: output shapes and weight counts.

Cases live in tests/layer_cases/*.txt; each line builds the same layer in
nnspec and in Keras and compares. Lines marked `!` must fail in both.
"""

from __future__ import annotations

import math

import pytest
from layer_cases import load_cases, nnspec_result

from nnspec.argtypes import ArgError
from nnspec.layers import ShapeError, layer_types

CASES = load_cases()
pytestmark = pytest.mark.keras


def test_every_layer_has_a_case():
    covered = {case.call_text.split("(")[0] for case in CASES if case.valid}
    missing = sorted(t.name for t in layer_types() if t.name not in covered)
    assert not missing, f"layers without a Keras case: {missing}"


def _keras_result(case):
    import keras

    from nnspec.keras_build import make_layer
    from nnspec.layers.registry import resolve_layer

    layer = resolve_layer(case.call())
    inputs = [keras.Input(batch_shape=shape) for shape in case.shapes]
    keras_layer = make_layer(layer)
    out = keras_layer(inputs if layer.type.multi_input else inputs[0])
    shapes = [tuple(t.shape) for t in out] if isinstance(out, (list, tuple)) else tuple(out.shape)

    def count(weights):
        return sum(math.prod(w.shape) for w in weights)

    return shapes, count(keras_layer.trainable_weights), count(keras_layer.non_trainable_weights)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer_agrees_with_keras(case):
    if case.valid:
        assert nnspec_result(case) == _keras_result(case), case.where
    else:
        with pytest.raises((ShapeError, ArgError)):
            nnspec_result(case)
        with pytest.raises(Exception):  # noqa: B017  (Keras raises ValueError or TypeError)
            _keras_result(case)
