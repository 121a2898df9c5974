"""Every change nnspec makes to Keras's private code, in one place.

Each patch names the Keras version it was checked against, and is applied
only around the call that needs it, then undone. When Keras changes, this file
and the test that exercises each patch are what to look at:

    multiworker_fit   Keras 3.15.1; tests/test_run.py::test_two_workers_finish_with_identical_weights
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def multiworker_fit(net) -> Iterator[None]:
    """Around `net.fit` under MultiWorkerMirroredStrategy, which Keras 3 (3.15.1
    checked) fails in two places that only concern logs: the symbolic build
    reduces the first batch, and the epoch logs are averaged along an axis
    scalars do not have.

    The model is built already, so it can leave the strategy to the enclosing
    scope: it keeps none afterwards (evaluate and save run in the default
    strategy). Logs are averaged over the local replicas only while `fit` runs;
    gradients are all-reduced by the strategy as always, so every worker keeps
    the same weights."""
    from keras.src.backend.tensorflow import trainer

    net._distribute_strategy = None
    multi_worker = trainer._collective_all_reduce_multi_worker
    trainer._collective_all_reduce_multi_worker = lambda strategy: False
    try:
        yield
    finally:
        trainer._collective_all_reduce_multi_worker = multi_worker
