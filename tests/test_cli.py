"""The `nnspec` command line, run as a real subprocess: exit codes, output
formats, directories, standard input, help and version, and no TensorFlow."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, python, unreadable
from helpers import nnspec as run_nnspec

from nnspec import __version__
from nnspec.cli import main

INVALID = Path(__file__).parent / "invalid"

VALID = """\
model tiny "a valid spec"

input features: (20,)

sequential {
    Dense(16, activation=relu)
    Dense(1, activation=sigmoid)
}

compile { loss: binary_crossentropy, optimizer: adam }
"""
BROKEN = """\
model broken

input features: (20,)

sequential {
    Dens(16, activation=relu)
    Dense(1, activation=sigmoid)
}

compile { loss: binary_crossentropy, optimizer: adam }
"""
WARNS = """\
model warns

input pixels: (64,)

sequential {
    Dense(10, activation=softmax)
}

compile { loss: sparse_categorical_crossentropy, optimizer: adam }
fit { epochs: 5 }
"""
JSON_FIELDS = [
    "file",
    "line",
    "column",
    "end_line",
    "end_column",
    "severity",
    "code",
    "message",
    "hints",
]
ANSI = re.compile(r"\x1b\[")


def nnspec(*args: str, stdin: str | None = None, cwd: Path | None = None, env=None):
    """`nnspec ARGS` in a fresh process, colour left to the terminal test."""
    return run_nnspec(*args, stdin=stdin, cwd=cwd, env={"NO_COLOR": None, **(env or {})})


@pytest.fixture
def specs(tmp_path: Path) -> Path:
    """A folder with a valid spec, a broken one and a warning-only one."""
    (tmp_path / "valid.nn").write_text(VALID)
    (tmp_path / "broken.nn").write_text(BROKEN)
    (tmp_path / "warns.nn").write_text(WARNS)
    return tmp_path


# ---- exit codes ---------------------------------------------------------------------


def test_valid_spec_exits_0(specs):
    run = nnspec("check", "valid.nn", cwd=specs)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout == "valid.nn: ok\n"
    assert run.stderr == ""


def test_errors_exit_1(specs):
    run = nnspec("check", "broken.nn", cwd=specs)
    assert run.returncode == 1
    assert "broken.nn:6:5: error[E101]: unknown layer type `Dens`" in run.stdout
    assert run.stdout.endswith("broken.nn: 1 error\n")
    assert "Traceback" not in run.stderr


def test_warnings_exit_0_unless_strict(specs):
    run = nnspec("check", "warns.nn", cwd=specs)
    assert run.returncode == 0
    assert "warning[W501]" in run.stdout
    assert run.stdout.endswith("warns.nn: 1 warning\n")
    strict = nnspec("check", "--strict", "warns.nn", cwd=specs)
    assert strict.returncode == 1
    assert strict.stdout == run.stdout


def test_unknown_option_exits_2(specs):
    run = nnspec("check", "--bogus", "valid.nn", cwd=specs)
    assert run.returncode == 2
    assert "No such option" in run.stderr and "--bogus" in run.stderr
    assert run.stdout == ""


def test_unknown_format_exits_2(specs):
    run = nnspec("check", "--format", "xml", "valid.nn", cwd=specs)
    assert run.returncode == 2
    assert "xml" in run.stderr


def test_missing_file_exits_2(specs):
    run = nnspec("check", "valid.nn", "missing.nn", cwd=specs)
    assert run.returncode == 2
    assert "no such file or directory: missing.nn" in run.stderr
    assert run.stdout == "", "nothing is checked when an argument is wrong"


def test_no_paths_exits_2():
    run = nnspec("check")
    assert run.returncode == 2
    assert "Missing argument" in run.stderr


def test_unknown_command_exits_2():
    run = nnspec("chek", "x.nn")
    assert run.returncode == 2
    assert "No such command" in run.stderr


def test_internal_error_exits_3(specs):
    """A fault inside nnspec becomes E900 and exit status 3, never a traceback."""
    code = (
        "import sys, nnspec.check.pipeline as c\n"
        "def boom(*a, **k): raise RuntimeError('boom')\n"
        "c.lower = boom\n"
        "from nnspec.cli import main\n"
        "main(['check', 'valid.nn'])\n"
    )
    run = python("-c", code, cwd=specs)
    assert run.returncode == 3
    assert "error[E900]: internal error: RuntimeError: boom" in run.stdout
    assert "please report this" in run.stdout
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["check", "locked.nn"],
        ["check", "valid.nn", "."],
        ["summary", "locked.nn"],
        ["gen", "locked.nn"],
        ["gen", "valid.nn", "--check", "-o", "locked.nn"],
        ["run", "locked.nn"],
        ["import", "locked.nn"],
    ],
    ids=["check", "check-folder", "summary", "gen", "gen-check", "run", "import"],
)
def test_unreadable_file_is_a_usage_error(specs, args):
    """A file that exists but cannot be read: exit 2 and a plain message, not E900."""
    unreadable(specs, "locked.nn")
    run = nnspec(*args, cwd=specs)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "Error: cannot read locked.nn: " in run.stderr
    assert run.stdout == "", "nothing is checked when an argument cannot be read"
    assert "E900" not in run.stderr and "Traceback" not in run.stderr


def test_unwritable_output_is_a_usage_error(specs):
    run = nnspec("gen", "valid.nn", "-o", "no/such/folder/tiny.py", cwd=specs)
    assert run.returncode == 2
    assert "Error: cannot write no/such/folder/tiny.py: No such file or directory" in run.stderr
    assert "Traceback" not in run.stderr


# ---- formats --------------------------------------------------------------------------


def test_json_format(specs):
    run = nnspec("check", "--format", "json", "broken.nn", "valid.nn", "warns.nn", cwd=specs)
    assert run.returncode == 1
    records = json.loads(run.stdout)  # nothing but the JSON document on stdout
    assert [list(r) for r in records] == [JSON_FIELDS] * len(records)
    by_code = {r["code"]: r for r in records}
    assert set(by_code) == {"E101", "W501"}
    e101 = by_code["E101"]
    assert e101 == {
        "file": "broken.nn",
        "line": 6,
        "column": 5,
        "end_line": 6,
        "end_column": 9,
        "severity": "error",
        "code": "E101",
        "message": "unknown layer type `Dens`",
        "hints": ["did you mean `Dense`?"],
    }
    assert by_code["W501"]["severity"] == "warning"
    assert by_code["W501"]["file"] == "warns.nn"


def test_json_format_of_a_clean_spec_is_an_empty_list(specs):
    run = nnspec("check", "--format", "json", "valid.nn", cwd=specs)
    assert run.returncode == 0
    assert json.loads(run.stdout) == []


def test_gcc_format(specs):
    run = nnspec("check", "--format", "gcc", "broken.nn", "valid.nn", "warns.nn", cwd=specs)
    assert run.returncode == 1
    lines = run.stdout.splitlines()
    assert lines[0] == "broken.nn:6:5: error: unknown layer type `Dens` [E101]"
    assert re.fullmatch(r"warns\.nn:\d+:\d+: warning: .* \[W501\]", lines[1])
    assert len(lines) == 2, "no verdict or total lines in gcc format"


# ---- files, directories, standard input -------------------------------------------------


def test_verdict_per_file_and_total(specs):
    run = nnspec("check", "valid.nn", "broken.nn", "warns.nn", cwd=specs)
    assert run.returncode == 1
    verdicts = [line for line in run.stdout.splitlines() if re.match(r"^\S+\.nn: [a-z0-9]", line)]
    assert verdicts == ["valid.nn: ok", "broken.nn: 1 error", "warns.nn: 1 warning"]
    assert run.stdout.splitlines()[-1] == "checked 3 files: 2 ok, 1 with errors"


def test_single_file_has_no_total_line(specs):
    run = nnspec("check", "broken.nn", cwd=specs)
    assert "checked" not in run.stdout


def test_directory_is_searched_recursively_in_order(specs):
    nested = specs / "more" / "deeper"
    nested.mkdir(parents=True)
    (nested / "also_valid.nn").write_text(VALID)
    (specs / "notes.txt").write_text("not a spec")
    run = nnspec("check", ".", cwd=specs)
    assert run.returncode == 1
    verdicts = [line.split(": ")[0] for line in run.stdout.splitlines() if line.endswith(": ok")]
    assert verdicts == sorted(verdicts)
    assert f"more{os.sep}deeper{os.sep}also_valid.nn" in run.stdout.replace("./", "")
    assert "notes.txt" not in run.stdout
    assert run.stdout.splitlines()[-1] == "checked 4 files: 3 ok, 1 with errors"


def test_empty_directory_is_a_usage_error(tmp_path):
    run = nnspec("check", str(tmp_path))
    assert run.returncode == 2
    assert "no .nn files" in run.stderr


def test_check_the_repository_specs_folder():
    run = nnspec("check", "--format", "json", "specs")
    assert (run.returncode, json.loads(run.stdout)) == (0, []), run.stdout


def test_stdin(specs):
    run = nnspec("check", "-", stdin=BROKEN)
    assert run.returncode == 1
    assert "<stdin>:6:5: error[E101]" in run.stdout
    assert run.stdout.endswith("<stdin>: 1 error\n")
    run = nnspec("check", "-", stdin=VALID)
    assert (run.returncode, run.stdout) == (0, "<stdin>: ok\n")
    run = nnspec("check", "--format", "json", "-", stdin=BROKEN)
    assert {r["file"] for r in json.loads(run.stdout)} == {"<stdin>"}


def test_stdin_with_files(specs):
    run = nnspec("check", "valid.nn", "-", stdin=BROKEN, cwd=specs)
    assert run.returncode == 1
    assert run.stdout.splitlines()[-1] == "checked 2 files: 1 ok, 1 with errors"


def test_undecodable_bytes_are_reported(specs):
    path = specs / "latin1.nn"
    path.write_bytes(VALID.replace("a valid spec", "caf\xe9").encode("latin-1") + b"\x00\n")
    run = nnspec("check", "latin1.nn", cwd=specs)
    assert run.returncode == 1
    assert "error[E002]" in run.stdout
    assert "Traceback" not in run.stderr


# ---- summary -----------------------------------------------------------------------------


def test_summary(specs):
    run = nnspec("summary", "valid.nn", cwd=specs)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Total params: 353" in run.stdout  # 20*16+16 + 16*1+1
    as_json = json.loads(nnspec("summary", "--format", "json", "valid.nn", cwd=specs).stdout)
    assert as_json["name"] == "tiny"


def test_summary_of_a_broken_spec_prints_diagnostics(specs):
    run = nnspec("summary", "broken.nn", cwd=specs)
    assert run.returncode == 1
    assert "error[E101]" in run.stdout


def test_summary_from_stdin():
    run = nnspec("summary", "-", stdin=VALID)
    assert run.returncode == 0
    assert "Total params: 353" in run.stdout


def test_summary_of_a_missing_file_exits_2(tmp_path):
    run = nnspec("summary", str(tmp_path / "missing.nn"))
    assert run.returncode == 2
    assert "no such file" in run.stderr


# ---- help, version, colour -----------------------------------------------------------------


def test_version():
    run = nnspec("--version")
    assert run.returncode == 0
    assert run.stdout.strip() == f"nnspec, version {__version__}"


def test_top_level_help_lists_commands_and_examples():
    run = nnspec("--help")
    assert run.returncode == 0
    assert "Examples:" in run.stdout
    for name in main.commands:
        assert re.search(rf"^\s+{name}\s", run.stdout, re.M), f"`{name}` missing from --help"


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_help_shows_examples(command):
    run = nnspec(command, "--help")
    assert run.returncode == 0
    assert "Examples:" in run.stdout, run.stdout
    examples = run.stdout.split("Examples:", 1)[1]
    assert re.search(rf"^\s+nnspec {command}\b", examples, re.M), examples


def test_codes_lists_every_code():
    from nnspec.diagnostics.codes import CODES

    run = nnspec("codes")
    assert run.returncode == 0
    assert [line.split()[0] for line in run.stdout.splitlines()] == list(CODES)


def test_codes_explains_the_codes_given():
    run = nnspec("codes", "E301", "w401")
    assert run.returncode == 0, run.stderr
    first, second = run.stdout.split("\n\nW401: ")
    assert first.startswith("E301: input shape does not fit the layer\n\n")
    assert "`nnspec check` raises E301 on this spec:\n\n    input image: (28, 28)\n" in first
    assert "\nFix: " in first and "    input image: (28, 28, 1)\n" in first
    assert second.startswith("output activation unusual for the loss\n")


def test_codes_refuses_an_unknown_code():
    run = nnspec("codes", "E301", "E3001")
    assert run.returncode == 2
    assert run.stdout == ""
    assert "unknown diagnostic code `E3001`" in run.stderr
    assert "hint: did you mean `E301`?" in run.stderr


def test_no_colour_when_not_a_terminal(specs):
    for args in (("check", "broken.nn"), ("check", "warns.nn"), ("summary", "broken.nn")):
        run = nnspec(*args, cwd=specs)
        assert not ANSI.search(run.stdout + run.stderr), args


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_colour_on_a_terminal_unless_no_color(specs):
    import pty

    def on_terminal(env: dict) -> str:
        leader, follower = pty.openpty()
        environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
        proc = subprocess.Popen(
            [sys.executable, "-m", "nnspec.cli", "check", "broken.nn"],
            stdout=follower,
            stderr=follower,
            cwd=specs,
            env=environment,
        )
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closes when the process exits
                break
            if not chunk:
                break
            chunks.append(chunk)
        proc.wait(timeout=120)
        os.close(leader)
        return b"".join(chunks).decode()

    no_color = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert ANSI.search(on_terminal({**no_color}))
    assert not ANSI.search(on_terminal({"NO_COLOR": "1"}))


# ---- no TensorFlow ------------------------------------------------------------------------


def test_check_and_summary_do_not_import_tensorflow(specs):
    """Run in a fresh interpreter, so imports made by other tests cannot interfere."""
    code = f"""
