"""`nnspec lsp`: a language server for `.nn` files (diagnostics, hover,
completion, definitions, references, outline, formatting), over stdio.

    server.py      LSP messages <-> analyses; positions converted there only
    analysis.py    one compile of a document, and the last good one
    symbols.py     where names are defined and used (scoped as expansion resolves
                   them); what is at a position
    instances.py   the checked layers by the layer item and block use that made them
    hover.py       hover text            hover_blocks.py   ... on blocks, parameters, loops
    completion.py  completion candidates outline.py        document symbols
"""

from nnspec.lsp.server import serve

__all__ = ["serve"]
