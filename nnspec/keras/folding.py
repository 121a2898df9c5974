"""Repeated structure of an imported model folded into blocks and loops.

`nnspec import` first writes a model flat: every layer, every edge. Most large
models repeat themselves, and their Keras names say how: `conv3_block2_1_conv`
is layer `1_conv` of block use `conv3_block2`. Folding reads that structure:

1. Groups. Every prefix of layer names, cut at `_`, whose layers follow each other
   in the model's order, read one tensor from outside and give one to the outside,
   is a candidate block use, named by the prefix; its layers keep the rest of their
   names (`1_conv`), so a block's naming (`use + "_" + local`) makes Keras's names.
2. Blocks. Groups with the same signature (local names, layer types, arguments other
   than numbers and strings, internal edges) are uses of one block. Its parameters
   are the argument values that differ between uses, one per distinct sequence of
   values, a multiple of another where it is one (`4 * filters`).
3. Loops. Uses and layers in a row whose names and arguments differ by one number
   counting up become `for i in range(a, b)`; runs of the same items differing in
   several numbers (a network's stages) a `for (n, ...) in [(...), ...]`.

The result is compiled and its checked model compared with the flat import's (layer
names, types, whole configurations, edges, inputs and outputs): any difference, and
any model this does not cover (several inputs or outputs, shared layers, a top level
that is not a chain of groups and layers), leaves the import flat. So does a folded
spec that is not shorter than the flat one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from msgspec import Struct

from nnspec.check.model import CheckedModel
from nnspec.syntax import ir
from nnspec.vocab.layers.registry import LAYERS, LayerCall
from nnspec.vocab.values import show_value

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
SIMPLE = (int, float, str, bool, type(None))
MAX_VARIABLES = 4  # of a loop over a list: more is harder to read than the uses


class Num(Struct, frozen=True):
    """A number that a loop may turn into an expression of its variables."""

    value: int
    label: str  # what a loop variable made of it is called
    expr: str | None = None  # the expression written instead of `value`


class Opaque:
    """A value the loop search neither compares nor rewrites (a loop's unrolled items)."""

    def __init__(self, items: list):
        self.items = items


# An item of a body: ("layer", name, text), ("use", name, block, args),
# ("range", var, start, stop, body, Opaque), ("list", vars, rows, body). A name is a
# tuple of text and Nums; an argument a Num or text.


class _Group(Struct):
    prefix: str
    names: list[str]  # in the model's order
    entry: str  # the one tensor read from outside
    exit: str  # the one layer whose tensor goes outside

    def local(self, name: str) -> str:
        return name[len(self.prefix) + 1 :]


class _Block(Struct):
    name: str
    groups: list[_Group]
    params: list[str]
    args: list[list[str]]  # per group, the value of each parameter as text
    text: list[str]  # the block's definition


# ---- the model's graph ----------------------------------------------------------------


class _Graph:
    """The layers of a flat import: order, inputs and consumers of each."""

    def __init__(self, model):
        self.model = model
        self.order = list(model.layers)
        self.index = {name: i for i, name in enumerate(self.order)}
        self.sources = {n: [r.source for r in layer.apps[0]] for n, layer in model.layers.items()}
        self.consumers: dict[str, list[str]] = {n: [] for n in [*model.inputs, *self.order]}
        for name, sources in self.sources.items():
            for source in sources:
                self.consumers[source].append(name)
        self.output = model.outputs[0].source
        self.taken = set(self.order) | set(model.inputs)

    def group(self, prefix: str, names: list[str]) -> _Group | None:
        """The group of `names` under `prefix`; None where it is not one use."""
        members = set(names)
        entries = {s for n in names for s in self.sources[n] if s not in members}
        exits = [
            n for n in names if n == self.output or any(c not in members for c in self.consumers[n])
        ]
        if len(entries) != 1 or len(exits) != 1:
            return None
        group = _Group(prefix, names, entries.pop(), exits[0])
        if any(not group.local(n) for n in names):
            return None
        return group

    def candidates(self) -> list[_Group]:
        by_prefix: dict[str, list[int]] = {}
        for i, name in enumerate(self.order):
            parts = name.split("_")
            for k in range(1, len(parts)):
                by_prefix.setdefault("_".join(parts[:k]), []).append(i)
        groups = []
        for prefix, found in by_prefix.items():
            if len(found) < 2 or found[-1] - found[0] + 1 != len(found) or prefix in self.taken:
                continue
            group = self.group(prefix, [self.order[i] for i in found])
            if group is not None:
                groups.append(group)
        return groups


def foldable(model) -> bool:
    """A functional model of single-application, single-output layers, one input and
    one output: what folding covers."""
    if model.sequential or len(model.inputs) != 1 or len(model.outputs) != 1:
        return False
    return all(
        len(layer.apps) == 1 and not layer.multi_output and all(r.app == 0 for r in layer.apps[0])
        for layer in model.layers.values()
    )


# ---- arguments -------------------------------------------------------------------


def arguments(call: ir.Call) -> dict[str, ir.Value]:
    """A layer call's arguments by parameter name."""
    params = LAYERS[call.name].params
    positional = [p for p in params if p.positional]
    found = {positional[i].name: v for i, v in enumerate(call.args)}
    return found | {kw.name: kw.value for kw in call.kwargs}


def _literal(value: ir.Value) -> bool:
    """A value a block parameter may carry: a number, string, bool or None, or a tuple
    of those."""
    if isinstance(value, ir.Const):
        return isinstance(value.value, SIMPLE)
    return isinstance(value, ir.Seq) and all(_literal(v) for v in value.items)


def _default(kind, key: str) -> ir.Value | None:
    """A registry default as a value a use may pass; None if it has none such."""
    param = next(p for p in kind.params if p.name == key)
    if param.required:
        return None
    value = param.default
    if isinstance(value, tuple) and all(isinstance(v, SIMPLE) for v in value):
        if len(set(value)) == 1:
            value = value[0]
        else:
            return ir.Seq(tuple(ir.Const(v, _span()) for v in value), False, _span())
    if not isinstance(value, SIMPLE):
        return None
    return ir.Const(value, _span())


def _span():
    from nnspec.diagnostics.records import NO_SPAN

    return NO_SPAN


def signature(graph: _Graph, group: _Group) -> tuple:
    """What uses of one block share: local names, types, fixed arguments, edges."""
    members = set(group.names)
    layers = []
    for name in group.names:
        call = graph.model.layers[name].call
        fixed = tuple(
            sorted((k, _plain_text(v)) for k, v in arguments(call).items() if not _literal(v))
        )
        inputs = tuple(group.local(s) if s in members else None for s in graph.sources[name])
        layers.append((group.local(name), call.name, fixed, inputs))
    return tuple(layers), group.local(group.exit)


def _plain_text(value: ir.Value) -> str:
    from nnspec.keras.importer import _show

    return _show(value)


# ---- choosing groups ----------------------------------------------------------------


def choose(groups: list[_Group], graph: _Graph, key: Callable) -> list[list[_Group]]:
    """Non-overlapping groups in buckets of one signature (2 or more each): again and
    again the bucket that `key` ranks first among what the buckets chosen leave free."""
    buckets: dict[tuple, list[_Group]] = {}
    for group in sorted(groups, key=lambda g: graph.index[g.names[0]]):
        buckets.setdefault(signature(graph, group), []).append(group)
    chosen: list[list[_Group]] = []
    used: set[str] = set()
    left = [b for b in buckets.values() if len(b) > 1]
    while left:
        free = [_free(bucket, used) for bucket in left]
        ranked = sorted((key(f), i) for i, f in enumerate(free) if len(f) > 1)
        if not ranked:
            break
        best = free[ranked[0][1]]
        chosen.append(best)
        used.update(n for g in best for n in g.names)
        left.pop(ranked[0][1])
    return chosen


def _free(bucket: list[_Group], used: set[str]) -> list[_Group]:
    """The groups of `bucket` that share no layer with `used` or an earlier one."""
    free, taken = [], set(used)
    for group in bucket:
        if not taken.intersection(group.names):
            free.append(group)
            taken.update(group.names)
    return free


ORDERS: tuple[Callable, ...] = (
    lambda b: -(len(b) - 1) * len(b[0].names),  # the most layers saved
    lambda b: (-len(b[0].names), -len(b)),  # the largest blocks first
)


# ---- iterating helpers ---------------------------------------------------------------


def leaves(item) -> Iterator[Num]:
    if isinstance(item, Num):
        if item.expr is None:
            yield item
    elif isinstance(item, tuple):
        for part in item:
            yield from leaves(part)


def skeleton(item):
    if isinstance(item, Num):
        return "#" if item.expr is None else ("=", item.expr)
    if isinstance(item, Opaque):
        return None
    if isinstance(item, tuple):
        return tuple(skeleton(p) for p in item)
    return item


def replace(item, fill: Callable[[int, Num], Num], counter: list[int] | None = None):
    """`item` with its open Nums passed through `fill(position, num)`."""
    counter = [0] if counter is None else counter
    if isinstance(item, Num):
        if item.expr is not None:
            return item
        counter[0] += 1
        return fill(counter[0] - 1, item)
    if isinstance(item, tuple):
        return tuple(replace(p, fill, counter) for p in item)
    return item


def name_parts(name: str, label: str = "n") -> tuple:
    """A name with its numbers as Nums: `conv3_block2` -> ("conv", 3, "_block", 2)."""
    parts: list = []
    for i, piece in enumerate(re.split(r"(\d+)", name)):
        if i % 2 and not (len(piece) > 1 and piece.startswith("0")):
            parts.append(Num(int(piece), label))
        elif piece:
            parts.append(piece)
    return tuple(parts)


# ---- blocks ---------------------------------------------------------------------------


def quoted(name: str) -> str:
    from nnspec.keras.importer import RESERVED

    return name if NAME.match(name) and name not in RESERVED else f'"{name}"'


def unique(base: str, taken: set[str]) -> str:
    """`base`, or `base2`, `base3`, ...: a name not in `taken` (which it joins)."""
    from nnspec.keras.importer import RESERVED

    name, n = base, 1
    while name in taken or name in RESERVED or not NAME.match(name):
        n += 1
        name = f"{base}{n}"
    taken.add(name)
    return name


def _values(graph: _Graph, bucket: list[_Group], pos: int) -> dict[str, list[ir.Value]] | None:
    """Each literal argument of layer `pos` of the bucket's groups, per group (the
    registry default where a group leaves it out); None if a default cannot be written."""
    calls = [graph.model.layers[g.names[pos]].call for g in bucket]
    kind = LAYERS[calls[0].name]
    found = [arguments(c) for c in calls]
    keys = [p.name for p in kind.params if any(p.name in f and _literal(f[p.name]) for f in found)]
    table = {}
    for key in keys:
        column = []
        for args in found:
            value = args[key] if key in args else _default(kind, key)
            if value is None:
                return None
            column.append(value)
        table[key] = column
    return table


class _Params:
    """A block's parameters: one per distinct sequence of values over its uses, or a
    multiple of another (`4 * filters`)."""

    def __init__(self, taken: set[str]):
        self.taken = taken
        self.names: list[str] = []
        self.columns: list[tuple[str, ...]] = []
        self.ints: dict[str, tuple[int, ...]] = {}

    def expression(self, key: str, local: str, column: list[ir.Value]) -> str:
        texts = tuple(_plain_text(v) for v in column)
        if texts in self.columns:
            return self.names[self.columns.index(texts)]
        numbers = tuple(ir.plain(v) for v in column)
        if all(type(v) is int and v != 0 for v in numbers):
            for name, base in self.ints.items():
                if all(v % b == 0 for v, b in zip(numbers, base)):
                    factors = {v // b for v, b in zip(numbers, base)}
                    if len(factors) == 1:
                        return f"{factors.pop()} * {name}"
        name = key if key not in self.taken else key + "_" + re.sub(r"\W", "_", local)
        name = unique(name, self.taken)
        self.names.append(name)
        self.columns.append(texts)
        if all(type(v) is int and v != 0 for v in numbers):
            self.ints[name] = numbers
        return name


def _call_text(kind, values: dict[str, ir.Value]) -> str:
    """A layer call from its arguments by name, positional as the importer writes them."""
    from nnspec.keras.importer import _show_call

    args, kwargs, positional = [], [], True
    for param in kind.params:
        if param.name not in values:
            positional = positional and param.required
            continue
        if positional and param.required and param.positional:
            args.append(values[param.name])
        else:
            positional = False
            kwargs.append(ir.Kwarg(param.name, values[param.name], _span()))
    return _show_call(ir.Call(kind.name, tuple(args), tuple(kwargs), _span(), _span()))


def make_block(graph: _Graph, bucket: list[_Group], name: str) -> _Block | None:
    """The block the groups of `bucket` are uses of; None if one cannot be written."""
    first = bucket[0]
    local_names = [first.local(n) for n in first.names]
    params = _Params({*local_names, "x", name})
    body = []
    for pos, local in enumerate(local_names):
        call = graph.model.layers[first.names[pos]].call
        kind = LAYERS[call.name]
        table = _values(graph, bucket, pos)
        if table is None:
            return None
        values = {k: v for k, v in arguments(call).items() if not _literal(v)}
        for key, column in table.items():
            texts = {_plain_text(v) for v in column}
            values[key] = (
                column[0] if len(texts) == 1 else _ident(params.expression(key, local, column))
            )
        body.append(f"    {quoted(local)} = {_call_text(kind, values)}")
    args = [[column[g] for column in params.columns] for g in range(len(bucket))]
    head = f"block {name}({', '.join(params.names)}) {{"
    return _Block(name, bucket, params.names, args, [head, *_wiring(graph, first, body), "}"])


def _ident(text: str) -> ir.Ident:
    return ir.Ident(text, _span())


def _wiring(graph: _Graph, group: _Group, body: list[str]) -> list[str]:
    """A block's body: its layers in a row, or with `input x`, edges and `output`."""
    members = set(group.names)
    previous = group.entry
    chain = True
    for name in group.names:
        inside = [c for c in graph.consumers[name] if c in members]
        chain = chain and graph.sources[name] == [previous]
        previous = name
        if name != group.exit and len(inside) != 1:
            chain = False
    if chain and group.names[-1] == group.exit:
        return body
    from nnspec.keras.importer import Ref, _Layer, _Model

    def ref(source: str) -> Ref:
        return Ref("x" if source not in members else quoted(group.local(source)))

    layers = {}
    for name in group.names:
        local = quoted(group.local(name))
        layer = graph.model.layers[name]
        layers[local] = _Layer(local, layer.call, [[ref(s) for s in graph.sources[name]]])
        layers[local].multi_input = layer.multi_input
    sub = _Model("block", False, {"x": ((), "float32")}, layers, [], [])
    chains = [f"    {c}" for c in sub._chains()]
    return ["    input x", *body, "", *chains, f"    output {quoted(group.local(group.exit))}"]


# ---- the top level ------------------------------------------------------------------


def top_items(graph: _Graph, blocks: list[_Block]) -> list | None:
    """The model as a row of layers and block uses, each fed by the one before; None
    where it is not such a row."""
    from nnspec.keras.importer import _show_call

    starts = {g.names[0]: (b, i) for b in blocks for i, g in enumerate(b.groups)}
    inside = {n for b in blocks for g in b.groups for n in g.names}
    items, spans = [], []
    for name in graph.order:
        if name in starts:
            block, i = starts[name]
            group = block.groups[i]
            args = tuple(_arg(a, p) for a, p in zip(block.args[i], block.params))
            items.append(("use", name_parts(group.prefix), block.name, args))
            spans.append((group.entry, group.exit, set(group.names)))
        elif name not in inside:
            if len(graph.sources[name]) != 1:
                return None
            items.append(("layer", name_parts(name), _show_call(graph.model.layers[name].call)))
            spans.append((graph.sources[name][0], name, {name}))
    previous = next(iter(graph.model.inputs))
    for entry, exit_, members in spans:
        if entry != previous or any(c not in members for c in graph.consumers[previous]):
            return None
        previous = exit_
    return items if previous == graph.output else None


def _arg(text: str, label: str):
    return Num(int(text), label) if re.fullmatch(r"-?\d+", text) else text


# ---- loops --------------------------------------------------------------------------


def _expr(var: str, offset: int) -> str:
    return var if offset == 0 else f"{var} + {offset}" if offset > 0 else f"{var} - {-offset}"


def _name_holes(item) -> int:
    return len(list(leaves(item[1]))) if item[0] in ("layer", "use") else 0


def _run(items: list, shapes: list, p: int) -> tuple[int, list[int]]:
    """How many items from `p` on count up in one name number (each of their numbers
    fixed or counting with it), and the step of each number."""
    first = [n.value for n in leaves(items[p])]
    if p + 1 >= len(items) or shapes[p + 1] != shapes[p] or not first:
        return 1, []
    steps = [b.value - a for b, a in zip(leaves(items[p + 1]), first)]
    counted = any(s == 1 for s in steps[: _name_holes(items[p])])
    if not counted or any(s not in (0, 1) for s in steps):
        return 1, []
    k = 2
    while p + k < len(items) and shapes[p + k] == shapes[p]:
        values = [n.value for n in leaves(items[p + k])]
        if any(v != a + k * s for v, a, s in zip(values, first, steps)):
            break
        k += 1
    return k, steps


def ranges(items: list, var: str) -> list:
    """Runs of items counting up in a number: `for var in range(a, b) { item }`."""
    shapes = [skeleton(i) for i in items]
    out, p = [], 0
    while p < len(items):
        k, steps = _run(items, shapes, p)
        if k < 2:
            out.append(items[p])
            p += 1
            continue
        first = list(leaves(items[p]))
        start = next(n.value for n, s in zip(first, steps) if s == 1)
        body = replace(items[p], _counting(var, start, steps))
        out.append(
            (
                "range",
                var,
                Num(start, "start"),
                Num(start + k, "stop"),
                (body,),
                Opaque(items[p : p + k]),
            )
        )
        p += k
    return out


def _counting(var: str, start: int, steps: list[int]) -> Callable[[int, Num], Num]:
    """A `replace` filler: the numbers counting up as `var` plus their offset."""

    def fill(j: int, num: Num) -> Num:
        if steps[j] != 1:
            return num
        return Num(num.value, num.label, _expr(var, num.value - start))

    return fill


def _repeats(shapes: list, p: int, size: int) -> int:
    k = 1
    while (
        p + (k + 1) * size <= len(shapes)
        and shapes[p + k * size : p + (k + 1) * size] == shapes[p : p + size]
    ):
        k += 1
    return k


def lists(items: list, taken: set[str]) -> list:
    """Runs of the same items differing in numbers: `for (a, b) in [...] { items }`."""
    shapes = [skeleton(i) for i in items]
    out, p = [], 0
    while p < len(items):
        best = None
        for size in range(1, (len(items) - p) // 2 + 1):
            k = _repeats(shapes, p, size)
            if k < 2:
                continue
            loop = _list_loop(items[p : p + k * size], size, k, set(taken))
            if loop is None:
                continue
            saving = sum(lines(i) for i in items[p : p + k * size]) - lines(loop)
            if saving > 0 and (best is None or saving > best[0]):
                best = (saving, loop, k * size)
        if best is None:
            out.append(items[p])
            p += 1
        else:
            out.append(best[1])
            p += best[2]
    return out


def _list_loop(run: list, size: int, k: int, taken: set[str]) -> tuple | None:
    reps = [run[r * size : (r + 1) * size] for r in range(k)]
    values = [[n.value for n in leaves(tuple(rep))] for rep in reps]
    labels = [n.label for n in leaves(tuple(reps[0]))]
    columns: list[tuple[int, ...]] = []
    names: list[str] = []
    chosen: dict[int, str] = {}
    for j in sorted(range(len(labels)), key=lambda j: labels[j] != "n"):  # names' first
        label, column = labels[j], tuple(v[j] for v in values)
        if len(set(column)) == 1:
            continue
        if column not in columns:
            columns.append(column)
            names.append(unique(label, taken))
        chosen[j] = names[columns.index(column)]
    if len(names) > MAX_VARIABLES:
        return None
    body = replace(
        tuple(reps[0]), lambda j, n: Num(n.value, n.label, chosen[j]) if j in chosen else n
    )
    rows = [tuple(c[r] for c in columns) for r in range(k)]
    target = names[0] if len(names) == 1 else "(" + ", ".join(names) + ")"
    shown = ", ".join(str(r[0]) if len(names) == 1 else show_value(r) for r in rows)
    header = f"for {target} in [{shown}] {{"
    head_lines = 1 if len(header) <= 88 else k + 2
    return ("list", header, head_lines, body)


def unroll(items: list) -> list:
    """Range loops that write no fewer lines than their items, back to the items."""
    out = []
    for item in items:
        if item[0] == "range" and len(item[5].items) <= lines(item) - 1:
            out.extend(item[5].items)
        else:
            out.append(item)
    return out


def lines(item) -> int:
    if item[0] == "range":
        return 2 + sum(lines(i) for i in item[4])
    if item[0] == "list":
        return item[2] + 1 + sum(lines(i) for i in item[3])
    return 1


# ---- text ---------------------------------------------------------------------------


def _name_text(parts: tuple) -> str:
    texts = [
        p if isinstance(p, str) else str(p.value) if p.expr is None else "{" + p.expr + "}"
        for p in parts
    ]
    name = "".join(texts)
    return f'"{name}"' if any(isinstance(p, Num) and p.expr for p in parts) else quoted(name)


def _value_text(value) -> str:
    if isinstance(value, Num):
        return str(value.value) if value.expr is None else value.expr
    return value


def render(item, depth: int = 1) -> list[str]:
    pad = "    " * depth
    if item[0] == "layer":
        return [f"{pad}{_name_text(item[1])} = {item[2]}"]
    if item[0] == "use":
        args = ", ".join(_value_text(a) for a in item[3])
        return [f"{pad}{_name_text(item[1])} = {item[2]}({args})"]
    if item[0] == "range":
        head = f"{pad}for {item[1]} in range({_value_text(item[2])}, {_value_text(item[3])}) {{"
        body = item[4]
    else:
        head, body = pad + item[1], item[3]
    return [head, *(line for i in body for line in render(i, depth + 1)), pad + "}"]


def block_name(prefix: str, taken: set[str]) -> str:
    base = re.sub(r"_+", "_", re.sub(r"\d+", "", prefix)).strip("_")
    from nnspec.keras.importer import RESERVED

    if not NAME.match(base) or base in RESERVED:
        base = "unit"
    return unique(base, taken)


def attempt(graph: _Graph, groups: list[_Group], key: Callable, flat: str) -> str | None:
    """The folded text with the buckets taken in the order of `key`; None if the
    model does not fold so."""
    taken = set(graph.taken) | set(LAYERS) | {"i"}
    blocks = make_blocks(graph, choose(groups, graph, key), taken)
    if not blocks:
        return None
    items = top_items(graph, blocks)
    if items is None:
        return None
    items = unroll(lists(ranges(items, "i"), taken))
    head, tail = _frame(flat)
    body = [line for item in items for line in render(item)]
    defs = [line for block in blocks for line in [*block.text, ""]]
    return "\n".join([*head, *defs, "sequential {", *body, "}", *tail]) + "\n"


def make_blocks(graph: _Graph, buckets: list[list[_Group]], taken: set[str]) -> list[_Block]:
    """A block per bucket; a bucket whose groups are another bucket's plus a layer
    merging the group's input with their output (a residual) uses the other's block."""
    shapes = [signature(graph, b[0]) for b in buckets]
    nested: dict[int, list[tuple[int, list[_Group]]]] = {}  # plain bucket -> residuals
    for j, bucket in enumerate(buckets):
        core = [_core(graph, g) for g in bucket]
        if any(c is None for c in core):
            continue
        found = {signature(graph, c) for c in core}  # type: ignore[arg-type]
        if len(found) == 1 and (shape := found.pop()) in shapes:
            nested.setdefault(shapes.index(shape), []).append((j, core))  # type: ignore[arg-type]
    residual = {j for pairs in nested.values() for j, _ in pairs}
    for i in residual.intersection(nested):  # a residual around a residual: not nested
        residual.difference_update(j for j, _ in nested.pop(i))
    blocks: list[_Block] = []
    for i, bucket in enumerate(buckets):
        if i in residual:
            continue
        pairs = nested.get(i, [])
        block = make_block(
            graph,
            [*bucket, *(c for _, core in pairs for c in core)],
            block_name(bucket[0].prefix, taken),
        )
        if block is None:
            continue
        blocks.append(
            _Block(block.name, bucket, block.params, block.args[: len(bucket)], block.text)
        )
        start = len(bucket)
        for j, core in pairs:
            args = block.args[start : start + len(core)]
            start += len(core)
            name = block_name(buckets[j][0].prefix, taken)
            blocks.append(_residual(graph, buckets[j], name, block, args))
    return blocks


def _core(graph: _Graph, group: _Group) -> _Group | None:
    """The group without its exit, when the exit merges the group's input with the
    output of the rest: `[x, rest] -> add`."""
    sources = graph.sources[group.exit]
    names = [n for n in group.names if n != group.exit]
    if len(sources) != 2 or group.entry not in sources or not names:
        return None
    inner = next(s for s in sources if s != group.entry)
    if inner not in names or graph.consumers[inner] != [group.exit]:
        return None
    return graph.group(group.prefix, names)


def _residual(graph: _Graph, bucket: list[_Group], name: str, inner: _Block, args) -> _Block:
    """The block of a residual bucket: its merge layer fed by `x` and by `inner`."""
    from nnspec.keras.importer import _show_call

    group = bucket[0]
    merge = quoted(group.local(group.exit))
    params = ", ".join(inner.params)
    edges = [
        f"    x -> {merge}" if s == group.entry else f"    x -> {inner.name}({params}) -> {merge}"
        for s in graph.sources[group.exit]
    ]
    text = [
        f"block {name}({params}) {{",
        "    input x",
        f"    {merge} = {_show_call(graph.model.layers[group.exit].call)}",
        *edges,
        f"    output {merge}",
        "}",
    ]
    return _Block(name, bucket, inner.params, args, text)


def _frame(flat: str) -> tuple[list[str], list[str]]:
    """The flat text before its `graph` and after its `output`."""
    text = flat.splitlines()
    start = text.index("graph {")
    end = next(i for i in range(start, len(text)) if text[i].startswith("output "))
    return text[:start], text[end + 1 :]


def fingerprint(model: CheckedModel) -> tuple:
    """What a folded import must share with the flat one: inputs, every layer's name,
    type and whole configuration, every edge, the outputs."""
    return (
        [(i.name, i.shape, i.dtype) for i in model.inputs],
        {name: _norm(layer.call) for name, layer in model.layers.items()},
        sorted(
            (n.layer, n.app, tuple((r.source, r.app, r.index) for r in n.inputs))
            for n in model.nodes
        ),
        [(r.source, r.app, r.index) for r in model.outputs],
    )


def _norm(value):
    if isinstance(value, LayerCall):
        return ("layer", value.type.name, _norm(dict(value.config)))
    if isinstance(value, ir.Call):
        kwargs = tuple((kw.name, _norm(kw.value)) for kw in value.kwargs)
        return ("call", value.name, tuple(_norm(a) for a in value.args), kwargs)
    if isinstance(value, ir.Ident):
        return ("word", value.name)
    if isinstance(value, (ir.Const, ir.Seq, ir.Mapping)):
        return _norm(ir.plain(value))
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_norm(v) for v in value))
    return (type(value).__name__, value)


def fold(model, flat: str, reference: CheckedModel, fmt: Callable[[str], str]):
    """(text, checked model) of the folded spec, proven to make `reference`; None
    where folding does not apply, does not shorten the spec or is not proven."""
    from nnspec.check.pipeline import compile_text

    if not foldable(model):
        return None
    graph = _Graph(model)
    groups = graph.candidates()
    texts = {attempt(graph, groups, key, flat) for key in ORDERS} - {None}
    expected = None
    for text in sorted(texts, key=lambda t: (t.count("\n"), t)):  # type: ignore[union-attr]
        text = fmt(text)
        if text.count("\n") >= flat.count("\n"):
            continue
        result = compile_text(text)
        if not result.ok or result.model is None:
            continue
        expected = expected or fingerprint(reference)
        if fingerprint(result.model) == expected:
            return text, result.model
    return None
