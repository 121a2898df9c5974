"""`--set fit.epochs=1`: edits of the spec's text, checked like the spec itself.

An override replaces the value of an entry, or adds the entry (or the block)
where the spec has none. The edited text then goes through the whole compiler,
so a bad value is reported in context, with the line as it now reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ir
from .datasets import SOURCES
from .diagnostics import Span

BLOCKS = ("data", "compile", "fit", "evaluate")


class OverrideError(ValueError):
    """A `--set` that names no spec value; the message says what would."""


@dataclass(frozen=True)
class Override:
    block: str
    key: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Override:
        target, sep, value = text.partition("=")
        block, dot, key = target.strip().partition(".")
        if not sep or not dot or not key or not value.strip():
            raise OverrideError(f"expected BLOCK.KEY=VALUE, e.g. fit.epochs=1; got `{text}`")
        if block not in BLOCKS:
            raise OverrideError(f"unknown block `{block}` in `{text}`: use {', '.join(BLOCKS)}")
        if not key.isidentifier():
            raise OverrideError(f"`{key}` is not a setting name")
        return cls(block, key, value.strip())


class _Text:
    """Edits at line/column positions of the original text, applied last first."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self.starts.append(i + 1)
        self.edits: list[tuple[int, int, str]] = []

    def offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column - 1

    def replace(self, span: Span, new: str) -> None:
        start = self.offset(span.line, span.column)
        self.edits.append((start, self.offset(span.end_line, span.end_column), new))

    def insert_before_end(self, span: Span, new: str) -> None:
        end = self.offset(span.end_line, span.end_column) - 1  # before the closing brace
        self.edits.append((end, end, new))

    def append(self, new: str) -> None:
        self.edits.append((len(self.text), len(self.text), new))

    def result(self) -> str:
        text = self.text
        for start, end, new in sorted(self.edits, key=lambda e: e[0], reverse=True):
            text = text[:start] + new + text[end:]
        return text


def _set_entry(edit: _Text, mapping: ir.Mapping | None, owner_span: Span, key: str, value: str):
    if mapping is None:
        edit.replace(
            Span(
                owner_span.end_line,
                owner_span.end_column,
                owner_span.end_line,
                owner_span.end_column,
            ),
            f" {{ {key}: {value} }}",
        )
        return
    entry = mapping.get(key)
    if entry is not None:
        edit.replace(entry.value.span, value)
    else:
        edit.insert_before_end(mapping.span, f" {key}: {value} ")


def apply(text: str, spec: ir.Spec, overrides: list[Override]) -> str:
    """The spec's text with every override applied."""
    edit = _Text(text if text.endswith("\n") else text + "\n")
    for o in overrides:
        if o.block == "data":
            if spec.data is None:
                raise OverrideError("the spec has no `data` statement to override")
            source = SOURCES.get(spec.data.source.name)
            params = {p.name for p in source.params} if source else set()
            call = spec.data.source
            if o.key in params:
                kwarg = next((k for k in call.kwargs if k.name == o.key), None)
                index = [p.name for p in source.params].index(o.key)
                if kwarg is not None:
                    edit.replace(kwarg.value.span, o.value)
                elif index < len(call.args):
                    edit.replace(call.args[index].span, o.value)
                elif call.args or call.kwargs:
                    last = (call.kwargs[-1].value if call.kwargs else call.args[-1]).span
                    edit.replace(
                        Span(last.end_line, last.end_column, last.end_line, last.end_column),
                        f", {o.key}={o.value}",
                    )
                else:
                    edit.replace(call.span, f"{call.name}({o.key}={o.value})")
            else:
                _set_entry(edit, spec.data.settings, call.span, o.key, o.value)
            continue
        block = {"compile": spec.compile, "fit": spec.fit}.get(o.block)
        if o.block == "evaluate":
            action = next((a for a in spec.actions if a.keyword == "evaluate"), None)
            if action is None:
                edit.append(f"evaluate {{ {o.key}: {o.value} }}\n")
            else:
                _set_entry(edit, action.settings, action.span, o.key, o.value)
        elif block is None:
            edit.append(f"{o.block} {{ {o.key}: {o.value} }}\n")
        else:
            _set_entry(edit, block.mapping, block.span, o.key, o.value)
    return edit.result()
