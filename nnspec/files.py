"""Reading input files; writing output files, whole or not at all; showing how a file
would change."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from nnspec.errors import UsageError


def read_input(path: str | Path) -> bytes:
    """The bytes of `path` (`-`: standard input); one that cannot be read is a usage error."""
    if str(path) == "-":
        return sys.stdin.buffer.read()
    with open_input(path) as f:
        return f.read()


@contextlib.contextmanager
def open_input(path: str | Path) -> Iterator[BinaryIO]:
    """`path` opened for reading bytes; one that cannot be read is a usage error."""
    try:
        f = open(path, "rb")  # noqa: SIM115  (closed below; errors while reading count too)
        with f:
            yield f
    except OSError as err:
        raise UsageError(f"cannot read {path}: {err.strerror or err}") from None


def write_atomic(path: str | Path, data: str | bytes, *, durable: bool = False) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`.

    Through a symbolic link, and keeping the mode of a file that exists. `durable`:
    the file and the rename are on disk (fsynced) when this returns. An OSError (a
    full disk, a read-only folder) names `path` as given, and leaves nothing."""
    try:
        _write_atomic(Path(path).resolve(), data, durable)
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from None


def _write_atomic(path: Path, data: str | bytes, durable: bool) -> None:
    import tempfile  # here, not at the top: `nnspec check` writes nothing

    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    if durable:
        _sync_folder(path.parent)


def check_writable(path: str | Path) -> None:
    """A usage error unless a file can be made beside `path` (its folder exists and can
    be written): checked before a command does its work, not after."""
    import tempfile

    folder = Path(path).resolve().parent
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None


def _sync_folder(folder: str | Path) -> None:
    """fsync a folder: the renames and removals in it are on disk."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def unified_diff(old: str, new: str, old_name: str, new_name: str) -> str:
    """`new` against `old` as a unified diff, marking a missing final newline."""
    import difflib

    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), old_name, new_name
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
