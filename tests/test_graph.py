"""Graph semantics: chains, fan-out, fan-in order, inline layers, shared layers,
multi-output layers, cycles and reachability."""

from __future__ import annotations

from helpers import codes

from nnspec.check.pipeline import compile_text
from nnspec.check.summary import as_dict


def summary(text: str) -> dict:
    result = compile_text(text)
    assert result.ok, [(d.code, d.message) for d in result.diagnostics]
    return as_dict(result.model)


def test_fan_out_and_inline_layers():
    s = summary("""
        input x: (8,)
        graph {
            x -> [a, b]
            a = Dense(4)
            b = Dense(4)
            [a, b] -> Concatenate() -> Dense(2)
        }
        """)
    names = [r["name"] for r in s["layers"]]
    assert names == ["x", "a", "b", "concatenate", "dense"]
    assert s["layers"][3]["shape"] == [None, 8]


def test_edges_in_any_order_and_fan_in_order():
    s = summary("""
        input x: (3,)
        input y: (5,)
        graph {
            m = Concatenate()
            y -> m
            x -> m
        }
        """)
    merged = s["layers"][-1]
    assert merged["connected_to"] == ["y[0][0]", "x[0][0]"]


def test_shared_layer_counts_weights_once():
    two = summary("""
        input left: (10,)
        input right: (10,)
        graph {
            shared = Dense(4)
            join = Add()
            left -> shared -> join
            right -> shared -> join
        }
        """)
    assert two["total_params"] == 44  # 10*4 + 4, once
    assert [r["name"] for r in two["layers"]][3] == "shared (shared, call 2)"


def test_shared_layer_reference_must_be_unambiguous():
    assert "E209" in codes("""
        input a: (3,)
        input b: (3,)
        graph {
            s = Dense(2)
            out = Dense(1)
            a -> s
            b -> s
            s -> out
        }
        """)


def test_multi_output_layer_needs_an_index():
    text = """
        input x: (5, 3)
        graph {
            enc = LSTM(4, return_state=true)
            head = Dense(1)
            x -> enc -> head
        }
        output head
    """
    assert "E210" in codes(text)
    s = summary(text.replace("x -> enc -> head", "x -> enc.1 -> head"))
    assert s["layers"][-1]["connected_to"] == ["enc[0][1]"]


def test_cycle_is_reported_with_its_path():
    result = compile_text("""
        input x: (3,)
        graph {
            a = Dense(3)
            b = Dense(3)
            m = Add()
            [x, b] -> m -> a -> b
        }
        """)
    cycle = [d for d in result.diagnostics if d.code == "E203"]
    assert cycle and "->" in cycle[0].message


def test_unreachable_and_dead_end():
    got = codes("""
        input x: (3,)
        graph {
            a = Dense(3)
            lonely = Dense(2)
            b = Dense(1)
            side = Dense(1)
            x -> a -> b
            a -> side
        }
        output b
        """)
    assert sorted(got) == ["E204", "E205"]  # lonely is never connected; side leads nowhere


def test_sequential_is_detected_in_graph_chains():
    s = summary("input x: (4,)\ngraph { x -> Dense(3) -> Dense(1) }")
    assert s["api"] == "sequential"
