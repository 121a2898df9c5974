"""`gen` of a spec with parameters and blocks: the Python a Keras user writes.

Parameters become module constants (`STAGES = [...]`), each block a function
(`def bottleneck(x, filters, stride=1, project=False, name=None):`) whose layers are
named from the use (`name=f"{name}_add"`), loops and conditions are Python's own, and
`build_model()` calls the functions, as keras.applications' own source does. A block
without `input` ports is a sequence (`x = layers.Conv2D(...)(x)`); one with ports a
graph, with a variable per local layer. A layer argument written as an expression
(`4 * filters`) is written as one, always (its value varies); the others exactly as
the flat script writes them. A use without a name is transparent: it passes its
caller's `name` on.

The statements hold Python source made only by `literal`, `identifier` and the
templates' `py` macro (`show`); `templates/blocks.py.j2` lays them out. What this
writer does not express (a loop in a graph body, a layer applied twice, an argument
whose expression is a call...) raises `Unsupported`: `gen` then writes the flat
script, as it does when `replay.py` finds that the functions would not build the
checked model exactly.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Iterator

from msgspec import Struct, field, structs

from nnspec.check.model import CheckedModel
from nnspec.keras.calls import Code, PyCall, call, literal, python_name
from nnspec.keras.emitters import EMITTERS, LIST, ONE, Problems, generic
from nnspec.keras.plan import SKLEARN_FUNCTIONS, Program
from nnspec.syntax import ir
from nnspec.vocab.layers import LAYERS
from nnspec.vocab.layers.registry import LayerCall
from nnspec.vocab.params import bind

LINE = 88  # black's default line length, which ruff's SIM108 measures against

# Names the script defines or imports: a block's function or a constant takes none.
_SCRIPT_NAMES = frozenset(
    ["keras", "layers", "np", "pd", "tf", "csv", "gzip", "Figure", "MaxNLocator"]
    + ["train_test_split", "preprocess", "load_data", "build_model", "plot_history", "main"]
    + ["prediction_rows", "write_predictions", *SKLEARN_FUNCTIONS.values()]
)
_BUILTINS = frozenset(dir(builtins))
_LEVELS = {"or": 1, "and": 2, "+": 5, "-": 5, "*": 6, "/": 6, "//": 6, "%": 6}
_MIRRORED = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}
_IN_FSTRING = re.compile(r"[\w .+\-*/%()\[\],<>=]*", re.ASCII)


class Unsupported(Exception):
    """A construct this writer does not express: `gen` writes the flat script."""


# ---- statements -------------------------------------------------------------------------


class Assign(Struct, frozen=True):
    """`target = value`, or the expression alone where `target` is None."""

    target: str | None
    value: str
    conditional: bool = False  # `value` is `a if c else b`


class Loop(Struct, frozen=True):
    target: str
    iterable: str
    body: tuple


class Branch(Struct, frozen=True):
    """`if c: ... elif d: ... else: ...`: `arms` holds (condition, body) pairs."""

    arms: tuple[tuple[str, tuple], ...]
    otherwise: tuple


class Return(Struct, frozen=True):
    value: str


class Function(Struct, frozen=True):
    name: str
    params: str  # the signature, as written between the parentheses
    body: tuple


class Structured(Struct, frozen=True):
    """What `templates/blocks.py.j2` writes: constants, block functions, build_model."""

    constants: tuple[tuple[str, str], ...]
    functions: tuple[Function, ...]
    build: tuple


# ---- names and values ----------------------------------------------------------------------


class _Names:
    """The Python names taken in one scope: a spec name is kept where it is free,
    else it gets a trailing underscore (`class` -> `class_`)."""

    def __init__(self, taken=()):
        self.taken = set(taken)

    def fresh(self, wanted: str) -> str:
        name = python_name(wanted, self.taken)  # a quoted local name such as "1": x1
        self.taken.add(name)
        return name

    def copy(self) -> _Names:
        return _Names(self.taken)


class _Printer:
    """Spec values as Python expressions; `names` maps the spec's variables in scope
    (parameters, block arguments, loop variables) to their Python names. A bare word
    that names no variable is a string (`relu` -> `"relu"`), as Keras takes it."""

    def __init__(self, names: dict[str, str]):
        self.names = names

    def inner(self, more: dict[str, str]) -> _Printer:
        return _Printer({**self.names, **more})

    def varies(self, value) -> bool:
        return not _idents(value).isdisjoint(self.names)

    def value(self, value, level: int = 0) -> str:
        if isinstance(value, ir.Const):
            return literal(value.value)
        if isinstance(value, ir.Ident):
            return self.names.get(value.name) or literal(value.name)
        if isinstance(value, ir.Seq):
            items = [self.value(v) for v in value.items]
            if value.is_list:
                return f"[{', '.join(items)}]"
            return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
        if isinstance(value, ir.Mapping):
            entries = (f"{literal(e.key)}: {self.value(e.value)}" for e in value.entries)
            return "{" + ", ".join(entries) + "}"
        if isinstance(value, ir.Operation):
            return self.operation(value, level)
        if isinstance(value, ir.Call) and value.name == "range" and not value.kwargs:
            return f"range({', '.join(self.value(a) for a in value.args)})"
        raise Unsupported(f"a value of {type(value).__name__}")

    def operation(self, op: ir.Operation, level: int) -> str:
        """With Python's precedence; as ruff's SIM201 and SIM300 ask (`a != b`, `n > 1`)."""
        operands = op.operands
        if op.op == "not" and isinstance(operands[0], ir.Operation):
            inner = operands[0]
            if inner.op in ("==", "!="):
                flipped = "!=" if inner.op == "==" else "=="
                return self.operation(ir.Operation(flipped, inner.operands, inner.span), level)
        if op.op == "not":
            text, mine = f"not {self.value(operands[0], 3)}", 3
        elif len(operands) == 1:
            text, mine = f"{op.op}{self.value(operands[0], 7)}", 7
        elif op.op in _MIRRORED:
            left, right = operands
            name = op.op
            if isinstance(left, ir.Const) and not isinstance(right, ir.Const):
                left, right, name = right, left, _MIRRORED[name]
            text, mine = f"{self.value(left, 5)} {name} {self.value(right, 5)}", 4
        else:
            mine = _LEVELS[op.op]
            parts = [self.value(v, mine if i == 0 else mine + 1) for i, v in enumerate(operands)]
            text = f" {op.op} ".join(parts)
        return f"({text})" if mine < level else text


def _idents(value) -> set[str]:
    """The bare names a value (or a name template) reads."""
    if isinstance(value, ir.Ident):
        return {value.name}
    if isinstance(value, (ir.Seq, ir.Operation)):
        items = value.items if isinstance(value, ir.Seq) else value.operands
        return set().union(*map(_idents, items))
    if isinstance(value, ir.Mapping):
        return set().union(*(_idents(e.value) for e in value.entries))
    if isinstance(value, ir.Call):
        return set().union(*map(_idents, value.args), *(_idents(k.value) for k in value.kwargs))
    if isinstance(value, ir.Template):
        return set().union(*(_idents(p) for p in value.parts if not isinstance(p, str)))
    return set()


def _read_by(items) -> set[str]:
    """Every bare name the items read: in arguments, names, loops and conditions."""
    found: set[str] = set()
    for item in items:
        if isinstance(item, ir.LayerDecl):
            found |= _idents(item.call) | _idents(item.name)
        elif isinstance(item, ir.Chain):
            for node in item.nodes:
                for ref in node.refs if isinstance(node, ir.RefList) else (node,):
                    found |= _idents(ref.name if isinstance(ref, ir.Ref) else ref)
        elif isinstance(item, ir.For):
            found |= _idents(item.iterable) | _read_by(item.items)
        elif isinstance(item, ir.If):
            found |= _idents(item.condition) | _read_by(item.then) | _read_by(item.otherwise)
    return found


def _fstring(parts: list) -> str:
    """A layer name as Python source: a string, or an f-string of its parts (text
    and `Code`); `+` and `str()` where an expression cannot stand in an f-string."""
    if all(isinstance(p, str) for p in parts):
        return literal("".join(parts))
    if all(isinstance(p, str) or _IN_FSTRING.fullmatch(p.text) for p in parts):
        body = "".join(_escaped(p) if isinstance(p, str) else f"{{{p.text}}}" for p in parts)
        return f'f"{body}"'
    pieces = [literal(p) if isinstance(p, str) else f"str({p.text})" for p in parts if p != ""]
    return " + ".join(pieces)


def _escaped(text: str) -> str:
    """Text inside a double-quoted f-string."""
    out = []
    for c in text:
        if c in '{}"\\':
            out.append({"{": "{{", "}": "}}", '"': '\\"', "\\": "\\\\"}[c])
        elif c.isprintable():
            out.append(c)
        else:
            out.append(c.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def _uses(items) -> Iterator[tuple[object, ir.Call]]:
    """(name, call) of every layer or block use the items make, in loops and branches."""
    for item in items:
        if isinstance(item, ir.LayerDecl):
            yield item.name, item.call
        elif isinstance(item, ir.Chain):
            yield from ((None, n) for n in item.nodes if isinstance(n, ir.Call))
        elif isinstance(item, ir.For):
            yield from _uses(item.items)
        elif isinstance(item, ir.If):
            yield from _uses(item.then)
            yield from _uses(item.otherwise)


def _simplified(items) -> tuple:
    """Conditions as ruff wants them: `if a and b` for an `if` holding one `if`
    alone (SIM102), `if not c` for an empty `then`."""
    out = []
    for item in items:
        if isinstance(item, ir.For):
            item = structs.replace(item, items=_simplified(item.items))
        elif isinstance(item, ir.If):
            then, otherwise = _simplified(item.then), _simplified(item.otherwise)
            cond = item.condition
            if not then and otherwise:
                cond, then, otherwise = _negated(cond), otherwise, ()
            while not otherwise and len(then) == 1 and isinstance(then[0], ir.If):
                if then[0].otherwise:
                    break
                cond = ir.Operation("and", (cond, then[0].condition), cond.span)
                then = then[0].then
            item = ir.If(cond, then, otherwise, item.span)
        out.append(item)
    return tuple(out)


def _negated(cond):
    if isinstance(cond, ir.Operation) and cond.op == "not":
        return cond.operands[0]
    return ir.Operation("not", (cond,), cond.span)


# ---- the writer ---------------------------------------------------------------------------


class _Block(Struct):
    """What a call of a block's function needs to know, and its function's names."""

    function: str
    params: dict[str, str]  # spec parameter -> Python parameter
    names: _Names
    tensors: list[str]  # the tensor parameters: `x`, or the `input` ports
    bare: bool  # some use has no name prefix: layer names are made from `prefix`
    name_var: str


class _Context(Struct):
    """Where statements are written: the names in scope and how layers are named."""

    printer: _Printer
    names: _Names
    mode: str  # "top": names as written; "name": f"{name}_..."; "prefix": f"{prefix}..."
    depth: int = 1  # of indentation
    x: str = "x"  # the variable a sequence goes on in
    name_var: str = "name"
    prefix_var: str = "prefix"

    def inner(self, **changes) -> _Context:
        return structs.replace(self, **changes)


def structured(
    spec: ir.Spec, model: CheckedModel, program: Program, show: Callable[[object], str]
) -> Structured:
    """The script's constants, block functions and build_model statements for `spec`
    (the IR as written), whose checked model is `model` and flat program `program`;
    `show` renders a `PyCall` as the templates do. Raises Unsupported."""
    return _Writer(spec, model, program, show).write()


class _Writer:
    def __init__(
        self, spec: ir.Spec, model: CheckedModel, program: Program, show: Callable[[object], str]
    ):
        self.spec, self.model, self.program, self.show = spec, model, program, show
        self.ir_blocks: dict[str, ir.Block] = {}
        for block in spec.blocks:
            self.ir_blocks.setdefault(block.name, block)
        module = _Names(_SCRIPT_NAMES | _BUILTINS)
        used = self.used_blocks()
        functions = {name: module.fresh(name) for name in used}
        self.constants = {p.name: module.fresh(p.name.upper()) for p in spec.params}
        self.local = (module.taken - _BUILTINS) | {"range", "str"}
        bare = self.bare_blocks()
        self.blocks = {
            name: self.block_names(self.ir_blocks[name], functions[name], name in bare)
            for name in used
        }

    def used_blocks(self) -> list[str]:
        """The blocks the architecture uses, directly or through others, in spec order."""
        found: set[str] = set()
        todo = [self.spec.architecture.items] if self.spec.architecture else []
        while todo:
            for _, use in _uses(todo.pop()):
                if use.name in self.ir_blocks and use.name not in found:
                    found.add(use.name)
                    todo.append(self.ir_blocks[use.name].items)
        return [name for name in self.ir_blocks if name in found]

    def bare_blocks(self) -> set[str]:
        """Blocks some use leaves without a name prefix: unnamed at the top, or unnamed
        inside such a block."""
        bare: set[str] = set()
        todo = [self.spec.architecture.items] if self.spec.architecture else []
        while todo:
            for name, use in _uses(todo.pop()):
                if name is None and use.name in self.ir_blocks and use.name not in bare:
                    bare.add(use.name)
                    todo.append(self.ir_blocks[use.name].items)
        return bare

    def block_names(self, block: ir.Block, function: str, bare: bool) -> _Block:
        names = _Names(self.local)
        name_var = names.fresh("name")
        ports = _ports(block, "input") if block.is_graph else ()
        tensors = [names.fresh(r.name) for r in ports] if ports else [names.fresh("x")]
        params = {p.name: names.fresh(p.name) for p in block.params}
        return _Block(function, params, names, tensors, bare, name_var)

    # ---- the whole script -----------------------------------------------------------------

    def write(self) -> Structured:
        constants = tuple(self.constant_lines())
        functions = tuple(self.function(self.ir_blocks[name], b) for name, b in self.blocks.items())
        return Structured(constants, functions, self.build())

    def constant_lines(self) -> Iterator[tuple[str, str]]:
        """The parameters the functions and build_model read, and those they read."""
        read = _read_by(self.spec.architecture.items) if self.spec.architecture else set()
        for block in self.blocks:
            ir_block = self.ir_blocks[block]
            read |= _read_by(ir_block.items)
            read |= set().union(*(_idents(p.default) for p in ir_block.params if p.default))
        printer = _Printer({})
        lines = []
        for param in reversed(self.spec.params):
            if param.name in read:
                read |= _idents(param.value)
                lines.append(param)
        for param in reversed(lines):
            yield self.constants[param.name], printer.value(param.value)
            printer = printer.inner({param.name: self.constants[param.name]})

    def function(self, block: ir.Block, names: _Block) -> Function:
        printer = _Printer({**self.constants, **names.params})
        ctx = _Context(printer, names.names, "prefix" if names.bare else "name")
        ctx = ctx.inner(x=names.tensors[0], name_var=names.name_var)
        body: list = []
        if names.bare:
            ctx = ctx.inner(prefix_var=names.names.fresh("prefix"))
            text = f'f"{{{names.name_var}}}_" if {names.name_var} else ""'
            body.append(Assign(ctx.prefix_var, text))
        items = tuple(i for i in block.items if not isinstance(i, ir.Ports))
        if block.is_graph:
            ports = dict(zip((r.name for r in _ports(block, "input")), names.tensors))
            statements, results = _Graph(self, ctx, ports).write(items, _ports(block, "output"))
            body += [*statements, Return(", ".join(results))]
        else:
            statements, last = self.sequence(_simplified(items), ctx, ctx.x)
            body += [*statements, Return(last)]
        return Function(names.function, self.signature(block, names), tuple(body))

    def signature(self, block: ir.Block, names: _Block) -> str:
        printer = _Printer(dict(self.constants))
        parts = list(names.tensors)
        defaults = False
        for param in block.params:
            py = names.params[param.name]
            if param.default is None:
                if defaults:
                    raise Unsupported("a parameter without a default after one with")
                parts.append(py)
                continue
            defaults = True
            default = param.default
            if isinstance(default, ir.Mapping):  # ruff B006: no mutable default
                raise Unsupported("a mapping as a default")
            if isinstance(default, ir.Seq) and default.is_list:  # ruff B006: no mutable default
                default = ir.Seq(default.items, False, default.span)
            parts.append(f"{py}={printer.value(default)}")
        return ", ".join([*parts, f"{names.name_var}=None"])

    def build(self) -> tuple:
        """build_model's statements: the inputs, the architecture, the model."""
        names = _Names(self.local)
        arch = self.spec.architecture
        if arch is None:
            raise Unsupported("no architecture")
        ctx = _Context(_Printer(dict(self.constants)), names, "top")
        if isinstance(arch, ir.Sequential):
            ctx = ctx.inner(x=names.fresh("x"))
        variables = [names.fresh(name) for name in self.input_names()]
        made = [self.show(call) for _, call in self.program.inputs]
        statements: list = [Assign(v, m) for v, m in zip(variables, made)]
        if isinstance(arch, ir.Sequential):
            if len(variables) != 1:
                raise Unsupported("a sequence of several inputs")
            body, last = self.sequence(_simplified(arch.items), ctx, variables[0])
            outputs = [last]
        else:
            ports = dict(zip(self.input_names(), variables))
            refs = list(self.spec.outputs.refs) if self.spec.outputs else None
            body, outputs = _Graph(self, ctx, ports).write(arch.items, refs)
        model = PyCall(
            "keras.Model",
            (),
            (
                ("inputs", Code(_listed(variables))),
                ("outputs", Code(_listed(outputs))),
                ("name", self.program.name),
            ),
        )
        return (*statements, *body, Return(self.show(model)))

    def input_names(self) -> list[str]:
        return [d.name for d in self.spec.inputs]

    # ---- sequences ------------------------------------------------------------------------

    def sequence(self, items, ctx: _Context, last: str) -> tuple[list, str]:
        """Statements for the items of a sequence fed `last`; the variable it ends in."""
        out: list = []
        for item in items:
            if isinstance(item, ir.LayerDecl):
                out.append(Assign(ctx.x, self.node(item.name, item.call, ctx, [last])))
                last = ctx.x
                continue
            if not isinstance(item, (ir.For, ir.If)):
                raise Unsupported("an edge or a port in a sequence")
            made = self.loop(item, ctx) if isinstance(item, ir.For) else self.branch(item, ctx)
            if made and last != ctx.x:  # the loop or branch goes on in ctx.x
                out.append(Assign(ctx.x, last))
                last = ctx.x
            out += made
        return out, last

    def loop(self, loop: ir.For, ctx: _Context) -> list:
        names = ctx.names.copy()
        read = _read_by(loop.items)
        targets = {}
        for target in loop.targets:
            if target in read:
                targets[target] = names.fresh(target)
            else:  # ruff B007: a variable the body does not read
                targets[target] = "_" if len(loop.targets) == 1 else names.fresh(f"_{target}")
        inner = ctx.inner(printer=ctx.printer.inner(targets), names=names, depth=ctx.depth + 1)
        body, _ = self.sequence(loop.items, inner, ctx.x)
        if not body:
            return []
        return [Loop(", ".join(targets.values()), ctx.printer.value(loop.iterable), tuple(body))]

    def branch(self, item: ir.If, ctx: _Context) -> list:
        inner = ctx.inner(depth=ctx.depth + 1)
        then, _ = self.sequence(item.then, inner, ctx.x)
        otherwise, _ = self.sequence(item.otherwise, inner, ctx.x)
        return self.conditional(item.condition, then, otherwise, ctx)

    def conditional(self, cond, then: list, otherwise: list, ctx: _Context) -> list:
        """An `if` statement; `a = b if c else d` where ruff's SIM108 would ask for it
        (one assignment to the same variable in each branch, and the line fits)."""
        if not then and not otherwise:
            return []
        if not then:
            cond, then, otherwise = _negated(cond), otherwise, []
        if len(then) == len(otherwise) == 1 and _same_target(then[0], otherwise[0]):
            yes, no = then[0], otherwise[0]
            if isinstance(cond, ir.Operation) and cond.op == "not":  # ruff SIM212
                cond, yes, no = cond.operands[0], no, yes
            first = f"({yes.value})" if yes.conditional else yes.value
            text = f"{first} if {ctx.printer.value(cond)} else {no.value}"
            if 4 * ctx.depth + len(f"{yes.target} = {text}") <= LINE:
                return [Assign(yes.target, text, conditional=True)]
        arms = ((ctx.printer.value(cond), tuple(then)),)
        if len(otherwise) == 1 and isinstance(otherwise[0], Branch):
            return [Branch(arms + otherwise[0].arms, otherwise[0].otherwise)]
        return [Branch(arms, tuple(otherwise))]

    # ---- layers and block uses --------------------------------------------------------------

    def node(self, local, call: ir.Call, ctx: _Context, inputs: list[str]) -> str:
        """A layer applied to `inputs`, or a block's function called on them."""
        name = None if local is None else self.name_of(local, ctx)
        if call.name in self.blocks:
            return self.block_call(call, ctx, inputs, name)
        made = self.layer_call(call, ctx, name)
        takes = EMITTERS[call.name].takes
        if takes == ONE and len(inputs) != 1:
            raise Unsupported("a layer of one input given several")
        if takes == LIST:
            return f"{made}([{', '.join(inputs)}])"
        return f"{made}({', '.join(inputs)})"

    def name_of(self, local, ctx: _Context) -> str:
        """The Keras name of a layer or use as Python source (`f"{name}_conv"`)."""
        parts: list = (
            [local]
            if isinstance(local, str)
            else [p if isinstance(p, str) else Code(ctx.printer.value(p)) for p in local.parts]
        )
        if ctx.mode == "name":
            parts = [Code(ctx.name_var), "_", *parts]
        elif ctx.mode == "prefix":
            parts = [Code(ctx.prefix_var), *parts]
        return _fstring(parts)

    def block_call(self, use: ir.Call, ctx: _Context, inputs: list[str], name) -> str:
        block = self.blocks[use.name]
        if len(inputs) != len(block.tensors) or len(use.args) > len(block.params):
            raise Unsupported("a block use that does not fit its function")
        args = [Code(i) for i in inputs] + [Code(ctx.printer.value(a)) for a in use.args]
        kwargs = []
        for kwarg in use.kwargs:
            if kwarg.name not in block.params:
                raise Unsupported(f"no parameter {kwarg.name}")
            kwargs.append((block.params[kwarg.name], Code(ctx.printer.value(kwarg.value))))
        if name is None and ctx.mode != "top":
            name = ctx.name_var  # transparent: the caller's name
        if name is not None:
            kwargs.append((block.name_var, Code(name)))
        return self.show(PyCall(block.function, tuple(args), tuple(kwargs)))

    def layer_call(self, layer: ir.Call, ctx: _Context, name: str | None) -> str:
        """The layer's constructor: literal arguments as the flat script writes them,
        the others as expressions."""
        kind = LAYERS.get(layer.name)
        if kind is None:
            raise Unsupported(f"layer type {layer.name}")
        positional = [p for p in kind.params if p.positional]
        by_name = {p.name: p for p in kind.params}
        if len(layer.args) > len(positional) or any(k.name not in by_name for k in layer.kwargs):
            raise Unsupported("arguments that do not bind")
        given = [*zip(positional, layer.args), *((by_name[k.name], k.value) for k in layer.kwargs)]
        exprs = {p.name: Code(ctx.printer.value(v)) for p, v in given if ctx.printer.varies(v)}
        fixed = tuple(ir.Kwarg(p.name, v, v.span) for p, v in given if p.name not in exprs)
        bound = bind(ir.Call(layer.name, (), fixed, layer.span, layer.name_span), kind.params, "")
        if any(d.code != "E103" for d in bound.diagnostics):
            raise Unsupported("arguments that do not bind")
        emitter = EMITTERS[kind.name]
        if exprs and emitter.construct is not generic:
            raise Unsupported("an expression in a wrapper's arguments")
        if exprs:
            made = call(f"layers.{kind.name}", kind.params, bound.config, exprs=exprs)
        else:
            problems = Problems()
            made = emitter.construct(LayerCall(kind, bound.config, layer), problems)
            if made is None or problems.diagnostics:
                raise Unsupported("a layer the emitters cannot write")
        if name is not None:
            made = PyCall(made.func, made.args, (*made.kwargs, ("name", Code(name))))
        return self.show(made)


