"""`--set fit.epochs=1`: edits of the spec's text, checked like the spec itself.

`BLOCK.KEY=VALUE` where BLOCK is `data`, `compile`, `fit`, `evaluate` or the
name of a layer (`dense_1.units=64`, `head.activation=relu`), or `NAME=VALUE`
for a `param` of the spec (`width=128`). An override replaces the value the spec
gives, or adds the entry, argument or block where the spec has none. A layer
made by a block or a loop is one of several made by the same text: it is refused,
never edited for all of them. The edited text then goes through the whole compiler, so a
bad value is reported in context, with the line as it now reads.
"""

from __future__ import annotations

from msgspec import Struct

from nnspec.check.model import CheckedModel
from nnspec.diagnostics.records import Span
from nnspec.diagnostics.wording import did_you_mean
from nnspec.errors import UsageError
from nnspec.syntax import ir
from nnspec.vocab.settings import COMPILE, EVALUATE, FIT
from nnspec.vocab.sources import SETTINGS, SOURCES

BLOCKS = ("data", "compile", "fit", "evaluate")
_SETTINGS = (("fit", FIT), ("compile", COMPILE), ("evaluate", EVALUATE), ("data", SETTINGS))


class OverrideError(UsageError):
    """A `--set` that names no spec value; the hints say what would."""


class Override(Struct, frozen=True):
    block: str
    key: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Override:
        target, sep, value = text.partition("=")
        block, dot, key = target.strip().partition(".")
        if sep and not dot and block.isidentifier() and value.strip():
            return cls("param", block, value.strip())  # `param` is a keyword: no layer's name
        if not sep or not dot or not block or not key or not value.strip():
            raise OverrideError(
                f"expected BLOCK.KEY=VALUE (e.g. fit.epochs=1) or PARAM=VALUE; got `{text}`"
            )
        if not block.isidentifier() or not key.isidentifier():
            raise OverrideError(f"`{target.strip()}` does not name a setting")
        return cls(block, key, value.strip())


def _end(span: Span) -> Span:
    return Span(span.end_line, span.end_column, span.end_line, span.end_column)


class _Text:
    """Edits at line/column positions of the original text, applied last first."""

    def __init__(self, text: str):
        self.text = text if text.endswith("\n") else text + "\n"
        self.starts = [0]
        for i, ch in enumerate(self.text):
            if ch == "\n":
                self.starts.append(i + 1)
        self.edits: list[tuple[int, int, str]] = []

    def _offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column - 1

    def replace(self, span: Span, new: str) -> None:
        start = self._offset(span.line, span.column)
        self.edits.append((start, self._offset(span.end_line, span.end_column), new))

    def append(self, new: str) -> None:
        self.edits.append((len(self.text), len(self.text), new))

    def set_entry(self, mapping: ir.Mapping | None, owner: Span, key: str, value: str) -> None:
        """`key: value` in a `{ ... }` block; the block is added after `owner` if missing."""
        if mapping is None:
            self.replace(_end(owner), f" {{ {key}: {value} }}")
        elif (entry := mapping.get(key)) is not None:
            self.replace(entry.value.span, value)
        elif not mapping.entries:  # `{}`: inside the braces
            end = self._offset(mapping.span.end_line, mapping.span.end_column) - 1
            self.edits.append((end, end, f" {key}: {value} "))
        else:  # after the last entry, in the block's layout (as `nnspec fmt` writes it)
            last = mapping.entries[-1]
            one_line = last.value.span.end_line == mapping.span.end_line
            indent = " " * (last.span.column - 1)
            self.replace(
                _end(last.value.span),
                f", {key}: {value}" if one_line else f"\n{indent}{key}: {value}",
            )

    def set_argument(self, call: ir.Call, names: list[str], key: str, value: str) -> None:
        """`key=value` in a call whose parameters are `names`, in order."""
        kwarg = next((k for k in call.kwargs if k.name == key), None)
        if kwarg is not None:
            self.replace(kwarg.value.span, value)
        elif names.index(key) < len(call.args):
            self.replace(call.args[names.index(key)].span, value)
        elif call.args or call.kwargs:
            last = call.kwargs[-1].value if call.kwargs else call.args[-1]
            self.replace(_end(last.span), f", {key}={value}")
        elif call.span == call.name_span:  # a bare name: `data mnist`
            self.replace(call.span, f"{call.name}({key}={value})")
        else:  # `Flatten()`: before the closing parenthesis
            end = self._offset(call.span.end_line, call.span.end_column) - 1
            self.edits.append((end, end, f"{key}={value}"))

    def result(self) -> str:
        text = self.text
        for start, end, new in sorted(self.edits, key=lambda e: e[0], reverse=True):
            text = text[:start] + new + text[end:]
        return text


