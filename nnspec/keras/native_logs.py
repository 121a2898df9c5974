"""TensorFlow's native start-up chatter (absl and oneDNN notices written by C++
before logging is configured, which TF_CPP_MIN_LOG_LEVEL does not silence),
kept out of the terminal; every other line of standard error passes through."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from contextlib import contextmanager

NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IW]\d{4} [\d:.]+ +\d+ \S+\] "  # absl INFO and WARNING lines
    r"|E\d{4} [\d:.]+ +\d+ node_def_util\.cc:\d+\] NodeDef mentions attribute"
    r"|To enable the following instructions: "
)


@contextmanager
def filtered_stderr():
    """Standard error goes through a file while the block runs, then out without noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
            kept = [line for line in text.splitlines(keepends=True) if not NOISE.match(line)]
            sys.stderr.write("".join(kept))
            sys.stderr.flush()
