"""`nnspec codes CODE`: every code is explained, and every example says true.

Each example spec raises its code (and no other), and its fixed version checks
without errors and without that code.
"""

from __future__ import annotations

import pytest

from nnspec.check.pipeline import compile_text
from nnspec.diagnostics.codes import CODES
from nnspec.diagnostics.explanations import EXPLANATIONS, NO_EXAMPLE, RAISED_BY, explain

WITH_EXAMPLE = [code for code in EXPLANATIONS if code not in NO_EXAMPLE]


def raised(code: str, text: str) -> list[str]:
    """The codes the command that `code`'s example names reports on `text`."""
    result = compile_text(text)
    found = [d.code for d in result.diagnostics]
    if RAISED_BY.get(code) == "nnspec gen --api sequential" and result.ok:
        from nnspec.keras.codegen import render_script
        from nnspec.keras.emitters import GenError

        try:
            render_script(result.model, "example.nn", "sequential")
        except GenError as err:
            found += [d.code for d in err.diagnostics]
    return found


def test_every_code_is_explained():
    assert sorted(set(CODES) - set(EXPLANATIONS)) == [], "codes without an explanation"
    assert sorted(set(EXPLANATIONS) - set(CODES)) == [], "explanations of unknown codes"


def test_only_codes_without_a_spec_lack_an_example():
    assert set(NO_EXAMPLE) <= {"E900"}
    for code in NO_EXAMPLE:
        assert EXPLANATIONS[code].example == EXPLANATIONS[code].fixed == ""


@pytest.mark.parametrize("code", WITH_EXAMPLE)
def test_example_raises_its_code(code):
    assert set(raised(code, EXPLANATIONS[code].example)) == {code}


@pytest.mark.parametrize("code", WITH_EXAMPLE)
def test_fixed_example_checks(code):
    found = raised(code, EXPLANATIONS[code].fixed)
    assert code not in found and not [c for c in found if c.startswith("E")], found


@pytest.mark.parametrize("code", list(CODES))
def test_explanation_reads_well(code):
    text = explain(code, CODES[code])
    assert text.startswith(f"{code}: {CODES[code]}\n\n")
    assert all(len(line) <= 80 for line in text.splitlines() if not line.startswith("    "))
    entry = EXPLANATIONS[code]
    assert entry.text.endswith(".") and (not entry.fix or entry.fix.endswith("."))
