"""`nnspec gen`: the generated tf.keras script for every spec.

The script of each spec in specs/ is kept in tests/golden/<spec>.py and compared
byte for byte; after a deliberate change to the templates regenerate them with

    pytest tests/test_gen.py --update-goldens

and review the diff. The keras-marked tests import the scripts, build their
models and compare them with `nnspec summary`, and run one script end to end.
"""

from __future__ import annotations

import ast
import gzip
import importlib.util
import io
import json
import math
import os
import subprocess
import sys
import tokenize
from functools import cache
from pathlib import Path

import black
import pytest
from click.testing import CliRunner
from helpers import ROOT, SPECS, compile_file, python

from nnspec import __version__
from nnspec.check.pipeline import compile_text
from nnspec.check.summary import as_dict
from nnspec.cli import main
from nnspec.keras.codegen import render_script
from nnspec.keras.emitters import GenError

GOLDEN = Path(__file__).parent / "golden"
IDS = [p.stem for p in SPECS]
RUFF = Path(sys.executable).parent / "ruff"

# Layer names that are Python keywords or names the script itself defines.
NAMES = """\
model names "layer names that are Python keywords or names of the script"
input class: (4,)
graph {
    lambda = Dense(8)
    keras = Dense(8)
    layers = Dense(8)
    keras_ = Add()
    x = Dense(2, activation=softmax)
    history = Dense(3)

    class -> lambda -> keras
    lambda -> layers
    [keras, layers] -> keras_ -> x
    keras_ -> history
}
output x, history
"""
# Keras names unnamed layers `dense`, `dense_1`... whatever the spec calls the others.
AUTO_NAMES = """\
model auto_names "automatic names beside a spec's names"
input x: (5, 4)
graph {
    dense_1 = Dense(4)
    x -> Dense(3) -> dense_1 -> Dense(2) -> Bidirectional(LSTM(2, return_sequences=true))
    bidirectional -> LSTM(2)
}
"""
# MultiHeadAttention makes an unnamed Softmax and Dropout when built: Keras's
# names of the spec's own Softmax and Dropout move on by one.
ATTENTION_NAMES = """\
model attention_names
input q: (5, 8)
input v: (6, 8)
graph {
    mha = MultiHeadAttention(2, 4)
    [q, v] -> mha -> Dropout(0.1) -> Softmax() -> Dense(3)
}
output dense
"""
SHARED = """\
model siamese "one encoder applied to two inputs"
input left: (8,)
input right: (8,)
graph {
    encoder = Dense(4, activation=relu)
    left_code = Activation(linear)
    right_code = Activation(linear)
    distance = Subtract()
    score = Dense(1, activation=sigmoid)

    left -> encoder -> left_code
    right -> encoder -> right_code
    [left_code, right_code] -> distance -> score
}
"""
SYNTHETIC = """\
model synthetic
data regression(n_samples=200, n_features=5, noise=0.1) { limit: 100, seed: 3 }
input x: (5,)
sequential {
    Dense(8, activation=relu, kernel_regularizer=l2(0.01))
    Dense(1)
}
compile { loss: huber(delta=2.0), optimizer: sgd(learning_rate=0.01, momentum=0.9) }
fit { epochs: 2, validation: 0.25, callbacks: [tensorboard(log_dir="tb")] }
save "synthetic.keras"
plot "synthetic.png"
predict "synthetic.csv"
"""
CLASS_WEIGHTS = """\
model weighted
data iris { labels: one_hot }
input x: (4,)
sequential {
    Dense(3, activation=softmax)
}
compile { loss: categorical_crossentropy, optimizer: adam }
fit { epochs: 2, class_weight: {0: 1.0, 1: 2, 2: 1/2} }
"""
# Plot and predict need training: without a compile block the script only builds.
NOT_TRAINED = """\
model untrained
data digits
input pixels: (64,)
sequential {
    Dense(10, activation=softmax)
}
save "untrained.keras"
plot "untrained.png"
predict "untrained.csv"
"""
# Every place a spec's free text reaches the script; {0}, {1}... are string literals.
STRINGS = """\
model evil {0}
data csv({1}, label={2}, delimiter={3}) {{ test_split: 0.2 }}
input x: (4,)
sequential {{
    Dense(2, activation=softmax)
}}
compile {{ loss: sparse_categorical_crossentropy, optimizer: adam }}
fit {{
    epochs: 2
    callbacks: [
        early_stopping(monitor={4}, mode=min),
        model_checkpoint({5}),
        csv_logger({6}, separator={7}),
        tensorboard(log_dir={8}),
    ]
}}
evaluate
save {9}
plot {10}
predict {11}
"""
HOSTILE = (
    '"""',
    "'''",
    '\\"',
    "\\",
    "\n",
    "\r\n",
    "\t\x0c\x1b\x00",
    '__import__("os").system("touch pwned")',
    '")\nimport os\nos.system("x")  # ',
    "'; __import__('os')#",
    "é ✓ 数据 \u2028 \u2029 \x85 😀",
    "{{ p.name }} {% raw %} {#",
)


