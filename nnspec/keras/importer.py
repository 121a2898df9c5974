"""Keras model file -> spec text: `nnspec import`.

Only the model's config is read: the `config.json` inside a `.keras` zip, the
`model_config` attribute of an `.h5` file (with h5py), or the JSON text of
`model.to_json()`. Neither Keras nor TensorFlow is imported, and no weights
are loaded.

Each Keras layer maps to its registry entry by class name; its config keys
are the registry's parameter names, and only values that differ from the
registry's defaults are written. Sequential models become a `sequential`
block, Functional ones a `graph` of named layers and edges. The text is
compiled before it is returned: a spec that does not check, or whose graph is
not the model's, is an import bug and fails instead of being written.

The `compile_config` of a model saved after `compile()` (an `.h5` file's
`training_config`) becomes a `compile` block, written the same way. What a spec
cannot express is left out with a note; the whole block when it is the optimizer
or a loss, or when the block does not check (then it is written as a comment).
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from collections import Counter
from pathlib import Path

from msgspec import Struct, field

from nnspec.check.graph import inner_layers
from nnspec.check.model import CheckedModel
from nnspec.check.pipeline import compile_text
from nnspec.diagnostics.records import NO_SPAN
from nnspec.errors import InternalError, NnspecError
from nnspec.files import open_input
from nnspec.keras.calls import class_name
from nnspec.syntax import ir
from nnspec.syntax.parser import STATEMENT_KEYWORDS
from nnspec.vocab.argtypes import ArgError, IntTuple, Named, Optional
from nnspec.vocab.catalog import (
    CONSTRAINTS,
    INITIALIZERS,
    METRICS,
    OPTIMIZERS,
    REGULARIZERS,
    SCHEDULES,
    Callee,
    loss_kwargs,
)
from nnspec.vocab.layers.registry import LAYERS, LayerArg, LayerType, ShapeError, resolve_layer
from nnspec.vocab.naming import AutoNames, snake_case
from nnspec.vocab.params import KERAS_ONLY, Param
from nnspec.vocab.values import show_value

RESERVED = STATEMENT_KEYWORDS | {"true", "True", "false", "False", "None"}
MAX_LINE = 96  # chains longer than this are split at a layer name

# Keras's own defaults of every initializer, regularizer and constraint config
# (`cls().get_config()`, checked against Keras in tests/test_import.py): config
# values equal to these are left out of the spec.
KERAS_DEFAULTS: dict[str, dict[str, object]] = {
    "Zeros": {},
    "Ones": {},
    "Identity": {},
    "RandomUniform": {"seed": None, "minval": -0.05, "maxval": 0.05},
    "RandomNormal": {"seed": None, "mean": 0.0, "stddev": 0.05},
    "TruncatedNormal": {"seed": None, "mean": 0.0, "stddev": 0.05},
    **{
        cls: {"seed": None, "input_axes": None, "output_axes": None}
        for cls in (
            "GlorotNormal",
            "GlorotUniform",
            "HeNormal",
            "HeUniform",
            "LecunNormal",
            "LecunUniform",
        )
    },
    "Constant": {"value": 0.0},
    "VarianceScaling": {
        "seed": None,
        "scale": 1.0,
        "mode": "fan_in",
        "distribution": "truncated_normal",
        "input_axes": None,
        "output_axes": None,
    },
    "Orthogonal": {"seed": None, "gain": 1.0},
    "L1": {"l1": 0.01},
    "L2": {"l2": 0.01},
    "L1L2": {"l1": 0.0, "l2": 0.0},
    "OrthogonalRegularizer": {"factor": 0.01, "mode": "rows"},
    "MaxNorm": {"max_value": 2, "axis": 0},
    "MinMaxNorm": {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0},
    "NonNeg": {},
    "UnitNorm": {"axis": 0},
}
_CATALOGS = {"initializer": INITIALIZERS, "regularizer": REGULARIZERS, "constraint": CONSTRAINTS}

_IDENTITY_KEYS = {"name", "shared_object_id", "build_config"}  # not part of what a layer does
_CALL_KWARGS = {"training": (None, False), "mask": (None,)}


class ImportFailed(NnspecError):
    """The file cannot be imported; `problems` lists every reason found."""

    def __init__(self, problems: list[str], hint: str | None = None):
        super().__init__("\n".join(problems), [hint] if hint else [])
        self.problems = problems


class Imported(Struct, frozen=True):
    text: str
    model: CheckedModel
    notes: tuple[str, ...] = ()  # e.g. layers renamed to valid names


# ---- reading the config ------------------------------------------------------------


def read_config(path: str | Path) -> dict:
    """The model config of a `.keras`, `.h5` or `to_json()` file (format by content)."""
    path = Path(path)
    with open_input(path) as f:  # a file that cannot be read is a usage error
        head = f.read(8)
        f.seek(0)
        try:
            text = _config_text(f, head, path.name)
            config = json.loads(text)
        except (OSError, zipfile.BadZipFile, UnicodeDecodeError, ValueError) as err:
            raise ImportFailed(
                [f"cannot read {path.name}: {_unreadable(path, head, err)}"],
                "expected a .keras file, an .h5 file or the JSON of model.to_json()",
            ) from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ImportFailed(
            [f"{path.name} is not a Keras model config"],
            "expected a .keras file, an .h5 file or the JSON of model.to_json()",
        )
    _check_version(str(config.get("keras_version", "3")))
    return config


def _unreadable(path: Path, head: bytes, err: Exception) -> str:
    """Why the file `path`, which begins with `head`, does not read: by its content,
    and its suffix where the content is no model file's at all."""
    if head.startswith(b"PK"):
        return f"a zip archive cut short or damaged ({err})"
    if head == b"\x89HDF\r\n\x1a\n":
        return str(err)
    if path.suffix == ".keras":
        return "not a .keras file: not a zip archive"
    if path.suffix in (".h5", ".hdf5"):
        return "not an .h5 file: not an HDF5 file"
    return f"not JSON ({err})"


