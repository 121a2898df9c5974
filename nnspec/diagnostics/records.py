"""Source spans and the one diagnostic record."""

from __future__ import annotations

import enum

from msgspec import Struct, field


class Span(Struct, frozen=True):
    """A 1-based, end-exclusive region of a source file.

    `via` names the block uses that made a node of an expanded block, outermost
    first: the same text inside a block is a different place in each use."""

    line: int
    column: int
    end_line: int
    end_column: int
    via: tuple[Use, ...] = ()

    @property
    def position(self) -> tuple[int, int, int, int]:
        """The region alone, without the uses that led to it."""
        return self.line, self.column, self.end_line, self.end_column


class Use(Struct, frozen=True):
    """A use of a block: `res` at 14:5 with `filters=128`."""

    block: str
    span: Span
    arguments: str  # the values bound to the block's parameters, as spec text
    name: str = ""  # the prefix of the layer names it makes (`conv2_block1`)
    number: int = 0  # counts the uses expanded: one use in a loop is several

    def describe(self) -> str:
        where = f"in `{self.block}` used at {self.span.line}:{self.span.column}"
        return f"{where} with {self.arguments}" if self.arguments else where


NO_SPAN = Span(1, 1, 1, 1)


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


class Related(Struct, frozen=True):
    """Another place a diagnostic concerns: a use of the block it was found in."""

    message: str
    span: Span


class Diagnostic(Struct, frozen=True):
    code: str
    message: str
    span: Span
    hints: tuple[str, ...] = ()
    severity: Severity = field(default=Severity.ERROR)
    related: tuple[Related, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR
