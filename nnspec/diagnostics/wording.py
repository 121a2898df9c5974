"""Words in messages: plurals and "did you mean" suggestions."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 unit`, `2 units`; `many` for irregular plurals (`losses`)."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def closest(name: str, candidates) -> str | None:
    """The candidate `name` most likely meant, if one is close enough."""
    import difflib  # here, not at the top: most runs never suggest a name

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
