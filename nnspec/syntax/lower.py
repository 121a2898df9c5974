"""Parse tree -> IR. Reports statements given twice and malformed literals."""

from __future__ import annotations

import ast
import warnings

from lark import Token, Transformer, Tree, v_args

from nnspec.diagnostics.records import Diagnostic, Span
from nnspec.syntax import ir
from nnspec.syntax.parser import token_span


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


@v_args(meta=True)
class _ToIR(Transformer):
    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__()
        self.diagnostics = diagnostics

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
        return ir.Const(_number(children[0]), _span(meta))

    def fraction(self, meta, children):
        num, den = (_number(t) for t in children)
        if den == 0:
            self.diagnostics.append(Diagnostic("E106", "division by zero", _span(meta)))
            return ir.Const(0.0, _span(meta))
        return ir.Const(num / den, _span(meta))

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
        elif key.type == "SIGNED_NUMBER":
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
    def ref(self, meta, children):
        name, index = children
        idx = None if index is None else self._whole(index, "an output index")
        return ir.Ref(str(name), idx, _span(meta))

    def node_list(self, meta, children):
        return ir.RefList(tuple(c for c in children if c is not None), _span(meta))

    def chain(self, meta, children):
        return ir.Chain(tuple(children), _span(meta))

    def layer_item(self, meta, children):
        name, call = children
        return ir.LayerDecl(None if name is None else str(name), call, _span(meta))

    def layer_def(self, meta, children):
        name, call = children
        return ir.LayerDecl(str(name), call, _span(meta))

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
        layers = tuple(c for c in children if isinstance(c, ir.LayerDecl))
        chains = tuple(c for c in children if isinstance(c, ir.Chain))
        return ir.Graph(layers, chains, _span(meta))

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


def lower(tree: Tree, diagnostics: list[Diagnostic]) -> ir.Spec:
    """Turn a parse tree into a `Spec`, appending any diagnostics."""
    statements = _ToIR(diagnostics).transform(tree).children
    fields: dict[str, object] = {}
    inputs, actions = [], []

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
    )
