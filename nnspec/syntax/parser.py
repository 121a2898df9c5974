"""Text -> parse tree, with error recovery statement by statement.

A clean file goes through Lark's LALR parser in one call. A file with syntax
errors is parsed again through Lark's interactive parser: after an error the
parser is rolled back to the start of the enclosing block item or statement,
the broken tokens are skipped, and parsing resumes, so one run reports every
broken statement.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from functools import lru_cache
from pathlib import Path

import lark
from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput, UnexpectedToken
from msgspec import Struct

from nnspec.diagnostics.records import Diagnostic, Span
from nnspec.diagnostics.wording import closest, did_you_mean

MAX_DEPTH = 64
STATEMENT_KEYWORDS = frozenset(
    [
        "model",
        "data",
        "input",
        "output",
        "sequential",
        "graph",
        "compile",
        "fit",
        "evaluate",
        "save",
        "plot",
        "predict",
        "param",
        "block",
    ]
)
_OPEN = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}
_CLOSE = frozenset(_OPEN.values())
_CLOSER = {"(": ")", "[": "]", "{": "}"}
# Blocks of one item per line, and what their items are called in messages.
_ITEM_BLOCKS = {
    "sequential": ("layers in a `sequential` block", "one layer per line"),
    "graph": ("the lines of a `graph` block", "one layer definition or chain per line"),
    "block": ("the lines of a block", "one layer, edge or loop per line"),
}
# The words that start an item inside a body, for "did you mean" on a misspelled one.
ITEM_KEYWORDS = ("for", "if", "else", "input", "output")

_READABLE = {"NAME": "a name", "NUMBER": "a number", "STRING": "a string"}


class _KeepBadChars:
    """Lark post-lexer that only keeps the BAD_CHAR terminal in the grammar."""

    always_accept = ("BAD_CHAR",)

    def process(self, stream):
        return stream


def grammar_text() -> str:
    """The grammar: package data when installed, `grammar/` in a source checkout.

    Found through the import system's spec: importlib.resources would take longer
    to import than the parser takes to load."""
    spec = importlib.util.find_spec("nnspec.grammar")
    found = spec.submodule_search_locations if spec else None
    folder = Path(next(iter(found))) if found else Path(__file__).resolve().parents[2] / "grammar"
    return (folder / "nnspec.lark").read_text()


@lru_cache(maxsize=2)
def lark_parser(keep_all_tokens: bool = False) -> Lark:
    """The LALR parser; `keep_all_tokens` keeps brackets and commas in the tree (for `fmt`).

    Built once, then loaded from a cache file by later processes (15 times faster)."""
    grammar = grammar_text()
    return Lark(
        grammar,
        parser="lalr",
        lexer="basic",
        propagate_positions=True,
        maybe_placeholders=True,
        keep_all_tokens=keep_all_tokens,
        postlex=_KeepBadChars(),
        cache=_cache_file(grammar, keep_all_tokens),
    )


def _cache_file(grammar: str, keep_all_tokens: bool) -> str | bool:
    """The user's own cache file for this parser, or False: build it each time.

    Not Lark's default, a predictable name in the shared /tmp, for a file that is a
    pickle. Lark checks the grammar's hash in the file, rebuilds and rewrites a file
    it cannot read (missing, half written by a racing process) and skips one it
    cannot write (a read-only folder). The name holds every input, so that versions
    side by side keep their own files."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    if not os.path.isabs(root):  # no home folder
        return False
    folder = os.path.join(root, "nnspec")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return False
    key = f"{grammar}{keep_all_tokens}{lark.__version__}{sys.version_info[:2]}"
    return os.path.join(folder, f"parser-{hashlib.sha256(key.encode()).hexdigest()[:16]}.lark")


def token_span(tok: Token) -> Span:
    if tok.end_line is None:  # Lark's Token.__deepcopy__ (parser copies) drops the end
        return Span(tok.line, tok.column, tok.line, tok.column + len(tok.value))
    return Span(tok.line, tok.column, tok.end_line, tok.end_column)


