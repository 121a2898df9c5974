"""Does a generated build_model() build the checked model? Answered without Keras.

`gen` writes a spec with blocks as functions, loops and conditions (`blocks.py`).
Before it keeps that script, it runs the script's functions with stand-ins for
`keras` and `layers` that record each layer made (with Keras's automatic name where
the call gives none, counted as Keras counts), its arguments and the tensors it is
applied to, and compares them with the checked model: the same layers under the
same names, the same arguments (after the checker's own conversions, so that `3`
stands for `(3, 3)` where Keras takes either), the same edges, inputs and outputs.
Any difference, or any fault in running the functions, and `gen` writes the flat
script instead. Never imports Keras.
"""

from __future__ import annotations

import ast
import builtins

from nnspec.check.model import CheckedModel
from nnspec.diagnostics.records import Span
from nnspec.keras.calls import PyCall
from nnspec.keras.emitters import EMITTERS, LIST, ONE, SPREAD, Problems
from nnspec.keras.plan import Program, _layer_calls
from nnspec.syntax import ir
from nnspec.vocab.argtypes import ArgError
from nnspec.vocab.layers import LAYERS
from nnspec.vocab.layers.registry import LayerType
from nnspec.vocab.naming import AutoNames
from nnspec.vocab.params import REQUIRED, Param

_MISSING = object()  # an argument a call leaves out
_FAILED = object()  # a value the argument's type rejects
_NOWHERE = Span(0, 0, 0, 0)


class _Mismatch(Exception):
    """The script builds something else than the checked model."""


def builds(source: str, model: CheckedModel, program: Program) -> bool:
    """Whether `build_model()` of the script `source` builds `model` exactly."""
    recorder = _Recorder(model)
    try:
        namespace = _namespace(source, recorder)
        namespace["build_model"]()
        return _same(recorder, model, program)
    except Exception:  # noqa: BLE001  (a script that fails here is not kept: the flat one is)
        return False


def _namespace(source: str, recorder: _Recorder) -> dict:
    """The script's constants and functions, with `keras` and `layers` recorded."""
    tree = ast.parse(source)
    kept = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.Assign))]
    code = compile(ast.Module(kept, type_ignores=[]), "<generated>", "exec")
    namespace = {
        "__builtins__": builtins,
        "keras": _Keras(recorder, "keras"),
        "layers": _Keras(recorder, "layers"),
    }
    exec(code, namespace)  # noqa: S102  (nnspec's own script, spec text only in literals)
    return namespace


class _Tensor:
    def __init__(self, source: str, app: int = 0, index: int | None = None):
        self.key = (source, app, index)


class _Recorder:
    def __init__(self, model: CheckedModel):
        self.auto = AutoNames()
        self.shapes = {(n.layer, n.app): n.shape for n in model.nodes}
        self.layers: dict[str, PyCall] = {}
        self.nodes: dict[tuple[str, int], list] = {}
        self.inputs: list[PyCall] = []
        self.model: dict | None = None


class _Keras:
    """`keras`, `layers` and what hangs from them: each call recorded."""

    def __init__(self, recorder: _Recorder, path: str):
        self._recorder, self._path = recorder, path

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return _Keras(self._recorder, f"{self._path}.{name}")

    def __call__(self, *args, **kwargs):
        recorder, path = self._recorder, self._path
        if path == "keras.Input":
            recorder.inputs.append(PyCall(path, args, tuple(kwargs.items())))
            return _Tensor(kwargs["name"])
        if path == "keras.Model":
            recorder.model = kwargs
            return None
        if path.startswith("layers."):
            return _Layer(recorder, path, args, kwargs)
        return PyCall(path, _plain(args), tuple((k, _plain(v)) for k, v in kwargs.items()))


class _Layer:
    def __init__(self, recorder: _Recorder, path: str, args: tuple, kwargs: dict):
        self.kind = LAYERS[path.removeprefix("layers.")]
        self.recorder = recorder
        given = tuple((k, _plain(v)) for k, v in kwargs.items() if k != "name")
        self.call = PyCall(path, _plain(args), given)
        name = kwargs.get("name")
        self.name = name if name is not None else recorder.auto.take(self.kind.snake_name)
        self.applied = 0

    def __call__(self, *args):
        recorder = self.recorder
        several = len(args) == 1 and isinstance(args[0], (list, tuple))
        takes = SPREAD if len(args) > 1 else LIST if several else ONE
        if takes != EMITTERS[self.kind.name].takes:
            raise _Mismatch(f"{self.name} takes its inputs otherwise")
        tensors = args[0] if several else args
        if not all(isinstance(t, _Tensor) for t in tensors):
            raise _Mismatch(f"{self.name} applied to something else than tensors")
        if not self.applied:
            if self.name in recorder.layers:
                raise _Mismatch(f"two layers named {self.name}")
            recorder.layers[self.name] = self.call
            for inner in self.kind.builds:  # made when Keras builds it
                recorder.auto.count(inner)
        key = (self.name, self.applied)
        self.applied += 1
        recorder.nodes[key] = [t.key for t in tensors]
        shape = recorder.shapes.get(key)
        if isinstance(shape, list):
            return tuple(_Tensor(self.name, key[1], i) for i in range(len(shape)))
        return _Tensor(self.name, key[1])


