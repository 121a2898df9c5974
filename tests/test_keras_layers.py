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
