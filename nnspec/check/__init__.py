"""Checking: IR -> checked model, with every diagnostic, without TensorFlow.

pipeline.py   the driver: parse, lower, check; `compile_text`
checker.py    IR -> checked model: inputs, graph, shapes, data, settings
graph.py      layer references -> the resolved layer graph
shapes.py     output shapes and weights, in topological order
data.py       the data against the model: what feeds each input and output
training.py   checks of the whole model: loss, labels, output activation, metrics
metrics.py    metrics against their outputs' labels; quantities callbacks watch
model.py      the checked model's data types
overrides.py  `--set` edits of the spec text, checked like the spec
summary.py    `nnspec summary`: the layer table
"""
