"""The Keras back ends: a checked model -> a tf.keras script or live Keras objects.

Only builder.py, train.py, predict.py and patches.py import TensorFlow, and only
when called; the rest runs without it.

    calls.py        each Keras call written once (`PyCall`), for both back ends
    plan.py         the checked model as the steps of a training program
    codegen.py      `nnspec gen`: the plan rendered through templates/, black-formatted
    blocks.py       gen of a spec's parameters and blocks as constants and functions
    replay.py       a generated build_model() run without Keras, checked against the model
    builder.py      `PyCall`s -> Keras objects; the model for `run`
    train.py        `nnspec run`: data, build, train, resume, the run folder
    checkpoint.py   the run folder's lock, and checkpoints that survive a kill
    rendezvous.py   a multi-worker run's wait for its peers, with a time limit
    predict.py      `nnspec predict`: a saved model applied to samples
    importer.py     `nnspec import`: a Keras model file -> spec text
    native_logs.py  TensorFlow's native start-up chatter filtered from stderr
    patches.py      every patch of Keras's private code, undone after use
"""
