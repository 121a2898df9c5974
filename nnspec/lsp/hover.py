"""Hover text: what a layer, input, argument, setting or callee under the cursor is."""

from __future__ import annotations

import re

from nnspec.check.model import CheckedModel, Layer
from nnspec.diagnostics.records import Span
from nnspec.lsp import hover_blocks
from nnspec.lsp.analysis import BLOCK_SETTINGS, Analysis, Document, callee
from nnspec.lsp.instances import MAX_LISTED, count, listed
from nnspec.lsp.symbols import LayerSite, Symbol, call_at, contains, walk
from nnspec.syntax import ir
from nnspec.vocab.keras_layers import unsupported_layer
from nnspec.vocab.layers.registry import LAYERS, show
from nnspec.vocab.params import Param
from nnspec.vocab.values import show_value


def hover(doc: Document, line: int, column: int) -> tuple[str, Span] | None:
    """Markdown describing what lies at (line, column), and the span it covers."""
    spec = doc.current.result.spec
    found = _in_spec(doc, spec, line, column) if spec is not None else None
    return found or _by_name(doc, line, column)


def _by_name(doc: Document, line: int, column: int) -> tuple[str, Span] | None:
    """While the text is too broken to place the cursor in the spec: the word at
    the cursor, if it names an input or a layer of the last good model."""
    found = doc.current.word_at(line, column)
    if found is None or doc.last_good is None:
        return None
    name, span = found
    text = _input(doc, name) or _named_layer(doc, name)
    return (text, span) if text else None


def _in_spec(doc: Document, spec: ir.Spec, line: int, column: int) -> tuple[str, Span] | None:
    current = doc.current
    named = current.index.name_at(line, column)
    if named is not None and (named[0].kind != "block" or current.index.is_definition(*named)):
        text = _named(doc, *named)
        return (text, named[1]) if text else None
    call = call_at(spec, line, column)
    if call is not None and contains(call.name_span, line, column):
        site = current.index.layer_at(line, column)
        if site is not None and site.call is call:
            return _site(doc, site), call.name_span
        if call.name in current.index.blocks:
            return hover_blocks.definition(current, current.index.blocks[call.name]), call.name_span
        if callee(call.name) is not None:
            return _callee(current, call), call.name_span
    if call is not None and callee(call.name) is not None:
        for kw in call.kwargs:
            if contains(kw.span, line, column):
                param = _param(callee(call.name)[1].params, kw.name)
                if param is not None:
                    return f"`{kw.name}` of {call.name}: {_describe(param)}", kw.span
    for keyword, mapping in _settings_blocks(spec):
        for entry in mapping.entries:
            if contains(entry.span, line, column):
                param = _param(BLOCK_SETTINGS[keyword], str(entry.key))
                if param is not None:
                    return f"`{entry.key}` of `{keyword}`: {_describe(param)}", entry.span
    for node in walk(spec):
        if (
            isinstance(node, ir.Ident)
            and contains(node.span, line, column)
            and callee(node.name) is not None
            and node.name not in LAYERS
        ):
            return _callee(current, ir.Call(node.name, (), (), node.span, node.span)), node.span
    return None


def _settings_blocks(spec: ir.Spec):
    for block in (spec.compile, spec.fit):
        if block is not None:
            yield block.keyword, block.mapping
    if spec.data is not None and spec.data.settings is not None:
        yield "data", spec.data.settings
    for action in spec.actions:
        if action.settings is not None:
            yield action.keyword, action.settings


def _input(doc: Document, name: str) -> str | None:
    definition = doc.current.index.definitions.get(name)
    node = doc.input(name)
    if node is None:
        return f"**{name}**: input" if definition and definition.kind == "input" else None
    return f"**{name}**: input · shape `{show(node.shape)}` · `{node.dtype}`"


def _named(doc: Document, symbol: Symbol, span: Span) -> str | None:
    """A name under the cursor, where it is defined or used."""
    current = doc.current
    if symbol.kind == "block" and isinstance(symbol.decl, ir.Block):
        return hover_blocks.definition(current, symbol.decl)
    here = current.index.is_definition(symbol, span)
    if here and isinstance(symbol.decl_at(span), ir.InputDecl):
        return _input(doc, symbol.known_as)
    # at a definition, its layer; at a use, each layer the name may stand for
    # (`if` and `else` may both define it)
    decls = [symbol.decl_at(span)] if here else symbol.decls
    spans = [d.span for d in decls if isinstance(d, ir.LayerDecl)]
    if spans:
        text = _input(doc, symbol.known_as) if symbol.scope is None and not here else None
        sites = [s for s in current.index.layers if any(s.key is k for k in spans)]
        return text or "\n\n---\n\n".join(_site(doc, site) for site in sites) or None
    if symbol.scope is None and symbol.kind in ("input", "layer", "block use"):
        return _input(doc, symbol.known_as) or _named_layer(doc, symbol.known_as)
    return hover_blocks.named(current, symbol)