def _ports(block: ir.Block, keyword: str) -> list[ir.Ref]:
    """The refs of a block's `input` or `output` items."""
    return [
        r for i in block.items if isinstance(i, ir.Ports) and i.keyword == keyword for r in i.refs
    ]


def _same_target(a, b) -> bool:
    return isinstance(a, Assign) and isinstance(b, Assign) and a.target == b.target is not None


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"[{', '.join(names)}]"


# ---- graph bodies ----------------------------------------------------------------------------


class _Node(Struct):
    """A layer or block use of a graph body, declared or written inline in an edge."""

    order: tuple  # where the spec writes it: emitted in this order where the edges allow
    local: str | None  # None: written inline in an edge
    call: ir.Call
    guard: tuple  # the (If, branch) pairs it stands in, outermost first
    feeds: list = field(default_factory=list)  # (sources, guard) of each edge into it
    var: str = ""
    readers: int = 0


class _Source(Struct, frozen=True):
    node: _Node | None  # None: a port (an input of the block or of the model)
    port: str
    index: int | None = None

    @property
    def text(self) -> str:
        if self.node is None:
            return self.port
        return self.node.var if self.index is None else f"{self.node.var}[{self.index}]"


class _Graph:
    """The statements of a graph body: one variable per local layer, in an order the
    edges allow; an `if` whose branches feed a layer outside it assigns the same
    variables in both (`x0 = x` in the `else` of ResNet's projection shortcut)."""

    def __init__(self, writer: _Writer, ctx: _Context, ports: dict[str, str]):
        self.writer, self.ctx, self.ports = writer, ctx, ports
        self.nodes: list[_Node] = []
        self.decls: dict[str, _Node] = {}
        self.ifs: list[tuple[ir.If, tuple, tuple]] = []  # (if, its guard, order)
        self.counter = 0
        self.inputs: dict[int, list[str]] = {}
        self.assigns: dict[tuple[int, bool], list[Assign]] = {}
        self.by_var: dict[str, _Node] = {}

    def write(self, items, outputs: list[ir.Ref] | None) -> tuple[list, list[str]]:
        chains: list = []
        self.collect(
            _simplified(tuple(i for i in items if not isinstance(i, ir.Ports))), (), chains
        )
        self.wire(chains)
        results = [self.source(r) for r in outputs] if outputs else self.model_outputs()
        for source in results:
            if source.node is not None:
                source.node.readers += 1
        for node in self.nodes:
            self.inputs[id(node)] = self.resolve(node, node.guard, node.feeds)
        return self.level((), self.ctx.depth), [s.text for s in results]

    def model_outputs(self) -> list[_Source]:
        """The model's outputs where the spec has no `output` statement: what no edge
        reads, in the spec's order (the replay checks it is the checked model's)."""
        found = []
        for node in self.nodes:
            if node.readers:
                continue
            block = self.writer.ir_blocks.get(node.call.name)
            count = len(_ports(block, "output")) if node.call.name in self.writer.blocks else 1
            found += [_Source(node, "", i if count > 1 else None) for i in range(count)]
        if len(found) != len(self.writer.model.outputs):
            raise Unsupported("outputs the edges do not tell")
        return found

    # ---- the body as data -----------------------------------------------------------------

    def collect(self, items, guard: tuple, chains: list) -> None:
        for item in items:
            self.counter += 1
            order = (self.counter,)
            if isinstance(item, ir.LayerDecl):
                if not isinstance(item.name, str) or item.name in self.decls | self.ports:
                    raise Unsupported("a graph layer named by a template, or twice")
                node = self.add(_Node(order, item.name, item.call, guard))
                self.decls[item.name] = node
            elif isinstance(item, ir.Chain):
                chains.append((item, guard, order))
            elif isinstance(item, ir.If):
                self.ifs.append((item, guard, order))
                self.collect(item.then, (*guard, (item, True)), chains)
                self.collect(item.otherwise, (*guard, (item, False)), chains)
            else:
                raise Unsupported("a loop in a graph body")

    def add(self, node: _Node) -> _Node:
        if node.local is not None:
            node.var = self.ctx.names.fresh(node.local)
        elif node.call.name in self.writer.blocks:
            node.var = self.ctx.names.fresh(f"{self.writer.blocks[node.call.name].function}_out")
        else:
            node.var = self.ctx.names.fresh(LAYERS[node.call.name].snake_name)
        self.nodes.append(node)
        self.by_var[node.var] = node
        return node

    def wire(self, chains: list) -> None:
        """The edges, in the order the expansion makes them: a chain that starts from a
        block use waits until an edge feeds that use."""
        while chains:
            waiting, chains = chains, []
            for chain, guard, order in waiting:
                first = chain.nodes[0]
                refs = first.refs if isinstance(first, ir.RefList) else (first,)
                if any(self.unfed(r) for r in refs):
                    chains.append((chain, guard, order))
                else:
                    self.chain(chain, guard, order)
            if len(chains) == len(waiting):
                raise Unsupported("a block use never fed")

    def unfed(self, ref) -> bool:
        node = (
            self.decls.get(ref.name)
            if isinstance(ref, ir.Ref) and isinstance(ref.name, str)
            else None
        )
        return node is not None and node.call.name in self.writer.blocks and not node.feeds

    def chain(self, chain: ir.Chain, guard: tuple, order: tuple) -> None:
        first = chain.nodes[0]
        if isinstance(first, ir.Call):
            raise Unsupported("an edge from a layer fed nothing")
        current = [
            self.source(r) for r in (first.refs if isinstance(first, ir.RefList) else (first,))
        ]
        for position, element in enumerate(chain.nodes[1:], 1):
            following = []
            for target in element.refs if isinstance(element, ir.RefList) else (element,):
                if isinstance(target, ir.Call):
                    node, index = self.add(_Node((*order, position), None, target, guard)), None
                elif isinstance(target.name, str) and target.name in self.decls:
                    node, index = self.decls[target.name], target.index
                else:
                    raise Unsupported("an edge into a port or an unknown name")
                node.feeds.append((list(current), guard))
                for source in current:
                    if source.node is not None:
                        source.node.readers += 1
                following.append(_Source(node, "", index))
            current = following

    def source(self, ref: ir.Ref) -> _Source:
        if not isinstance(ref.name, str):
            raise Unsupported("a reference by a template")
        if ref.name in self.ports and ref.index is None:
            return _Source(None, self.ports[ref.name])
        if ref.name in self.decls:
            return _Source(self.decls[ref.name], "", ref.index)
        raise Unsupported(f"a reference to {ref.name}")

    # ---- inputs through conditions ------------------------------------------------------------

    def resolve(self, node: _Node, guard: tuple, feeds: list) -> list[str]:
        """The input expressions of `node` where `guard` holds: the sources of edges there
        or outside, and for the edges in the branches of an `if` the variables both
        branches assign."""
        texts: list[str] = []
        last, done = None, set()
        for sources, where in feeds:
            if len(where) <= len(guard):
                if where != guard[: len(where)]:
                    raise Unsupported("an edge from another branch")
                texts += [s.text for s in sources]
                last = None
                continue
            if where[: len(guard)] != guard:
                raise Unsupported("an edge from another branch")
            cond = where[len(guard)][0]
            if cond is last:
                continue
            if id(cond) in done:
                raise Unsupported("the edges of an `if` apart")
            done.add(id(cond))
            last = cond
            texts += self.merged(node, cond, guard)
        return texts

    def merged(self, node: _Node, cond: ir.If, guard: tuple) -> list[str]:
        sides = []
        for taken in (True, False):
            inner = (*guard, (cond, taken))
            feeds = [f for f in node.feeds if f[1][: len(inner)] == inner]
            sides.append(self.resolve(node, inner, feeds))
        then, otherwise = sides
        if len(then) != len(otherwise):
            raise Unsupported("branches that feed a layer differently")
        names = []
        for yes, no in zip(then, otherwise):
            name = self.merged_name(node, cond, guard, yes, no)
            for taken, text in ((True, yes), (False, no)):
                if text != name:
                    self.assigns.setdefault((id(cond), taken), []).append(Assign(name, text))
            names.append(name)
        return names

    def merged_name(self, node: _Node, cond: ir.If, guard: tuple, yes: str, no: str) -> str:
        """The variable of a layer made in one branch and read once, else a new one."""
        for taken, text in ((True, yes), (False, no)):
            found = self.by_var.get(text)
            inside = (*guard, (cond, taken))
            if found is not None and found.readers == 1 and found.guard[: len(inside)] == inside:
                return text
        return self.ctx.names.fresh(f"{node.var}_input")

    # ---- statements ---------------------------------------------------------------------------

    def level(self, guard: tuple, depth: int) -> list:
        """The statements of the nodes and `if`s directly under `guard`, each after
        those it reads."""
        members = [(n.order, n) for n in self.nodes if n.guard == guard]
        members += [(order, cond) for cond, where, order in self.ifs if where == guard]
        members.sort(key=lambda m: m[0])
        needs = {id(m): self.needs(m, guard) for _, m in members}
        done: set[int] = set()
        out: list = []
        remaining = [m for _, m in members]
        while remaining:
            ready = next((m for m in remaining if needs[id(m)] <= done), None)
            if ready is None:
                raise Unsupported("an `if` that a layer outside it both feeds and reads")
            remaining.remove(ready)
            done.add(id(ready))
            out += self.statement(ready, guard, depth)
        return out

    def needs(self, member, guard: tuple) -> set[int]:
        """The members under `guard` that `member` reads."""
        if isinstance(member, _Node):
            found = set()
            for sources, where in member.feeds:
                if len(where) > len(guard) and where[: len(guard)] == guard:
                    found.add(id(where[len(guard)][0]))
                else:
                    found |= {self.stands(s.node, guard) for s in sources}
            return found - {None}
        inside = [(member, True), (member, False)]
        found = set()
        for node in self.nodes:
            for sources, where in node.feeds:
                if any(step in inside for step in (*node.guard, *where)):
                    found |= {self.stands(s.node, guard) for s in sources}
        return found - {None, id(member)}

    def stands(self, node: _Node | None, guard: tuple) -> int | None:
        """The id of the member under `guard` that makes `node`; None where it is made
        before (a port, or a node outside)."""
        if node is None:
            return None
        where = node.guard
        if where[: len(guard)] == guard:
            return id(node) if len(where) == len(guard) else id(where[len(guard)][0])
        if guard[: len(where)] == where:
            return None
        raise Unsupported("a layer read from another branch")

    def statement(self, member, guard: tuple, depth: int) -> list:
        ctx = self.ctx.inner(depth=depth)
        if isinstance(member, _Node):
            text = self.writer.node(member.local, member.call, ctx, self.inputs[id(member)])
            return [Assign(member.var if member.readers else None, text)]
        branches = []
        for taken in (True, False):
            inner = (*guard, (member, taken))
            statements = self.level(inner, depth + 1)
            branches.append(statements + self.assigns.get((id(member), taken), []))
        return self.writer.conditional(member.condition, *branches, ctx)
