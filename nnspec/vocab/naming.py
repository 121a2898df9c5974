"""Keras's spelling of names: snake case and automatic layer names.

The checker names unnamed layers, the script generator leaves out the names
Keras would pick itself, and the importer leaves out the names the checker
would pick: all three count with one `AutoNames`.
"""

from __future__ import annotations

import re
from collections.abc import Collection


def snake_case(name: str) -> str:
    """Keras's `to_snake_case`: `Conv2D` -> `conv2d`, `RandomNormal` -> `random_normal`."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


class AutoNames:
    """Keras's automatic layer names: one counter per prefix, `dense`, `dense_1`, ...

    Keras numbers each layer made without a name, in the order they are made:
    a layer given as an argument (`Bidirectional(LSTM(8))`) before the layer
    it is given to, and the layers a layer makes inside itself (`builds`) as
    well. A layer made with a name takes no number.
    """

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}

    def count(self, prefix: str) -> None:
        """An unnamed layer whose name is never seen, e.g. one inside a wrapper."""
        self._counts[prefix] = self._counts.get(prefix, 0) + 1

    def peek(self, prefix: str, taken: Collection[str] = ()) -> str:
        """The name the next unnamed layer would get, passing over names in `taken`."""
        return _numbered(prefix, self._next(prefix, taken))

    def take(self, prefix: str, taken: Collection[str] = ()) -> str:
        """Name the next unnamed layer; the numbers of names passed over are used up."""
        n = self._next(prefix, taken)
        self._counts[prefix] = n + 1
        return _numbered(prefix, n)

    def _next(self, prefix: str, taken: Collection[str]) -> int:
        n = self._counts.get(prefix, 0)
        while _numbered(prefix, n) in taken:
            n += 1
        return n


def _numbered(prefix: str, n: int) -> str:
    return f"{prefix}_{n}" if n else prefix