import sys
from click.testing import CliRunner
from nnspec.cli import main

runner = CliRunner()
for args in (["check", {str(specs)!r}], ["check", "--format", "json", {str(ROOT / "specs")!r}],
             ["summary", {str(specs / "valid.nn")!r}],
             ["summary", "--format", "json", {str(specs / "valid.nn")!r}]):
    result = runner.invoke(main, args, catch_exceptions=False)
    assert result.exit_code in (0, 1), (args, result.output)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
print("LOADED:", loaded)
"""
    run = python("-c", code, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "LOADED: []" in run.stdout, run.stdout


def test_public_entry_points():
    """`nnspec.compile_text` (documented in docs/architecture.md) and `python -m nnspec`."""
    import nnspec
    from nnspec.check.pipeline import compile_text

    assert nnspec.compile_text is compile_text
    assert nnspec.compile_text("model m\ninput x: (4,)\nsequential { Dense(2) }\n").ok
    run = python("-m", "nnspec", "--version")
    assert run.returncode == 0 and __version__ in run.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["run", "specs/digits_classifier.nn", "--out", "{tmp}/run"],
        ["predict", "{tmp}/model.keras", "--input", "{tmp}/samples.npy"],
        ["import", "{tmp}/model.h5", "-o", "{tmp}/model.nn"],
    ],
    ids=["run", "predict", "import-h5"],
)
def test_light_install_says_which_extra_to_install(tmp_path, args):
    """Without the `tf` extra (TensorFlow, Keras, h5py made unimportable in the child
    process), commands that need it exit 2 and say what to install; nothing is written."""
    (tmp_path / "model.keras").write_bytes(b"PK\x05\x06" + bytes(18))
    (tmp_path / "samples.npy").write_bytes(b"\x93NUMPY")
    (tmp_path / "model.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    argv = [a.format(tmp=tmp_path) for a in args]
    code = (
        "import sys\n"
        "for name in ('tensorflow', 'keras', 'h5py'):\n"
        "    sys.modules[name] = None\n"
        "from nnspec.cli import main\n"
        f"main({argv!r})\n"
    )
    run = python("-c", code, cwd=ROOT)
    assert run.returncode == 2, run.stderr
    assert "which is not installed" in run.stderr
    assert '= hint: install nnspec with TensorFlow: pip install "nnspec[tf]"' in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "run").exists() and not (tmp_path / "model.nn").exists()