def _site_of(analysis: Analysis, decl: ir.LayerDecl) -> LayerSite | None:
    return next((s for s in analysis.index.layers if s.key is decl.span), None)


def _site(doc: Document, site: LayerSite) -> str:
    """A layer item or a block use, with what the checked model made of it."""
    block = doc.current.index.blocks.get(site.call.name)
    if block is not None:
        return hover_blocks.use(doc.current, site, block)
    name = site.name if isinstance(site.name, str) else site.label
    return _layer(doc.current, site.call, doc.instances(site), name)


def _named_layer(doc: Document, name: str) -> str | None:
    definition = doc.current.index.definitions.get(name)
    if definition is None:
        found = doc.named_layer(name)
        return _summary(name, found) if found else None
    site = _site_of(doc.current, definition.decl)
    return _site(doc, site) if site else None


def _layer(
    analysis: Analysis,
    call: ir.Call,
    checked: tuple[CheckedModel, list[Layer]] | None,
    name: str | None,
) -> str:
    layer_type = LAYERS.get(call.name)
    if layer_type is None:
        unsupported = unsupported_layer(call.name)
        return unsupported[0] if unsupported else f"`{call.name}`: unknown layer type"
    if checked is not None and checked[1][0].call.type is not layer_type:
        checked = None  # the last good model had another layer here
    if checked is None:
        lines = [f"**{name or layer_type.snake_name}**: `{layer_type.name}` layer"]
    else:
        lines = _instances(*checked, name or layer_type.snake_name, layer_type.name)
    lines += ["", layer_type.doc, "", *_arguments(analysis, call, layer_type.params)]
    return "\n".join(lines)


def _instances(model: CheckedModel, layers: list[Layer], name: str, kind: str) -> list[str]:
    """The checked layers one item made: one, or one per block use and loop pass."""
    if len(layers) == 1:
        [layer] = layers
        lines = [f"**{layer.name}**: `{kind}` layer", _figures(model, layer)]
        return lines + [use.describe() for use in reversed(layer.span.via)]
    lines = [f"**{name}**: `{kind}` layer · {len(layers)} instances"]
    shown = [f"- **{lay.name}**: {_figures(model, lay)}" for lay in layers[:MAX_LISTED]]
    return lines + listed(shown, len(layers))


def _summary(name: str, checked: tuple[CheckedModel, Layer]) -> str:
    layer = checked[1]
    return f"**{name}**: `{layer.call.type.name}` layer\n{_figures(*checked)}"


def _figures(model: CheckedModel, layer: Layer) -> str:
    """Output shape and parameter count, from the checked model."""
    nodes = [n for n in model.nodes if n.layer == layer.name]
    shapes = [show(n.shape) if n.shape is not None else "unknown" for n in nodes]
    weights = next((n.weights for n in nodes if n.weights is not None), None)
    if not shapes:
        out = "not connected"
    elif len(shapes) == 1:
        out = f"output shape `{shapes[0]}`"
    else:
        out = f"applied {len(shapes)} times (shared weights), output shapes " + ", ".join(
            f"`{s}`" for s in shapes
        )
    return f"{out} · {count(weights)}"


def _callee(analysis: Analysis, call: ir.Call) -> str:
    kind, entry = callee(call.name)
    lines = [f"`{entry.name}` {kind}", "", entry.doc]
    if entry.params:
        lines += ["", *_arguments(analysis, call, entry.params)]
    return "\n".join(lines)


def _arguments(analysis: Analysis, call: ir.Call, params: tuple[Param, ...]) -> list[str]:
    """One line per argument: its value as written or its default, and its doc."""
    written = dict(zip((p.name for p in params if p.positional), call.args))
    written.update({kw.name: kw.value for kw in call.kwargs})
    lines = ["Arguments:"]
    for p in params:
        if p.name in written:
            value = re.sub(r"\s+", " ", analysis.source(written[p.name].span))
            lines.append(f"- `{p.name}={value}`" + (f": {p.doc}" if p.doc else ""))
        else:
            lines.append(f"- `{p.name}` {default_text(p)}" + (f": {p.doc}" if p.doc else ""))
    return lines


def _describe(param: Param) -> str:
    return f"{param.doc or param.type.describe} ({param.type.describe}; {default_text(param)})"


def default_text(param: Param) -> str:
    return "required" if param.required else f"default `{show_value(param.default, param)}`"


def _param(params: tuple[Param, ...], name: str) -> Param | None:
    return next((p for p in params if p.name == name), None)
