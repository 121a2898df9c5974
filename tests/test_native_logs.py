"""Standard error of `run` and `predict` goes through a filter that drops
TensorFlow's native start-up noise and passes everything else at once: what a
command wrote before it crashed is still shown. Real processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from helpers import ROOT

NOISE = b"I0000 00:00:1795495423.147487   20348 port.cc:153] oneDNN custom operations are on."
START = (
    "import os, sys, time, ctypes, signal\nfrom nnspec.keras.native_logs import filtered_stderr\n"
)


def _run(code: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", START + code, *args],
        capture_output="stderr" not in kwargs,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        **kwargs,
    )


@pytest.mark.parametrize(
    "crash, status",
    [
        ("os.kill(os.getpid(), signal.SIGKILL)", -signal.SIGKILL),
        ("ctypes.string_at(0)", -signal.SIGSEGV),
        ("os._exit(7)", 7),
        ("pass", 0),
    ],
)
def test_what_was_written_before_a_crash_is_shown(crash, status):
    code = (
        "with filtered_stderr():\n"
        f"    os.write(2, {NOISE!r} + b'\\n')\n"
        "    print('written by Python', file=sys.stderr, flush=True)\n"
        "    os.write(2, b'E0000 00:00:1.2   20348 cuda.cc:1] a real failure\\n')\n"
        "    os.write(2, b'a last line without its newline')\n"
        f"    {crash}\n"
    )
    run = _run(code)
    assert run.returncode == status
    assert run.stderr.startswith(
        b"written by Python\nE0000 00:00:1.2   20348 cuda.cc:1] a real failure\n"
        b"a last line without its newline"
    )
    assert NOISE not in run.stderr


def test_lines_pass_while_the_command_runs(tmp_path):
    """A line reaches its destination while the command still runs, not at its end:
    the command reads its own standard error file back."""
    code = (
        "with filtered_stderr():\n"
        "    os.write(2, b'first\\n')\n"
        "    time.sleep(0.5)\n"
        "    print(open(sys.argv[1]).read(), end='')\n"
    )
    seen = tmp_path / "stderr.txt"
    with seen.open("wb") as stderr:
        run = _run(code, str(seen), stderr=stderr, stdout=subprocess.PIPE)
    assert run.stdout == b"first\n"
