"""Names and values inside an expansion: what a name means at an item, and the value
of parameters, operations, `range(...)` and layer-name templates there."""

from __future__ import annotations

from msgspec import Struct, structs

from nnspec.diagnostics.records import Diagnostic, Span, Use
from nnspec.diagnostics.wording import did_you_mean
from nnspec.syntax import ir
from nnspec.syntax.operators import OperatorError, compute, describe
from nnspec.vocab.values import show_value

MAX_LAYERS = 1_000_000  # expansion stops here: a loop this long is a mistake


class ExpandError(Exception):
    """A diagnostic that ends the expansion of one item; None where the cause was
    reported already (a parameter without a value)."""

    def __init__(self, diagnostic: Diagnostic | None):
        super().__init__(diagnostic.message if diagnostic else "reported already")
        self.diagnostic = diagnostic


# The value of a parameter whose definition was reported: its uses report nothing more.
NO_VALUE = ir.Const(None, Span(0, 0, 0, 0))


def fail(code: str, message: str, span: Span, *hints: str) -> ExpandError:
    return ExpandError(Diagnostic(code, message, span, hints))


def at(span: Span, via: tuple[Use, ...]) -> Span:
    return structs.replace(span, via=via) if via else span


class Scope(Struct):
    """What names mean where an item is expanded."""

    values: dict[str, ir.Value]  # parameters, block arguments, loop variables
    prefix: str = ""  # of the layer names made here
    via: tuple[Use, ...] = ()
    local: dict[str, object] | None = None  # in a graph body: name -> refs or a _Use
    block: ir.Block | None = None
    ports: frozenset[str] = frozenset()  # the block's input names

    def full(self, name: str) -> str:
        return f"{self.prefix}_{name}" if self.prefix else name

    def inner(self, **changes) -> Scope:
        return structs.replace(self, **changes)


class Values:
    """Computes values in a scope; remembers where `/` made a float (hint: `//`)."""

    def __init__(self) -> None:
        self.true_divisions: set[tuple[int, int, int, int]] = set()

    def kwarg(self, kwarg: ir.Kwarg, scope: Scope) -> ir.Kwarg:
        return ir.Kwarg(kwarg.name, self.value(kwarg.value, scope), at(kwarg.span, scope.via))

    def value(self, value, scope: Scope):
        """The flat value of `value`: parameters replaced, operations computed."""
        span = at(value.span, scope.via)
        if isinstance(value, ir.Const):
            return ir.Const(value.value, span) if scope.via else value
        if isinstance(value, ir.Ident):
            found = scope.values.get(value.name)
            if found is NO_VALUE:
                raise ExpandError(None)
            if found is None:
                return ir.Ident(value.name, span) if scope.via else value
            return structs.replace(found, span=span)
        if isinstance(value, ir.Operation):
            return self.operation(value, scope, span)
        if isinstance(value, ir.Seq):
            return ir.Seq(tuple(self.value(v, scope) for v in value.items), value.is_list, span)
        if isinstance(value, ir.Mapping):
            entries = (
                ir.Entry(e.key, self.value(e.value, scope), at(e.span, scope.via))
                for e in value.entries
            )
            return ir.Mapping(tuple(entries), span)
        if isinstance(value, ir.Call):
            return ir.Call(
                value.name,
                tuple(self.value(v, scope) for v in value.args),
                tuple(self.kwarg(k, scope) for k in value.kwargs),
                span,
                at(value.name_span, scope.via),
            )
        raise TypeError(f"not a value: {value!r}")

    def operation(self, op: ir.Operation, scope: Scope, span: Span) -> ir.Const:
        operands = [self.python(v, scope) for v in op.operands]
        try:
            result = compute(op.op, tuple(operands))
        except OperatorError as err:
            raise fail(err.code, err.message, span, *err.hints) from None
        if op.op == "/":
            self.true_divisions.add(span.position)
        return ir.Const(result, span)

    def python(self, value, scope: Scope):
        """The Python value of an operand, a condition or a name part."""
        flat = self.value(value, scope)
        if isinstance(flat, ir.Ident):
            raise self.unknown(flat, scope)
        if isinstance(flat, ir.Call):
            raise fail("E703", f"`{flat.name}(...)` has no value here", flat.span)
        return ir.plain(flat)

    @staticmethod
    def unknown(ident: ir.Ident, scope: Scope) -> ExpandError:
        known = list(scope.values)
        return fail(
            "E701",
            f"`{ident.name}` is not a parameter",
            ident.span,
            *(did_you_mean(ident.name, known) or ("define it first: `param NAME = value`",)),
        )

    def builtin(self, call: ir.Call, scope: Scope) -> list[ir.Const]:
        """`range(n)`, `range(a, b)`, `range(a, b, step)`, as Python's: a loop's list."""
        if call.name != "range" or call.kwargs or not 1 <= len(call.args) <= 3:
            raise fail(
                "E703",
                f"`{call.name}(...)` has no value here",
                call.span,
                "a loop runs over a list, a tuple or `range(...)`",
            )
        bounds = [self.integer(a, scope, "`range`") for a in call.args]
        if len(bounds) == 3 and bounds[2] == 0:
            raise fail("E702", "`range` with a step of zero", call.args[2].span)
        numbers = range(*bounds)
        if len(numbers) > MAX_LAYERS:
            raise fail("E704", f"`range` of {len(numbers):,} values", call.span)
        return [ir.Const(n, call.span) for n in numbers]

    def integer(self, value, scope: Scope, what: str) -> int:
        number = self.python(value, scope)
        if isinstance(number, bool) or not isinstance(number, int):
            hints = ("use `//` for integer division",) if isinstance(number, float) else ()
            raise fail(
                "E708",
                f"{what} needs an integer, found {describe(number)} ({show_value(number)})",
                at(value.span, scope.via),
                *hints,
            )
        return number

    def name(self, name, scope: Scope) -> str:
        """A layer name as written: plain, or a template filled in."""
        if isinstance(name, str):
            return name
        if name.broken:
            raise ExpandError(None)  # reported while lowering
        text = []
        for part in name.parts:
            if isinstance(part, str):
                text.append(part)
                continue
            piece = self.python(part, scope)
            if isinstance(piece, bool) or not isinstance(piece, (int, str)):
                raise fail(
                    "E708",
                    f"a name holds integers and text, found {describe(piece)}",
                    at(part.span, scope.via),
                )
            text.append(str(piece))
        return "".join(text)


def show_argument(value: ir.Value) -> str:
    """A bound argument as spec text, for the trace of a use."""
    if isinstance(value, ir.Ident):
        return value.name
    if isinstance(value, ir.Call):
        return f"{value.name}(...)"
    return show_value(ir.plain(value))
