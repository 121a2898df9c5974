"""Every `nnspec` command that README.md and docs/*.md show runs as shown.

The commands are read from the docs: the `$ ` lines of ```console blocks, with the
output shown under each, and the lines of ```sh / ```bash / ```shell blocks. Each
runs through bash, as the reader would type it, in a fresh folder holding a copy of
specs/ (the paths of the docs are relative to the repository root), with `nnspec`
and `python` on the PATH running this checkout.

- Where a block shows a command's output, the output must be the same (standard
  output and standard error together, as a terminal shows them). A `...` line
  stands for any lines. For commands that train, numbers (timings, metrics, the
  run folder's time stamp) may differ, and Keras's progress bars (which need a
  terminal) stand for any lines; elsewhere the output must be exactly the same,
  but where NUMBERS_VARY says why.
- The exit status is 1 where the shown output reports an error, 0 otherwise.
- A command that needs a file the docs made earlier, or name as a placeholder
  (`broken.nn`, `model.nn`, a run folder, a Keras model to import), gets it first
  from PREPARED, made by the documented step where the docs show one.
- NOT_RUN lists, each with the reason, the few commands that cannot run here as
  shown.

Commands that train (`nnspec run`, `nnspec predict`, a generated script) are in the
`keras` and `slow` groups, and those on MNIST are skipped without its files
(NNSPEC_DATA_DIR, or ../shared/data); `nnspec run` on MNIST runs on the first 2,048
of its samples (a copy made here), seconds rather than minutes of CI; a generated
script loads the whole file, whose hash Keras checks. The others take a fraction of
a second each.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import _data_dir
from helpers import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<info>console|sh|bash|shell)[ \t]*\n(?P<body>.*?)^[ \t]*```[ \t]*$",
    re.DOTALL | re.MULTILINE,
)
CALLS_NNSPEC = re.compile(r"(^|[|&;(]\s*)nnspec\s")

# Commands that cannot run here as shown, and why.
TWO_MACHINES = (
    "needs the machines host1 and host2 of TF_CONFIG: tests/test_run.py runs two workers "
    "on 127.0.0.1"
)
NOT_RUN = {
    "nnspec run specs/mnist_cnn.nn --out runs/try": (
        "shows a disk that fills up during the run: tests/test_faults.py makes one (a "
        "small tmpfs) and checks this message"
    ),
    "nnspec run specs/mnist_cnn.nn --strategy multiworker --out runs/mnist-w0": TWO_MACHINES,
    "nnspec run specs/mnist_cnn.nn --strategy multiworker --out runs/mnist-w1": TWO_MACHINES,
}
# Quick commands whose output shows numbers that differ from run to run, and why.
NUMBERS_VARY = {
    "nnspec run specs/mnist_cnn.nn --resume --out runs/try": "the process id of the other run",
}
# A comment after a command says what its output holds: a phrase of the comment -> a
# pattern the output must match.
CLAIMS = {
    "a chain: keras.Sequential": r"return keras\.Sequential\(",
    "the same model, Functional": r"return keras\.Model\(",
    "a graph: keras.Model": r"return keras\.Model\(",
    "25,636,712 parameters": r"^Total params: 25,636,712$",
}


class Command:
    """A command of the docs: where, the command line, and the output shown (None
    where the block shows none: ```sh blocks)."""

    def __init__(self, doc: Path, line: int, text: str, shown: list[str] | None):
        self.doc, self.line, self.text, self.shown = doc, line, text, shown

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"

    @property
    def bare(self) -> str:
        """The command without its trailing comment and spaces."""
        return re.sub(r"\s+#.*$", "", self.text).strip()

    @property
    def status(self) -> int:
        """The exit status the shown output implies."""
        return 1 if any(re.search(r"\berror(\[\w+\])?: ", s) for s in self.shown or ()) else 0

    @property
    def trains(self) -> bool:
        bare = self.bare
        runs = re.search(r"\bnnspec run\b", bare) and self.status == 0
        return bool(runs or re.search(r"\bnnspec predict\b|\bpython\s", bare))

    @property
    def on_mnist(self) -> bool:
        return self.trains and "mnist" in self.bare


def _commands_of(doc: Path, start: int, info: str, body: str) -> list[Command]:
    found: list[Command] = []
    lines = body.splitlines()
    if info != "console":
        return [
            Command(doc, start + i, line.strip(), None)
            for i, line in enumerate(lines)
            if CALLS_NNSPEC.search(line.strip()) and not line.strip().startswith("#")
        ]
    current = None
    for i, line in enumerate(lines):
        if line.startswith("$ "):
            current = Command(doc, start + i, line[2:].strip(), [])
            found.append(current)
        elif current is not None:
            current.shown.append(line.rstrip())
    return [c for c in found if CALLS_NNSPEC.search(c.text)]


def documented() -> list[Command]:
    """Every `nnspec` command of the docs, in the order they show them."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in BLOCK.finditer(text):
            start = text.count("\n", 0, m.start("body")) + 1
            body = re.sub(rf"(?m)^{re.escape(m['indent'])}", "", m["body"])
            found += _commands_of(doc, start, m["info"], body)
    return found


COMMANDS = documented()


# ---- the folder a command runs in, and what it needs first ---------------------------------


def _shims(folder: Path) -> Path:
    """`nnspec` and `python` commands that run this checkout with this interpreter: the
    installed `nnspec` script where there is one (it names itself `nnspec` in usage
    messages), else `python -m nnspec`."""
    folder.mkdir(parents=True, exist_ok=True)
    script = Path(sys.executable).parent / "nnspec"
    nnspec = f'"{script}" "$@"' if script.is_file() else f'"{sys.executable}" -m nnspec "$@"'
    for name, run in (("nnspec", nnspec), ("python", f'"{sys.executable}" "$@"')):
        shim = folder / name
        shim.write_text(f"#!/bin/sh\nexec {run}\n")
        shim.chmod(0o755)
    return folder


def _environment(folder: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "PATH": f"{_shims(folder / '.bin')}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",  # standard output and error in the order a terminal shows
        "NO_COLOR": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "CUDA_VISIBLE_DEVICES": "",  # the docs show runs on a CPU
        "KERAS_HOME": str(folder / ".keras"),  # a generated script's MNIST, offline
    }
    env.pop("NNSPEC_DATA_DIR", None)
    data = _data_dir()
    if data is not None:
        small = _small_data(data, folder / ".data")
        env["NNSPEC_DATA_DIR"] = str(small)
        (folder / ".keras" / "datasets").mkdir(parents=True, exist_ok=True)
        # Keras checks the file's hash: a generated script gets the whole data set
        (folder / ".keras" / "datasets" / "mnist.npz").symlink_to(data / "mnist.npz")
    return env


def _small_data(data: Path, folder: Path) -> Path:
    """A data folder like `data` whose mnist.npz holds the real file's first 2,048
    training and 512 test samples: the commands run as shown, in seconds rather than
    minutes (the numbers they print may differ, as for any training)."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    for path in data.iterdir():
        if path.name != "mnist.npz":
            (folder / path.name).symlink_to(path)
    with np.load(data / "mnist.npz") as full:
        np.savez(
            folder / "mnist.npz",
            x_train=full["x_train"][:2048],
            y_train=full["y_train"][:2048],
            x_test=full["x_test"][:512],
            y_test=full["y_test"][:512],
        )
    return folder


class Here:
    """Where a command runs: a folder like the repository root for the docs' paths (a
    copy of specs/), its environment, and a scratch folder the tests share."""

    def __init__(self, folder: Path, scratch: Path):
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copytree(ROOT / "specs", folder / "specs")
        self.cwd, self.env, self.scratch = folder, _environment(folder), scratch

    def sh(self, command: str, timeout: float = 900) -> subprocess.CompletedProcess:
        """`command` through bash, standard output and error together."""
        return subprocess.run(
            ["bash", "-c", command],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            timeout=timeout,
        )

    def step(self, command: str) -> None:
        """A step the docs show (or imply) before a command: it must succeed."""
        done = self.sh(command)
        assert done.returncode == 0, f"{command}:\n{done.stdout}"

    def python(self, code: str) -> None:
        done = self.sh(f"python -c {shlex.quote(code)}")
        assert done.returncode == 0, done.stdout


def _language_example(info: str) -> str:
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    return re.search(rf"^```nn {info}\n(.*?)^```$", text, re.DOTALL | re.MULTILINE)[1]


# The Keras models the import commands read; only their config is read, so ResNet50's
# is saved without its weights.
RESNET50 = """\
import json, zipfile, keras
config = keras.applications.ResNet50(weights=None).to_json()
with zipfile.ZipFile("resnet50.keras", "w") as archive:
    archive.writestr("config.json", config)
    archive.writestr("metadata.json", json.dumps({"keras_version": keras.__version__}))
"""
ROUTER = """\
import keras
x = keras.Input((16,), name="x")
hidden = keras.layers.Dense(32, activation="relu", name="hidden")(x)
kind = keras.layers.Dense(4, activation="softmax", name="kind")(hidden)
score = keras.layers.Dense(1, name="score")(hidden)
model = keras.Model(x, [kind, score], name="router")
rate = keras.optimizers.schedules.CosineDecay(0.001, 10000, warmup_target=0.003, warmup_steps=500)
model.compile(
    optimizer=keras.optimizers.Adam(rate, clipnorm=1.0, use_ema=True),
    loss={"kind": keras.losses.CategoricalCrossentropy(label_smoothing=0.1), "score": "mse"},
    metrics={"kind": ["accuracy", keras.metrics.AUC(num_thresholds=100)], "score": ["mae"]},
    loss_weights={"kind": 1.0, "score": 0.2},
)
model.save("router.keras")
"""
DIGITS_RUN = "nnspec run specs/digits_classifier.nn"
_runs: dict[str, Path] = {}  # command -> its run folder, for the commands that read it


def _digits_run(here: Here) -> Path:
    """The run folder of the docs' `nnspec run specs/digits_classifier.nn`, run once."""
    if DIGITS_RUN not in _runs:
        there = Here(here.scratch / "digits-run", here.scratch)
        there.step(DIGITS_RUN)
        _runs[DIGITS_RUN] = next((there.cwd / "runs").iterdir())
    return _runs[DIGITS_RUN]


def _run_folder(name: str) -> Callable[[Here], None]:
    """A run folder the docs name, with a time stamp of theirs: the documented run's."""

    def prepare(here: Here) -> None:
        (here.cwd / "runs").mkdir(exist_ok=True)
        (here.cwd / name).symlink_to(_digits_run(here))

    return prepare


def _model_keras(here: Here) -> None:
    saved = _digits_run(here) / "digits_classifier.h5"
    here.python(f"import keras; keras.models.load_model({str(saved)!r}).save('model.keras')")


def _write(name: str, text: Callable[[], str]) -> Callable[[Here], None]:
    return lambda here: (here.cwd / name).write_text(text())


# What a command needs first: a file or folder it names -> how the test makes it.
PREPARED: dict[str, Callable[[Here], None]] = {
    "broken.nn": _write("broken.nn", lambda: _language_example("error E101 E106 E108")),
    "model.nn": _write("model.nn", lambda: (ROOT / "specs" / "mnist_mlp.nn").read_text()),
    "scripts/mnist_cnn.py": lambda here: here.step(
        "mkdir scripts && nnspec gen specs/mnist_cnn.nn -o scripts/mnist_cnn.py"
    ),
    "resnet50.keras": lambda here: here.python(RESNET50),
    "resnet50.nn": lambda here: (
        here.python(RESNET50),
        here.step("nnspec import resnet50.keras -o resnet50.nn"),
    ),
    "router.keras": lambda here: here.python(ROUTER),
    "runs/digits_classifier-20261124-101500": _run_folder("runs/digits_classifier-20261124-101500"),
    "samples.npy": lambda here: here.python(
        "import numpy; numpy.save('samples.npy', numpy.full((3, 64), 8.0))"
    ),
    "model.keras": _model_keras,
    "rows.csv": _write("rows.csv", lambda: "\n".join(",".join(["8"] * 64) for _ in range(3))),
}
# The files of PREPARED that Keras makes.
KERAS_MADE = {"resnet50.keras", "resnet50.nn", "router.keras", "model.keras"}


def _needs(command: Command) -> list[str]:
    words = command.bare.replace("|", " ").split()
    return [w for w in words if w in PREPARED and not (w == "resnet50.nn" and "-o" in words)]


# ---- comparing outputs ----------------------------------------------------------------------


def _pattern(shown: list[str], loose: bool) -> re.Pattern:
    """The shown output as a pattern of the whole output: `...` for any lines; with
    `loose`, any number for each number, and any lines for a progress bar."""
    parts = []
    for line in shown:
        if line == "..." or (loose and "━" in line):
            parts.append(r"(?:[^\n]*\n)*?")
            continue
        escaped = re.escape(line)
        if loose:
            escaped = re.sub(r"\d+", r"\\d+", escaped)
        parts.append(escaped + r"[ \t]*\n")
    return re.compile("".join(parts))


def _trimmed(lines: list[str]) -> list[str]:
    while lines and not lines[-1]:
        lines = lines[:-1]
    return lines


def assert_output(command: Command, output: str) -> None:
    shown = _trimmed(command.shown or [])
    if not shown:
        return
    loose = command.trains or command.bare in NUMBERS_VARY
    text = "\n".join(_trimmed(output.splitlines())) + "\n"
    if _pattern(shown, loose).fullmatch(text) is None:
        pytest.fail(
            f"{command.where}: `{command.text}` printed\n{text}\nthe docs show\n" + "\n".join(shown)
        )


# ---- the tests ------------------------------------------------------------------------------


def _param(command: Command):
    marks = []
    if command.bare in NOT_RUN:
        marks.append(pytest.mark.skip(reason=f"not run: {NOT_RUN[command.bare]}"))
    if command.trains:
        marks += [pytest.mark.keras, pytest.mark.slow]
    elif any(need in KERAS_MADE for need in _needs(command)):
        marks.append(pytest.mark.keras)
    return pytest.param(command, id=command.where, marks=marks)


def test_the_docs_show_commands():
    shown = {c.bare for c in COMMANDS}
    assert len(COMMANDS) >= 25
    assert {"nnspec check broken.nn", "nnspec summary specs/mnist_cnn.nn", DIGITS_RUN} <= shown
    assert set(NOT_RUN) <= shown and set(NUMBERS_VARY) <= shown, "an allowance of no command"


@pytest.mark.parametrize("command", [_param(c) for c in COMMANDS])
def test_command_runs_as_shown(command: Command, tmp_path: Path, tmp_path_factory):
    if command.on_mnist and _data_dir() is None:
        pytest.skip(
            "MNIST files not found: set NNSPEC_DATA_DIR to a folder with mnist.npz and the "
            "Fashion-MNIST *-ubyte.gz files (CI uses ../shared/data where it holds them)"
        )
    here = Here(tmp_path / "root", tmp_path_factory.getbasetemp())
    for need in _needs(command):
        PREPARED[need](here)
    if command.bare in NUMBERS_VARY:  # another run holds the folder
        from nnspec.keras.checkpoint import locked

        with locked(here.cwd / "runs" / "try"):
            done = here.sh(command.text)
    else:
        done = here.sh(command.text)
    if command.bare == DIGITS_RUN and done.returncode == 0:
        _runs.setdefault(DIGITS_RUN, next((here.cwd / "runs").iterdir()))
    assert done.returncode == command.status, f"{command.where}: {command.text}\n{done.stdout}"
    assert "Traceback" not in done.stdout, done.stdout
    assert_output(command, done.stdout)
    for phrase, pattern in CLAIMS.items():
        if phrase in command.text:
            assert re.search(pattern, done.stdout, re.M), f"{command.where}: {done.stdout}"
