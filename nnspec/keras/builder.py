"""Checked layers -> Keras objects. Imports Keras; only `run`, `predict` and
the Keras tests reach this module.

Each layer is made from the call its entry in the table of emitters
(`emitters.py`) writes, and applied to its inputs as that entry says: the same
table `gen` renders as source, so a script and a run build the same layers.
"""

from __future__ import annotations

from nnspec.keras.calls import PyCall
from nnspec.keras.emitters import EMITTERS, Problems, emit
from nnspec.vocab.layers.registry import LayerCall, LayerType


def _resolve(path: str):
    import keras

    root, *rest = path.split(".")
    obj = keras.layers if root == "layers" else keras
    for part in rest:
        obj = getattr(obj, part)
    return obj


def make(value):
    """The object a `PyCall` describes (recursively); other values as they are."""
    if isinstance(value, PyCall):
        args = [make(a) for a in value.args]
        kwargs = {k: make(v) for k, v in value.kwargs}
        return _resolve(value.func)(*args, **kwargs)
    if isinstance(value, (list, tuple)):
        return type(value)(make(v) for v in value)
    return value


def call_layer(keras_layer, kind: LayerType, tensors: list):
    """Apply a Keras layer to its input tensors the way its class expects."""
    return EMITTERS[kind.name].apply(keras_layer, tensors)


def make_layer(layer: LayerCall, name: str | None = None):
    """The Keras layer for `layer`; GenError if the table cannot write it."""
    problems = Problems()
    made = emit(layer, problems, layer.call.span, name)
    problems.check()
    return make(made)


def build_model(model):
    """A Keras model with the checked model's layers, names and edges.

    `model` is a `CheckedModel`; a plain chain becomes `keras.Sequential`.
    GenError lists every layer the table of emitters cannot write.
    Layers are created in the order of their first application, as a script
    writes them, so that seeded runs initialise the same weights.
    """
    import keras

    inputs = {
        inp.name: keras.Input(shape=inp.shape[1:], dtype=inp.dtype, name=inp.name)
        for inp in model.inputs
    }
    problems, calls = Problems(), {}
    for node in model.nodes:
        if node.layer not in calls:
            layer = model.layers[node.layer]
            calls[node.layer] = emit(layer.call, problems, layer.span, node.layer)
    problems.check()
    layers = {name: make(made) for name, made in calls.items()}
    if model.sequential:
        first = next(iter(inputs.values()))
        return keras.Sequential([first, *(layers[n.layer] for n in model.nodes)], name=model.name)
    tensors = {(name, 0): tensor for name, tensor in inputs.items()}

    def tensor(ref):
        value = tensors[(ref.source, ref.app)]
        return value[ref.index] if ref.index is not None else value

    for node in model.nodes:
        args = [tensor(r) for r in node.inputs]
        kind = model.layers[node.layer].call.type
        tensors[(node.layer, node.app)] = call_layer(layers[node.layer], kind, args)
    outputs = [tensor(r) for r in model.outputs]
    return keras.Model(
        inputs=list(inputs.values()) if len(inputs) > 1 else next(iter(inputs.values())),
        outputs=outputs if len(outputs) > 1 else outputs[0],
        name=model.name,
    )
