"""Markdown reference tables rendered from nnspec's registries.

docs/language.md holds these tables between marker comments
(`<!-- BEGIN GENERATED: layers -->` ... `<!-- END GENERATED: layers -->`);
`tools/update_docs.py` rewrites them and tests/test_docs.py keeps them in step.
Nothing here imports TensorFlow.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from nnspec.diagnostics.codes import CODES
from nnspec.vocab.catalog import (
    ACTIVATIONS,
    CALLBACKS,
    CONSTRAINTS,
    INITIALIZERS,
    LOSS_ALIASES,
    LOSSES,
    METRICS,
    OPTIMIZERS,
    REGULARIZERS,
    SCHEDULES,
    Callee,
)
from nnspec.vocab.layers import layer_types
from nnspec.vocab.layers.registry import COMMON, LayerType
from nnspec.vocab.params import Param
from nnspec.vocab.settings import COMPILE, EVALUATE, FIT, INPUT_PARAMS
from nnspec.vocab.sources import SETTINGS, SOURCES
from nnspec.vocab.values import show_value

# Categories in reading order; any other category follows, alphabetically.
CATEGORY_ORDER = (
    "core",
    "activation",
    "regularization",
    "normalization",
    "reshaping",
    "preprocessing",
    "embedding",
    "convolution",
    "pooling",
    "recurrent",
    "merge",
    "attention",
    "wrapper",
)
CODE_GROUPS = {
    "E0": "Syntax",
    "E1": "Names and arguments",
    "E2": "Graph",
    "E3": "Shapes",
    "E4": "Training setup",
    "E5": "Data",
    "E6": "Code generation",
    "E7": "Parameters and blocks",
    "E9": "Internal",
    "W": "Warnings",
}

# ---- values and cells ------------------------------------------------------------


def cell(text: str) -> str:
    """Text made safe for one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def first_line(doc: str) -> str:
    """The first paragraph of a docstring, on one line."""
    return " ".join(doc.strip().split("\n\n")[0].split())


def show_param(param: Param) -> str:
    """`units` (required: in bold) or `activation=None`."""
    if param.required:
        return f"**`{param.name}`**"
    return f"`{param.name}={show_value(param.default, param)}`"


def show_params(params: Iterable[Param]) -> str:
    """A signature: positional order first, then `*` and the keyword-only ones."""
    params = tuple(params)
    shown = [show_param(p) for p in params if p.positional]
    keyword_only = [show_param(p) for p in params if not p.positional]
    if keyword_only:
        shown += ["`*`", *keyword_only]
    return ", ".join(shown) if shown else "none"


