"""`nnspec fmt`: golden layouts, comments kept, idempotence and the same IR, on real and
generated specs, and the command line as a real subprocess.

Golden cases are tests/fmt/NAME.nn (messy input) beside NAME.expected (its canonical
layout); regenerate them after a deliberate layout change with

    pytest tests/test_fmt.py --update-goldens

and review the diff.
"""

from __future__ import annotations

import re
import stat
from pathlib import Path

import msgspec
import pytest
from helpers import ROOT, SPECS, python, unreadable
from helpers import nnspec as run_nnspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnspec.errors import InternalError
from nnspec.syntax import fmt
from nnspec.syntax.fmt import FormatError, format_text
from nnspec.syntax.lower import lower
from nnspec.syntax.parser import lark_parser, parse
from nnspec.vocab.layers.registry import layer_types

GOLDEN = sorted((Path(__file__).parent / "fmt").glob("*.nn"))
INVALID = sorted((Path(__file__).parent / "invalid").glob("*.nn"))
FENCE = re.compile(r"^```nn[^\n]*\n(.*?)^```", re.DOTALL | re.MULTILINE)
DOC_EXAMPLES = FENCE.findall((ROOT / "docs" / "language.md").read_text(encoding="utf-8"))
SEEDS = [p.read_text(encoding="utf-8") for p in SPECS]
# The golden inputs too: every construct, `else if` and comments in odd places among them.
RELAID_SEEDS = SEEDS + [p.read_text(encoding="utf-8") for p in GOLDEN]

PROPERTY = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def without_spans(node):
    """The IR with every source position dropped: what formatting must not change."""
    if isinstance(node, msgspec.Struct):
        return (type(node).__name__,) + tuple(
            without_spans(getattr(node, name))
            for name in node.__struct_fields__
            if name not in ("span", "name_span")
        )
    if isinstance(node, tuple):
        return tuple(without_spans(n) for n in node)
    return node


def meaning(text: str):
    """The IR of `text` without positions, and the codes lowering reported."""
    parsed = parse(text)
    assert not parsed.diagnostics, parsed.diagnostics
    diagnostics: list = []
    spec = lower(parsed.tree, diagnostics)
    return without_spans(spec), [d.code for d in diagnostics]


def comments(text: str) -> list[str]:
    """Every comment, in order, from the gaps between the lexer's tokens."""
    found, pos = [], 0
    for tok in [*lark_parser().lex(text), None]:
        gap = text[pos : len(text) if tok is None else tok.start_pos]
        found += [c.rstrip() for c in re.findall(r"#[^\n]*", gap)]
        pos = 0 if tok is None else tok.end_pos
    return found


def assert_formats_well(text: str) -> str:
    """Formatting `text` keeps its meaning and comments, and formatting again changes nothing.

    Text with syntax errors must be refused with those errors instead.
    """
    syntax = parse(text).diagnostics
    if syntax:
        with pytest.raises(FormatError) as err:
            format_text(text)
        assert err.value.diagnostics == syntax
        return text
    formatted = format_text(text)
    assert format_text(formatted) == formatted, "not idempotent"
    assert meaning(formatted) == meaning(text)
    assert comments(formatted) == comments(text)
    assert all(line == line.rstrip() for line in formatted.splitlines()), "trailing spaces"
    assert formatted == "" or formatted.endswith("\n") and not formatted.endswith("\n\n")
    return formatted


# ---- golden layouts -------------------------------------------------------------------


@pytest.mark.parametrize("case", GOLDEN, ids=lambda p: p.stem)
def test_golden_layout(case: Path, update_goldens: bool):
    formatted = assert_formats_well(case.read_text(encoding="utf-8"))
    expected = case.with_suffix(".expected")
    if update_goldens:
        expected.write_text(formatted, encoding="utf-8")
    assert formatted == expected.read_text(encoding="utf-8")
    assert format_text(formatted) == formatted


def test_golden_cases_are_messy():
    """Each golden input really exercises the formatter."""
    assert len(GOLDEN) >= 5
    for case in GOLDEN:
        assert case.read_text(encoding="utf-8") != case.with_suffix(".expected").read_text(
            encoding="utf-8"
        ), case.name


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_specs_are_canonical(spec: Path):
    text = spec.read_text(encoding="utf-8")
    assert format_text(text) == text, f"run: nnspec fmt {spec.relative_to(ROOT)}"


