"""Differential conformance of the layer registry against Keras.

For a registry entry, `cases(layer)` is a Hypothesis strategy of configurations
drawn from the layer's declared parameters (their `argtypes`), with input
shapes from a small per-layer table; a few draws fall outside the declared
domains so that rejections are tested too. `judge(case)` checks the case the
way `nnspec check` does (a one-layer spec through `compile_text`), builds the
same layer in Keras straight from the written arguments, and compares output
shapes and trainable / non-trainable parameter counts.

tests/test_conformance.py runs a small seeded sample; tools/conformance_report.py
runs the full survey and writes docs/conformance.md.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from dataclasses import dataclass

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from nnspec.check.pipeline import compile_text
from nnspec.vocab import argtypes
from nnspec.vocab.layers import LAYERS, LayerType
from nnspec.vocab.layers.registry import DataFormat

# ---- drawn values: spec text on one side, Keras arguments on the other ---------------


@dataclass(frozen=True)
class Word:
    """A bare name: an activation, an initializer... (Keras takes the string)."""

    name: str


@dataclass(frozen=True)
class Fn:
    """A call: `l2(l2=0.01)` (kind `regularizer`) or a layer `LSTM(4)` (kind `layer`)."""

    kind: str
    name: str
    kwargs: tuple[tuple[str, object], ...] = ()


def spec_value(value) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Word):
        return value.name
    if isinstance(value, Fn):
        return f"{value.name}({', '.join(f'{k}={spec_value(v)}' for k, v in value.kwargs)})"
    if isinstance(value, tuple):
        inner = ", ".join(spec_value(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {spec_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def keras_value(value):
    import keras

    if isinstance(value, Word):
        return value.name
    if isinstance(value, Fn):
        kwargs = {k: keras_value(v) for k, v in value.kwargs}
        module = keras.layers if value.kind == "layer" else getattr(keras, value.kind + "s")
        return getattr(module, value.name)(**kwargs)
    if isinstance(value, tuple):
        return tuple(keras_value(v) for v in value)
    if isinstance(value, dict):
        return {k: keras_value(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Case:
    """One layer call on given input shapes (batch axis first, always None)."""

    layer: str
    args: tuple[tuple[str, object], ...]  # in declaration order
    positional: int  # how many leading args are written without their name
    shapes: tuple[tuple, ...]
    dtype: str = "float32"

    @property
    def call_text(self) -> str:
        parts = [spec_value(v) for _, v in self.args[: self.positional]]
        parts += [f"{k}={spec_value(v)}" for k, v in self.args[self.positional :]]
        return f"{self.layer}({', '.join(parts)})"

    @property
    def spec_text(self) -> str:
        """A one-layer spec: what `nnspec check` sees."""
        dtype = "" if self.dtype == "float32" else f", dtype={self.dtype}"
        inputs = "".join(
            f"input x{i}: {spec_value(s[1:])}{dtype}\n" for i, s in enumerate(self.shapes)
        )
        names = [f"x{i}" for i in range(len(self.shapes))]
        source = names[0] if len(names) == 1 else f"[{', '.join(names)}]"
        return f"{inputs}graph {{\n    l = {self.call_text}\n    {source} -> l\n}}\n"

    def __str__(self) -> str:
        return f"{self.call_text} <- {'; '.join(map(str, self.shapes))}"


# ---- strategies from declared argument types -----------------------------------------

# One draw in INVALID_ODDS (per argument) leaves the declared domain on purpose.
INVALID_ODDS = 20
SMALL = 3  # integers are drawn in [low, low + SMALL]: small layers build fast


def one_in(n: int) -> st.SearchStrategy[bool]:
    """True about once in `n` draws. (Not `integers(1, n) == 1`: Hypothesis favours
    small and boundary values, so it would come up far more often.)"""
    return st.integers(1, n).map(lambda r: r == (n + 1) // 2)


def _maybe_invalid(valid: st.SearchStrategy, invalid: st.SearchStrategy | None):
    if invalid is None:
        return valid
    return one_in(INVALID_ODDS).flatmap(lambda bad: invalid if bad else valid)


def _int(t: argtypes.Int):
    low = -4 if t.low is None else t.low
    high = low + (8 if t.low is None else SMALL)
    high = high if t.high is None else min(high, t.high)
    bad = ([t.low - 1] if t.low is not None else []) + ([t.high + 1] if t.high is not None else [])
    return _maybe_invalid(st.integers(low, high), st.sampled_from(bad) if bad else None)


def _float(t: argtypes.Float):
    low = -2.0 if t.low is None else t.low
    high = low + 2.0 if t.high is None else t.high
    valid = st.floats(
        low, high, exclude_min=t.open_low, exclude_max=t.open_high, allow_nan=False, width=32
    ).map(lambda v: round(v, 3))
    valid = valid.filter(
        lambda v: (low < v if t.open_low else low <= v) and (v < high if t.open_high else v <= high)
    )
    bad = [t.low - 0.5] if t.low is not None else []
    bad += [t.high if t.open_high else t.high + 0.5] if t.high is not None else []
    return _maybe_invalid(valid, st.sampled_from(bad) if bad else None)


def _choice(t: argtypes.Choice):
    bad = st.sampled_from(["bogus", t.options[0].upper()])
    return _maybe_invalid(st.sampled_from(t.options), bad)


# A few names per catalog are enough: the names themselves are checked against Keras
# in test_keras_catalog.py.
_NAMED = {
    "activation": ["relu", "tanh", "sigmoid", "softmax", "linear", "gelu"],
    "initializer": ["glorot_uniform", "zeros", "ones", "he_normal", "orthogonal", "identity"],
    "regularizer": ["l1", "l2", "l1_l2"],
    "constraint": ["max_norm", "non_neg", "unit_norm"],
}


def _named(t: argtypes.Named):
    names = [n for n in _NAMED.get(t.kind, []) if n in t.entries()] or sorted(t.entries())[:4]
    valid = st.sampled_from(names).map(Word)
    if t.kind == "regularizer":
        valid = valid | st.sampled_from([0.01, 0.001]).map(lambda v: Fn(t.kind, "l2", (("l2", v),)))
    return _maybe_invalid(valid, st.just(Word("bogus_name")))


def _int_tuple(t: argtypes.IntTuple):
    item = st.integers(t.low, t.low + SMALL)
    valid = item | st.tuples(*[item] * t.n)
    bad = st.just(t.low - 1) | st.tuples(*[item] * (t.n + 1))
    return _maybe_invalid(valid, bad)


def _tuple_of(t: argtypes.TupleOf):
    item = strategy(t.item)
    valid = st.lists(item, min_size=t.min_len, max_size=t.min_len + 3).map(tuple)
    bad = st.lists(item, max_size=t.min_len - 1).map(tuple) if t.min_len else None
    return _maybe_invalid(valid, bad)


def _axis_pairs(t):
    item = st.integers(0, SMALL)
    pair = item | st.tuples(item, item)
    return _maybe_invalid(item | st.tuples(*[pair] * t.n), st.just(-1) | st.tuples(*[item] * 3))


def _renorm_clipping(t):
    value = st.floats(0.0, 4.0, width=32).map(lambda v: round(v, 2))
    return st.dictionaries(st.sampled_from(["rmax", "rmin", "dmax"]), value, max_size=3)


# Argument types a layer module declares for itself, by class name.
_OWN_TYPES = {
    "AxisPairs": _axis_pairs,
    "DotAxes": lambda t: st.integers(-3, 3) | st.tuples(st.integers(-3, 3), st.integers(-3, 3)),
    "RenormClipping": _renorm_clipping,
    "CudnnFlag": lambda t: st.sampled_from(["auto", True, False]),
    "_NoneOnly": lambda t: st.none(),
}


def strategy(t: argtypes.ArgType) -> st.SearchStrategy:
    """Values for one declared argument type (occasionally outside its domain)."""
    if isinstance(t, argtypes.Int):
        return _int(t)
    if isinstance(t, argtypes.Float):
        return _float(t)
    if isinstance(t, argtypes.Bool):
        return st.booleans()
    if isinstance(t, argtypes.Choice):
        return _choice(t)
    if isinstance(t, argtypes.Optional):
        return st.none() | strategy(t.inner)
    if isinstance(t, argtypes.AnyOf):
        return st.one_of(*map(strategy, t.options))
    if isinstance(t, argtypes.IntTuple):
        return _int_tuple(t)
    if isinstance(t, argtypes.TupleOf):
        return _tuple_of(t)
    if isinstance(t, argtypes.Named):
        return _named(t)
    if isinstance(t, DataFormat):
        return st.sampled_from(["channels_last", "channels_first", None])
    return _OWN_TYPES[type(t).__name__](t)


# ---- input shapes ----------------------------------------------------------------------

_RECURRENT = ("SimpleRNN", "LSTM", "GRU")
# Ranks (batch included) a layer is meant for; other ranks are drawn now and then.
# Layers named ...1D/2D/3D take rank 3/4/5; the rest take ranks 2 to 4.
_RANKS = {
    "Dense": (2, 3, 4),
    "RepeatVector": (2,),
    "Embedding": (2, 3),
    "Attention": (3,),
    "MultiHeadAttention": (3, 4),
    "Dot": (2, 3),
    **{name: (3,) for name in _RECURRENT},
}
_DIM = st.integers(1, 8)
# A few sizes unknown (None), most known.
_MAYBE_DIM = one_in(10).flatmap(lambda unknown: st.none() if unknown else _DIM)


def natural_ranks(name: str) -> tuple[int, ...]:
    found = re.search(r"([123])D", name)
    return (int(found.group(1)) + 2,) if found else _RANKS.get(name, (2, 3, 4))


@st.composite
def _shape(draw, name: str) -> tuple:
    ranks = natural_ranks(name)
    other = draw(one_in(INVALID_ODDS))
    rank = draw(st.integers(2, 5) if other else st.sampled_from(ranks))
    # 3D layers: half the time all sizes known, else too few would be valid
    size = _DIM if max(ranks) >= 5 and draw(st.booleans()) else _MAYBE_DIM
    return (None, *draw(st.lists(size, min_size=rank - 1, max_size=rank - 1)))


@st.composite
def _related(draw, base: tuple, count: int) -> tuple[tuple, ...]:
    """`count` shapes like `base`, most sizes kept, some changed (to 1, None or other)."""
    shapes = [base]
    for _ in range(count - 1):
        shape = [draw(st.sampled_from([1, None, 2, 5])) if draw(one_in(4)) else d for d in base[1:]]
        if draw(one_in(8)):
            shape = shape[1:] or shape  # lower rank: broadcasting, or a rank mismatch
        shapes.append((None, *shape))
    return tuple(shapes)


def _shapes(draw, kind: LayerType) -> tuple[tuple, ...]:
    base = draw(_shape(kind.name))
    if not kind.multi_input:
        return (base,)
    high = kind.max_inputs or kind.min_inputs + 2
    count = draw(st.integers(max(kind.min_inputs, 1), high))
    return draw(_related(base, count))


# ---- arguments that depend on the input shape ------------------------------------------


def _target_shape(draw, shapes):
    """Reshape targets: a factorisation of the input size, maybe with -1, or anything."""
    factors = list(shapes[0][1:])
    if None in factors or draw(one_in(6)):
        return draw(strategy(LAYERS["Reshape"].params[0].type))
    draw(st.randoms()).shuffle(factors)
    cut = draw(st.integers(1, len(factors)))
    target = [math.prod(factors[:cut]), *factors[cut:]]
    if draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return tuple(target)


def _permutation(draw, shapes):
    if draw(one_in(6)):
        return draw(strategy(LAYERS["Permute"].params[0].type))
    return tuple(draw(st.permutations(range(1, len(shapes[0])))))


# Per layer and argument: a drawing function of the input shapes.
_SHAPED_ARGS = {("Reshape", "target_shape"): _target_shape, ("Permute", "dims"): _permutation}

# Layers that TimeDistributed wraps in the survey (any single-input layer would do).
_TIME_DISTRIBUTED = ("Dense", "Conv1D", "Conv2D", "MaxPooling1D", "Flatten", "Dropout", "LSTM")


@st.composite
def cases(draw, kind: LayerType) -> Case:
    """A configuration of `kind` and its input shapes."""
    if kind.name == "Bidirectional":
        inner = draw(cases(LAYERS[draw(st.sampled_from(_RECURRENT))]))
        shapes = inner.shapes
        layer = Fn("layer", inner.layer, inner.args)
    elif kind.name == "TimeDistributed":
        inner = draw(cases(LAYERS[draw(st.sampled_from(_TIME_DISTRIBUTED))]))
        steps = draw(_MAYBE_DIM)
        shapes = ((None, steps, *inner.shapes[0][1:]),)
        layer = Fn("layer", inner.layer, inner.args)
    else:
        shapes = _shapes(draw, kind)
    args = []
    for param in kind.params:
        if param.name == "layer":
            value = layer
        elif param.name == "backward_layer":
            if not draw(one_in(3)):
                continue
            value = _backward(draw, layer)
        elif param.required or draw(one_in(3)):
            shaped = _SHAPED_ARGS.get((kind.name, param.name))
            value = shaped(draw, shapes) if shaped else draw(strategy(param.type))
        else:
            continue
        args.append((param.name, value))
    if draw(one_in(4 * INVALID_ODDS)):
        args.append(("bogus_argument", 1))
    leading = 0
    positional = {p.name for p in kind.params if p.positional}
    names = [p.name for p in kind.params]
    for (name, _), expected in zip(args, names):
        if name != expected or name not in positional:
            break
        leading += 1
    written = draw(st.integers(0, leading))
    dtype = "int32" if kind.name == "Embedding" else "float32"
    return Case(kind.name, tuple(args), written, shapes, dtype)


def _backward(draw, forward: Fn) -> Fn:
    """A backward layer: the forward one with `go_backwards` flipped, sometimes more."""
    kwargs = dict(forward.kwargs)
    kwargs["go_backwards"] = not kwargs.get("go_backwards", False)
    if draw(one_in(4)):
        kwargs["units"] = draw(st.integers(1, 4))
    if draw(one_in(4)):
        kwargs["return_sequences"] = draw(st.booleans())
    return Fn("layer", forward.name, tuple(kwargs.items()))


# ---- both sides ------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """Output shape(s) and (trainable, non-trainable) counts, or the error."""

    shape: object = None
    weights: tuple[int, int] | None = None
    errors: tuple[str, ...] = ()

    @property
    def error(self) -> str | None:
        return "; ".join(self.errors) or None


def nnspec_result(case: Case) -> Result:
    """What `nnspec check` / `nnspec summary` report for the case."""
    result = compile_text(case.spec_text)
    if result.errors:
        return Result(errors=tuple(f"{d.code} {d.message}" for d in result.errors))
    node = next(n for n in result.model.nodes if n.layer == "l")
    return Result(node.shape, (node.weights.trainable, node.weights.non_trainable))


def _keras_call(case: Case):
    """The Keras layer built from the written arguments, and its input and output tensors."""
    import keras

    from nnspec.keras.builder import call_layer

    args = [keras_value(v) for _, v in case.args[: case.positional]]
    kwargs = {k: keras_value(v) for k, v in case.args[case.positional :]}
    layer = getattr(keras.layers, case.layer)(*args, **kwargs)
    inputs = [keras.Input(batch_shape=s, dtype=case.dtype) for s in case.shapes]
    return layer, inputs, call_layer(layer, LAYERS[case.layer], inputs)


def _count(weights) -> int:
    return sum(math.prod(w.shape) for w in weights)


def keras_result(case: Case) -> Result:
    """What Keras makes of the case: the layer called on symbolic inputs."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer, _, out = _keras_call(case)
    except Exception as exc:  # noqa: BLE001  (Keras raises ValueError, TypeError, ...)
        return Result(errors=(f"{type(exc).__name__}: {_first_line(exc)}",))
    shape = [tuple(t.shape) for t in out] if isinstance(out, (list, tuple)) else tuple(out.shape)
    return Result(shape, (_count(layer.trainable_weights), _count(layer.non_trainable_weights)))


