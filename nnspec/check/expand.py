"""Expansion: a spec with parameters, blocks, loops and conditions -> a flat spec.

The pass between lowering and checking. Parameters and operations become values,
every block use becomes the layers of its body, named from the use (`conv3_block2`
+ `_` + `1_conv`), loops and conditions become the layers they make. The result is
the IR a spec without these constructs lowers to, so the checker, both back ends and
every figure see the flat Keras graph. Each node made inside a block carries the
uses that made it in its span (`Span.via`), so a diagnostic names them.

A flat result is a `Sequential` when the spec's `sequential` body stays a chain,
else a `Graph`. A layer the spec leaves unnamed stays an inline call of a chain;
where its tensor is needed elsewhere (as the input of a block with `input` ports)
it is declared under a private name `#n`, which `check/graph.py` replaces by
Keras's automatic name.
"""

from __future__ import annotations

from msgspec import Struct, field, structs

from nnspec.diagnostics.records import Diagnostic, Related, Span, Use
from nnspec.diagnostics.wording import did_you_mean, plural
from nnspec.syntax import ir
from nnspec.syntax.operators import OperatorError, apply, describe
from nnspec.vocab.values import show_value

MAX_LAYERS = 1_000_000  # expansion stops here: a loop this long is a mistake


class ExpandError(Exception):
    """A diagnostic that ends the expansion of one item; None where the cause was
    reported already (a parameter without a value)."""

    def __init__(self, diagnostic: Diagnostic | None):
        super().__init__(diagnostic.message if diagnostic else "reported already")
        self.diagnostic = diagnostic


# The value of a parameter whose definition was reported: its uses report nothing more.
_NO_VALUE = ir.Const(None, Span(0, 0, 0, 0))


class _Abort(Exception):
    """A name made twice: the rest of the top-level use that made it is not expanded,
    as every later layer of it would only echo the collision."""

    def __init__(self, error: ExpandError):
        super().__init__(error.diagnostic.message)
        self.error = error


def _fail(code: str, message: str, span: Span, *hints: str) -> ExpandError:
    return ExpandError(Diagnostic(code, message, span, hints))


def _at(span: Span, via: tuple[Use, ...]) -> Span:
    return structs.replace(span, via=via) if via else span


class _Scope(Struct):
    """What names mean where an item is expanded."""

    values: dict[str, ir.Value]  # parameters, block arguments, loop variables
    prefix: str = ""  # of the layer names made here
    via: tuple[Use, ...] = ()
    local: dict[str, object] | None = None  # in a graph body: name -> refs or a _Use
    block: ir.Block | None = None
    ports: frozenset[str] = frozenset()  # the block's input names

    def full(self, name: str) -> str:
        return f"{self.prefix}_{name}" if self.prefix else name

    def inner(self, **changes) -> _Scope:
        return structs.replace(self, **changes)


class _Use(Struct):
    """A named use of a block with ports in a graph body, expanded when its input is known."""

    decl: ir.LayerDecl
    scope: _Scope
    outputs: list[ir.Ref] | None = None


class _Flat(Struct):
    """The flat architecture under construction."""

    decls: list[ir.LayerDecl] = field(default_factory=list)
    chains: list[ir.Chain] = field(default_factory=list)
    handles: int = 0
    layers: int = 0
    graph: bool = False  # a block with ports was used: the result is a graph


class Expansion(Struct):
    spec: ir.Spec
    true_divisions: set[tuple[int, int, int, int]]  # `/` made these floats: hint `//`
    complete: bool = True  # no error dropped a part of the model


def expand(spec: ir.Spec, diags: list[Diagnostic]) -> Expansion:
    """The flat form of `spec`, appending diagnostics; `spec` itself when flat."""
    if spec.flat:
        return Expansion(spec, set())
    expander = _Expander(spec, diags)
    flat = expander.run()
    return Expansion(flat, expander.true_divisions, not expander.failed)


