"""Hover text for what blocks, parameters and loops add: a block use (output shape,
parameters, its arguments per expansion), a block, a port, a parameter, a block
parameter and a loop variable. Figures come from the checked model through
`instances.py`."""

from __future__ import annotations

from nnspec.lsp.analysis import Analysis
from nnspec.lsp.instances import MAX_LISTED, listed
from nnspec.lsp.symbols import LayerSite, Symbol, one_line
from nnspec.syntax import ir


def block_signature(analysis: Analysis, block: ir.Block) -> str:
    """`bottleneck(filters, stride=1, project=false)`, defaults as written."""
    params = [
        p.name if p.default is None else f"{p.name}={_source(analysis, p.default)}"
        for p in block.params
    ]
    return f"{block.name}({', '.join(params)})"


def block_doc(analysis: Analysis, block: ir.Block) -> str:
    """The comment lines right above `block ...`, and one after its `{`."""
    header = (block.name_span or block.span).line - 1
    lines = []
    row = header - 1
    while row >= 0 and analysis.lines[row].lstrip().startswith("#"):
        lines.insert(0, analysis.lines[row].lstrip()[1:].strip())
        row -= 1
    after = analysis.lines[header].rpartition("{")[2] if header < len(analysis.lines) else ""
    if after.lstrip().startswith("#"):
        lines.append(after.lstrip()[1:].strip())
    return " ".join(line for line in lines if line)


def use(analysis: Analysis, site: LayerSite, block: ir.Block) -> str:
    """A block use: what each of its expansions made."""
    made = analysis.instances.of_use(site.key) if analysis.instances else []
    title = f"**{site.label or block.name}**: `{block.name}` block"
    if len(made) == 1:
        lines = [f"{title} · {analysis.instances.summary(made[0])}"]
        lines.append(f"with {made[0].use.arguments}" if made[0].use.arguments else "")
    elif made:
        lines = [f"{title} · used {len(made)} times"]
        shown = [_expansion(analysis, m) for m in made[:MAX_LISTED]]
        lines += listed(shown, len(made))
    else:
        lines = [title]
    lines = [line for line in lines if line]
    lines += _about(analysis, block)
    lines += ["", "Arguments:", *_arguments(analysis, site.call, block)]
    return "\n".join(lines)


def _expansion(analysis: Analysis, made) -> str:
    arguments = f" ({made.use.arguments})" if made.use.arguments else ""
    return f"- **{made.use.name or made.use.block}**{arguments}: {analysis.instances.summary(made)}"


def _about(analysis: Analysis, block: ir.Block) -> list[str]:
    doc = block_doc(analysis, block)
    return ["", f"`{block_signature(analysis, block)}`", *(["", doc] if doc else [])]


def _arguments(analysis: Analysis, call: ir.Call, block: ir.Block) -> list[str]:
    """One line per parameter of the block: the value written, or its default."""
    written = dict(zip((p.name for p in block.params), call.args))
    written.update({kw.name: kw.value for kw in call.kwargs})
    lines = []
    for p in block.params:
        if p.name in written:
            lines.append(f"- `{p.name}={_source(analysis, written[p.name])}`")
        elif p.default is not None:
            lines.append(f"- `{p.name}` default `{_source(analysis, p.default)}`")
        else:
            lines.append(f"- `{p.name}` required, not given")
    return lines or ["- none"]


def definition(analysis: Analysis, found: ir.Block) -> str:
    """A block's definition: its signature, its comment and its expansions."""
    made = analysis.instances.of_block(found.name) if analysis.instances else []
    lines = [f"**{found.name}**: block"]
    lines += _about(analysis, found)
    if made:
        names = [e.use.name or f"at {e.use.span.line}:{e.use.span.column}" for e in made]
        shown = ", ".join(names[:MAX_LISTED]) + (", …" if len(names) > MAX_LISTED else "")
        lines += ["", f"expanded {len(made)} time{'' if len(made) == 1 else 's'}: {shown}"]
    return "\n".join(lines)


def named(analysis: Analysis, symbol: Symbol) -> str | None:
    """A parameter, a block parameter, a loop variable or a port."""
    decl = symbol.decl
    if symbol.kind == "parameter" and isinstance(decl, ir.ParamDecl):
        uses = len(symbol.references)
        value = _source(analysis, decl.value)
        return f"**{symbol.name}**: parameter · `{value}`\n\nused {uses} time{'s' * (uses != 1)}"
    if symbol.kind == "block parameter" and isinstance(decl, ir.BlockParam):
        default = (
            "required" if decl.default is None else f"default `{_source(analysis, decl.default)}`"
        )
        return f"**{symbol.name}**: parameter of block `{symbol.scope}` · {default}"
    if symbol.kind == "loop variable" and isinstance(decl, ir.For):
        return f"**{symbol.name}**: loop variable · over `{_source(analysis, decl.iterable)}`"
    if symbol.kind == "port":
        return _port(analysis, symbol)
    return None


def _port(analysis: Analysis, symbol: Symbol) -> str:
    """An input of a block, with the shape each expansion was fed where it has one."""
    found = analysis.index.blocks.get(symbol.scope)
    text = f"**{symbol.name}**: input of block `{symbol.scope}`"
    items = found.items if found is not None else ()
    ports = [r for i in items if isinstance(i, ir.Ports) and i.keyword == "input" for r in i.refs]
    made = analysis.instances
    if made is None or len(ports) != 1:
        return text
    fed = made.of_block(symbol.scope)
    lines = [
        f"- **{e.use.name or e.use.block}**: {made.shapes(made.inputs(e))}"
        for e in fed[:MAX_LISTED]
    ]
    return "\n".join([text, *(["", "fed:"] if lines else []), *listed(lines, len(fed))])


def _source(analysis: Analysis, value) -> str:
    return one_line(analysis.source(value.span))
