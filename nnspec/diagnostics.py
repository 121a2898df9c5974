"""Source spans, the one diagnostic record, and the error-code table."""

from __future__ import annotations

import difflib
import enum
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Span:
    """A 1-based, end-exclusive region of a source file."""

    line: int
    column: int
    end_line: int
    end_column: int

    @staticmethod
    def join(first: Span, last: Span) -> Span:
        return Span(first.line, first.column, last.end_line, last.end_column)


NO_SPAN = Span(1, 1, 1, 1)


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    hints: tuple[str, ...] = ()
    severity: Severity = field(default=Severity.ERROR)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


# Every diagnostic code nnspec emits, with its one-line meaning. docs/language.md
# lists this table; a test keeps the two in step.
CODES: dict[str, str] = {
    # syntax
    "E001": "syntax error: a token the grammar does not allow here",
    "E002": "invalid character or unterminated string",
    "E003": "nesting too deep",
    "E004": "statement given twice",
    "E005": "malformed literal (an index or key that must be a whole number)",
    # names and arguments
    "E101": "unknown layer type",
    "E102": "unknown argument",
    "E103": "missing required argument",
    "E104": "argument given twice",
    "E105": "argument of the wrong type",
    "E106": "value out of range or not allowed",
    "E107": "too many positional arguments",
    "E108": "unknown activation, initializer, regularizer or constraint",
    "E109": "unknown loss",
    "E110": "unknown optimizer",
    "E111": "unknown metric",
    "E112": "unknown callback",
    "E113": "unknown data source",
    "E114": "unknown setting",
    "E115": "missing required setting",
    # graph
    "E201": "name defined twice",
    "E202": "reference to an undefined name",
    "E203": "cycle in the layer graph",
    "E204": "layer not reachable from any input",
    "E205": "layer leads to no output",
    "E206": "wrong number of inputs for a layer",
    "E207": "model has no input or no architecture",
    "E208": "both a sequential and a graph block",
    "E209": "ambiguous reference to a shared layer",
    "E210": "output index out of range or missing",
    # shapes
    "E301": "input shape does not fit the layer",
    "E302": "merged shapes are incompatible",
    "E303": "invalid shape",
    # training setup
    "E401": "loss does not fit the output layer",
    "E402": "number of losses does not match the number of outputs",
    "E403": "softmax over a single unit",
    "E404": "labels do not fit the loss",
    "E405": "number of classes does not match the output units",
    "E406": "no compile block: loss and optimizer are needed to train",
    "E501": "data does not fit the model input",
    # code generation
    "E601": "the Sequential API asked for a model that is not a plain chain",
    # warnings
    "W301": "Dense layer applied to a tensor of rank above 2",
    "W401": "output activation unusual for the loss",
    "W501": "no data block: nnspec run needs one",
    "W502": "data setting without effect for this source",
    # internal
    "E900": "internal error in nnspec",
}


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 unit`, `2 units`; `many` for irregular plurals (`losses`)."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def closest(name: str, candidates) -> str | None:
    """The candidate `name` most likely meant, if one is close enough."""
    pool = list(candidates)
    lowered = {c.lower(): c for c in pool}
    if name.lower() in lowered:
        return lowered[name.lower()]
    close = []
    if len(name) > 1:
        # an abbreviation: a prefix (`f1` for `f1_score`) or initials (`lr` for `learning_rate`)
        close = [
            c for c in pool if c.startswith(name) or "".join(w[:1] for w in c.split("_")) == name
        ][:1]
    close = close or difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not close:
        close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
        close = [lowered[c] for c in close]
    return close[0] if close else None


def did_you_mean(name: str, candidates) -> tuple[str, ...]:
    """A hint naming the closest candidate, if one is close enough."""
    match = closest(name, candidates)
    return (f"did you mean `{match}`?",) if match else ()
