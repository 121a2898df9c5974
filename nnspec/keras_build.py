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
        return module.deserialize({"class_name": value.name, "config": config})
    return value


def layer_kwargs(layer: LayerCall) -> dict:
    """The arguments the user wrote, converted for the Keras constructor."""
    params = {p.name: p for p in layer.type.params}
    return {name: keras_value(params[name], layer.config[name]) for name in layer.config.explicit}


def make_layer(layer: LayerCall, name: str | None = None):
    import keras

    cls = getattr(keras.layers, layer.type.name)
    kwargs = layer_kwargs(layer)
    if name is not None:
        kwargs["name"] = name
    return cls(**kwargs)
