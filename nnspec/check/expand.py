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

from contextlib import contextmanager

from msgspec import Struct, field, structs

from nnspec.check.scope import (
    MAX_LAYERS,
    NO_VALUE,
    ExpandError,
    Scope,
    Values,
    at,
    fail,
    show_argument,
)
from nnspec.diagnostics.records import Diagnostic, Span, Use
from nnspec.diagnostics.wording import did_you_mean, plural
from nnspec.syntax import ir
from nnspec.syntax.operators import describe


class _Abort(Exception):
    """A name made twice: the rest of the top-level use that made it is not expanded,
    as every later layer of it would only echo the collision."""

    def __init__(self, error: ExpandError):
        super().__init__(error.diagnostic.message)
        self.error = error


class _Use(Struct):
    """A named use of a block with ports in a graph body, expanded when its input is known."""

    decl: ir.LayerDecl
    scope: Scope
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


def expand(spec: ir.Spec, diags: list[Diagnostic], named=frozenset()) -> Expansion:
    """The flat form of `spec`, appending diagnostics; `spec` itself when flat.

    `named`: the names of blocks written in the text, parsed or not; a use of one
    whose definition had a syntax error (reported) is a layer without shapes."""
    lost = named - {b.name for b in spec.blocks}
    if spec.flat and not lost:
        return Expansion(spec, set())
    expander = _Expander(spec, diags, lost)
    flat = expander.run()
    return Expansion(flat, expander.values.true_divisions, not expander.failed)