def _config_text(f, head: bytes, name: str) -> bytes:
    """The JSON text of the model config in the open file `f`: the `config.json` of a
    `.keras` zip, the `model_config` of an `.h5` file, or the whole file."""
    if head.startswith(b"PK"):
        with zipfile.ZipFile(f) as archive:  # only config.json is read, not the weights
            if "config.json" not in archive.namelist():
                raise ImportFailed([f"{name} is a zip file without config.json"])
            return archive.read("config.json")
    if head == b"\x89HDF\r\n\x1a\n":
        import h5py

        with h5py.File(f, "r") as h5:
            text = h5.attrs.get("model_config")
            if text is None:
                raise ImportFailed(
                    [f"{name} has no model config"],
                    "a weights-only file (`save_weights`) holds no architecture",
                )
            if h5.attrs.get("keras_version") is not None:
                _check_version(str(h5.attrs["keras_version"]))
            training = h5.attrs.get("training_config")
            return text if training is None else _with_training_config(text, training)
    return f.read()


def _with_training_config(text, training) -> str:
    """The model config with an `.h5` file's `training_config` as `compile_config`,
    as a `.keras` file keeps it (`optimizer_config` there is `optimizer`)."""
    config, compile_config = json.loads(text), json.loads(training)
    compile_config["optimizer"] = compile_config.pop("optimizer_config", None)
    config["compile_config"] = compile_config
    return json.dumps(config)


def _check_version(version: str) -> None:
    if not version.startswith("3"):
        raise ImportFailed(
            [f"the model was saved by Keras {version}; nnspec reads Keras 3 configs"],
            "load and save it again with Keras 3: keras.models.load_model(path).save('model.keras')",
        )


def import_file(path: str | Path, flat: bool = False) -> Imported:
    return import_config(read_config(path), Path(path).name, flat)


def import_config(config: dict, source: str = "the model", flat: bool = False) -> Imported:
    """Spec text for a Keras model config; ImportFailed lists what cannot be imported.

    Repeated structure is folded into blocks and loops (`folding.py`) unless `flat`."""
    try:
        model = _Reader(config).read()
    except (KeyError, IndexError, TypeError, AttributeError, ValueError) as err:
        raise ImportFailed(
            [f"malformed model config ({type(err).__name__}: {err})"],
            "expected the config Keras 3 writes: model.to_json(), a .keras or an .h5 file",
        ) from None
    # Laid out only once it is the text written: a folded import replaces it.
    layout = _format if flat else str
    text = layout(model.spec_text(source))
    result = compile_text(text)
    if not result.ok and model.compile:
        # Settings Keras took that nnspec refuses (say, a loss that does not fit the
        # output's activation): written as a comment, the model imported without them.
        found = "; ".join(f"{d.code} {d.message}" for d in result.errors)
        model.notes.append(f"compile settings left out (commented out): {found}")
        text = layout(model.spec_text(source, compile_checks=False))
        result = compile_text(text)
    if not result.ok or result.model is None:
        found = "; ".join(f"{d.code} {d.message}" for d in result.errors)
        raise InternalError(f"the imported spec does not check: {found}")
    if model.edges() != _checked_edges(result.model):
        raise InternalError("the imported spec does not reproduce the graph")
    folded = None if flat else _folded(model, text, result.model)
    if folded is not None:
        return Imported(folded[0], folded[1], tuple(model.notes))
    if not flat and _format(text) != text:
        text = _format(text)
        result = compile_text(text)  # the checked model's positions are the text's
    return Imported(text, result.model, tuple(model.notes))


def _folded(model: _Model, text: str, checked: CheckedModel) -> tuple[str, CheckedModel] | None:
    """The flat `text` folded into blocks and loops, proven to make `checked`; None
    where folding does not apply or fails: the import stays flat, never wrong."""
    from nnspec.keras.folding import fold

    try:
        return fold(model, text, checked, _format)
    except Exception:  # noqa: BLE001  (a folding fault leaves the import flat)
        return None


def _format(text: str) -> str:
    from nnspec.syntax.fmt import FormatError, format_text

    try:
        return format_text(text)
    except FormatError as err:
        raise InternalError(f"the imported spec does not parse: {err}") from None


# ---- the model, as read ------------------------------------------------------------


class Ref(Struct, frozen=True):
    """Output `index` of application `app` of `source`, as Keras's keras_history says."""

    source: str
    app: int = 0
    index: int = 0


class _Layer(Struct):
    name: str
    call: ir.Call
    apps: list[list[Ref]] = field(default_factory=list)  # the inputs of each application
    multi_output: bool = False
    multi_input: bool = False


