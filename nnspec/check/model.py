"""The checked IR: the model as a resolved graph with shapes and weights.

Summary, code generation and the Keras builder read only this.
"""

from __future__ import annotations

from msgspec import Struct, field

from nnspec.diagnostics.records import Span
from nnspec.syntax import ir
from nnspec.vocab.layers.registry import LayerCall, Shape, Weights
from nnspec.vocab.params import Config
from nnspec.vocab.sources import DataInfo, Source


class InputNode(Struct, frozen=True):
    name: str
    shape: Shape  # batch dimension included
    dtype: str
    span: Span


class Layer(Struct, frozen=True):
    """One layer instance (applied once, or several times with shared weights)."""

    name: str
    call: LayerCall
    span: Span
    named: bool  # the user named it (otherwise the name is Keras's default)


class TensorRef(Struct, frozen=True, eq=False):
    """Output `index` of application `app` of `source` (a layer or an input);
    equal to every other reference to the same tensor, wherever the spec names it."""

    source: str
    app: int = 0
    index: int | None = None
    span: Span | None = None  # where the spec names it

    def __eq__(self, other) -> bool:
        return isinstance(other, TensorRef) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple:
        return self.source, self.app, self.index

    def __str__(self) -> str:
        return f"{self.source}[{self.app}][{self.index or 0}]"


class Node(Struct):
    """One application of a layer to its input tensors."""

    layer: str
    app: int
    inputs: list[TensorRef] = field(default_factory=list)
    shape: Shape | list[Shape] | None = None  # None: unknown after an error upstream
    weights: Weights | None = None  # counted on the first application only


class Data(Struct, frozen=True):
    source: Source
    config: Config
    settings: Config
    info: DataInfo
    sample_shape: tuple[int, ...] | None
    span: Span


class CheckedModel(Struct, frozen=True):
    name: str
    description: str | None
    inputs: tuple[InputNode, ...]
    layers: dict[str, Layer]
    nodes: tuple[Node, ...]  # topological order
    outputs: tuple[TensorRef, ...]
    sequential: bool  # one input, one output, a plain chain: Keras's Sequential fits
    data: Data | None
    compile: Config | None
    fit: Config | None
    evaluate: Config | None  # None: the spec does not evaluate
    actions: tuple[ir.Action, ...]

    def shape_of(self, ref: TensorRef) -> Shape | None:
        for inp in self.inputs:
            if inp.name == ref.source:
                return inp.shape
        node = next(n for n in self.nodes if n.layer == ref.source and n.app == ref.app)
        if isinstance(node.shape, list):
            return node.shape[ref.index or 0]
        return node.shape

    @property
    def weights(self) -> Weights:
        total = Weights()
        for node in self.nodes:
            if node.weights is not None:
                total = total + node.weights
        return total
