"""Syntax: text -> parse tree -> IR, and back to canonical text.

parser.py     the Lark grammar loaded once; parsing with recovery per statement
ir.py         the IR: one frozen struct per grammar rule, each with its span
lower.py      parse tree -> IR
fmt.py        `nnspec fmt`: one canonical layout, comments kept
"""
