"""Source spans and the one diagnostic record."""

from __future__ import annotations

import enum

from msgspec import Struct, field


class Span(Struct, frozen=True):
    """A 1-based, end-exclusive region of a source file."""

    line: int
    column: int
    end_line: int
    end_column: int


NO_SPAN = Span(1, 1, 1, 1)


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


class Diagnostic(Struct, frozen=True):
    code: str
    message: str
    span: Span
    hints: tuple[str, ...] = ()
    severity: Severity = field(default=Severity.ERROR)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR
