"""One compile of an open document, and what the editor features read from it."""

from __future__ import annotations

import re
from functools import cached_property

from msgspec import Struct

from nnspec.check.model import CheckedModel, InputNode, Layer
from nnspec.check.pipeline import Result, compile_text
from nnspec.diagnostics.records import Span
from nnspec.lsp.instances import Instances
from nnspec.lsp.symbols import Index, LayerSite, index, model_layer, source_text
from nnspec.vocab.catalog import CALLBACKS, OPTIMIZERS, SCHEDULES
from nnspec.vocab.layers.registry import LAYERS
from nnspec.vocab.settings import COMPILE, EVALUATE, FIT
from nnspec.vocab.sources import SETTINGS, SOURCES

# Everything called with arguments, by kind; each has `name`, `params` and `doc`.
CALLEE_TABLES = {
    "layer": LAYERS,
    "optimizer": OPTIMIZERS,
    "learning-rate schedule": SCHEDULES,
    "callback": CALLBACKS,
    "data source": SOURCES,
}
# The settings of each block, by the keyword (or `data`) that opens it.
BLOCK_SETTINGS = {"compile": COMPILE, "fit": FIT, "evaluate": EVALUATE, "data": SETTINGS}


def callee(name: str) -> tuple[str, object] | None:
    """The kind and entry of a name written as a call: `Dense`, `adam`, `mnist`."""
    for kind, table in CALLEE_TABLES.items():
        if name in table:
            return kind, table[name]
    return None


class Analysis(Struct, frozen=True, dict=True):
    text: str
    result: Result

    @staticmethod
    def of(text: str) -> Analysis:
        return Analysis(text, compile_text(text))

    @cached_property
    def lines(self) -> list[str]:
        return self.text.split("\n")  # as the lexer counts lines

    @cached_property
    def index(self) -> Index:
        return index(self.result.spec, self.text)

    @cached_property
    def instances(self) -> Instances | None:
        """The checked layers by the source items and block uses that made them."""
        model = self.result.model
        return Instances(model) if model is not None else None

    @property
    def good(self) -> bool:
        """Checked without errors: its model is trustworthy."""
        return self.result.model is not None and self.result.ok

    def source(self, span: Span) -> str:
        """The text of `span`."""
        return source_text(self.lines, span)

    def word_at(self, line: int, column: int) -> tuple[str, Span] | None:
        """The name at or just before a 1-based position, and its span."""
        if not 1 <= line <= len(self.lines):
            return None
        for match in re.finditer(r"[A-Za-z_]\w*", self.lines[line - 1]):
            if match.start() < column <= match.end() + 1:
                return match.group(), Span(line, match.start() + 1, line, match.end() + 1)
        return None

    def offset(self, line: int, column: int) -> int:
        """The index in `text` of a 1-based position, clamped to the text."""
        line = max(1, min(line, len(self.lines)))
        start = sum(len(text) + 1 for text in self.lines[: line - 1])
        return start + max(0, min(column - 1, len(self.lines[line - 1])))


class Document(Struct, frozen=True):
    """The latest analysis of a document, and the last one that checked cleanly:
    while the text is broken, hover still shows shapes from that one."""

    current: Analysis
    last_good: Analysis | None

    @staticmethod
    def of(text: str) -> Document:
        return Document(Analysis.of(text), None)

    def updated(self, text: str) -> Document:
        current = Analysis.of(text)
        return Document(current, self.current if self.current.good else self.last_good)

    def layer(self, site: LayerSite) -> tuple[CheckedModel, Layer] | None:
        """The checked layer declared at `site` and its model, from the last good
        model when the current one lacks it."""
        model = self.current.result.model
        found = model_layer(model, site)
        if found is not None:
            return model, found
        return self.named_layer(site.name) if isinstance(site.name, str) else None

    def instances(self, site: LayerSite) -> tuple[CheckedModel, list[Layer]] | None:
        """Every checked layer the item at `site` made (one, or one per use of its
        block and pass of its loop); for a top-level layer the current model lacks,
        the layer of its name in the last good model."""
        made = self.current.instances
        found = made.of_item(site.key) if made is not None else []
        if found:
            return made.model, found
        if site.block is not None or not isinstance(site.name, str):
            return None
        if made is not None and site.name in made.model.layers:
            return None  # the layer of that name is another item's: a name given twice
        named = self.layer(site)
        return (named[0], [named[1]]) if named else None

    def named_layer(self, name: str) -> tuple[CheckedModel, Layer] | None:
        for model in self._models():
            if name in model.layers:
                return model, model.layers[name]
        return None

    def input(self, name: str) -> InputNode | None:
        for model in self._models():
            for node in model.inputs:
                if node.name == name:
                    return node
        return None

    def _models(self) -> list[CheckedModel]:
        both = [self.current, self.last_good]
        return [a.result.model for a in both if a is not None and a.result.model is not None]
