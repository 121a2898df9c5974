"""Diagnostics: what every stage reports, and how it is shown.

records.py    Span, Severity and the one Diagnostic record
codes.py      the table of every code (E001 ... E900, W301 ...)
explanations.py  the long form of each code, for `nnspec codes CODE`
wording.py    plurals and "did you mean" suggestions for messages
formats.py    diagnostics as text (source line and caret), gcc, json, sarif
"""
