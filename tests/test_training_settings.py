"""Training settings users expect: learning-rate schedules, gradient clipping,
steps per epoch. Checked without TensorFlow; made and trained in Keras."""

from __future__ import annotations

import pytest

from nnspec.check.pipeline import compile_text
from nnspec.keras.codegen import render_script

SPEC = """model digits_mlp
data digits {{ scale: 1/16, seed: 0 }}
input pixels: (64,)
sequential {{
    Dense(32, activation=relu)
    Dense(10, activation=softmax)
}}
compile {{ loss: sparse_categorical_crossentropy, optimizer: {optimizer} }}
fit {{ epochs: 2{fit} }}
"""


def spec(optimizer: str = "adam", fit: str = "") -> str:
    return SPEC.format(optimizer=optimizer, fit=fit)


SCHEDULES = {
    "exponential_decay(1e-3, 100, 0.9)": "ExponentialDecay(0.001, 100, 0.9)",
    "inverse_time_decay(1e-3, 100, 0.5, staircase=true)": "InverseTimeDecay(",
    "polynomial_decay(1e-2, 500, end_learning_rate=1e-4, power=2.0)": "PolynomialDecay(",
    "cosine_decay(1e-3, 1000, warmup_target=3e-3, warmup_steps=100)": "CosineDecay(",
    "cosine_decay_restarts(1e-3, 200)": "CosineDecayRestarts(0.001, 200)",
    "piecewise_constant([100, 200], [1e-3, 1e-4, 1e-5])": "PiecewiseConstantDecay(",
}


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_schedules_check_and_generate(schedule):
    result = compile_text(spec(f"adam(learning_rate={schedule}, clipnorm=1.0)"))
    assert result.ok, [d.message for d in result.diagnostics]
    script = render_script(result.model, "digits_mlp.nn")
    assert f"keras.optimizers.schedules.{SCHEDULES[schedule]}" in script
    assert "clipnorm=1.0" in script


@pytest.mark.parametrize(
    "optimizer, code, message",
    [
        (
            "adam(learning_rate=piecewise_constant([100, 200], [1e-3, 1e-4]))",
            "E106",
            "2 boundaries need 3 values, one per interval; found 2",
        ),
        (
            "adam(learning_rate=piecewise_constant([200, 100], [1e-3, 1e-4, 1e-5]))",
            "E106",
            "boundaries must increase",
        ),
        ("adam(learning_rate=exponential_decy(1e-3))", "E110", "unknown learning-rate schedule"),
        ("adam(learning_rate=exponential_decay(1e-3, 100))", "E103", "decay_rate"),
        ("sgd(learning_rate=cosine_decay(0, 10))", "E106", "initial_learning_rate"),
        ("adam(learning_rate=-1.0)", "E106", "learning_rate"),
    ],
)
def test_bad_schedules(optimizer, code, message):
    found = compile_text(spec(optimizer)).diagnostics
    assert [d.code for d in found] == [code]
    assert message in found[0].message


def test_steps_settings():
    assert compile_text(spec(fit=", steps_per_epoch: 10")).ok
    found = compile_text(spec(fit=", validation_steps: 3")).diagnostics
    assert [d.code for d in found] == ["W403"]
    assert compile_text(spec(fit=", validation: test, validation_steps: 3")).diagnostics == []
    script = render_script(compile_text(spec(fit=", steps_per_epoch: 10")).model, "m.nn")
    assert "steps_per_epoch=10" in script


@pytest.mark.keras
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_schedules_are_made_and_trained_by_keras(schedule):
    """The optimizer `run` makes carries the Keras schedule, and fits."""
    import keras
    import numpy as np

    from nnspec.keras.builder import build_model, make
    from nnspec.keras.plan import compile_kwargs

    model = compile_text(spec(f"adam(learning_rate={schedule})")).model
    kwargs = dict(compile_kwargs(model.compile))
    optimizer = make(kwargs["optimizer"])
    assert isinstance(optimizer.learning_rate, keras.Variable) or isinstance(
        optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule
    )
    net = build_model(model)
    net.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    x, y = np.random.rand(64, 64).astype("float32"), np.random.randint(0, 10, 64)
    history = net.fit(x, y, epochs=1, steps_per_epoch=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