@pytest.mark.parametrize("name", ["resnet50", "mobilenet_v2"])
def test_block_specs_format_well(name: str):
    """The specs written with params, blocks, loops and conditions: formatting keeps their
    meaning and comments and is idempotent (test_specs_are_canonical: they are canonical)."""
    assert_formats_well((ROOT / "specs" / f"{name}.nn").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "text",
    DOC_EXAMPLES + [p.read_text(encoding="utf-8") for p in INVALID],
    ids=[f"doc{i}" for i in range(len(DOC_EXAMPLES))] + [p.stem for p in INVALID],
)
def test_examples_format_well(text: str):
    """Every example in the docs and every invalid spec: formatted or refused, never hurt."""
    assert_formats_well(text)


@pytest.mark.parametrize(
    "source,expected",
    [
        ("model   m 'desc'", 'model m "desc"\n'),
        ("input x:(1,2,)", "input x: (1, 2)\n"),
        ("input x: ( 1 , )", "input x: (1,)\n"),
        ("fit{a:True,b:False,c:None}", "fit { a: true, b: false, c: None }\n"),
        (
            "fit { a: 1/255, b: 1 / 16, c: 1e-3, d: +3, e: 1. }",
            "fit { a: 1/255, b: 1/16, c: 1e-3, d: +3, e: 1. }\n",
        ),
        ("fit { a: 1 b: 2 }", "fit { a: 1, b: 2 }\n"),
        ("fit {}", "fit {}\n"),
        ("fit { }", "fit {}\n"),
        ("fit {a:[],b:(),c:{}}", "fit { a: [], b: (), c: {} }\n"),
        ("save 'it\\'s.keras'", 'save "it\'s.keras"\n'),
        ("save 'say \"hi\".keras'", "save 'say \"hi\".keras'\n"),
        ("graph{a->[b,c,]->d.1}", "graph {\n    a -> [b, c] -> d.1\n}\n"),
        ("sequential{}", "sequential {}\n"),
        ("output a,b", "output a, b\n"),
        ("model m\r\ndata mnist\r\n", "model m\n\ndata mnist\n"),
        ("", ""),
        ("\n\n  \n", ""),
        ("# only a comment", "# only a comment\n"),
        ("param  a=1+2", "param a = 1 + 2\n"),
        ("param a=x/2", "param a = x / 2\n"),
        ("param a=-1/16*x", "param a = -1/16 * x\n"),
        ("param a=(1/2)/x", "param a = (1/2) / x\n"),
        ("param a=x//2%3*y", "param a = x // 2 % 3 * y\n"),
        ("param a=not(x<1)or b and-c", "param a = not (x < 1) or b and -c\n"),
        ("param a=1\nparam b=2\ninput x:(a,)", "param a = 1\nparam b = 2\n\ninput x: (a,)\n"),
        ("block a(){}block b(x,y=1,){}", "block a() {}\n\nblock b(x, y=1) {}\n"),
        (
            "block b(){input x output x}sequential{b()}",
            "block b() {\n    input x\n    output x\n}\n\nsequential {\n    b()\n}\n",
        ),
        ("sequential{'c{i}'=D(1)}", 'sequential {\n    "c{i}" = D(1)\n}\n'),
        (
            "sequential{for(a,b,)in[(1,2)]{D(a)}}",
            "sequential {\n    for (a, b) in [(1, 2)] {\n        D(a)\n    }\n}\n",
        ),
        (
            "sequential{if a{}else if b{D(1)}else{}}",
            "sequential {\n    if a {} else if b {\n        D(1)\n    } else {}\n}\n",
        ),
    ],
)
def test_small_layouts(source: str, expected: str):
    assert format_text(source) == expected
    assert_formats_well(source)


def test_settings_break_only_when_too_long():
    short = "compile { loss: mse, optimizer: adam }\n"
    assert format_text(short) == short
    entries = ", ".join(f"key_{i}: {i}" for i in range(12))
    assert format_text(f"fit {{ {entries} }}") == (
        "fit {\n" + "".join(f"    key_{i}: {i}\n" for i in range(12)) + "}\n"
    )


def test_a_line_of_exactly_100_columns_stays():
    value = "x" * (100 - len('fit { a: 1, b: "" }'))
    fits = f'fit {{ a: 1, b: "{value}" }}\n'
    assert len(fits) == 101 and format_text(fits) == fits
    assert (
        format_text(fits.replace(value, value + "x"))
        == f'fit {{\n    a: 1\n    b: "{value}x"\n}}\n'
    )


