"""`nnspec gen` of specs with parameters and blocks: constants, functions and loops.

A block becomes a function, a loop a Python loop, a parameter a module constant,
and `build_model()` calls the functions, as keras.applications' own source reads.
Before gen keeps such a script it replays build_model() without Keras
(`nnspec/keras/replay.py`); where the replay differs from the checked model, or the
spec uses what the writer does not express, gen writes the flat script instead.

The scripts of specs/ are golden files of tests/test_gen.py (tests/golden/<spec>.py);
the small specs here have theirs in tests/golden/blocks/. After a deliberate change,
regenerate them with

    pytest tests/test_gen.py tests/test_gen_blocks.py --update-goldens

and review the diff. The keras-marked tests build the scripts' models and compare
them, layer by layer, with `nnspec summary --format json`.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import black
import pytest
from click.testing import CliRunner
from helpers import ROOT, SPECS, compile_file
from test_gen import assert_same_model, built, keras_rows, script, script_of, summary_rows

from nnspec.check.pipeline import compile_text
from nnspec.cli import main
from nnspec.keras.codegen import render_script
from nnspec.keras.plan import program
from nnspec.keras.replay import builds

GOLDEN = Path(__file__).parent / "golden" / "blocks"
RUFF = Path(sys.executable).parent / "ruff"
BLOCK_SPECS = [p for p in SPECS if not compile_file(p).spec.flat]

# Parameters, a sequence block and a graph block, loops, a condition in each, a use
# without a name (its layers keep their local names), Keras's automatic names in a loop.
SMALL_BLOCKS = """\
model small_blocks "parameters, blocks, loops and conditions"

param width = 8
param stages = [(1, 2), (2, 3)]

input image: (16, 16, 3)

block conv_bn(filters, kernel=3, stride=1, act=relu) {
    conv = Conv2D(filters, kernel, strides=stride, padding="same", use_bias=false)
    bn = BatchNormalization()
    relu = Activation(act)
}

block residual(filters, project=false) {
    input x
    add = Add()
    x -> conv_bn(filters) -> Conv2D(filters, 1) -> add
    if project {
        shortcut = Conv2D(filters, 1)
        x -> shortcut -> add
    } else {
        x -> add
    }
    output add
}

sequential {
    stem = conv_bn(width, stride=2)
    for (stage, blocks) in stages {
        "stage{stage}_block0" = residual(width * stage, project=true)
        for i in range(1, blocks) {
            "stage{stage}_block{i}" = residual(width * stage)
        }
        if stage < 2 {
            "pool{stage}" = MaxPooling2D()
        }
    }
    conv_bn(width, 1)
    GlobalAveragePooling2D()
    for i in range(2) {
        Dense(16, activation=relu)
    }
    head = Dense(10, activation=softmax)
}
"""
# A top-level graph of a block with two inputs and two outputs, picked by index.
GRAPH_BLOCKS = """\
model graph_blocks "a block of two inputs and two outputs in a graph"

param act = relu
param width = 8
param half = width // 2

input left: (8,)
input right: (8,)

block pair(units) {
    input a, b
    da = Dense(units, activation=act)
    db = Dense(units)
    sum = Add()
    cat = Concatenate()
    a -> da -> sum
    b -> db -> sum
    [da, db] -> cat
    output sum, cat
}

