"""The language server: pygls glue between LSP messages and the analyses.

Positions cross here only: LSP's are 0-based in the client's code units
(UTF-16 unless negotiated), the IR's 1-based in characters.
"""

from __future__ import annotations

from concurrent.futures import Future

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.workspace import PositionCodec

from nnspec import __version__
from nnspec.diagnostics.records import Diagnostic, Span
from nnspec.lsp.analysis import Analysis, Document
from nnspec.lsp.completion import complete
from nnspec.lsp.hover import hover
from nnspec.lsp.symbols import model_layer, name_span
from nnspec.syntax import ir

_SEVERITY = {
    "error": types.DiagnosticSeverity.Error,
    "warning": types.DiagnosticSeverity.Warning,
}
_COMPLETION_KIND = {
    "keyword": types.CompletionItemKind.Keyword,
    "layer": types.CompletionItemKind.Class,
    "argument": types.CompletionItemKind.Property,
    "setting": types.CompletionItemKind.Property,
    "value": types.CompletionItemKind.Value,
    "name": types.CompletionItemKind.Variable,
}


class _Protocol(LanguageServerProtocol):
    """pygls 2.1 keeps the future of each notification that runs through its
    built-in generator handlers (didOpen, didChange...) in `_request_futures`
    for good: dropped here once done, so memory stays flat over long sessions."""

    def _check_handler_result(self, future: Future) -> None:
        super()._check_handler_result(future)
        done = [key for key, pending in self._request_futures.items() if pending is future]
        for key in done:
            del self._request_futures[key]


class NnspecServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("nnspec", __version__, protocol_cls=_Protocol)
        self.documents: dict[str, Document] = {}

    def document(self, uri: str) -> Document:
        """The analysis of `uri`; a document not open is read from disk, not kept."""
        if uri in self.documents:
            return self.documents[uri]
        return Document.of(self.workspace.get_text_document(uri).source)

    def refresh(self, uri: str) -> None:
        """Recompile `uri` and publish its diagnostics."""
        text_document = self.workspace.get_text_document(uri)
        previous = self.documents.get(uri)
        text = text_document.source
        doc = previous.updated(text) if previous else Document.of(text)
        self.documents[uri] = doc
        codec, lines = self.workspace.position_codec, doc.current.lines
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                diagnostics=[_diagnostic(codec, lines, d) for d in doc.current.result.diagnostics],
                version=text_document.version,
            )
        )

    def range(self, analysis: Analysis, span: Span) -> types.Range:
        return _range(self.workspace.position_codec, analysis.lines, span)

    def position(self, analysis: Analysis, position: types.Position) -> tuple[int, int]:
        """An LSP position as the IR's 1-based (line, column)."""
        line = min(max(position.line, 0), len(analysis.lines) - 1)
        at = self.workspace.position_codec.position_from_client_units(
            analysis.lines, types.Position(line, max(position.character, 0))
        )
        return at.line + 1, at.character + 1


def _range(codec: PositionCodec, lines: list[str], span: Span) -> types.Range:
    return codec.range_to_client_units(
        lines,
        types.Range(
            start=types.Position(span.line - 1, span.column - 1),
            end=types.Position(span.end_line - 1, span.end_column - 1),
        ),
    )


def _diagnostic(codec: PositionCodec, lines: list[str], diag: Diagnostic) -> types.Diagnostic:
    return types.Diagnostic(
        range=_range(codec, lines, diag.span),
        message=diag.message + "".join(f"\nhint: {hint}" for hint in diag.hints),
        severity=_SEVERITY[diag.severity.value],
        code=diag.code,
        source="nnspec",
    )


server = NnspecServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: NnspecServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: NnspecServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: NnspecServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.refresh(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: NnspecServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.documents.pop(params.text_document.uri, None)
    ls.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
    )


@server.feature(types.TEXT_DOCUMENT_HOVER)
def on_hover(ls: NnspecServer, params: types.HoverParams) -> types.Hover | None:
    doc = ls.document(params.text_document.uri)
    found = hover(doc, *ls.position(doc.current, params.position))
    if found is None:
        return None
    text, span = found
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
        range=ls.range(doc.current, span),
    )


