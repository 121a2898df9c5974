"""Declared parameters and binding a call's arguments to them.

Layers, optimizers, callbacks and data sources all declare `Param`s in
Keras's positional order; `bind` checks a call against them the same way.
"""

from __future__ import annotations

from msgspec import Struct, field

from nnspec.diagnostics.records import Diagnostic
from nnspec.diagnostics.wording import did_you_mean
from nnspec.syntax import ir
from nnspec.vocab.argtypes import ArgError, ArgType

REQUIRED = object()

ANY_VALUE = object()


class KerasOnly(Struct, frozen=True):
    """A Keras layer argument that no nnspec layer declares."""

    hint: str | None = None  # to a spec that writes it, where nnspec has its own syntax
    ignored: tuple = ()  # config values `nnspec import` leaves out (Keras's defaults)

    def ignores(self, value: object) -> bool:
        return ANY_VALUE in self.ignored or value in self.ignored


KERAS_ONLY = {
    "name": KerasOnly("name a layer by assigning it: `head = Dense(10)`", (ANY_VALUE,)),
    "input_shape": KerasOnly("declare the model input instead: `input x: (28, 28)`"),
    "input_dim": KerasOnly("declare the model input instead: `input x: (20,)`"),
    "quantization_config": KerasOnly(ignored=(None,)),
    "activity_regularizer": KerasOnly(ignored=(None,)),
    "zero_output_for_mask": KerasOnly(ignored=(False,)),  # any value inside Bidirectional
}


class Param(Struct, frozen=True):
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


class Bound(Struct):
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
    diags: list[Diagnostic] = []
    given = _by_position(call, params, what, diags)
    _by_name(call, params, what, noun, given, diags)
    values = {}
    for p in params:
        if p.name in given:
            value, _ = given[p.name]
            try:
                values[p.name] = p.type.convert(value)
            except ArgError as err:
                diags.extend(_conversion_errors(err, p, what, value))
        elif p.required:
            diags.append(_missing(call, p, what, noun))
        else:
            values[p.name] = p.default
    explicit = tuple(p.name for p in params if p.name in given)
    return Bound(Config(values, explicit), diags)


def _by_position(
    call: ir.Call, params: tuple[Param, ...], what: str, diags: list[Diagnostic]
) -> dict[str, tuple[ir.Value, ir.Span]]:
    """The positional arguments, by the name of the parameter each one fills."""
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
    return given


def _by_name(
    call: ir.Call,
    params: tuple[Param, ...],
    what: str,
    noun: str,
    given: dict[str, tuple[ir.Value, ir.Span]],
    diags: list[Diagnostic],
) -> None:
    """Add the keyword arguments to `given`; report unknown and repeated names."""
    unknown = "E114" if noun == "setting" else "E102"
    by_name = {p.name: p for p in params}
    for kw in call.kwargs:
        if kw.name not in by_name:
            hints = did_you_mean(kw.name, by_name)
            if "layer" in what and kw.name in KERAS_ONLY and KERAS_ONLY[kw.name].hint:
                hints = (KERAS_ONLY[kw.name].hint,)
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


def _conversion_errors(
    err: ArgError, p: Param, what: str, value: ir.Value
) -> tuple[Diagnostic, ...]:
    """An argument's value that its type rejects, as diagnostics."""
    if err.diagnostics:  # from a nested call, already phrased
        return err.diagnostics
    return tuple(
        Diagnostic(e.code, f"`{p.name}` of {what}: {e.message}", e.span or value.span, e.hints)
        for e in (err, *err.more)
    )


def _missing(call: ir.Call, p: Param, what: str, noun: str) -> Diagnostic:
    """A required parameter the call leaves out."""
    code = "E115" if noun == "setting" else "E103"
    example = f"e.g. `{p.name}: ...`" if noun == "setting" else f"e.g. `{call.name}({p.name}=...)`"
    return Diagnostic(
        code, f"{what} needs the {noun} `{p.name}` ({p.type.describe})", call.span, (example,)
    )


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