def _plain(value):
    """A recorded argument: a layer given as one (a wrapper's) as its call."""
    if isinstance(value, _Layer):
        return value.call
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


# ---- the comparison -----------------------------------------------------------------------


def _same(recorder: _Recorder, model: CheckedModel, program: Program) -> bool:
    made = recorder.model
    if made is None or made.get("name") != model.name:
        return False
    inputs = [(i.name, 0, None) for i in model.inputs]
    outputs = [(r.source, r.app, r.index) for r in model.outputs]
    if _keys(made.get("inputs"), len(inputs) > 1) != inputs:
        return False
    if _keys(made.get("outputs"), len(outputs) > 1) != outputs:
        return False
    if recorder.inputs != [call for _, call in program.inputs]:
        return False
    nodes = {(n.layer, n.app): [(r.source, r.app, r.index) for r in n.inputs] for n in model.nodes}
    if recorder.nodes != nodes or recorder.layers.keys() != model.layers.keys():
        return False
    calls = _layer_calls(model, Problems())
    return all(
        _same_call(layer.call.type, recorder.layers[name], calls[name])
        for name, layer in model.layers.items()
    )


def _keys(value, several: bool) -> list | None:
    if several:
        ok = isinstance(value, list) and all(isinstance(t, _Tensor) for t in value)
        return [t.key for t in value] if ok else None
    return [value.key] if isinstance(value, _Tensor) else None


def _same_call(kind: LayerType, mine: PyCall, flat: PyCall) -> bool:
    """Whether the script's call makes the layer the flat script's call makes."""
    if mine.func != flat.func:
        return False
    got, want = _given(kind, mine), _given(kind, flat)
    for param in kind.params:
        value, wanted = got.get(param.name, _MISSING), want.get(param.name, _MISSING)
        if not (_identical(value, wanted) or _alike(param, value, wanted)):
            return False
    return True


def _given(kind: LayerType, made: PyCall) -> dict:
    """A call's arguments by parameter name (`name` aside)."""
    positional = [p.name for p in kind.params if p.positional]
    if len(made.args) > len(positional):
        raise _Mismatch(f"too many arguments to {made.func}")
    given = dict(zip(positional, made.args))
    known = {p.name for p in kind.params}
    for key, value in made.kwargs:
        if key != "name":
            if key in given or key not in known:
                raise _Mismatch(f"argument {key} of {made.func}")
            given[key] = value
    return given


def _alike(param: Param, value, wanted) -> bool:
    """Different values that the layer takes alike: the same once checked, and the
    script's in a form Keras takes (`3` for a kernel of `(3, 3)`, `1` for `1.0`)."""
    converted = _converted(param, value)
    if converted is _FAILED or not _identical(converted, _converted(param, wanted)):
        return False
    return value is _MISSING or _keras_takes(value, converted)


def _converted(param: Param, value):
    if value is _MISSING:
        return _FAILED if param.default is REQUIRED else param.default
    try:
        return param.type.convert(_as_ir(value))
    except (ArgError, TypeError):
        return _FAILED


def _as_ir(value) -> ir.Value:
    if value is None or isinstance(value, (bool, int, float, str)):
        return ir.Const(value, _NOWHERE)
    if isinstance(value, (list, tuple)):
        return ir.Seq(tuple(_as_ir(v) for v in value), isinstance(value, list), _NOWHERE)
    if isinstance(value, dict):
        entries = tuple(ir.Entry(k, _as_ir(v), _NOWHERE) for k, v in value.items())
        return ir.Mapping(entries, _NOWHERE)
    raise TypeError(f"not a plain value: {value!r}")


def _keras_takes(value, converted) -> bool:
    if _identical(value, converted):
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int) and isinstance(converted, float):
        return float(value) == converted
    if isinstance(value, int) and isinstance(converted, tuple):  # an IntTuple's shorthand
        return bool(converted) and all(_identical(value, c) for c in converted)
    if isinstance(value, (list, tuple)) and isinstance(converted, (list, tuple)):
        return len(value) == len(converted) and all(map(_keras_takes, value, converted))
    return False


def _identical(a, b) -> bool:
    """Equal and of the same types (`1` is not `1.0`, nor `True`)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(map(_identical, a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_identical(a[k], b[k]) for k in a)
    return a == b