class _Model(Struct):
    name: str
    sequential: bool
    inputs: dict[str, tuple[tuple, str]]  # name -> (shape without batch, dtype)
    layers: dict[str, _Layer]
    outputs: list[Ref]
    notes: list[str]
    compile: list[tuple[str, str]] | None = None  # (setting, value as a spec writes it)

    def edges(self) -> set:
        """Every application with its inputs, comparable with `_checked_edges`."""
        out = set()
        for layer in self.layers.values():
            for app, refs in enumerate(layer.apps):
                out.add((layer.name, app, tuple(self._key(r) for r in refs)))
        return out

    def _key(self, ref: Ref) -> tuple:
        multi = ref.source in self.layers and self.layers[ref.source].multi_output
        return (ref.source, ref.app, ref.index if multi else None)

    # ---- text ------------------------------------------------------------------

    def spec_text(self, source: str, compile_checks: bool = True) -> str:
        lines = [f"# Imported from {source} by `nnspec import`.", f"model {self.name}", ""]
        for name, (shape, dtype) in self.inputs.items():
            lines.append(
                f"input {name}: {show_value(shape)}"
                + (f", dtype={dtype}" if dtype != "float32" else "")
            )
        lines.append("")
        if self.sequential:
            lines += ["sequential {", *self._sequential_items(), "}"]
        else:
            defs = [
                f"    {layer.name} = {_show_call(layer.call)}" for layer in self.layers.values()
            ]
            lines += ["graph {", *defs, "", *(f"    {c}" for c in self._chains()), "}", ""]
            lines.append("output " + ", ".join(self._ref(r) for r in self.outputs))
        if self.compile:
            block = ["compile {", *(f"    {k}: {v}" for k, v in self.compile), "}"]
            lines += ["", *(block if compile_checks else [f"# {line}" for line in block])]
        return "\n".join(lines) + "\n"

    def _sequential_items(self) -> list[str]:
        """Each layer, named only where nnspec's default name would differ
        (counted as the checker counts them, `check/graph.py`)."""
        auto_names, taken, items = AutoNames(), set(self.inputs), []
        for layer in self.layers.values():
            for prefix in inner_layers(layer.call):
                auto_names.count(prefix)
            kind = LAYERS[layer.call.name]
            if auto_names.peek(kind.snake_name, taken) == layer.name:
                auto_names.take(kind.snake_name, taken)
                items.append(f"    {_show_call(layer.call)}")
            else:
                items.append(f"    {layer.name} = {_show_call(layer.call)}")
            taken.add(layer.name)
            for prefix in kind.builds:
                auto_names.count(prefix)
        return items

    def _ref(self, ref: Ref) -> str:
        multi = ref.source in self.layers and self.layers[ref.source].multi_output
        return f"{ref.source}.{ref.index}" if multi else ref.source

    def _chains(self) -> list[str]:
        """Edges in topological order; consecutive ones joined into chains.

        A shared layer (applied several times) cannot be referred to by name,
        so each application is written inside the chain that uses its result.
        """
        chains: list[tuple[list[str], bool]] = []  # elements, whether it may move up
        for name, app in self._order():
            layer = self.layers[name]
            if len(layer.apps) > 1:
                continue  # written inside its consumer's chain
            refs = layer.apps[app]
            if layer.multi_input and not any(self._shared(r) for r in refs):
                chains.append((["[" + ", ".join(self._ref(r) for r in refs) + "]", name], True))
            else:
                alone = not layer.multi_input and not self._shared(refs[0])
                chains += [([*self._expression(r), name], alone) for r in refs]
        joined: list[list[str]] = []
        tails: dict[str, int] = {}  # a chain's last layer -> its index in `joined`
        for chain, movable in chains:
            head = chain[0].split(".")[0]
            if movable and head in tails:
                index = tails.pop(head)
                joined[index] = joined[index][:-1] + chain
            else:
                index = len(joined)
                joined.append(chain)
            tails[chain[-1]] = index
        return [line for chain in joined for line in self._split(chain)]

    def _shared(self, ref: Ref) -> bool:
        return ref.source in self.layers and len(self.layers[ref.source].apps) > 1

    def _expression(self, ref: Ref) -> list[str]:
        """Chain elements that produce `ref`: its name, or the shared application itself."""
        if not self._shared(ref):
            return [self._ref(ref)]
        (source,) = self.layers[ref.source].apps[ref.app]
        return [*self._expression(source), self._ref(ref)]

    def _split(self, chain: list[str]) -> list[str]:
        """A chain as lines of at most MAX_LINE characters, split at plain layer names."""
        lines, current = [], [chain[0]]
        for element in chain[1:]:
            last = current[-1]
            splittable = last in self.layers and not self._shared(Ref(last))
            if splittable and len(" -> ".join([*current, element])) > MAX_LINE:
                lines.append(" -> ".join(current))
                current = [last]
            current.append(element)
        lines.append(" -> ".join(current))
        return lines

    def _order(self) -> list[tuple[str, int]]:
        """Every application, each after the applications it reads (stable)."""
        done: set[tuple[str, int]] = set()
        order: list[tuple[str, int]] = []
        pending = [
            (name, app) for name, layer in self.layers.items() for app in range(len(layer.apps))
        ]
        while pending:
            rest = []
            for key in pending:
                refs = self.layers[key[0]].apps[key[1]]
                if all(r.source in self.inputs or (r.source, r.app) in done for r in refs):
                    done.add(key)
                    order.append(key)
                else:
                    rest.append(key)
            if len(rest) == len(pending):
                raise ImportFailed(["the model's graph has a cycle or a missing layer"])
            pending = rest
        return order


def _checked_edges(model: CheckedModel) -> set:
    return {
        (node.layer, node.app, tuple((r.source, r.app, r.index) for r in node.inputs))
        for node in model.nodes
    }


# ---- values ------------------------------------------------------------------------


def _const(value) -> ir.Value:
    """A JSON value as IR: lists become tuples, float32-rounded floats their short form."""
    if isinstance(value, list):
        return ir.Seq(tuple(_const(v) for v in value), False, NO_SPAN)
    if isinstance(value, dict):
        return ir.Mapping(tuple(ir.Entry(k, _const(v), NO_SPAN) for k, v in value.items()), NO_SPAN)
    if isinstance(value, float):
        value = _short_float(value)
    return ir.Const(value, NO_SPAN)


def _short_float(value: float) -> float:
    """`1e-4` for 9.999999747378752e-05: Keras stores some arguments as float32."""
    try:
        single = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        return value
    if single != value:
        return value
    for digits in range(1, 10):
        short = float(f"{value:.{digits}g}")
        if struct.unpack("f", struct.pack("f", short))[0] == value:
            return short
    return value


def _show(value: ir.Value, param: Param | None = None) -> str:
    if isinstance(value, ir.Ident):
        return value.name
    if isinstance(value, ir.Call):
        return _show_call(value)
    return show_value(ir.plain(value), param)


