"""`python -m nnspec`: the command line."""

from nnspec.cli import main

main()
