"""The run folder's own state: its lock, so that one `nnspec run` at a time uses it,
and the checkpoints of an unfinished run, so that a kill at any instant leaves a
state to resume from, with no epoch lost or repeated. No TensorFlow here: the
model comes from the caller.

Each completed epoch N goes into `backup/` in two steps, each file written under a
temporary name, fsynced and renamed: the weights and the optimizer state
(`epoch-N.weights.h5`), then the manifest `epoch-N.json` (the epoch, the weights
file and its SHA-256, the history so far). Renaming the manifest commits epoch N;
only then are older files removed, all but those of the state before (a fallback).
Resuming takes the newest state whose manifest reads and whose weights match.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec

from nnspec.errors import NnspecError
from nnspec.files import write_atomic
from nnspec.keras.patches import weights_bytes

try:
    import fcntl
except ImportError:  # Windows: run folders are not locked
    fcntl = None

LOCK = ".nnspec-run.lock"
MANIFEST = re.compile(r"epoch-(\d+)\.json")


class FolderError(NnspecError):
    """The run folder cannot be used: another run holds it, or it cannot be written."""


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Hold the lock of run folder `folder` (made if missing) while the block runs: a
    second run into it is refused at once. Folders made here and left empty go again."""
    made = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        fd = _lock(folder)
    except FolderError:
        _remove_empty(made)
        raise
    try:
        yield
    finally:
        (folder / LOCK).unlink(missing_ok=True)  # while it is held: see `_lock`
        os.close(fd)
        _remove_empty(made)


def _remove_empty(folders: list[Path]) -> None:
    """Remove `folders`, the deepest first, as long as they are empty."""
    for path in folders:
        try:
            path.rmdir()
        except OSError:
            break


def _lock(folder: Path) -> int:
    """The lock file of `folder`, open and locked (the kernel releases the lock however
    the process ends), with this process's id in it."""
    path = folder / LOCK
    for _attempt in range(10):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except FileNotFoundError:
            continue  # the run that held it removed the folder meanwhile
        except OSError as err:
            raise FolderError(f"cannot use {folder} as a run folder: {err.strerror}") from None
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            raise _refusal(folder, holder, err) from None
        if _same_file(fd, path):
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            except OSError as err:  # a full disk
                os.close(fd)
                path.unlink(missing_ok=True)
                raise FolderError(f"cannot write {path}: {err.strerror}") from None
            return fd
        os.close(fd)  # removed by the run that held it, after we opened it: again
    raise FolderError(f"cannot lock {folder}: its lock file keeps changing")


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _refusal(folder: Path, holder: str, err: OSError) -> FolderError:
    if not isinstance(err, BlockingIOError):
        return FolderError(f"cannot lock {folder}: {err.strerror}")
    pid = f" (pid {holder})" if holder.isdigit() else ""
    return FolderError(
        f"{folder} is in use by another nnspec run{pid}",
        ["wait for that run to end, or give another --out"],
    )


def holds_files(folder: Path) -> bool:
    """Whether `folder` holds anything but a lock file and unfinished temporary files."""
    if not folder.is_dir():
        return False
    return any(
        p.name != LOCK and not (p.name.startswith(".") and p.name.endswith(".tmp"))
        for p in folder.iterdir()
    )


def read_manifest(folder: Path) -> dict:
    """The run.json of finished run `folder`: its model file's name, its task and
    classes. One that is missing, cannot be read or is damaged is a FolderError."""
    path = folder / "run.json"
    hint = (
        "run.json is written as a run finishes; `nnspec predict` also takes the run's "
        "model file itself (without the run's preprocessing)"
    )
    try:
        info = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise FolderError(f"{folder} is not a finished run folder: it has no run.json") from None
    except OSError as err:
        raise FolderError(f"cannot read {path}: {err.strerror or err}") from None
    except ValueError as err:  # not JSON, not UTF-8: cut short or overwritten
        raise FolderError(f"{path} is damaged: not JSON ({err})", [hint]) from None
    if not _is_record(info):
        raise FolderError(
            f"{path} is damaged: not the record of a run (its model file, task and classes)",
            [hint],
        )
    return info