# Run-time failures that say nothing about the configuration: TensorFlow's CPU
# kernels lack channels_first convolution and pooling.
_HOST_LIMITS = re.compile(r"NHWC|NDHWC|NCHW|channels_first|data_format|[Dd]evice type CPU")


def keras_run_error(case: Case) -> str | None:
    """The error Keras raises when the built layer runs on a small batch in training
    mode, if any.

    Unknown sizes become 2 (batch) or 3. None also when the failure is a
    limit of the host (CPU kernels), not of the configuration.
    """
    import keras
    import numpy as np

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _, inputs, out = _keras_call(case)
            model = keras.Model(inputs, out)
            data = [
                np.ones([2 if i == 0 else (d or 3) for i, d in enumerate(s)], dtype=case.dtype)
                for s in case.shapes
            ]
            model(data if len(data) > 1 else data[0], training=True)
    except Exception as exc:  # noqa: BLE001
        message = f"{type(exc).__name__}: {_first_line(exc)}"
        return None if _HOST_LIMITS.search(message) else message
    return None


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return (text.splitlines() or [""])[0][:300]


# ---- verdicts --------------------------------------------------------------------------

AGREE = "agree"  # both accept; same output shapes and parameter counts
REJECTED = "rejected"  # both reject when the layer is built
REJECTED_AT_RUN = "rejected at run"  # nnspec rejects; Keras builds it but fails when run
KNOWN = "known divergence"  # nnspec deliberately stricter (reason below)
DIVERGENCE = "divergence"  # a bug: to fix in nnspec

