"""The loss against the output activation and the labels (nnspec/check/training.py).

The `keras` tests at the end check the reasons the messages give against Keras
itself: the shapes it refuses, the NaN, the outputs it clips without a gradient.
"""

from __future__ import annotations

import pytest

from nnspec.check import training
from nnspec.check.pipeline import compile_text
from nnspec.diagnostics.codes import CODES
from nnspec.vocab.catalog import ACTIVATIONS

SPEC = """model m
data {data}
input x: ({features},)
sequential {{
    Dense(16, activation=relu)
    {out}
}}
compile {{ loss: {loss}, optimizer: adam }}
"""
DIGITS = ("digits", 64)
DIGITS_ONE_HOT = ("digits { labels: one_hot }", 64)
CANCER = ("breast_cancer", 30)


def found(data, out: str, loss: str) -> list[tuple[str, str, str]]:
    """(code, message, first hint) of every diagnostic of a small spec."""
    text = SPEC.format(data=data[0], features=data[1], out=out, loss=loss)
    return [(d.code, d.message, (d.hints or ("",))[0]) for d in compile_text(text).diagnostics]


def only(data, out: str, loss: str) -> tuple[str, str, str]:
    (diagnostic,) = found(data, out, loss)
    return diagnostic


# ---- crossentropy on an output that cannot give probabilities -------------------------


@pytest.mark.parametrize("act", ["tanh", "elu", "selu", "leaky_relu", "softsign", "gelu"])
@pytest.mark.parametrize(
    "data,loss",
    [(DIGITS, "sparse_categorical_crossentropy"), (DIGITS_ONE_HOT, "categorical_crossentropy")],
)
def test_negative_outputs_are_an_error(act, data, loss):
    code, message, hint = only(data, f"Dense(10, activation={act})", loss)
    assert code == "E401"
    assert f"ends in {act}, which can be negative" in message and "log of probabilities" in message
    assert hint == f"use activation=softmax, or no activation and `{loss}(from_logits=true)`"


def test_negative_outputs_with_binary_crossentropy():
    code, message, hint = only(CANCER, "Dense(1, activation=tanh)", "bce")
    assert code == "E401" and "clips negative values to 1e-7" in message
    assert hint.startswith("use activation=sigmoid")


@pytest.mark.parametrize(
    "out,act",
    [("Dense(3)\n    LeakyReLU()", "leaky_relu"), ("Dense(3)\n    ELU()", "elu")]
    + [("Dense(3)\n    ReLU(negative_slope=0.1)", "leaky_relu")],
)
def test_activation_layers_count_as_the_output_activation(out, act):
    code, message, _ = only(("iris", 4), out, "sparse_categorical_crossentropy")
    assert code == "E401" and f"ends in {act}," in message


@pytest.mark.parametrize("act", ["relu", "relu6", "hard_sigmoid"])
def test_outputs_that_can_all_be_zero_make_categorical_crossentropy_nan(act):
    code, message, hint = only(
        DIGITS_ONE_HOT, f"Dense(10, activation={act})", "categorical_crossentropy"
    )
    assert code == "E401" and "divides each by their sum" in message and "NaN" in message
    assert hint == "use activation=softmax"


@pytest.mark.parametrize("out", ["Dense(10, activation=relu)", "Dense(10)\n    ReLU()"])
def test_relu_output_stalls_sparse_categorical_crossentropy(out):
    code, message, _ = only(DIGITS, out, "sparse_categorical_crossentropy")
    assert code == "E401" and "gets no gradient" in message


@pytest.mark.parametrize(
    "act", ["sigmoid", "softplus", "exponential", "squareplus", "sparse_sigmoid"]
)
@pytest.mark.parametrize(
    "data,loss",
    [(DIGITS, "sparse_categorical_crossentropy"), (DIGITS_ONE_HOT, "categorical_crossentropy")],
)
def test_units_that_do_not_sum_to_one_are_a_warning(act, data, loss):
    code, message, hint = only(data, f"Dense(10, activation={act})", loss)
    assert code == "W401" and "10 units do not sum to 1" in message
    assert hint == "use activation=softmax"


def test_hard_sigmoid_trains_with_sparse_categorical_crossentropy():
    code, _, _ = only(
        DIGITS, "Dense(10, activation=hard_sigmoid)", "sparse_categorical_crossentropy"
    )
    assert code == "W401"


@pytest.mark.parametrize("act", ["relu", "relu6", "softplus", "exponential"])
def test_outputs_above_one_with_binary_crossentropy_are_a_warning(act):
    code, message, hint = only(CANCER, f"Dense(1, activation={act})", "binary_crossentropy")
    assert code == "W401" and "can exceed 1" in message and hint == "use activation=sigmoid"


@pytest.mark.parametrize(
    "data,out,loss",
    [
        (DIGITS, "Dense(10, activation=softmax)", "sparse_categorical_crossentropy"),
        (DIGITS_ONE_HOT, "Dense(10, activation=softmax)", "categorical_crossentropy"),
        (CANCER, "Dense(1, activation=sigmoid)", "binary_crossentropy"),
        (CANCER, "Dense(1, activation=hard_sigmoid)", "binary_crossentropy"),
        # bce over a two-way softmax on one-hot labels is categorical crossentropy
        (("breast_cancer { labels: one_hot }", 30), "Dense(2, activation=softmax)", "bce"),
        # from_logits: the output is taken as logits, whatever its activation
        (DIGITS, "Dense(10, activation=relu)", "sparse_categorical_crossentropy(from_logits=true)"),
        (CANCER, "Dense(1, activation=tanh)", "binary_crossentropy(from_logits=true)"),
    ],
)
def test_fitting_pairs_check_clean(data, out, loss):
    assert found(data, out, loss) == []


