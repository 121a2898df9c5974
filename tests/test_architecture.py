"""docs/architecture.md stays true: every module it names exists, and every
module of the package is named there (or lies in a folder it names)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
TOP_LEVEL = ("grammar/", "templates/", "tests/", "docs/", "nnspec/")
NAME = re.compile(r"`([\w/]+(?:\.py|\.lark|/))`")
STAGE = re.compile(r"\(`(nnspec/[\w/]+/)`\)")


def named_paths() -> list[tuple[str, Path]]:
    """(name as written, path it means) for each file or folder the doc names;
    a bare `parser.py` is in the folder its paragraph opens with."""
    found = []
    for paragraph in DOC.read_text(encoding="utf-8").split("\n\n"):
        stage = STAGE.search(paragraph)
        for name in NAME.findall(paragraph):
            if name.startswith(TOP_LEVEL):
                path = ROOT / name
            elif "/" in name.rstrip("/") or not stage:
                path = ROOT / "nnspec" / name
            else:
                path = ROOT / stage[1] / name
            found.append((name, path))
    return found


def test_every_named_module_exists():
    missing = [name for name, path in named_paths() if not path.exists()]
    assert not missing, f"docs/architecture.md names modules that do not exist: {missing}"


def test_every_module_is_named():
    named = {path.resolve() for _, path in named_paths()}
    folders = {p for p in named if p.is_dir() and p != ROOT / "nnspec"}
    unnamed = []
    for module in sorted((ROOT / "nnspec").rglob("*.py")):
        if module.name in ("__init__.py", "__main__.py"):
            continue
        if module not in named and not folders.intersection(module.parents):
            unnamed.append(str(module.relative_to(ROOT)))
    assert not unnamed, f"modules missing from docs/architecture.md: {unnamed}"