# nnspec rejects, Keras builds and runs: nnspec's deliberate checks.
# A phrase of nnspec's message -> the reason.
STRICTER = {
    "Keras builds it but fails when run": (
        "Keras builds the layer but cannot run it in every setting (it fails when traced "
        "with unknown sizes or in a model); nnspec reports it at check time"
    ),
    "Keras builds it but reports the forward shapes": (
        "Bidirectional with a backward layer whose outputs differ from the forward layer's: "
        "Keras reports the forward shapes, which are wrong unless the merge broadcasts; "
        "nnspec requires equal outputs"
    ),
    "Attention expects query, value and key of the same rank": (
        "Keras's batched matrix product accepts some inputs of different ranks, but the "
        "result is not attention over steps; nnspec requires equal ranks, as documented"
    ),
    "Concatenate axis": (
        "an axis outside the inputs is an error; Keras skips the check when "
        "Concatenate has a single input"
    ),
    "`l1_l2` must be called": (
        "Keras cannot look `l1_l2` up by name and fails wherever it uses the regularizer; "
        "nnspec rejects the bare name for every argument"
    ),
    "always outputs 1.0": (
        "a softmax over a single unit always outputs 1.0: nnspec reports it as an error (E403)"
    ),
    "is not allowed here": (
        "nnspec takes option words in lower case, as documented; Keras lower-cases some "
        "of them (`padding`, `data_format`, `interpolation`) itself"
    ),
    " initializes ": (
        "nnspec checks an initializer against the weights it is declared for even when "
        "`use_bias`, `center` or `scale` = false leaves those weights out; Keras then ignores it"
    ),
    "`epsilon` of layer": "a negative `epsilon` can take a square root of a negative "
    "variance; Keras does not check it, nnspec requires epsilon >= 0",
    "dropout` of layer": (
        "a dropout fraction outside [0, 1]: Keras does not check it in recurrent layers "
        "(which clamp it) and Attention; nnspec reports it"
    ),
    "`rmax` must be at least `rmin`": "renorm clipping with rmax < rmin is empty; Keras "
    "does not check it",
    "`dmax` must be >= 0": "renorm clipping with a negative dmax is empty; Keras does not check it",
    "`axis` of layer LayerNormalization: expected at least 1": (
        "LayerNormalization over no axis normalises nothing; Keras does not check it"
    ),
}
# nnspec accepts, Keras raises for a reason outside the layer's configuration:
# a phrase of Keras's message -> the reason.
KERAS_LIMITS = {
    "of bfloat16 is not in the list of allowed values": (
        "TensorFlow has no bfloat16 QR decomposition, which Keras's `orthogonal` initializer "
        "(also the recurrent layers' default) needs; nnspec does not track which dtypes "
        "each TensorFlow kernel supports"
    ),
}


