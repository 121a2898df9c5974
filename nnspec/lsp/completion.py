"""Completion: what may be written at the cursor. The context comes from the
tokens before the cursor (so it works while the text does not parse); the
candidates come from the layer registry, the catalogs, the settings tables and
the names the spec defines."""

from __future__ import annotations

import re

from lark.exceptions import LarkError
from msgspec import Struct, field

from nnspec.lsp.analysis import BLOCK_SETTINGS, callee
from nnspec.lsp.hover import default_text
from nnspec.lsp.symbols import Definition, Index, Symbol
from nnspec.syntax import ir
from nnspec.syntax.parser import STATEMENT_KEYWORDS, lark_parser
from nnspec.vocab.argtypes import AnyOf, ArgType, Bool, Choice, Named, Optional, TupleOf
from nnspec.vocab.catalog import CalleeArg
from nnspec.vocab.layers.registry import LayerArg, layer_types
from nnspec.vocab.params import Param
from nnspec.vocab.settings import (
    INPUT_PARAMS,
    METRIC,
    MetricsArg,
    PerOutputArg,
    Validation,
)
from nnspec.vocab.sources import SOURCES

_OPENERS = {"LPAR", "LSQB", "LBRACE"}
_CLOSERS = {"RPAR", "RSQB", "RBRACE"}


class Candidate(Struct, frozen=True):
    label: str
    kind: str  # keyword, layer, argument, setting, value, name
    detail: str = ""
    doc: str = ""
    insert: str | None = None


class _Frame(Struct):
    """One open bracket before the cursor (or the top level)."""

    opener: str | None  # LPAR, LSQB, LBRACE; None at the top level
    block: str | None  # the statement or block it is in: `graph`, `compile`, `data`...
    params: tuple[Param, ...] | None = None  # what a key written in it names
    setting: str | None = None  # the key this bracket is the value of: `metrics: [`
    key: str | None = None  # the key just written: `units=`, `epochs:`
    given: set[str] = field(default_factory=set)
    position: int = 0  # the positional argument being written
    owner: str | None = None  # the block whose definition this is in
    called: ir.Block | None = None  # the block whose arguments these are


def complete(text: str, offset: int, names: Index) -> list[Candidate]:
    """The candidates at `offset` in `text`; `names` holds what the spec defines."""
    try:
        tokens = list(lark_parser().lex(text[:offset]))
    except LarkError:
        return []
    if tokens and tokens[-1].end_pos == offset and re.fullmatch(r"\w+", tokens[-1].value):
        tokens.pop()  # the word being typed: the editor filters by it
    frame, previous = _context(tokens, names.blocks)
    kind = previous.type if previous else None
    found = _candidates(frame, kind, names.definitions)
    line = text.count("\n", 0, offset) + 1
    loops = names.loop_variables(line, offset - text.rfind("\n", 0, offset))
    if not (names.blocks or names.params or loops):
        return found  # nothing the spec defines beyond layers and inputs
    return found + _spec_candidates(frame, kind, names, loops)


def _context(tokens, blocks: dict[str, ir.Block]) -> tuple[_Frame, object]:
    stack = [_Frame(None, None)]
    previous = None
    for tok in tokens:
        top = stack[-1]
        if tok.type in _OPENERS:
            stack.append(_open(tok.type, previous, top, blocks))
        elif tok.type in _CLOSERS:
            if len(stack) > 1:
                stack.pop()
        elif tok.type == "COMMA":
            top.key = None
            top.position += 1
        elif tok.type in ("EQUAL", "COLON") and previous is not None and previous.type == "NAME":
            top.key = previous.value
            top.given.add(previous.value)
        elif len(stack) == 1 and tok.value in STATEMENT_KEYWORDS:
            stack[0] = _Frame(None, tok.value)
        elif len(stack) == 1 and top.block == "block" and top.owner is None and tok.type == "NAME":
            top.owner = tok.value  # `block NAME`
        previous = tok
    return stack[-1], previous


def _open(opener: str, previous, parent: _Frame, blocks: dict[str, ir.Block]) -> _Frame:
    word = previous.value if previous is not None else None
    owner = parent.owner
    if parent.opener is None and parent.block == "block":  # `block b(params) { body }`
        return _Frame(opener, "block", None if opener == "LBRACE" else (), owner=owner)
    if parent.opener is None and parent.block == "param":  # `param p = [values]`
        return _Frame(opener, "param", ())
    if opener == "LPAR" and previous is not None and previous.type == "NAME":
        if word in blocks:
            return _Frame(opener, parent.block, (), owner=owner, called=blocks[word])
        found = callee(word)
        return _Frame(opener, parent.block, found[1].params if found else (), owner=owner)
    if opener == "LBRACE" and word in ("sequential", "graph"):
        return _Frame(opener, word)
    if opener == "LBRACE" and (word in BLOCK_SETTINGS or parent.opener is None):
        block = word if word in BLOCK_SETTINGS else parent.block
        return _Frame(opener, block, BLOCK_SETTINGS.get(block, ()))
    # a tuple, a list or a nested mapping: the value of the key before it
    return _Frame(opener, parent.block, parent.params, parent.setting or parent.key, owner=owner)


