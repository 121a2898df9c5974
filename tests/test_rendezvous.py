"""A multi-worker run whose peers never start: a time limit, Ctrl-C and SIGTERM
end the wait with a message naming the missing worker. Real processes, real
TensorFlow."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from helpers import ROOT

from nnspec.keras.rendezvous import peers, unreachable

SPEC = """model tiny
data iris { seed: 0 }
input x: (4,)
sequential { Dense(3, activation=softmax) }
compile { loss: sparse_categorical_crossentropy, optimizer: adam }
fit { epochs: 1 }
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lonely_worker(tmp_path, *options: str) -> tuple[subprocess.Popen, str]:
    """Worker 0 of two; worker 1 never starts."""
    (tmp_path / "tiny.nn").write_text(SPEC)
    missing = f"127.0.0.1:{_free_port()}"
    cluster = {"worker": [f"127.0.0.1:{_free_port()}", missing]}
    config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 0}})
    process = subprocess.Popen(
        [sys.executable, "-m", "nnspec.cli", "run", "tiny.nn", "--quiet", "--out", "run"]
        + ["--strategy", "multiworker", *options],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TF_CONFIG": config,
            "TF_CPP_MIN_LOG_LEVEL": "3",
        },
    )
    return process, missing


def test_peers_and_unreachable():
    config = {"cluster": {"worker": ["a:1", "b:2", "c:3"]}, "task": {"type": "worker", "index": 1}}
    assert peers(json.dumps(config)) == ["a:1", "c:3"]
    closed = f"127.0.0.1:{_free_port()}"
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        here = f"127.0.0.1:{listening.getsockname()[1]}"
        assert unreachable([here, closed, "no-such-host.invalid:1"]) == [
            closed,
            "no-such-host.invalid:1",
        ]


@pytest.mark.keras
def test_a_missing_worker_ends_the_wait_at_the_time_limit(tmp_path):
    process, missing = _lonely_worker(tmp_path, "--rendezvous-timeout", "8")
    _, err = process.communicate(timeout=120)
    assert process.returncode == 1, err
    assert "the other workers did not join within 8 s" in err
    assert f"not reachable: {missing}" in err
    assert not (tmp_path / "run" / "history.json").exists()


@pytest.mark.keras
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_the_wait(tmp_path, sig):
    process, missing = _lonely_worker(tmp_path)
    time.sleep(12)  # TensorFlow imported, the strategy waiting
    process.send_signal(sig)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted while waiting for the other workers" in err
    assert missing in err