def _show_call(call: ir.Call) -> str:
    kind = LAYERS.get(call.name)
    params = kind.params if kind else ()
    positional = [p for p in params if p.positional]
    by_name = {p.name: p for p in params}
    parts = [
        _show(v, positional[i] if i < len(positional) else None) for i, v in enumerate(call.args)
    ]
    parts += [f"{kw.name}={_show(kw.value, by_name.get(kw.name))}" for kw in call.kwargs]
    return f"{call.name}({', '.join(parts)})"


def _named_class(kind: str, cls: str) -> str | None:
    """The catalog name of a Keras initializer/regularizer/constraint class."""
    names = [n for n in _CATALOGS[kind] if class_name(n) == cls]
    names.sort(key=lambda n: n != snake_case(cls))  # `random_normal` before `normal`
    return names[0] if names else None


def _builtin(entry: dict) -> bool:
    """A Keras class, not a custom one that happens to share its name."""
    module = entry.get("module", "keras")
    return entry.get("registered_name") is None and str(module).startswith("keras")


# ---- layers ------------------------------------------------------------------------


class _Reader:
    """Reads one model config; collects every problem before failing."""

    def __init__(self, config: dict):
        self.config = config
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.names: dict[str, str] = {}  # Keras name -> nnspec name

    def fail_if_problems(self) -> None:
        if self.problems:
            raise ImportFailed(
                self.problems,
                "nnspec imports the layers and arguments of its registry, "
                "listed in docs/language.md (Layers)",
            )

    def name(self, keras_name: str) -> str:
        """A valid, unique nnspec name for a Keras layer or input name."""
        if keras_name in self.names:
            return self.names[keras_name]
        name = re.sub(r"\W", "_", keras_name, flags=re.ASCII) or "layer"
        if name[0].isdigit():
            name = "_" + name
        if name in RESERVED:
            name += "_"
        base, n = name, 1
        while name in self.names.values():
            n += 1
            name = f"{base}_{n}"
        if name != keras_name:
            self.notes.append(f"Keras name `{keras_name}` written as `{name}`")
        self.names[keras_name] = name
        return name

    # ---- the model ---------------------------------------------------------------

    def read(self) -> _Model:
        kind = self.config.get("class_name")
        config = self.config.get("config")
        if kind not in ("Sequential", "Functional", "Model") or not isinstance(config, dict):
            raise ImportFailed(
                [f"`{kind}` is not a Sequential or Functional model"],
                "a subclassed model has no layer graph in its config; "
                "nnspec imports Sequential and Functional models",
            )
        if not isinstance(config.get("layers"), list):
            raise ImportFailed(
                [f"the config of `{kind}` model `{config.get('name')}` lists no layers"],
                "a subclassed model has no layer graph in its config; "
                "nnspec imports Sequential and Functional models",
            )
        model_name = self.name(str(config.get("name") or "model"))
        self.names.clear()  # the model name does not take a layer's name
        model = (
            self._sequential(config, model_name)
            if kind == "Sequential"
            else self._functional(config, model_name)
        )
        self.fail_if_problems()
        reader = _CompileReader(self.names, self.notes, len(model.outputs))
        model.compile = reader.read(self.config.get("compile_config"))
        return model

    def _sequential(self, config: dict, model_name: str) -> _Model:
        entries = list(config["layers"])
        if entries and entries[0].get("class_name") == "InputLayer":
            name, shape, dtype = self._input(entries.pop(0))
        elif config.get("build_input_shape"):
            name, dtype = self.name("input_layer"), "float32"
            shape = _shape(config["build_input_shape"])
        else:
            raise ImportFailed(
                [f"Sequential model `{config.get('name')}` has no input shape"],
                "build the model (or start it with keras.Input) before saving it",
            )
        layers: dict[str, _Layer] = {}
        previous = Ref(name)
        for position, entry in enumerate(entries, 1):
            keras_name = _layer_name(entry)
            call = self.layer(entry, f"layer {position} `{keras_name}`")
            if call is None:
                continue
            layer = _Layer(self.name(keras_name), call, [[previous]])
            layers[layer.name] = layer
            previous = Ref(layer.name)
        return _Model(model_name, True, {name: (shape, dtype)}, layers, [previous], self.notes)

    def _functional(self, config: dict, model_name: str) -> _Model:
        inputs: dict[str, tuple[tuple, str]] = {}
        layers: dict[str, _Layer] = {}
        for entry in config["layers"]:
            keras_name = _layer_name(entry)
            if entry.get("class_name") == "InputLayer":
                name, shape, dtype = self._input(entry)
                inputs[name] = (shape, dtype)
                continue
            where = f"layer `{keras_name}`"
            if _layer_type(entry) is None:
                sources = dict.fromkeys(_sources(entry.get("inbound_nodes", [])))
                sources = ", ".join(f"`{n}`" for n in sources)
                self.unsupported(entry, f"{where} (applied to {sources or 'nothing'})")
                continue
            nodes = [
                self._node(node, f"{where} (call {app + 1})")
                for app, node in enumerate(entry.get("inbound_nodes") or [])
            ]
            shapes = [in_shapes for _, in_shapes in nodes]
            call = self.layer(entry, where, shapes[0] if shapes else None)
            if call is None:
                continue
            layer = _Layer(self.name(keras_name), call, [refs for refs, _ in nodes])
            self._shape_facts(layer, shapes, where)
            layers[layer.name] = layer
        order = [self.name(h[0]) for h in _history_list(config.get("input_layers"))]
        inputs = {n: inputs[n] for n in order if n in inputs} | inputs
        outputs = [self._history(h) for h in _history_list(config.get("output_layers"))]
        self._check_expressible(inputs, layers, outputs)
        return _Model(model_name, False, inputs, layers, outputs, self.notes)

    def _input(self, entry: dict) -> tuple[str, tuple, str]:
        config = entry.get("config", {})
        shape = config.get("batch_shape") or config.get("batch_input_shape")
        if not shape:
            self.problems.append(f"input `{_layer_name(entry)}` has no shape")
            shape = [None, 1]
        if shape[0] is not None:
            self.problems.append(
                f"input `{_layer_name(entry)}` has a fixed batch size ({shape[0]}), "
                "which a spec cannot express"
            )
        for flag in ("sparse", "ragged"):
            if config.get(flag):
                self.problems.append(f"input `{_layer_name(entry)}` is {flag}: not supported")
        dtype = config.get("dtype") or "float32"
        if isinstance(dtype, dict):
            dtype = dtype.get("config", {}).get("name", "float32")
        return self.name(_layer_name(entry)), _shape(shape), dtype

    def _node(self, node, where: str) -> tuple[list[Ref], list]:
        """The input refs and their shapes of one application (Keras 3 node format)."""
        if not isinstance(node, dict):
            self.problems.append(f"{where}: unknown inbound node format")
            return [], []
        refs, shapes = [], []

        def visit(value):
            if isinstance(value, list):
                for item in value:
                    visit(item)
            elif isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
                refs.append(self._history(value["config"]["keras_history"]))
                shapes.append(_shape_or_none(value["config"].get("shape")))
            else:
                self.problems.append(f"{where}: a call argument nnspec cannot express: {value!r}")

        visit(node.get("args", []))
        for key, value in (node.get("kwargs") or {}).items():
            if value not in _CALL_KWARGS.get(key, ()):
                self.problems.append(
                    f"{where} is called with `{key}={json.dumps(value)[:60]}`, "
                    "which a spec cannot express"
                )
        return refs, shapes

    def _history(self, history) -> Ref:
        source, app, index = history
        return Ref(self.name(source), app, index)

    def _shape_facts(self, layer: _Layer, shapes: list, where: str) -> None:
        """How many inputs and outputs the layer has, from the registry's shape rule."""
        kind = LAYERS[layer.call.name]
        layer.multi_input = kind.multi_input
        for refs in layer.apps:
            if not kind.multi_input and len(refs) != 1:
                self.problems.append(
                    f"{where}: {kind.name} takes one input, called with {len(refs)}"
                )
        x = shapes[0] if shapes else None
        if x is None or None in x:
            return  # an unknown shape: the compiled spec tells
        try:
            out = kind.output(resolve_layer(layer.call).config, x if kind.multi_input else x[0])
        except (ArgError, ShapeError):
            return  # reported when the spec is compiled
        layer.multi_output = isinstance(out, list)

    def _check_expressible(self, inputs, layers: dict[str, _Layer], outputs: list[Ref]) -> None:
        """What a spec cannot write: an input as an output, and a shared layer whose
        result goes anywhere but into exactly one layer (a spec writes each shared
        application inside the chain that uses it)."""
        uses = Counter(
            (ref.source, ref.app)
            for layer in layers.values()
            for refs in layer.apps
            for ref in refs
        )
        outputs_of = {(ref.source, ref.app) for ref in outputs}
        for ref in outputs:
            if ref.source in inputs:
                self.problems.append(f"model output `{ref.source}` is an input: not supported")
        for layer in layers.values():
            if len(layer.apps) < 2:
                continue
            if layer.multi_input:
                self.problems.append(
                    f"layer `{layer.name}` ({layer.call.name}) takes several inputs and is "
                    f"applied {len(layer.apps)} times: nnspec shares only one-input layers"
                )
            for app in range(len(layer.apps)):
                if uses[(layer.name, app)] != 1 or (layer.name, app) in outputs_of:
                    self.problems.append(
                        f"shared layer `{layer.name}`: the result of call {app + 1} is used "
                        "other than by exactly one layer, which a spec cannot express"
                    )

    # ---- one layer ---------------------------------------------------------------

    def layer(
        self, entry: dict, where: str, shapes: list | None = None, wrapped: bool = False
    ) -> ir.Call | None:
        """The nnspec call for one serialized Keras layer; None after a problem.

        `shapes` are the input shapes of its first application, where known.
        """
        cls, config = entry.get("class_name"), entry.get("config")
        kind = _layer_type(entry)
        if kind is None:
            self.unsupported(entry, where)
            return None
        params = {p.name: p for p in kind.params}
        for key, value in config.items():
            if key in params or (key in KERAS_ONLY and KERAS_ONLY[key].ignores(value)):
                continue
            if key == "zero_output_for_mask" and wrapped:  # Bidirectional sets it
                continue
            self.problems.append(
                f"{where} ({cls}): argument `{key}={json.dumps(value)[:60]}` is not supported"
            )
        args, kwargs, positional = [], [], True
        for param in kind.params:
            if param.name not in config:
                if param.required:
                    self.problems.append(f"{where} ({cls}): no `{param.name}` in the config")
                positional = positional and param.required
                continue
            value = self.argument(kind.name, param, config, where, shapes)
            if value is None:
                positional = positional and param.required
            elif positional and param.required and param.positional:
                args.append(value)
            else:
                positional = False
                kwargs.append(ir.Kwarg(param.name, value, NO_SPAN))
        return ir.Call(kind.name, tuple(args), tuple(kwargs), NO_SPAN, NO_SPAN)

    def unsupported(self, entry: dict, where: str) -> None:
        module = entry.get("registered_name") or entry.get("module")
        self.problems.append(
            f"{where}: unsupported layer type `{entry.get('class_name')}`"
            + ("" if _builtin(entry) else f" (custom, from `{module}`)")
        )

    def argument(
        self, layer: str, param: Param, config: dict, where: str, shapes: list | None
    ) -> ir.Value | None:
        """One argument as nnspec writes it; None when it is the default."""
        raw = config[param.name]
        if (
            param.default is None
            and raw is not None
            and raw == _keras_fill(param.name, config, shapes)
        ):
            return None
        kind = param.type.inner if isinstance(param.type, Optional) else param.type
        if raw is None:
            value: ir.Value | None = ir.Const(None, NO_SPAN)
        elif param.name == "dtype":
            name = _policy_name(raw)
            if name is None:
                self.problems.append(f"{where}: dtype policy {json.dumps(raw)[:60]} not supported")
            if name in (None, "float32"):
                return None
            value = ir.Const(name, NO_SPAN)
        elif isinstance(kind, Named):
            value = self.named(kind.kind, raw, f"{where} ({layer}) `{param.name}`")
            if value is None:
                return None
        elif isinstance(kind, LayerArg):
            if param.name == "backward_layer" and _is_mirror(raw, config.get("layer")):
                return None
            value = self.layer(raw, f"{where}, wrapped layer", wrapped=True)
            if value is None:
                return None
        else:
            value = _const(raw)
        try:
            checked = param.type.convert(value)
        except ArgError as err:
            self.problems.append(f"{where} ({layer}) `{param.name}`: {err.message}")
            return None
        if _is_default(param, kind, checked):
            return None
        if isinstance(kind, IntTuple) and len(set(checked)) == 1:
            return ir.Const(checked[0], NO_SPAN)
        return value

    def named(self, kind: str, raw, where: str) -> ir.Value | None:
        """An activation, initializer, regularizer or constraint as a name or a call."""
        if kind == "activation":
            if isinstance(raw, dict) and raw.get("class_name") == "function":
                raw = raw.get("config")
            if isinstance(raw, str):
                return ir.Ident(raw, NO_SPAN)
            self.problems.append(f"{where}: custom activation {json.dumps(raw)[:60]}")
            return None
        if isinstance(raw, str):  # a name, as in older configs
            return ir.Ident(raw, NO_SPAN)
        cls = raw.get("class_name") if isinstance(raw, dict) else None
        name = _named_class(kind, cls) if cls and _builtin(raw) else None
        if name is None:
            self.problems.append(f"{where}: unsupported {kind} {json.dumps(raw)[:80]}")
            return None
        defaults, allowed = KERAS_DEFAULTS.get(cls, {}), _CATALOGS[kind][name]
        kwargs = []
        for key, value in (raw.get("config") or {}).items():
            value = _short_float(value) if isinstance(value, float) else value
            if key in defaults and value == defaults[key]:
                continue
            if key not in allowed:
                self.problems.append(f"{where}: `{key}={json.dumps(value)}` of {cls} not supported")
                continue
            kwargs.append(ir.Kwarg(key, _const(value), NO_SPAN))
        if not kwargs:
            return ir.Ident(name, NO_SPAN)
        if len(kwargs) == 1 and kwargs[0].name == name:  # l2(0.01)
            return ir.Call(name, (kwargs[0].value,), (), NO_SPAN, NO_SPAN)
        return ir.Call(name, (), tuple(kwargs), NO_SPAN, NO_SPAN)