# ---- comments ---------------------------------------------------------------------------


def test_comments_stay_in_place():
    source = (
        "# header\n"
        "sequential {  # opening\n"
        "    # before\n"
        "    Dense(1)   # after\n"
        "    # closing\n"
        "}\n"
        "fit { epochs: 1 }  # short settings stay on one line\n"
        "fit { epochs: 1,  # a comment inside breaks the block\n"
        "  batch_size: 2 }\n"
        "# at the end\n"
    )
    assert format_text(source) == (
        "# header\n"
        "sequential {  # opening\n"
        "    # before\n"
        "    Dense(1)  # after\n"
        "    # closing\n"
        "}\n"
        "\n"
        "fit { epochs: 1 }  # short settings stay on one line\n"
        "fit {\n"
        "    epochs: 1  # a comment inside breaks the block\n"
        "    batch_size: 2\n"
        "}\n"
        "# at the end\n"
    )


def test_comment_after_a_comma_stays_with_its_item():
    source = "sequential { Dense(10, # units, as many as classes\n activation=relu) }"
    assert "        10,  # units, as many as classes\n" in format_text(source)


def test_strings_with_hashes_are_not_comments():
    source = 'model m "not # a comment"  # a comment\n'
    assert format_text(source) == source


# ---- refusal ----------------------------------------------------------------------------


def test_a_layout_bug_is_caught_before_it_loses_text(monkeypatch):
    """The safety check: a formatter that dropped a comment raises instead of returning."""
    monkeypatch.setattr(fmt, "_comment_lines", lambda events, blanks=True: [])
    with pytest.raises(InternalError, match="would change the spec's tokens or comments"):
        format_text("# a comment\nmodel m\n")


def test_syntax_errors_refuse_with_diagnostics():
    with pytest.raises(FormatError) as err:
        format_text("model m\nsequential { Dense(1 }\n")
    (diag,) = err.value.diagnostics
    assert (diag.code, diag.span.line, diag.span.column) == ("E001", 2, 22)


def test_semantic_errors_do_not_block():
    source = "sequential {Dens(1)  Dense(-3, activation=nope)}"
    assert format_text(source) == "sequential {\n    Dens(1)\n    Dense(-3, activation=nope)\n}\n"


# ---- generated specs --------------------------------------------------------------------

WORD = re.compile(r"^[\w'\"+-]|[\w'\"]$")
COMMENT_TEXT = st.text(st.sampled_from("abc #,;'\"()[]{}-> \t"), max_size=12)


@st.composite
def separator(draw, between: tuple[str, str]) -> str:
    """What may stand between two tokens: spaces, line breaks, comments (always ending a line)."""
    options = [" ", "\n", "\n\n\n", "\t ", "  \n    "]
    if not (WORD.search(between[0][-1:]) and WORD.search(between[1][:1])):
        options.append("")
    sep = draw(st.sampled_from(options))
    if draw(st.integers(0, 9)) == 0:
        comment = "#" + draw(COMMENT_TEXT)
        sep = draw(st.sampled_from([f" {comment}\n", f"\n{comment}\n", f"\n\n{comment}\n\n"]))
    return sep


@st.composite
def relaid(draw, tokens: list[str]) -> str:
    """The tokens joined by random whitespace and comments."""
    out = [draw(st.sampled_from(["", "\n", "# top\n"]))]
    for a, b in zip(tokens, tokens[1:]):
        out += [a, draw(separator((a, b)))]
    return "".join(out + tokens[-1:] + [draw(st.sampled_from(["", "\n", "\n# end", "  # e\n"]))])


def tokens_of(text: str) -> list[str]:
    return [str(t) for t in lark_parser().lex(text)]


@given(st.sampled_from(RELAID_SEEDS).flatmap(lambda text: relaid(tokens_of(text))))
@PROPERTY
def test_relaid_specs_format_well(text: str):
    """A real spec with its whitespace, line breaks and comments scrambled."""
    assert_formats_well(text)


# Every word the grammar reserves: `model`, `for`, `and`, `true`, ...
KEYWORDS = {
    t.pattern.value
    for t in lark_parser().terminals
    if t.pattern.type == "str" and t.pattern.value.isidentifier()
}
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(lambda n: n not in KEYWORDS)
NUMBERS = st.sampled_from(["0", "1", "-1", "+3", "10", "0.5", "1e-3", "2.5E-4", "1.", "255"])
STRINGS = st.sampled_from(['"same"', "'valid'", '"a b"', "'it\\'s'", '"x\\ty"', "''"])


