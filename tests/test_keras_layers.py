"""Every registry entry against Keras itself: output shapes and weight counts.

Cases live in tests/layer_cases/*.txt, each with what Keras computes for it
(tests/layer_cases.py writes those figures from Keras). Without TensorFlow,
nnspec's shape rules must give the table's figures; in the `keras` group each
case is also built in Keras and compared live. Lines marked `!` must fail.
"""

from __future__ import annotations

import pytest
from layer_cases import ERRORS, keras_result, load_cases, nnspec_result

from nnspec.vocab.layers import layer_types

CASES = load_cases()


def test_every_layer_has_a_case():
    covered = {case.call_text.split("(")[0] for case in CASES if case.valid}
    missing = sorted(t.name for t in layer_types() if t.name not in covered)
    assert not missing, f"layers without a Keras case: {missing}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer_agrees_with_the_table(case):
    assert case.expected is not None, f"{case.where}: run `python tests/layer_cases.py --update`"
    if case.valid:
        assert nnspec_result(case) == case.expected, case.where
    else:
        with pytest.raises(ERRORS[case.expected]):
            nnspec_result(case)


@pytest.mark.keras
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_layer_agrees_with_keras(case):
    if case.valid:
        assert nnspec_result(case) == keras_result(case) == case.expected, case.where
    else:
        with pytest.raises(ERRORS[case.expected]):
            nnspec_result(case)
        with pytest.raises(Exception):  # noqa: B017  (Keras raises ValueError or TypeError)
            keras_result(case, checked=False)


def test_every_registered_layer_is_a_keras_layer():
    from nnspec.vocab.keras_layers import KERAS_LAYERS
    from nnspec.vocab.layers import LAYERS

    assert not sorted(set(LAYERS) - set(KERAS_LAYERS)), "registry names Keras does not have"


@pytest.mark.keras
def test_keras_layer_names_match_the_installed_keras():
    """KERAS_LAYERS lists every public layer class of `keras.layers`: all of them for
    the release it was taken from or a newer one, a superset for an older one."""
    import inspect

    import keras

    from nnspec.vocab.keras_layers import KERAS_LAYERS, KERAS_VERSION

    installed = {
        name
        for name, obj in vars(keras.layers).items()
        if not name.startswith("_") and inspect.isclass(obj) and issubclass(obj, keras.layers.Layer)
    }
    missing = sorted(installed - set(KERAS_LAYERS))
    assert not missing, f"Keras layers missing from nnspec/vocab/keras_layers.py: {missing}"
    version = tuple(int(part) for part in keras.__version__.split(".")[:2])
    if version >= KERAS_VERSION:
        gone = sorted(set(KERAS_LAYERS) - installed)
        assert not gone, f"names in nnspec/vocab/keras_layers.py Keras no longer has: {gone}"
    assert len(set(KERAS_LAYERS)) == len(KERAS_LAYERS)
