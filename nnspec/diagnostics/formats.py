"""Renderers of diagnostics: text (with source and caret), gcc, json and sarif."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from nnspec import __version__
from nnspec.diagnostics.codes import CODES
from nnspec.diagnostics.records import Diagnostic, Related, Span

FORMATS = ("text", "json", "gcc", "sarif")

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m", "hint": "\033[1;36m"}
_BOLD, _RESET = "\033[1m", "\033[0m"


def _paint(text: str, style: str, colour: bool) -> str:
    return f"{style}{text}{_RESET}" if colour else text


def _excerpt(diag: Diagnostic, lines: list[str], colour: bool) -> list[str]:
    span = diag.span
    if not 1 <= span.line <= len(lines):
        return []
    line = lines[span.line - 1].replace("\t", " ")
    if len(line) > 200:  # keep huge single-line inputs readable
        start = max(0, span.column - 80)
        line = line[start : start + 160]
        column = span.column - start
    else:
        column = span.column
    width = len(str(span.line))
    end = span.end_column if span.end_line == span.line else len(line) + 1
    carets = "^" + "~" * max(0, min(end, len(line) + 1) - column - 1)
    pad = " " * width
    marker = _paint(carets, _COLOURS[diag.severity.value], colour)
    return [
        f" {span.line} | {line}",
        f" {pad} | {' ' * (column - 1)}{marker}",
    ]


def render_text(path: str, diags: list[Diagnostic], text: str, colour=False) -> str:
    lines = [line.rstrip("\r") for line in text.split("\n")]  # as the lexer counts lines
    out: list[str] = []
    for diag in diags:
        sev = _paint(f"{diag.severity.value}[{diag.code}]", _COLOURS[diag.severity.value], colour)
        loc = f"{path}:{diag.span.line}:{diag.span.column}"
        out.append(f"{_paint(loc, _BOLD, colour)}: {sev}: {diag.message}")
        out.extend(_excerpt(diag, lines, colour))
        pad = " " * len(str(diag.span.line))
        for hint in diag.hints:
            out.append(f" {pad} = {_paint('hint', _COLOURS['hint'], colour)}: {hint}")
        for related in diag.related:
            where = f"{path}:{related.span.line}:{related.span.column}"
            out.append(f" {pad} = {_paint('note', _BOLD, colour)}: {where}: {related.message}")
    return "\n".join(out)


def render_gcc(path: str, diags: list[Diagnostic]) -> str:
    lines = []
    for d in diags:
        lines.append(
            f"{path}:{d.span.line}:{d.span.column}: {d.severity.value}: {d.message} [{d.code}]"
        )
        lines.extend(f"{path}:{r.span.line}:{r.span.column}: note: {r.message}" for r in d.related)
    return "\n".join(lines)


def as_json(path: str, diag: Diagnostic) -> dict:
    return {
        **_place_json(path, diag.span),
        "severity": diag.severity.value,
        "code": diag.code,
        "message": diag.message,
        "hints": list(diag.hints),
        **({"related": [_related_json(path, r) for r in diag.related]} if diag.related else {}),
    }


def _place_json(path: str, span: Span) -> dict:
    return {
        "file": path,
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
    }


def _related_json(path: str, related: Related) -> dict:
    return {**_place_json(path, related.span), "message": related.message}


def _region(span: Span) -> dict:
    return {
        "startLine": span.line,
        "startColumn": span.column,
        "endLine": span.end_line,
        "endColumn": span.end_column,
    }


def render_json(results: list[tuple[str, list[Diagnostic]]]) -> str:
    import json  # here, not at the top: `nnspec check` starts without it

    return json.dumps([as_json(path, d) for path, diags in results for d in diags], indent=2)


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render_sarif(results: list[tuple[str, list[Diagnostic]]]) -> str:
    import json

    """One SARIF 2.1.0 log (GitHub code scanning) for all files: a rule per code."""
    rule_index = {code: i for i, code in enumerate(CODES)}
    rules = [
        {
            "id": code,
            "shortDescription": {"text": meaning},
            "defaultConfiguration": {"level": "warning" if code.startswith("W") else "error"},
        }
        for code, meaning in CODES.items()
    ]
    found = [
        {
            "ruleId": d.code,
            "ruleIndex": rule_index[d.code],
            "level": d.severity.value,
            "message": {"text": "\n".join([d.message, *(f"hint: {h}" for h in d.hints)])},
            "locations": [_location(path, d.span)],
            **(
                {
                    "relatedLocations": [
                        {**_location(path, r.span), "id": i, "message": {"text": r.message}}
                        for i, r in enumerate(d.related)
                    ]
                }
                if d.related
                else {}
            ),
        }
        for path, diags in results
        for d in diags
    ]
    run = {
        "tool": {
            "driver": {
                "name": "nnspec",
                "version": __version__,
                "rules": rules,
            }
        },
        "columnKind": "unicodeCodePoints",  # as nnspec counts columns
        "results": found,
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)


def _location(path: str, span: Span) -> dict:
    uri = {"uri": _artifact_uri(path), "uriBaseId": "%SRCROOT%"}
    return {"physicalLocation": {"artifactLocation": uri, "region": _region(span)}}


def _artifact_uri(path: str) -> str:
    from urllib.parse import quote

    """A relative URI: the path from the working directory, with forward slashes."""
    relative = Path(path)
    if relative.is_absolute():
        try:
            relative = relative.relative_to(Path.cwd())
        except ValueError:
            return relative.as_uri()
    return quote(str(PurePosixPath(*relative.parts)))
