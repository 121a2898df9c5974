"""Diagnostics found inside expanded blocks: the uses that made the place, as related
locations, and one diagnostic for an error repeated in several uses."""

from __future__ import annotations

from msgspec import structs

from nnspec.diagnostics.records import Diagnostic, Related


def fold_uses(diags: list[Diagnostic], true_divisions: set) -> list[Diagnostic]:
    """Diagnostics of expanded blocks with their uses as related locations; one found
    at the same place in several uses reported once, with the count. An integer
    argument given a float that `/` made (at `true_divisions`) gets the hint `//`."""
    groups: dict[tuple, list[Diagnostic]] = {}
    order: list[Diagnostic | tuple] = []
    for diag in diags:
        if diag.code == "E105" and diag.span.position in true_divisions:
            diag = structs.replace(diag, hints=(*diag.hints, "use `//` for integer division"))
        if not diag.span.via:
            order.append(diag)
            continue
        key = (diag.code, diag.span.position)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(diag)
    return [d if isinstance(d, Diagnostic) else _folded(groups[d]) for d in order]


def _folded(same: list[Diagnostic]) -> Diagnostic:
    first = same[0]
    related = [Related(use.describe(), use.span) for use in reversed(first.span.via)]
    related += [
        Related(f"also {d.span.via[-1].describe()}", d.span.via[-1].span) for d in same[1:11]
    ]
    hints = first.hints
    if len(same) > 1:
        hints = (*hints, f"found in {len(same)} uses of `{first.span.via[-1].block}`")
    return structs.replace(first, hints=hints, related=tuple(related))