def describe_terminal(name: str) -> str:
    """A readable name for a grammar terminal: `'}'`, `a name`, `'model'`."""
    if name == "$END":
        return "end of file"
    if name in _READABLE:
        return _READABLE[name]
    for term in lark_parser().terminals:
        if term.name == name and term.pattern.type == "str":
            return f"'{term.pattern.value}'"
    return name.lower()


def describe_token(tok: Token) -> str:
    if tok.type == "$END":
        return "end of file"
    if tok.type in _READABLE:
        return f"{_READABLE[tok.type][2:]} `{tok.value}`"
    return f"'{tok.value}'"


class ParseResult(Struct):
    tree: Tree | None
    diagnostics: list[Diagnostic]
    complete: bool = True  # no tokens skipped: every statement is in the tree as written
    blocks: frozenset[str] = frozenset()  # with errors: every block named, parsed or not


def parse(text: str) -> ParseResult:
    parser = lark_parser()
    try:
        tokens = list(parser.lex(text))
    except UnexpectedInput as err:  # unreachable in practice: BAD_CHAR matches anything
        span = Span(err.line, err.column, err.line, err.column + 1)
        return ParseResult(None, [Diagnostic("E002", "invalid character", span)])
    if (deep := _too_deep(tokens)) is not None:
        return ParseResult(None, [deep])
    ip = parser.parse_interactive("")
    try:  # the fast path: the tokens once through, no checkpoints
        for tok in tokens:
            ip.feed_token(tok)
        return ParseResult(ip.feed_eof(tokens[-1] if tokens else None), [])
    except UnexpectedInput:
        return _Recovery(parser, tokens).run()


def _too_deep(tokens: list[Token]) -> Diagnostic | None:
    depth = 0
    for tok in tokens:
        if tok.type in _OPEN:
            depth += 1
            if depth > MAX_DEPTH:
                return Diagnostic(
                    "E003",
                    f"brackets nested more than {MAX_DEPTH} deep",
                    token_span(tok),
                    ("no model needs this much nesting; check for unbalanced brackets",),
                )
        elif tok.type in _CLOSE:
            depth = max(0, depth - 1)
    return None


class _Checkpoint(Struct):
    parser: object  # lark InteractiveParser, rolled back to on error
    index: int  # index of the first token of the item
    brackets: tuple[int, ...]  # indexes of the brackets open there