def spec_string(text: str) -> str:
    """`text` as an nnspec string literal (the lexer reads Python's escapes)."""
    return json.dumps(text, ensure_ascii=False)


# The file name extensions the checker asks for, by place in STRINGS.
EXTENSIONS = {5: ".keras", 9: ".keras"}


def hostile_values() -> list[str]:
    """A different mixture of hostile pieces for each string of STRINGS."""
    pieces = [HOSTILE[i:] + HOSTILE[:i] for i in range(12)]
    return [f"{i}{''.join(p)}{EXTENSIONS.get(i, '.')}" for i, p in enumerate(pieces)]


def plain_values() -> list[str]:
    return [f"plain{i}{EXTENSIONS.get(i, '')}" for i in range(12)]


def strings_spec(values: list[str]) -> str:
    return STRINGS.format(*(spec_string(v) for v in values))


@cache
def script(path: Path, api: str = "auto") -> str:
    """The script of a spec in specs/, as `nnspec gen specs/NAME.nn` run from the root writes it."""
    result = compile_file(path)
    return render_script(result.model, path.relative_to(ROOT).as_posix(), api, spec=result.spec)


def script_of(text: str, api: str = "auto", spec_path: str = "tmp.nn", data_dir=None) -> str:
    result = compile_text(text)
    assert result.ok, [f"{d.code} {d.message}" for d in result.diagnostics]
    return render_script(result.model, spec_path, api, data_dir, result.spec)


def gen(*args: str, monkeypatch: pytest.MonkeyPatch, cwd: Path = ROOT):
    """`nnspec gen ARGS` in-process, from `cwd`."""
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return CliRunner().invoke(main, ["gen", *args], catch_exceptions=False)


def functions(source: str) -> list[str]:
    return [n.name for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)]


# ---- golden files -------------------------------------------------------------------


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_golden(path: Path, update_goldens: bool):
    golden = GOLDEN / f"{path.stem}.py"
    if update_goldens:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_bytes(script(path).encode("utf-8"))
    assert golden.exists(), f"no golden file {golden.name}; run pytest with --update-goldens"
    assert script(path).encode("utf-8") == golden.read_bytes(), (
        f"{path.name}: generated script differs from tests/golden/{golden.name} "
        "(pytest tests/test_gen.py --update-goldens, then review the diff)"
    )


def test_every_golden_file_has_a_spec():
    orphans = sorted(g.name for g in GOLDEN.glob("*.py") if g.stem not in IDS)
    assert not orphans, f"golden files without a spec in specs/: {orphans}"


