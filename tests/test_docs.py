"""docs/language.md stays true: generated tables current, every example checks.

A fenced block whose info string is `nn` must check clean (no errors, no
warnings). `nn error CODE...` marks an intentional error example: it must give
exactly the codes listed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nnspec.check.pipeline import compile_text
from nnspec.vocab import reference

DOC = Path(__file__).resolve().parent.parent / "docs" / "language.md"
FENCE = re.compile(r"^```nn(?P<info>[^\n]*)\n(?P<body>.*?)^```\s*$", re.DOTALL | re.MULTILINE)


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def examples() -> list:
    """(where, info string, body) of every ```nn block; `where` names its line."""
    text = doc_text()
    found = []
    for m in FENCE.finditer(text):
        where = f"line {text.count(chr(10), 0, m.start()) + 1}"
        found.append(pytest.param(where, m["info"].strip(), m["body"], id=where))
    return found


def test_generated_sections_are_current():
    text = doc_text()
    found = reference.sections_in(text)
    assert set(found) == set(reference.SECTIONS), "generated section markers missing or unknown"
    stale = [name for name, body in found.items() if body != reference.render_section(name)]
    assert not stale, (
        f"generated sections of docs/language.md are out of date ({', '.join(stale)}): "
        "run `python tools/update_docs.py`"
    )


def test_examples_are_found():
    assert len(examples()) >= 10


@pytest.mark.parametrize("where,info,body", examples())
def test_example_checks(where, info, body):
    result = compile_text(body)
    found = sorted({d.code for d in result.diagnostics})
    shown = [f"{d.span.line}:{d.span.column} {d.code} {d.message}" for d in result.diagnostics]
    if info.startswith("error"):
        wanted = sorted(set(info.split()[1:]))
        assert result.errors, f"example at {where} is marked as an error but checks clean"
        assert not wanted or found == wanted, f"example at {where}: {shown}"
    else:
        assert info == "", f"example at {where}: unknown marker `{info}`"
        assert not result.diagnostics, f"example at {where} does not check clean: {shown}"
