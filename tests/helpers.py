"""Shared test helpers."""

from __future__ import annotations

from pathlib import Path

from nnspec.compiler import Result, compile_text

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.nn"))


def compile_file(path: Path) -> Result:
    return compile_text(path.read_text())


def codes(text: str) -> list[str]:
    return [d.code for d in compile_text(text).diagnostics]
