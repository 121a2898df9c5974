"""`nnspec import` folds repeated structure into blocks and loops (issue 15).

The quick tests run on hand-written Keras 3 configs; the `keras` ones on
keras.applications models and the specs of specs/, built and saved by Keras.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import ROOT

from nnspec.check.summary import as_dict
from nnspec.keras import folding
from nnspec.keras.importer import import_config, import_file

# ---- a hand-written config: 3 stages of 2..4 residual Dense blocks ------------------


def _tensor(source: str, units: int) -> dict:
    return {
        "class_name": "__keras_tensor__",
        "config": {"shape": [None, units], "dtype": "float32", "keras_history": [source, 0, 0]},
    }


def _layer(cls: str, name: str, config: dict, sources: list[tuple[str, int]]) -> dict:
    args = [_tensor(*s) for s in sources]
    return {
        "module": "keras.layers",
        "class_name": cls,
        "config": {"name": name, "trainable": True, "dtype": "float32", **config},
        "name": name,
        "inbound_nodes": [{"args": [args] if len(args) > 1 else args, "kwargs": {}}],
    }


def _residual_config() -> dict:
    """`stage{s}_block{b}`: fc1 -> fc2 -> add with the block's input, in three stages."""
    layers = [
        {
            "module": "keras.layers",
            "class_name": "InputLayer",
            "config": {"batch_shape": [None, 8], "dtype": "float32", "name": "features"},
            "name": "features",
            "inbound_nodes": [],
        }
    ]
    previous, width = ("features", 8), 8
    for stage, (units, blocks) in enumerate([(8, 2), (16, 3), (32, 4)], 1):
        name = f"stage{stage}_widen"
        layers.append(_layer("Dense", name, {"units": units}, [previous]))
        previous, width = (name, units), units
        for block in range(1, blocks + 1):
            prefix = f"stage{stage}_block{block}"
            fc1 = _layer(
                "Dense", f"{prefix}_fc1", {"units": width, "activation": "relu"}, [previous]
            )
            fc2 = _layer("Dense", f"{prefix}_fc2", {"units": width}, [(f"{prefix}_fc1", width)])
            add = _layer("Add", f"{prefix}_add", {}, [previous, (f"{prefix}_fc2", width)])
            layers += [fc1, fc2, add]
            previous = (f"{prefix}_add", width)
    layers.append(_layer("Dense", "head", {"units": 1}, [previous]))
    config = {
        "name": "stages",
        "layers": layers,
        "input_layers": [["features", 0, 0]],
        "output_layers": [["head", 0, 0]],
    }
    return {"class_name": "Functional", "config": config, "keras_version": "3.5.0"}


def _names(model) -> set[str]:
    return set(model.layers)


def test_repeated_blocks_fold_into_a_block_and_loops():
    flat = import_config(_residual_config(), flat=True)
    folded = import_config(_residual_config())
    assert "block " not in flat.text and "for " not in flat.text
    assert "block " in folded.text and "for " in folded.text
    assert len(folded.text.splitlines()) < len(flat.text.splitlines())
    assert _names(folded.model) == _names(flat.model)
    assert folding.fingerprint(folded.model) == folding.fingerprint(flat.model)


def test_flat_is_the_unfolded_import():
    """`flat=True` writes what the importer wrote before folding: every layer."""
    flat = import_config(_residual_config(), flat=True).text
    assert flat.count(" = Dense(") == 3 + 2 * (2 + 3 + 4) + 1
    assert "graph {" in flat


def test_a_fold_that_is_not_proven_leaves_the_import_flat(monkeypatch):
    """Folding that makes another model (here: one width changed) is refused."""
    attempt = folding.attempt

    def wrong(*args):
        text = attempt(*args)
        return text and text.replace("units=16", "units=17").replace("Dense(16", "Dense(17")

    monkeypatch.setattr(folding, "attempt", wrong)
    imported = import_config(_residual_config())
    assert imported.text == import_config(_residual_config(), flat=True).text


def test_a_folding_fault_leaves_the_import_flat(monkeypatch):
    def broken(*args):
        raise RuntimeError("a bug in folding")

    monkeypatch.setattr(folding, "attempt", broken)
    imported = import_config(_residual_config())
    assert imported.text == import_config(_residual_config(), flat=True).text


def test_cli_flat_flag(tmp_path):
    path = tmp_path / "stages.json"
    path.write_text(json.dumps(_residual_config()))
    runs = [
        subprocess.run(
            [sys.executable, "-m", "nnspec.cli", "import", str(path), *flag],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        for flag in ([], ["--flat"])
    ]
    assert all(run.returncode == 0 for run in runs), runs
    assert "block " in runs[0].stdout and "block " not in runs[1].stdout
    assert runs[1].stdout == import_config(_residual_config(), "stages.json", flat=True).text


# ---- keras.applications --------------------------------------------------------------

APPLICATIONS = {  # name: (parameters, most lines of the folded spec)
    "ResNet50": (25_636_712, 80),
    "MobileNetV2": (3_538_984, 80),
    "DenseNet121": (8_062_504, 80),
}


@pytest.fixture(scope="module")
def applications(tmp_path_factory) -> dict:
    import keras

    folder = tmp_path_factory.mktemp("applications")
    saved = {}
    for name in APPLICATIONS:
        model = getattr(keras.applications, name)(weights=None)
        model.save(folder / f"{name}.keras")
        names = {layer.name for layer in model.layers if type(layer).__name__ != "InputLayer"}
        saved[name] = (folder / f"{name}.keras", names)
    return saved


@pytest.mark.keras
@pytest.mark.parametrize("name", list(APPLICATIONS))
def test_applications_fold(name, applications):
    path, keras_names = applications[name]
    params, most = APPLICATIONS[name]
    folded, flat = import_file(path), import_file(path, flat=True)
    lines = folded.text.count("\n")
    assert "block " in folded.text and lines <= most, folded.text
    assert lines < flat.text.count("\n")
    assert as_dict(folded.model)["total_params"] == params
    assert _names(folded.model) == keras_names
    assert folding.fingerprint(folded.model) == folding.fingerprint(flat.model)


@pytest.mark.keras
def test_specs_with_blocks_import_folded(tmp_path):
    """specs/resnet50.nn, built and saved by Keras, imports to blocks again, and to
    the same expanded model (test_import.py's round trip checks every spec so)."""
    from helpers import compile_file

    from nnspec.keras.builder import build_model

    original = compile_file(ROOT / "specs/resnet50.nn").model
    build_model(original).save(tmp_path / "resnet50.keras")
    imported = import_file(tmp_path / "resnet50.keras")
    assert "block " in imported.text and imported.text.count("\n") <= 80
    assert folding.fingerprint(imported.model) == folding.fingerprint(original)
