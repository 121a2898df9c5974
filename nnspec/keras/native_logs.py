"""TensorFlow's native start-up chatter (absl and oneDNN notices written by C++
before logging is configured, which TF_CPP_MIN_LOG_LEVEL does not silence),
kept out of the terminal; every other line of standard error passes through
as it is written.

The filter is a forked child process reading a pipe that stands in for file
descriptor 2: what the command wrote before a crash (`kill -9`, a segfault in
native code) is still shown, because the child outlives its parent and drains
the pipe to the end.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from contextlib import contextmanager

NOISE = re.compile(
    rb"WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|[IW]\d{4} [\d:.]+ +\d+ \S+\] "  # absl INFO and WARNING lines
    rb"|E\d{4} [\d:.]+ +\d+ node_def_util\.cc:\d+\] NodeDef mentions attribute"
    rb"|To enable the following instructions: "
)


@contextmanager
def filtered_stderr():
    """Standard error goes through the filter while the block runs."""
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    saved = os.dup(2)
    child = os.fork()
    if child == 0:  # the filter: never returns
        os.close(write_end)
        _forward(read_end, saved)
    os.close(read_end)
    os.dup2(write_end, 2)
    os.close(write_end)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # the pipe's last writer is gone: the filter drains it and ends
        os.close(saved)
        _reap(child)


def _forward(read_end: int, out: int) -> None:
    """Copy lines from the pipe to `out`, leaving out the noise, until no writer is left."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)  # Ctrl-C stops the run, which then closes the pipe
    status = 0
    try:
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            for line in _lines(pipe):
                if not NOISE.match(line):
                    os.write(out, line)
    except OSError:
        status = 1
    finally:
        os._exit(status)  # not the parent's atexit handlers or buffers


def _reap(child: int, seconds: float = 5.0) -> None:
    """Wait for the filter to write what it holds; a process that inherited the
    pipe (and keeps it open) cannot hold the command up for longer."""
    deadline = time.monotonic() + seconds
    try:
        while os.waitpid(child, os.WNOHANG) == (0, 0) and time.monotonic() < deadline:
            time.sleep(0.005)
    except ChildProcessError:  # forked since (`rendezvous.supervise`): the parent reaps it
        pass


def _lines(pipe):
    """Lines as they arrive; the last one may lack its newline."""
    pending = b""
    while chunk := pipe.read(65536):
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield line + b"\n"
    if pending:
        yield pending
