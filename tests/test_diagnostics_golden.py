"""Golden tests of diagnostics: every tests/invalid/*.nn against its .expected file.

Each invalid spec is a realistic mistake named after the code it must raise,
`E101_unknown_layer.nn`; beside it `E101_unknown_layer.expected` holds exactly
what `nnspec check --format text E101_unknown_layer.nn` prints (run from
tests/invalid/, no colour). Regenerate the golden files after a deliberate
change of wording with

    pytest tests/test_diagnostics_golden.py --update-goldens

and review the diff. A spec whose first lines say `# requires: Add` is skipped
while the named layer types are not registered yet.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from nnspec.check.pipeline import compile_text
from nnspec.cli import main
from nnspec.diagnostics.codes import CODES
from nnspec.diagnostics.formats import render_text
from nnspec.vocab.layers import LAYERS

INVALID = Path(__file__).parent / "invalid"
SPECS = sorted(INVALID.glob("*.nn"))
NAME = re.compile(r"^(?P<code>[EW]\d{3})_[a-z0-9_]+\.nn$")

# Codes whose coverage comes from a named test in this file rather than (only)
# from a spec file, e.g. input that would be silly to keep as a file.
NAMED_TESTS = {
    "E003": "test_e003_generated_deep_nesting",
    "E601": "test_e601_sequential_api_for_a_graph",
}


def _code(spec: Path) -> str:
    match = NAME.match(spec.name)
    assert match, f"{spec.name}: name it like `E101_unknown_layer.nn`"
    return match["code"]


def _requirements(spec: Path) -> list[str]:
    needed = []
    for line in spec.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        if line.startswith("# requires:"):
            needed += [n.strip() for n in line.split(":", 1)[1].split(",") if n.strip()]
    return needed


def _skip_unless_registered(spec: Path) -> None:
    missing = [n for n in _requirements(spec) if n not in LAYERS]
    if missing:
        pytest.skip(f"{spec.name} needs layer types not registered yet: {', '.join(missing)}")


def _check(spec: Path, monkeypatch, *options: str):
    """Run `nnspec check OPTIONS NAME` in-process from tests/invalid/."""
    monkeypatch.chdir(INVALID)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return CliRunner().invoke(main, ["check", *options, spec.name], catch_exceptions=False)


@pytest.fixture(params=SPECS, ids=[s.stem for s in SPECS])
def spec(request) -> Path:
    _skip_unless_registered(request.param)
    return request.param


def test_there_are_invalid_specs():
    assert len(SPECS) >= 40


def test_golden_output(spec: Path, monkeypatch, update_goldens: bool):
    result = _check(spec, monkeypatch)
    golden = spec.with_suffix(".expected")
    if update_goldens:
        golden.write_bytes(result.stdout_bytes)
    assert golden.exists(), f"no golden file {golden.name}; run pytest with --update-goldens"
    expected = golden.read_bytes()
    assert result.stdout_bytes == expected, f"{spec.name}: output differs from {golden.name}"
    assert "Traceback" not in result.output
    assert "\x1b[" not in result.output, "no colour when stdout is not a terminal"


def test_output_names_the_code(spec: Path, monkeypatch):
    code = _code(spec)
    result = _check(spec, monkeypatch)
    severity = "warning" if code.startswith("W") else "error"
    assert f"{severity}[{code}]" in result.stdout
    assert "[E900]" not in result.stdout, "internal error on an invalid spec"
    lines = result.stdout.splitlines()
    assert lines[-1].startswith(f"{spec.name}: "), "the verdict line comes last"


def test_exit_code(spec: Path, monkeypatch):
    code = _code(spec)
    plain = _check(spec, monkeypatch)
    strict = _check(spec, monkeypatch, "--strict")
    if code.startswith("W"):
        assert "error[" not in plain.stdout, "a warning spec must raise warnings only"
        assert plain.exit_code == 0, plain.stdout
        assert strict.exit_code == 1, strict.stdout
    else:
        assert plain.exit_code == 1, plain.stdout
        assert strict.exit_code == 1, strict.stdout


def test_json_and_gcc_agree_with_text(spec: Path, monkeypatch):
    """The three formats report the same diagnostics, in the same order."""
    text = _check(spec, monkeypatch).stdout
    shown = re.findall(
        rf"^{re.escape(spec.name)}:(\d+):(\d+): (error|warning)\[(\w+)\]", text, re.M
    )
    records = json.loads(_check(spec, monkeypatch, "--format", "json").stdout)
    assert [(str(r["line"]), str(r["column"]), r["severity"], r["code"]) for r in records] == shown
    assert {r["file"] for r in records} == {spec.name}
    gcc = _check(spec, monkeypatch, "--format", "gcc").stdout.splitlines()
    notes = [line for line in gcc if re.match(rf"^{re.escape(spec.name)}:\d+:\d+: note: ", line)]
    assert [
        re.match(
            rf"^{re.escape(spec.name)}:(\d+):(\d+): (error|warning): .* \[(\w+)\]$", line
        ).groups()
        for line in gcc
        if line not in notes
    ] == shown
    related = [r for record in records for r in record.get("related", [])]
    assert [
        f"{spec.name}:{r['line']}:{r['column']}: note: {r['message']}" for r in related
    ] == notes
    assert len(re.findall(r"^ += note: ", text, re.M)) == len(notes)


def test_every_code_is_covered():
    by_file = {_code(spec) for spec in SPECS}
    by_test = {code for code, test in NAMED_TESTS.items() if callable(globals().get(test))}
    missing = sorted(set(CODES) - {"E900"} - by_file - by_test)
    assert not missing, f"codes without an invalid spec or a named test: {missing}"


def test_spec_names_use_known_codes():
    unknown = sorted({_code(spec) for spec in SPECS} - set(CODES))
    assert not unknown, f"invalid specs named after codes that do not exist: {unknown}"
    assert "E900" not in {_code(spec) for spec in SPECS}


def test_one_dimension_shapes_keep_their_comma():
    """Messages and hints print a shape of one dimension as `(4,)`, never `(4)`."""
    one_dimension = re.compile(r"(?<![\w)])\((None|-?\d+)\)")
    for golden in sorted(INVALID.glob("*.expected")):
        for line in golden.read_text(encoding="utf-8").splitlines():
            if re.match(r"^\s*\d* \|", line):
                continue  # the spec's own text, quoted
            assert not one_dimension.search(line), f"{golden.name}: {line}"


def test_every_golden_file_has_a_spec():
    orphans = sorted(
        g.name for g in INVALID.glob("*.expected") if not g.with_suffix(".nn").exists()
    )
    assert not orphans, f"golden files without a spec: {orphans}"


def test_e601_sequential_api_for_a_graph():
    """`gen --api sequential` on a graph: E601 at the edge that makes it one."""
    from nnspec.keras.codegen import render_script
    from nnspec.keras.emitters import GenError

    text = "input x: (4,)\ngraph {\n    a = Dense(2)\n    b = Dense(2)\n    x -> a\n    x -> b\n}\noutput a, b\n"
    with pytest.raises(GenError) as err:
        render_script(compile_text(text).model, "g.nn", "sequential")
    (diagnostic,) = err.value.diagnostics
    assert diagnostic.code == "E601" and "2 outputs" in diagnostic.message
    assert render_text("g.nn", [diagnostic], text).startswith("g.nn:8:11: error[E601]")


def test_e003_generated_deep_nesting():
    """E003 for nesting far past the limit: brackets of every kind, closed or not."""
    for text in (
        "input x: " + "(" * 10_000 + "20," + ")" * 10_000,
        "sequential {\n" + "[" * 5_000 + "]" * 5_000 + "\n}",
        "compile { loss: " + "{a: " * 3_000 + "mse" + "}" * 3_000 + " }",
    ):
        result = compile_text(text)
        assert [d.code for d in result.diagnostics] == ["E003"], text[:40]
        assert result.diagnostics[0].span.line >= 1
