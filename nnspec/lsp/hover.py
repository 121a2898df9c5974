"""Hover text: what a layer, input, argument, setting or callee under the cursor is."""

from __future__ import annotations

import re

from nnspec.check.model import CheckedModel, Layer
from nnspec.diagnostics.records import Span
from nnspec.lsp.analysis import BLOCK_SETTINGS, Analysis, Document, callee
from nnspec.lsp.symbols import LayerSite, call_at, contains, walk
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
    if named is not None:
        name, span = named
        text = _input(doc, name) or _named_layer(doc, name)
        return (text, span) if text else None
    call = call_at(spec, line, column)
    if call is not None and contains(call.name_span, line, column):
        site = current.index.layer_at(line, column)
        if site is not None and site.call is call:
            return _layer(current, call, doc.layer(site), site.name), call.name_span
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


def _named_layer(doc: Document, name: str) -> str | None:
    definition = doc.current.index.definitions.get(name)
    if definition is None:
        found = doc.named_layer(name)
        return _summary(name, found) if found else None
    site = LayerSite(definition.decl.span, definition.decl.call, name)
    return _layer(doc.current, site.call, doc.layer(site), name)


def _layer(
    analysis: Analysis,
    call: ir.Call,
    checked: tuple[CheckedModel, Layer] | None,
    name: str | None,
) -> str:
    layer_type = LAYERS.get(call.name)
    if layer_type is None:
        unsupported = unsupported_layer(call.name)
        return unsupported[0] if unsupported else f"`{call.name}`: unknown layer type"
    if checked is not None and checked[1].call.type is not layer_type:
        checked = None  # the last good model had another layer here
    title = f"**{checked[1].name if checked else name or layer_type.snake_name}**"
    lines = [f"{title}: `{layer_type.name}` layer"]
    if checked is not None:
        lines.append(_figures(*checked))
    lines += ["", layer_type.doc, "", *_arguments(analysis, call, layer_type.params)]
    return "\n".join(lines)


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
    if weights is None:
        return f"{out} · parameters unknown"
    count = f"{weights.total:,} parameter{'' if weights.total == 1 else 's'}"
    if weights.non_trainable:
        count += f" ({weights.trainable:,} trainable, {weights.non_trainable:,} non-trainable)"
    return f"{out} · {count}"


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
