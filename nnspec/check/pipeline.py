"""The pipeline: text -> parse tree -> IR -> checked IR, with every diagnostic."""

from __future__ import annotations

from msgspec import Struct

from nnspec.check.checker import check
from nnspec.check.expand import expand
from nnspec.check.model import CheckedModel
from nnspec.diagnostics.records import Diagnostic, Span
from nnspec.diagnostics.uses import fold_uses
from nnspec.errors import internal_error
from nnspec.syntax import ir
from nnspec.syntax.lower import lower
from nnspec.syntax.parser import parse

# Codes about the model as a whole, not reported when syntax errors dropped statements.
WHOLE_MODEL_CODES = frozenset(
    ["E204", "E205", "E207", "E209", "E401", "E402", "E404", "E405", "E406", "E408", "E409"]
    + ["E501", "E502", "W401", "W402", "W403", "W404", "W501"]
)


class Result(Struct):
    spec: ir.Spec | None
    model: CheckedModel | None
    diagnostics: list[Diagnostic]

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors


def compile_text(text: str) -> Result:
    """Run every stage that can run; an internal fault becomes E900."""
    try:
        parsed = parse(text)
        diags = list(parsed.diagnostics)
        if parsed.tree is None:
            return Result(None, None, diags)
        spec = lower(parsed.tree, diags)
        expansion = expand(spec, diags, parsed.blocks)
        model = check(expansion.spec, diags)
        if not spec.flat:
            diags = fold_uses(diags, expansion.true_divisions)
        if not (parsed.complete and expansion.complete):
            # Statements dropped by error recovery (or items by expansion errors) would
            # show up again as missing edges or unused inputs: keep only local findings.
            diags = [d for d in diags if d.code not in WHOLE_MODEL_CODES]
    except RecursionError:
        return Result(None, None, [Diagnostic("E003", "input nested too deeply", Span(1, 1, 1, 1))])
    except Exception as exc:  # noqa: BLE001  (a bug in nnspec, reported, never a traceback)
        return Result(None, None, [internal_error(exc)])
    diags.sort(key=lambda d: (d.span.line, d.span.column))
    return Result(spec, model, diags)
