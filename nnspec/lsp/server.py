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
from nnspec.lsp.outline import outline

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
    "block": types.CompletionItemKind.Module,
    "parameter": types.CompletionItemKind.Constant,
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
                diagnostics=[
                    _diagnostic(codec, lines, d, uri) for d in doc.current.result.diagnostics
                ],
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
            start=types.Position(max(span.line - 1, 0), max(span.column - 1, 0)),
            end=types.Position(max(span.end_line - 1, 0), max(span.end_column - 1, 0)),
        ),
    )


def _diagnostic(
    codec: PositionCodec, lines: list[str], diag: Diagnostic, uri: str
) -> types.Diagnostic:
    """An LSP diagnostic; one found in a block has the uses that led there as related
    information (the same text is a different place in each use)."""
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(uri=uri, range=_range(codec, lines, r.span)),
            message=r.message,
        )
        for r in diag.related
    ]
    return types.Diagnostic(
        range=_range(codec, lines, diag.span),
        message=diag.message + "".join(f"\nhint: {hint}" for hint in diag.hints),
        severity=_SEVERITY[diag.severity.value],
        code=diag.code,
        source="nnspec",
        related_information=related or None,
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
    names = analysis.index
    if not (names.definitions or names.blocks or names.params) and doc.last_good is not None:
        names = doc.last_good.index  # the text is too broken to say what it defines
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
        for c in complete(analysis.text, offset, names)
    ]
    return types.CompletionList(is_incomplete=False, items=items)


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def on_definition(
    ls: NnspecServer, params: types.DefinitionParams
) -> types.Location | list[types.Location] | None:
    """Where the name under the cursor is defined: one place, or several where
    `if` and `else` (or a mistake) define it twice."""
    analysis = ls.document(params.text_document.uri).current
    found = analysis.index.name_at(*ls.position(analysis, params.position))
    if found is None or not found[0].definitions:
        return None
    uri = params.text_document.uri
    places = [types.Location(uri=uri, range=ls.range(analysis, s)) for s in found[0].definitions]
    return places[0] if len(places) == 1 else places


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
def on_references(ls: NnspecServer, params: types.ReferenceParams) -> list[types.Location]:
    analysis = ls.document(params.text_document.uri).current
    found = analysis.index.name_at(*ls.position(analysis, params.position))
    if found is None:
        return []
    symbol = found[0]
    spans = list(symbol.references)
    if params.context.include_declaration:
        spans += symbol.definitions
    return [
        types.Location(uri=params.text_document.uri, range=ls.range(analysis, span))
        for span in sorted(spans, key=lambda s: (s.line, s.column))
    ]


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def on_document_symbol(
    ls: NnspecServer, params: types.DocumentSymbolParams
) -> list[types.DocumentSymbol]:
    analysis = ls.document(params.text_document.uri).current
    return outline(analysis, lambda span: ls.range(analysis, span))


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
