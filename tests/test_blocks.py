"""Parameters, blocks, loops and conditions: expanded to the flat Keras graph.

Shapes and counts of the expanded models are checked against Keras itself in
tests/test_blocks_keras.py; here, without TensorFlow, the expansion's names,
wiring, diagnostics and the commands that show them.
"""

from __future__ import annotations

import json

import pytest
from helpers import ROOT, codes, nnspec

from nnspec.check.pipeline import compile_text
from nnspec.check.summary import as_dict

SPECS = ROOT / "specs"


def names(text: str) -> list[str]:
    result = compile_text(text)
    assert result.ok, [d.message for d in result.diagnostics]
    return [n.layer for n in result.model.nodes]


def test_resnet50_is_keras_resnet50():
    summary = as_dict(compile_text((SPECS / "resnet50.nn").read_text()).model)
    assert summary["total_params"] == 25_636_712
    assert summary["trainable_params"] == 25_583_592
    assert len(summary["layers"]) == 177
    layers = {row["name"]: row for row in summary["layers"]}
    assert layers["conv3_block2_1_conv"]["shape"] == [None, 28, 28, 128]
    assert layers["conv5_block3_out"]["shape"] == [None, 7, 7, 2048]
    assert layers["conv4_block1_0_conv"]["connected_to"] == ["conv3_block4_out[0][0]"]


def test_resnet50_is_short():
    assert len((SPECS / "resnet50.nn").read_text().splitlines()) <= 45


def test_mobilenet_v2_is_keras_mobilenet_v2():
    summary = as_dict(compile_text((SPECS / "mobilenet_v2.nn").read_text()).model)
    assert summary["total_params"] == 3_538_984
    layers = {row["name"]: row for row in summary["layers"]}
    assert "block_1_pad" in layers and "block_2_pad" not in layers
    assert layers["block_2_add"]["connected_to"] == [
        "block_1_project_BN[0][0]",
        "block_2_project_BN[0][0]",
    ]
    assert "block_16_add" not in layers  # 160 -> 320 channels: no shortcut
    assert layers["global_average_pooling2d"]["shape"] == [None, 1280]


SEQUENTIAL_BLOCK = """\
input x: (16,)
block mlp(units, depth=2) {
    for i in range(depth) {
        "dense{i + 1}" = Dense(units, activation=relu)
    }
}
sequential {
    body = mlp(32, depth=3)
    mlp(8, 1)
    Dense(1)
}
"""


def test_names_join_from_the_outermost_use():
    assert names(SEQUENTIAL_BLOCK) == [
        "body_dense1",
        "body_dense2",
        "body_dense3",
        "dense1",
        "dense",
    ]


def test_a_chain_of_sequential_blocks_stays_sequential():
    model = compile_text(SEQUENTIAL_BLOCK).model
    assert model.sequential
    assert compile_text(SEQUENTIAL_BLOCK).spec.architecture.items[0].name == "body"


GRAPH_BLOCK = """\
input a: (8,)
input b: (8,)
block pair(units) {
    input left, right
    l = Dense(units)
    r = Dense(units)
    left -> l
    right -> r
    output l, r
}
graph {
    p = pair(4)
    join = Concatenate()
    [a, b] -> p
    [p.0, p.1] -> join -> Dense(1)
}
"""


def test_graph_block_with_two_inputs_and_outputs():
    result = compile_text(GRAPH_BLOCK)
    assert result.ok, [d.message for d in result.diagnostics]
    join = next(n for n in result.model.nodes if n.layer == "join")
    assert [r.source for r in join.inputs] == ["p_l", "p_r"]
    assert join.shape == (None, 8)


def test_inline_block_in_a_chain_and_edges_before_definitions():
    text = """\
input x: (8,)
block res(units) {
    input x
    add = Add()
    x -> h -> add
    x -> add
    h = Dense(units)
    output add
}
graph {
    x -> Dense(8) -> res(8) -> head
    head = Dense(1)
}
"""
    result = compile_text(text)
    assert result.ok, [d.message for d in result.diagnostics]
    assert [n.layer for n in result.model.nodes] == ["dense", "h", "add", "head"]


def test_conditions_and_tuples():
    text = """\
param stages = [(1, 16), (2, 32)]
input x: (8,)
sequential {
    for (stage, units) in stages {
        if stage == 1 {
            "wide{stage}" = Dense(units * 2)
        } else if stage > 5 {
            never = Dense(1)
        } else {
            "narrow{stage}" = Dense(units // 2)
        }
    }
}
"""
    model = compile_text(text).model
    assert [(n.layer, n.shape) for n in model.nodes] == [
        ("wide1", (None, 32)),
        ("narrow2", (None, 16)),
    ]


