"""`nnspec lsp` through a real LSP client (pygls's) talking to the server
process over stdio: diagnostics, hover, completion, definitions, references,
outline, formatting, faults, shutdown, and no TensorFlow."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import LanguageClient

from nnspec.check.pipeline import compile_text

INVALID = sorted((ROOT / "tests" / "invalid").glob("*.nn"))
TIMEOUT = 60  # seconds for one answer; generous for a loaded CI machine

GOOD = """\
model demo "LSP test"

input digits: (784,)

graph {
    hidden = Dense(64, activation=relu)
    logits = Dense(10)

    digits -> hidden -> logits
}

output logits

compile {
    loss: sparse_categorical_crossentropy(from_logits=true)
    optimizer: adam
    metrics: [accuracy]
}
"""
BROKEN = GOOD.replace("hidden = Dense(64", "hidden = Dens(64")


class Session:
    """A pygls client that started `python -m nnspec.cli lsp` as a subprocess."""

    def __init__(self, *argv: str) -> None:
        self.argv = argv or ("-m", "nnspec.cli", "lsp")
        self.client = LanguageClient("nnspec-tests", "1")
        self.published: asyncio.Queue[types.PublishDiagnosticsParams] = asyncio.Queue()
        self.messages: list[types.ShowMessageParams] = []
        self.stderr: list[bytes] = []

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.published.put_nowait(params)

        @self.client.feature(types.WINDOW_SHOW_MESSAGE)
        def on_message(params: types.ShowMessageParams) -> None:
            self.messages.append(params)

        self.version = 0

    async def start(self) -> types.InitializeResult:
        await self.client.start_io(sys.executable, *self.argv, cwd=str(ROOT))
        # the server's log goes to stderr: read it, or a full pipe would block the server
        asyncio.get_running_loop().create_task(self._drain(self.client._server.stderr))
        result = await self.request(
            self.client.initialize_async(
                types.InitializeParams(capabilities=types.ClientCapabilities(), process_id=None)
            )
        )
        self.client.initialized(types.InitializedParams())
        return result

    async def _drain(self, stream) -> None:
        while chunk := await stream.read(65536):
            self.stderr.append(chunk)

    @property
    def pid(self) -> int:
        return self.client._server.pid

    async def request(self, awaitable):
        return await asyncio.wait_for(awaitable, TIMEOUT)

    async def diagnostics(self, uri: str, version: int | None) -> list[types.Diagnostic]:
        """The diagnostics the server publishes for `uri` at `version`."""
        while True:
            params = await asyncio.wait_for(self.published.get(), TIMEOUT)
            if params.uri == uri and params.version == version:
                return list(params.diagnostics)

    async def open(self, uri: str, text: str) -> list[types.Diagnostic]:
        self.version += 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="nnspec", version=self.version, text=text
                )
            )
        )
        return await self.diagnostics(uri, self.version)

    async def change(self, uri: str, text: str) -> list[types.Diagnostic]:
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=self.version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        return await self.diagnostics(uri, self.version)

    async def stop(self) -> int:
        await self.request(self.client.shutdown_async(None))
        self.client.exit(None)
        code = await asyncio.wait_for(self.client._server.wait(), TIMEOUT)
        await self.client.stop()
        return code


def run(scenario, *argv: str) -> None:
    """Run `scenario(session)` against a fresh server (started with `argv`, by default
    `-m nnspec.cli lsp`); it must shut down cleanly."""

    async def main() -> None:
        session = Session(*argv)
        await session.start()
        try:
            await scenario(session)
        finally:
            code = await session.stop()
        assert code == 0, b"".join(session.stderr).decode(errors="replace")

    asyncio.run(main())


def at(text: str, needle: str, offset: int = 0) -> types.Position:
    """The 0-based position of `needle` (plus `offset` characters) in ASCII `text`."""
    index = text.index(needle) + offset
    line = text.count("\n", 0, index)
    return types.Position(line, index - (text.rfind("\n", 0, index) + 1))


def doc(uri: str) -> types.TextDocumentIdentifier:
    return types.TextDocumentIdentifier(uri=uri)


def apply(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.split("\n")
    offsets = [sum(len(line) + 1 for line in lines[:n]) for n in range(len(lines) + 1)]
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character))[::-1]:
        start = offsets[edit.range.start.line] + edit.range.start.character
        end = offsets[edit.range.end.line] + edit.range.end.character
        text = text[:start] + edit.new_text + text[end:]
    return text


def test_edit_hover_complete_navigate(tmp_path):
    uri = (tmp_path / "demo.nn").as_uri()

    async def scenario(s: Session) -> None:
        [diag] = await s.open(uri, BROKEN)
        assert diag.code == "E101" and diag.source == "nnspec"
        assert diag.severity == types.DiagnosticSeverity.Error
        assert diag.range == types.Range(at(BROKEN, "Dens("), at(BROKEN, "Dens(", 4))
        assert "unknown layer type `Dens`" in diag.message
        assert "hint: did you mean `Dense`?" in diag.message

        assert await s.change(uri, GOOD) == []

        hover = await s.request(
            s.client.text_document_hover_async(
                types.HoverParams(text_document=doc(uri), position=at(GOOD, "hidden -> logits", 2))
            )
        )
        text = hover.contents.value
        assert "**hidden**: `Dense` layer" in text
        assert "output shape `(None, 64)` · 50,240 parameters" in text
        assert "- `units=64`: number of output units" in text
        assert "- `use_bias` default `true`: whether to add a bias vector" in text
        assert hover.range == types.Range(at(GOOD, "hidden ->"), at(GOOD, "hidden ->", 6))

        async def labels(needle: str, offset: int = 0) -> dict[str, types.CompletionItem]:
            result = await s.request(
                s.client.text_document_completion_async(
                    types.CompletionParams(
                        text_document=doc(uri), position=at(GOOD, needle, offset)
                    )
                )
            )
            return {item.label: item for item in result.items}

        arguments = await labels("activation=relu")
        assert arguments["use_bias"].detail == "default `true`"
        assert arguments["use_bias"].insert_text == "use_bias="
        assert "Dense" not in arguments
        assert {"relu", "softmax", "gelu"} <= set(await labels("relu)"))
        in_graph = await labels("    logits =")
        assert {"Dense", "Conv2D", "LSTM", "hidden", "digits"} <= set(in_graph)
        assert in_graph["digits"].detail == "input"
        assert {"adam", "sgd", "rmsprop"} <= set(await labels("adam"))
        assert {"sparse_categorical_crossentropy", "mse"} <= set(await labels("sparse_categ"))
        assert {"accuracy", "auc"} <= set(await labels("accuracy]"))
        assert {"loss", "optimizer", "metrics"} <= set(await labels("    loss:"))
        assert {"model", "graph", "compile", "fit"} <= set(await labels("output logits"))

        definition = await s.request(
            s.client.text_document_definition_async(
                types.DefinitionParams(
                    text_document=doc(uri), position=at(GOOD, "hidden -> logits")
                )
            )
        )
        assert definition.range == types.Range(at(GOOD, "hidden ="), at(GOOD, "hidden =", 6))
        digits = await s.request(
            s.client.text_document_definition_async(
                types.DefinitionParams(text_document=doc(uri), position=at(GOOD, "digits ->"))
            )
        )
        assert digits.range == types.Range(at(GOOD, "digits:"), at(GOOD, "digits:", 6))

        references = await s.request(
            s.client.text_document_references_async(
                types.ReferenceParams(
                    text_document=doc(uri),
                    position=at(GOOD, "logits ="),
                    context=types.ReferenceContext(include_declaration=True),
                )
            )
        )
        starts = [r.range.start for r in references]
        assert starts == [
            at(GOOD, "logits ="),
            at(GOOD, "logits\n}"),
            at(GOOD, "logits\n\ncompile"),
        ]

        symbols = await s.request(
            s.client.text_document_document_symbol_async(
                types.DocumentSymbolParams(text_document=doc(uri))
            )
        )
        assert [sym.name for sym in symbols] == ["demo", "digits", "graph", "output", "compile"]
        graph = symbols[2]
        assert [(c.name, c.detail) for c in graph.children] == [
            ("hidden", "Dense"),
            ("logits", "Dense"),
        ]

        # a broken edit keeps the last good model for hover
        broken = GOOD.replace("input digits: (784,)", "input digits: (784,")
        assert [d.code for d in await s.change(uri, broken)] == ["E001"]
        hover = await s.request(
            s.client.text_document_hover_async(
                types.HoverParams(text_document=doc(uri), position=at(broken, "logits ="))
            )
        )
        assert "**logits**: `Dense` layer\noutput shape `(None, 10)` · 650 parameters" in (
            hover.contents.value
        )

        # the server process never loaded TensorFlow
        maps = Path(f"/proc/{s.pid}/maps")
        if maps.exists():
            assert "tensorflow" not in maps.read_text()

    run(scenario)


def test_diagnostics_match_check(tmp_path):
    """Every spec in tests/invalid: the same codes, messages, ranges and related
    locations as `nnspec check`."""

    async def scenario(s: Session) -> None:
        for path in INVALID:
            text = path.read_text()
            published = await s.open(path.as_uri(), text)
            expected = compile_text(text).diagnostics
            assert [d.code for d in published] == [d.code for d in expected], path.name
            for got, want in zip(published, expected):
                assert got.message.split("\nhint: ")[0] == want.message
                assert list(got.message.split("\nhint: ")[1:]) == list(want.hints)
                span = want.span
                start, end = got.range.start, got.range.end
                assert (start.line, start.character) == (span.line - 1, span.column - 1), path.name
                assert (end.line, end.character) == (span.end_line - 1, span.end_column - 1)
                # found in a block: the uses that led there, as related information
                related = [
                    (r.message, r.location.uri, r.location.range.start)
                    for r in got.related_information or []
                ]
                assert related == [
                    (r.message, path.as_uri(), types.Position(r.span.line - 1, r.span.column - 1))
                    for r in want.related
                ], path.name

    run(scenario)


def test_utf16_columns(tmp_path):
    """Columns after characters outside the BMP count two UTF-16 units each."""
    text = 'model m "😀😀" input x: (4,) sequential { Dens(3) }\n'
    uri = (tmp_path / "emoji.nn").as_uri()

    async def scenario(s: Session) -> None:
        [diag] = await s.open(uri, text)
        assert diag.code == "E101"
        assert diag.range.start == types.Position(0, text.index("Dens") + 2)
        assert diag.range.end == types.Position(0, text.index("Dens") + 6)

    run(scenario)


def test_fault_answers_error_and_server_goes_on(tmp_path):
    uri = (tmp_path / "demo.nn").as_uri()
    missing = (tmp_path / "missing.nn").as_uri()

    async def scenario(s: Session) -> None:
        await s.open(uri, GOOD)
        with pytest.raises(JsonRpcException):  # neither open nor on disk
            await s.request(
                s.client.text_document_hover_async(
                    types.HoverParams(text_document=doc(missing), position=types.Position(0, 0))
                )
            )
        hover = await s.request(
            s.client.text_document_hover_async(
                types.HoverParams(text_document=doc(uri), position=at(GOOD, "logits ="))
            )
        )
        assert "`Dense` layer" in hover.contents.value
        # positions outside the text are answered, not faults
        assert (
            await s.request(
                s.client.text_document_hover_async(
                    types.HoverParams(
                        text_document=doc(uri), position=types.Position(10_000, 10_000)
                    )
                )
            )
            is None
        )

    run(scenario)


def test_formatting(tmp_path):
    fmt = pytest.importorskip("nnspec.syntax.fmt")
    messy = GOOD.replace("Dense(64, activation=relu)", "Dense( 64,activation = relu )")
    uri = (tmp_path / "messy.nn").as_uri()

    async def scenario(s: Session) -> None:
        await s.open(uri, messy)
        options = types.FormattingOptions(tab_size=4, insert_spaces=True)
        edits = await s.request(
            s.client.text_document_formatting_async(
                types.DocumentFormattingParams(text_document=doc(uri), options=options)
            )
        )
        assert apply(messy, edits) == fmt.format_text(messy)
        assert "Dense(64, activation=relu)" in apply(messy, edits)
        await s.change(uri, BROKEN.replace("{", "{ (", 1))
        broken = await s.request(
            s.client.text_document_formatting_async(
                types.DocumentFormattingParams(text_document=doc(uri), options=options)
            )
        )
        assert list(broken) == []

    run(scenario)


def test_formatting_bug_is_shown_and_changes_nothing(tmp_path):
    """A layout that fails fmt's self-check (here: one that drops comments) edits
    nothing and tells the user, and the server goes on."""
    server = (
        "import nnspec.syntax.fmt as f\n"
        "f._comment_lines = lambda events, blanks=True: []\n"
        "from nnspec.cli import main\n"
        "main(['lsp'])\n"
    )
    uri = (tmp_path / "commented.nn").as_uri()

    async def scenario(s: Session) -> None:
        await s.open(uri, "# about the model\n" + GOOD)
        options = types.FormattingOptions(tab_size=4, insert_spaces=True)
        edits = await s.request(
            s.client.text_document_formatting_async(
                types.DocumentFormattingParams(text_document=doc(uri), options=options)
            )
        )
        assert list(edits) == []
        assert [(m.type, m.message) for m in s.messages] == [
            (
                types.MessageType.Error,
                "nnspec fmt: formatting would change the spec's tokens or comments",
            )
        ]
        assert await s.change(uri, BROKEN), "the server still answers"

    run(scenario, "-c", server)


def test_server_module_imports_no_tensorflow():
    code = "import sys, nnspec.cli, nnspec.lsp; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)


def test_hover_names_a_keras_layer_nnspec_does_not_support():
    from nnspec.lsp.analysis import Document
    from nnspec.lsp.hover import hover

    text = "input x: (4,)\nsequential {\n    Masking()\n    Dense(1)\n}\n"
    shown, _ = hover(Document.of(text), 3, 6)
    assert shown == "`Masking` is a Keras layer that nnspec does not support yet"
    shown, _ = hover(Document.of(text.replace("Masking", "Maskin")), 3, 6)
    assert shown == "`Maskin`: unknown layer type"
