"""The table of emitters (`nnspec/keras/emitters.py`): one entry per registered
layer type, and what it cannot write collected as diagnostics. No TensorFlow."""

from __future__ import annotations

import pytest
from msgspec.structs import replace

from nnspec.check.pipeline import compile_text
from nnspec.keras.codegen import render_script
from nnspec.keras.emitters import EMITTERS, ONE, GenError, Problems, emit, wrapper
from nnspec.vocab.layers import LAYERS
from nnspec.vocab.layers.registry import LayerArg, layer_types
from nnspec.vocab.params import Config

TYPES = layer_types()
GRAPH = """\
model twins
input x: (5, 4)
graph {
    left = Bidirectional(LSTM(2))
    right = Dense(3)
    both = Concatenate()
    x -> left
    x -> Flatten() -> right
    [left, right] -> both
}
"""


@pytest.mark.parametrize("kind", TYPES, ids=[t.name for t in TYPES])
def test_every_registered_layer_type_has_an_emitter(kind):
    assert kind.name in EMITTERS, f"add {kind.name} to EMITTERS in nnspec/keras/emitters.py"
    # how the layer is applied agrees with how many inputs the checker lets it take
    assert (EMITTERS[kind.name].takes != ONE) == kind.multi_input


def test_every_emitter_is_a_registered_layer_type():
    assert sorted(set(EMITTERS) - {t.name for t in TYPES}) == []
    assert {t.name for t in LAYERS.values()} == set(EMITTERS)


def test_layers_taking_a_layer_write_it_through_the_table():
    takes_layer = {t.name for t in TYPES if any(isinstance(p.type, LayerArg) for p in t.params)}
    assert takes_layer == {"Bidirectional", "TimeDistributed"}
    assert all(EMITTERS[name].construct is wrapper for name in takes_layer)


def test_inner_layers_are_written_by_their_own_entries():
    model = compile_text(GRAPH).model
    made = emit(model.layers["left"].call, Problems(), model.layers["left"].span, "left")
    assert made.func == "layers.Bidirectional" and made.kwargs == (("name", "left"),)
    (inner,) = made.args
    assert (inner.func, inner.args) == ("layers.LSTM", (2,))


def _without_emitters(model, names):
    """`model` with the layers `names` of a type the table does not know."""
    unknown = {}
    for name in names:
        layer = model.layers[name]
        kind = replace(layer.call.type, name=f"Unknown{layer.call.type.name}")
        unknown[name] = replace(layer, call=replace(layer.call, type=kind))
    return replace(model, layers={**model.layers, **unknown})


def test_a_type_without_emitter_is_reported_at_its_span_and_not_guessed():
    model = compile_text(GRAPH).model
    layer = _without_emitters(model, ["right"]).layers["right"]
    problems = Problems()
    assert emit(layer.call, problems, layer.span) is None
    (diagnostic,) = problems.diagnostics
    assert diagnostic.code == "E900" and "UnknownDense" in diagnostic.message
    assert diagnostic.span == layer.span


def test_a_wrapper_of_an_unknown_layer_is_reported_at_the_inner_layer():
    model = compile_text(GRAPH).model
    layer = model.layers["left"]
    lstm = layer.call.config["layer"]
    unknown = replace(lstm, type=replace(lstm.type, name="UnknownLSTM"))
    call = replace(layer.call, config=Config({**layer.call.config, "layer": unknown}, ("layer",)))
    problems = Problems()
    assert emit(call, problems, layer.span) is None
    (diagnostic,) = problems.diagnostics
    assert "UnknownLSTM" in diagnostic.message and diagnostic.span == lstm.call.span


def test_gen_collects_every_problem_before_raising():
    """E601 for the API and one diagnostic per layer the table cannot write, in one error."""
    model = _without_emitters(compile_text(GRAPH).model, ["right", "both"])
    with pytest.raises(GenError) as caught:
        render_script(model, "twins.nn", "sequential")
    diagnostics = caught.value.diagnostics
    assert [d.code for d in diagnostics] == ["E601", "E900", "E900"]
    assert [d.span for d in diagnostics[1:]] == [model.layers[n].span for n in ("right", "both")]
    assert caught.value.message.splitlines() == [d.message for d in diagnostics]