class _Recovery:
    def __init__(self, parser: Lark, tokens: list[Token]):
        self.tokens = tokens
        self.ip = parser.parse_interactive("")
        self.diagnostics: list[Diagnostic] = []
        self.brackets: list[int] = []  # index of each open bracket, innermost last
        self.statement = _Checkpoint(self.ip.copy(), 0, ())
        self.item: _Checkpoint | None = None
        self.skipped = False  # tokens were dropped to resynchronise

    def run(self) -> ParseResult:
        i, tokens, prev_line = 0, self.tokens, 0
        while i < len(tokens):
            tok = tokens[i]
            starts_line = tok.line != prev_line
            prev_line = tok.end_line
            if not self.brackets and starts_line and tok.type in _keyword_types():
                self.statement = _Checkpoint(self.ip.copy(), i, ())
                self.item = None
            elif starts_line and self.brackets and tokens[self.brackets[-1]].type == "LBRACE":
                self.item = _Checkpoint(self.ip.copy(), i, tuple(self.brackets))
            if tok.type == "COMMA" and self._block_items() is not None:
                diagnostic, in_chain = self._comma_between_items(i)
                self._add(diagnostic)
                # skipped: the items around it still parse, but not a chain's `-> a, b`
                i = self._resync(i) if in_chain else i + 1
                continue
            before = self.ip.copy() if _may_start_statement(tok, self.brackets) else None
            try:
                self.ip.feed_token(tok)
            except UnexpectedToken as err:
                self._report(err.token, self.ip.accepts(), index=i)
                keyword = before and _misspelled_keyword(tok, before.accepts())
                if not keyword:
                    i = self._resync(i)
                    continue
                self.ip, self.statement = before, _Checkpoint(before.copy(), i, ())
                self.ip.feed_token(keyword)  # reported: the statement is checked as meant
            self._track(i)
            i += 1
        blocks = frozenset(
            str(self.tokens[i + 1].value)
            for i, tok in enumerate(self.tokens[:-1])
            if tok.value == "block" and tok.type != "NAME" and self.tokens[i + 1].type == "NAME"
        )
        return ParseResult(self._finish(), self.diagnostics, not self.skipped, blocks)

    def _track(self, i: int) -> None:
        if self.tokens[i].type in _OPEN:
            self.brackets.append(i)
        elif self.tokens[i].type in _CLOSE and self.brackets:
            self.brackets.pop()

    def _block_items(self) -> str | None:
        """`sequential`, `graph` or `block` when directly inside such a body (a `for`
        or `if` body counts as a block's), else None."""
        if not self.brackets or self.brackets[-1] == 0:
            return None
        opener = self.brackets[-1]
        if self.tokens[opener].type == "LBRACE" and _line_start(self.tokens, opener).value in (
            "block",
            "for",
            "if",
            "}",
        ):
            return "block"
        if len(self.brackets) != 1:
            return None
        keyword = self.tokens[self.brackets[0] - 1]
        if self.tokens[self.brackets[0]].type != "LBRACE" or keyword.type not in _keyword_types():
            return None
        return keyword.value if keyword.value in _ITEM_BLOCKS else None

    def _comma_between_items(self, index: int) -> tuple[Diagnostic, bool]:
        """E001 for a comma between the items of a block; and whether it is in a chain."""
        block = self._block_items()
        items, layout = _ITEM_BLOCKS[block]
        hints = [f"remove the comma: write {layout}"]
        start = index
        while start > 0 and self.tokens[start - 1].line == self.tokens[index].line:
            start -= 1
        after = self.tokens[index + 1] if index + 1 < len(self.tokens) else None
        in_chain = (
            block == "graph"
            and any(t.value == "->" for t in self.tokens[start:index])
            and (after is not None and after.line == self.tokens[index].line)
            and after.type == "NAME"
        )
        if in_chain:
            hints.append("to feed one node into several, write a list: `x -> [a, b]`")
        message = f"unexpected ','; {items} are not separated by commas"
        return Diagnostic("E001", message, token_span(self.tokens[index]), tuple(hints)), in_chain

    def _unclosed(self, index: int, expected: set[str]) -> Diagnostic | None:
        """E001 at the end of the line where the innermost bracket should have closed:
        the unexpected token starts a line no more indented than the bracket's line
        (or the file ends). A token further right is a missing comma, not this."""
        if not self.brackets or index == 0:
            return None
        opener = self.tokens[self.brackets[-1]]
        if _OPEN[opener.type] not in expected:
            return None
        last = self.tokens[index - 1]
        if index < len(self.tokens):
            tok = self.tokens[index]
            if tok.line == last.end_line or tok.column > _indent(self.tokens, self.brackets[-1]):
                return None
        return _unclosed_bracket(opener, last)

    def _resync(self, bad: int) -> int:
        """Roll back and return the index of the token to resume at."""
        self.skipped = True
        if self.item is not None:
            depth = len(self.item.brackets)
            nxt = self._scan(self.item.index, bad, depth)
            if nxt is not None:
                self.ip = self.item.parser.copy()
                self.brackets = list(self.item.brackets)
                return nxt
        self.ip = self.statement.parser.copy()
        self.brackets = []
        self.item = None
        j = bad + 1
        while j < len(self.tokens) and not (
            self.tokens[j].type in _keyword_types()
            and (self.tokens[j].column == 1 or _depth(self.tokens, self.statement.index, j) == 0)
        ):
            j += 1
        return j

    def _scan(self, start: int, bad: int, depth: int) -> int | None:
        """First token after `bad` that starts a line at block depth `depth`."""
        level = depth
        for j in range(start, len(self.tokens)):
            tok = self.tokens[j]
            if j > bad and level == depth and tok.line != self.tokens[j - 1].end_line:
                if tok.type in _keyword_types() and tok.column == 1:
                    return None  # a new statement: let the statement level resync
                return j
            if j > bad and level == depth and tok.type == "RBRACE":
                return j  # the block closes: resume there
            if tok.type in _OPEN:
                level += 1
            elif tok.type in _CLOSE:
                level -= 1
                if level < depth - 1:
                    return None
        return None

    def _finish(self) -> Tree | None:
        end = self.tokens[-1] if self.tokens else None
        try:
            return self.ip.feed_eof(end)
        except UnexpectedToken as err:
            self._report(err.token, self.ip.accepts(), at_end=end, index=len(self.tokens))
        try:
            return self.statement.parser.copy().feed_eof(end)
        except UnexpectedToken:
            return None

    def _report(self, tok: Token, expected, at_end: Token | None = None, index: int = 0) -> None:
        unclosed = self._unclosed(index, set(expected))
        if unclosed is not None:
            self._add(unclosed)
            return
        if tok.type == "$END" and at_end is not None:
            span = Span(at_end.end_line, at_end.end_column, at_end.end_line, at_end.end_column + 1)
        elif tok.type == "$END":
            span = Span(1, 1, 1, 1)
        else:
            span = token_span(tok)
        diagnostic = syntax_error(tok, set(expected), span)
        if self.brackets and index > 0 and self.tokens[index - 1].type == "NAME":
            word = self.tokens[index - 1]
            meant = closest(str(word.value), ITEM_KEYWORDS)
            starts_line = index < 2 or self.tokens[index - 2].line != word.line
            if (
                meant
                and meant != word.value
                and (starts_line or self.tokens[index - 2].value == "}")
            ):
                diagnostic = Diagnostic(
                    "E001",
                    f"unexpected name `{word.value}`",
                    token_span(word),
                    (f"did you mean `{meant}`?",),
                )
        self._add(diagnostic)

    def _add(self, diagnostic: Diagnostic) -> None:
        if self.diagnostics and self.diagnostics[-1].span.line == diagnostic.span.line:
            return  # one syntax error per line: the rest are usually echoes
        self.diagnostics.append(diagnostic)