def test_parameters_in_shapes_and_settings():
    text = """\
param size = 8
param epochs = 3
data digits { scale: 1/16, reshape: (size, size, 1) }
input image: (size, size, 1)
sequential {
    Flatten()
    Dense(10, activation=softmax)
}
compile { loss: sparse_categorical_crossentropy, optimizer: adam }
fit { epochs: epochs * 2, batch_size: 2 ** 0 + 31 }
"""
    assert codes(text) == ["E001"]  # `**` is not an operator of the language
    result = compile_text(text.replace("2 ** 0 + 31", "32"))
    assert result.ok and result.model.fit["epochs"] == 6
    assert result.model.inputs[0].shape == (None, 8, 8, 1)


def test_an_error_in_a_block_is_reported_once_with_its_uses():
    text = """\
block bad(units) {
    Dense(units, activation=relux)
}
input x: (8,)
sequential {
    b1 = bad(4)
    b2 = bad(8)
}
"""
    (diag,) = compile_text(text).diagnostics
    assert (diag.code, diag.span.line, diag.span.column) == ("E108", 2, 29)
    assert diag.hints[-1] == "found in 2 uses of `bad`"
    assert [(r.span.line, r.message) for r in diag.related] == [
        (6, "in `bad` used at 6:5 with units=4"),
        (7, "also in `bad` used at 7:5 with units=8"),
    ]


def test_nested_uses_are_all_named():
    text = """\
block inner(units) {
    d = Dense(units // 0)
}
block outer(units) {
    i = inner(units)
}
input x: (8,)
sequential {
    o = outer(4)
}
"""
    (diag,) = compile_text(text).diagnostics
    assert diag.code == "E702"
    assert [r.message for r in diag.related] == [
        "in `inner` used at 5:5 with units=4",
        "in `outer` used at 9:5 with units=4",
    ]


@pytest.mark.parametrize(
    "body, code",
    [
        ("b = blk(1, 2)", "E107"),
        ("b = blk(units=1, units=2)", "E104"),
        ("b = blk()", "E103"),
        ("b = blk(unit=1)", "E102"),
        ("b = blk(1 // 0)", "E702"),
        ('b = blk("wide" * 2)', "E703"),
        ("input y", "E709"),
        ("x -> b", "E709"),
    ],
)
def test_bad_uses(body, code):
    text = (
        f"block blk(units) {{\n    Dense(units)\n}}\ninput x: (8,)\nsequential {{\n    {body}\n}}\n"
    )
    assert code in codes(text)


def test_expansion_is_linear():
    """10,000 expanded layers check in one pass; the figures are in bench/compile_speed.py."""
    text = "param n = 10000\ninput x: (4,)\nsequential {\n    for i in range(n) {\n        Dense(4)\n    }\n}\n"
    result = compile_text(text)
    assert result.ok and len(result.model.nodes) == 10_000


def test_runaway_loop_is_stopped():
    text = (
        "input x: (4,)\nsequential {\n    for i in range(10000000) {\n        Dense(4)\n    }\n}\n"
    )
    assert codes(text) == ["E704"]


def test_summary_blocks_folds_each_use(tmp_path):
    run = nnspec("summary", "--blocks", "--format", "json", str(SPECS / "resnet50.nn"))
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)["layers"]
    assert [r["name"] for r in rows[:4]] == ["input_layer", "conv1_pad", "conv1", "pool1_pad"]
    block = next(r for r in rows if r["name"] == "conv3_block1")
    assert block["type"] == "bottleneck"
    assert block["shape"] == [None, 28, 28, 512]
    assert block["params"] == 383_232
    assert block["connected_to"] == ["conv2_block3"]
    assert sum(r["params"] for r in rows) == 25_636_712


def test_set_a_parameter(tmp_path):
    spec = tmp_path / "widths.nn"
    spec.write_text(
        SEQUENTIAL_BLOCK.replace("mlp(32, depth=3)", "mlp(32, depth=depth)").replace(
            "input x", "param depth = 3\ninput x"
        )
    )
    run = nnspec("run", "--set", "depth=0", str(spec), cwd=tmp_path)
    assert run.returncode == 1
    assert "error[E707]: the loop repeats no times" in run.stdout
    assert "in `mlp` used at 9:5 with units=32, depth=0" in run.stdout


def test_json_output_carries_related_locations(tmp_path):
    spec = tmp_path / "bad.nn"
    spec.write_text(
        "block bad() {\n    Dense(0)\n}\ninput x: (8,)\nsequential {\n    b = bad()\n}\n"
    )
    run = nnspec("check", "--format", "json", str(spec))
    (record,) = json.loads(run.stdout)
    assert record["related"] == [
        {
            "file": str(spec),
            "line": 6,
            "column": 5,
            "end_line": 6,
            "end_column": 14,
            "message": "in `bad` used at 6:5",
        }
    ]
    sarif = json.loads(nnspec("check", "--format", "sarif", str(spec)).stdout)
    (found,) = sarif["runs"][0]["results"]
    assert found["relatedLocations"][0]["message"]["text"] == "in `bad` used at 6:5"
