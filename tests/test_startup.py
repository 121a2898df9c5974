"""Start-up and process-wide state: what each command imports, the parser cache,
the garbage collector, the layer registry.

Timings vary with the machine; the set of imported modules does not, so the
start-up budget is guarded here by imports (bench/compile_speed.py measures it).
"""

from __future__ import annotations

import gc
import importlib
import pkgutil

from click.testing import CliRunner
from helpers import ROOT, python

import nnspec.vocab.layers
from nnspec.check.pipeline import compile_text
from nnspec.cli import main
from nnspec.vocab.layers import LAYERS, layer_types

SPEC = ROOT / "specs" / "mnist_cnn.nn"
HEAVY = ("tensorflow", "keras", "jinja2", "black", "pygls", "lsprotocol")


def imported(*args: str, env: dict[str, str] | None = None) -> set[str]:
    """The modules `python -m nnspec ARGS` imports (from -X importtime)."""
    run = python("-X", "importtime", "-m", "nnspec", *args, env=env)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("import time:")]
    return {line.rsplit("|", 1)[1].strip() for line in lines[1:]}


def test_check_imports_neither_tensorflow_nor_templates_nor_the_server(tmp_path):
    modules = imported("check", str(SPEC), env={"XDG_CACHE_HOME": str(tmp_path)})
    assert "nnspec.check.pipeline" in modules
    assert not {m for m in modules if m.split(".")[0] in HEAVY}


def test_commands_that_do_not_compile_do_not_import_the_compiler():
    for args in (["codes"], ["codes", "E301"], ["--help"], ["check", "--help"]):
        modules = imported(*args)
        assert not {m for m in modules if m.startswith(("lark", "nnspec.check"))}, args


def test_the_parser_is_cached_per_user_and_survives_a_bad_cache(tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    for _ in range(2):
        run = python("-m", "nnspec", "check", str(SPEC), env=env)
        assert (run.returncode, run.stderr) == (0, "")
    (cached,) = (tmp_path / "nnspec").iterdir()
    cached.write_bytes(cached.read_bytes()[:1000])  # as a racing writer leaves it
    assert python("-m", "nnspec", "check", str(SPEC), env=env).returncode == 0
    cached.unlink()
    cached.mkdir()  # a cache that can be neither read nor written
    assert python("-m", "nnspec", "check", str(SPEC), env=env).returncode == 0
    (tmp_path / "file").write_text("")
    run = python("-m", "nnspec", "check", str(SPEC), env={"XDG_CACHE_HOME": str(tmp_path / "file")})
    assert (run.returncode, run.stderr) == (0, "")


def test_compiling_leaves_the_garbage_collector_running():
    collections = []
    record = lambda phase, info: collections.append(phase)  # noqa: E731
    text = "model m\ninput x: (8,)\nsequential {\n" + "    Dense(8)\n" * 2000 + "}\n"
    gc.callbacks.append(record)
    try:
        assert compile_text(text).ok
    finally:
        gc.callbacks.remove(record)
    assert gc.isenabled() and collections


def test_the_command_line_turns_the_collector_back_on():
    for args in (["check", str(SPEC)], ["check", "no-such.nn"], ["summary", str(SPEC)]):
        CliRunner().invoke(main, args)
        assert gc.isenabled(), args


def test_the_registry_lists_every_layer_module():
    path = nnspec.vocab.layers.__path__
    modules = [
        importlib.import_module(f"nnspec.vocab.layers.{m.name}") for m in pkgutil.iter_modules(path)
    ]
    listed = [t.name for m in modules for t in getattr(m, "LAYER_TYPES", ())]
    assert sorted(listed) == sorted(t.name for t in layer_types())
    assert all(LAYERS[t.name] is t for t in layer_types())