graph {
    p = pair(half)
    q = pair(width)
    [left, right] -> p
    [p.0, p.1] -> q
    head = Dense(2, activation=softmax)
    q.1 -> head
}
output head, q.0
"""
# Conditions written as ruff asks: elif, `!=`, no Yoda comparison, `and` for an if in
# an if, a conditional expression where the line fits.
CONDITIONS = """\
model conditions
param n = 4
input x: (8,)
block b(k, flag=true, mode=1) {
    if mode == 1 { one = Dense(k) } else if mode == 2 { two = Dense(k) } else { three = Dense(k) }
    if not flag { Dropout(0.5) }
    if 2 == k { a = Dense(2) } else { a = Dense(3) }
    if not (k == 4) { ne = Dense(k) }
    if flag { if k > 1 { inner = Dense(k) } }
    if flag { } else { neg = Dense(1) }
    if k > 3 { ReLU() } else { ELU() }
}
sequential {
    for i in range(n) { "b{i}" = b(i + 2, mode=i % 3) }
    last = b(4, flag=false)
}
"""
# Quotes, backslashes, a line separator and `#` in names: they stay data.
HOSTILE_NAMES = r"""
model hostile_names
param tag = "t\"'\\{}"
input x: (8,)
block b(k) { "a\"'\\x\u2028{k}#{tag}" = Dense(k) }
sequential {
    q = b(2)
    "{tag}{k}" = b(3)
}
""".replace('{k}" = b(3)', '_3" = b(3)')
SMALL = {
    "small_blocks": SMALL_BLOCKS,
    "graph_blocks": GRAPH_BLOCKS,
    "conditions": CONDITIONS,
    "hostile_names": HOSTILE_NAMES,
}


def functions(source: str) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}


def constants(source: str) -> list[str]:
    tree = ast.parse(source)
    return [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets]


def layer_calls(node: ast.AST) -> list[str]:
    """The `layers.X(...)` calls written in `node`."""
    return [
        ast.unparse(n.func)
        for n in ast.walk(node)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and ast.unparse(n.func.value) == "layers"
    ]


def kept(source: str) -> bool:
    """Whether the script keeps the spec's blocks or parameters (not the flat script)."""
    plain = {"preprocess", "load_data", "build_model", "plot_history", "main"}
    plain |= {"prediction_rows", "write_predictions"}
    return bool(set(functions(source)) - plain or constants(source))


# ---- golden files ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["small_blocks", "graph_blocks"])
def test_golden(name: str, update_goldens: bool):
    golden = GOLDEN / f"{name}.py"
    source = script_of(SMALL[name], spec_path=f"{name}.nn")
    if update_goldens:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_bytes(source.encode("utf-8"))
    assert golden.exists(), f"no golden file {golden.name}; run pytest with --update-goldens"
    assert source.encode("utf-8") == golden.read_bytes(), (
        f"{name}: generated script differs from tests/golden/blocks/{golden.name} "
        "(pytest tests/test_gen_blocks.py --update-goldens, then review the diff)"
    )


# ---- the script's form ------------------------------------------------------------------


def test_resnet50_reads_like_keras_applications():
    """Two functions, a loop over the stages in build_model, no layer written twice."""
    source = script(ROOT / "specs/resnet50.nn")
    found = functions(source)
    assert list(found) == ["unit", "bottleneck", "build_model", "main"]
    assert ast.unparse(found["unit"].args) == (
        "x, filters, kernel=1, stride=1, padding='valid', act=True, name=None"
    )
    assert ast.unparse(found["bottleneck"].args) == (
        "x, filters, stride=1, project=False, name=None"
    )
    build = found["build_model"]
    loops = [n for n in ast.walk(build) if isinstance(n, ast.For)]
    assert len(loops) == 2 and loops[1] in ast.walk(loops[0]), "stages, then blocks"
    assert "bottleneck" in {
        ast.unparse(n.func) for n in ast.walk(loops[0]) if isinstance(n, ast.Call)
    }
    assert layer_calls(found["unit"]) == [
        "layers.Conv2D",
        "layers.BatchNormalization",
        "layers.Activation",
    ]
    assert len(layer_calls(ast.parse(source))) == 10, "177 layers, 10 calls"
    assert 'name=f"{name}_conv"' in source and 'name=f"conv{n}_block{i}"' in source


def test_mobilenet_v2_parameters_become_constants():
    source = script(ROOT / "specs/mobilenet_v2.nn")
    assert constants(source) == ["STAGES"]
    assert "for first, blocks, in_channels, filters, stride in STAGES:" in source
    found = functions(source)
    assert list(found) == ["inverted", "residual", "build_model", "main"]
    residual = ast.unparse(found["residual"])
    assert "inverted(x, filters, filters, 1, expansion, name=name)" in residual, "transparent"
    assert "layers.GlobalAveragePooling2D()(x)" in source, "Keras names it"