class _Expander:
    def __init__(self, spec: ir.Spec, diags: list[Diagnostic]):
        self.spec = spec
        self.diags = diags
        self.blocks: dict[str, ir.Block] = {}
        self.active: list[str] = []  # blocks being expanded, for recursion
        self.flat = _Flat()
        self.true_divisions: set[tuple[int, int, int, int]] = set()
        self.top = _Scope({})  # the scope of the top-level graph, for `output`
        self.names: dict[str, Span] = {}  # layer names made so far
        self.uses = 0
        self.failed = False

    def report(self, diagnostic: Diagnostic | None) -> None:
        """Report an error (None: one reported before) that dropped part of the model."""
        self.failed = True
        if diagnostic is not None:
            self.diags.append(diagnostic)

    # ---- the spec ----------------------------------------------------------------

    def run(self) -> ir.Spec:
        spec = self.spec
        values = self.parameters()
        self.declare_blocks()
        scope = _Scope(values)
        inputs = tuple(self.input_decl(d, scope) for d in spec.inputs)
        architecture = self.architecture(spec.architecture, scope, inputs)
        self.shadowing(values, inputs)
        return structs.replace(
            spec,
            data=spec.data and self.data_decl(spec.data, scope),
            inputs=inputs,
            outputs=spec.outputs and self.outputs(spec.outputs),
            architecture=architecture,
            compile=spec.compile and self.settings(spec.compile, scope),
            fit=spec.fit and self.settings(spec.fit, scope),
            actions=tuple(self.action(a, scope) for a in spec.actions),
            params=(),
            blocks=(),
            flat=True,
        )

    def parameters(self) -> dict[str, ir.Value]:
        values: dict[str, ir.Value] = {}
        spans: dict[str, Span] = {}
        for param in self.spec.params:
            if param.name in values:
                first = spans[param.name]
                self.report(
                    Diagnostic(
                        "E201",
                        f"parameter `{param.name}` is defined twice",
                        param.name_span,
                        (f"first defined at line {first.line}",),
                    )
                )
                continue
            try:
                values[param.name] = self.value(param.value, _Scope(values))
            except ExpandError as err:
                self.report(err.diagnostic)
                values[param.name] = _NO_VALUE
            spans[param.name] = param.name_span
        return values

    def declare_blocks(self) -> None:
        for block in self.spec.blocks:
            if block.name in self.blocks:
                first = self.blocks[block.name].name_span
                self.report(
                    Diagnostic(
                        "E201",
                        f"block `{block.name}` is defined twice",
                        block.name_span,
                        (f"first defined at line {first.line}",),
                    )
                )
                continue
            self.blocks[block.name] = block
            seen: set[str] = set()
            for param in block.params:
                if param.name in seen:
                    self.report(
                        Diagnostic("E104", f"parameter `{param.name}` given twice", param.span)
                    )
                seen.add(param.name)

    def shadowing(self, values: dict[str, ir.Value], inputs: tuple[ir.InputDecl, ...]) -> None:
        """A parameter named like a layer, an input or a block: each use would be a puzzle."""
        names = {d.name for d in self.flat.decls if isinstance(d.name, str)}
        names |= {i.name for i in inputs} | set(self.blocks)
        for param in self.spec.params:
            if param.name in names:
                what = (
                    "a block"
                    if param.name in self.blocks
                    else "an input" if any(i.name == param.name for i in inputs) else "a layer"
                )
                self.report(
                    Diagnostic(
                        "E706",
                        f"parameter `{param.name}` has the name of {what}",
                        param.name_span,
                        ("rename the parameter: in an edge the name means the other",),
                    )
                )

    # ---- statements -----------------------------------------------------------------

    def input_decl(self, decl: ir.InputDecl, scope: _Scope) -> ir.InputDecl:
        return structs.replace(
            decl,
            shape=self.checked_value(decl.shape, scope),
            kwargs=tuple(self.kwarg(k, scope) for k in decl.kwargs),
        )

    def data_decl(self, decl: ir.DataDecl, scope: _Scope) -> ir.DataDecl:
        return structs.replace(
            decl,
            source=self.checked_value(decl.source, scope),
            settings=decl.settings and self.checked_value(decl.settings, scope),
        )

    def settings(self, block: ir.Settings, scope: _Scope) -> ir.Settings:
        return structs.replace(block, mapping=self.checked_value(block.mapping, scope))

    def action(self, action: ir.Action, scope: _Scope) -> ir.Action:
        if action.settings is None:
            return action
        return structs.replace(action, settings=self.checked_value(action.settings, scope))

    def outputs(self, decl: ir.OutputDecl) -> ir.OutputDecl:
        """The model's `output` statement: names of the top-level graph, or block uses."""
        refs = []
        for ref in decl.refs:
            try:
                refs.extend(self.source(ref, self.top))
            except ExpandError as err:
                self.report(err.diagnostic)
        return structs.replace(decl, refs=tuple(refs))

    # ---- values -------------------------------------------------------------------

    def checked_value(self, value, scope: _Scope):
        """`value` with parameters replaced; an error is reported, the value kept (an
        entry of a mapping dropped)."""
        if isinstance(value, ir.Mapping):
            entries = []
            for entry in value.entries:
                try:
                    entries.append(structs.replace(entry, value=self.value(entry.value, scope)))
                except ExpandError as err:
                    self.report(err.diagnostic)
            return structs.replace(value, entries=tuple(entries))
        try:
            return self.value(value, scope)
        except ExpandError as err:
            self.report(err.diagnostic)
            return value

    def kwarg(self, kwarg: ir.Kwarg, scope: _Scope) -> ir.Kwarg:
        return ir.Kwarg(kwarg.name, self.value(kwarg.value, scope), _at(kwarg.span, scope.via))

    def value(self, value, scope: _Scope):
        """The flat value of `value`: parameters replaced, operations computed."""
        span = _at(value.span, scope.via)
        if isinstance(value, ir.Const):
            return ir.Const(value.value, span) if scope.via else value
        if isinstance(value, ir.Ident):
            found = scope.values.get(value.name)
            if found is _NO_VALUE:
                raise ExpandError(None)
            if found is None:
                return ir.Ident(value.name, span) if scope.via else value
            return structs.replace(found, span=span)
        if isinstance(value, ir.Operation):
            return self.operation(value, scope, span)
        if isinstance(value, ir.Seq):
            return ir.Seq(tuple(self.value(v, scope) for v in value.items), value.is_list, span)
        if isinstance(value, ir.Mapping):
            entries = (
                ir.Entry(e.key, self.value(e.value, scope), _at(e.span, scope.via))
                for e in value.entries
            )
            return ir.Mapping(tuple(entries), span)
        if isinstance(value, ir.Call):
            return ir.Call(
                value.name,
                tuple(self.value(v, scope) for v in value.args),
                tuple(self.kwarg(k, scope) for k in value.kwargs),
                span,
                _at(value.name_span, scope.via),
            )
        raise TypeError(f"not a value: {value!r}")

    def operation(self, op: ir.Operation, scope: _Scope, span: Span) -> ir.Const:
        operands = [self.python(v, scope) for v in op.operands]
        try:
            result = apply(op.op, tuple(operands))
        except OperatorError as err:
            raise _fail(err.code, err.message, span, *err.hints) from None
        if op.op == "/":
            self.true_divisions.add(span.position)
        return ir.Const(result, span)

    def python(self, value, scope: _Scope):
        """The Python value of an operand, a condition or a name part."""
        flat = self.value(value, scope)
        if isinstance(flat, ir.Ident):
            raise self.unknown(flat, scope)
        if isinstance(flat, ir.Call):
            raise _fail("E703", f"`{flat.name}(...)` has no value here", flat.span)
        return ir.plain(flat)

    @staticmethod
    def unknown(ident: ir.Ident, scope: _Scope) -> ExpandError:
        known = list(scope.values)
        return _fail(
            "E701",
            f"`{ident.name}` is not a parameter",
            ident.span,
            *(did_you_mean(ident.name, known) or ("define it first: `param NAME = value`",)),
        )

    def builtin(self, call: ir.Call, scope: _Scope) -> list[ir.Const]:
        """`range(n)`, `range(a, b)`, `range(a, b, step)`, as Python's: a loop's list."""
        if call.name != "range" or call.kwargs or not 1 <= len(call.args) <= 3:
            raise _fail(
                "E703",
                f"`{call.name}(...)` has no value here",
                call.span,
                "a loop runs over a list, a tuple or `range(...)`",
            )
        bounds = [self.integer(a, scope, "`range`") for a in call.args]
        if len(bounds) == 3 and bounds[2] == 0:
            raise _fail("E702", "`range` with a step of zero", call.args[2].span)
        numbers = range(*bounds)
        if len(numbers) > MAX_LAYERS:
            raise _fail("E704", f"`range` of {len(numbers):,} values", call.span)
        return [ir.Const(n, call.span) for n in numbers]

    def integer(self, value, scope: _Scope, what: str) -> int:
        number = self.python(value, scope)
        if isinstance(number, bool) or not isinstance(number, int):
            hints = ("use `//` for integer division",) if isinstance(number, float) else ()
            raise _fail(
                "E708",
                f"{what} needs an integer, found {describe(number)} ({show_value(number)})",
                _at(value.span, scope.via),
                *hints,
            )
        return number

    def name(self, name, scope: _Scope) -> str:
        """A layer name as written: plain, or a template filled in."""
        if isinstance(name, str):
            return name
        if name.broken:
            raise ExpandError(None)  # reported while lowering
        text = []
        for part in name.parts:
            if isinstance(part, str):
                text.append(part)
                continue
            piece = self.python(part, scope)
            if isinstance(piece, bool) or not isinstance(piece, (int, str)):
                raise _fail(
                    "E708",
                    f"a name holds integers and text, found {describe(piece)}",
                    _at(part.span, scope.via),
                )
            text.append(str(piece))
        return "".join(text)

    # ---- architecture -----------------------------------------------------------------

    def architecture(self, body, scope: _Scope, inputs: tuple[ir.InputDecl, ...]):
        if body is None:
            return None
        for item in body.items:
            if isinstance(item, ir.Ports):
                self.report(
                    Diagnostic(
                        "E709",
                        f"`{item.keyword}` inside `{_kind(body)}` names a block's ports",
                        item.span,
                        (_PORT_HINT[item.keyword],),
                    )
                )
        items = tuple(i for i in body.items if not isinstance(i, ir.Ports))
        if isinstance(body, ir.Graph):
            self.flat.graph = True
            self.top = scope.inner(local={i.name: [_ref(i.name, i.span)] for i in inputs})
            self.graph_body(items, self.top)
            return ir.Graph((*self.flat.decls, *self.flat.chains), body.span)
        start = [_ref(inputs[0].name, body.span)] if len(inputs) == 1 else []
        skip = len(start)
        seg = self.sequence(items, scope, start)
        if not self.flat.graph:
            layers = (_as_decl(n, self.flat.decls) for n in seg[skip:])
            return ir.Sequential(tuple(layers), body.span)
        if len(inputs) != 1:
            self.report(
                Diagnostic(
                    "E207",
                    f"a sequential block takes exactly one input, found {len(inputs)}",
                    body.span,
                    ("use a `graph` block for several inputs",),
                )
            )
        self.flush(seg)
        return ir.Graph((*self.flat.decls, *self.flat.chains), body.span)

    def layer(self, decl: ir.LayerDecl, scope: _Scope) -> ir.LayerDecl:
        """A layer of the flat model; counted, so that a runaway loop stops."""
        self.flat.layers += 1
        if self.flat.layers > MAX_LAYERS:
            raise _fail("E704", f"more than {MAX_LAYERS:,} layers", _at(decl.span, scope.via))
        name = None if decl.name is None else scope.full(self.name(decl.name, scope))
        span = _at(decl.span, scope.via)
        if name is not None:
            first = self.names.setdefault(name, span)
            if first is not span and (first.via or span.via):
                raise _Abort(self.collision(name, first, span))
        try:
            return ir.LayerDecl(name, self.value(decl.call, scope), span)
        except ExpandError as err:  # reported; the layer stays, its shapes unknown
            self.report(err.diagnostic)
            return ir.LayerDecl(name, decl.call, span, broken=True)

    @staticmethod
    def collision(name: str, first: Span, again: Span) -> ExpandError:
        """E201 for an expanded name made twice, saying by which uses."""
        where = f"{first.via[-1].describe()}" if first.via else f"at line {first.line}"
        hints = [f"first made {where}"]
        block = again.via[-1].block if again.via else None
        if block is not None and block == (first.via[-1].block if first.via else None):
            hints.append(f"give each use of `{block}` its own name: `{block}_1 = {block}(...)`")
        return _fail("E201", f"layer name `{name}` is made twice", again, *hints)

    # ---- sequences --------------------------------------------------------------------

    def sequence(self, items, scope: _Scope, seg: list) -> list:
        """Append the layers of `items`, each fed by the one before, to the chain `seg`."""
        for item in items:
            try:
                seg = self.sequence_item(item, scope, seg)
            except ExpandError as err:
                self.report(err.diagnostic)
        return seg

    def sequence_item(self, item, scope: _Scope, seg: list) -> list:
        if isinstance(item, ir.For):
            for values in self.iterations(item, scope):
                seg = self.sequence(item.items, scope.inner(values=values), seg)
            return seg
        if isinstance(item, ir.If):
            return self.sequence(self.branch(item, scope), scope, seg)
        if not isinstance(item, ir.LayerDecl):
            what = "a chain" if isinstance(item, ir.Chain) else f"`{item.keyword}`"
            raise _fail(
                "E709",
                f"{what} in a sequence of layers",
                _at(item.span, scope.via),
                "edges and ports belong in a `graph` or in a block with `input` and `output`",
            )
        block = self.blocks.get(item.call.name)
        if block is None:
            layer = self.layer(item, scope)
            if layer.name is None and not layer.broken:
                seg.append(layer.call)
            elif layer.name is None:  # declared, so that it stays a layer without shapes
                seg.append(self.handle(layer))
            else:
                self.flat.decls.append(layer)
                seg.append(_ref(layer.name, layer.span))
            return seg
        return self.use(item, block, scope, seg)

    def iterations(self, loop: ir.For, scope: _Scope) -> list[dict[str, ir.Value]]:
        """The values of the loop's names in each pass."""
        found = self.value(loop.iterable, scope)
        span = found.span
        if isinstance(found, ir.Call):
            items = self.builtin(found, scope)
        elif isinstance(found, ir.Seq):
            items = found.items
        elif isinstance(found, ir.Ident):
            raise self.unknown(found, scope)
        else:
            raise _fail("E703", f"a loop runs over a list, found {describe(ir.plain(found))}", span)
        if not items:
            raise _fail(
                "E707",
                "the loop repeats no times",
                span,
                "a loop makes its layers at least once: check the count, or guard the loop "
                "with `if`, e.g. `if n > 1 { for ... }`",
            )
        passes = []
        for item in items:
            values = dict(scope.values)
            if len(loop.targets) == 1:
                values[loop.targets[0]] = item
            elif not isinstance(item, ir.Seq) or len(item.items) != len(loop.targets):
                raise _fail(
                    "E703",
                    f"each value of the list must hold {len(loop.targets)} values "
                    f"for ({', '.join(loop.targets)})",
                    _at(item.span, scope.via),
                )
            else:
                values.update(zip(loop.targets, item.items))
            passes.append(values)
        return passes

    def branch(self, cond: ir.If, scope: _Scope) -> tuple:
        value = self.python(cond.condition, scope)
        if not isinstance(value, bool):
            raise _fail(
                "E703",
                f"a condition is true or false, found {describe(value)}",
                _at(cond.condition.span, scope.via),
                "compare first, e.g. `if i == 1 { ... }`",
            )
        return cond.then if value else cond.otherwise

    # ---- blocks -------------------------------------------------------------------------

    def use(self, decl: ir.LayerDecl, block: ir.Block, scope: _Scope, seg: list) -> list:
        """Expand a use of `block` fed by the chain `seg`; the chain that goes on from it."""
        inner = self.enter(decl, block, scope)
        try:
            return self.use_body(decl, block, inner, seg)
        except _Abort as abort:
            if scope.via:
                raise
            raise abort.error from None
        finally:
            self.active.pop()

    def use_body(self, decl: ir.LayerDecl, block: ir.Block, inner: _Scope, seg: list) -> list:
        if not block.is_graph:
            return self.sequence(block.items, inner, seg)
        sources = self.tip(seg)
        self.flush(seg)
        outputs = self.graph_block(block, inner, sources, decl)
        if len(outputs) != 1:
            raise _fail(
                "E709",
                f"block `{block.name}` has {plural(len(outputs), 'output')}; "
                "a sequence goes on from one",
                _at(decl.span, inner.via[:-1]),
                "use it in a `graph`, picking an output: `b.0`",
            )
        return outputs[:]

    def enter(self, decl: ir.LayerDecl, block: ir.Block, scope: _Scope) -> _Scope:
        """The scope of a use of `block`: its arguments bound, its name prefix and trace."""
        span = _at(decl.span, scope.via)
        if block.name in self.active:
            path = " -> ".join([*self.active[self.active.index(block.name) :], block.name])
            raise _fail(
                "E705",
                f"block `{block.name}` uses itself: {path}",
                span,
                "a block cannot contain itself, directly or through another block",
            )
        values = self.bind(decl.call, block, scope)
        arguments = ", ".join(f"{p.name}={_show(values[p.name])}" for p in block.params)
        prefix = scope.prefix if decl.name is None else scope.full(self.name(decl.name, scope))
        self.uses += 1
        use = Use(block.name, structs.replace(span, via=()), arguments, prefix, self.uses)
        self.active.append(block.name)
        return _Scope(values, prefix, (*scope.via, use), None, block)

    def bind(self, call: ir.Call, block: ir.Block, scope: _Scope) -> dict[str, ir.Value]:
        """The block's parameters bound to the call's arguments (E102-E107)."""
        names = [p.name for p in block.params]
        bound: dict[str, ir.Value] = {}
        span = _at(call.span, scope.via)
        if len(call.args) > len(names):
            extra = call.args[len(names)]
            raise _fail(
                "E107",
                f"block `{block.name}` takes {plural(len(names), 'argument')}, "
                f"given {len(call.args)}",
                _at(extra.span, scope.via),
            )
        for name, arg in zip(names, call.args):
            bound[name] = self.value(arg, scope)
        for kwarg in call.kwargs:
            where = _at(kwarg.span, scope.via)
            if kwarg.name not in names:
                raise _fail(
                    "E102",
                    f"block `{block.name}` has no parameter `{kwarg.name}`",
                    where,
                    *(did_you_mean(kwarg.name, names) or (f"its parameters: {', '.join(names)}",)),
                )
            if kwarg.name in bound:
                raise _fail("E104", f"argument `{kwarg.name}` given twice", where)
            bound[kwarg.name] = self.value(kwarg.value, scope)
        globals_ = {k: v for k, v in scope.values.items() if k in self.global_names}
        for param in block.params:
            if param.name not in bound:
                if param.default is None:
                    raise _fail(
                        "E103",
                        f"block `{block.name}` needs `{param.name}`",
                        span,
                        f"e.g. `{block.name}({', '.join(names)})`",
                    )
                bound[param.name] = self.value(param.default, _Scope(globals_))
        return {**globals_, **bound}

    @property
    def global_names(self) -> set[str]:
        return {p.name for p in self.spec.params}

    # ---- graphs --------------------------------------------------------------------------

    def graph_block(self, block: ir.Block, scope: _Scope, sources: list, decl) -> list[ir.Ref]:
        """Expand a block with ports fed `sources`; its output refs."""
        self.flat.graph = True
        ports = [i for i in block.items if isinstance(i, ir.Ports)]
        names = [r.name for p in ports if p.keyword == "input" for r in p.refs]
        outs = [r for p in ports if p.keyword == "output" for r in p.refs]
        if len(sources) != len(names):
            raise _fail(
                "E709",
                f"block `{block.name}` takes {plural(len(names), 'input')}, "
                f"given {len(sources)}",
                _at(decl.span, scope.via[:-1]),
                "feed a block of several inputs a list: `[a, b] -> blk(...)`",
            )
        if not outs:
            raise _fail("E709", f"block `{block.name}` has no `output`", block.span)
        local: dict[str, object] = dict(zip(names, ([s] for s in sources)))
        inner = scope.inner(local=local, ports=frozenset(names))
        self.graph_body(tuple(i for i in block.items if not isinstance(i, ir.Ports)), inner)
        outputs = []
        for ref in outs:
            outputs.extend(self.source(ref, inner))
        return outputs

    def graph_body(self, items, scope: _Scope) -> None:
        """Declare the layers of a graph body, then wire its chains (in any order, as a
        graph's layers may be defined after the edges that use them)."""
        chains: list[tuple[ir.Chain, _Scope]] = []
        self.graph_items(items, scope, chains)
        while chains:
            waiting, chains = chains, []
            for chain, where in waiting:
                try:
                    self.chain(chain, where, chains)
                except ExpandError as err:
                    self.report(err.diagnostic)
            if len(chains) == len(waiting):
                for chain, where in chains:
                    self.report(
                        Diagnostic(
                            "E709",
                            "this edge starts from a block use whose input is never connected",
                            _at(chain.span, where.via),
                            ("connect the block's input, e.g. `x -> name`",),
                        )
                    )
                return

    def graph_items(self, items, scope: _Scope, chains: list) -> None:
        for item in items:
            try:
                if isinstance(item, ir.For):
                    for values in self.iterations(item, scope):
                        self.graph_items(item.items, scope.inner(values=values), chains)
                elif isinstance(item, ir.If):
                    self.graph_items(self.branch(item, scope), scope, chains)
                elif isinstance(item, ir.Chain):
                    chains.append((item, scope))
                else:
                    self.graph_layer(item, scope)
            except ExpandError as err:
                self.report(err.diagnostic)

    def graph_layer(self, decl: ir.LayerDecl, scope: _Scope) -> None:
        if decl.name is None:
            raise _fail(
                "E709",
                "a layer in a graph needs a name",
                _at(decl.span, scope.via),
                f"e.g. `name = {decl.call.name}(...)`, or write it inline in an edge",
            )
        local = self.name(decl.name, scope)
        if decl.call.name in self.blocks:
            scope.local[local] = _Use(decl, scope)
            return
        layer = self.layer(decl, scope)
        self.flat.decls.append(layer)
        scope.local[local] = [_ref(layer.name, layer.span)]

    def chain(self, chain: ir.Chain, scope: _Scope, deferred: list) -> None:
        """Wire one chain; deferred while it starts from a block use not yet expanded."""
        first = chain.nodes[0]
        if self.waits(first, scope):
            deferred.append((chain, scope))
            return
        seg = [self.start(first, scope)]
        for node in chain.nodes[1:]:
            seg = self.target(node, scope, seg)
        self.flush(seg)

    def waits(self, node, scope: _Scope) -> bool:
        refs = node.refs if isinstance(node, ir.RefList) else [node]
        for ref in refs:
            if isinstance(ref, ir.Ref) and scope.local is not None:
                found = scope.local.get(self.name(ref.name, scope))
                if isinstance(found, _Use) and found.outputs is None:
                    return True
        return False

    def start(self, node, scope: _Scope):
        if isinstance(node, ir.Call):
            if node.name in self.blocks:
                raise _fail(
                    "E709",
                    f"block `{node.name}` starts an edge with nothing to feed it",
                    _at(node.span, scope.via),
                )
            return self.value(node, scope)
        refs = node.refs if isinstance(node, ir.RefList) else [node]
        found = [r for ref in refs for r in self.source(ref, scope)]
        if isinstance(node, ir.RefList) or len(found) != 1:
            return ir.RefList(tuple(found), _at(node.span, scope.via))
        return found[0]

    def source(self, ref: ir.Ref, scope: _Scope) -> list[ir.Ref]:
        """The flat refs a name stands for where it feeds something."""
        name = self.name(ref.name, scope)
        span = _at(ref.span, scope.via)
        found = self.lookup(name, span, scope)
        if found is None:
            return [ir.Ref(name, ref.index, span)]
        if not isinstance(found, _Use):
            return [ir.Ref(found[0].name, ref.index, span)]
        if found.outputs is None:
            raise _fail(
                "E709",
                f"block use `{name}` is never fed an input",
                span,
                f"connect it, e.g. `x -> {name}`",
            )
        if ref.index is None:
            return [structs.replace(r, span=span) for r in found.outputs]
        if not 0 <= ref.index < len(found.outputs):
            raise _fail(
                "E210",
                f"block use `{name}` has {plural(len(found.outputs), 'output')}, "
                f"no output {ref.index}",
                span,
            )
        return [structs.replace(found.outputs[ref.index], span=span)]

    def lookup(self, name: str, span: Span, scope: _Scope):
        """What a local name stands for; None for a name of the top-level graph that
        `check/graph.py` resolves (or reports)."""
        found = scope.local.get(name) if scope.local is not None else None
        if found is None and scope.block is not None:
            known = [k for k in scope.local if not k.startswith("#")]
            raise _fail(
                "E202",
                f"`{name}` is not defined in block `{scope.block.name}`",
                span,
                *did_you_mean(name, known),
            )
        return found

    def target(self, node, scope: _Scope, seg: list) -> list:
        """Feed the tip of `seg` into `node`; the chain that goes on from it."""
        span = _at(node.span, scope.via)
        if isinstance(node, ir.Call):
            block = self.blocks.get(node.name)
            if block is None:
                return [*seg, self.value(node, scope)]
            return self.use(ir.LayerDecl(None, node, node.span), block, scope, seg)
        refs = node.refs if isinstance(node, ir.RefList) else (node,)
        if not any(self.is_use(r, scope) for r in refs):
            flat = [self.target_ref(r, scope) for r in refs]
            return [
                *seg,
                ir.RefList(tuple(flat), span) if isinstance(node, ir.RefList) else flat[0],
            ]
        sources = self.tip(seg)
        self.flush(seg)
        outs: list[ir.Ref] = []
        for ref in refs:
            if self.is_use(ref, scope):
                outs.extend(self.feed(ref, scope, sources))
            else:
                flat = self.target_ref(ref, scope)
                self.flush([_node(sources, span), flat])
                outs.append(flat)
        return [
            ir.RefList(tuple(outs), span) if isinstance(node, ir.RefList) else _node(outs, span)
        ]

    def is_use(self, ref: ir.Ref, scope: _Scope) -> bool:
        return scope.local is not None and isinstance(
            scope.local.get(self.name(ref.name, scope)), _Use
        )

    def target_ref(self, ref: ir.Ref, scope: _Scope) -> ir.Ref:
        name = self.name(ref.name, scope)
        span = _at(ref.span, scope.via)
        found = self.lookup(name, span, scope)
        if found is None:
            return ir.Ref(name, ref.index, span)
        if name in scope.ports:
            raise _fail(
                "E206",
                f"`{name}` is an input of block `{scope.block.name}` and cannot receive an edge",
                span,
            )
        return ir.Ref(found[0].name, ref.index, span)

    def feed(self, ref: ir.Ref, scope: _Scope, sources: list[ir.Ref]) -> list[ir.Ref]:
        """Expand the named block use `ref` fed `sources`; the refs that go on from it."""
        name = self.name(ref.name, scope)
        span = _at(ref.span, scope.via)
        found: _Use = scope.local[name]
        if found.outputs is not None:
            raise _fail(
                "E709",
                f"block use `{name}` is fed twice",
                span,
                "a block use is applied once; for a second application write a second use",
            )
        block = self.blocks[found.decl.call.name]
        inner = self.enter(found.decl, block, found.scope)
        try:
            self.feed_body(found, block, inner, sources, span)
        except _Abort as abort:
            if scope.via:
                raise
            raise abort.error from None
        finally:
            self.active.pop()
        return self.source(ref, scope)

    def feed_body(self, found: _Use, block: ir.Block, inner: _Scope, sources: list, span) -> None:
        if block.is_graph:
            found.outputs = self.graph_block(block, inner, sources, found.decl)
        elif len(sources) != 1:
            raise _fail(
                "E206", f"block `{block.name}` takes one input, received {len(sources)}", span
            )
        else:
            seg = self.sequence(block.items, inner, [sources[0]])
            found.outputs = self.tip(seg)
            self.flush(seg)

    # ---- chains -----------------------------------------------------------------------------

    def tip(self, seg: list) -> list[ir.Ref]:
        """The refs of the last node of `seg`; an inline layer there gets a private name."""
        if not seg:
            return []
        last = seg[-1]
        if isinstance(last, ir.Call):
            seg[-1] = self.handle(ir.LayerDecl(None, last, last.span))
            return [seg[-1]]
        return list(last.refs) if isinstance(last, ir.RefList) else [last]

    def handle(self, decl: ir.LayerDecl) -> ir.Ref:
        """Declare an unnamed layer under a private name; a ref to it."""
        self.flat.handles += 1
        name = f"#{self.flat.handles}"
        self.flat.decls.append(structs.replace(decl, name=name))
        return _ref(name, decl.span)

    def flush(self, seg: list) -> None:
        if len(seg) > 1:
            self.flat.chains.append(ir.Chain(tuple(seg), seg[1].span))