OPERATORS = st.sampled_from(["+", "-", "*", "/", "//", "%", "==", "!=", "<", ">=", "and", "or"])


def values(depth: int = 2):
    leaves = st.one_of(
        NUMBERS.map(lambda n: [n]),
        NUMBERS.map(lambda n: [n, "/", "16"]),
        STRINGS.map(lambda s: [s]),
        st.sampled_from(["true", "True", "false", "None", "relu", "same"]).map(lambda w: [w]),
    )
    if depth == 0:
        return leaves
    inner = values(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(leaves, OPERATORS, leaves).map(lambda t: [*t[0], t[1], *t[2]]),
        st.tuples(st.sampled_from(["-", "+", "not"]), leaves).map(lambda t: [t[0], *t[1]]),
        inner.map(lambda x: ["(", *x, ")"]),
        st.lists(inner, max_size=4).map(lambda xs: ["[", *_commas(xs), "]"]),
        st.lists(inner, min_size=2, max_size=4).map(lambda xs: ["(", *_commas(xs), ")"]),
        inner.map(lambda x: ["(", *x, ",", ")"]),
        st.lists(st.tuples(NAMES, inner), max_size=3).map(
            lambda kv: ["{", *_commas([[k, ":", *v] for k, v in kv]), "}"]
        ),
        st.tuples(st.sampled_from(["l2", "adam", "he_normal"]), inner).map(
            lambda c: [c[0], "(", *c[1], ")"]
        ),
    )


def _commas(items: list[list[str]]) -> list[str]:
    out: list[str] = []
    for i, item in enumerate(items):
        out += ([","] if i else []) + item
    return out


@st.composite
def layer_calls(draw) -> list[str]:
    """A call of a registered layer with positional and keyword arguments of its own names."""
    layer = draw(st.sampled_from(layer_types()))
    params = list(layer.params)
    positional = draw(st.integers(0, min(2, len(params))))
    args = [draw(values()) for _ in range(positional)]
    keywords = draw(st.lists(st.sampled_from(params), max_size=3, unique_by=lambda p: p.name))
    args += [[p.name, "=", *draw(values())] for p in keywords if p not in params[:positional]]
    trailing = draw(st.sampled_from([[], [","]])) if args else []
    return [layer.name, "(", *_commas(args), *trailing, ")"]


def controlled(draw, body: list[str]) -> list[str]:
    """`body` as it is, or in a loop or a condition (with `else` or `else if`)."""
    condition = draw(values(0))
    return draw(
        st.sampled_from(
            [
                body,
                ["for", "i", "in", "range", "(", "2", ")", "{", *body, "}"],
                ["for", "(", "a", ",", "b", ")", "in", "[", "(", "1", ",", "2", ")", "]", "{"]
                + [*body, "}"],
                ["if", *condition, "{", *body, "}"],
                ["if", *condition, "{", *body, "}", "else", "{", "}"],
                ["if", "not", *condition, "{", "}", "else", "if", "x", "{", *body, "}"],
            ]
        )
    )


@st.composite
def generated_specs(draw) -> list[str]:
    """The tokens of a random, syntactically valid spec built from the layer registry, with
    parameters, a block and loops and conditions."""
    tokens = ["model", draw(NAMES), *draw(st.sampled_from([[], ['"a generated spec"']]))]
    inputs = draw(st.lists(NAMES, min_size=1, max_size=3, unique=True))
    for name in inputs:
        tokens += ["input", name, ":", "(", draw(NUMBERS), ",", ")"]
    for name in draw(st.lists(NAMES, max_size=2)):
        tokens += ["param", name, "=", *draw(values())]
    if draw(st.booleans()):
        body = controlled(draw, draw(layer_calls()))
        tokens += ["block", "blk", "(", "u", ",", "v", "=", *draw(values(0)), ")", "{", *body, "}"]
    layers = draw(st.lists(layer_calls(), min_size=1, max_size=5))
    if draw(st.booleans()):
        items = [t for call in layers for t in controlled(draw, call)]
        tokens += ["sequential", "{", *items, "}"]
    else:
        names = [draw(st.sampled_from([f"layer_{i}", f'"layer_{i}"'])) for i in range(len(layers))]
        tokens += ["graph", "{"]
        for name, call in zip(names, layers):
            tokens += [name, "=", *call]
        tokens.append(inputs[0])
        for name in names:
            tokens += ["->", name]
        tokens += ["}", "output", names[-1]]
    settings_ = draw(st.lists(st.tuples(NAMES, values()), max_size=4))
    tokens += ["compile", "{", *_commas([[k, ":", *v] for k, v in settings_]), "}"]
    tokens += draw(st.sampled_from([[], ["evaluate"], ["save", "'m.keras'"], ["plot"]]))
    return tokens


