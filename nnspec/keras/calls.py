"""Checked values -> the Keras calls that express them, written once for both
back ends: `gen` renders a `PyCall` as source through the templates, `run`
makes the object it names (`builder.make`). Layers go through the table of
emitters (`emitters.py`), which builds on `call`. Never imports Keras.

Arguments appear as a Keras user writes them: required arguments by position,
the rest by keyword, and values equal to the default left out.
"""

from __future__ import annotations

import keyword
import math
import re

from msgspec import Struct

from nnspec.syntax import ir
from nnspec.vocab.argtypes import Named, Optional
from nnspec.vocab.catalog import LOSS_ALIASES, BoundCall
from nnspec.vocab.params import Config, Param

# Named values whose Keras class is not the CamelCase of their name.
_CLASS_NAMES = {
    "uniform": "RandomUniform",
    "normal": "RandomNormal",
    "auc": "AUC",
    "kl_divergence": "KLDivergence",
}
_MODULES = {
    "activation": "activations",
    "initializer": "initializers",
    "regularizer": "regularizers",
    "constraint": "constraints",
    "loss": "losses",
    "metric": "metrics",
}


class PyCall(Struct, frozen=True):
    """`func(*args, **kwargs)`; `func` is dotted from the script's imports
    (`layers.Dense`, `keras.optimizers.Adam`)."""

    func: str
    args: tuple = ()
    kwargs: tuple[tuple[str, object], ...] = ()


class Code(Struct, frozen=True):
    """Python source standing for a value: an expression of a block's parameters or a
    loop's variables (`4 * filters`), made by `blocks.py` from spec values through
    `literal` and `identifier` alone."""

    text: str


def literal(value) -> str:
    """A number, string, boolean or None as Python source."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    raise TypeError(f"not a literal: {value!r}")


def identifier(name: str) -> str:
    """`name` if it is safe to write as a Python identifier, else ValueError."""
    if not name.isidentifier() or keyword.iskeyword(name) or not name.isascii():
        raise ValueError(f"not a Python identifier: {name!r}")
    return name


def python_name(name: str, taken) -> str:
    """A Python variable for a spec name that no name in `taken` has: `conv-1` ->
    `conv_1`, `1` -> `x1`, `class` -> `class_`, then trailing underscores; never
    `l`, `O` or `I` (ruff's E741)."""
    var = re.sub(r"[^0-9A-Za-z_]", "_", name)
    if not (var[:1].isalpha() or var[:1] == "_"):
        var = f"x{var}"
    while var in taken or keyword.iskeyword(var) or var in ("l", "O", "I"):
        var += "_"
    return identifier(var)


def class_name(name: str) -> str:
    name = LOSS_ALIASES.get(name, name)
    return _CLASS_NAMES.get(name) or "".join(part.capitalize() for part in name.split("_"))


def _is_default(param: Param, value) -> bool:
    return not param.required and type(value) is type(param.default) and value == param.default


def named_value(kind: str, value):
    """A catalog name (`"relu"`), or its class called with arguments."""
    if not isinstance(value, ir.Call):
        return value
    entries = _named_entries(kind)
    kwargs = [(k, ir.plain(v)) for k, v in zip(entries[value.name], value.args)]
    kwargs += [(kw.name, ir.plain(kw.value)) for kw in value.kwargs]
    return PyCall(f"keras.{_MODULES[kind]}.{class_name(value.name)}", (), tuple(kwargs))


def _named_entries(kind: str) -> dict:
    from nnspec.vocab.catalog import CONSTRAINTS, INITIALIZERS, METRICS, REGULARIZERS, loss_kwargs

    tables = {
        "initializer": INITIALIZERS,
        "regularizer": REGULARIZERS,
        "constraint": CONSTRAINTS,
        "metric": METRICS,
    }
    return tables[kind] if kind in tables else loss_kwargs()


def _argument(param: Param, value):
    """One checked argument as Keras takes it."""
    kind = param.type.inner if isinstance(param.type, Optional) else param.type
    if isinstance(kind, Named):
        return named_value(kind.kind, value)
    if isinstance(value, BoundCall):  # an optimizer's learning-rate schedule
        return bound_call(value)
    return value


def bound_call(bound: BoundCall) -> PyCall:
    """An optimizer, schedule or callback: its Keras class called with its arguments."""
    return call(f"keras.{bound.module}.{bound.callee.name}", bound.callee.params, bound.config)


def call(
    func: str,
    params: tuple[Param, ...],
    config: Config,
    positional: bool = True,
    exprs: dict[str, Code] | None = None,
) -> PyCall:
    """`func` called with the arguments the user wrote that differ from the defaults;
    `exprs` holds arguments written as expressions, always written, as they vary."""
    args, kwargs = [], []
    exprs = exprs or {}
    for param in params:
        if param.name in exprs:
            value = exprs[param.name]
        elif param.name not in config.explicit or _is_default(param, config[param.name]):
            positional = positional and param.required
            continue
        else:
            value = _argument(param, config[param.name])
        if positional and param.required and param.positional:
            args.append(value)
        else:
            positional = False
            kwargs.append((param.name, value))
    return PyCall(func, tuple(args), tuple(kwargs))