def test_a_block_used_without_a_name_names_its_layers_from_a_prefix():
    source = script_of(SMALL_BLOCKS)
    conv_bn = ast.unparse(functions(source)["conv_bn"])
    assert "prefix = f'{name}_' if name else ''" in conv_bn
    assert "name=f'{prefix}conv'" in conv_bn
    assert "x = conv_bn(x, WIDTH, 1)" in source
    assert "for _ in range(2):" in source, "ruff B007: the loop variable is unread"


def test_a_shortcut_in_an_if_is_one_variable_in_both_branches():
    residual = ast.unparse(functions(script_of(SMALL_BLOCKS))["residual"])
    assert "if project:\n        shortcut = layers.Conv2D" in residual
    assert "else:\n        shortcut = x" in residual
    assert "layers.Add(name=f'{name}_add')([conv2d, shortcut])" in residual


def test_conditions_are_written_as_ruff_asks():
    source = script_of(CONDITIONS)
    body = ast.unparse(functions(source)["b"])
    assert "elif mode == 2:" in body
    assert "if k != 4:" in body and "if k == 2:" in body, "SIM201, SIM300"
    assert "if flag and k > 1:" in body, "SIM102"
    assert "if not flag:\n        x = layers.Dense(1" in body, "an empty `then`"
    assert "x = layers.ReLU()(x) if k > 3 else layers.ELU()(x)" in body, "SIM108"


def test_graph_blocks_return_several_outputs():
    source = script_of(GRAPH_BLOCKS)
    assert ast.unparse(functions(source)["pair"].args) == "a, b, units, name=None"
    assert "return (sum, cat)" in ast.unparse(functions(source)["pair"])
    assert "q = pair(p[0], p[1], WIDTH, name='q')" in ast.unparse(functions(source)["build_model"])
    assert constants(source) == ["ACT", "WIDTH", "HALF"]
    assert "HALF = WIDTH // 2" in source and 'ACT = "relu"' in source


def test_names_stay_data():
    source = script_of(HOSTILE_NAMES)
    assert kept(source)
    checked = compile_text(HOSTILE_NAMES).model
    assert sorted(checked.layers) == [
        "q_a\"'\\x\u20282#t\"'\\{}",
        "t\"'\\{}_3_a\"'\\x\u20283#t\"'\\{}",
    ]
    assert builds(source, checked, program(checked)), "each name as the checker made it"


# ---- the replay, and the flat script where the writer cannot go ---------------------------


@pytest.mark.parametrize("path", BLOCK_SPECS, ids=[p.stem for p in BLOCK_SPECS])
def test_every_block_spec_keeps_its_blocks_and_replays_to_its_checked_model(path: Path):
    result = compile_file(path)
    source = script(path)
    assert kept(source), f"{path.name}: the flat script"
    assert builds(source, result.model, program(result.model))


@pytest.mark.parametrize("name", list(SMALL))
def test_small_specs_keep_their_blocks(name: str):
    assert kept(script_of(SMALL[name]))


@pytest.mark.parametrize(
    "before, after",
    [
        ("[x0, x3]", "[x3, x0]"),  # the order of a merge's inputs
        ("stride=stride, act=False", "act=False"),  # an argument left out
        ("epsilon=1.001e-05, ", ""),  # a literal argument left out
        ("range(2, blocks + 1)", "range(2, blocks)"),  # a layer fewer
        ('name=f"{name}_out"', 'name=f"{name}_output"'),  # another name
        ("kernel=1,", "kernel=1.0,"),  # a float where Keras wants an integer
    ],
)
def test_replay_finds_a_script_that_builds_another_model(before: str, after: str):
    result = compile_file(ROOT / "specs/resnet50.nn")
    source = script(ROOT / "specs/resnet50.nn")
    assert before in source
    p = program(result.model)
    assert builds(source, result.model, p)
    assert not builds(source.replace(before, after), result.model, p)


def test_replay_takes_what_keras_takes_alike():
    """`1` for a kernel of `(1, 1)`: the same layer."""
    result = compile_file(ROOT / "specs/resnet50.nn")
    source = script(ROOT / "specs/resnet50.nn").replace("kernel=1,", "kernel=(1, 1),")
    assert builds(source, result.model, program(result.model))


