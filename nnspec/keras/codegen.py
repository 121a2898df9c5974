"""`nnspec gen`: a checked model -> a standalone tf.keras script.

The code's shape lives in the Jinja templates; this module hands them a
`Program` and formats the result with black. Spec text reaches the output only
through the `identifier`, `dotted`, `literal` (repr) and `comment` filters.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import jinja2

from nnspec import __version__
from nnspec.check.model import CheckedModel
from nnspec.diagnostics.records import Span
from nnspec.keras.calls import Code, PyCall, identifier, literal
from nnspec.keras.emitters import Problems
from nnspec.keras.plan import Program, Var, dataset_files, program
from nnspec.syntax import ir


def _comment(text) -> str:
    """Text for a comment or docstring: escapes, never a line break or quote."""
    return repr(str(text))[1:-1].replace('"', '\\"')


def _dotted(path: str) -> str:
    return ".".join(identifier(part) for part in path.split("."))


def template_dir() -> Path:
    """The templates: package data when installed, `templates/` in a source checkout."""
    try:
        return Path(str(resources.files("nnspec.templates")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "templates"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir()),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters.update(identifier=identifier, dotted=_dotted, literal=literal, comment=_comment)
    env.tests.update(
        pycall=lambda v: isinstance(v, PyCall),
        code=lambda v: isinstance(v, Code),
        var=lambda v: isinstance(v, Var),
        tuple_value=lambda v: isinstance(v, tuple),
        list_value=lambda v: isinstance(v, list),
        dict_value=lambda v: isinstance(v, dict),
    )
    return env


def trains(p: Program) -> bool:
    """Whether `main()` trains: fit, evaluate and plot need data and a compile block."""
    return p.data is not None and p.compile_kwargs is not None


def predicts(p: Program) -> bool:
    """Whether `main()` predicts: with data, trained or not (untrained: W404)."""
    return p.data is not None and bool(p.predict)


def uses(p: Program) -> dict[str, object]:
    """What the script imports: only what its steps need."""
    d = p.data
    return {
        "csv": predicts(p),
        "gzip": bool(d and d.loader == "keras" and d.files and d.source != "mnist"),
        "numpy": bool(
            predicts(p)
            or p.per_class
            or (d and (d.add_channel or d.loader == "npz" or d.files or d.outputs))
        ),
        "pandas": bool(d and d.loader == "csv"),
        "tensorflow": p.seed is not None,
        "figure": bool(trains(p) and p.plot),
        "sklearn_data": d.function if d and d.function else None,
        "split": bool(d and d.loader in ("sklearn", "synthetic", "csv", "npz")),
        "layers": bool(p.layers or p.tensors),
    }


def api_of(model: CheckedModel, api: str, problems: Problems) -> str:
    """The API to write `model` with; `--api sequential` on a graph is a problem (E601)."""
    if api == "auto":
        return "sequential" if model.sequential else "functional"
    if api == "sequential" and not model.sequential:
        reason, span = why_graph(model)
        problems.unsupported(
            "E601",
            f"cannot write `{model.name}` with the Sequential API: {reason}",
            span,
            ("use `--api functional` (or `auto`, which picks it for graphs)",),
        )
    return api


def why_graph(model: CheckedModel) -> tuple[str, Span]:
    """What makes a model need the Functional API, and where the spec says so."""
    first = model.layers[model.nodes[0].layer].span if model.nodes else model.inputs[0].span
    if len(model.inputs) != 1:
        return f"it has {len(model.inputs)} inputs", model.inputs[1].span
    if len(model.outputs) != 1:
        return f"it has {len(model.outputs)} outputs", model.outputs[1].span or first
    fed: dict[tuple[str, int], str] = {}
    for node in model.nodes:
        span = model.layers[node.layer].span
        if len(node.inputs) != 1:
            names = ", ".join(f"`{r.source}`" for r in node.inputs)
            where = node.inputs[-1].span if node.inputs else None
            return f"`{node.layer}` takes {len(node.inputs)} inputs ({names})", where or span
        ref = node.inputs[0]
        if model.layers[node.layer].call.type.multi_input:
            return f"`{node.layer}` takes a list of inputs", span
        if ref.index is not None:
            return f"`{node.layer}` takes output {ref.index} of `{ref.source}`", ref.span or span
        if node.app > 0:
            return f"`{node.layer}` is applied more than once (shared weights)", ref.span or span
        key = (ref.source, ref.app)
        if key in fed:
            return (
                f"`{ref.source}` feeds both `{fed[key]}` and `{node.layer}`",
                ref.span or span,
            )
        fed[key] = node.layer
    return "its edges do not form a single chain", first


def render_script(
    model: CheckedModel,
    spec_path: str,
    api: str = "auto",
    data_dir: str | None = None,
    spec: ir.Spec | None = None,
) -> str:
    """The black-formatted script for `model`; `data_dir` holds Keras's dataset files.

    `spec`, the IR as written (`Result.spec`): where it has parameters or blocks, the
    script keeps them, as constants and functions (`--api sequential` aside), when
    they build the checked model exactly; else, as for a flat spec, the script
    writes every layer of the checked model.

    Raises GenError with every problem found: the API asked for, and each layer
    the table of emitters cannot write."""
    import black

    problems = Problems()
    asked, api = api, api_of(model, api, problems)
    p = program(model, dataset_files(model, data_dir), problems=problems)
    validates = any(k == "validation_data" for k, _ in p.fit_kwargs)
    context = {
        "p": p,
        "uses": uses(p),
        "trains": trains(p),
        "predicts": predicts(p),
        "tests": p.evaluate is not None or bool(p.predict) or validates,
        "test_labels": p.evaluate is not None or validates,
        "version": __version__,
        "spec_path": spec_path,
        "runtime": False,
    }
    if spec is not None and not spec.flat and asked != "sequential":
        written = _with_blocks(spec, model, p, context)
        if written is not None:
            return written
    source = environment().get_template(f"{api}.py.j2").render(**context)
    return black.format_str(source, mode=black.Mode())


def _with_blocks(spec: ir.Spec, model: CheckedModel, p: Program, context: dict) -> str | None:
    """The script with the spec's parameters and blocks; None where the writer cannot
    express the spec, or its functions would not build exactly the checked model."""
    import black

    from nnspec.keras.blocks import Unsupported, structured
    from nnspec.keras.replay import builds

    try:
        s = structured(spec, model, p, python_source)
    except Unsupported:
        return None
    source = environment().get_template("blocks.py.j2").render(s=s, **context)
    source = black.format_str(source, mode=black.Mode())
    return source if builds(source, model, p) else None


def python_source(value) -> str:
    """A value as Python source, as the templates' `py` macro writes it."""
    return str(environment().get_template("partials/macros.py.j2").module.py(value))


def render_runtime(p: Program) -> str:
    """The data loading and plotting steps alone, as `run` executes them."""
    needs = {**uses(p), "figure": True, "csv": True, "numpy": True, "layers": False}
    needs["tensorflow"] = False
    return environment().get_template("runtime.py.j2").render(p=p, uses=needs, runtime=True)


def render_predictions() -> str:
    """`prediction_rows` and `write_predictions` alone, as `nnspec predict` runs them."""
    partial = environment().get_template("partials/predictions.py.j2").render()
    return "import csv\n\nimport numpy as np\n\n\n" + partial
