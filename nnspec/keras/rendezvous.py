"""A multi-worker run waits for the other workers with a time limit.

TensorFlow's MultiWorkerMirroredStrategy blocks in native code, holding the
interpreter lock, until every worker of TF_CONFIG has started: for ever, deaf
to Ctrl-C and to SIGTERM. So `supervise` forks before TensorFlow is imported:
the child runs the command and calls `joined` once its strategy exists; the
parent supervises. If the time runs out or a signal comes first, the parent
names the workers that cannot be reached, kills the child (nothing of the run
is written yet) and exits; otherwise it passes SIGTERM on and exits as the
child does.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
import time
from typing import NoReturn

EXIT_TIMEOUT = 1
EXIT_INTERRUPTED = 130
_notify: int | None = None  # in the child: the pipe to the supervisor


class _Signalled(Exception):
    def __init__(self, signum: int):
        self.signum = signum


def peers(tf_config: str) -> list[str]:
    """The other workers' addresses in TF_CONFIG (`host:port`)."""
    config = json.loads(tf_config)
    workers = config.get("cluster", {}).get("worker", [])
    me = config.get("task", {}).get("index")
    return [address for i, address in enumerate(workers) if i != me]


def unreachable(addresses: list[str], seconds: float = 1.0) -> list[str]:
    """The addresses nothing listens on."""
    missing = []
    for address in addresses:
        host, _, port = address.rpartition(":")
        try:
            socket.create_connection((host, int(port)), timeout=seconds).close()
        except (OSError, ValueError):
            missing.append(address)
    return missing


def supervise(timeout: float, addresses: list[str], label: str) -> None:
    """Fork; returns in the child, which runs the command. `label` starts messages."""
    global _notify
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read_end)
        _notify = write_end
        return
    os.close(write_end)
    _supervise(child, read_end, timeout, addresses, label)


def joined() -> None:
    """In the child: the strategy exists, every worker has joined."""
    global _notify
    if _notify is not None:
        os.close(_notify)
        _notify = None


def _raise(signum, frame):
    raise _Signalled(signum)


def _supervise(child: int, pipe: int, timeout: float, addresses: list[str], label: str) -> NoReturn:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _raise)
    deadline, waiting = time.monotonic() + timeout, True
    while True:
        try:
            ready, _, _ = select.select([pipe] if waiting else [], [], [], 0.2)
            if ready and not os.read(pipe, 1):
                waiting = False  # the child closed the pipe: it joined, or ended
            done, status = os.waitpid(child, os.WNOHANG)
            if done:
                os._exit(os.waitstatus_to_exitcode(status))
            if waiting and time.monotonic() > deadline:
                why = f"the other workers did not join within {timeout:g} s"
                _give_up(child, label, why, addresses, EXIT_TIMEOUT)
        except _Signalled as sig:
            if waiting:
                why = "interrupted while waiting for the other workers"
                _give_up(child, label, why, addresses, EXIT_INTERRUPTED)
            if sig.signum == signal.SIGTERM:  # Ctrl-C reaches the child from the terminal
                os.kill(child, signal.SIGTERM)


def _give_up(child: int, label: str, why: str, addresses: list[str], status: int) -> NoReturn:
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    missing = unreachable(addresses)
    named = f"; not reachable: {', '.join(missing)}" if missing else ""
    hint = (
        "start `nnspec run` with the same spec on every worker of TF_CONFIG, "
        "or raise --rendezvous-timeout"
    )
    os.write(2, f"{label}: error: {why}{named}\n  = hint: {hint}\n".encode())
    os._exit(status)