def _is_default(param: Param, kind, value) -> bool:
    if param.required:
        return False
    if value is None or not isinstance(kind, Named):
        return type(value) is type(param.default) and value == param.default
    if isinstance(value, ir.Call):
        return False
    if kind.kind == "activation":
        return value == (param.default or "linear")  # Keras writes None as `linear`
    return param.default is not None and class_name(value) == class_name(param.default)


def _keras_fill(name: str, config: dict, shapes: list | None):
    """The value Keras writes in a layer config for an argument given as None."""
    if name == "strides":
        return config.get("pool_size")
    if name == "value_dim":
        return config.get("key_dim")
    if name == "attention_axes" and shapes and shapes[0] is not None:
        return list(range(1, len(shapes[0]) - 1))
    if name == "renorm_clipping":
        return {}
    return None


def _is_mirror(backward, forward) -> bool:
    """Bidirectional's own backward layer: the forward one with go_backwards flipped."""
    if not isinstance(backward, dict) or not isinstance(forward, dict):
        return False
    if forward.get("config", {}).get("go_backwards"):
        return False

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in _IDENTITY_KEYS}
        return [strip(v) for v in value] if isinstance(value, list) else value

    flipped = strip(backward)
    flipped["config"]["go_backwards"] = not flipped["config"].get("go_backwards", False)
    return flipped == strip(forward)


