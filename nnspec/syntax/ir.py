"""The IR: plain frozen dataclasses, one per grammar rule, each with its span.

Built from the parse tree by `lower.py`; nothing here knows about Lark.

Nodes compare (and hash) by identity, `eq=False`: each node is one place in
one file, and the generated `__eq__` and `__hash__` cost a third of the time
to create these classes, paid by every process start.
"""

from __future__ import annotations

from dataclasses import dataclass

from nnspec.diagnostics.records import Span

# ---- values ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Const:
    """A number, string, boolean or None."""

    value: int | float | str | bool | None
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Ident:
    """A bare name used as a value: `relu`, `one_hot`, `test`."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Kwarg:
    name: str
    value: Value
    span: Span  # of the name


@dataclass(frozen=True, slots=True, eq=False)
class Call:
    """`name(positional, keyword=value)`: layers, optimizers, callbacks, sources."""

    name: str
    args: tuple[Value, ...]
    kwargs: tuple[Kwarg, ...]
    span: Span
    name_span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Seq:
    """A tuple `(a, b)` or a list `[a, b]`."""

    items: tuple[Value, ...]
    is_list: bool
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Entry:
    key: str | int
    value: Value
    span: Span  # of the key


@dataclass(frozen=True, slots=True, eq=False)
class Mapping:
    """`{ key: value, ... }`: settings blocks and per-output dictionaries."""

    entries: tuple[Entry, ...]
    span: Span

    def get(self, key: str) -> Entry | None:
        return next((e for e in self.entries if e.key == key), None)


Value = Const | Ident | Call | Seq | Mapping


def plain(value: Value):
    """The Python value of a literal: tuples, lists and dicts recursively."""
    if isinstance(value, Const):
        return value.value
    if isinstance(value, Ident):
        return value.name
    if isinstance(value, Seq):
        items = [plain(v) for v in value.items]
        return items if value.is_list else tuple(items)
    if isinstance(value, Mapping):
        return {e.key: plain(e.value) for e in value.entries}
    return value  # a Call stays a Call


# ---- statements ------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class ModelDecl:
    name: str
    description: str | None
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class DataDecl:
    source: Call
    settings: Mapping | None
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class InputDecl:
    name: str
    shape: Value
    kwargs: tuple[Kwarg, ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Ref:
    """A layer or input name in an edge; `name.1` picks output 1."""

    name: str
    index: int | None
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class RefList:
    """`[a, b]`: inputs of a merge layer, in order."""

    refs: tuple[Ref, ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class LayerDecl:
    """`Dense(10)` or `head = Dense(10)`."""

    name: str | None
    call: Call
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Chain:
    """`a -> b -> c`; an element may be a name, an inline layer or a list."""

    nodes: tuple[Ref | Call | RefList, ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Sequential:
    layers: tuple[LayerDecl, ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Graph:
    layers: tuple[LayerDecl, ...]
    chains: tuple[Chain, ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class OutputDecl:
    refs: tuple[Ref, ...]
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Settings:
    """`compile { ... }`, `fit { ... }`, `evaluate { ... }`."""

    keyword: str
    mapping: Mapping
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Action:
    """After training: `evaluate`, `save "m.keras"`, `plot "c.png"`, `predict "p.csv"`."""

    keyword: str
    path: str | None
    settings: Mapping | None
    span: Span


@dataclass(frozen=True, slots=True, eq=False)
class Spec:
    """A whole `.nn` file."""

    model: ModelDecl | None
    data: DataDecl | None
    inputs: tuple[InputDecl, ...]
    outputs: OutputDecl | None
    architecture: Sequential | Graph | None
    compile: Settings | None
    fit: Settings | None
    actions: tuple[Action, ...]
    span: Span
