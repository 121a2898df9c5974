"""Checked layers -> Keras layer objects. Imports Keras; only `run`, `predict`
and the Keras tests reach this module."""

from __future__ import annotations

from . import ir
from .argtypes import Named, Optional
from .layers.registry import LayerCall
from .signature import Param


def _modules():
    import keras

    return {
        "activation": keras.activations,
        "initializer": keras.initializers,
        "regularizer": keras.regularizers,
        "constraint": keras.constraints,
    }


def _named_kind(param: Param) -> Named | None:
    kind = param.type.inner if isinstance(param.type, Optional) else param.type
    return kind if isinstance(kind, Named) else None


def keras_value(param: Param, value):
    """One bound argument value as Keras takes it."""
    if isinstance(value, LayerCall):
        return make_layer(value)
    named = _named_kind(param)
    if named is not None and isinstance(value, ir.Call):
        allowed = named.entries()[value.name]
        config = {k: ir.plain(v) for k, v in zip(allowed, value.args)}
        config.update({kw.name: ir.plain(kw.value) for kw in value.kwargs})
        module = _modules()[named.kind]
        factory = getattr(module, value.name, None)
        if callable(factory):
            return factory(**config)
        return module.deserialize({"class_name": value.name, "config": config})
    return value


def layer_kwargs(layer: LayerCall) -> dict:
    """The arguments the user wrote, converted for the Keras constructor."""
    params = {p.name: p for p in layer.type.params}
    return {name: keras_value(params[name], layer.config[name]) for name in layer.config.explicit}


def call_layer(keras_layer, kind, tensors: list):
    """Apply a Keras layer to its input tensors the way its class expects."""
    if kind.spread_inputs:
        return keras_layer(*tensors)
    return keras_layer(tensors if kind.multi_input else tensors[0])


def make_layer(layer: LayerCall, name: str | None = None):
    import keras

    cls = getattr(keras.layers, layer.type.name)
    kwargs = layer_kwargs(layer)
    if name is not None:
        kwargs["name"] = name
    return cls(**kwargs)


def build_model(model):
    """A Keras model with the checked model's layers, names and edges.

    `model` is a `CheckedModel`; a plain chain becomes `keras.Sequential`.
    """
    import keras

    inputs = {
        inp.name: keras.Input(shape=inp.shape[1:], dtype=inp.dtype, name=inp.name)
        for inp in model.inputs
    }
    layers = {name: make_layer(layer.call, name) for name, layer in model.layers.items()}
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
