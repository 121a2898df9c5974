"""Vocabulary: every name a spec may use, declared once and read by every stage.

argtypes.py   argument types: check one IR value, make it a Python value
params.py     declared parameters (`Param`) and binding a call to them
catalog.py    activations, initializers, losses, optimizers, metrics, callbacks
sources.py    data sources and their preprocessing settings
settings.py   the settings of `input`, `compile`, `fit` and `evaluate`
naming.py     Keras's spelling of names: snake case, automatic layer names
values.py     Python values written as spec text (hover, docs, import)
layers/       the one registry of layer types, with shape and weight rules
reference.py  Markdown reference tables for docs/language.md
"""
