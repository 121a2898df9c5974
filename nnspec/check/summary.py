"""`nnspec summary`: the model table Keras's `model.summary()` prints, computed
without Keras."""

from __future__ import annotations

from nnspec.check.model import CheckedModel
from nnspec.vocab.layers.registry import show


def rows(model: CheckedModel) -> list[dict]:
    """One row per input (graph models, as Keras shows them) and per layer application."""
    out = []
    if not model.sequential:
        for inp in model.inputs:
            out.append(
                {
                    "name": inp.name,
                    "type": "InputLayer",
                    "shape": inp.shape,
                    "params": 0,
                    "connected_to": [],
                }
            )
    for node in model.nodes:
        layer = model.layers[node.layer]
        out.append(
            {
                "name": (
                    node.layer if node.app == 0 else f"{node.layer} (shared, call {node.app + 1})"
                ),
                "type": layer.call.type.name,
                "shape": node.shape,
                "params": node.weights.total if node.weights else 0,
                "connected_to": [str(r) for r in node.inputs],
            }
        )
    return out


def as_dict(model: CheckedModel) -> dict:
    weights = model.weights
    return {
        "name": model.name,
        "api": "sequential" if model.sequential else "functional",
        "layers": [{**row, "shape": _jsonable(row["shape"])} for row in rows(model)],
        "outputs": [str(r) for r in model.outputs],
        "total_params": weights.total,
        "trainable_params": weights.trainable,
        "non_trainable_params": weights.non_trainable,
    }


def _jsonable(shape):
    if isinstance(shape, list):
        return [list(s) for s in shape]
    return None if shape is None else list(shape)


def render_summary(model: CheckedModel) -> str:
    table = rows(model)
    graph = not model.sequential
    header = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if graph else [])
    body = []
    for row in table:
        cells = [
            f"{row['name']} ({row['type']})",
            show(row["shape"]) if row["shape"] is not None else "?",
            f"{row['params']:,}",
        ]
        if graph:
            cells.append(", ".join(row["connected_to"]) or "-")
        body.append(cells)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells):
        parts = [
            cell.rjust(w) if i == 2 else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths))
        ]
        return "  ".join(parts).rstrip()

    rule = "─" * (sum(widths) + 2 * (len(widths) - 1))
    weights = model.weights
    title = f'Model: "{model.name}"' + (f" — {model.description}" if model.description else "")
    lines = [title, rule, line(header), rule, *(line(r) for r in body), rule]
    lines += [
        f"Total params: {weights.total:,}",
        f"Trainable params: {weights.trainable:,}",
        f"Non-trainable params: {weights.non_trainable:,}",
    ]
    return "\n".join(lines)
