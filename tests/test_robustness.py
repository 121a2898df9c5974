"""Robustness: no input makes nnspec crash.

Property tests mutate every spec in specs/ (and the invalid specs in
tests/invalid/) token by token and byte by byte; whatever comes out must
compile to diagnostics, never to an exception or an internal error (E900),
and every diagnostic must point inside the file. Explicit cases cover empty,
binary, huge, deeply nested and oddly encoded files.

Hypothesis runs derandomized with a fixed example budget, so CI sees the same
inputs on every run.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnspec.check.pipeline import compile_text
from nnspec.cli import main
from nnspec.diagnostics.formats import as_json, render_gcc, render_text
from nnspec.diagnostics.records import Span

ROOT = Path(__file__).parent.parent
SPECS = sorted((ROOT / "specs").glob("*.nn"))
INVALID = sorted((Path(__file__).parent / "invalid").glob("*.nn"))
SEEDS = [p.read_text(encoding="utf-8") for p in SPECS + INVALID]

# One token of the language (or a run of whitespace, a comment, one other character).
TOKEN = re.compile(
    r"""\s+|\#[^\n]*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[A-Za-z_]\w*"""
    r"""|[+-]?\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|->|.""",
    re.S,
)
VOCABULARY = sorted({t for text in SEEDS for t in TOKEN.findall(text) if not t.isspace()}) + [
    "(", ")", "[", "]", "{", "}", ",", ":", "=", "->", ".", "/", '"', "'", "\n", "\t", " ",
    "\r\n", "\x00", "\ufffd", "\u2028", "é", "😀", "None", "true", "-1", "0", "1e9", "1/0",
    "9" * 40, "x.0", "x.99", "graph {", "sequential {", "input x:", "output", "()",
]  # fmt: skip

ROBUST = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def lines_of(text: str) -> int:
    """Lines as the lexer counts them: only `\\n` ends a line."""
    return text.count("\n") + 1


# Known bugs, each pinned by a strict xfail at the end of this file. They are
# tolerated here so that the properties keep hunting for other bugs; set the
# flag to False once the matching xfail test passes.
#  - test_recovery_keeps_end_positions: after error recovery some spans lose
#    their end (None).
TOLERATE_LOST_END_POSITIONS = False
#  - test_strings_with_bad_escapes_are_diagnosed: a NUL, a CR or a malformed
#    escape inside a string literal is an internal error (E900).
TOLERATE_STRING_LITERAL_E900 = False
STRING_LITERAL_E900 = re.compile(
    r"source code string cannot contain null bytes|\(unicode error\)|unterminated string literal"
    r"|invalid escape sequence"  # a warning, an error under -W error
)
#  - test_empty_loss_is_diagnosed: `loss: []` or `loss: {}` is an internal error.
TOLERATE_EMPTY_LOSS_E900 = False
EMPTY_LOSS = re.compile(r"\bloss\s*:\s*(\[\s*\]|\{\s*\})")


def known_internal_error(message: str, text: str) -> bool:
    if TOLERATE_STRING_LITERAL_E900 and STRING_LITERAL_E900.search(message):
        return True
    return TOLERATE_EMPTY_LOSS_E900 and "NoneType" in message and bool(EMPTY_LOSS.search(text))


def assert_sound(text: str):
    """`text` compiles without raising, without E900, with positions inside the file."""
    result = compile_text(text)
    last = lines_of(text) + 1
    for d in result.diagnostics:
        if d.code == "E900" and known_internal_error(d.message, text):
            continue
        assert d.code != "E900", f"internal error: {d.message}\n--- input ---\n{text!r}"
        s = d.span
        if TOLERATE_LOST_END_POSITIONS and s.end_line is None and s.end_column is None:
            s = Span(s.line, s.column, s.line, s.column)
        assert 1 <= s.line <= last, (d, text)
        assert s.column >= 1, (d, text)
        assert 1 <= s.end_line <= last, (d, text)
        assert (s.end_line, s.end_column) >= (s.line, s.column), (d, text)
        assert d.message and d.severity.value in ("error", "warning")
    # The renderers take whatever the checker produced.
    render_text("spec.nn", result.diagnostics, text)
    render_gcc("spec.nn", result.diagnostics)
    [as_json("spec.nn", d) for d in result.diagnostics]
    return result


# ---- mutations ------------------------------------------------------------------------


