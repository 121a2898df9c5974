"""The nnspec grammar, shipped as package data."""
