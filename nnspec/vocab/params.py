"""Declared parameters and binding a call's arguments to them.

Layers, optimizers, callbacks and data sources all declare `Param`s in
Keras's positional order; `bind` checks a call against them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nnspec.diagnostics.records import Diagnostic
from nnspec.diagnostics.wording import did_you_mean
from nnspec.syntax import ir
from nnspec.vocab.argtypes import ArgError, ArgType

REQUIRED = object()

# Keras layer arguments that nnspec expresses with its own syntax instead.
_KERAS_ONLY = {
    "name": "name a layer by assigning it: `head = Dense(10)`",
    "input_shape": "declare the model input instead: `input x: (28, 28)`",
    "input_dim": "declare the model input instead: `input x: (20,)`",
}


@dataclass(frozen=True)
class Param:
    name: str
    type: ArgType
    default: object = REQUIRED
    doc: str = ""
    positional: bool = True  # may be passed without its name

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


class Config(dict):
    """Bound argument values with defaults filled in; `cfg.units` reads one.

    `explicit` holds the names the user wrote, so generated code can leave
    defaults out.
    """

    def __init__(self, values: dict, explicit: tuple[str, ...] = ()):
        super().__init__(values)
        self.explicit = explicit

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class Bound:
    config: Config
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def bind(call: ir.Call, params: tuple[Param, ...], what: str, noun: str = "argument") -> Bound:
    """Match `call`'s arguments to `params`; `what` names the callee in messages.

    With `noun="setting"` the call is a settings block (`fit { ... }`): unknown
    and missing keys get the setting codes E114 and E115.
    """
    unknown, missing = ("E114", "E115") if noun == "setting" else ("E102", "E103")
    diags: list[Diagnostic] = []
    given: dict[str, tuple[ir.Value, ir.Span]] = {}
    positional = [p for p in params if p.positional]
    for i, value in enumerate(call.args):
        if i >= len(positional):
            diags.append(
                Diagnostic(
                    "E107",
                    f"{what} takes at most {len(positional)} positional argument"
                    f"{'s' if len(positional) != 1 else ''}, found {len(call.args)}",
                    value.span,
                    (f"name the argument, e.g. `{params[0].name}=...`",) if params else (),
                )
            )
            break
        given[positional[i].name] = (value, value.span)
    by_name = {p.name: p for p in params}
    for kw in call.kwargs:
        if kw.name not in by_name:
            hints = did_you_mean(kw.name, by_name)
            if "layer" in what and kw.name in _KERAS_ONLY:
                hints = (_KERAS_ONLY[kw.name],)
            diags.append(Diagnostic(unknown, f"{what} has no {noun} `{kw.name}`", kw.span, hints))
        elif kw.name in given:
            diags.append(
                Diagnostic(
                    "E104",
                    f"{noun} `{kw.name}` of {what} given twice",
                    kw.span,
                    (f"first given at column {given[kw.name][1].column}",),
                )
            )
        else:
            given[kw.name] = (kw.value, kw.span)
    values = {}
    for p in params:
        if p.name in given:
            value, _ = given[p.name]
            try:
                values[p.name] = p.type.convert(value)
            except ArgError as err:
                if err.diagnostics:
                    diags.extend(err.diagnostics)
                    continue
                diags.extend(
                    Diagnostic(
                        e.code, f"`{p.name}` of {what}: {e.message}", e.span or value.span, e.hints
                    )
                    for e in (err, *err.more)
                )
        elif p.required:
            diags.append(
                Diagnostic(
                    missing,
                    f"{what} needs the {noun} `{p.name}` ({p.type.describe})",
                    call.span,
                    (
                        (
                            f"e.g. `{p.name}: ...`"
                            if noun == "setting"
                            else f"e.g. `{call.name}({p.name}=...)`"
                        ),
                    ),
                )
            )
        else:
            values[p.name] = p.default
    explicit = tuple(p.name for p in params if p.name in given)
    return Bound(Config(values, explicit), diags)


def bind_settings(mapping: ir.Mapping, params: tuple[Param, ...], what: str) -> Bound:
    """Check a settings block `{ key: value }` like a call with keyword arguments."""
    kwargs = tuple(ir.Kwarg(str(e.key), e.value, e.span) for e in mapping.entries)
    call = ir.Call(what, (), kwargs, mapping.span, mapping.span)
    return bind(
        call,
        tuple(Param(p.name, p.type, p.default, p.doc, False) for p in params),
        f"`{what}`",
        "setting",
    )
