"""The operators of spec values, with Python's meaning and nnspec's limits.

One function, `apply`, used both to fold literal arithmetic while lowering
(`1/255`) and to evaluate parameters while expanding (`width // 2`).
"""

from __future__ import annotations

import math
import operator

from nnspec.errors import NnspecError

LIMIT = 2**63  # an integer past this is an overflow: no shape or count is this large

_ARITHMETIC = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
}
_COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class OperatorError(NnspecError):
    """An operation that has no value: `code`, message and hints for a diagnostic."""

    def __init__(self, code: str, message: str, *hints: str):
        super().__init__(message, hints)
        self.code = code


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def describe(value) -> str:
    """`a string`, `an integer`, ...: what a value is, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "None"
    if isinstance(value, (list, tuple)):
        return "a list" if isinstance(value, list) else "a tuple"
    return "a value"


def compute(op: str, operands: tuple) -> object:
    """The value of `op` on `operands` (Python values); raises OperatorError."""
    if op in ("and", "or", "not"):
        return _logic(op, operands)
    if len(operands) == 1:
        (value,) = operands
        if not is_number(value):
            raise OperatorError("E703", f"`{op}` needs a number, found {describe(value)}")
        return _checked(-value if op == "-" else value)
    left, right = operands
    if op in _COMPARE:
        if op not in ("==", "!=") and not (is_number(left) and is_number(right)):
            raise OperatorError(
                "E703", f"cannot compare {describe(left)} with {describe(right)} using `{op}`"
            )
        return _COMPARE[op](left, right)
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    if not (is_number(left) and is_number(right)):
        raise OperatorError(
            "E703", f"`{op}` needs numbers, found {describe(left)} and {describe(right)}"
        )
    if op in ("/", "//", "%") and right == 0:
        raise OperatorError("E702", "division by zero")
    try:
        return _checked(_ARITHMETIC[op](left, right))
    except OverflowError:
        raise OperatorError("E704", "the value is too large") from None


def _logic(op: str, operands: tuple) -> bool:
    for value in operands:
        if not isinstance(value, bool):
            raise OperatorError(
                "E703",
                f"`{op}` needs true or false, found {describe(value)}",
                "compare first, e.g. `i == 1`",
            )
    if op == "not":
        return not operands[0]
    return all(operands) if op == "and" else any(operands)


def _checked(value):
    if isinstance(value, int) and not -LIMIT < value < LIMIT:
        raise OperatorError("E704", "the value is too large", "integers stay below 2**63")
    if isinstance(value, float) and not math.isfinite(value):
        raise OperatorError("E704", "the value is too large")
    return value
