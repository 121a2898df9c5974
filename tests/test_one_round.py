"""Fewer rounds to a clean spec: one `check` reports what each error leaves
checkable (bench/check_rounds.py measures the rounds on 33 broken specs)."""

from __future__ import annotations

from nnspec.check.pipeline import compile_text

GOOD = """model m
data iris
input x: (4,)
sequential {
    Dense(16, activation=relu)
    Dense(3, activation=softmax)
}
compile { loss: sparse_categorical_crossentropy, optimizer: adam }
fit { epochs: 5 }
"""


def found(text: str) -> list[tuple[str, int]]:
    return [(d.code, d.span.line) for d in compile_text(text).diagnostics]


def test_a_misspelled_statement_keyword_still_has_its_statement_checked():
    text = GOOD.replace("compile { loss: sparse", "compilee { loss: sparsse").replace(
        "fit {", "fitt {"
    )
    assert found(text) == [("E001", 8), ("E109", 8), ("E001", 9)]
    hints = [d.hints for d in compile_text(text).diagnostics if d.code == "E001"]
    assert hints == [("did you mean `compile`?",), ("did you mean `fit`?",)]


def test_a_statement_after_a_misspelled_keyword_is_kept():
    text = GOOD.replace(
        "loss: sparse_categorical_crossentropy", "loss: sparse_categorical"
    ).replace("fit {", "fitt {")
    assert [code for code, _ in found(text)] == ["E109", "E001"]


def test_arguments_of_a_misspelled_layer_are_checked_as_the_layer_it_means():
    text = GOOD.replace("Dense(16, activation=relu)", "Dens(16, activaton=relu)")
    diagnostics = compile_text(text).diagnostics
    assert [d.code for d in diagnostics] == ["E101", "E102"]
    assert diagnostics[0].hints == (
        "did you mean `Dense`?",
        "its arguments are checked as those of `Dense`",
    )


def test_shapes_and_training_go_on_past_a_misspelled_layer():
    text = GOOD.replace("Dense(16, activation=relu)", "Dens(16, activation=relu)").replace(
        "Dense(3, activation=softmax)", "Dense(4, activation=softmax)"
    )
    assert [code for code, _ in found(text)] == ["E101", "E405"]


def test_no_guess_where_the_name_is_far_from_every_layer():
    text = GOOD.replace("Dense(16, activation=relu)", "Frobnicate(16)")
    assert [code for code, _ in found(text)] == ["E101"]


def test_a_compile_block_with_errors_is_no_missing_compile_block():
    text = GOOD.replace("optimizer: adam", "optimizer: adamm")
    assert [code for code, _ in found(text)] == ["E110"]