def _policy_name(raw) -> str | None:
    """The dtype of a layer's plain dtype policy (a name or a DTypePolicy); None otherwise."""
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict) and raw.get("class_name") == "DTypePolicy":
        return raw.get("config", {}).get("name")
    return None


def _layer_type(entry: dict) -> LayerType | None:
    """The registry entry of a serialized Keras layer; None for anything else."""
    if not _builtin(entry) or not isinstance(entry.get("config"), dict):
        return None
    return LAYERS.get(entry.get("class_name"))


def _sources(value) -> list[str]:
    """The names of the layers whose tensors appear in a layer's inbound nodes."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return [value["config"]["keras_history"][0]]
    if isinstance(value, dict):
        value = list(value.values())
    return [n for v in value for n in _sources(v)] if isinstance(value, list) else []


def _layer_name(entry: dict) -> str:
    return str(entry.get("name") or entry.get("config", {}).get("name") or "layer")


def _history_list(value) -> list:
    """Keras writes one input/output as `[name, 0, 0]`, several as a list of those."""
    if not value:
        return []
    return [value] if isinstance(value[0], str) else list(value)


def _shape(batch_shape) -> tuple:
    return tuple(batch_shape[1:])


def _shape_or_none(shape) -> tuple | None:
    return tuple(shape) if isinstance(shape, list) else None


# ---- compile settings --------------------------------------------------------------

# Keras's defaults of the config keys of its losses, metrics and optimizers
# (`cls().get_config()`, checked against Keras in tests/test_import.py): a key nnspec
# does not take is left out when it holds its default, and noted otherwise.
LOSS_DEFAULTS: dict[str, object] = {
    "reduction": "sum_over_batch_size",
    "dtype": None,
    "from_logits": False,
    "label_smoothing": 0.0,
    "axis": -1,
    "alpha": 0.25,
    "gamma": 2.0,
    "apply_class_balancing": False,
    "ignore_class": None,
    "delta": 1.0,
}
METRIC_DEFAULTS: dict[str, object] = {
    "dtype": "float32",
    "from_logits": False,
    "label_smoothing": 0.0,
    "axis": -1,
    "ignore_class": None,
    "num_thresholds": 200,
    "curve": "ROC",
    "summation_method": "interpolation",
    "multi_label": False,
    "num_labels": None,
    "label_weights": None,
    "thresholds": None,
    "top_k": None,
    "class_id": None,
    "k": 5,
    "average": None,
    "threshold": None,
    "class_aggregation": "uniform_average",
    "num_regressors": 0,
}
METRIC_CLASS_DEFAULTS: dict[str, dict[str, object]] = {"BinaryAccuracy": {"threshold": 0.5}}
OPTIMIZER_DEFAULTS: dict[str, object] = {  # the base optimizer's; the rest are the catalog's
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}
# compile() arguments a spec does not write, as Keras stores their defaults. Not
# jit_compile: Keras stores what "auto" meant on the machine that saved the model.
_COMPILE_DEFAULTS = {"weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1}
_WRITTEN = {"loss", "optimizer", "metrics", "loss_weights", "jit_compile"}
_METRIC_ALIASES = {"acc": "accuracy"}  # names Keras's compile() takes for the same metric
_MISSING = object()


class _LeftOut(Exception):
    """A loss or optimizer a spec cannot write: the whole compile block is left out."""


class _CompileReader:
    """The `compile` block of a model's `compile_config`; notes what it leaves out."""

    def __init__(self, names: dict[str, str], notes: list[str], outputs: int):
        self.names, self.notes, self.outputs = names, notes, outputs

    def read(self, config) -> list[tuple[str, str]] | None:
        """The block's settings as text; None when the model was not compiled or
        its loss or optimizer cannot be written (with a note)."""
        if not isinstance(config, dict) or not config:
            return None
        try:
            settings = [
                ("loss", self.per_output(config.get("loss"), self.loss)),
                ("optimizer", self.optimizer(config.get("optimizer") or "rmsprop")),
            ]
            if config.get("loss_weights") is not None:
                settings.append(("loss_weights", self.per_output(config["loss_weights"], _weight)))
        except _LeftOut as err:
            self.notes.append(f"compile settings left out: {err}")
            return None
        metrics = self.metrics(config.get("metrics"))
        if metrics is not None:
            settings.insert(2, ("metrics", metrics))
        for key, value in config.items():
            if key not in _WRITTEN and not _same(value, _COMPILE_DEFAULTS.get(key)):
                self.notes.append(
                    f"compile: `{key}={_json(value)}` left out: a spec cannot write it"
                )
        return [(key, _text(value)) for key, value in settings]

    def per_output(self, raw, convert) -> ir.Value:
        """One value for every output, a list in output order, or a mapping by output."""
        if isinstance(raw, list):
            return _seq([convert(v) for v in raw])
        if isinstance(raw, dict) and "class_name" not in raw:
            return _mapping({self.names.get(k, k): convert(v) for k, v in raw.items()})
        return convert(raw)

    def loss(self, raw) -> ir.Value:
        if raw is None:
            raise _LeftOut("a loss of None, which a spec cannot write")
        entry = _entry(raw, loss_kwargs())
        if entry is None:
            raise _LeftOut(f"loss {_describe(raw)} is not one nnspec knows")
        word, config, _ = entry
        kwargs, rest = _kwargs(config, loss_kwargs()[word], LOSS_DEFAULTS)
        if rest:
            raise _LeftOut(f"loss `{word}` with {', '.join(rest)}, which a spec cannot write")
        return _named(word, kwargs)

    def metrics(self, raw) -> ir.Value | None:
        """Metrics as Keras keeps them: a list (with several outputs, one entry per
        output), or a mapping from output name; None when none is left."""
        if raw is None:
            return None
        if isinstance(raw, dict) and "class_name" not in raw:
            entries = {self.names.get(k, k): self.output_metrics(v) for k, v in raw.items()}
            entries = {k: v for k, v in entries.items() if v is not None}
            return _mapping(entries) if entries else None
        items = [self.output_metrics(v) for v in (raw if isinstance(raw, list) else [raw])]
        if all(v is None for v in items):
            return None
        if self.outputs > 1:  # an entry per output: keep the positions
            return _seq([_seq([]) if v is None else v for v in items])
        return _seq([v for v in items if v is not None])

    def output_metrics(self, raw) -> ir.Value | None:
        if not isinstance(raw, list):
            return self.metric(raw)
        items = [m for m in map(self.metric, raw) if m is not None]
        return _seq(items) if items else None

    def metric(self, raw) -> ir.Value | None:
        """One metric; None, with a note, for one a spec cannot write."""
        entry = _entry(_METRIC_ALIASES.get(raw, raw) if isinstance(raw, str) else raw, METRICS)
        if entry is None:
            self.notes.append(f"compile: metric {_describe(raw)} left out: not one nnspec knows")
            return None
        word, config, is_object = entry
        defaults = METRIC_DEFAULTS | METRIC_CLASS_DEFAULTS.get(class_name(word), {})
        kwargs, rest = _kwargs(config, METRICS[word], defaults)
        if rest:
            self.notes.append(
                f"compile: metric `{word}` left out: {', '.join(rest)} cannot be written"
            )
            return None
        if is_object and word == "accuracy" and not kwargs:
            # keras.metrics.Accuracy(), not the name Keras matches to the loss
            return ir.Call(word, (), (), NO_SPAN, NO_SPAN)
        return _named(word, kwargs)

    def optimizer(self, raw) -> ir.Call | ir.Ident:
        if isinstance(raw, str):
            raw = {"class_name": raw, "config": {}}
        known = isinstance(raw, dict) and _builtin(raw)
        callee = OPTIMIZERS.get(raw.get("class_name")) if known else None
        if callee is None:
            raise _LeftOut(f"optimizer {_describe(raw)} is not one nnspec knows")
        return self.callee(callee, raw.get("config") or {}, OPTIMIZER_DEFAULTS)

    def callee(self, callee: Callee, config: dict, defaults: dict) -> ir.Call | ir.Ident:
        """An optimizer or schedule with the arguments that differ from the catalog's
        defaults; other keys away from Keras's `defaults` are noted and left out."""
        word = (*callee.aliases, callee.name)[0]
        params = {p.name: p for p in callee.params}
        for key, value in config.items():
            if (
                key not in params
                and key != "name"
                and not _same(value, defaults.get(key, _MISSING))
            ):
                self.notes.append(
                    f"compile: `{key}={_json(value)}` of {callee.name} left out: "
                    f"nnspec's `{word}` does not take it"
                )
        args, kwargs = [], []
        for param in callee.params:
            if param.name not in config:
                if param.required:
                    raise _LeftOut(f"{callee.name} without `{param.name}`")
                continue
            value = self.callee_value(config[param.name])
            if param.required:
                args.append(value)
            elif not (isinstance(value, ir.Const) and _same(value.value, param.default)):
                kwargs.append(ir.Kwarg(param.name, value, NO_SPAN))
        return (
            ir.Call(word, tuple(args), tuple(kwargs), NO_SPAN, NO_SPAN)
            if args or kwargs
            else ir.Ident(word, NO_SPAN)
        )

    def callee_value(self, raw) -> ir.Value:
        """An argument: a number or list, or a learning-rate schedule."""
        if not isinstance(raw, dict):
            return _const(raw)
        schedule = SCHEDULES.get(raw.get("class_name")) if _builtin(raw) else None
        if schedule is None:
            raise _LeftOut(f"learning-rate schedule {_describe(raw)} is not one nnspec knows")
        return self.callee(schedule, raw.get("config") or {}, {})


