"""`nnspec fmt`: one canonical layout for specs, keeping every comment.

The layout is printed from the parse tree, which keeps every token's text, through a
small Wadler-style document printer: a bracket group stays on one line when it fits in
100 columns and holds no comment, else it puts one item per line. Comments belong to
tokens: an own-line comment to the token after it, a trailing comment to the token
before it. Commas are rewritten, so the comments around a comma move to its neighbours.

The layout, statement by statement:

- One statement per line, in groups with a blank line between them: `model`, `data`,
  `input`s, `param`s, `sequential` or `graph`, `output`s, then compile, fit and the
  actions. Each `block` is a group of its own, so a blank line separates two blocks.
  Other blank lines are kept, one at most.
- `param NAME = value`, one per line.
- `block name(a, b=1) { ... }`, `sequential { ... }`, `graph { ... }`, and the bodies of
  `for (a, b) in list { ... }` and `if cond { ... }`: four spaces in, one item per line;
  an empty body is `{}`. `} else {` and `} else if cond {` go on the closing brace's line.
  The parameters of a block break like a call's arguments, the list of a `for` like any
  list. A graph's own body puts a blank line between a run of layer definitions, of
  chains, of loops and of conditions; other bodies keep their blank lines as written.
- `input x, y` and `output a, b.1`, in a statement or a block.
- Operators with a space either side (`width // 2`, `i == 1`, `a and b`), except a
  fraction of numbers, one word as in `1/255` or `-1/16`; signs attached (`-x`, `+3`),
  `not x`; parentheses as written.
- Strings in double quotes where that spells the same string, quoted layer names too.
"""

from __future__ import annotations

import ast
import re
import sys
import warnings
from collections import Counter

from lark import Token, Tree
from msgspec import Struct

from nnspec.diagnostics.records import Diagnostic
from nnspec.diagnostics.wording import plural
from nnspec.errors import InternalError, NnspecError, internal_error
from nnspec.syntax.parser import lark_parser, parse

WIDTH = 100
INDENT = 4

_STATEMENT_GROUPS = {
    "model_stmt": 0,
    "data_stmt": 1,
    "input_stmt": 2,
    "param_stmt": 3,
    "sequential_stmt": 4,
    "graph_stmt": 4,
    "output_stmt": 5,
}  # a blank line between groups; each block is a group of its own
_LAST_GROUP = 6  # compile, fit and the actions