@given(generated_specs().flatmap(relaid))
@PROPERTY
def test_generated_specs_format_well(text: str):
    assert_formats_well(text)


VOCABULARY = sorted({t for text in RELAID_SEEDS for t in tokens_of(text)} | {",", "\n", " # c\n"})


@st.composite
def mutated(draw) -> str:
    """A real spec with a few tokens deleted, replaced or inserted: often broken."""
    tokens = tokens_of(draw(st.sampled_from(RELAID_SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(tokens) - 1))
        new = [draw(st.sampled_from(VOCABULARY))]
        tokens[i : i + 1] = draw(st.sampled_from([[], new, [tokens[i], *new]]))
    return " ".join(tokens)


@given(mutated())
@PROPERTY
def test_mutated_specs_are_formatted_or_refused(text: str):
    assert_formats_well(text)


# ---- the command line -------------------------------------------------------------------

MESSY = "model   m\ninput x:(4,)\nsequential{Dense(1)}   # one unit\n"
TIDY = "model m\n\ninput x: (4,)\n\nsequential {\n    Dense(1)\n}  # one unit\n"
BROKEN = "model m\nsequential { Dense(1 }\n"


def nnspec(*args: str, stdin: str | None = None, cwd: Path | None = None):
    return run_nnspec(*args, stdin=stdin, cwd=cwd)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "messy.nn").write_text(MESSY)
    (tmp_path / "tidy.nn").write_text(TIDY)
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "also_messy.nn").write_text(MESSY)
    return tmp_path


def test_cli_rewrites_in_place(folder: Path):
    (folder / "messy.nn").chmod(0o640)
    tidy_before = (folder / "tidy.nn").stat().st_mtime_ns
    run = nnspec("fmt", ".", cwd=folder)
    assert run.returncode == 0, run.stderr
    assert (folder / "messy.nn").read_text() == TIDY
    assert (folder / "nested" / "also_messy.nn").read_text() == TIDY
    assert stat.S_IMODE((folder / "messy.nn").stat().st_mode) == 0o640
    assert (folder / "tidy.nn").stat().st_mtime_ns == tidy_before, "unchanged files not written"
    assert "reformatted messy.nn" in run.stderr
    assert "2 files reformatted, 1 file left unchanged." in run.stderr
    assert run.stdout == ""
    assert sorted(p.name for p in folder.rglob("*")) == [
        "also_messy.nn",
        "messy.nn",
        "nested",
        "tidy.nn",
    ], "no temporary file left behind"
    again = nnspec("fmt", "--check", ".", cwd=folder)
    assert again.returncode == 0
    assert "3 files would be left unchanged." in again.stderr


def test_cli_check_reports_and_writes_nothing(folder: Path):
    run = nnspec("fmt", "--check", "messy.nn", "tidy.nn", cwd=folder)
    assert run.returncode == 1
    assert "would reformat messy.nn" in run.stderr
    assert "would reformat tidy.nn" not in run.stderr
    assert "1 file would be reformatted, 1 file would be left unchanged." in run.stderr
    assert (folder / "messy.nn").read_text() == MESSY
    assert nnspec("fmt", "--check", "tidy.nn", cwd=folder).returncode == 0


def test_cli_diff(folder: Path):
    run = nnspec("fmt", "--diff", "messy.nn", cwd=folder)
    assert run.returncode == 0
    assert run.stdout.startswith("--- messy.nn (original)\n+++ messy.nn (formatted)\n@@")
    assert "-input x:(4,)\n" in run.stdout and "+input x: (4,)\n" in run.stdout
    assert (folder / "messy.nn").read_text() == MESSY
    assert nnspec("fmt", "--diff", "--check", "messy.nn", cwd=folder).returncode == 1