_PORT_HINT = {
    "input": "a model's inputs are declared before the architecture: `input x: (20,)`",
    "output": "a model's outputs are declared after the architecture: `output head`",
}


def _kind(body) -> str:
    return "sequential" if isinstance(body, ir.Sequential) else "graph"


def _ref(name: str, span: Span) -> ir.Ref:
    return ir.Ref(name, None, span)


def _node(refs: list[ir.Ref], span: Span):
    """One chain node for `refs`: a ref, or a list of them."""
    return refs[0] if len(refs) == 1 else ir.RefList(tuple(refs), span)


def _show(value: ir.Value) -> str:
    """A bound argument as spec text, for the trace of a use."""
    if isinstance(value, ir.Ident):
        return value.name
    if isinstance(value, ir.Call):
        return f"{value.name}(...)"
    return show_value(ir.plain(value))


def _as_decl(node, decls: list[ir.LayerDecl]) -> ir.LayerDecl:
    """A node of a chain of a sequential body as the layer item it was."""
    if isinstance(node, ir.Call):
        return ir.LayerDecl(None, node, node.span)
    return next(d for d in decls if d.name == node.name)


def fold_uses(diags: list[Diagnostic], true_divisions: set) -> list[Diagnostic]:
    """Diagnostics of expanded blocks with their uses as related locations; one found
    at the same place in several uses reported once, with the count."""
    groups: dict[tuple, list[Diagnostic]] = {}
    order: list[Diagnostic | tuple] = []
    for diag in diags:
        if diag.code == "E105" and diag.span.position in true_divisions:
            diag = structs.replace(diag, hints=(*diag.hints, "use `//` for integer division"))
        if not diag.span.via:
            order.append(diag)
            continue
        key = (diag.code, diag.span.position)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(diag)
    return [d if isinstance(d, Diagnostic) else _folded(groups[d]) for d in order]


def _folded(same: list[Diagnostic]) -> Diagnostic:
    first = same[0]
    related = [Related(use.describe(), use.span) for use in reversed(first.span.via)]
    related += [
        Related(f"also {d.span.via[-1].describe()}", d.span.via[-1].span) for d in same[1:11]
    ]
    hints = first.hints
    if len(same) > 1:
        hints = (*hints, f"found in {len(same)} uses of `{first.span.via[-1].block}`")
    return structs.replace(first, hints=hints, related=tuple(related))
