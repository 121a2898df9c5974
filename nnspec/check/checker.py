"""IR -> checked IR: inputs, graph, shapes, data and training settings."""

from __future__ import annotations

from nnspec.check.data import check_data
from nnspec.check.graph import build_graph
from nnspec.check.model import CheckedModel, Data, InputNode
from nnspec.check.shapes import infer
from nnspec.check.training import check_training
from nnspec.diagnostics.records import Diagnostic, Severity
from nnspec.diagnostics.wording import did_you_mean
from nnspec.syntax import ir
from nnspec.vocab.argtypes import ArgError
from nnspec.vocab.params import Config, bind, bind_settings
from nnspec.vocab.settings import COMPILE, EVALUATE, FIT, INPUT_PARAMS
from nnspec.vocab.sources import SETTINGS, SOURCES, sample_shape

SAVE_SUFFIXES = (".keras", ".h5")


def check(spec: ir.Spec, diags: list[Diagnostic]) -> CheckedModel | None:
    """Check a spec; return the checked model, or None if it cannot be built."""
    inputs = _inputs(spec, diags)
    data = _data(spec.data, diags)
    settings = {
        "compile": _settings(spec.compile, COMPILE, diags),
        "fit": _settings(spec.fit, FIT, diags),
        "evaluate": _evaluate(spec.actions, diags),
    }
    for action in spec.actions:
        _action(action, diags)
    if spec.architecture is None:
        diags.append(
            Diagnostic(
                "E207",
                "the spec has no architecture",
                spec.model.span if spec.model else spec.span,
                ("add a `sequential { ... }` or a `graph { ... }` block",),
            )
        )
        return None
    if not inputs and not spec.inputs:  # (a broken declaration was reported already)
        diags.append(
            Diagnostic(
                "E207",
                "the model has no input",
                spec.architecture.span,
                ("declare one before the architecture, e.g. `input image: (28, 28, 1)`",),
            )
        )
    graph = build_graph(spec.architecture, inputs, spec.outputs, diags)
    if not inputs:
        return None  # the layers were still checked one by one
    infer(graph, inputs, diags)
    model = CheckedModel(
        name=spec.model.name if spec.model else "model",
        description=spec.model.description if spec.model else None,
        inputs=inputs,
        layers=graph.layers,
        nodes=tuple(graph.nodes),
        outputs=tuple(graph.outputs),
        sequential=graph.sequential,
        data=data,
        compile=settings["compile"],
        fit=settings["fit"],
        evaluate=settings["evaluate"],
        actions=spec.actions,
    )
    if not any(d.is_error for d in diags) or _whole(model):
        check_data(model, spec, diags)  # with errors elsewhere too, where the model is whole
        check_training(model, spec, diags)
    _fit_without_data(spec, diags)
    return model


def _whole(model: CheckedModel) -> bool:
    """Every layer bound (or its type guessed), every output made by a layer or an
    input, every shape known: the errors so far leave the model whole, so its
    data and training setup are checked in the same run."""
    made = {(n.layer, n.app) for n in model.nodes if n.shape is not None}
    inputs = {i.name for i in model.inputs}
    return (
        bool(model.outputs)
        and all(n.layer in model.layers and n.shape is not None for n in model.nodes)
        and all(r.source in inputs or (r.source, r.app) in made for r in model.outputs)
    )


def _fit_without_data(spec: ir.Spec, diags: list[Diagnostic]) -> None:
    if spec.fit is not None and spec.data is None:
        diags.append(
            Diagnostic(
                "W501",
                "`fit` without a `data` block: `nnspec run` has nothing to train on",
                spec.fit.span,
                ("add e.g. `data digits { test_split: 0.2 }`",),
                Severity.WARNING,
            )
        )


def _inputs(spec: ir.Spec, diags: list[Diagnostic]) -> tuple[InputNode, ...]:
    found: dict[str, InputNode] = {}
    for decl in spec.inputs:
        shape_value = decl.shape
        if isinstance(shape_value, ir.Const) and type(shape_value.value) is int:
            shape_value = ir.Seq((shape_value,), False, shape_value.span)  # `input x: 20`
        call = ir.Call("input", (shape_value,), decl.kwargs, decl.span, decl.span)
        bound = bind(call, INPUT_PARAMS, f"input `{decl.name}`")
        diags.extend(bound.diagnostics)
        if decl.name in found:
            diags.append(
                Diagnostic(
                    "E201",
                    f"input `{decl.name}` is declared twice",
                    decl.span,
                    (f"first declared at line {found[decl.name].span.line}",),
                )
            )
            continue
        if bound.ok:
            cfg = bound.config
            if not cfg.shape:
                diags.append(
                    Diagnostic("E303", "an input needs at least one dimension", decl.shape.span)
                )
                continue
            found[decl.name] = InputNode(decl.name, (None, *cfg.shape), cfg.dtype, decl.span)
    return tuple(found.values())


def _data(decl: ir.DataDecl | None, diags: list[Diagnostic]) -> Data | None:
    if decl is None:
        return None
    source = SOURCES.get(decl.source.name)
    if source is None:
        diags.append(
            Diagnostic(
                "E113",
                f"unknown data source `{decl.source.name}`",
                decl.source.name_span,
                did_you_mean(decl.source.name, SOURCES)
                or (f"known sources: {', '.join(SOURCES)}",),
            )
        )
        return None
    bound = bind(decl.source, source.params, f"data source `{source.name}`")
    settings = bind_settings(decl.settings or ir.Mapping((), decl.span), SETTINGS, "data")
    diags.extend(bound.diagnostics + settings.diagnostics)
    if not (bound.ok and settings.ok):
        return None
    try:
        info = source.info(bound.config)
    except ArgError as err:
        diags.append(Diagnostic(err.code, err.message, decl.source.span, err.hints))
        return None
    try:
        shape = sample_shape(info, settings.config)
    except ArgError as err:
        reshape = decl.settings.get("reshape") if decl.settings else None
        span = reshape.value.span if reshape else decl.span
        diags.append(Diagnostic(err.code, err.message, span, err.hints))
        return None
    split = decl.settings.get("test_split") if decl.settings else None
    if split is not None and source.loader == "keras":
        diags.append(
            Diagnostic(
                "W502",
                f"`test_split` is ignored: `{source.name}` comes with its own test set",
                split.span,
                ("remove it; `limit: N` trains on fewer samples",),
                Severity.WARNING,
            )
        )
    return Data(source, bound.config, settings.config, info, shape, decl.span)


def _settings(block: ir.Settings | None, params, diags: list[Diagnostic]):
    if block is None:
        return None
    bound = bind_settings(block.mapping, params, block.keyword)
    diags.extend(bound.diagnostics)
    return bound.config if bound.ok else None


def _evaluate(actions: tuple[ir.Action, ...], diags: list[Diagnostic]) -> Config | None:
    """The settings of `evaluate` (all defaults when bare); None without one."""
    action = next((a for a in actions if a.keyword == "evaluate"), None)
    if action is None:
        return None
    mapping = action.settings or ir.Mapping((), action.span)
    return _settings(ir.Settings("evaluate", mapping, action.span), EVALUATE, diags)


def _action(action: ir.Action, diags: list[Diagnostic]) -> None:
    if action.keyword == "save" and not action.path.endswith(SAVE_SUFFIXES):
        diags.append(
            Diagnostic(
                "E106",
                f"cannot save a model as `{action.path}`: Keras saves `.keras` or `.h5` files",
                action.span,
                (f"e.g. `save \"{action.path.rsplit('.', 1)[0]}.keras\"`",),
            )
        )
