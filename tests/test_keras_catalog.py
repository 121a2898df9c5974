"""The names and defaults nnspec declares outside layers, against Keras and
scikit-learn themselves."""

from __future__ import annotations

import inspect

import pytest

from nnspec.vocab import catalog
from nnspec.vocab import sources as datasets

pytestmark = pytest.mark.keras


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


def test_activations_exist(keras):
    for name in catalog.ACTIVATIONS:
        assert keras.activations.get(name) is not None, name


def test_initializers_regularizers_constraints_exist(keras):
    from keras.src import constraints, initializers, regularizers

    for module, table in [
        (initializers, catalog.INITIALIZERS),
        (regularizers, catalog.REGULARIZERS),
        (constraints, catalog.CONSTRAINTS),
    ]:
        for name, kwargs in table.items():
            obj = (
                module.ALL_OBJECTS_DICT.get(name)
                or getattr(keras, module.__name__.split(".")[-1]).__dict__[name]
            )
            cls = obj if inspect.isclass(obj) else obj
            params = inspect.signature(cls).parameters
            for kw in kwargs:
                assert kw in params, (name, kw)


def test_losses_exist_with_their_arguments(keras):
    for name, kwargs in catalog.loss_kwargs().items():
        fn = keras.losses.get(name)
        assert fn is not None, name
        cls = next(
            c
            for c in vars(keras.losses).values()
            if inspect.isclass(c)
            and c.__name__.lower() == catalog.find_loss(name).name.replace("_", "")
        )
        params = inspect.signature(cls).parameters
        for kw in kwargs:
            assert kw in params, (name, kw)


def test_metrics_exist(keras):
    for name in catalog.METRICS:
        assert keras.metrics.get(name) is not None, name


@pytest.mark.parametrize("table", ["OPTIMIZERS", "SCHEDULES", "CALLBACKS"])
def test_callee_parameters_and_defaults(keras, table):
    modules = {
        "OPTIMIZERS": keras.optimizers,
        "SCHEDULES": keras.optimizers.schedules,
        "CALLBACKS": keras.callbacks,
    }
    module = modules[table]
    for callee in {c.name: c for c in getattr(catalog, table).values()}.values():
        params = inspect.signature(getattr(module, callee.name)).parameters
        for p in callee.params:
            assert p.name in params, (callee.name, p.name)
            keras_default = params[p.name].default
            if p.required:
                assert keras_default is inspect.Parameter.empty, (callee.name, p.name)
            else:
                assert p.default == keras_default, (callee.name, p.name)


def test_synthetic_sources_match_scikit_learn():
    from sklearn import datasets as sk

    for source, fn in [
        ("classification", sk.make_classification),
        ("regression", sk.make_regression),
    ]:
        params = inspect.signature(fn).parameters
        for p in datasets.SOURCES[source].params:
            assert p.default == params[p.name].default, (source, p.name)
