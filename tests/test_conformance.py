"""Differential conformance with Keras: drawn configurations of every registry layer
(tests/conformance.py) give nnspec's verdict, output shapes and parameter counts.

CI runs a small seeded sample per layer; set NNSPEC_CONFORMANCE_EXAMPLES for more
(`tools/conformance_report.py` runs 200 per layer and writes docs/conformance.md).
"""

from __future__ import annotations

import os
import re

import conformance
import pytest
from helpers import ROOT
from hypothesis import HealthCheck, given, settings

from nnspec.vocab.layers import LAYERS, layer_types

EXAMPLES = int(os.environ.get("NNSPEC_CONFORMANCE_EXAMPLES", "4"))
NAMES = [t.name for t in layer_types()]
REPORT = ROOT / "docs" / "conformance.md"


@pytest.mark.keras
@pytest.mark.parametrize("name", NAMES)
def test_layer_conforms_to_keras(name):
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(conformance.cases(LAYERS[name]))
    def check(case):
        verdict = conformance.judge(case)
        assert verdict.kind != conformance.DIVERGENCE, f"{case}\n{verdict.detail}"

    check()


def test_spec_text_is_the_layer_call():
    case = conformance.Case(
        "Conv2D",
        (("filters", 4), ("kernel_size", (3, 3)), ("padding", "same")),
        2,
        ((None, 8, 8, 1),),
    )
    assert case.call_text == 'Conv2D(4, (3, 3), padding="same")'
    assert conformance.nnspec_result(case).shape == (None, 8, 8, 4)


def test_a_bad_configuration_is_rejected_at_check_time():
    case = conformance.Case("Dense", (("units", 0),), 1, ((None, 3),))
    assert conformance.nnspec_result(case).error.startswith("E106 `units` of layer Dense")


def _report_rows() -> dict[str, list[int]]:
    rows = re.findall(r"^\| `(\w+)` \| ([\d |]+)\|$", REPORT.read_text(), re.M)
    return {name: [int(n) for n in cells.split("|")] for name, cells in rows}


def test_report_lists_every_layer_without_divergence():
    rows = _report_rows()
    assert sorted(rows) == sorted(NAMES), "rerun tools/conformance_report.py"
    for name, (tried, agree, rejected, at_run, known, divergent) in rows.items():
        assert tried >= 200 and tried == agree + rejected + at_run + known + divergent, name
        assert agree > 0 and divergent == 0, name
