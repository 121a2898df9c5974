"""Shared test helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nnspec.compiler import Result, compile_text

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.nn"))


def compile_file(path: Path) -> Result:
    return compile_text(path.read_text())


def codes(text: str) -> list[str]:
    return [d.code for d in compile_text(text).diagnostics]


def python(code: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter that imports nnspec from this checkout."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=timeout,
    )
