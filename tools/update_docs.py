"""Rewrite the generated sections of docs/language.md from nnspec's registries.

    python tools/update_docs.py           # rewrite in place
    python tools/update_docs.py --check   # exit 1 if the sections are out of date

Each section sits between `<!-- BEGIN GENERATED: NAME -->` and
`<!-- END GENERATED: NAME -->`; nnspec/vocab/reference.py renders its body.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nnspec.vocab import reference  # noqa: E402

DOC = ROOT / "docs" / "language.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether it is current")
    parser.add_argument("path", nargs="?", type=Path, default=DOC, help="the document to update")
    args = parser.parse_args(argv)
    text = args.path.read_text(encoding="utf-8")
    unknown = sorted(set(reference.sections_in(text)) - set(reference.SECTIONS))
    if unknown:
        print(f"{args.path}: unknown generated sections: {', '.join(unknown)}", file=sys.stderr)
        return 2
    missing = sorted(set(reference.SECTIONS) - set(reference.sections_in(text)))
    if missing:
        print(f"{args.path}: no markers for sections: {', '.join(missing)}", file=sys.stderr)
    new = reference.update(text)
    if new == text:
        print(f"{args.path}: up to date")
        return 0
    if args.check:
        print(f"{args.path}: out of date; run `python tools/update_docs.py`")
        return 1
    args.path.write_text(new, encoding="utf-8")
    print(f"{args.path}: updated {', '.join(reference.sections_in(new))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