class FormatError(NnspecError):
    """The text has syntax errors, its `diagnostics`; it is not formatted (formatting never
    loses text)."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("; ".join(d.message for d in diagnostics) or "syntax error")
        self.diagnostics = diagnostics


def format_text(text: str) -> str:
    """The canonical layout of `text`; raises FormatError if it has syntax errors, and
    InternalError if the layout would not keep its tokens and comments (a bug)."""
    parsed = parse(text)
    if parsed.diagnostics or parsed.tree is None:
        raise FormatError(parsed.diagnostics)
    full = lark_parser(keep_all_tokens=True)
    tokens = list(full.lex(text))
    parser = full.parse_interactive("")
    for tok in tokens:
        parser.feed_token(tok)
    tree = parser.feed_eof(tokens[-1] if tokens else None)
    result = _render(_Layout(text, tokens).document(tree))
    # Like black's safety check: the same tokens and comments, and still no syntax error.
    if _fingerprint(result) != _fingerprint(text, tokens) or parse(result).diagnostics:
        raise InternalError("formatting would change the spec's tokens or comments")
    return result


def format_paths(files: list[str], check: bool, diff: bool, colour: bool = False) -> int:
    """`nnspec fmt`: format each file (`-`: stdin to stdout); the exit status.

    Files change in place, atomically and only when their text changes, unless `check`
    or `diff`. Messages go to stderr, diffs and formatted stdin to stdout. A file that
    cannot be read is a usage error (UsageError), raised before any file changes.
    """
    from nnspec.files import read_input

    sources = [(path, read_input(path)) for path in files]
    outcomes = Counter(_format_path(path, data, check, diff, colour) for path, data in sources)
    changed, same = outcomes["changed"], outcomes["same"]
    failed = outcomes["failed"] + outcomes["bug"]
    would = "would be " if check or diff else ""
    counts = [
        changed and f"{plural(changed, 'file')} {would}reformatted",
        same and f"{plural(same, 'file')} {would}left unchanged",
        failed and f"{plural(failed, 'file')} failed to format",
    ]
    print(", ".join(c for c in counts if c) + ".", file=sys.stderr)
    if outcomes["bug"]:
        return 3  # as `check` for an internal error
    return 1 if failed or (check and changed) else 0


def _format_path(path: str, data: bytes, check: bool, diff: bool, colour: bool) -> str:
    """Format one file, read as `data`; what happened: changed, same, failed or bug."""
    from nnspec.diagnostics.formats import render_text
    from nnspec.files import unified_diff, write_atomic

    shown = "<stdin>" if path == "-" else path
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        print(f"{shown}: error: cannot format: not UTF-8 ({err.reason})", file=sys.stderr)
        return "failed"
    try:
        new = format_text(text)
    except FormatError as err:
        print(render_text(shown, err.diagnostics, text, colour=colour), file=sys.stderr)
        return "failed"
    except Exception as err:  # noqa: BLE001  (a bug in nnspec: E900, never a traceback)
        print(render_text(shown, [internal_error(err)], text, colour=colour), file=sys.stderr)
        return "bug"
    if path == "-" and not (check or diff):
        sys.stdout.write(new)
    if new == text:
        return "same"
    if diff:
        sys.stdout.write(unified_diff(text, new, f"{shown} (original)", f"{shown} (formatted)"))
    if check or diff:
        print(f"would reformat {shown}", file=sys.stderr)
    elif path != "-":
        try:
            write_atomic(path, new)
        except OSError as err:
            print(f"{shown}: error: cannot write: {err.strerror}", file=sys.stderr)
            return "failed"
        print(f"reformatted {shown}", file=sys.stderr)
    return "changed"


def _fingerprint(text: str, tokens: list[Token] | None = None) -> tuple[list[str], list[str]]:
    """What formatting keeps: the tokens (bar commas, in canonical spelling) and comments."""
    tokens = list(lark_parser().lex(text)) if tokens is None else tokens
    significant = [_spelling(t) for t in tokens if t.type != "COMMA"]
    return significant, _comments(text, tokens)


def _comments(text: str, tokens: list[Token]) -> list[str]:
    gaps, pos = [], 0
    for tok in tokens:
        gaps.append(text[pos : tok.start_pos])
        pos = tok.end_pos
    gaps.append(text[pos:])
    return [m.group().rstrip() for gap in gaps for m in re.finditer(r"#[^\n]*", gap)]


def _spelling(tok: Token) -> str:
    """A token's canonical text: double quotes where they mean the same, lowercase booleans."""
    text = str(tok)
    if tok.type == "STRING" and text.startswith("'"):
        body = re.sub(r"\\(.)", lambda m: m[1] if m[1] == "'" else m[0], text[1:-1])
        double = f'"{body}"'
        if '"' not in body and _literal(double) == _literal(text) is not None:
            return double
    return {"True": "true", "False": "false"}.get(text, text)


def _literal(text: str) -> str | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return ast.literal_eval(text)
    except (SyntaxError, ValueError, Warning):
        return None


# ---- documents -------------------------------------------------------------
# A document is a str, a list of documents, or one of the nodes below.


class _Group(Struct, frozen=True):
    """On one line if it fits and nothing forces a break, else every _Line breaks."""

    contents: object
    breaks: bool


class _Indent(Struct, frozen=True):
    contents: object


class _Line(Struct, frozen=True):
    flat: str | None  # the text on one line; None: always a line break


class _IfBreak(Struct, frozen=True):
    broken: str
    flat: str


class _Comment(Struct, frozen=True):
    text: str
    own_line: bool  # else trailing: after the text on the current line


class _Blank:
    """An empty line."""


LINE, SOFTLINE, HARDLINE, BLANK = _Line(" "), _Line(""), _Line(None), _Blank()


def _group(*parts) -> _Group:
    return _Group(list(parts), any(_breaks(p) for p in parts))


def _breaks(doc) -> bool:
    if isinstance(doc, list):
        return any(_breaks(d) for d in doc)
    if isinstance(doc, _Group):
        return doc.breaks
    if isinstance(doc, _Indent):
        return _breaks(doc.contents)
    if isinstance(doc, _Line):
        return doc.flat is None
    return isinstance(doc, (_Comment, _Blank))


_FLAT, _BREAK = False, True


class _Output:
    def __init__(self) -> None:
        self.lines = [""]
        self.pending = False  # a comment ended the line: the next text starts a new one

    def newline(self, indent: int) -> None:
        self.lines[-1] = self.lines[-1].rstrip()
        self.lines.append(" " * indent)
        self.pending = False

    def text(self, text: str, indent: int) -> None:
        if self.pending:
            if not text.strip():
                return
            self.newline(indent)
        self.lines[-1] += text

    def at_line_start(self) -> bool:
        return not self.pending and not self.lines[-1].strip()