def _depth(tokens: list[Token], start: int, stop: int) -> int:
    depth = 0
    for tok in tokens[start:stop]:
        if tok.type in _OPEN:
            depth += 1
        elif tok.type in _CLOSE:
            depth = max(0, depth - 1)
    return depth


def _line_start(tokens: list[Token], index: int) -> Token:
    """The first token on the line of `tokens[index]`."""
    line = tokens[index].line
    while index > 0 and tokens[index - 1].line == line:
        index -= 1
    return tokens[index]


def _indent(tokens: list[Token], index: int) -> int:
    """The column of the first token on the line of `tokens[index]`."""
    line = tokens[index].line
    while index > 0 and tokens[index - 1].line == line:
        index -= 1
    return tokens[index].column


def _unclosed_bracket(opener: Token, last: Token) -> Diagnostic:
    """E001 for `opener` never closed, placed right after `last`, where it should close."""
    closer = _CLOSER[opener.value]
    span = Span(last.end_line, last.end_column, last.end_line, last.end_column)  # a point
    if opener.value == "{" and opener.line != last.end_line:
        hint = "add `}` on the line after this one to close the block"
    elif last.type in _READABLE and len(last.value) <= 20:
        hint = f"add `{closer}` after `{last.value}`"
    else:
        hint = f"add `{closer}` at the end of this line"
    return Diagnostic(
        "E001",
        f"'{opener.value}' opened at {opener.line}:{opener.column} is not closed",
        span,
        (hint,),
    )