class _Expander:
    def __init__(self, spec: ir.Spec, diags: list[Diagnostic], lost=frozenset()):
        self.spec = spec
        self.global_names = {p.name for p in spec.params}
        self.lost = lost  # blocks whose definition did not parse
        self.diags = diags
        self.blocks: dict[str, ir.Block] = {}
        self.active: list[str] = []  # blocks being expanded, for recursion
        self.flat = _Flat()
        self.values = Values()
        self.top = Scope({})  # the scope of the top-level graph, for `output`
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
        scope = Scope(values)
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
                values[param.name] = self.values.value(param.value, Scope(values))
            except ExpandError as err:
                self.report(err.diagnostic)
                values[param.name] = NO_VALUE
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

    def input_decl(self, decl: ir.InputDecl, scope: Scope) -> ir.InputDecl:
        return structs.replace(
            decl,
            shape=self.checked_value(decl.shape, scope),
            kwargs=tuple(self.values.kwarg(k, scope) for k in decl.kwargs),
        )

    def data_decl(self, decl: ir.DataDecl, scope: Scope) -> ir.DataDecl:
        return structs.replace(
            decl,
            source=self.checked_value(decl.source, scope),
            settings=decl.settings and self.checked_value(decl.settings, scope),
        )

    def settings(self, block: ir.Settings, scope: Scope) -> ir.Settings:
        return structs.replace(block, mapping=self.checked_value(block.mapping, scope))

    def action(self, action: ir.Action, scope: Scope) -> ir.Action:
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

    def checked_value(self, value, scope: Scope):
        """`value` with parameters replaced; an error is reported, the value kept (an
        entry of a mapping dropped)."""
        if isinstance(value, ir.Mapping):
            entries = []
            for entry in value.entries:
                try:
                    entries.append(
                        structs.replace(entry, value=self.values.value(entry.value, scope))
                    )
                except ExpandError as err:
                    self.report(err.diagnostic)
            return structs.replace(value, entries=tuple(entries))
        try:
            return self.values.value(value, scope)
        except ExpandError as err:
            self.report(err.diagnostic)
            return value

    # ---- architecture -----------------------------------------------------------------

    def architecture(self, body, scope: Scope, inputs: tuple[ir.InputDecl, ...]):
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

    def layer(self, decl: ir.LayerDecl, scope: Scope) -> ir.LayerDecl:
        """A layer of the flat model; counted, so that a runaway loop stops."""
        self.flat.layers += 1
        if self.flat.layers > MAX_LAYERS:
            raise fail("E704", f"more than {MAX_LAYERS:,} layers", at(decl.span, scope.via))
        name = None if decl.name is None else scope.full(self.values.name(decl.name, scope))
        span = at(decl.span, scope.via)
        if name is not None:
            first = self.names.setdefault(name, span)
            if first is not span and (first.via or span.via):
                raise _Abort(self.collision(name, first, span))
        try:
            if decl.call.name in self.lost:
                raise ExpandError(None)  # its definition has a syntax error
            return ir.LayerDecl(name, self.values.value(decl.call, scope), span)
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
        return fail("E201", f"layer name `{name}` is made twice", again, *hints)

    # ---- sequences --------------------------------------------------------------------

    def sequence(self, items, scope: Scope, seg: list) -> list:
        """Append the layers of `items`, each fed by the one before, to the chain `seg`."""
        for item in items:
            try:
                seg = self.sequence_item(item, scope, seg)
            except ExpandError as err:
                self.report(err.diagnostic)
        return seg

    def sequence_item(self, item, scope: Scope, seg: list) -> list:
        if isinstance(item, ir.For):
            for values in self.iterations(item, scope):
                seg = self.sequence(item.items, scope.inner(values=values), seg)
            return seg
        if isinstance(item, ir.If):
            return self.sequence(self.branch(item, scope), scope, seg)
        if not isinstance(item, ir.LayerDecl):
            what = "a chain" if isinstance(item, ir.Chain) else f"`{item.keyword}`"
            raise fail(
                "E709",
                f"{what} in a sequence of layers",
                at(item.span, scope.via),
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

    def iterations(self, loop: ir.For, scope: Scope) -> list[dict[str, ir.Value]]:
        """The values of the loop's names in each pass."""
        found = self.values.value(loop.iterable, scope)
        span = found.span
        if isinstance(found, ir.Call):
            items = self.values.builtin(found, scope)
        elif isinstance(found, ir.Seq):
            items = found.items
        elif isinstance(found, ir.Ident):
            raise Values.unknown(found, scope)
        else:
            raise fail("E703", f"a loop runs over a list, found {describe(ir.plain(found))}", span)
        if not items:
            raise fail(
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
                raise fail(
                    "E703",
                    f"each value of the list must hold {len(loop.targets)} values "
                    f"for ({', '.join(loop.targets)})",
                    at(item.span, scope.via),
                )
            else:
                values.update(zip(loop.targets, item.items))
            passes.append(values)
        return passes

    def branch(self, cond: ir.If, scope: Scope) -> tuple:
        value = self.values.python(cond.condition, scope)
        if not isinstance(value, bool):
            raise fail(
                "E703",
                f"a condition is true or false, found {describe(value)}",
                at(cond.condition.span, scope.via),
                "compare first, e.g. `if i == 1 { ... }`",
            )
        return cond.then if value else cond.otherwise

    # ---- blocks -------------------------------------------------------------------------

    def use(self, decl: ir.LayerDecl, block: ir.Block, scope: Scope, seg: list) -> list:
        """Expand a use of `block` fed by the chain `seg`; the chain that goes on from it."""
        with self.entered(decl, block, scope) as inner:
            return self.use_body(decl, block, inner, seg)

    def use_body(self, decl: ir.LayerDecl, block: ir.Block, inner: Scope, seg: list) -> list:
        if not block.is_graph:
            return self.sequence(block.items, inner, seg)
        sources = self.tip(seg)
        self.flush(seg)
        outputs = self.graph_block(block, inner, sources, decl)
        if len(outputs) != 1:
            raise fail(
                "E709",
                f"block `{block.name}` has {plural(len(outputs), 'output')}; "
                "a sequence goes on from one",
                at(decl.span, inner.via[:-1]),
                "use it in a `graph`, picking an output: `b.0`",
            )
        return outputs[:]

    @contextmanager
    def entered(self, decl: ir.LayerDecl, block: ir.Block, scope: Scope):
        """The scope of a use of `block` while it is expanded. A name made twice ends
        the outermost use (one written outside any block)."""
        inner = self.enter(decl, block, scope)
        try:
            yield inner
        except _Abort as abort:
            if scope.via:
                raise
            raise abort.error from None
        finally:
            self.active.pop()

    def enter(self, decl: ir.LayerDecl, block: ir.Block, scope: Scope) -> Scope:
        """The scope of a use of `block`: its arguments bound, its name prefix and trace."""
        span = at(decl.span, scope.via)
        if block.name in self.active:
            path = " -> ".join([*self.active[self.active.index(block.name) :], block.name])
            raise fail(
                "E705",
                f"block `{block.name}` uses itself: {path}",
                span,
                "a block cannot contain itself, directly or through another block",
            )
        values = self.bind(decl.call, block, scope)
        arguments = ", ".join(f"{p.name}={show_argument(values[p.name])}" for p in block.params)
        prefix = (
            scope.prefix if decl.name is None else scope.full(self.values.name(decl.name, scope))
        )
        self.uses += 1
        use = Use(block.name, structs.replace(span, via=()), arguments, prefix, self.uses)
        self.active.append(block.name)
        return Scope(values, prefix, (*scope.via, use), None, block)

    def bind(self, call: ir.Call, block: ir.Block, scope: Scope) -> dict[str, ir.Value]:
        """The block's parameters bound to the call's arguments (E102-E107)."""
        names = [p.name for p in block.params]
        bound: dict[str, ir.Value] = {}
        span = at(call.span, scope.via)
        if len(call.args) > len(names):
            extra = call.args[len(names)]
            raise fail(
                "E107",
                f"block `{block.name}` takes {plural(len(names), 'argument')}, "
                f"given {len(call.args)}",
                at(extra.span, scope.via),
            )
        for name, arg in zip(names, call.args):
            bound[name] = self.values.value(arg, scope)
        for kwarg in call.kwargs:
            where = at(kwarg.span, scope.via)
            if kwarg.name not in names:
                raise fail(
                    "E102",
                    f"block `{block.name}` has no parameter `{kwarg.name}`",
                    where,
                    *(did_you_mean(kwarg.name, names) or (f"its parameters: {', '.join(names)}",)),
                )
            if kwarg.name in bound:
                raise fail("E104", f"argument `{kwarg.name}` given twice", where)
            bound[kwarg.name] = self.values.value(kwarg.value, scope)
        globals_ = {k: v for k, v in scope.values.items() if k in self.global_names}
        for param in block.params:
            if param.name not in bound:
                if param.default is None:
                    raise fail(
                        "E103",
                        f"block `{block.name}` needs `{param.name}`",
                        span,
                        f"e.g. `{block.name}({', '.join(names)})`",
                    )
                bound[param.name] = self.values.value(param.default, Scope(globals_))
        return {**globals_, **bound}

    # ---- graphs --------------------------------------------------------------------------

    def graph_block(self, block: ir.Block, scope: Scope, sources: list, decl) -> list[ir.Ref]:
        """Expand a block with ports fed `sources`; its output refs."""
        self.flat.graph = True
        ports = [i for i in block.items if isinstance(i, ir.Ports)]
        names = [r.name for p in ports if p.keyword == "input" for r in p.refs]
        outs = [r for p in ports if p.keyword == "output" for r in p.refs]
        if len(sources) != len(names):
            raise fail(
                "E709",
                f"block `{block.name}` takes {plural(len(names), 'input')}, "
                f"given {len(sources)}",
                at(decl.span, scope.via[:-1]),
                "feed a block of several inputs a list: `[a, b] -> blk(...)`",
            )
        if not outs:
            raise fail("E709", f"block `{block.name}` has no `output`", block.span)
        local: dict[str, object] = dict(zip(names, ([s] for s in sources)))
        inner = scope.inner(local=local, ports=frozenset(names))
        self.graph_body(tuple(i for i in block.items if not isinstance(i, ir.Ports)), inner)
        outputs = []
        for ref in outs:
            outputs.extend(self.source(ref, inner))
        return outputs

    def graph_body(self, items, scope: Scope) -> None:
        """Declare the layers of a graph body, then wire its chains (in any order, as a
        graph's layers may be defined after the edges that use them)."""
        chains: list[tuple[ir.Chain, Scope]] = []
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
                            at(chain.span, where.via),
                            ("connect the block's input, e.g. `x -> name`",),
                        )
                    )
                return

    def graph_items(self, items, scope: Scope, chains: list) -> None:
        for item in items:
            try:
                if isinstance(item, ir.For):
                    for values in self.iterations(item, scope):
                        self.graph_items(item.items, scope.inner(values=values), chains)
                elif isinstance(item, ir.If):
                    self.graph_items(self.branch(item, scope), scope, chains)
                elif isinstance(item, ir.Chain):
                    chains.append((item, scope))
                elif isinstance(item, ir.Ports):
                    raise fail(
                        "E709",
                        f"`{item.keyword}` inside `for` or `if` names no port",
                        at(item.span, scope.via),
                        "a block's `input` and `output` stand in its body, outside loops",
                    )
                else:
                    self.graph_layer(item, scope)
            except ExpandError as err:
                self.report(err.diagnostic)

    def graph_layer(self, decl: ir.LayerDecl, scope: Scope) -> None:
        if decl.name is None:
            raise fail(
                "E709",
                "a layer in a graph needs a name",
                at(decl.span, scope.via),
                f"e.g. `name = {decl.call.name}(...)`, or write it inline in an edge",
            )
        local = self.values.name(decl.name, scope)
        if decl.call.name in self.blocks:
            scope.local[local] = _Use(decl, scope)
            return
        layer = self.layer(decl, scope)
        self.flat.decls.append(layer)
        scope.local[local] = [_ref(layer.name, layer.span)]

    def chain(self, chain: ir.Chain, scope: Scope, deferred: list) -> None:
        """Wire one chain; deferred while it starts from a block use not yet expanded."""
        first = chain.nodes[0]
        if self.waits(first, scope):
            deferred.append((chain, scope))
            return
        seg = [self.start(first, scope)]
        for node in chain.nodes[1:]:
            seg = self.target(node, scope, seg)
        self.flush(seg)

    def waits(self, node, scope: Scope) -> bool:
        refs = node.refs if isinstance(node, ir.RefList) else [node]
        for ref in refs:
            if isinstance(ref, ir.Ref) and scope.local is not None:
                found = scope.local.get(self.values.name(ref.name, scope))
                if isinstance(found, _Use) and found.outputs is None:
                    return True
        return False

    def start(self, node, scope: Scope):
        if isinstance(node, ir.Call):
            if node.name in self.blocks:
                raise fail(
                    "E709",
                    f"block `{node.name}` starts an edge with nothing to feed it",
                    at(node.span, scope.via),
                )
            return self.values.value(node, scope)
        refs = node.refs if isinstance(node, ir.RefList) else [node]
        found = [r for ref in refs for r in self.source(ref, scope)]
        if isinstance(node, ir.RefList) or len(found) != 1:
            return ir.RefList(tuple(found), at(node.span, scope.via))
        return found[0]

    def source(self, ref: ir.Ref, scope: Scope) -> list[ir.Ref]:
        """The flat refs a name stands for where it feeds something."""
        name = self.values.name(ref.name, scope)
        span = at(ref.span, scope.via)
        found = self.lookup(name, span, scope)
        if found is None:
            return [ir.Ref(name, ref.index, span)]
        if not isinstance(found, _Use):
            return [ir.Ref(found[0].name, ref.index, span)]
        if found.outputs is None:
            raise fail(
                "E709",
                f"block use `{name}` is never fed an input",
                span,
                f"connect it, e.g. `x -> {name}`",
            )
        if ref.index is None:
            return [structs.replace(r, span=span) for r in found.outputs]
        if not 0 <= ref.index < len(found.outputs):
            raise fail(
                "E210",
                f"block use `{name}` has {plural(len(found.outputs), 'output')}, "
                f"no output {ref.index}",
                span,
            )
        return [structs.replace(found.outputs[ref.index], span=span)]

    def lookup(self, name: str, span: Span, scope: Scope):
        """What a local name stands for; None for a name of the top-level graph that
        `check/graph.py` resolves (or reports)."""
        found = scope.local.get(name) if scope.local is not None else None
        if found is None and scope.block is not None:
            known = [k for k in scope.local if not k.startswith("#")]
            raise fail(
                "E202",
                f"`{name}` is not defined in block `{scope.block.name}`",
                span,
                *did_you_mean(name, known),
            )
        return found

    def target(self, node, scope: Scope, seg: list) -> list:
        """Feed the tip of `seg` into `node`; the chain that goes on from it."""
        span = at(node.span, scope.via)
        if isinstance(node, ir.Call):
            block = self.blocks.get(node.name)
            if block is None:
                return [*seg, self.values.value(node, scope)]
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

    def is_use(self, ref: ir.Ref, scope: Scope) -> bool:
        return scope.local is not None and isinstance(
            scope.local.get(self.values.name(ref.name, scope)), _Use
        )

    def target_ref(self, ref: ir.Ref, scope: Scope) -> ir.Ref:
        name = self.values.name(ref.name, scope)
        span = at(ref.span, scope.via)
        found = self.lookup(name, span, scope)
        if found is None:
            return ir.Ref(name, ref.index, span)
        if name in scope.ports:
            raise fail(
                "E206",
                f"`{name}` is an input of block `{scope.block.name}` and cannot receive an edge",
                span,
            )
        return ir.Ref(found[0].name, ref.index, span)

    def feed(self, ref: ir.Ref, scope: Scope, sources: list[ir.Ref]) -> list[ir.Ref]:
        """Expand the named block use `ref` fed `sources`; the refs that go on from it."""
        name = self.values.name(ref.name, scope)
        span = at(ref.span, scope.via)
        found: _Use = scope.local[name]
        if found.outputs is not None:
            raise fail(
                "E709",
                f"block use `{name}` is fed twice",
                span,
                "a block use is applied once; for a second application write a second use",
            )
        block = self.blocks[found.decl.call.name]
        with self.entered(found.decl, block, found.scope) as inner:
            self.feed_body(found, block, inner, sources, span)
        return self.source(ref, scope)

    def feed_body(self, found: _Use, block: ir.Block, inner: Scope, sources: list, span) -> None:
        if block.is_graph:
            found.outputs = self.graph_block(block, inner, sources, found.decl)
        elif len(sources) != 1:
            raise fail(
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


def _as_decl(node, decls: list[ir.LayerDecl]) -> ir.LayerDecl:
    """A node of a chain of a sequential body as the layer item it was."""
    if isinstance(node, ir.Call):
        return ir.LayerDecl(None, node, node.span)
    return next(d for d in decls if d.name == node.name)
