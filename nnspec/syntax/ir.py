"""The IR: plain frozen structs, one per grammar rule, each with its span.

Built from the parse tree by `lower.py`; nothing here knows about Lark.

Nodes compare (and hash) by identity, `eq=False`: each node is one place in
one file, and two equal-looking statements at different places are different.
"""

from __future__ import annotations

from msgspec import Struct

from nnspec.diagnostics.records import Span

# ---- values ----------------------------------------------------------------


class Const(Struct, frozen=True, eq=False):
    """A number, string, boolean or None."""

    value: int | float | str | bool | None
    span: Span


class Ident(Struct, frozen=True, eq=False):
    """A bare name used as a value: `relu`, `one_hot`, `test`."""

    name: str
    span: Span


class Kwarg(Struct, frozen=True, eq=False):
    name: str
    value: Value
    span: Span  # of the name


class Call(Struct, frozen=True, eq=False):
    """`name(positional, keyword=value)`: layers, optimizers, callbacks, sources."""

    name: str
    args: tuple[Value, ...]
    kwargs: tuple[Kwarg, ...]
    span: Span
    name_span: Span


class Seq(Struct, frozen=True, eq=False):
    """A tuple `(a, b)` or a list `[a, b]`."""

    items: tuple[Value, ...]
    is_list: bool
    span: Span


class Entry(Struct, frozen=True, eq=False):
    key: str | int
    value: Value
    span: Span  # of the key


class Mapping(Struct, frozen=True, eq=False):
    """`{ key: value, ... }`: settings blocks and per-output dictionaries."""

    entries: tuple[Entry, ...]
    span: Span

    def get(self, key: str) -> Entry | None:
        return next((e for e in self.entries if e.key == key), None)


class Operation(Struct, frozen=True, eq=False):
    """An operator applied to values: `width // 2`, `i == 1`, `not last`.

    `op` is the operator as written (`+`, `//`, `==`, `and`, `not`); a unary minus or
    plus has one operand. Operations on literals alone are folded while lowering."""

    op: str
    operands: tuple[Value, ...]
    span: Span


class Template(Struct, frozen=True, eq=False):
    """A quoted layer name holding expressions: `"block{i}"`; parts are text or values."""

    parts: tuple[str | Value, ...]
    span: Span
    broken: bool = False  # a part is not an expression (reported): the name has no value


Value = Const | Ident | Call | Seq | Mapping | Operation


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


class ModelDecl(Struct, frozen=True, eq=False):
    name: str
    description: str | None
    span: Span


class DataDecl(Struct, frozen=True, eq=False):
    source: Call
    settings: Mapping | None
    span: Span


class InputDecl(Struct, frozen=True, eq=False):
    name: str
    shape: Value
    kwargs: tuple[Kwarg, ...]
    span: Span


class Ref(Struct, frozen=True, eq=False):
    """A layer or input name in an edge; `name.1` picks output 1.

    Before expansion `name` may be a `Template`; after it, a name that starts with
    `#` stands for a layer the spec left unnamed (see `check/graph.py`)."""

    name: str | Template
    index: int | None
    span: Span


class RefList(Struct, frozen=True, eq=False):
    """`[a, b]`: inputs of a merge layer, in order."""

    refs: tuple[Ref, ...]
    span: Span


class LayerDecl(Struct, frozen=True, eq=False):
    """`Dense(10)` or `head = Dense(10)`; a call to a block before expansion."""

    name: str | Template | None
    call: Call
    span: Span
    broken: bool = False  # its arguments have no value (reported): no shape follows


class Chain(Struct, frozen=True, eq=False):
    """`a -> b -> c`; an element may be a name, an inline layer or a list."""

    nodes: tuple[Ref | Call | RefList, ...]
    span: Span


class Ports(Struct, frozen=True, eq=False):
    """`input x, y` or `output out` inside a block: the block's tensors in and out."""

    keyword: str
    refs: tuple[Ref, ...]
    span: Span


class For(Struct, frozen=True, eq=False):
    """`for i in range(3) { ... }`, `for (filters, n) in stages { ... }`."""

    targets: tuple[str, ...]
    iterable: Value
    items: tuple[Item, ...]
    span: Span


class If(Struct, frozen=True, eq=False):
    """`if cond { ... } else { ... }`; `otherwise` is empty without an `else`."""

    condition: Value
    then: tuple[Item, ...]
    otherwise: tuple[Item, ...]
    span: Span


Item = LayerDecl | Chain | For | If | Ports


class Body(Struct, frozen=True, eq=False):
    """The items of a `sequential`, `graph` or `block` body, in source order."""

    items: tuple[Item, ...]
    span: Span

    @property
    def layers(self) -> tuple[LayerDecl, ...]:
        return tuple(i for i in self.items if isinstance(i, LayerDecl))

    @property
    def chains(self) -> tuple[Chain, ...]:
        return tuple(i for i in self.items if isinstance(i, Chain))


class Sequential(Body, frozen=True, eq=False):
    """`sequential { ... }`: each item feeds the next."""


class Graph(Body, frozen=True, eq=False):
    """`graph { ... }`: layers and the edges between them."""


class ParamDecl(Struct, frozen=True, eq=False):
    """`param width = 64`: a named value for the rest of the spec."""

    name: str
    value: Value
    span: Span
    name_span: Span


class BlockParam(Struct, frozen=True, eq=False):
    name: str
    default: Value | None
    span: Span


class Block(Body, frozen=True, eq=False):
    """`block name(params) { ... }`: a sub-network used like a layer. With `input`
    and `output` items its body is a graph, else a sequence of layers."""

    name: str = ""
    params: tuple[BlockParam, ...] = ()
    name_span: Span | None = None

    @property
    def is_graph(self) -> bool:
        return any(isinstance(i, Ports) for i in self.items)


class OutputDecl(Struct, frozen=True, eq=False):
    refs: tuple[Ref, ...]
    span: Span


class Settings(Struct, frozen=True, eq=False):
    """`compile { ... }`, `fit { ... }`, `evaluate { ... }`."""

    keyword: str
    mapping: Mapping
    span: Span


class Action(Struct, frozen=True, eq=False):
    """After training: `evaluate`, `save "m.keras"`, `plot "c.png"`, `predict "p.csv"`."""

    keyword: str
    path: str | None
    settings: Mapping | None
    span: Span


class Spec(Struct, frozen=True, eq=False):
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
    params: tuple[ParamDecl, ...] = ()
    blocks: tuple[Block, ...] = ()
    flat: bool = True  # no parameter, block, loop, condition, operation or name template
