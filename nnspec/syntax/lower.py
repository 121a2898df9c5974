"""Parse tree -> IR. Reports statements given twice and malformed literals."""

from __future__ import annotations

import ast
import re
import warnings

import msgspec
from lark import Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedInput

from nnspec.diagnostics.records import Diagnostic, Span
from nnspec.syntax import ir
from nnspec.syntax.operators import OperatorError, compute
from nnspec.syntax.parser import lark_parser, token_span


def _span(meta) -> Span:
    if meta.end_line is None:  # a token copied during error recovery lost its end
        return Span(meta.line, meta.column, meta.line, meta.column + 1)
    return Span(meta.line, meta.column, meta.end_line, meta.end_column)


def _number(tok: Token) -> int | float:
    text = str(tok)
    return int(text) if text.lstrip("+-").isdigit() else float(text)


def _string(tok: Token, diagnostics: list[Diagnostic] | None = None) -> str:
    """The value of a string literal; a bad escape is reported, the raw text kept."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return ast.literal_eval(str(tok))
    except (SyntaxError, ValueError, Warning):
        if diagnostics is not None:
            diagnostics.append(
                Diagnostic(
                    "E002",
                    "invalid escape sequence or character in string",
                    token_span(tok),
                    ("write a backslash as `\\\\`, or use forward slashes in paths",),
                )
            )
        return str(tok)[1:-1]


class _Else(tuple):
    """The items of an `else { ... }` body, until its `if` takes them."""


@v_args(meta=True)
class _ToIR(Transformer):
    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__()
        self.diagnostics = diagnostics
        self.flat = True  # nothing for `expand` to do
        self.literals: set[tuple] = set()  # where a number is written alone
        self.one_tuples: dict[int, Diagnostic] = {}  # `(20)`, reported unless an operand

    def _whole(self, tok: Token, what: str) -> int:
        value = _number(tok)
        if not isinstance(value, int):
            self.diagnostics.append(
                Diagnostic("E005", f"{what} must be a whole number, found `{tok}`", token_span(tok))
            )
            return 0
        return value

    # values
    def number(self, meta, children):
        const = ir.Const(_number(children[0]), _span(meta))
        self.literals.add(const.span.position)
        return const

    def _operation(self, op: str, operands: tuple, meta) -> ir.Value:
        """An operation; folded to its value when every operand is a literal and it has
        one (else `expand` reports it where it is used)."""
        span = _span(meta)
        operands = tuple(self._operand(o) for o in operands)
        if all(isinstance(o, ir.Const) for o in operands):
            try:
                return ir.Const(compute(op, tuple(o.value for o in operands)), span)
            except OperatorError:
                pass
        self.flat = False
        return ir.Operation(op, operands, span)

    def paren(self, meta, children):
        """`(a + b)`; `(20)` is the mistake Python users know: a tuple needs its comma."""
        (value,) = children
        if isinstance(value, ir.Const) and value.span.position in self.literals:
            end = _span(meta)
            at = Span(end.end_line, end.end_column - 1, end.end_line, end.end_column)
            hint = "a tuple of one value needs a trailing comma, as in Python: "
            shown = f"({value.value!r},)" if not isinstance(value.value, str) else "(...,)"
            diagnostic = Diagnostic(
                "E001", "unexpected ')'; expected ','", at, (hint + f"`{shown}`",)
            )
            self.diagnostics.append(diagnostic)
            seq = ir.Seq((value,), False, _span(meta))
            self.one_tuples[id(seq)] = diagnostic
            return seq
        return value

    def _operand(self, value: ir.Value) -> ir.Value:
        """`(2)` in `(2) * x` is a number after all: its E001 is taken back."""
        diagnostic = self.one_tuples.pop(id(value), None)
        if diagnostic is None:
            return value
        self.diagnostics.remove(diagnostic)
        return value.items[0]

    def binary(self, meta, children):
        left, op, right = children
        return self._operation(str(op), (left, right), meta)

    compare = binary

    def unary(self, meta, children):
        op, operand = children
        return self._operation(str(op), (operand,), meta)

    def and_op(self, meta, children):
        return self._operation("and", tuple(children), meta)

    def or_op(self, meta, children):
        return self._operation("or", tuple(children), meta)

    def not_op(self, meta, children):
        return self._operation("not", tuple(children), meta)

    def string(self, meta, children):
        return ir.Const(_string(children[0], self.diagnostics), _span(meta))

    def true(self, meta, _):
        return ir.Const(True, _span(meta))

    def false(self, meta, _):
        return ir.Const(False, _span(meta))

    def none(self, meta, _):
        return ir.Const(None, _span(meta))

    def name(self, meta, children):
        return ir.Ident(str(children[0]), _span(meta))

    def tuple(self, meta, children):
        return ir.Seq(tuple(c for c in children if c is not None), False, _span(meta))

    def list(self, meta, children):
        return ir.Seq(tuple(c for c in children if c is not None), True, _span(meta))

    def entry(self, meta, children):
        key, value = children
        if key.type == "STRING":
            k: str | int = _string(key, self.diagnostics)
        elif key.type == "NUMBER":
            k = self._whole(key, "a key")
        else:
            k = str(key)
        return ir.Entry(k, value, token_span(key))

    def mapping(self, meta, children):
        return ir.Mapping(tuple(c for c in children if c is not None), _span(meta))

    def kwarg(self, meta, children):
        name, value = children
        return ir.Kwarg(str(name), value, token_span(name))

    def call(self, meta, children):
        name, *args = (c for c in children if c is not None)
        positional = tuple(a for a in args if not isinstance(a, ir.Kwarg))
        keywords = tuple(a for a in args if isinstance(a, ir.Kwarg))
        return ir.Call(str(name), positional, keywords, _span(meta), token_span(name))

    # graph pieces
    def _layer_name(self, tok: Token) -> str | ir.Template:
        """A layer name: a NAME, or a string, which may be a template."""
        if tok.type == "NAME":
            return str(tok)
        text, span = _string(tok, self.diagnostics), token_span(tok)
        if "{" in text or "}" in text:
            self.flat = False
            return _template(text, span, self.diagnostics)
        if not _NAME.fullmatch(text):
            self.diagnostics.append(Diagnostic("E006", f"invalid layer name {tok}", span, _NAMING))
        return text

    def ref(self, meta, children):
        name, index = children
        idx = None if index is None else self._whole(index, "an output index")
        return ir.Ref(self._layer_name(name), idx, _span(meta))

    def node_list(self, meta, children):
        return ir.RefList(tuple(c for c in children if c is not None), _span(meta))

    def chain(self, meta, children):
        return ir.Chain(tuple(children), _span(meta))

    def layer_item(self, meta, children):
        name, call = children
        return ir.LayerDecl(None if name is None else self._layer_name(name), call, _span(meta))

    # parameters, blocks, loops, conditions
    def param_stmt(self, meta, children):
        name, value = children
        self.flat = False
        return ir.ParamDecl(str(name), value, _span(meta), token_span(name))

    def block_param(self, meta, children):
        name, default = children
        return ir.BlockParam(str(name), default, token_span(name))

    def block_stmt(self, meta, children):
        name, *rest = children
        params = tuple(c for c in rest if isinstance(c, ir.BlockParam))
        items = tuple(c for c in rest if c is not None and not isinstance(c, ir.BlockParam))
        self.flat = False
        return ir.Block(items, _span(meta), str(name), params, token_span(name))

    def loop_target(self, meta, children):
        return tuple(str(c) for c in children if c is not None)

    def for_item(self, meta, children):
        targets, iterable, *items = children
        self.flat = False
        return ir.For(targets, iterable, tuple(items), _span(meta))

    def else_body(self, meta, children):
        return _Else(children)

    def if_item(self, meta, children):
        condition, *items, otherwise = children
        if isinstance(otherwise, ir.If):
            otherwise = (otherwise,)
        self.flat = False
        return ir.If(condition, tuple(items), tuple(otherwise or ()), _span(meta))

    def block_input(self, meta, children):
        self.flat = False
        refs = tuple(ir.Ref(str(t), None, token_span(t)) for t in children)
        return ir.Ports("input", refs, _span(meta))

    def block_output(self, meta, children):
        self.flat = False
        return ir.Ports("output", tuple(children), _span(meta))

    # statements
    def model_stmt(self, meta, children):
        name, desc = children
        description = None if desc is None else _string(desc, self.diagnostics)
        return ir.ModelDecl(str(name), description, _span(meta))

    def data_stmt(self, meta, children):
        source, settings = children
        if isinstance(source, ir.Ident):
            source = ir.Call(source.name, (), (), source.span, source.span)
        return ir.DataDecl(source, settings, _span(meta))

    def input_stmt(self, meta, children):
        name, shape, *kwargs = children
        return ir.InputDecl(str(name), shape, tuple(kwargs), _span(meta))

    def output_stmt(self, meta, children):
        return ir.OutputDecl(tuple(children), _span(meta))

    def sequential_stmt(self, meta, children):
        return ir.Sequential(tuple(children), _span(meta))

    def graph_stmt(self, meta, children):
        return ir.Graph(tuple(children), _span(meta))

    def compile_stmt(self, meta, children):
        return ir.Settings("compile", children[0], _span(meta))

    def fit_stmt(self, meta, children):
        return ir.Settings("fit", children[0], _span(meta))

    def evaluate_stmt(self, meta, children):
        return ir.Action("evaluate", None, children[0], _span(meta))

    def _path_action(self, keyword, meta, children):
        path = children[0]
        text = None if path is None else _string(path, self.diagnostics)
        return ir.Action(keyword, text, None, _span(meta))

    def save_stmt(self, meta, children):
        return self._path_action("save", meta, children)

    def plot_stmt(self, meta, children):
        return self._path_action("plot", meta, children)

    def predict_stmt(self, meta, children):
        return self._path_action("predict", meta, children)


_SINGLE = {
    ir.ModelDecl: ("model", "model"),
    ir.DataDecl: ("data", "data"),
    ir.OutputDecl: ("outputs", "output"),
}


_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_NAMING = ("a layer name holds letters, digits, `_`, `.` and `-`",)
_FIELD = re.compile(r"\{([^{}]*)\}")


def _template(text: str, span: Span, diagnostics: list[Diagnostic]) -> ir.Template:
    """`"block{i}"` as text and values; each `{...}` holds one expression."""
    parts: list = []
    at = 0
    before = len(diagnostics)
    for m in _FIELD.finditer(text):
        parts.append(text[at : m.start()])
        column = span.column + 1 + m.start(1)
        field_span = Span(span.line, column, span.line, column + max(1, len(m[1])))
        parts.append(_field(m[1], field_span, diagnostics))
        at = m.end()
    parts.append(text[at:])
    if any("{" in p or "}" in p for p in parts if isinstance(p, str)):
        hint = 'each `{...}` in a name holds one expression, e.g. `"block{i}"`'
        diagnostics.append(
            Diagnostic("E006", "unbalanced `{` or `}` in a layer name", span, (hint,))
        )
    kept = tuple(p for p in parts if not isinstance(p, str) or p)
    return ir.Template(kept, span, broken=len(diagnostics) > before)


def _field(text: str, span: Span, diagnostics: list[Diagnostic]) -> ir.Value:
    """The expression of one `{...}` of a template, with spans in the spec's text."""
    try:
        tree = lark_parser().parse(f"param _ = {text}")
        statement = _ToIR(diagnostics).transform(tree).children[0]
    except (UnexpectedInput, IndexError, AttributeError):
        diagnostics.append(
            Diagnostic("E006", f"`{{{text}}}` in a layer name is not an expression", span)
        )
        return ir.Const("", span)
    return _moved(statement.value, span.line, span.column - len("param _ = ") - 1)