def _entry(raw, table: dict) -> tuple[str, dict, bool] | None:
    """The catalog name and config of a serialized loss or metric (a name, a Keras
    function or an object of a Keras class) and whether it is an object; None else."""
    if isinstance(raw, str):
        return (raw, {}, False) if raw in table else None
    if not isinstance(raw, dict):
        return None
    cls, config = raw.get("class_name"), raw.get("config")
    if cls == "function" and isinstance(config, str):  # e.g. keras.losses.mse itself
        return (config, {}, False) if config in table else None
    if not _builtin(raw) or not isinstance(config, dict):
        return None
    names = sorted((n for n in table if class_name(n) == cls), key=lambda n: n != snake_case(cls))
    return (names[0], config, True) if names else None


def _kwargs(config: dict, allowed, defaults: dict) -> tuple[list[ir.Kwarg], list[str]]:
    """The keys of a loss or metric config away from Keras's defaults: as keyword
    arguments where nnspec takes them, the others as `key=value` texts."""
    kwargs, rest = [], []
    for key, value in config.items():
        if key == "name" or _same(value, defaults.get(key, _MISSING)):
            continue
        if key in allowed:
            kwargs.append(ir.Kwarg(key, _const(value), NO_SPAN))
        else:
            rest.append(f"`{key}={_json(value)}`")
    return kwargs, rest