def _may_start_statement(tok: Token, brackets: list[int]) -> bool:
    """A name at the start of a line, outside brackets: perhaps a misspelled keyword."""
    return tok.type == "NAME" and tok.column == 1 and not brackets


def _misspelled_keyword(tok: Token, accepts) -> Token | None:
    """The statement keyword `tok` misspells, where one is close and fits there;
    as a token to parse on with."""
    meant = closest(str(tok.value), STATEMENT_KEYWORDS)
    kinds = [
        t.name
        for t in lark_parser().terminals
        if t.pattern.type == "str" and t.pattern.value == meant
    ]
    if not kinds or kinds[0] not in accepts:
        return None
    return Token.new_borrow_pos(kinds[0], meant, tok)


@lru_cache(maxsize=1)
def _keyword_types() -> frozenset[str]:
    return frozenset(
        t.name
        for t in lark_parser().terminals
        if t.pattern.type == "str" and t.pattern.value in STATEMENT_KEYWORDS
    )


@lru_cache(maxsize=1)
def _operator_types() -> frozenset[str]:
    words = {"and", "or"}
    return frozenset(
        t.name
        for t in lark_parser().terminals
        if t.name in ("ADD_OP", "MUL_OP", "COMPARE")
        or (t.pattern.type == "str" and t.pattern.value in words)
    )


def syntax_error(tok: Token, expected: set[str], span: Span) -> Diagnostic:
    """E001/E002 for an unexpected token, naming what would have fitted."""
    if tok.type == "BAD_CHAR":
        if tok.value in "\"'":
            return Diagnostic(
                "E002", "unterminated string", span, ("close the string on the same line",)
            )
        shown = repr(tok.value)[1:-1]
        return Diagnostic("E002", f"invalid character '{shown}'", span)
    # An operator may continue almost any value: naming them never helps.
    named = expected - _operator_types() or expected
    wanted = sorted({describe_terminal(e) for e in named})
    if expected >= _keyword_types():
        wanted = [w for w in wanted if w.strip("'") not in STATEMENT_KEYWORDS] + ["a statement"]
    listed = (
        ", ".join(wanted[:-1]) + (" or " if len(wanted) > 1 else "") + wanted[-1] if wanted else ""
    )
    message = f"unexpected {describe_token(tok)}" + (f"; expected {listed}" if listed else "")
    return Diagnostic("E001", message, span, _syntax_hints(tok, expected))


def _syntax_hints(tok: Token, expected: set[str]) -> tuple[str, ...]:
    value = str(tok.value)
    if value in STATEMENT_KEYWORDS and tok.column == 1 and expected & _CLOSE:
        return (f"a bracket opened earlier is not closed before `{value}`",)
    if value in STATEMENT_KEYWORDS and "NAME" in expected:
        return (f"`{value}` is a keyword; choose another name",)
    if tok.type == "EQUAL" and "COLON" in expected:
        return ("settings in braces are written `key: value`",)
    if tok.type == "COLON" and "EQUAL" in expected:
        return ("call arguments are written `name=value`",)
    if tok.type == "NAME" and tok.column == 1 and expected >= _keyword_types():
        return did_you_mean(value, STATEMENT_KEYWORDS) or (
            f"a statement starts with one of: {', '.join(sorted(STATEMENT_KEYWORDS))}",
        )
    if tok.type == "RPAR" and "COMMA" in expected:
        return ("a tuple of one value needs a trailing comma, as in Python: `(20,)`",)
    if "COMMA" in expected and tok.type in {"NAME", "NUMBER", "STRING"}:
        return ("separate arguments with commas",)
    if tok.type == "$END" and expected & _CLOSE:
        return ("a bracket opened earlier is never closed",)
    return ()
