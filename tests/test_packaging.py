"""The wheel carries the grammar and the templates, so `pip install .` works
without the source tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from helpers import ROOT


def test_wheel_ships_grammar(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
        check=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("nnspec-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "nnspec/grammar/nnspec.lark" in names
    assert "nnspec/cli.py" in names and "nnspec/vocab/layers/registry.py" in names