def test_the_command_line_writes_the_golden_bytes_in_a_fresh_process():
    """Another interpreter, another hash seed: the same bytes."""
    for stem in ("residual_block", "ticket_classifier", "resnet50", "mobilenet_v2"):
        path = ROOT / "specs" / f"{stem}.nn"
        run = subprocess.run(
            [sys.executable, "-m", "nnspec.cli", "gen", path.relative_to(ROOT).as_posix()],
            capture_output=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "random"},
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout == (GOLDEN / f"{path.stem}.py").read_bytes()


# ---- the script's form ----------------------------------------------------------------


def all_scripts(tmp_path: Path) -> dict[str, str]:
    """Every spec in every API it can take, and the extra specs above, by file name."""
    scripts = {}
    for path in SPECS:
        scripts[f"{path.stem}.py"] = script(path)
        scripts[f"{path.stem}_functional.py"] = script(path, "functional")
    (tmp_path / "mnist.npz").touch()
    (tmp_path / "fashion-mnist").mkdir()
    (tmp_path / "fashion-mnist" / "train-labels-idx1-ubyte.gz").touch()
    for stem in ("mnist_cnn", "fashion_mnist"):
        text = (ROOT / "specs" / f"{stem}.nn").read_text()
        scripts[f"{stem}_data_dir.py"] = script_of(text, data_dir=str(tmp_path))
    extras = {"names": NAMES, "auto_names": AUTO_NAMES, "shared": SHARED, "synthetic": SYNTHETIC}
    extras |= {"class_weights": CLASS_WEIGHTS, "not_trained": NOT_TRAINED}
    extras["hostile"] = strings_spec(hostile_values())
    for name, text in extras.items():
        scripts[f"{name}.py"] = script_of(text)
    for golden in sorted((GOLDEN / "data").glob("*.py")):  # tests/test_multi_io.py's
        scripts[f"data_{golden.name}"] = golden.read_text()
    return scripts