def _weight(raw) -> ir.Value:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise _LeftOut(f"loss weight {_json(raw)}, which is not a number")
    return _const(raw)


def _same(value, default) -> bool:
    """Equal as config values: 0 and 0.0 are, False and 0 are not."""
    if isinstance(value, float):
        value = _short_float(value)
    return isinstance(value, bool) == isinstance(default, bool) and value == default


def _named(word: str, kwargs: list[ir.Kwarg]) -> ir.Value:
    return ir.Call(word, (), tuple(kwargs), NO_SPAN, NO_SPAN) if kwargs else ir.Ident(word, NO_SPAN)


def _seq(items: list[ir.Value]) -> ir.Seq:
    return ir.Seq(tuple(items), True, NO_SPAN)


def _mapping(entries: dict[str, ir.Value]) -> ir.Mapping:
    return ir.Mapping(tuple(ir.Entry(k, v, NO_SPAN) for k, v in entries.items()), NO_SPAN)


def _text(value: ir.Value) -> str:
    """A compile setting's value as a spec writes it."""
    if isinstance(value, ir.Ident):
        return value.name
    if isinstance(value, ir.Call):
        parts = [*map(_text, value.args), *(f"{kw.name}={_text(kw.value)}" for kw in value.kwargs)]
        return f"{value.name}({', '.join(parts)})"
    if isinstance(value, ir.Seq) and value.is_list:
        return "[" + ", ".join(map(_text, value.items)) + "]"
    if isinstance(value, ir.Mapping):
        return "{ " + ", ".join(f"{e.key}: {_text(e.value)}" for e in value.entries) + " }"
    return show_value(ir.plain(value))


def _describe(raw) -> str:
    """A loss, metric or optimizer as its config names it; whether it is custom."""
    if not isinstance(raw, dict) or "class_name" not in raw:
        return f"`{raw}`" if isinstance(raw, str) else f"`{_json(raw)}`"
    if raw["class_name"] == "function":
        return f"`{raw.get('config')}` (a function)"
    where = raw.get("registered_name") or raw.get("module")
    return f"`{raw['class_name']}`" + ("" if _builtin(raw) else f" (custom, from `{where}`)")


def _json(value) -> str:
    return json.dumps(value)[:60]