def _candidates(frame: _Frame, previous: str | None, definitions) -> list[Candidate]:
    if frame.opener is None:
        if previous == "DATA":
            return [Candidate(n, "value", "data source", s.doc) for n, s in SOURCES.items()]
        if frame.block == "output" and previous in ("OUTPUT", "COMMA"):
            return _names(definitions)
        if frame.block == "input" and previous in ("COMMA", "EQUAL"):  # `(4,), dtype=int32`
            keywords = {p.name: p for p in INPUT_PARAMS if not p.positional}
            if previous == "COMMA":
                return [_argument(p, "=") for p in keywords.values()]
            return _values(keywords[frame.key].type) if frame.key in keywords else []
        return [Candidate(k, "keyword") for k in sorted(STATEMENT_KEYWORDS)]
    if frame.params is None:  # in an architecture block or a block's body
        layers = _layer_types()
        if frame.block == "graph" and previous != "EQUAL":
            return _names(definitions) + layers
        return layers
    if frame.called is not None:  # the arguments of a block: see _spec_candidates
        return []
    params = {p.name: p for p in frame.params}
    key = frame.setting or frame.key
    if key is not None:
        return _values(params[key].type) if key in params else []
    if frame.opener == "LPAR":
        positional = [p for p in frame.params if p.positional]
        values = (
            _values(positional[frame.position].type)
            if frame.position < len(positional) and not frame.given
            else []
        )
        return [_argument(p, "=") for p in frame.params if p.name not in frame.given] + values
    if frame.opener == "LBRACE":
        return [_argument(p, ": ") for p in frame.params if p.name not in frame.given]
    return []


def _spec_candidates(
    frame: _Frame, previous: str | None, names: Index, loops: list[Symbol]
) -> list[Candidate]:
    """What the spec itself defines, where it may be written: its blocks where a layer
    may be, a block's parameters in a call to it, parameters where a value may be."""
    if frame.params is None:
        blocks = [_block(b, names) for b in names.blocks.values() if b.name != frame.owner]
        if frame.block == "block" and frame.owner is not None and previous != "EQUAL":
            local = [Candidate(s.name, "name", s.kind) for s in names.local(frame.owner)]
            return local + blocks
        return blocks
    if frame.opener is None and not (frame.block == "param" and previous == "EQUAL"):
        return []
    values = _parameters(frame, names)
    values += [Candidate(s.name, "parameter", "loop variable") for s in loops]
    block = frame.called
    if block is None or frame.key is not None:
        return values if frame.opener != "LBRACE" or frame.key is not None else []
    arguments = [
        Candidate(p.name, "argument", _default(p, names), "", p.name + "=")
        for p in block.params
        if p.name not in frame.given
    ]
    return arguments + (values if not frame.given else [])


def _block(block: ir.Block, names: Index) -> Candidate:
    params = ", ".join(
        p.name if p.default is None else f"{p.name}={names.source(p.default.span)}"
        for p in block.params
    )
    return Candidate(block.name, "block", f"block {block.name}({params})")


def _parameters(frame: _Frame, names: Index) -> list[Candidate]:
    """The spec's parameters, and in a block's body the block's."""
    found = [
        Candidate(p.name, "parameter", f"parameter = {names.source(p.value.span)}")
        for p in names.params.values()
    ]
    block = names.blocks.get(frame.owner) if frame.owner else None
    if block is not None:
        found += [
            Candidate(p.name, "parameter", f"parameter of `{block.name}`, {_default(p, names)}")
            for p in block.params
        ]
    return found


def _default(param: ir.BlockParam, names: Index) -> str:
    if param.default is None:
        return "required"
    return f"default `{names.source(param.default.span)}`"


def _argument(param: Param, separator: str) -> Candidate:
    kind = "argument" if separator == "=" else "setting"
    doc = f"{param.doc}\n\n{param.type.describe}".strip()
    return Candidate(param.name, kind, default_text(param), doc, param.name + separator)


def _layer_types() -> list[Candidate]:
    return [Candidate(t.name, "layer", f"{t.category} layer", t.doc) for t in layer_types()]


def _names(definitions: dict[str, Definition]) -> list[Candidate]:
    return [Candidate(d.name, "name", d.kind) for d in definitions.values()]


def _values(argtype: ArgType) -> list[Candidate]:
    """The words a value of `argtype` may be: activations, losses, optimizers..."""
    if isinstance(argtype, Optional):
        return _values(argtype.inner)
    if isinstance(argtype, (TupleOf, PerOutputArg)):
        return _values(argtype.item)
    if isinstance(argtype, MetricsArg):
        return _values(METRIC)
    if isinstance(argtype, AnyOf):
        return [c for option in argtype.options for c in _values(option)]
    if isinstance(argtype, Named):
        return [Candidate(name, "value", argtype.kind) for name in argtype.entries()]
    if isinstance(argtype, CalleeArg):
        return [Candidate(n, "value", argtype.kind, c.doc) for n, c in argtype.table.items()]
    if isinstance(argtype, Choice):
        return [Candidate(option, "value") for option in argtype.options]
    if isinstance(argtype, Bool):
        return [Candidate("true", "value"), Candidate("false", "value")]
    if isinstance(argtype, LayerArg):
        return _layer_types()
    if isinstance(argtype, Validation):
        return [Candidate("test", "value", "the data's test split")]
    return []