def test_scripts_are_black_formatted_compile_and_are_ruff_clean(tmp_path: Path):
    scripts = all_scripts(tmp_path)
    out = tmp_path / "scripts"
    out.mkdir()
    for name, source in scripts.items():
        assert black.format_str(source, mode=black.Mode()) == source, f"{name}: not black"
        compile(source, name, "exec")
        (out / name).write_text(source, encoding="utf-8")
    # Default rules, then the project's own selection on top (E501 stays off: black
    # leaves long strings whole).
    for extra in ([], ["--extend-select", "W,I,B,UP,SIM", "--target-version", "py310"]):
        run = subprocess.run(
            [str(RUFF), "check", "--isolated", "--no-cache", *extra, str(out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stdout + run.stderr


def test_the_same_spec_gives_the_same_bytes():
    path = ROOT / "specs/residual_block.nn"
    first = render_script(compile_file(path).model, "specs/residual_block.nn")
    second = render_script(compile_file(path).model, "specs/residual_block.nn")
    assert first == second


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_header_names_the_spec_and_the_version(path: Path):
    lines = script(path).splitlines()
    assert lines[0] == f"# Generated by nnspec {__version__} from specs/{path.name}."
    checked = compile_file(path).model
    assert ast.get_docstring(ast.parse(script(path))) == f"{checked.name}: {checked.description}"


@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_script_has_load_data_build_model_main_and_a_main_guard(path: Path):
    source = script(path)
    names = functions(source)
    has_data = compile_file(path).model.data is not None
    assert ("load_data" in names) == has_data
    assert {"build_model", "main"} <= set(names)
    guard = ast.parse(source).body[-1]
    assert ast.unparse(guard) == "if __name__ == '__main__':\n    main()"


def test_arguments_are_written_as_keras_spells_them():
    cnn = script(ROOT / "specs/mnist_cnn.nn")
    assert 'layers.Conv2D(32, (3, 3), activation="relu"),' in cnn
    assert "layers.MaxPooling2D()," in cnn, "pool_size=(2, 2) is the default"
    assert 'model.save("mnist_cnn.keras")' in cnn
    residual = script(ROOT / "specs/residual_block.nn")
    assert "keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)" in residual
    mnist = script(ROOT / "specs/mnist_functional.nn")
    assert "loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)" in mnist


def test_defaults_written_in_the_spec_are_left_out():
    source = script_of("""\
model defaults
input image: (8, 8, 1)
sequential {
    Conv2D(4, kernel_size=3, strides=1, padding=valid, activation=None, use_bias=true)
    MaxPooling2D(pool_size=2, padding="valid")
    Flatten()
    Dropout(rate=0.5)
    Dense(units=10, kernel_initializer=glorot_uniform)
}
compile { loss: mse, optimizer: adam(learning_rate=0.001) }
""")
    assert "layers.Conv2D(4, (3, 3))," in source
    assert "layers.MaxPooling2D()," in source
    assert "layers.Dropout(0.5)," in source
    assert "layers.Dense(10)," in source
    assert 'model.compile(optimizer="adam", loss="mse")' in source
    assert "valid" not in source and "strides" not in source and "use_bias" not in source


# ---- --api ----------------------------------------------------------------------------


def test_auto_api_picks_sequential_for_a_chain_and_functional_otherwise():
    for stem, api in [
        ("mnist_cnn", "Sequential"),
        ("conv_autoencoder", "Sequential"),  # a graph block, but a plain chain
        ("residual_block", "Model"),
        ("ticket_classifier", "Model"),
    ]:
        source = script(ROOT / f"specs/{stem}.nn")
        assert f"return keras.{api}(" in source, stem


def test_functional_api_on_a_chain():
    source = script(ROOT / "specs/mnist_cnn.nn", "functional")
    assert "return keras.Sequential(" not in source
    assert 'image = keras.Input(shape=(28, 28, 1), name="image")' in source
    assert 'conv2d = layers.Conv2D(32, (3, 3), activation="relu")(image)' in source
    assert "outputs=dense_1," in source


def test_sequential_api_on_a_graph_is_e601_and_writes_nothing(tmp_path: Path, monkeypatch):
    out = tmp_path / "residual.py"
    run = gen(
        "--api", "sequential", "specs/residual_block.nn", "-o", str(out), monkeypatch=monkeypatch
    )
    assert run.exit_code == 1
    assert run.stderr.splitlines()[:4] == [
        "specs/residual_block.nn:22:15: error[E601]: cannot write `residual_cnn` with the "
        "Sequential API: `add_a` takes 2 inputs (`conv_a2`, `stem`)",
        " 22 |     [conv_a2, stem] -> add_a -> relu_a",
        "    |               ^~~~",
        "    = hint: use `--api functional` (or `auto`, which picks it for graphs)",
    ]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "text, reason",
    [
        (SHARED, "it has 2 inputs"),
        (NAMES, "it has 2 outputs"),
        (
            "model m\ninput x: (4,)\ngraph {\n  a = Dense(4)\n  b = Dense(4)\n  x -> a -> b -> a\n}\n",
            "is applied more than once",
        ),
    ],
    ids=["inputs", "outputs", "shared"],
)
def test_sequential_api_error_says_why(text: str, reason: str):
    result = compile_text(text)
    assert result.ok, [d.message for d in result.diagnostics]
    with pytest.raises(GenError) as caught:
        render_script(result.model, "m.nn", "sequential")
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E601" and reason in diagnostic.message
    assert diagnostic.span.line > 1


# ---- -o, errors, --check ----------------------------------------------------------------


def test_output_file_is_the_printed_script(tmp_path: Path, monkeypatch):
    out = tmp_path / "cnn.py"
    printed = gen("specs/mnist_cnn.nn", monkeypatch=monkeypatch)
    written = gen("specs/mnist_cnn.nn", "-o", str(out), monkeypatch=monkeypatch)
    assert printed.exit_code == written.exit_code == 0
    assert printed.stdout == out.read_text() == script(ROOT / "specs/mnist_cnn.nn")
    assert [p.name for p in tmp_path.iterdir()] == ["cnn.py"], "no temporary file left"


def test_output_replaces_the_file_atomically(tmp_path: Path, monkeypatch):
    """A reader of the old file keeps the old contents: the new file is renamed over it."""
    out = tmp_path / "cnn.py"
    out.write_text("old\n")
    with out.open() as reader:
        assert gen("specs/mnist_cnn.nn", "-o", str(out), monkeypatch=monkeypatch).exit_code == 0
        assert reader.read() == "old\n"
    assert out.read_text() == script(ROOT / "specs/mnist_cnn.nn")
    assert [p.name for p in tmp_path.iterdir()] == ["cnn.py"]


def test_write_atomic_that_fails_leaves_the_old_file_and_no_temporary(tmp_path: Path):
    from nnspec.files import write_atomic

    out = tmp_path / "cnn.py"
    out.write_text("old\n")
    with pytest.raises(TypeError):
        write_atomic(out, 42)
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["cnn.py"]


def test_spec_with_errors_writes_nothing(tmp_path: Path, monkeypatch):
    (tmp_path / "broken.nn").write_text(
        "model broken\ninput x: (4,)\nsequential {\n    Dens(2)\n}\n"
    )
    out = tmp_path / "broken.py"
    out.write_text("old\n")
    before = out.stat().st_mtime_ns
    run = gen("broken.nn", "-o", "broken.py", cwd=tmp_path, monkeypatch=monkeypatch)
    assert run.exit_code == 1
    assert "broken.nn:4:5: error[E101]: unknown layer type `Dens`" in run.output
    assert " 4 |     Dens(2)" in run.output
    assert "Traceback" not in run.output
    assert out.read_text() == "old\n" and out.stat().st_mtime_ns == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.nn", "broken.py"]


def test_unicode_names_are_rejected_with_a_diagnostic(tmp_path: Path, monkeypatch):
    """The grammar's names are ASCII: a non-ASCII name is an error, never a broken script."""
    (tmp_path / "u.nn").write_text(
        "model m\ninput données: (4,)\nsequential {\n    Dense(2)\n}\n", encoding="utf-8"
    )
    run = gen("u.nn", "-o", "u.py", cwd=tmp_path, monkeypatch=monkeypatch)
    assert run.exit_code == 1
    assert "u.nn:2:11: error[E002]: invalid character 'é'" in run.output
    assert not (tmp_path / "u.py").exists()


def test_check_up_to_date_out_of_date_and_missing(tmp_path: Path, monkeypatch):
    out = tmp_path / "cnn.py"
    assert gen("specs/mnist_cnn.nn", "-o", str(out), monkeypatch=monkeypatch).exit_code == 0

    fresh = gen("--check", "specs/mnist_cnn.nn", "-o", str(out), monkeypatch=monkeypatch)
    assert fresh.exit_code == 0, fresh.output
    assert fresh.stdout == f"{out}: up to date\n"

    out.write_text(out.read_text().replace("epochs=5", "epochs=50"))
    stale = gen("--check", "specs/mnist_cnn.nn", "-o", str(out), monkeypatch=monkeypatch)
    assert stale.exit_code == 1
    diff = stale.stdout.splitlines()
    assert diff[0] == f"--- {out} (on disk)"
    assert diff[1] == f"+++ {out} (from specs/mnist_cnn.nn)"
    assert [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")] == [
        "-        x_train, y_train, epochs=50, batch_size=64, validation_data=(x_test, y_test)",
        "+        x_train, y_train, epochs=5, batch_size=64, validation_data=(x_test, y_test)",
    ]
    assert "out of date" in stale.stderr and "nnspec gen specs/mnist_cnn.nn" in stale.stderr
    assert "epochs=50" in out.read_text(), "--check writes nothing"

    out.unlink()
    missing = gen("--check", "specs/mnist_cnn.nn", "-o", str(out), monkeypatch=monkeypatch)
    assert missing.exit_code == 1
    added = [line[1:] for line in missing.stdout.splitlines()[3:]]
    assert "\n".join(added) + "\n" == script(ROOT / "specs/mnist_cnn.nn")
    assert not out.exists()


def test_check_needs_an_output_file(monkeypatch):
    run = gen("--check", "specs/mnist_cnn.nn", monkeypatch=monkeypatch)
    assert run.exit_code == 2
    assert "--check needs -o FILE" in run.stderr


# ---- safety: spec text in the script --------------------------------------------------------


def strings_of(tree: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and type(n.value) is str]


def skeleton(tree: ast.AST) -> str:
    """The tree with every string constant blanked: its code, not its data."""
    tree = ast.parse(ast.unparse(tree))  # a copy
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and type(node.value) is str:
            node.value = ""
    return ast.dump(tree)


def header(source: str) -> str:
    """The text the first comment quotes, decoded."""
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    comments = [t for t in tokens if t.type == tokenize.COMMENT]
    assert len(comments) == 1 and comments[0].start == (1, 0), "one comment, the first line"
    first = comments[0].string
    assert first.startswith(f"# Generated by nnspec {__version__} from ")
    quoted = first.split(" from ", 1)[1].removesuffix(".")
    return ast.literal_eval(f'"{quoted}"')


def test_hostile_strings_stay_data():
    """Quotes, newlines, backslashes, code, unicode: each string round-trips exactly,
    in its own place, and the script's code is that of a spec with plain strings."""
    plain, hostile = plain_values(), hostile_values()
    plain_tree = ast.parse(script_of(strings_spec(plain)))
    source = script_of(strings_spec(hostile), spec_path=hostile[0])
    tree = ast.parse(source)
    compile(source, "hostile.py", "exec")

    assert skeleton(tree) == skeleton(plain_tree), "hostile text changed the code"
    placed = dict(zip(plain, hostile))
    found = {}
    for was, now in zip(strings_of(plain_tree), strings_of(tree)):
        if was in placed:
            assert now == placed[was], f"string {was} did not round-trip"
            found[was] = now
    # The description is only in the docstring; the others each have a place.
    assert set(found) == set(plain[1:])
    assert ast.get_docstring(tree, clean=False) == f"evil: {hostile[0]}"
    assert header(source) == hostile[0]
    calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert not {"__import__", "os.system", "eval", "exec"} & calls


def test_hostile_spec_file_name(tmp_path: Path, monkeypatch):
    name = 'we"ird\n\'name"""\\ é.nn'
    (tmp_path / name).write_text((ROOT / "specs/mnist_mlp.nn").read_text())
    run = gen(name, cwd=tmp_path, monkeypatch=monkeypatch)
    assert run.exit_code == 0, run.output
    compile(run.stdout, "out.py", "exec")
    assert header(run.stdout) == name
    assert run.stdout.splitlines()[1:] == script(ROOT / "specs/mnist_mlp.nn").splitlines()[1:]


def test_names_that_are_python_keywords_or_script_names_become_safe_variables():
    source = script_of(NAMES)
    assert 'class_ = keras.Input(shape=(4,), name="class")' in source
    assert 'lambda_ = layers.Dense(8, name="lambda")(class_)' in source
    assert 'keras__ = layers.Add(name="keras_")([keras_, layers_])' in source
    assert "outputs=[x_, history_]," in source


def test_gen_imports_no_tensorflow(tmp_path: Path):
    """In a fresh interpreter: every spec, every API, --data-dir and --check."""
    code = f"""
import sys
from click.testing import CliRunner
from nnspec.cli import main

for spec in {[str(p) for p in SPECS]!r}:
    for args in (["gen", spec], ["gen", "--api", "functional", spec],
                 ["gen", "--data-dir", {str(tmp_path)!r}, spec],
                 ["gen", "--check", spec, "-o", {str(tmp_path / "none.py")!r}]):
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code in (0, 1), (args, result.output)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
print("LOADED:", loaded)
"""
    run = python("-c", code, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "LOADED: []" in run.stdout, run.stdout


# ---- docs -----------------------------------------------------------------------------------


@pytest.mark.parametrize("doc", ["docs/gen.md", "README.md"])
def test_docs_example_is_current(doc):
    """The docs show specs/mnist_cnn.nn and, beside it, its script."""
    text = (ROOT / doc).read_text(encoding="utf-8")
    spec = (ROOT / "specs/mnist_cnn.nn").read_text()
    assert f"```nn\n{spec}```" in text
    assert f"```python\n{script(ROOT / 'specs/mnist_cnn.nn')}```" in text


# ---- in Keras -------------------------------------------------------------------------------


def load_script(source: str, path: Path):
    """Import `source` as a module from the file `path`."""
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def keras_rows(model) -> list[tuple]:
    """(name, class, output shape, params) of each layer but the inputs."""
    rows = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        outputs = layer.output if isinstance(layer.output, (list, tuple)) else [layer.output]
        shapes = [list(t.shape) for t in outputs]
        shape = shapes if len(shapes) > 1 else shapes[0]
        rows.append((layer.name, type(layer).__name__, shape, layer.count_params()))
    return rows


def summary_rows(summary: dict) -> list[tuple]:
    return [
        (r["name"], r["type"], r["shape"], r["params"])
        for r in summary["layers"]
        if r["type"] != "InputLayer"
    ]


def built(source: str, tmp_path: Path, stem: str):
    import keras

    keras.backend.clear_session()  # Keras's automatic names start afresh
    return load_script(source, tmp_path / f"{stem}.py").build_model()


def assert_same_model(model, text: str) -> None:
    checked = compile_text(text).model
    summary = as_dict(checked)
    assert model.name == summary["name"]
    assert [(t.name, tuple(t.shape)) for t in model.inputs] == [
        (i.name, tuple(i.shape)) for i in checked.inputs
    ]
    assert sorted(keras_rows(model), key=str) == sorted(summary_rows(summary), key=str)
    assert model.count_params() == summary["total_params"]
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    non_trainable = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    assert (trainable, non_trainable) == (
        summary["trainable_params"],
        summary["non_trainable_params"],
    )


@pytest.mark.keras
@pytest.mark.parametrize("path", SPECS, ids=IDS)
def test_script_builds_the_model_nnspec_checked(path: Path, tmp_path: Path):
    """Both APIs, where the spec allows both: the same layers, shapes and counts."""
    text = path.read_text()
    apis = ["sequential", "functional"] if compile_file(path).model.sequential else ["functional"]
    for api in apis:
        model = built(script(path, api), tmp_path, f"{path.stem}_{api}")
        assert type(model).__name__ == ("Sequential" if api == "sequential" else "Functional")
        assert_same_model(model, text)
        if api == "sequential":
            assert [row[0] for row in keras_rows(model)] == [
                row[0] for row in summary_rows(as_dict(compile_file(path).model))
            ], "Sequential keeps the spec's order"


@pytest.mark.keras
@pytest.mark.parametrize(
    "text", [NAMES, AUTO_NAMES, ATTENTION_NAMES], ids=["names", "auto_names", "attention"]
)
def test_script_keeps_nnspec_names(text: str, tmp_path: Path):
    for api in ("auto", "functional"):
        assert_same_model(built(script_of(text, api), tmp_path, f"names_{api}"), text)


def write_idx(path: Path, array, header: int) -> None:
    with gzip.open(path, "wb") as f:
        f.write(b"\0" * header + array.tobytes())


@pytest.mark.keras
def test_load_data_reads_the_data_dir(tmp_path: Path):
    """Keras's dataset files in --data-dir, as mnist.npz and Fashion-MNIST's idx files."""
    import numpy as np

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (9, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 9, dtype=np.uint8)
    np.savez(
        tmp_path / "mnist.npz",
        x_train=images[:6],
        y_train=labels[:6],
        x_test=images[6:],
        y_test=labels[6:],
    )
    fashion = tmp_path / "fashion-mnist"
    fashion.mkdir()
    write_idx(fashion / "train-labels-idx1-ubyte.gz", labels[:6], 8)
    write_idx(fashion / "train-images-idx3-ubyte.gz", images[:6], 16)
    write_idx(fashion / "t10k-labels-idx1-ubyte.gz", labels[6:], 8)
    write_idx(fashion / "t10k-images-idx3-ubyte.gz", images[6:], 16)

    for stem, shape in (("mnist_cnn", (28, 28, 1)), ("fashion_mnist", (784,))):
        text = (ROOT / "specs" / f"{stem}.nn").read_text()
        source = script_of(text, data_dir=str(tmp_path))
        assert "keras.datasets" not in source, "reads the files, downloads nothing"
        module = load_script(source, tmp_path / f"{stem}_data.py")
        (x_train, y_train), (x_test, y_test) = module.load_data()
        assert x_train.dtype == np.float32 and x_train.shape == (6, *shape)
        np.testing.assert_allclose(x_train.reshape(6, -1), images[:6].reshape(6, -1) / 255)
        np.testing.assert_allclose(x_test.reshape(3, -1), images[6:].reshape(3, -1) / 255)
        np.testing.assert_array_equal(y_train.argmax(axis=1), labels[:6])
        np.testing.assert_array_equal(y_test.argmax(axis=1), labels[6:])


@pytest.mark.keras
def test_script_trains_saves_and_predicts(tmp_path: Path):
    """specs/digits_classifier.nn for one epoch: the saved model loads and predicts."""
    import keras
    import numpy as np
    from sklearn.datasets import load_digits

    text = (ROOT / "specs/digits_classifier.nn").read_text().replace("epochs: 5", "epochs: 1")
    source = script_of(text, spec_path="digits.nn")
    assert "model.fit(x_train, y_train)" in source, "one epoch: Keras's default"
    (tmp_path / "digits.py").write_text(source)
    run = subprocess.run(
        [sys.executable, "digits.py"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "test accuracy: " in run.stdout
    rows = (tmp_path / "digits_predictions.csv").read_text().splitlines()
    assert rows[0] == ",".join([f"p_{i}" for i in range(10)] + ["class"])
    predictions = np.loadtxt(rows[1:], delimiter=",")
    assert predictions.shape == (450, 11)  # test_split 0.25 of 1,797 samples; the class
    assert (predictions[:, :10].argmax(axis=1) == predictions[:, 10]).all()

    model = keras.models.load_model(tmp_path / "digits_classifier.h5")
    x = load_digits().data[:7].astype("float32") / 16
    probabilities = model.predict(x, verbose=0)
    assert probabilities.shape == (7, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize("epochs", [1, 3, 40])
def test_training_curves_show_every_epoch_as_a_point_on_whole_epochs(tmp_path, epochs):
    """The generated `plot_history` (which `run` executes too) marks each epoch, so a
    one-epoch run shows its point, and the epoch axis has whole-number ticks only."""
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    source = script(ROOT / "specs" / "fashion_mnist.nn")
    tree = ast.parse(source)
    plot = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "plot_history")
    made: list[Figure] = []

    class Kept(Figure):  # a real Figure, kept for inspection after plot_history returns
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    namespace = {"Figure": Kept, "MaxNLocator": MaxNLocator}
    exec(compile(ast.Module([plot], []), "<plot_history>", "exec"), namespace)  # noqa: S102
    history = {"loss": [1.0 / (e + 1) for e in range(epochs)], "val_loss": [0.5] * epochs}
    namespace["plot_history"](history, tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 0
    ax = made[0].axes[0]
    assert [line.get_marker() for line in ax.get_lines()] == ["o", "o"]
    low, high = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if low <= t <= high]
    assert ticks and all(t == int(t) and 1 <= t <= epochs for t in ticks)