@server.feature(
    types.TEXT_DOCUMENT_COMPLETION,
    types.CompletionOptions(trigger_characters=["(", "=", ":", ",", "[", "{", ">"]),
)
def on_completion(ls: NnspecServer, params: types.CompletionParams) -> types.CompletionList:
    doc = ls.document(params.text_document.uri)
    analysis = doc.current
    definitions = analysis.index.definitions
    if not definitions and doc.last_good is not None:
        definitions = doc.last_good.index.definitions
    offset = analysis.offset(*ls.position(analysis, params.position))
    items = [
        types.CompletionItem(
            label=c.label,
            kind=_COMPLETION_KIND[c.kind],
            detail=c.detail or None,
            documentation=(
                types.MarkupContent(kind=types.MarkupKind.Markdown, value=c.doc) if c.doc else None
            ),
            insert_text=c.insert,
        )
        for c in complete(analysis.text, offset, definitions)
    ]
    return types.CompletionList(is_incomplete=False, items=items)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def on_definition(ls: NnspecServer, params: types.DefinitionParams) -> types.Location | None:
    analysis = ls.document(params.text_document.uri).current
    found = analysis.index.name_at(*ls.position(analysis, params.position))
    definition = found and analysis.index.definitions.get(found[0])
    if not definition:
        return None
    return types.Location(uri=params.text_document.uri, range=ls.range(analysis, definition.span))


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
def on_references(ls: NnspecServer, params: types.ReferenceParams) -> list[types.Location]:
    analysis = ls.document(params.text_document.uri).current
    index = analysis.index
    found = index.name_at(*ls.position(analysis, params.position))
    if found is None:
        return []
    spans = list(index.references.get(found[0], []))
    definition = index.definitions.get(found[0])
    if definition is not None and params.context.include_declaration:
        spans.append(definition.span)
    return [
        types.Location(uri=params.text_document.uri, range=ls.range(analysis, span))
        for span in sorted(spans, key=lambda s: (s.line, s.column))
    ]


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def on_document_symbol(
    ls: NnspecServer, params: types.DocumentSymbolParams
) -> list[types.DocumentSymbol]:
    analysis = ls.document(params.text_document.uri).current
    spec = analysis.result.spec
    if spec is None:
        return []

    def symbol(name, kind, span, detail=None, selection=None, children=None):
        return types.DocumentSymbol(
            name=name,
            kind=kind,
            range=ls.range(analysis, span),
            selection_range=ls.range(analysis, selection or span),
            detail=detail,
            children=children,
        )

    out = []
    if spec.model is not None:
        out.append(
            symbol(
                spec.model.name, types.SymbolKind.Module, spec.model.span, spec.model.description
            )
        )
    if spec.data is not None:
        source = spec.data.source
        out.append(
            symbol(
                f"data {source.name}", types.SymbolKind.Package, spec.data.span, None, source.span
            )
        )
    for name, definition in analysis.index.definitions.items():
        if definition.kind == "input":
            decl = definition.decl
            shape = analysis.source(decl.shape.span)
            out.append(symbol(name, types.SymbolKind.Variable, decl.span, shape, definition.span))
    arch = spec.architecture
    if arch is not None:
        model = analysis.result.model
        keyword = "sequential" if isinstance(arch, ir.Sequential) else "graph"
        layers = []
        for site in analysis.index.layers:
            layer = model_layer(model, site)
            name = layer.name if layer else site.name or site.call.name
            selection = name_span(site.key, site.name) if site.name else site.call.name_span
            layers.append(
                symbol(name, types.SymbolKind.Function, site.key, site.call.name, selection)
            )
        out.append(symbol(keyword, types.SymbolKind.Namespace, arch.span, children=layers or None))
    if spec.outputs is not None:
        names = ", ".join(r.name for r in spec.outputs.refs)
        out.append(symbol("output", types.SymbolKind.Field, spec.outputs.span, names))
    for block in (spec.compile, spec.fit):
        if block is not None:
            out.append(symbol(block.keyword, types.SymbolKind.Struct, block.span))
    for action in spec.actions:
        out.append(symbol(action.keyword, types.SymbolKind.Event, action.span, action.path))
    return sorted(out, key=lambda s: (s.range.start.line, s.range.start.character))


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
def on_formatting(ls: NnspecServer, params: types.DocumentFormattingParams) -> list[types.TextEdit]:
    """The whole text, formatted; no edit when it does not parse (the
    diagnostics say why) or is formatted already."""
    from nnspec.errors import InternalError
    from nnspec.syntax.fmt import FormatError, format_text

    analysis = ls.document(params.text_document.uri).current
    try:
        formatted = format_text(analysis.text)
    except FormatError:
        return []
    except InternalError as err:  # a bug in fmt: say so, leave the text as it is
        ls.window_show_message(
            types.ShowMessageParams(types.MessageType.Error, f"nnspec fmt: {err.message}")
        )
        return []
    if formatted == analysis.text:
        return []
    end = len(analysis.lines)
    whole = Span(1, 1, end, len(analysis.lines[-1]) + 1)
    return [types.TextEdit(range=ls.range(analysis, whole), new_text=formatted)]


def serve() -> None:
    """Serve over standard input and output until the client says exit."""
    server.start_io()