@dataclass(frozen=True)
class Verdict:
    kind: str
    detail: str = ""


def judge(case: Case) -> Verdict:
    """Compare nnspec with Keras on one case."""
    ours, theirs = nnspec_result(case), keras_result(case)
    if ours.error is None and theirs.error is None:
        if (ours.shape, ours.weights) == (theirs.shape, theirs.weights):
            return Verdict(AGREE)
        return Verdict(
            DIVERGENCE,
            f"nnspec: shape {ours.shape}, weights {ours.weights}; "
            f"Keras: shape {theirs.shape}, weights {theirs.weights}",
        )
    if ours.error is not None and theirs.error is not None:
        return Verdict(REJECTED, f"nnspec: {ours.error} | Keras: {theirs.error}")
    if ours.error is None:
        return _known(KERAS_LIMITS, theirs.errors) or Verdict(
            DIVERGENCE, f"nnspec accepts it; Keras raises {theirs.error}"
        )
    run_error = keras_run_error(case)
    if run_error is not None:
        return Verdict(REJECTED_AT_RUN, f"nnspec: {ours.error} | Keras when run: {run_error}")
    return _known(STRICTER, ours.errors) or Verdict(
        DIVERGENCE, f"nnspec rejects it ({ours.error}); Keras builds and runs it"
    )


def _known(table: dict[str, str], errors: tuple[str, ...]) -> Verdict | None:
    """A known divergence when the table explains every error."""
    reasons = [next((r for phrase, r in table.items() if phrase in e), None) for e in errors]
    if None in reasons:
        return None
    return Verdict(KNOWN, "; ".join(dict.fromkeys(reasons)))


def survey(kind: LayerType, examples: int) -> list[tuple[Case, Verdict]]:
    """Judge `examples` drawn cases of `kind` (seeded: the same cases every run)."""
    found: list[tuple[Case, Verdict]] = []

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(cases(kind))
    def run(case):
        found.append((case, judge(case)))

    run()
    return found
