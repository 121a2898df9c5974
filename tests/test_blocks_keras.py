"""The block-written specs against keras.applications, layer by layer.

specs/resnet50.nn and specs/mobilenet_v2.nn must be the very models Keras builds:
every layer's name, class, output shape, parameter count and inbound layers, as
`nnspec summary` computes them without TensorFlow and as nnspec's Keras builder
(`nnspec run`) makes them.
"""

from __future__ import annotations

import pytest
from helpers import ROOT

from nnspec.check.pipeline import compile_text
from nnspec.check.summary import as_dict

pytestmark = pytest.mark.keras

APPLICATIONS = [("resnet50", "ResNet50", 25_636_712), ("mobilenet_v2", "MobileNetV2", 3_538_984)]


def keras_layers(model) -> dict[str, tuple]:
    """name -> (class, output shape, parameters, inbound layer names) of every layer."""
    found = {}
    for layer in model.layers:
        node = layer._inbound_nodes[0]
        inbound = [t._keras_history.operation.name for t in node.input_tensors]
        found[layer.name] = (
            type(layer).__name__,
            list(layer.output.shape),
            layer.count_params(),
            inbound,
        )
    return found


def summary_layers(summary: dict) -> dict[str, tuple]:
    return {
        row["name"]: (
            row["type"],
            row["shape"],
            row["params"],
            [ref.split("[")[0] for ref in row["connected_to"]],
        )
        for row in summary["layers"]
    }


@pytest.mark.parametrize("stem, constructor, total", APPLICATIONS)
def test_spec_is_the_keras_application(stem, constructor, total):
    import keras

    keras.backend.clear_session()  # Keras's automatic names start afresh
    reference = getattr(keras.applications, constructor)(weights=None)
    model = compile_text((ROOT / "specs" / f"{stem}.nn").read_text()).model
    summary = as_dict(model)
    assert summary["total_params"] == reference.count_params() == total
    ours, theirs = summary_layers(summary), keras_layers(reference)
    assert sorted(ours) == sorted(theirs)
    different = {name: (ours[name], theirs[name]) for name in theirs if ours[name] != theirs[name]}
    assert not different


@pytest.mark.parametrize("stem, constructor, total", APPLICATIONS)
def test_builder_makes_the_keras_application(stem, constructor, total):
    import keras

    from nnspec.keras.builder import build_model

    keras.backend.clear_session()
    reference = keras_layers(getattr(keras.applications, constructor)(weights=None))
    keras.backend.clear_session()
    built = build_model(compile_text((ROOT / "specs" / f"{stem}.nn").read_text()).model)
    assert built.count_params() == total
    assert keras_layers(built) == reference
