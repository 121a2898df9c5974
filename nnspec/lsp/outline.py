"""The outline (document symbols): model, data, parameters, inputs, blocks with their
layers, the architecture with its layers, output, compile, fit and actions."""

from __future__ import annotations

from collections.abc import Callable

from lsprotocol import types

from nnspec.diagnostics.records import Span
from nnspec.lsp.analysis import Analysis
from nnspec.lsp.hover_blocks import block_signature
from nnspec.lsp.symbols import LayerSite
from nnspec.syntax import ir

Kind = types.SymbolKind


class _Outline:
    def __init__(self, analysis: Analysis, to_range: Callable[[Span], types.Range]):
        self.analysis = analysis
        self.to_range = to_range

    def symbol(self, name, kind, span, detail=None, selection=None, children=None):
        return types.DocumentSymbol(
            name=name,
            kind=kind,
            range=self.to_range(span),
            selection_range=self.to_range(selection or span),
            detail=detail,
            children=children,
        )

    def layers(self, block: str | None) -> list[types.DocumentSymbol] | None:
        """The layer items of a body, block uses included, in the index's order."""
        found = []
        for site in self.analysis.index.layers:
            if site.block == block:
                name, selection = self.layer_name(site)
                found.append(self.symbol(name, Kind.Function, site.key, site.call.name, selection))
        return found or None

    def layer_name(self, site: LayerSite) -> tuple[str, Span]:
        """A layer's name as written; for an unnamed top-level layer, the name the
        model gave it (where one layer has it), else its type."""
        selection = site.name_span or site.call.name_span
        if site.name is not None:
            return site.name if isinstance(site.name, str) else site.label, selection
        made = self.analysis.instances
        layers = made.of_item(site.key) if made is not None and site.block is None else []
        return layers[0].name if len(layers) == 1 else site.call.name, selection


def outline(
    analysis: Analysis, to_range: Callable[[Span], types.Range]
) -> list[types.DocumentSymbol]:
    spec = analysis.result.spec
    if spec is None:
        return []
    o = _Outline(analysis, to_range)
    out = []
    if spec.model is not None:
        out.append(o.symbol(spec.model.name, Kind.Module, spec.model.span, spec.model.description))
    if spec.data is not None:
        source = spec.data.source
        out.append(o.symbol(f"data {source.name}", Kind.Package, spec.data.span, None, source.span))
    for param in spec.params:
        value = analysis.index.source(param.value.span)
        out.append(o.symbol(param.name, Kind.Constant, param.span, value, param.name_span))
    for name, definition in analysis.index.definitions.items():
        if definition.kind == "input":
            decl = definition.decl
            shape = analysis.source(decl.shape.span)
            out.append(o.symbol(name, Kind.Variable, decl.span, shape, definition.span))
    for block in spec.blocks:
        detail = block_signature(analysis, block)[len(block.name) :]
        children = o.layers(block.name)
        out.append(o.symbol(block.name, Kind.Class, block.span, detail, block.name_span, children))
    arch = spec.architecture
    if arch is not None:
        keyword = "sequential" if isinstance(arch, ir.Sequential) else "graph"
        out.append(o.symbol(keyword, Kind.Namespace, arch.span, children=o.layers(None)))
    if spec.outputs is not None:
        names = ", ".join(
            r.name if isinstance(r.name, str) else analysis.source(r.name.span)
            for r in spec.outputs.refs
        )
        out.append(o.symbol("output", Kind.Field, spec.outputs.span, names))
    for settings in (spec.compile, spec.fit):
        if settings is not None:
            out.append(o.symbol(settings.keyword, Kind.Struct, settings.span))
    for action in spec.actions:
        out.append(o.symbol(action.keyword, Kind.Event, action.span, action.path))
    return sorted(out, key=lambda s: (s.range.start.line, s.range.start.character))
