"""Names and positions in a spec: where inputs and layers are defined and used,
and what lies under a cursor. Positions are the IR's: 1-based lines and columns."""

from __future__ import annotations

import re

from msgspec import Struct, field

from nnspec.check.model import CheckedModel, Layer
from nnspec.diagnostics.records import Span
from nnspec.syntax import ir


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
    elif isinstance(node, Struct):
        yield node
        for name in node.__struct_fields__:
            if name != "span":
                yield from walk(getattr(node, name))


class Definition(Struct, frozen=True):
    name: str
    kind: str  # "input" or "layer"
    span: Span  # of the name
    decl: ir.InputDecl | ir.LayerDecl


class LayerSite(Struct, frozen=True):
    """A layer written in the architecture: `head = Dense(10)`, `Dense(10)` or an
    inline call in a chain. `key` is the span the checked model's `Layer` carries."""

    key: Span
    call: ir.Call
    name: str | None  # as written; None for an unnamed layer


class Index(Struct):
    definitions: dict[str, Definition] = field(default_factory=dict)  # the first of each name
    references: dict[str, list[Span]] = field(default_factory=dict)  # names in edges, outputs
    layers: list[LayerSite] = field(default_factory=list)

    def name_at(self, line: int, column: int) -> tuple[str, Span] | None:
        """The input or layer name under the cursor, at its definition or a use."""
        for name, definition in self.definitions.items():
            if contains(definition.span, line, column):
                return name, definition.span
        for name, spans in self.references.items():
            for span in spans:
                if contains(span, line, column):
                    return name, span
        return None

    def layer_at(self, line: int, column: int) -> LayerSite | None:
        """The architecture layer whose declaration holds the cursor."""
        return next((s for s in self.layers if contains(s.key, line, column)), None)


def index(spec: ir.Spec | None, text: str) -> Index:
    """Definitions, references and layer sites of a (possibly partial) spec."""
    found = Index()
    if spec is None:
        return found
    for decl in spec.inputs:
        found.definitions.setdefault(
            decl.name, Definition(decl.name, "input", _input_name_span(decl, text), decl)
        )
    arch = spec.architecture
    if arch is not None:
        for decl in arch.layers:
            found.layers.append(LayerSite(decl.span, decl.call, decl.name))
            if decl.name is not None:
                span = name_span(decl.span, decl.name)
                found.definitions.setdefault(decl.name, Definition(decl.name, "layer", span, decl))
    for node in walk((arch, spec.outputs)):
        if isinstance(node, ir.Ref):
            found.references.setdefault(node.name, []).append(name_span(node.span, node.name))
        elif isinstance(node, ir.Chain):
            found.layers.extend(
                LayerSite(c.span, c, None) for c in node.nodes if isinstance(c, ir.Call)
            )
    return found


def _input_name_span(decl: ir.InputDecl, text: str) -> Span:
    """The name of `input NAME: ...`: the IR keeps only the statement's span."""
    lines = text.split("\n")
    line = lines[decl.span.line - 1] if decl.span.line <= len(lines) else ""
    match = re.compile(r"input\s+(\w+)").match(line, decl.span.column - 1)
    if match is None or match.group(1) != decl.name:
        return decl.span
    return Span(decl.span.line, match.start(1) + 1, decl.span.line, match.end(1) + 1)


def call_at(node, line: int, column: int) -> ir.Call | None:
    """The innermost call under the cursor."""
    calls = [c for c in walk(node) if isinstance(c, ir.Call) and contains(c.span, line, column)]
    return calls[-1] if calls else None


def model_layer(model: CheckedModel | None, site: LayerSite) -> Layer | None:
    """The checked layer declared at `site`."""
    if model is None:
        return None
    return next((layer for layer in model.layers.values() if layer.span == site.key), None)
