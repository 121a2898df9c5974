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


def as_dict(model: CheckedModel, blocks: bool = False) -> dict:
    weights = model.weights
    table = folded_rows(model) if blocks else rows(model)
    return {
        "name": model.name,
        "api": "sequential" if model.sequential else "functional",
        "layers": [{**row, "shape": _jsonable(row["shape"])} for row in table],
        "outputs": [str(r) for r in model.outputs],
        "total_params": weights.total,
        "trainable_params": weights.trainable,
        "non_trainable_params": weights.non_trainable,
    }


def _jsonable(shape):
    if isinstance(shape, list):
        return [list(s) for s in shape]
    return None if shape is None else list(shape)


def render_summary(model: CheckedModel, blocks: bool = False) -> str:
    table = folded_rows(model) if blocks else rows(model)
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


def folded_rows(model: CheckedModel) -> list[dict]:
    """`nnspec summary --blocks`: the rows of `rows`, with the layers of each top-level
    block use folded into one row: its output shape and its parameters."""
    groups: dict[int, list] = {}
    out: list[dict | int] = []
    for row, node in zip(_layer_rows(model), model.nodes):
        via = model.layers[node.layer].span.via
        if not via:
            out.append(row)
            continue
        if via[0].number not in groups:
            groups[via[0].number] = []
            out.append(via[0].number)
        groups[via[0].number].append((row, node))
    inputs = [] if model.sequential else rows(model)[: len(model.inputs)]
    table = inputs + [r if isinstance(r, dict) else _folded(groups[r], model) for r in out]
    owner = {
        f"{n.layer}[{n.app}]": _use_name(model, members)
        for members in groups.values()
        for _, n in members
    }
    for row in table:
        shown = [owner.get(ref.rsplit("[", 1)[0], ref) for ref in row["connected_to"]]
        row["connected_to"] = list(dict.fromkeys(shown))
    return table


def _layer_rows(model: CheckedModel) -> list[dict]:
    return rows(model)[0 if model.sequential else len(model.inputs) :]


def _use_name(model: CheckedModel, members: list) -> str:
    use = model.layers[members[0][1].layer].span.via[0]
    return use.name or use.block


def _folded(members: list, model: CheckedModel) -> dict:
    inside = {(n.layer, n.app) for _, n in members}
    consumed = {
        (r.source, r.app) for n in model.nodes if (n.layer, n.app) not in inside for r in n.inputs
    }
    consumed |= {(r.source, r.app) for r in model.outputs}
    leaving = [n for _, n in members if (n.layer, n.app) in consumed] or [members[-1][1]]
    entering = [str(r) for _, n in members for r in n.inputs if (r.source, r.app) not in inside]
    return {
        "name": _use_name(model, members),
        "type": model.layers[members[0][1].layer].span.via[0].block,
        "shape": leaving[0].shape if len(leaving) == 1 else [n.shape for n in leaving],
        "params": sum(row["params"] for row, _ in members),
        "connected_to": entering,
        "layers": len(members),
    }