def _is_record(info) -> bool:
    """Whether `info` is what `_write_manifest` writes: a model file's name, a task,
    the classes' names (their number, from an earlier nnspec)."""
    if not isinstance(info, dict) or not isinstance(info.get("model"), str):
        return False
    classes = info.get("classes")
    names = isinstance(classes, list) and all(isinstance(c, str) for c in classes)
    return (
        bool(info["model"].strip())
        and isinstance(info.get("task"), (str, type(None)))
        and (classes is None or names or (isinstance(classes, int) and classes > 0))
    )


class State(msgspec.Struct, frozen=True):
    """A committed epoch: its number (from 1), its weights file and their SHA-256, the
    history of the epochs up to it."""

    epoch: int
    weights: str
    sha256: str
    history: dict[str, list[float]]


class Checkpoints:
    """The checkpoints of the unfinished run in `folder`, in its `backup/`."""

    def __init__(self, folder: Path):
        self.dir = folder / "backup"
        self.kept: list[State] = []  # the newest first

    def latest(self, echo: Callable[[str], object]) -> State | None:
        """The newest state whose manifest reads and whose weights match their digest;
        a damaged one is reported and passed over."""
        found = [
            (int(m[1]), p)
            for p in self.dir.glob("epoch-*.json")
            if (m := MANIFEST.fullmatch(p.name))
        ]
        for epoch, path in sorted(found, reverse=True):
            state, damage = _read(path, epoch)
            if state is not None:
                return state
            echo(f"nnspec run: passing over the checkpoint of epoch {epoch}: {damage}")
        return None

    def restore(self, net, state: State) -> None:
        """Load `state`'s weights and optimizer state into `net` (built and compiled);
        every other file of backup/ goes."""
        if net.optimizer is not None and not net.optimizer.built:
            net.optimizer.build(net.trainable_variables)
        net.load_weights(str(self.dir / state.weights))
        self.kept = [state]
        self._prune()

    def save(self, net, epoch: int, history: dict[str, list[float]]) -> None:
        """Commit `net`'s weights and optimizer state after `epoch`, with `history`; then
        remove what is older than the state before."""
        weights = f"epoch-{epoch}.weights.h5"
        data = weights_bytes(net)  # made in memory: see patches.py
        state = State(
            epoch,
            weights,
            hashlib.sha256(data).hexdigest(),
            {k: list(v) for k, v in history.items()},
        )
        manifest = json.dumps(msgspec.to_builtins(state))  # NaN as NaN, not null
        path = self.dir / weights
        try:
            self.dir.mkdir(exist_ok=True)
            write_atomic(path, data, durable=True)
            path = self.dir / f"epoch-{epoch}.json"
            write_atomic(path, manifest, durable=True)
        except OSError as err:
            if path.suffix == ".json":  # the weights of an epoch never committed
                (self.dir / weights).unlink(missing_ok=True)
            raise FolderError(
                f"cannot write {path} (the checkpoint of epoch {epoch}): {err.strerror or err}"
            ) from None
        self.kept = [state, *self.kept[:1]]
        self._prune()

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def _prune(self) -> None:
        """Remove every file of backup/ but those of the kept states."""
        keep = {name for s in self.kept for name in (s.weights, f"epoch-{s.epoch}.json")}
        for path in self.dir.iterdir():
            if path.name not in keep and not path.is_dir():
                path.unlink(missing_ok=True)


def _read(path: Path, epoch: int) -> tuple[State | None, str]:
    """The state that manifest `path` commits, or None and what is wrong with it."""
    try:
        state = msgspec.convert(json.loads(path.read_bytes()), State)
    except (OSError, ValueError, msgspec.ValidationError) as err:
        return None, f"{path.name} does not read: {err}"
    if (
        state.epoch != epoch
        or state.weights != f"epoch-{epoch}.weights.h5"
        or any(len(values) > epoch for values in state.history.values())
    ):
        return None, f"{path.name} does not describe epoch {epoch}"
    try:
        if _sha256(path.parent / state.weights) == state.sha256:
            return state, ""
    except OSError as err:
        return None, f"{state.weights}: {err.strerror or err}"
    return None, f"{state.weights} does not match its digest"


def _sha256(path: Path) -> str:
    """The SHA-256 of file `path`."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
