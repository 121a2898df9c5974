"""Shape and weight inference over the resolved graph, in topological order."""

from __future__ import annotations

from nnspec.check.graph import LayerGraph
from nnspec.check.model import InputNode, Node
from nnspec.diagnostics.records import Diagnostic, Severity
from nnspec.vocab.argtypes import ArgError
from nnspec.vocab.layers.registry import ShapeError, Weights, show


def infer(graph: LayerGraph, inputs: tuple[InputNode, ...], diags: list[Diagnostic]) -> None:
    """Fill `shape` and `weights` of every node; errors go to `diags`.

    A node below a failed one keeps shape None and is not reported again.
    """
    shapes: dict[tuple[str, int], object] = {(i.name, 0): i.shape for i in inputs}
    for node in graph.nodes:
        if not node.inputs:
            continue  # reported by the graph builder
        layer = graph.layers[node.layer]
        in_shapes = []
        for ref in node.inputs:
            shape = shapes.get((ref.source, ref.app))
            if shape is None:
                break
            if isinstance(shape, list):
                if ref.index is None:
                    diags.append(
                        Diagnostic(
                            "E210",
                            f"`{ref.source}` has {len(shape)} outputs {show(shape)}; "
                            f"`{node.layer}` must pick one",
                            ref.span or layer.span,
                            (f"write `{ref.source}.0` for its first output",),
                        )
                    )
                    break
                if not 0 <= ref.index < len(shape):
                    diags.append(
                        Diagnostic(
                            "E210",
                            f"`{ref.source}` has outputs 0 to {len(shape) - 1}, not {ref.index}",
                            ref.span or layer.span,
                        )
                    )
                    break
                shape = shape[ref.index]
            elif ref.index not in (None, 0):
                diags.append(
                    Diagnostic(
                        "E210", f"`{ref.source}` has a single output", ref.span or layer.span
                    )
                )
                break
            in_shapes.append(shape)
        else:
            _apply(node, layer, in_shapes, diags)
            shapes[(node.layer, node.app)] = node.shape


def _apply(node: Node, layer, in_shapes: list, diags: list[Diagnostic]) -> None:
    kind = layer.call.type
    cfg = layer.call.config
    count = len(in_shapes)
    if count < kind.min_inputs or (kind.max_inputs is not None and count > kind.max_inputs):
        wanted = (
            f"{kind.min_inputs}"
            if kind.min_inputs == kind.max_inputs
            else (
                f"at least {kind.min_inputs}"
                if kind.max_inputs is None
                else f"{kind.min_inputs} to {kind.max_inputs}"
            )
        )
        diags.append(
            Diagnostic(
                "E206",
                f"`{node.layer}` ({kind.name}) takes {wanted} inputs, received {count}",
                layer.span,
                ("list its inputs in order: `[a, b] -> " + node.layer + "`",),
            )
        )
        return
    x = in_shapes if kind.multi_input else in_shapes[0]
    try:
        node.shape = kind.output(cfg, x)
        if node.app == 0:
            weights = kind.weights(cfg, x)
            node.weights = weights if cfg.get("trainable", True) else Weights(0, weights.total)
    except (ShapeError, ArgError) as err:
        node.shape = None
        diags.append(
            Diagnostic(
                err.code,
                f"layer `{node.layer}` ({kind.name}): {err.message}",
                layer.span,
                err.hints,
            )
        )
        return
    if kind.lint is not None:
        for code, message in kind.lint(cfg, x):
            diags.append(
                Diagnostic(
                    code, f"layer `{node.layer}`: {message}", layer.span, severity=Severity.WARNING
                )
            )
