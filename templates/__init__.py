"""Jinja templates for `nnspec gen`, shipped as package data."""