def _render(doc) -> str:
    out = _Output()
    stack = [(0, _BREAK, doc)]
    while stack:
        indent, mode, d = stack.pop()
        if isinstance(d, str):
            out.text(d, indent)
        elif isinstance(d, list):
            stack.extend((indent, mode, x) for x in reversed(d))
        elif isinstance(d, _Indent):
            stack.append((indent + INDENT, mode, d.contents))
        elif isinstance(d, _Group):
            if out.pending:
                out.newline(indent)
            flat = mode == _FLAT or (
                not d.breaks and _fits(d.contents, stack, WIDTH - len(out.lines[-1]))
            )
            stack.append((indent, _FLAT if flat else _BREAK, d.contents))
        elif isinstance(d, _Line):
            if mode == _FLAT and d.flat is not None:
                out.text(d.flat, indent)
            else:
                out.newline(indent)
        elif isinstance(d, _IfBreak):
            out.text(d.broken if mode == _BREAK else d.flat, indent)
        elif isinstance(d, _Comment) and not d.own_line:
            out.lines[-1] = out.lines[-1].rstrip() + "  " + d.text
            out.pending = True
        else:  # an own-line comment or a blank line: start on a fresh line
            if not out.at_line_start():
                out.newline(indent)
            if isinstance(d, _Blank):
                out.newline(indent)
            else:
                out.lines[-1] = " " * indent + d.text
                out.pending = True
    lines = [line.rstrip() for line in out.lines]
    return "\n".join(lines).strip("\n") + "\n" if any(lines) else ""


def _fits(doc, rest: list, width: int) -> bool:
    """Whether `doc` flat, and what follows up to the next line break, fit in `width`."""
    todo, following = [(_FLAT, doc)], len(rest)
    while width >= 0:
        if not todo:
            if not following:
                return True
            following -= 1
            todo.append(rest[following][1:])
            continue
        mode, d = todo.pop()
        if isinstance(d, str):
            width -= len(d)
        elif isinstance(d, list):
            todo.extend((mode, x) for x in reversed(d))
        elif isinstance(d, _Indent):
            todo.append((mode, d.contents))
        elif isinstance(d, _Group):
            todo.append((_BREAK if d.breaks else mode, d.contents))
        elif isinstance(d, _Line):
            if mode == _BREAK or d.flat is None:
                return True
            width -= len(d.flat)
        elif isinstance(d, _IfBreak):
            width -= len(d.broken if mode == _BREAK else d.flat)
        else:
            return True
    return False


# ---- comments --------------------------------------------------------------

Trivia = list  # own-line comments (str) and blank lines (None) before a token, in order


def _trivia(text: str, tokens: list[Token]) -> tuple[dict, dict, Trivia]:
    """Own-line comments by the start of the token after them, trailing comments by the end
    of the token before them, and what follows the last token. Commas count as spaces."""
    masked = list(text)
    for tok in tokens:
        if tok.type == "COMMA":
            masked[tok.start_pos] = " "
    blanked = "".join(masked)
    leading: dict[int, Trivia] = {}
    trailing: dict[int, str] = {}
    prev_end: int | None = None
    for tok in tokens:
        if tok.type != "COMMA":
            if events := _gap(blanked, prev_end, tok.start_pos, trailing):
                leading[tok.start_pos] = events
            prev_end = tok.end_pos
    return leading, trailing, _gap(blanked, prev_end, len(text), trailing)


def _gap(text: str, prev_end: int | None, start: int, trailing: dict[int, str]) -> Trivia:
    """The own-line comments and blank lines between two tokens; a comment on the line of
    the token before goes to `trailing`."""
    lines = text[prev_end or 0 : start].split("\n")
    if prev_end is not None:
        if "#" in lines[0]:
            trailing[prev_end] = lines[0].strip()
        lines = lines[1:]
    events: Trivia = []
    for i, line in enumerate(lines):
        if line.strip():
            events.append(line.strip())
        elif i < len(lines) - 1 and events[-1:] != [None]:  # a whole empty line
            events.append(None)
    return events


def _comment_lines(events: Trivia, blanks: bool = True) -> list:
    return [
        BLANK if e is None else _Comment(e, own_line=True)
        for e in events
        if blanks or e is not None
    ]


def _span(node) -> tuple[int, int]:
    if isinstance(node, Token):
        return node.start_pos, node.end_pos
    return node.meta.start_pos, node.meta.end_pos


# ---- layout ----------------------------------------------------------------