def test_cli_stdin_to_stdout():
    run = nnspec("fmt", "-", stdin=MESSY)
    assert run.returncode == 0
    assert run.stdout == TIDY
    assert nnspec("fmt", "--check", "-", stdin=MESSY).returncode == 1
    assert nnspec("fmt", "--check", "-", stdin=TIDY).returncode == 0


def test_cli_syntax_error_leaves_file_untouched(folder: Path):
    (folder / "broken.nn").write_text(BROKEN)
    run = nnspec("fmt", "broken.nn", "messy.nn", cwd=folder)
    assert run.returncode == 1
    assert (folder / "broken.nn").read_text() == BROKEN
    assert (folder / "messy.nn").read_text() == TIDY, "the other files are still formatted"
    assert "broken.nn:2:22: error[E001]: unexpected '}'" in run.stderr
    assert " 2 | sequential { Dense(1 }\n   |                      ^" in run.stderr
    assert "1 file reformatted, 1 file failed to format." in run.stderr
    assert "Traceback" not in run.stderr


def test_cli_refuses_undecodable_files(folder: Path):
    (folder / "latin1.nn").write_bytes(b"model m  # caf\xe9\n")
    run = nnspec("fmt", "latin1.nn", cwd=folder)
    assert run.returncode == 1
    assert "latin1.nn: error: cannot format: not UTF-8" in run.stderr
    assert (folder / "latin1.nn").read_bytes() == b"model m  # caf\xe9\n"


def test_cli_missing_path_is_a_usage_error(folder: Path):
    run = nnspec("fmt", "nowhere.nn", cwd=folder)
    assert run.returncode == 2
    assert "no such file or directory: nowhere.nn" in run.stderr


def test_cli_internal_error_exits_3(folder: Path):
    code = (
        "import nnspec.syntax.fmt as f\n"
        "def boom(*a, **k): raise RuntimeError('boom')\n"
        "f._render = boom\n"
        "from nnspec.cli import main\n"
        "main(['fmt', 'messy.nn'])\n"
    )
    run = python("-c", code, cwd=folder)
    assert run.returncode == 3
    assert "messy.nn:1:1: error[E900]: internal error: RuntimeError: boom" in run.stderr
    assert "Traceback" not in run.stderr
    assert (folder / "messy.nn").read_text() == MESSY


def test_cli_failed_self_check_is_e900(folder: Path):
    """A layout that would drop a comment fails the self-check: E900, exit 3, the file
    left as it is, the other files still formatted."""
    code = (
        "import nnspec.syntax.fmt as f\n"
        "f._comment_lines = lambda events, blanks=True: []\n"
        "from nnspec.cli import main\n"
        "main(['fmt', 'commented.nn', 'messy.nn'])\n"
    )
    (folder / "commented.nn").write_text("# about m\n" + MESSY)
    run = python("-c", code, cwd=folder)
    assert run.returncode == 3
    assert run.stderr.splitlines()[:4] == [
        "commented.nn:1:1: error[E900]: internal error: "
        "formatting would change the spec's tokens or comments",
        " 1 | # about m",
        "   | ^",
        "   = hint: please report this with the spec that caused it",
    ]
    assert "1 file reformatted, 1 file failed to format." in run.stderr
    assert "Traceback" not in run.stderr
    assert (folder / "commented.nn").read_text() == "# about m\n" + MESSY
    assert (folder / "messy.nn").read_text() != MESSY, "the other file is formatted"


def test_cli_unreadable_file_is_a_usage_error(folder: Path):
    """Nothing is formatted when a file cannot be read: exit 2, a plain message."""
    unreadable(folder, "locked.nn")
    run = nnspec("fmt", "messy.nn", "locked.nn", cwd=folder)
    assert run.returncode == 2
    assert "Error: cannot read locked.nn: " in run.stderr
    assert "Traceback" not in run.stderr
    assert (folder / "messy.nn").read_text() == MESSY


def test_fmt_never_imports_tensorflow(folder: Path):
    code = (
        "import sys\n"
        "from nnspec.cli import main\n"
        "try:\n"
        "    main(['fmt', '--diff', '.'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras'))\n"
        "print('LOADED:', loaded, file=sys.stderr)\n"
    )
    run = python("-c", code, cwd=folder)
    assert "LOADED: []" in run.stderr, run.stderr
    assert "+++ messy.nn (formatted)" in run.stdout