def table(header: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> str:
    """A Markdown table; cells are escaped."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def settings_table(params: Iterable[Param], key: str = "Setting") -> str:
    """One row per setting: name, accepted values, default, meaning."""
    return table(
        (key, "Accepts", "Default", "Meaning"),
        (
            (
                f"`{p.name}`",
                p.type.describe,
                "**required**" if p.required else f"`{show_value(p.default, p)}`",
                p.doc,
            )
            for p in params
        ),
    )


# ---- layers ------------------------------------------------------------------------


def categories() -> dict[str, list[LayerType]]:
    """Registered layer types grouped by category, categories in reading order."""
    groups: dict[str, list[LayerType]] = {}
    for layer in layer_types():
        groups.setdefault(layer.category, []).append(layer)
    rank = {c: i for i, c in enumerate(CATEGORY_ORDER)}
    order = sorted(groups, key=lambda c: (rank.get(c, len(rank)), c))
    return {c: groups[c] for c in order}


def _own_params(layer: LayerType) -> tuple[Param, ...]:
    common = {p.name for p in COMMON}
    return tuple(p for p in layer.params if p.name not in common)


def _inputs_note(layer: LayerType) -> str:
    low, high = layer.min_inputs, layer.max_inputs
    if not layer.multi_input:
        return ""
    if high is None:
        return f" Takes {low} or more inputs."
    return f" Takes {low} inputs." if low == high else f" Takes {low} to {high} inputs."


def layer_row(layer: LayerType) -> tuple[str, str, str, str]:
    aliases = ", ".join(f"`{a}`" for a in layer.aliases)
    return (
        f"`{layer.name}`",
        aliases,
        show_params(_own_params(layer)),
        first_line(layer.doc) + _inputs_note(layer),
    )


def render_layers() -> str:
    """The layer tables, one per category."""
    count = len(layer_types())
    parts = [
        f"{count} layer types. Arguments are listed in Keras's positional order; "
        "**bold** ones are required, those after `*` can only be given by name. "
        "Every layer also takes the keyword arguments "
        + ", ".join(show_param(p) for p in COMMON)
        + ".",
    ]
    for category, layers in categories().items():
        parts.append(f"### {category.capitalize()}")
        parts.append(
            table(("Layer", "Aliases", "Arguments", "Description"), map(layer_row, layers))
        )
    return "\n\n".join(parts)


# ---- data --------------------------------------------------------------------------


def render_sources() -> str:
    """The data sources of a `data` statement."""
    rows = (
        (f"`{s.name}`", show_params(s.params), s.loader, first_line(s.doc))
        for s in SOURCES.values()
    )
    return table(("Source", "Arguments", "Loaded with", "Description"), rows)


def render_data_settings() -> str:
    """The settings of a `data` block."""
    return settings_table(SETTINGS)


# ---- input, compile, fit, evaluate -----------------------------------------------------


def render_settings() -> str:
    """The arguments of `input` and the settings of `compile`, `fit` and `evaluate`."""
    parts = []
    for title, params, key in (
        ("`input NAME: shape, ...`", INPUT_PARAMS, "Argument"),
        ("`compile { ... }`", COMPILE, "Setting"),
        ("`fit { ... }`", FIT, "Setting"),
        ("`evaluate { ... }`", EVALUATE, "Setting"),
    ):
        parts += [f"### {title}", settings_table(params, key)]
    return "\n\n".join(parts)


# ---- names: losses, metrics, optimizers, callbacks, activations... ---------------------


def _words(names: Iterable[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def _called(table_: dict[str, tuple[str, ...]]) -> str:
    """`relu`, `l2(l2)`: each name with the arguments it takes, if any."""
    return ", ".join(f"`{n}({', '.join(a)})`" if a else f"`{n}`" for n, a in table_.items())


def _callee_rows(table_: dict[str, Callee]) -> list[tuple[str, str, str, str]]:
    seen: dict[str, Callee] = {}
    for callee in table_.values():
        seen.setdefault(callee.name, callee)
    return [
        (_words(c.aliases), f"`{c.name}`", show_params(c.params), first_line(c.doc))
        for c in seen.values()
    ]


def render_names() -> str:
    """Losses, metrics, optimizers, callbacks and the names layer arguments take."""
    aliases: dict[str, list[str]] = {}
    for alias, full in LOSS_ALIASES.items():
        aliases.setdefault(full, []).append(alias)
    losses = table(
        ("Loss", "Aliases", "Labels", "Arguments"),
        (
            (f"`{loss.name}`", _words(aliases.get(loss.name, ())), loss.labels, _words(loss.kwargs))
            for loss in LOSSES.values()
        ),
    )
    header = ("Name", "Keras class", "Arguments", "Description")
    return "\n\n".join(
        [
            "### Losses",
            "Labels: `categorical` wants one-hot labels, `sparse` integer class ids, "
            "`binary` 0/1 per unit, `regression` real-valued targets.",
            losses,
            "### Optimizers",
            table(header, _callee_rows(OPTIMIZERS)),
            "### Learning-rate schedules",
            "An optimizer's `learning_rate` may be one of these, e.g. "
            "`adam(learning_rate=cosine_decay(1e-3, 10000, warmup_target=3e-3, "
            "warmup_steps=500))`.",
            table(header, _callee_rows(SCHEDULES)),
            "### Callbacks",
            table(header, _callee_rows(CALLBACKS)),
            "### Metrics",
            _called(METRICS),
            "### Activations",
            _called(ACTIVATIONS),
            "### Initializers",
            _called(INITIALIZERS),
            "### Regularizers",
            _called(REGULARIZERS),
            "### Constraints",
            _called(CONSTRAINTS),
        ]
    )


# ---- diagnostic codes -----------------------------------------------------------------


def code_group(code: str) -> str:
    """The section of the code table a code belongs to: `E301` -> `Shapes`."""
    for prefix, title in CODE_GROUPS.items():
        if code.startswith(prefix):
            return title
    return "Other"


def render_codes() -> str:
    """Every diagnostic code with its meaning."""
    return table(
        ("Code", "Kind", "Meaning"),
        ((f"`{c}`", code_group(c), meaning) for c, meaning in CODES.items()),
    )


# ---- generated sections ----------------------------------------------------------------

SECTIONS: dict[str, Callable[[], str]] = {
    "layers": render_layers,
    "data-sources": render_sources,
    "data-settings": render_data_settings,
    "settings": render_settings,
    "names": render_names,
    "codes": render_codes,
}

_BLOCK = re.compile(
    r"(<!-- BEGIN GENERATED: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- END GENERATED: (?P=name) -->)",
    re.DOTALL,
)


def render_section(name: str) -> str:
    """The body of generated section `name`, ending in a newline."""
    return SECTIONS[name]().rstrip("\n") + "\n"


def sections_in(text: str) -> dict[str, str]:
    """The generated sections of a document: name -> current body."""
    return {m["name"]: m["body"] for m in _BLOCK.finditer(text)}


def update(text: str) -> str:
    """`text` with every generated section rendered afresh.

    Raises KeyError for a section name nnspec does not know.
    """
    return _BLOCK.sub(lambda m: m[1] + render_section(m["name"]) + m[4], text)
