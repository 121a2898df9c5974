"""Every change nnspec makes to Keras's private code, in one place.

Each patch names the Keras version it was checked against, and is applied
only around the call that needs it, then undone. When Keras changes, this file
and the test that exercises each patch are what to look at:

    multiworker_fit   Keras 3.15.1; tests/test_run.py::test_two_workers_finish_with_identical_weights
    weights_bytes     Keras 3.15.1; tests/test_faults.py::test_a_full_disk_during_training_is_an_error_to_resume_from
    model_bytes       Keras 3.15.1; tests/test_faults.py (the full-disk tests), tests/test_run.py

Files are made in memory, then written by nnspec (`write_atomic`): h5py writing
to a full disk prints its errors from destructors and leaves HDF5 in a state that
crashes the interpreter at exit; a plain write fails with a plain OSError.
"""

from __future__ import annotations

import io
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


def weights_bytes(net) -> bytes:
    """What `net.save_weights("x.weights.h5")` writes (the weights and the optimizer
    state, as `net.load_weights` reads them), made in memory: Keras's own
    `save_weights_only`, with the buffer its HDF5 store accepts instead of a path."""
    from keras.src.saving import saving_lib

    buffer = io.BytesIO()
    store = saving_lib.H5IOStore(buffer, mode="w")
    try:
        saving_lib._save_state(net, store, None, "", set())
    finally:
        store.close()
    return buffer.getvalue()


def model_bytes(net, suffix: str) -> bytes:
    """What `net.save("model" + suffix)` writes, `.keras` or `.h5`, made in memory: the
    zip archive as Keras makes it for a remote path, the legacy HDF5 file through an
    h5py file on a buffer."""
    buffer = io.BytesIO()
    if suffix == ".keras":
        from keras.src.saving import saving_lib

        saving_lib.save_model(net, buffer)
        return buffer.getvalue()
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(buffer, "w") as f:
        legacy_h5_format.save_model_to_hdf5(net, f)
    return buffer.getvalue()
