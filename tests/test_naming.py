"""Keras's spelling of names (nnspec/vocab/naming.py): snake case and automatic layer names."""

from __future__ import annotations

import pytest

from nnspec.vocab.layers import LAYERS
from nnspec.vocab.naming import AutoNames, snake_case

CLASS_NAMES = [
    "Dense",
    "Conv2D",
    "Conv2DTranspose",
    "LSTM",
    "GRUCell",
    "MultiHeadAttention",
    "GlobalAveragePooling1D",
    "RandomNormal",
    "L1L2",
    "PReLU",
    "ReLU",
    "HTTPServer2Go",
    "already_snake",
    "with space-and.dots",
]


@pytest.mark.parametrize(
    ("name", "snake"),
    [
        ("Dense", "dense"),
        ("Conv2D", "conv2d"),
        ("Conv2DTranspose", "conv2d_transpose"),
        ("LSTM", "lstm"),
        ("MultiHeadAttention", "multi_head_attention"),
        ("GlobalAveragePooling1D", "global_average_pooling1d"),
        ("RandomNormal", "random_normal"),
        ("L1L2", "l1l2"),
        ("PReLU", "p_re_lu"),
        ("with space-and.dots", "withspaceanddots"),
    ],
)
def test_snake_case(name, snake):
    assert snake_case(name) == snake


@pytest.mark.keras
def test_snake_case_is_keras_own():
    from keras.src.utils.naming import to_snake_case

    for name in [*CLASS_NAMES, *(t.name for t in LAYERS.values())]:
        assert snake_case(name) == to_snake_case(name), name


def test_numbers_per_prefix():
    names = AutoNames()
    taken = [names.take("dense"), names.take("conv2d"), names.take("dense"), names.take("dense")]
    assert taken == ["dense", "conv2d", "dense_1", "dense_2"]


def test_layers_made_unseen_use_up_numbers():
    """An inner layer (`Bidirectional(LSTM(8))`) or one a layer builds takes a number."""
    names = AutoNames()
    names.count("lstm")
    assert names.take("bidirectional") == "bidirectional"
    assert names.take("lstm") == "lstm_1"


def test_peek_takes_nothing():
    names = AutoNames()
    assert names.peek("dense") == "dense"
    assert names.peek("dense") == "dense"
    assert names.take("dense") == "dense"
    assert names.peek("dense") == "dense_1"


def test_names_in_use_are_passed_over_and_their_numbers_used_up():
    names = AutoNames()
    taken = {"dense", "dense_1", "dense_3"}
    assert names.peek("dense", taken) == "dense_2"
    assert names.take("dense", taken) == "dense_2"
    assert names.take("dense", taken) == "dense_4"
    assert names.take("dense") == "dense_5"


@pytest.mark.keras
def test_import_counts_inner_layers_as_the_checker_does():
    """The LSTM inside Bidirectional took `lstm`: the next unnamed LSTM is `lstm_1`,
    and one named `lstm` by hand must be written with its name."""
    import json

    import keras

    from nnspec.keras.importer import import_config

    keras.utils.clear_session()
    lstm = keras.layers.LSTM(4, return_sequences=True)
    model = keras.Sequential(
        [keras.Input((10, 3)), keras.layers.Bidirectional(lstm), keras.layers.LSTM(4)]
    )
    assert model.layers[1].name == "lstm_1"
    text = import_config(json.loads(model.to_json())).text
    assert "    Bidirectional(LSTM(4, return_sequences=true))\n    LSTM(4)\n" in text

    named = keras.Sequential(
        [keras.Input((10, 3)), keras.layers.Bidirectional(lstm), keras.layers.LSTM(4, name="lstm")]
    )
    assert "    lstm = LSTM(4)\n" in import_config(json.loads(named.to_json())).text