@st.composite
def token_mutants(draw, seeds: list[str]) -> str:
    """A spec with a few tokens deleted, swapped, duplicated, inserted or replaced."""
    tokens = TOKEN.findall(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 5))):
        op = draw(st.sampled_from(["delete", "swap", "duplicate", "insert", "replace"]))
        i = draw(st.integers(0, max(0, len(tokens) - 1)))
        if op == "delete" and tokens:
            del tokens[i]
        elif op == "swap" and tokens:
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op == "duplicate" and tokens:
            tokens[i:i] = [tokens[i]] * draw(st.integers(1, 3))
        elif op == "insert":
            tokens.insert(i, draw(st.sampled_from(VOCABULARY)))
        elif tokens:
            tokens[i] = draw(st.sampled_from(VOCABULARY))
    return "".join(tokens)


@st.composite
def char_mutants(draw, seeds: list[str]) -> str:
    """A spec with characters deleted, inserted, replaced, moved, or random bytes spliced in."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["delete", "insert", "replace", "bytes", "slice"]))
        i = draw(st.integers(0, len(text)))
        if op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 20)) :]
        elif op == "insert":
            text = text[:i] + draw(st.text(min_size=1, max_size=5)) + text[i:]
        elif op == "replace":
            text = text[:i] + draw(st.characters()) + text[i + 1 :]
        elif op == "bytes":
            junk = draw(st.binary(min_size=1, max_size=16)).decode("utf-8", errors="replace")
            text = text[:i] + junk + text[i:]
        else:  # move a slice of the file somewhere else
            j = draw(st.integers(i, min(len(text), i + 80)))
            piece, rest = text[i:j], text[:i] + text[j:]
            k = draw(st.integers(0, len(rest)))
            text = rest[:k] + piece + rest[k:]
    return text


@st.composite
def truncations(draw) -> str:
    text = draw(st.sampled_from(SEEDS))
    return text[: draw(st.integers(0, len(text)))]


SPEC_TEXTS = [pytest.param(p.read_text(encoding="utf-8"), id=p.stem) for p in SPECS]
INVALID_TEXTS = SEEDS[len(SPECS) :]


@settings(ROBUST, max_examples=60)
@pytest.mark.parametrize("seed", SPEC_TEXTS)
@given(data=st.data())
def test_token_mutations_of_each_spec_never_crash(seed, data):
    assert_sound(data.draw(token_mutants([seed])))


@settings(ROBUST, max_examples=60)
@pytest.mark.parametrize("seed", SPEC_TEXTS)
@given(data=st.data())
def test_character_mutations_of_each_spec_never_crash(seed, data):
    assert_sound(data.draw(char_mutants([seed])))


@ROBUST
@given(token_mutants(INVALID_TEXTS))
def test_token_mutations_of_invalid_specs_never_crash(text):
    assert_sound(text)


@ROBUST
@given(char_mutants(INVALID_TEXTS))
def test_character_mutations_of_invalid_specs_never_crash(text):
    assert_sound(text)


@settings(ROBUST, max_examples=100)
@given(truncations())
def test_truncations_never_crash(text):
    assert_sound(text)


@settings(ROBUST, max_examples=100)
@given(st.binary(max_size=300))
def test_random_bytes_never_crash(data):
    assert_sound(data.decode("utf-8", errors="replace"))


@settings(ROBUST, max_examples=100)
@given(st.lists(st.sampled_from(VOCABULARY), max_size=60).map(" ".join))
def test_token_soup_never_crashes(text):
    assert_sound(text)


def test_every_seed_is_sound():
    for text in SEEDS:
        assert_sound(text)


# ---- explicit cases -------------------------------------------------------------------


def check_file(path: Path, *options: str):
    """`nnspec check` in this process: the time limits below count its CPU time
    (time.process_time), which a busy machine does not stretch."""
    return CliRunner().invoke(main, ["check", *options, str(path)], catch_exceptions=False)


def test_empty_file(tmp_path):
    result = assert_sound("")
    assert [d.code for d in result.diagnostics] == ["E207"]
    path = tmp_path / "empty.nn"
    path.write_text("")
    run = check_file(path)
    assert run.exit_code == 1
    assert "error[E207]" in run.stdout


def test_only_comments_and_blank_lines():
    result = assert_sound("# a spec to be written\n\n   # later\n\n")
    assert [d.code for d in result.diagnostics] == ["E207"]


def test_binary_file_through_the_cli(tmp_path):
    path = tmp_path / "binary.nn"
    path.write_bytes(
        b"model m\x00\n\xff\xfe input x: (3,)\nsequential {\x00 Dense(1)\xff }\n"
        + bytes(range(256))
    )
    run = check_file(path)
    assert run.exit_code == 1, run.stdout
    assert f"{path}:1:8: error[E002]: invalid character '\\x00'" in run.stdout
    assert "Traceback" not in run.output
    records = json.loads(check_file(path, "--format", "json").stdout)
    assert {r["code"] for r in records} == {"E002"}
    assert (records[0]["line"], records[0]["column"]) == (1, 8)
    run = check_file(path, "--format", "gcc")
    assert run.exit_code == 1
    assert run.stdout.startswith(f"{path}:1:8: error: invalid character '\\x00' [E002]\n")


@pytest.mark.slow
def test_ten_megabyte_file(tmp_path):
    """Every spec in specs/ over and over until 10 MB: a statement given
    thousands of times, each reported, in reasonable time."""
    block = "\n".join(SEEDS[: len(SPECS)]) + "\n"
    path = tmp_path / "huge.nn"
    path.write_text(block * (10_000_000 // len(block) + 1))
    assert path.stat().st_size >= 10_000_000
    start = time.process_time()
    run = check_file(path, "--format", "gcc")
    elapsed = time.process_time() - start
    print(f"10 MB spec checked in {elapsed:.1f} s of CPU")
    assert run.exit_code == 1
    assert "[E004]" in run.stdout and "[E208]" in run.stdout
    assert "E900" not in run.stdout
    assert elapsed < 120, f"checking a 10 MB spec took {elapsed:.0f} s"


@pytest.mark.slow
def test_ten_megabyte_model(tmp_path):
    """One model of a third of a million layers: checking must stay linear."""
    pair = "    Dense(16, activation=relu)\n    Dropout(0.25)\n"
    layers = pair * (10_000_000 // len(pair) + 1)
    path = tmp_path / "deep.nn"
    path.write_text(f"model deep\ninput x: (20,)\nsequential {{\n{layers}}}\n")
    assert path.stat().st_size >= 10_000_000
    start = time.process_time()
    run = check_file(path)
    elapsed = time.process_time() - start
    print(f"10 MB model checked in {elapsed:.1f} s of CPU")
    assert (run.exit_code, run.stdout) == (0, f"{path}: ok\n")
    assert elapsed < 120, f"checking a 10 MB model took {elapsed:.0f} s"


def test_ten_megabyte_comment_and_string(tmp_path):
    """One huge line: a comment, then a description string, both 5 MB."""
    path = tmp_path / "long_line.nn"
    path.write_text("# " + "x" * 5_000_000 + '\nmodel m "' + "y" * 5_000_000 + '"\n')
    start = time.process_time()
    run = check_file(path)
    elapsed = time.process_time() - start
    assert run.exit_code == 1 and "error[E207]" in run.stdout
    assert max(len(line) for line in run.stdout.splitlines()) < 500, "excerpts stay short"
    assert elapsed < 60, f"took {elapsed:.0f} s"


def test_ten_thousand_nested_brackets():
    text = "model m\ninput x: " + "(" * 10_000 + "20," + ")" * 10_000 + "\n"
    result = assert_sound(text)
    assert [d.code for d in result.diagnostics] == ["E003"]
    assert result.diagnostics[0].span.line == 2


def test_ten_thousand_open_parens_only():
    result = assert_sound("(" * 10_000)
    assert [d.code for d in result.diagnostics] == ["E003"]


def test_deep_but_allowed_nesting_does_not_overflow():
    """Nesting just under the limit, inside every kind of value, with a low recursion limit."""
    depth = 60
    texts = [
        "input x: " + "(" * depth + "20," + ")" * depth,
        "compile { loss: mse, optimizer: adam, metrics: " + "[" * depth + "]" * depth + " }",
        "fit { class_weight: " + "{a: " * depth + "1" + "}" * depth + " }",
    ]
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(400)
    try:
        for text in texts:
            assert_sound(text)
    finally:
        sys.setrecursionlimit(old)


def test_many_open_brackets_of_mixed_kinds():
    assert_sound("sequential { Dense(" + "[{(" * 3_000)


def test_unterminated_string():
    for text in [
        'model m "never closed\ninput x: (3,)\n',
        "data csv('data.csv\n",
        'save "',
        'model m "\\',
    ]:
        result = assert_sound(text)
        assert "E002" in {d.code for d in result.diagnostics}, text


def test_crlf_line_endings_give_the_same_diagnostics():
    for seed in SEEDS:
        lf = compile_text(seed)
        crlf = compile_text(seed.replace("\n", "\r\n"))
        assert [(d.code, d.span, d.message) for d in crlf.diagnostics] == [
            (d.code, d.span, d.message) for d in lf.diagnostics
        ]


def test_crlf_excerpt_has_no_carriage_return(tmp_path):
    path = tmp_path / "crlf.nn"
    path.write_bytes(b"model m\r\ninput x: (20,)\r\nsequential {\r\n    Dens(1)\r\n}\r\n")
    run = check_file(path)
    assert "error[E101]" in run.stdout and f"{path}:4:5:" in run.stdout
    assert "\r" not in run.stdout
    assert " 4 |     Dens(1)\n" in run.stdout


def test_tabs_keep_the_caret_under_the_token():
    text = "model m\ninput x: (20,)\nsequential {\n\tDense(1)\n\t\tDens(1)\n}\n"
    result = assert_sound(text)
    [diag] = [d for d in result.diagnostics if d.code == "E101"]
    assert (diag.span.line, diag.span.column) == (5, 3)
    shown = render_text("t.nn", [diag], text).splitlines()
    source, carets = shown[1], shown[2]
    assert source.index("Dens") == carets.index("^")


def test_unicode_names_are_reported_not_crashed():
    """Names are ASCII: a non-ASCII letter is an invalid character, columns count characters."""
    text = 'model modèle "Größe 🚀"\ninput größe: (3,)\nsequential {\n    Dense(1)\n}\n'
    result = assert_sound(text)
    found = [(d.code, d.span.line, d.span.column) for d in result.diagnostics]
    assert found == [("E002", 1, 10), ("E002", 2, 9)]  # the `è` of modèle, the `ö` of größe
    assert "è" in result.diagnostics[0].message


def test_unicode_in_strings_and_comments_is_fine():
    text = (
        '# Ünïcödé comment ✓\nmodel m "Modèle 🚀 日本語"\ninput x: (20,)\n'
        "sequential {\n    Dense(1, activation=sigmoid)\n}\n"
        "compile { loss: binary_crossentropy, optimizer: adam }\n"
    )
    assert assert_sound(text).diagnostics == []


@pytest.mark.parametrize("char", ["\x0c", "\u2028", "\x85", "\x1c", "\r"])
def test_excerpt_shows_the_line_the_diagnostic_names(char):
    """Characters that str.splitlines() treats as line breaks but the lexer does not."""
    text = f"model m\ninput x: (20,) # note{char}more\nsequential {{\n    Dens(1)\n}}\n"
    result = assert_sound(text)
    [diag] = [d for d in result.diagnostics if d.code == "E101"]
    assert diag.span.line == 4
    shown = render_text("t.nn", [diag], text).splitlines()
    assert shown[1] == " 4 |     Dens(1)", shown


# ---- regressions: bugs found by fuzzing, fixed ----


@pytest.mark.parametrize(
    "text, column, message",
    [
        # \U: truncated escape
        ('data csv("C:\\Users\\ana\\churn.csv", label="churned")\n', 10, "invalid escape"),
        ('save "models\\x1.keras"\n', 6, "invalid escape"),  # \x: truncated escape
        ('model m "\\N{nope}"\n', 9, "invalid escape"),  # unknown character name
        ('model m "a\x00b"\n', 9, "invalid escape sequence or character"),  # NUL
        ('model m "two\rlines"\n', 9, "unterminated string"),  # CR ends the line
    ],
    ids=["windows-path", "hex-escape", "unicode-name", "nul", "carriage-return"],
)
def test_strings_with_bad_escapes_are_diagnosed(text, column, message):
    result = compile_text(text)
    [string] = [d for d in result.diagnostics if d.code == "E002"]
    assert (string.span.line, string.span.column) == (1, column)
    assert message in string.message
    assert {d.code for d in result.diagnostics} <= {"E002", "E207"}, result.diagnostics


@pytest.mark.parametrize("loss", ["[]", "{}"])
def test_empty_loss_is_diagnosed(loss):
    text = (
        "input x: (4,)\nsequential {\n    Dense(3, activation=softmax)\n}\n"
        f"compile {{ loss: {loss}, optimizer: adam }}\n"
    )
    result = compile_text(text)
    [diagnostic] = result.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("E106", 5, 17)
    assert diagnostic.message.startswith("`loss` of `compile`: expected a loss name")
    assert diagnostic.message.endswith("found an empty one")


def test_recovery_keeps_end_positions():
    text = "sequential {\n  Dense(1 a=2)\n  Dropout(0.2)\n  Dens(64)\n  Dense(1 a=2)\n}\n"
    result = compile_text(text)
    [e101] = [d for d in result.diagnostics if d.code == "E101"]
    assert (e101.span.end_line, e101.span.end_column) == (4, 7)
    for d in result.diagnostics:
        assert d.span.end_line is not None and d.span.end_column is not None, d


def test_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.nn"
    path.write_bytes(
        b"\xef\xbb\xbfmodel m\ninput x: (20,)\nsequential {\n    Dense(1, activation=sigmoid)\n}\n"
        b"compile { loss: binary_crossentropy, optimizer: adam }\n"
    )
    run = check_file(path)
    assert run.exit_code == 0, run.stdout