def _moved(node, line: int, shift: int):
    """`node` with every span moved from line 1 to `line`, `shift` columns right."""
    if isinstance(node, tuple):
        return tuple(_moved(n, line, shift) for n in node)
    if not hasattr(node, "__struct_fields__"):
        return node
    changes = {}
    for name in node.__struct_fields__:
        value = getattr(node, name)
        if isinstance(value, Span):
            changes[name] = Span(line, value.column + shift, line, value.end_column + shift)
        elif isinstance(value, tuple) or hasattr(value, "__struct_fields__"):
            changes[name] = _moved(value, line, shift)
    return msgspec.structs.replace(node, **changes)


def lower(tree: Tree, diagnostics: list[Diagnostic]) -> ir.Spec:
    """Turn a parse tree into a `Spec`, appending any diagnostics."""
    transformer = _ToIR(diagnostics)
    statements = transformer.transform(tree).children
    fields: dict[str, object] = {}
    inputs, actions, params, blocks = [], [], [], []

    def once(field: str, keyword: str, stmt) -> None:
        if field in fields:
            first = fields[field]
            diagnostics.append(
                Diagnostic(
                    "E208" if field == "architecture" else "E004",
                    f"`{keyword}` given twice",
                    stmt.span,
                    (f"first given at line {first.span.line}",),
                )
            )
        else:
            fields[field] = stmt

    for stmt in statements:
        if isinstance(stmt, ir.InputDecl):
            inputs.append(stmt)
        elif isinstance(stmt, ir.ParamDecl):
            params.append(stmt)
        elif isinstance(stmt, ir.Block):
            blocks.append(stmt)
        elif isinstance(stmt, ir.Action):
            actions.append(stmt)
        elif isinstance(stmt, (ir.Sequential, ir.Graph)):
            once("architecture", "sequential` or `graph", stmt)
        elif isinstance(stmt, ir.Settings):
            once(stmt.keyword, stmt.keyword, stmt)
        else:
            field, keyword = _SINGLE[type(stmt)]
            once(field, keyword, stmt)
    end = statements[-1].span if statements else Span(1, 1, 1, 1)
    return ir.Spec(
        model=fields.get("model"),
        data=fields.get("data"),
        inputs=tuple(inputs),
        outputs=fields.get("outputs"),
        architecture=fields.get("architecture"),
        compile=fields.get("compile"),
        fit=fields.get("fit"),
        actions=tuple(actions),
        span=Span(1, 1, end.end_line, end.end_column),
        params=tuple(params),
        blocks=tuple(blocks),
        flat=transformer.flat,
    )
