"""Architecture -> resolved layer graph: names, edges, shared layers, outputs,
cycles, reachability. Shapes come later (`shapes.py`)."""

from __future__ import annotations

from collections.abc import Iterator

from msgspec import Struct, field

from nnspec.check.model import InputNode, Layer, Node, TensorRef
from nnspec.diagnostics.records import Diagnostic, Span
from nnspec.diagnostics.wording import closest, did_you_mean
from nnspec.syntax import ir
from nnspec.vocab.argtypes import ArgError
from nnspec.vocab.layers.registry import LAYERS, LayerCall, LayerError, resolve_layer
from nnspec.vocab.naming import AutoNames


class LayerGraph(Struct):
    layers: dict[str, Layer] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)  # topological order once built
    outputs: list[TensorRef] = field(default_factory=list)
    sequential: bool = False
    broken: set[str] = field(default_factory=set)  # layers whose call did not bind


class _Pending(Struct):
    """A source reference resolved once every edge is known."""

    layer: str
    app: int | None
    index: int | None
    span: Span


class _Builder:
    def __init__(self, inputs: tuple[InputNode, ...], diags: list[Diagnostic]):
        self.inputs = {i.name: i for i in inputs}
        self.diags = diags
        self.graph = LayerGraph()
        self.decls: dict[str, ir.LayerDecl] = {}
        self.nodes: dict[tuple[str, int], Node] = {}
        self.spans: dict[tuple[str, int], Span] = {}
        self.pending: list[tuple[Node, int, _Pending]] = []
        self.taken = set(self.inputs)
        self.auto_names = AutoNames()
        self.applications: dict[str, int] = {}  # layer name -> times applied
        self.first_error = len(diags)
        self.mentioned: set[str] = set()  # layer names written in an edge
        # `#n`: a layer the spec left unnamed, declared by `expand.py` to be referred to
        self.handles: dict[str, str] = {}

    def error(self, code: str, message: str, span: Span, *hints: str) -> None:
        self.diags.append(Diagnostic(code, message, span, tuple(hints)))

    # ---- layers ----------------------------------------------------------------

    def declare(self, decl: ir.LayerDecl) -> str | None:
        name = decl.name
        handle = name if name is not None and name.startswith("#") else None
        if handle:
            name = None
        if name is not None:
            if name in self.taken:
                what = "an input" if name in self.inputs else "a layer"
                first = self.inputs[name].span if name in self.inputs else self.decls[name].span
                self.error(
                    "E201",
                    f"`{name}` is already {what}",
                    decl.span,
                    f"first defined at line {first.line}",
                )
                return None
            self.taken.add(name)
        for prefix in inner_layers(decl.call):
            self.auto_names.count(prefix)
        if name is None:
            name = self._auto_name(decl.call.name)
            if handle:
                self.handles[handle] = name
        kind = LAYERS.get(decl.call.name)
        for prefix in kind.builds if kind else ():  # made when the layer is built
            self.auto_names.count(prefix)
        self.decls[name] = decl
        if decl.broken:
            self.graph.broken.add(name)
            return name
        try:
            call = resolve_layer(decl.call)
        except LayerError as err:
            self.diags.extend(err.diagnostics)
            if err.guess is None:
                self.graph.broken.add(name)
                return name
            call = err.guess  # shapes go on with the layer it most likely is
        except ArgError as err:
            self.diags.extend(err.diagnostics)
            if not err.diagnostics:
                self.error(err.code, err.message, decl.call.name_span, *err.hints)
            self.graph.broken.add(name)
            return name
        self.graph.layers[name] = Layer(name, call, decl.span, decl.name is not None and not handle)
        return name

    def _auto_name(self, type_name: str) -> str:
        """Keras's default name: `dense`, `dense_1`, ... skipping names in use."""
        layer = LAYERS.get(type_name)
        name = self.auto_names.take(layer.snake_name if layer else type_name.lower(), self.taken)
        self.taken.add(name)
        return name

    def call_of(self, name: str) -> LayerCall | None:
        layer = self.graph.layers.get(name)
        return layer.call if layer else None

    def multi_input(self, name: str) -> bool:
        call = self.call_of(name)
        return call is not None and call.type.multi_input

    def apply(self, name: str, span: Span) -> Node:
        """A new application of layer `name` (the first, or a shared one)."""
        app = self.applications.get(name, 0)
        self.applications[name] = app + 1
        node = Node(name, app)
        self.nodes[(name, app)] = node
        self.spans[(name, app)] = span
        return node

    # ---- sequential ------------------------------------------------------------

    def sequential(self, block: ir.Sequential) -> None:
        if len(self.inputs) > 1:
            self.error(
                "E207",
                f"a sequential block takes exactly one input, found {len(self.inputs)}",
                block.span,
                "use a `graph` block for several inputs",
            )
        previous = TensorRef(next(iter(self.inputs))) if self.inputs else None
        for decl in block.layers:
            name = self.declare(decl)
            if name is None:
                continue
            node = self.apply(name, decl.span)
            if previous is not None:
                node.inputs.append(previous)
            previous = TensorRef(name, node.app)
        if previous is not None and previous.source not in self.inputs:
            self.graph.outputs.append(previous)
        elif not block.layers:
            self.error("E207", "the sequential block has no layers", block.span)

    # ---- graph -----------------------------------------------------------------

    def graph_block(self, block: ir.Graph, outputs: ir.OutputDecl | None) -> None:
        for decl in block.layers:
            self.declare(decl)
        for chain in block.chains:
            self.chain(chain)
        for node, slot, pending in self.pending:
            ref = self.resolve(pending)
            if ref is not None:
                node.inputs[slot] = ref
        for node in self.nodes.values():
            node.inputs = [r for r in node.inputs if isinstance(r, TensorRef)]
        connected = {key[0] for key in self.nodes} | self.mentioned
        for name, decl in self.decls.items():
            if name not in connected and name not in self.graph.broken:
                self.error(
                    "E204",
                    f"layer `{name}` is defined but never connected",
                    decl.span,
                    f"connect it with an edge, e.g. `x -> {name}`",
                )
        if outputs is not None:
            for ref in outputs.refs:
                resolved = self.source(ref)
                if isinstance(resolved, _Pending):
                    resolved = self.resolve(resolved)
                if resolved is not None:
                    self.graph.outputs.append(resolved)

    def source(self, ref: ir.Ref) -> TensorRef | _Pending | None:
        if ref.name in self.handles:
            ref = ir.Ref(self.handles[ref.name], ref.index, ref.span)
        self.mentioned.add(ref.name)
        if ref.name in self.inputs:
            if ref.index is not None:
                self.error("E210", f"input `{ref.name}` has a single output", ref.span)
            return TensorRef(ref.name, span=ref.span)
        if ref.name in self.decls:
            return _Pending(ref.name, None, ref.index, ref.span)
        known = list(self.inputs) + list(self.decls)
        self.error("E202", f"`{ref.name}` is not defined", ref.span, *did_you_mean(ref.name, known))
        self.mentioned.add(closest(ref.name, known) or ref.name)  # the typo stands for it
        return None

    def resolve(self, p: _Pending) -> TensorRef | None:
        apps = self.applications.get(p.layer, 0)
        if p.app is None:
            if apps > 1:
                self.error(
                    "E209",
                    f"`{p.layer}` is applied {apps} times (shared weights); "
                    "this reference does not say which application",
                    p.span,
                    "continue each application in the chain that applies it: `a -> shared -> next`",
                )
                return None
            if not apps:  # reported as unreachable, at this reference
                self.apply(p.layer, p.span)
            p = _Pending(p.layer, 0, p.index, p.span)
        return TensorRef(p.layer, p.app, p.index, p.span)

    def chain(self, chain: ir.Chain) -> None:
        current: list[TensorRef | _Pending] = []
        first = chain.nodes[0]
        for ref in first.refs if isinstance(first, ir.RefList) else [first]:
            if isinstance(ref, ir.Call):
                name = self.declare(ir.LayerDecl(None, ref, ref.span))
                if name is not None:
                    self.apply(name, ref.span)
                    current.append(TensorRef(name))
                continue
            resolved = self.source(ref)
            if resolved is not None:
                current.append(resolved)
        for element in chain.nodes[1:]:
            targets = element.refs if isinstance(element, ir.RefList) else [element]
            following: list[TensorRef | _Pending] = []
            for target in targets:
                out = self.edge(current, target)
                if out is not None:
                    following.append(out)
            current = following

    def edge(self, sources: list, target: ir.Ref | ir.Call) -> TensorRef | None:
        """Connect `sources` into `target`; return what flows on from it."""
        if isinstance(target, ir.Ref) and target.name in self.handles:
            target = ir.Ref(self.handles[target.name], target.index, target.span)
        if isinstance(target, ir.Ref):
            self.mentioned.add(target.name)
        if isinstance(target, ir.Call):
            name = self.declare(ir.LayerDecl(None, target, target.span))
            index = None
        elif target.name in self.inputs:
            self.error(
                "E206", f"`{target.name}` is a model input and cannot receive an edge", target.span
            )
            return None
        elif target.name not in self.decls:
            self.source(target)  # reports the undefined name
            return None
        else:
            name, index = target.name, target.index
        if name is None or not sources:
            return None
        if self.multi_input(name):
            node = self.nodes.get((name, 0)) or self.apply(name, target.span)
        else:
            if len(sources) != 1 and name not in self.graph.broken:
                layer = self.call_of(name)
                self.error(
                    "E206",
                    f"`{name}` ({layer.type.name}) takes one input, received {len(sources)}",
                    target.span,
                    f"merge them first, e.g. `[a, b] -> Concatenate() -> {name}`",
                )
                return None
            node = self.apply(name, target.span)
        for src in sources:
            if isinstance(src, _Pending):
                self.pending.append((node, len(node.inputs), src))
            node.inputs.append(src)
        return TensorRef(name, node.app, index, target.span)

    # ---- whole-graph checks -------------------------------------------------------

    def finish(self) -> LayerGraph:
        nodes = [n for n in self.nodes.values() if n.layer not in self.graph.broken]
        order = self._topological(nodes)
        if not self.graph.outputs:
            consumed = {(r.source, r.app) for n in nodes for r in n.inputs}
            self.graph.outputs = [
                TensorRef(n.layer, n.app) for n in nodes if (n.layer, n.app) not in consumed
            ]
        edge_errors = [d for d in self.diags[self.first_error :] if d.code != "E204"]
        if self.inputs and not self.graph.broken and not edge_errors:
            # With a layer or an edge missing, reachability would be guesswork.
            self._reachability(order)
        self.graph.nodes = order
        self.graph.sequential = self._is_chain(order)
        return self.graph

    def _topological(self, nodes: list[Node]) -> list[Node]:
        keys = {(n.layer, n.app): n for n in nodes}
        indegree = {k: 0 for k in keys}
        users: dict[tuple[str, int], list[tuple[str, int]]] = {k: [] for k in keys}
        for key, node in keys.items():
            for ref in node.inputs:
                src = (ref.source, ref.app)
                if src in keys:
                    indegree[key] += 1
                    users[src].append(key)
        ready = [k for k in keys if indegree[k] == 0]
        order = []
        while ready:
            key = ready.pop(0)
            order.append(keys[key])
            for user in users[key]:
                indegree[user] -= 1
                if indegree[user] == 0:
                    ready.append(user)
        if len(order) < len(keys):
            stuck = [k for k in keys if indegree[k] > 0]
            cycle = self._find_cycle(stuck, keys)
            path = " -> ".join(k[0] for k in cycle + cycle[:1])
            self.error(
                "E203",
                f"cycle in the layer graph: {path}",
                self.spans[cycle[0]],
                "a model is a directed acyclic graph; break one of these edges",
            )
            order += [keys[k] for k in stuck]  # kept so later stages see every node
            for k in stuck:
                keys[k].shape = None
        return order

    @staticmethod
    def _find_cycle(stuck, keys):
        stuck_set = set(stuck)
        key, seen = stuck[0], []
        while key not in seen:
            seen.append(key)
            key = next(
                (r.source, r.app) for r in keys[key].inputs if (r.source, r.app) in stuck_set
            )
        return list(reversed(seen[seen.index(key) :]))

    def _reachability(self, order: list[Node]) -> None:
        # A layer with no input edge is the root cause of everything below it
        # being unreachable; only it is reported.
        for node in order:
            if not node.inputs:
                self.error(
                    "E204",
                    f"layer `{node.layer}` is not reachable from any input",
                    self.spans[(node.layer, node.app)],
                    f"add an edge into it, e.g. `{next(iter(self.inputs), 'x')} -> {node.layer}`",
                )
        # Broken layers (their call did not bind) still carry edges here, so
        # nothing above them is reported as leading nowhere.
        every = {(n.layer, n.app): n for n in self.nodes.values()}
        needed: set[tuple[str, int]] = set()
        stack = [(r.source, r.app) for r in self.graph.outputs]
        while stack:
            key = stack.pop()
            if key not in needed:
                needed.add(key)
                if key in every:
                    stack.extend((r.source, r.app) for r in every[key].inputs)
        for node in order:
            if (node.layer, node.app) not in needed:
                self.error(
                    "E205",
                    f"layer `{node.layer}` leads to no output",
                    self.spans[(node.layer, node.app)],
                    "connect it onwards or list it in the `output` statement",
                )
        for name, inp in self.inputs.items():
            if (name, 0) not in needed:
                self.error("E205", f"input `{name}` is not used by any output", inp.span)

    def _is_chain(self, order: list[Node]) -> bool:
        if len(self.inputs) != 1 or len(self.graph.outputs) != 1 or not order:
            return False
        previous = TensorRef(next(iter(self.inputs)))
        for node in order:
            if node.app != 0 or node.inputs != [previous]:
                return False
            layer = self.graph.layers.get(node.layer)
            if layer is not None and layer.call.type.multi_input:
                return False  # a merge takes a list, which Sequential cannot pass
            if isinstance(previous, TensorRef) and previous.index is not None:
                return False
            previous = TensorRef(node.layer, 0)
        return self.graph.outputs[0] == previous


def build_graph(
    architecture: ir.Sequential | ir.Graph,
    inputs: tuple[InputNode, ...],
    outputs: ir.OutputDecl | None,
    diags: list[Diagnostic],
) -> LayerGraph:
    builder = _Builder(inputs, diags)
    if isinstance(architecture, ir.Sequential):
        if outputs is not None:
            diags.append(
                Diagnostic(
                    "E207", "a sequential model has one output: its last layer", outputs.span
                )
            )
        builder.sequential(architecture)
    else:
        builder.graph_block(architecture, outputs)
    return builder.finish()


def inner_layers(call: ir.Call) -> Iterator[str]:
    """The automatic-name prefixes of the layers given as arguments
    (`Bidirectional(LSTM(8))`), inner ones first: Keras makes them, unnamed,
    before the layer they are given to."""
    for value in [*call.args, *(kw.value for kw in call.kwargs)]:
        if isinstance(value, ir.Call) and value.name in LAYERS:
            yield from inner_layers(value)
            yield LAYERS[value.name].snake_name
