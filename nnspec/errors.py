"""nnspec's own errors: problems a user meets, kept apart from bugs in nnspec.

Each carries a message and hints (what to do), as data: the command line prints
the hints on lines of their own, as it does a diagnostic's. The class says the
exit status: 1 an error, 2 a usage error, 3 a bug in nnspec (shown as E900).
"""

from __future__ import annotations

from collections.abc import Iterable

from nnspec.diagnostics.records import NO_SPAN, Diagnostic


class NnspecError(Exception):
    """An error nnspec reports to the user: `message`, and `hints` on what to do."""

    exit_status = 1

    def __init__(self, message: str, hints: Iterable[str] = ()):
        super().__init__(message)
        self.message = message
        self.hints = tuple(hints)


class UsageError(NnspecError):
    """The command cannot do what it was asked: a file it cannot read, a bad `--set`."""

    exit_status = 2


class InternalError(NnspecError):
    """A bug in nnspec that one of its own checks caught (as `fmt`'s does)."""

    exit_status = 3


def internal_error(exc: Exception) -> Diagnostic:
    """E900 for a fault inside nnspec: reported as a diagnostic, never a traceback."""
    where = exc.message if isinstance(exc, InternalError) else f"{type(exc).__name__}: {exc}"
    hints = exc.hints if isinstance(exc, NnspecError) else ()
    return Diagnostic(
        "E900",
        f"internal error: {where}",
        NO_SPAN,
        ("please report this with the spec that caused it", *hints),
    )
