"""Names and positions in a spec: where inputs, layers, block ports, parameters,
blocks and loop variables are defined and used, and what lies under a cursor.
Positions are the IR's: 1-based lines and columns.

Names are scoped as the expansion resolves them (`check/expand.py`): a layer or a
port named inside a block is local to the block; in values, a loop variable hides
a block parameter of its name, which hides a spec parameter. The index is built
from the IR as written, never from the expanded model: each name is one place.
"""

from __future__ import annotations

import re

from msgspec import Struct, field

from nnspec.check.model import CheckedModel, Layer
from nnspec.diagnostics.records import Span
from nnspec.syntax import ir

_TOKEN = re.compile(r"\"(?:[^\"\\\n\r]|\\.)*\"|'(?:[^'\\\n\r]|\\.)*'|[A-Za-z_][A-Za-z0-9_]*|\d\w*")
_LOOP_TARGETS = re.compile(r"for\s*(\([^)]*\)|[A-Za-z_]\w*)")
_NAME = re.compile(r"[A-Za-z_]\w*")


def contains(span: Span, line: int, column: int) -> bool:
    """Whether (line, column) lies in `span`, its end included (a cursor after a word)."""
    return (span.line, span.column) <= (line, column) <= (span.end_line, span.end_column)


def name_span(start: Span, name: str) -> Span:
    """The span of `name` written at the start of `start`."""
    return Span(start.line, start.column, start.line, start.column + len(name))


def walk(node):
    """Every IR node inside `node`, `node` first."""
    if isinstance(node, tuple):
        for item in node:
            yield from walk(item)
    elif isinstance(node, Struct) and not isinstance(node, Span):
        yield node
        for name in node.__struct_fields__:
            if name not in ("span", "name_span"):
                yield from walk(getattr(node, name))


class Definition(Struct, frozen=True):
    name: str
    kind: str  # "input", "layer" or "block use"
    span: Span  # of the name
    decl: ir.InputDecl | ir.LayerDecl


class Symbol(Struct):
    """One name in one scope: where it is defined (several places where `if` and
    `else` both define it, none where it never is) and where it is used."""

    name: str  # as written; a quoted name with its quotes: `"conv{n}_block{i}"`
    kind: str  # input, layer, block use, port, parameter, block parameter, loop variable, block
    scope: str | None  # the block a name is local to; None at the top level
    decl: object = None  # the IR node that defines it (the first, where several do)
    definitions: list[Span] = field(default_factory=list)
    references: list[Span] = field(default_factory=list)
    decls: list = field(default_factory=list)  # the node of each definition
    known_as: str = ""  # what it is known by: a quoted name without its quotes

    def decl_at(self, span: Span):
        """The node defined at `span`, one of `definitions`."""
        return next(d for s, d in zip(self.definitions, self.decls) if s is span)


class LayerSite(Struct, frozen=True):
    """A layer item (`head = Dense(10)`, `Dense(10)`, `"b{i}" = res(64)`) or an inline
    call in a chain, in the architecture or a block. `key` is the span whose position
    the checked layers it made carry (and the span of the uses a block call made)."""

    key: Span
    call: ir.Call
    name: str | ir.Template | None  # as written; None for an unnamed layer
    block: str | None = None  # the block whose body holds it
    label: str | None = None  # the name as written, quotes included
    name_span: Span | None = None


def source_text(lines: list[str], span: Span) -> str:
    """The text of `span` in `lines`."""
    if span.line == span.end_line:
        return lines[span.line - 1][span.column - 1 : span.end_column - 1]
    head = lines[span.line - 1][span.column - 1 :]
    middle = lines[span.line : span.end_line - 1]
    tail = lines[span.end_line - 1][: span.end_column - 1]
    return "\n".join([head, *middle, tail])


def one_line(text: str) -> str:
    """Spec text written over several lines, on one: `[(1, 2), (3, 4)]`."""
    text = re.sub(r"\s+", " ", text.strip())
    text = re.sub(r"([\[({]) ", r"\1", text)
    text = re.sub(r" ([\])}])", r"\1", text)
    return re.sub(r",([\]}])", r"\1", text)  # a trailing comma; `(1,)` keeps its own


class Index(Struct):
    lines: list[str] = field(default_factory=list)
    symbols: list[Symbol] = field(default_factory=list)
    layers: list[LayerSite] = field(default_factory=list)
    blocks: dict[str, ir.Block] = field(default_factory=dict)  # the first of each name
    params: dict[str, ir.ParamDecl] = field(default_factory=dict)  # the first of each name

    @property
    def definitions(self) -> dict[str, Definition]:
        """The inputs and layers of the top level, by name (the first of each)."""
        found: dict[str, Definition] = {}
        for s in self.symbols:
            if s.scope is None and s.kind in _NODE_KINDS and s.definitions:
                name = s.known_as
                found.setdefault(name, Definition(name, s.kind, s.definitions[0], s.decl))
        return found

    def source(self, span: Span) -> str:
        """The text of `span`, on one line."""
        return one_line(source_text(self.lines, span))

    def local(self, block: str) -> list[Symbol]:
        """The ports and layers named in `block`'s body."""
        return [s for s in self.symbols if s.scope == block and s.kind in _NODE_KINDS + ("port",)]

    def loop_variables(self, line: int, column: int) -> list[Symbol]:
        """The loop variables of the loops around (line, column)."""
        return [
            s
            for s in self.symbols
            if s.kind == "loop variable" and contains(s.decl.span, line, column)
        ]

    def name_at(self, line: int, column: int) -> tuple[Symbol, Span] | None:
        """The name under the cursor, at a definition or a use: the narrowest span
        holding it (a loop variable inside a name template, not the template)."""
        best = None
        for symbol in self.symbols:
            for span in (*symbol.definitions, *symbol.references):
                if contains(span, line, column) and (best is None or _narrower(span, best[1])):
                    best = symbol, span
        return best

    def layer_at(self, line: int, column: int) -> LayerSite | None:
        """The layer item whose declaration holds the cursor."""
        return next((s for s in self.layers if contains(s.key, line, column)), None)

    def is_definition(self, symbol: Symbol, span: Span) -> bool:
        return any(d is span for d in symbol.definitions)


_NODE_KINDS = ("input", "layer", "block use")


def _narrower(span: Span, than: Span) -> bool:
    size = (span.end_line - span.line, span.end_column - span.column)
    return size < (than.end_line - than.line, than.end_column - than.column)


def index(spec: ir.Spec | None, text: str) -> Index:
    """Definitions, references and layer sites of a (possibly partial) spec."""
    found = Index(text.split("\n"))
    if spec is not None:
        _Indexer(spec, text, found).run()
    return found


class _Indexer:
    def __init__(self, spec: ir.Spec, text: str, found: Index):
        self.spec = spec
        self.lines = found.lines
        self.found = found
        self.table: dict[tuple, Symbol] = {}
        for block in spec.blocks:
            found.blocks.setdefault(block.name, block)
        for param in spec.params:
            found.params.setdefault(param.name, param)

    def symbol(self, key: tuple, name: str, kind: str, scope: str | None) -> Symbol:
        if key not in self.table:
            self.table[key] = Symbol(name, kind, scope, known_as=key[2])
            self.found.symbols.append(self.table[key])
        return self.table[key]

    def define(self, key, name, kind, scope, span: Span | None, decl) -> None:
        symbol = self.symbol(key, name, kind, scope)
        if symbol.decl is None:
            symbol.kind, symbol.decl = kind, decl
        if span is not None:
            symbol.definitions.append(span)
            symbol.decls.append(decl)

    def refer(self, key: tuple, name: str, kind: str, scope: str | None, span: Span) -> None:
        self.symbol(key, name, kind, scope).references.append(span)

    # ---- the spec ------------------------------------------------------------------

    def run(self) -> None:
        spec = self.spec
        env: dict[str, tuple] = {}
        for param in spec.params:
            key = ("param", None, param.name)
            self.define(key, param.name, "parameter", None, param.name_span, param)
            env.setdefault(param.name, key)
        for param in spec.params:
            self.values(param.value, env)
        for decl in spec.inputs:
            span = self.input_name(decl)
            self.define(("node", None, decl.name), decl.name, "input", None, span, decl)
            self.values((decl.shape, decl.kwargs), env)
        for block in spec.blocks:
            self.block(block, env)
        if spec.architecture is not None:
            self.body(spec.architecture.items, None, env)
        if spec.outputs is not None:
            for ref in spec.outputs.refs:
                self.ref(ref, None, env)
        self.values((spec.data, spec.compile, spec.fit, spec.actions), env)

    def block(self, block: ir.Block, env: dict[str, tuple]) -> None:
        if block.name_span is not None:
            key = ("block", None, block.name)
            self.define(key, block.name, "block", None, block.name_span, block)
        inner = dict(env)
        for param in block.params:
            key = ("param", block.name, param.name)
            self.define(key, param.name, "block parameter", block.name, param.span, param)
            inner[param.name] = key
            if param.default is not None:
                self.values(param.default, env)
        self.body(block.items, block.name, inner)

    # ---- bodies ----------------------------------------------------------------------

    def body(self, items, scope: str | None, env: dict[str, tuple]) -> None:
        """The items of a body: layers, loops and conditions first, then chains (a
        graph may name a layer after the edge that uses it)."""
        for item in items:
            if not isinstance(item, ir.Chain):
                self.item(item, scope, env)
        for item in items:
            if isinstance(item, ir.Chain):
                self.chain(item, scope, env)

    def item(self, item, scope: str | None, env: dict[str, tuple]) -> None:
        if isinstance(item, ir.LayerDecl):
            self.layer(item, scope, env)
        elif isinstance(item, ir.For):
            self.values(item.iterable, env)
            inner = dict(env)
            for name, span in zip(item.targets, self.loop_targets(item)):
                key = ("loop", id(item), name)
                self.define(key, name, "loop variable", scope, span, item)
                inner[name] = key
            self.body(item.items, scope, inner)
        elif isinstance(item, ir.If):
            self.values(item.condition, env)
            self.body(item.then, scope, env)
            self.body(item.otherwise, scope, env)
        elif isinstance(item, ir.Ports):
            for ref in item.refs:
                if item.keyword == "input":
                    label, span = self.name_of(ref.name, ref.span)
                    key = ("node", scope, _key(ref.name, label))
                    self.define(key, label, "port", scope, span, item)
                else:
                    self.ref(ref, scope, env)

    def layer(self, decl: ir.LayerDecl, scope: str | None, env: dict[str, tuple]) -> None:
        label = span = None
        if decl.name is not None:
            label, span = self.name_of(decl.name, decl.span)
            kind = "block use" if decl.call.name in self.found.blocks else "layer"
            self.define(("node", scope, _key(decl.name, label)), label, kind, scope, span, decl)
            self.values(decl.name, env)
        self.found.layers.append(LayerSite(decl.span, decl.call, decl.name, scope, label, span))
        self.values(decl.call, env)

    def chain(self, chain: ir.Chain, scope: str | None, env: dict[str, tuple]) -> None:
        for node in chain.nodes:
            if isinstance(node, ir.Call):
                self.found.layers.append(LayerSite(node.span, node, None, scope))
                self.values(node, env)
            else:
                for ref in node.refs if isinstance(node, ir.RefList) else (node,):
                    self.ref(ref, scope, env)

    def ref(self, ref: ir.Ref, scope: str | None, env: dict[str, tuple]) -> None:
        label, span = self.name_of(ref.name, ref.span)
        self.refer(("node", scope, _key(ref.name, label)), label, "layer", scope, span)
        self.values(ref.name, env)

    def values(self, node, env: dict[str, tuple]) -> None:
        """The parameters, loop variables and blocks that values under `node` use."""
        for n in walk(node):
            if isinstance(n, ir.Ident) and n.name in env:
                key = env[n.name]
                self.refer(key, n.name, "parameter", key[1] if key[0] == "param" else None, n.span)
            elif isinstance(n, ir.Call) and n.name in self.found.blocks:
                block = self.found.blocks[n.name]
                self.refer(("block", None, n.name), n.name, "block", None, n.name_span)
                for kwarg in n.kwargs:
                    if any(p.name == kwarg.name for p in block.params):
                        key = ("param", block.name, kwarg.name)
                        self.refer(key, kwarg.name, "block parameter", block.name, kwarg.span)

    # ---- where names are written ---------------------------------------------------------

    def name_of(self, name: str | ir.Template, start: Span) -> tuple[str, Span]:
        """A layer name as written (a quoted one with its quotes) and its span: the
        token at the start of `start`."""
        if isinstance(name, ir.Template):
            return self.text(name.span), name.span
        line = self.lines[start.line - 1] if 0 < start.line <= len(self.lines) else ""
        match = _TOKEN.match(line, start.column - 1)
        if match is None or match.group().strip("\"'") != name:
            return name, name_span(start, name)
        span = Span(start.line, match.start() + 1, start.line, match.end() + 1)
        return match.group(), span

    def text(self, span: Span) -> str:
        line = self.lines[span.line - 1] if 0 < span.line <= len(self.lines) else ""
        return line[span.column - 1 : span.end_column - 1] if span.line == span.end_line else ""

    def input_name(self, decl: ir.InputDecl) -> Span:
        """The name of `input NAME: ...`: the IR keeps only the statement's span."""
        line = self.lines[decl.span.line - 1] if decl.span.line <= len(self.lines) else ""
        match = re.compile(r"input\s+(\w+)").match(line, decl.span.column - 1)
        if match is None or match.group(1) != decl.name:
            return decl.span
        return Span(decl.span.line, match.start(1) + 1, decl.span.line, match.end(1) + 1)

    def loop_targets(self, loop: ir.For) -> list[Span | None]:
        """The names after `for`, where they are on the loop's first line."""
        line = self.lines[loop.span.line - 1] if loop.span.line <= len(self.lines) else ""
        match = _LOOP_TARGETS.match(line, loop.span.column - 1)
        if match is None:
            return [None] * len(loop.targets)
        found = {m.group(): m for m in _NAME.finditer(line, match.start(1), match.end(1))}
        row = loop.span.line
        return [
            Span(row, found[t].start() + 1, row, found[t].end() + 1) if t in found else None
            for t in loop.targets
        ]


def _key(name: str | ir.Template, label: str) -> str:
    """What a layer name is known by: itself, quoted or not; a template by its text."""
    return name if isinstance(name, str) else label


def call_at(node, line: int, column: int) -> ir.Call | None:
    """The innermost call under the cursor."""
    calls = [c for c in walk(node) if isinstance(c, ir.Call) and contains(c.span, line, column)]
    return calls[-1] if calls else None


def model_layer(model: CheckedModel | None, site: LayerSite) -> Layer | None:
    """The checked layer declared at `site`."""
    if model is None:
        return None
    return next((layer for layer in model.layers.values() if layer.span == site.key), None)