def test_linear_output_keeps_its_logits_warning():
    code, message, _ = only(DIGITS, "Dense(10)", "sparse_categorical_crossentropy")
    assert code == "W401" and "so it gives logits" in message


# ---- a regression loss on class labels --------------------------------------------------


@pytest.mark.parametrize("loss", ["mse", "mae", "msle", "huber", "log_cosh", "poisson"])
def test_regression_loss_on_integer_class_ids_is_an_error(loss):
    code, message, hint = only(DIGITS, "Dense(10, activation=softmax)", loss)
    assert code == "E404"
    assert f"{loss} compares each of the 10 units" in message and "one integer class id" in message
    assert hint == "use sparse_categorical_crossentropy with activation=softmax"


def test_regression_loss_on_one_hot_labels_is_a_warning():
    code, message, hint = only(DIGITS_ONE_HOT, "Dense(10, activation=softmax)", "mse")
    assert (code, message) == ("W402", "mse is a regression loss, but data `digits` has 10 classes")
    assert hint == "use categorical_crossentropy with activation=softmax"


def test_regression_loss_on_one_hot_labels_needs_one_unit_per_class():
    code, message, _ = only(DIGITS_ONE_HOT, "Dense(8, activation=softmax)", "mse")
    assert code == "E405" and "one-hot labels for 10 classes" in message and "8 units" in message


def test_regression_loss_on_one_unit():
    code, message, hint = only(DIGITS, "Dense(1)", "mse")
    assert code == "W402" and message.endswith("it fits the class ids as numbers")
    assert hint == "use sparse_categorical_crossentropy with Dense(10, activation=softmax)"
    code, message, hint = only(CANCER, "Dense(1, activation=sigmoid)", "mse")
    assert code == "W402" and message.endswith("has 2 classes")
    assert hint == "use binary_crossentropy with activation=sigmoid"


def test_regression_loss_on_regression_or_unknown_data_checks_clean():
    assert found(("diabetes", 10), "Dense(1)", "mse") == []
    text = SPEC.format(data='npz("d.npz")', features=64, out="Dense(10)", loss="mse")
    assert not [d for d in compile_text(text).diagnostics if d.code in ("E404", "W402")]


def test_class_labels_of_one_source_do_not_judge_several_outputs():
    text = """model two
data iris
input x: (4,)
graph {
    a = Dense(3, activation=softmax)
    b = Dense(8)
    x -> a
    x -> b
}
output a, b
compile { loss: [sparse_categorical_crossentropy, mse], optimizer: adam }
"""
    codes = {d.code for d in compile_text(text).diagnostics}
    assert not codes & {"E404", "E405", "W402"}


# ---- the tables ---------------------------------------------------------------------------


def test_rules_use_known_codes():
    assert {rule.code for rule in training._RULES} <= set(CODES)


def test_activation_groups_name_keras_activations():
    groups = (training._NEGATIVE, training._ZERO_SUM, training._ABOVE_ONE, training._PER_UNIT)
    for group in groups:
        assert group <= set(ACTIVATIONS), sorted(group - set(ACTIVATIONS))
    assert not training._NEGATIVE & (training._ABOVE_ONE | training._PER_UNIT)


# ---- the reasons, against Keras ---------------------------------------------------------


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


@pytest.mark.keras
def test_keras_refuses_class_ids_against_several_units(keras):
    import numpy as np

    labels, outputs = np.arange(4), np.full((4, 10), 0.1, "float32")
    with pytest.raises(Exception, match="Incompatible shapes"):
        keras.losses.MeanSquaredError()(labels, outputs)


@pytest.mark.keras
def test_keras_categorical_crossentropy_is_nan_on_all_zero_outputs(keras):
    import numpy as np

    loss = keras.losses.CategoricalCrossentropy()(np.eye(3)[:1], np.zeros((1, 3), "float32"))
    assert np.isnan(float(loss))


@pytest.mark.keras
@pytest.mark.parametrize(
    "name,labels,outputs",
    [
        ("SparseCategoricalCrossentropy", [0], [[-0.5, 0.2, 0.3]]),
        ("SparseCategoricalCrossentropy", [0], [[0.0, 0.2, 0.3]]),
        ("BinaryCrossentropy", [[1.0]], [[-0.5]]),
        ("BinaryCrossentropy", [[0.0]], [[1.5]]),
    ],
)
def test_keras_gives_clipped_outputs_no_gradient(keras, name, labels, outputs):
    """An output outside (0, 1), the true class's unit here, is clipped: no gradient."""
    import numpy as np
    import tensorflow as tf

    outputs = tf.Variable(np.array(outputs, "float32"))
    with tf.GradientTape() as tape:
        loss = getattr(keras.losses, name)()(np.array(labels), outputs)
    assert float(tape.gradient(loss, outputs)[0, 0]) == 0.0
