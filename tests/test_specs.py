"""The example specs: every one checks clean, and known totals hold."""

from __future__ import annotations

import pytest
from helpers import SPECS, compile_file

from nnspec.check.summary import as_dict


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_spec_checks_clean(path):
    result = compile_file(path)
    assert result.diagnostics == [], [d.message for d in result.diagnostics]


def _summary(name):
    return as_dict(compile_file(next(p for p in SPECS if p.stem == name)).model)


def test_mnist_cnn_total_matches_keras():
    summary = _summary("mnist_cnn")
    assert summary["total_params"] == 225_034  # as Keras's model.summary() reports
    assert summary["api"] == "sequential"
    shapes = [row["shape"] for row in summary["layers"]]
    assert shapes[0] == [None, 26, 26, 32] and shapes[4] == [None, 1600]


def test_functional_mnist_model():
    summary = _summary("mnist_functional")
    assert summary["total_params"] == 55_050
    assert [r["name"] for r in summary["layers"]] == ["dense", "dense_1", "logits"]


def test_ticket_classifier_is_a_graph():
    summary = _summary("ticket_classifier")
    assert summary["api"] == "functional"
    assert summary["outputs"] == ["priority[0][0]", "department[0][0]"]
    merged = next(r for r in summary["layers"] if r["name"] == "merged")
    assert merged["connected_to"] == ["title_lstm[0][0]", "body_lstm[0][0]", "tags[0][0]"]
    assert merged["shape"] == [None, 128 + 32 + 12]
