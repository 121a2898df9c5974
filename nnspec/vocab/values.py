"""Python values written as spec text: `true`, `None`, `(1, 1)`, `relu`, `"logs"`.

One spelling for hover text, the reference docs and `nnspec import`. A string
is written bare only where the parameter takes it as a name, so it needs the
parameter's type, which is why this is vocabulary and not syntax.
"""

from __future__ import annotations

from nnspec.diagnostics.records import NO_SPAN
from nnspec.syntax import ir
from nnspec.vocab.argtypes import ArgError
from nnspec.vocab.params import Param


def show_value(value: object, param: Param | None = None) -> str:
    """`value` as a spec writes it (as `param`'s value, where given)."""
    if value is None or isinstance(value, bool):
        return {None: "None", True: "true", False: "false"}[value]
    if isinstance(value, str):
        if param is not None and value.isidentifier() and _takes_bare_word(param, value):
            return value
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (tuple, list)):
        if not value:
            return "[]"
        inner = ", ".join(show_value(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _takes_bare_word(param: Param, word: str) -> bool:
    try:
        param.type.convert(ir.Ident(word, NO_SPAN))
    except (ArgError, AttributeError, TypeError, ValueError):
        return False
    return True
