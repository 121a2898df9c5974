"""`nnspec lsp`: a language server for `.nn` files (diagnostics, hover,
completion, definitions, references, outline, formatting), over stdio.

    server.py      LSP messages <-> analyses; positions converted there only
    analysis.py    one compile of a document, and the last good one
    symbols.py     where names are defined and used; what is at a position
    hover.py       hover text            completion.py   completion candidates
"""

from nnspec.lsp.server import serve

__all__ = ["serve"]