def _data(edit: _Text, spec: ir.Spec, o: Override) -> None:
    if spec.data is None:
        raise OverrideError("the spec has no `data` statement to override")
    source = SOURCES.get(spec.data.source.name)
    names = [p.name for p in source.params] if source else []
    if o.key in names:
        edit.set_argument(spec.data.source, names, o.key, o.value)
    else:
        edit.set_entry(spec.data.settings, spec.data.source.span, o.key, o.value)


def _layer(edit: _Text, model: CheckedModel | None, o: Override) -> None:
    layers = model.layers if model is not None else {}
    layer = layers.get(o.block)
    if layer is None:
        raise OverrideError(
            f"`{o.block}` is neither a block ({', '.join(BLOCKS)}) nor a layer of the model",
            did_you_mean(o.block, [*BLOCKS, *layers]),
        )
    _single(layer, model, o)
    names = [p.name for p in layer.call.type.params]
    if o.key not in names:
        raise OverrideError(
            f"layer `{o.block}` ({layer.call.type.name}) has no argument `{o.key}`",
            did_you_mean(o.key, names),
        )
    edit.set_argument(layer.call.call, names, o.key, o.value)


def _single(layer, model: CheckedModel, o: Override) -> None:
    """Refuse a layer whose text makes others too: in a block, or in a loop."""
    via = layer.span.via
    if via:
        raise OverrideError(
            f"layer `{o.block}` is made by block `{via[-1].block}` "
            f"({via[-1].describe()}); changing its text would change every use",
            (
                "set a parameter of the block where it is used, or a spec parameter: "
                "`--set NAME=VALUE`",
            ),
        )
    twins = [n for n, other in model.layers.items() if other.span.position == layer.span.position]
    if len(twins) > 1:
        raise OverrideError(
            f"layer `{o.block}` is one of {len(twins)} layers a loop makes from line "
            f"{layer.span.line}; changing its text would change all of them",
            ("set a spec parameter the loop uses: `--set NAME=VALUE`",),
        )


def _param(edit: _Text, spec: ir.Spec, o: Override) -> None:
    param = next((p for p in spec.params if p.name == o.key), None)
    if param is None:
        names = [p.name for p in spec.params]
        setting = next((b for b, params in _SETTINGS if o.key in {p.name for p in params}), None)
        raise OverrideError(
            f"the spec has no parameter `{o.key}`",
            (
                (f"a setting is named with its block: `{setting}.{o.key}={o.value}`",)
                if setting
                else did_you_mean(o.key, names)
                or (f"its parameters: {', '.join(names)}" if names else "it defines none",)
            ),
        )
    edit.replace(param.value.span, o.value)


def apply(text: str, spec: ir.Spec, model: CheckedModel | None, overrides: list[Override]) -> str:
    """The spec's text with every override applied; a spec in `nnspec fmt`'s layout
    stays in it (a setting added to a one-line block may make it too long for one)."""
    from nnspec.syntax.fmt import FormatError, format_text

    edited = _edited(text, spec, model, overrides)
    try:
        canonical = format_text(text) == text
        return format_text(edited) if canonical else edited
    except FormatError:  # an edit that does not parse: checking it says where
        return edited


def _edited(text: str, spec: ir.Spec, model: CheckedModel | None, overrides: list[Override]) -> str:
    edit = _Text(text)
    for o in overrides:
        if o.block == "param":
            _param(edit, spec, o)
        elif o.block == "data":
            _data(edit, spec, o)
        elif o.block == "evaluate":
            action = next((a for a in spec.actions if a.keyword == "evaluate"), None)
            if action is None:
                edit.append(f"evaluate {{ {o.key}: {o.value} }}\n")
            else:
                edit.set_entry(action.settings, action.span, o.key, o.value)
        elif o.block in ("compile", "fit"):
            block = spec.compile if o.block == "compile" else spec.fit
            if block is None:
                edit.append(f"{o.block} {{ {o.key}: {o.value} }}\n")
            else:
                edit.set_entry(block.mapping, block.span, o.key, o.value)
        else:
            _layer(edit, model, o)
    return edit.result()
