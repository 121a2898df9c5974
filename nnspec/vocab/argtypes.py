"""Argument types: check one IR value and turn it into a plain Python value.

Every argument in nnspec (layers, optimizers, callbacks, data sources) is
declared with one of these types; a failed check raises `ArgError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from msgspec import Struct

from nnspec.diagnostics.wording import did_you_mean
from nnspec.syntax import ir


class ArgError(Exception):
    """A value that does not fit its declared type (code E105 unless given)."""

    def __init__(
        self, message: str, code: str = "E105", hints: tuple[str, ...] = (), diagnostics=()
    ):
        super().__init__(message)
        self.message, self.code, self.hints = message, code, hints
        self.diagnostics = tuple(diagnostics)  # from a nested call, reported as they are
        self.span: ir.Span | None = None  # the item at fault, inside a tuple or list
        self.more: tuple[ArgError, ...] = ()  # further items at fault


def _each(items: tuple[ir.Value, ...], convert) -> tuple:
    """Convert every item; report every bad one, each at its own position."""
    done, errors = [], []
    for item in items:
        try:
            done.append(convert(item))
        except ArgError as err:
            err.span = err.span or item.span
            errors.append(err)
    if errors:
        errors[0].more = tuple(errors[1:])
        raise errors[0]
    return tuple(done)


def _show(value: ir.Value) -> str:
    if isinstance(value, ir.Const):
        return "None" if value.value is None else repr(value.value)
    if isinstance(value, ir.Ident):
        return value.name
    if isinstance(value, ir.Call):
        return f"{value.name}(...)"
    if isinstance(value, ir.Seq):
        return "a list" if value.is_list else "a tuple"
    return "a mapping"


class ArgType(Struct, frozen=True):
    """Base: `describe` names the type in messages; `convert` checks a value."""

    describe = "a value"

    def convert(self, value: ir.Value):
        raise NotImplementedError

    def fail(self, value: ir.Value):
        raise ArgError(f"expected {self.describe}, found {_show(value)}")


class Int(ArgType):
    low: int | None = None
    high: int | None = None

    @property
    def describe(self) -> str:
        if self.low is not None and self.high is None:
            return f"an integer >= {self.low}"
        if self.low is not None:
            return f"an integer in [{self.low}, {self.high}]"
        return "an integer"

    def convert(self, value):
        if not isinstance(value, ir.Const) or type(value.value) is not int:
            self.fail(value)
        v = value.value
        if (self.low is not None and v < self.low) or (self.high is not None and v > self.high):
            raise ArgError(f"expected {self.describe}, found {v}", "E106")
        return v


class Float(ArgType):
    """A real number; `low`/`high` bounds, `open_high` excludes the upper one."""

    low: float | None = None
    high: float | None = None
    open_high: bool = False
    open_low: bool = False

    @property
    def describe(self) -> str:
        if self.low is None and self.high is None:
            return "a number"
        lo = "(" if self.open_low else "["
        hi = ")" if self.open_high else "]"
        return f"a number in {lo}{self.low if self.low is not None else '-inf'}, " + (
            f"{self.high if self.high is not None else 'inf'}{hi}"
        )

    def convert(self, value):
        if not isinstance(value, ir.Const) or type(value.value) not in (int, float):
            self.fail(value)
        v = float(value.value)
        if not math.isfinite(v):  # a literal beyond float range, such as 1e999
            raise ArgError(
                f"expected {self.describe}, found a number too large for a float", "E106"
            )
        bad = (self.low is not None and (v < self.low or (self.open_low and v == self.low))) or (
            self.high is not None and (v > self.high or (self.open_high and v == self.high))
        )
        if bad:
            raise ArgError(f"expected {self.describe}, found {value.value}", "E106")
        return v


class Bool(ArgType):
    describe = "true or false"

    def convert(self, value):
        if not isinstance(value, ir.Const) or type(value.value) is not bool:
            self.fail(value)
        return value.value


class Str(ArgType):
    describe = "a string"

    def convert(self, value):
        if not isinstance(value, ir.Const) or not isinstance(value.value, str):
            self.fail(value)
        return value.value


class Choice(ArgType):
    """One of fixed words, written as a bare name or a string."""

    options: tuple[str, ...]
    code: str = "E106"

    @property
    def describe(self) -> str:
        return "one of " + ", ".join(f"`{o}`" for o in self.options)

    def convert(self, value):
        if isinstance(value, ir.Ident):
            word = value.name
        elif isinstance(value, ir.Const) and isinstance(value.value, str):
            word = value.value
        else:
            self.fail(value)
        if word not in self.options:
            raise ArgError(
                f"`{word}` is not allowed here; expected {self.describe}",
                self.code,
                did_you_mean(word, self.options),
            )
        return word


class Optional(ArgType):
    inner: ArgType

    @property
    def describe(self) -> str:
        return f"{self.inner.describe} or None"

    def convert(self, value):
        if isinstance(value, ir.Const) and value.value is None:
            return None
        return self.inner.convert(value)


class AnyOf(ArgType):
    """The first of several types that accepts the value."""

    options: tuple[ArgType, ...]

    @property
    def describe(self) -> str:
        return " or ".join(o.describe for o in self.options)

    def convert(self, value):
        errors = []
        for option in self.options:
            try:
                return option.convert(value)
            except ArgError as err:
                errors.append(err)
        ranged = [e for e in errors if e.code != "E105"]
        if ranged:
            raise ranged[0]
        self.fail(value)


class IntTuple(ArgType):
    """An int or a tuple of `n` ints, normalised to a tuple (Keras's rule)."""

    n: int
    low: int = 1

    @property
    def describe(self) -> str:
        return f"an integer or a tuple of {self.n} integers >= {self.low}"

    def convert(self, value):
        item = Int(self.low)
        if isinstance(value, ir.Const):
            return (item.convert(value),) * self.n
        if isinstance(value, ir.Seq) and len(value.items) == self.n:
            return tuple(item.convert(v) for v in value.items)
        if isinstance(value, ir.Seq):
            raise ArgError(f"expected {self.n} integers, found {len(value.items)}", "E106")
        self.fail(value)


class TupleOf(ArgType):
    """A tuple or list of any length of one item type."""

    item: ArgType
    min_len: int = 0

    @property
    def describe(self) -> str:
        return f"a tuple of {self.item.describe.removeprefix('an ').removeprefix('a ')}s"

    def convert(self, value):
        if not isinstance(value, ir.Seq):
            self.fail(value)
        if len(value.items) < self.min_len:
            raise ArgError(f"expected at least {self.min_len} items", "E106")
        return _each(value.items, self.item.convert)


class Dim(ArgType):
    """A dimension size in a shape: a positive integer or None."""

    describe = "a positive integer or None"

    def convert(self, value):
        return Optional(Int(1)).convert(value)


SHAPE = TupleOf(Dim())


class Named(ArgType):
    """A name from a catalog (activation, initializer...), optionally called.

    `entries` maps each accepted name to the keyword arguments it takes;
    the value becomes the name itself, or a `ir.Call` kept for code generation.
    """

    kind: str
    entries: Callable[[], dict[str, tuple[str, ...]]]
    code: str = "E108"

    @property
    def describe(self) -> str:
        return f"{'an' if self.kind[0] in 'aeiou' else 'a'} {self.kind} name"

    def convert(self, value):
        table = self.entries()
        if isinstance(value, (ir.Ident, ir.Call)):
            word = value.name
        elif isinstance(value, ir.Const) and isinstance(value.value, str):
            word = value.value
        else:
            self.fail(value)
        if word not in table:
            raise ArgError(f"unknown {self.kind} `{word}`", self.code, did_you_mean(word, table))
        if isinstance(value, ir.Call):
            allowed = table[word]
            for kw in value.kwargs:
                if kw.name not in allowed:
                    hints = did_you_mean(kw.name, allowed) or (
                        (f"`{word}` takes: {', '.join(allowed)}",) if allowed else ()
                    )
                    raise ArgError(f"`{word}` has no argument `{kw.name}`", "E102", hints)
            if len(value.args) > max(1, len(allowed)) or (value.args and not allowed):
                raise ArgError(f"too many arguments to `{word}`", "E107")
            for arg in (*value.args, *(kw.value for kw in value.kwargs)):
                if isinstance(arg, ir.Const) and isinstance(arg.value, float):
                    Float().convert(arg)  # finite: a script cannot write 1e999
            return value
        return word


def names(items: Iterable[str]) -> dict[str, tuple[str, ...]]:
    return {n: () for n in items}
