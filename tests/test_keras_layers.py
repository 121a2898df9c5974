"""Every registry entry against Keras itself: output shapes and weight counts.

Cases live in tests/layer_cases/*.txt; each line builds the same layer in
nnspec and in Keras and compares. Lines marked `!` must fail in both.
"""

from __future__ import annotations

import math

import pytest
from layer_cases import load_cases, nnspec_result

from nnspec.vocab.argtypes import ArgError
from nnspec.vocab.layers import ShapeError, layer_types

CASES = load_cases()
pytestmark = pytest.mark.keras

# Keras layers whose call takes the inputs as separate arguments (query, value, key)
# rather than as one list.


def test_every_layer_has_a_case():
    covered = {case.call_text.split("(")[0] for case in CASES if case.valid}
    missing = sorted(t.name for t in layer_types() if t.name not in covered)
    assert not missing, f"layers without a Keras case: {missing}"


def _raw_keras(value):
    """An IR value as a plain Python/Keras value, without nnspec's checks."""
    import keras

    from nnspec.syntax import ir

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


def _keras_result(case, checked=True):
    """Build the case in Keras: through nnspec's builder, or (checked=False)
    straight from the written arguments, so Keras judges them itself."""
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


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer_agrees_with_keras(case):
    if case.valid:
        assert nnspec_result(case) == _keras_result(case), case.where
    else:
        with pytest.raises((ShapeError, ArgError)):
            nnspec_result(case)
        with pytest.raises(Exception):  # noqa: B017  (Keras raises ValueError or TypeError)
            _keras_result(case, checked=False)
