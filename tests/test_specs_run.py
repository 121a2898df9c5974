"""Every spec in specs/ trains: a short `nnspec run` of each, as a user starts it
(one epoch on at most 512 samples), and the run folder holds the trained model."""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import SPECS, compile_file, nnspec

pytestmark = pytest.mark.keras


def _loader(path) -> str:
    data = compile_file(path).model.data
    return data.source.loader if data else ""


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_spec_runs(path, tmp_path, request):
    loader = _loader(path)
    args = ["--epochs", "1", "--quiet", "--out", str(tmp_path / "run")]
    if loader:
        args += ["--set", "data.limit=512"]
    if loader == "keras":
        args += ["--data-dir", str(request.getfixturevalue("data_dir"))]
    if loader == "npz":  # text_classifier: token sequences of the shape its input declares
        rng = np.random.default_rng(0)
        np.savez(
            tmp_path / "reviews.npz",
            x=rng.integers(1, 20000, (600, 200)),
            y=rng.integers(0, 2, 600),
        )
    run = nnspec("run", path, *args, cwd=tmp_path, timeout=600, env={"TF_CPP_MIN_LOG_LEVEL": "3"})
    if not loader:
        assert run.returncode == 1 and "no `data` statement" in run.stderr
        return
    assert run.returncode == 0, run.stderr[-3000:]
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    assert (tmp_path / "run" / manifest["model"]).is_file()
    assert len(json.loads((tmp_path / "run" / "history.json").read_text())["loss"]) == 1