@pytest.mark.parametrize(
    "text",
    [
        # a loop in a graph body
        'model m\ninput x: (8,)\nblock t(n) {\n input a\n for i in range(n) { "d{i}" = Dense(4) }\n'
        " out = Add()\n a -> d0 -> out\n a -> d1 -> out\n output out\n}\nsequential { t1 = t(2) }\n",
        # an expression in a wrapper's layer
        "model m\ninput x: (5, 8)\nblock r(units) { b = Bidirectional(LSTM(units)) }\n"
        "sequential { r1 = r(4) }\n",
        # a parameter that holds a call
        "model m\nparam reg = l2(0.01)\ninput x: (8,)\nblock b(k) { d = Dense(k, kernel_regularizer=reg) }\n"
        "sequential { one = b(2) }\n",
        # an unnamed layer Keras would name as the spec names another
        "model m\ninput x: (8,)\nblock b(k) { Dense(k) }\nsequential {\n dense = Dense(3)\n b(2)\n}\n",
    ],
    ids=["loop_in_graph", "wrapper_expression", "call_parameter", "automatic_name"],
)
def test_what_the_writer_cannot_express_gets_the_flat_script(text: str):
    result = compile_text(text)
    assert result.ok, [d.message for d in result.diagnostics]
    source = render_script(result.model, "m.nn", spec=result.spec)
    assert source == render_script(result.model, "m.nn"), "the flat script"


def test_api_sequential_writes_the_flat_sequential_script():
    text = "model m\nparam w = 4\ninput x: (8,)\nblock b(k) { d = Dense(k) }\nsequential { b1 = b(w) }\n"
    result = compile_text(text)
    source = render_script(result.model, "m.nn", "sequential", spec=result.spec)
    assert "keras.Sequential(" in source and 'layers.Dense(4, name="b1_d")' in source
    assert "keras.Model(" in render_script(result.model, "m.nn", "functional", spec=result.spec)


def test_flat_specs_are_written_as_before():
    for path in SPECS:
        result = compile_file(path)
        if result.spec.flat:
            assert script(path) == render_script(result.model, path.relative_to(ROOT).as_posix())


def test_block_scripts_are_black_formatted_and_ruff_clean(tmp_path: Path):
    sources = {f"{p.stem}.py": script(p) for p in BLOCK_SPECS}
    sources |= {f"{name}.py": script_of(text) for name, text in SMALL.items()}
    for name, source in sources.items():
        assert black.format_str(source, mode=black.Mode()) == source, f"{name}: not black"
        (tmp_path / name).write_text(source, encoding="utf-8")
    for extra in ([], ["--extend-select", "W,I,B,UP,SIM", "--target-version", "py310"]):
        run = subprocess.run(
            [str(RUFF), "check", "--isolated", "--no-cache", *extra, str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stdout + run.stderr


# ---- in Keras ---------------------------------------------------------------------------------


def summary_json(path: Path) -> dict:
    run = CliRunner().invoke(main, ["summary", "--format", "json", str(path)])
    assert run.exit_code == 0, run.output
    return json.loads(run.stdout)


@pytest.mark.keras
@pytest.mark.parametrize("stem", ["resnet50", "mobilenet_v2"])
def test_build_model_has_the_layers_nnspec_summary_reports(stem: str, tmp_path: Path):
    """Every layer's name, class, output shape and parameter count, and the totals."""
    path = ROOT / "specs" / f"{stem}.nn"
    model = built(script(path), tmp_path, stem)
    summary = summary_json(path)
    assert model.name == summary["name"]
    assert sorted(keras_rows(model), key=str) == sorted(summary_rows(summary), key=str)
    assert model.count_params() == summary["total_params"]
    assert_same_model(model, path.read_text())


@pytest.mark.keras
@pytest.mark.parametrize("name", list(SMALL))
def test_small_specs_build_the_model_nnspec_checked(name: str, tmp_path: Path):
    assert_same_model(built(script_of(SMALL[name]), tmp_path, name), SMALL[name])
