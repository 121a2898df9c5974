"""The package's functions stay short enough to read at a glance."""

from __future__ import annotations

import ast

from helpers import ROOT

MAX_LINES = 60  # from `def` to the function's last line


def test_no_function_over_max_lines():
    too_long = []
    for path in sorted((ROOT / "nnspec").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_LINES:
                    where = path.relative_to(ROOT)
                    too_long.append(f"{where}:{node.lineno}: {node.name} has {length} lines")
    assert not too_long, f"functions over {MAX_LINES} lines:\n" + "\n".join(too_long)
