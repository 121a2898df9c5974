"""The checked model's layers by the source that made them.

UseExpansion gives every layer made inside a block a span whose `via` lists the block
uses that made it, and the layers a loop makes share the span of their item. So
the instances of one layer item are the layers whose span has the item's position
(`Span.position`, the region without the uses), and what one use of a block made
are the layers whose `via` holds that use: the same `Use.number`, at the use's
position. A spec without blocks or loops has one instance per item.
"""

from __future__ import annotations

from msgspec import Struct

from nnspec.check.model import CheckedModel, Layer, Node, TensorRef
from nnspec.diagnostics.records import Span, Use
from nnspec.vocab.layers.registry import Weights, show

MAX_LISTED = 12  # instances listed in a hover; the others counted


class UseExpansion(Struct):
    """What one use of a block made: its layers in the order they run."""

    use: Use
    layers: list[str]


class Instances:
    def __init__(self, model: CheckedModel):
        self.model = model
        self.nodes: dict[str, list[Node]] = {}
        self.consumers: dict[str, list[tuple[str, TensorRef]]] = {}
        for node in model.nodes:
            self.nodes.setdefault(node.layer, []).append(node)
            for ref in node.inputs:
                self.consumers.setdefault(ref.source, []).append((node.layer, ref))
        order = {name: i for i, name in enumerate(self.nodes)}
        ordered = sorted(model.layers.values(), key=lambda lay: order.get(lay.name, len(order)))
        self.layers: dict[tuple, list[Layer]] = {}
        self.uses: dict[tuple, dict[int, UseExpansion]] = {}
        for layer in ordered:
            self.layers.setdefault(layer.span.position, []).append(layer)
            for use in layer.span.via:
                made = self.uses.setdefault(use.span.position, {})
                made.setdefault(use.number, UseExpansion(use, [])).layers.append(layer.name)

    def of_item(self, key: Span) -> list[Layer]:
        """The layers the layer item at `key` made."""
        return self.layers.get(key.position, [])

    def of_use(self, key: Span) -> list[UseExpansion]:
        """What each expansion of the block use at `key` made, in order."""
        return sorted(self.uses.get(key.position, {}).values(), key=lambda e: e.use.number)

    def of_block(self, name: str) -> list[UseExpansion]:
        """Every expansion of the block `name`, in order."""
        found = [e for made in self.uses.values() for e in made.values() if e.use.block == name]
        return sorted(found, key=lambda e: e.use.number)

    # ---- figures ---------------------------------------------------------------------

    def outputs(self, made: UseExpansion) -> list[TensorRef]:
        """The tensors an expansion hands on: those read outside it, or the model's
        outputs; else the output of its last layer."""
        inside = set(made.layers)
        found: list[TensorRef] = []
        for name in made.layers:
            for reader, ref in self.consumers.get(name, []):
                if reader not in inside and ref not in found:
                    found.append(ref)
        found += [r for r in self.model.outputs if r.source in inside and r not in found]
        if not found:
            last = next((self.nodes[n][-1] for n in reversed(made.layers) if n in self.nodes), None)
            found = [TensorRef(last.layer, last.app)] if last is not None else []
        return found

    def inputs(self, made: UseExpansion) -> list[TensorRef]:
        """The tensors an expansion reads from outside it."""
        inside = set(made.layers)
        found: list[TensorRef] = []
        for name in made.layers:
            for node in self.nodes.get(name, []):
                found += [r for r in node.inputs if r.source not in inside and r not in found]
        return found

    def weights(self, layers: list[str]) -> Weights | None:
        """The parameters of `layers`; None if one of them has an unknown count."""
        total = Weights()
        for name in layers:
            counted = [n.weights for n in self.nodes.get(name, []) if n.weights is not None]
            if not counted:
                return None
            total = total + counted[0]
        return total

    def shapes(self, refs: list[TensorRef]) -> str:
        """`(None, 10)`, or several: `(None, 10)`, `(None, 3)`."""
        shown = []
        for ref in refs:
            try:
                shape = self.model.shape_of(ref)
            except StopIteration:  # a layer that never ran: an error upstream
                shape = None
            shown.append(f"`{show(shape)}`" if shape is not None else "unknown")
        return ", ".join(shown) or "none"

    def summary(self, made: UseExpansion) -> str:
        """Output shape, parameters and layers of one expansion."""
        outs = self.outputs(made)
        word = "output shape" if len(outs) == 1 else "output shapes"
        layers = f"{len(made.layers)} layer{'' if len(made.layers) == 1 else 's'}"
        return f"{word} {self.shapes(outs)} · {count(self.weights(made.layers))} · {layers}"


def count(weights: Weights | None) -> str:
    """`50,240 parameters`, with the non-trainable ones where there are."""
    if weights is None:
        return "parameters unknown"
    text = f"{weights.total:,} parameter{'' if weights.total == 1 else 's'}"
    if weights.non_trainable:
        text += f" ({weights.trainable:,} trainable, {weights.non_trainable:,} non-trainable)"
    return text


def listed(lines: list[str], total: int) -> list[str]:
    """At most MAX_LISTED of `lines`, and how many more there are."""
    shown = lines[:MAX_LISTED]
    if total > len(shown):
        shown.append(f"- … and {total - len(shown)} more")
    return shown