class _Layout:
    """The document of a parse tree (built with all tokens kept), one method per rule."""

    def __init__(self, text: str, tokens: list[Token]):
        self.leading, self.trailing, self.end = _trivia(text, tokens)

    def doc(self, node, suffix="") -> object:
        """`node` with the comments of its first and last token, unless an enclosing node
        took them; `suffix` (a comma) goes before a trailing comment."""
        start, end = _span(node)
        before = self.leading.pop(start, [])
        after = self.trailing.pop(end, None)
        if isinstance(node, Token):
            body = _spelling(node)
        else:
            body = getattr(self, node.data)(node, *[c for c in node.children if c is not None])
        out = [*_comment_lines(before, blanks=False), body, suffix]
        if after:
            out.append(_Comment(after, own_line=False))
        return out

    def _lines(self, items: list, group, first: bool) -> list:
        """Items on lines of their own; blank lines kept (one at most) and added between
        groups; `first`: a line break before the first item too."""
        out: list = []
        for i, item in enumerate(items):
            if i or first:
                out.append(HARDLINE)
            events = self.leading.pop(_span(item)[0], [])
            if i and group(item) != group(items[i - 1]) and events[:1] != [None]:
                events = [None, *events]
            out += _comment_lines(events[1:] if not i and events[:1] == [None] else events)
            out.append(self.doc(item))
        return out

    def _closing(self, close: Token, after_items: bool) -> list:
        """The comments before a closing bracket, inside the bracket."""
        events = self.leading.pop(close.start_pos, [])
        while events and events[-1] is None:
            events.pop()
        if events and events[0] is None and not after_items:
            events.pop(0)
        return _comment_lines(events)

    def _block(self, open_: Token, *rest, group=lambda item: 0) -> list:
        """`{ ... }` of sequential and graph: one item per line."""
        *items, close = rest
        inner = self._lines(items, group, first=True) + self._closing(close, bool(items))
        if not inner:
            return [self.doc(open_), self.doc(close)]
        return [self.doc(open_), _Indent(inner), HARDLINE, self.doc(close)]

    def _bracket(self, open_: Token, *rest, mapping=False, one_tuple=False) -> _Group:
        """`(...)`, `[...]`, `{...}` on one line, else one item per line; a mapping has no
        commas when broken, the others a trailing one."""
        *items, close = [c for c in rest if not (isinstance(c, Token) and c.type == "COMMA")]
        closing = [c for c in self._closing(close, bool(items)) if c is not BLANK]
        if not items and not closing:
            return _group(self.doc(open_), self.doc(close))
        inner: list = []
        for i, item in enumerate(items):
            last = i == len(items) - 1
            if mapping:
                sep: object = "" if last else _IfBreak("", ",")
            else:
                sep = "," if one_tuple or not last else _IfBreak(",", "")
            inner.append(self.doc(item, sep))
            if not last:
                inner.append(LINE)
        pad = LINE if mapping else SOFTLINE
        return _group(self.doc(open_), _Indent([pad, *inner, *closing]), pad, self.doc(close))

    def _words(self, *parts) -> list:
        out: list = []
        for part in parts:
            out += [" ", self.doc(part)] if out else [self.doc(part)]
        return out

    def _listed(self, items: list) -> list:
        """`a, b, c` without brackets; a comment breaks the line, indented."""
        items = [c for c in items if not (isinstance(c, Token) and c.type == "COMMA")]
        out = [self.doc(item, "," if i < len(items) - 1 else "") for i, item in enumerate(items)]
        return [out[0], _Indent([[" ", d] for d in out[1:]])] if out else []

    # statements
    def document(self, tree: Tree) -> list:
        """The whole file: the root takes no comments, its statements do."""
        statements = tree.children
        out = self._lines(statements, self._statement_group, first=False)
        events = list(self.end)
        while events and events[-1] is None:
            events.pop()
        if not statements and events[:1] == [None]:
            events.pop(0)
        return out + _comment_lines(events)

    @staticmethod
    def _statement_group(stmt: Tree) -> object:
        if stmt.data == "block_stmt":
            return _span(stmt)  # a group of its own: a blank line between two blocks
        return _STATEMENT_GROUPS.get(stmt.data, _LAST_GROUP)

    def model_stmt(self, _tree, *children) -> list:
        return self._words(*children)

    data_stmt = compile_stmt = fit_stmt = evaluate_stmt = model_stmt
    save_stmt = plot_stmt = predict_stmt = param_stmt = model_stmt

    def input_stmt(self, _tree, keyword, name, colon, *rest) -> list:
        return [self.doc(keyword), " ", self.doc(name), self.doc(colon), " ", self._listed(rest)]

    def output_stmt(self, _tree, keyword, *refs) -> list:
        return [self.doc(keyword), " ", self._listed(list(refs))]

    block_input = block_output = output_stmt

    def sequential_stmt(self, _tree, keyword, *block) -> list:
        return [self.doc(keyword), " ", self._block(*block)]

    def graph_stmt(self, _tree, keyword, *block) -> list:
        return [self.doc(keyword), " ", self._block(*block, group=lambda item: item.data)]

    def block_stmt(self, _tree, keyword, name, *rest) -> list:
        """`block name(a, b=1) { ... }`: the parameters like a call's arguments."""
        close = next(i for i, c in enumerate(rest) if _is_token(c, "RPAR"))
        params, body = rest[: close + 1], rest[close + 1 :]
        return [
            self.doc(keyword),
            " ",
            self.doc(name),
            self._bracket(*params),
            " ",
            self._block(*body),
        ]

    # items
    def layer_item(self, _tree, *children) -> list:
        if len(children) == 1:
            return self.doc(children[0])
        name, equal, call = children
        return [self.doc(name), " ", self.doc(equal), " ", self.doc(call)]

    def chain(self, _tree, first, *rest) -> _Group:
        steps = [
            [LINE, self.doc(arrow), " ", self.doc(node)]
            for arrow, node in zip(rest[::2], rest[1::2])
        ]
        return _group(self.doc(first), _Indent(steps))

    def ref(self, _tree, *children) -> list:
        return [self.doc(c) for c in children]

    def node_list(self, _tree, *children) -> _Group:
        return self._bracket(*children)

    list = node_list

    def for_item(self, _tree, keyword, target, in_, iterable, *body) -> list:
        return [self._words(keyword, target, in_, iterable), " ", self._block(*body)]

    def loop_target(self, _tree, *children) -> object:
        return self._bracket(*children) if len(children) > 1 else self.doc(children[0])

    def if_item(self, _tree, keyword, condition, *rest) -> list:
        """`if c { ... }`, then `} else {` or `} else if c {` on the closing brace's line."""
        head = [self._words(keyword, condition), " "]
        if not _is_token(rest[-2], "ELSE"):
            return [*head, self._block(*rest)]
        *body, else_, other = rest
        return [*head, self._block(*body), " ", self.doc(else_), " ", self.doc(other)]

    def else_body(self, _tree, *children) -> list:
        return self._block(*children)

    # values
    def call(self, _tree, name, *rest) -> list:
        return [self.doc(name), self._bracket(*rest)]

    def kwarg(self, _tree, name, equal, value) -> list:
        return [self.doc(name), self.doc(equal), self.doc(value)]

    def entry(self, _tree, key, colon, value) -> list:
        return [self.doc(key), self.doc(colon), " ", self.doc(value)]

    def mapping(self, _tree, *children) -> _Group:
        return self._bracket(*children, mapping=True)

    def tuple(self, _tree, *children) -> _Group:
        return self._bracket(*children, one_tuple=len(children) == 4)

    def binary(self, _tree, left, operator, right) -> list:
        """`a + b`, `a and b`, `i == 1`: one space around the operator, but a fraction of
        numbers is one word: `1/255`, `-1/16`. A comment inside breaks the line, indented."""
        if _is_fraction(_tree):
            return [self.doc(left), self.doc(operator), self.doc(right)]
        return [self.doc(left), _Indent([" ", self.doc(operator), " ", self.doc(right)])]

    compare = and_op = or_op = binary

    def not_op(self, _tree, operator, operand) -> list:
        """`not x`, `-x`: a comment after the operator breaks the line, indented."""
        space = " " if _is_token(operator, "NOT") else ""
        return [self.doc(operator), _Indent([space, self.doc(operand)])]

    unary = not_op

    def paren(self, _tree, open_, value, close) -> _Group:
        """`(a + b)`, as written; inside, one line or the value on a line of its own."""
        closing = [c for c in self._closing(close, after_items=True) if c is not BLANK]
        inner = _Indent([SOFTLINE, self.doc(value), *closing])
        return _group(self.doc(open_), inner, SOFTLINE, self.doc(close))

    number = string = name = true = false = none = block_param = ref


def _is_token(node, kind: str) -> bool:
    return isinstance(node, Token) and node.type == kind


def _is_fraction(node) -> bool:
    """A number, signed or not, or a division of such numbers: `1/255`, `-1/16`."""
    if not isinstance(node, Tree):
        return False
    if node.data == "binary":
        left, operator, right = node.children
        return str(operator) == "/" and _is_fraction(left) and _is_fraction(right)
    return node.data == "number" or node.data == "unary" and _is_fraction(node.children[-1])
