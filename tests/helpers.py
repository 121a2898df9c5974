"""Shared test helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nnspec.check.pipeline import Result, compile_text

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted((ROOT / "specs").glob("*.nn"))


def compile_file(path: Path) -> Result:
    return compile_text(path.read_text())


def codes(text: str) -> list[str]:
    return [d.code for d in compile_text(text).diagnostics]


def python(
    *args: str,
    stdin: str | None = None,
    cwd: Path | None = None,
    env: dict[str, str | None] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    """`python ARGS` in a fresh interpreter that imports nnspec from this checkout.

    `env` adds variables to the environment; a None value removes one."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    for key, value in (env or {}).items():
        if value is None:
            environment.pop(key, None)
        else:
            environment[key] = value
    return subprocess.run(
        [sys.executable, *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=cwd or ROOT,
        env=environment,
        timeout=timeout,
    )


def nnspec(*args, **options) -> subprocess.CompletedProcess:
    """The `nnspec` command (`python -m nnspec.cli ARGS`) in a fresh process."""
    return python("-m", "nnspec.cli", *args, **options)


def unreadable(folder: Path, name: str) -> Path:
    """A file `name` in `folder` that exists but cannot be read, even by root (for whom
    permissions are no obstacle): a link to /proc/self/mem, whose first page is never
    mapped, so reading it fails (EIO)."""
    import pytest

    if not Path("/proc/self/mem").is_file():
        pytest.skip("needs Linux's /proc/self/mem")
    link = folder / name
    link.symlink_to("/proc/self/mem")
    return link
