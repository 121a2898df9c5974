"""`nnspec check --format sarif`: one SARIF 2.1.0 log for GitHub code scanning.

No package bundles the SARIF schema for offline use, so the properties the
2.1.0 schema requires, and those GitHub reads, are checked one by one."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest
from helpers import nnspec as run_nnspec

from nnspec.diagnostics.codes import CODES

BROKEN = """\
model broken
input features: (20,)
sequential {
    Dens(16, activation=relu)
    Dense(1, activation=sigmoid)
}
"""
WARNS = """\
model warns
input pixels: (64,)
sequential { Dense(10, activation=softmax) }
compile { loss: sparse_categorical_crossentropy, optimizer: adam }
fit { epochs: 5 }
"""
VALID = "input x: (4,)\nsequential { Dense(1) }\n"


def nnspec(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_nnspec(*args, cwd=cwd)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "models" / "sub dir").mkdir(parents=True)
    (tmp_path / "models" / "broken.nn").write_text(BROKEN)
    (tmp_path / "models" / "sub dir" / "warns.nn").write_text(WARNS)
    (tmp_path / "valid.nn").write_text(VALID)
    return tmp_path


def sarif(tree: Path, *paths: str) -> tuple[dict, int]:
    run = nnspec("check", "--format", "sarif", *paths, cwd=tree)
    return json.loads(run.stdout), run.returncode  # nothing but the log on stdout


def test_log_structure(tree):
    log, code = sarif(tree, "models", "valid.nn")
    assert code == 1  # as with the other formats: errors exit 1
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "nnspec" and driver["version"]
    rules = driver["rules"]
    assert [r["id"] for r in rules] == list(CODES)
    for rule in rules:
        assert rule["shortDescription"]["text"] == CODES[rule["id"]]
        expected = "warning" if rule["id"].startswith("W") else "error"
        assert rule["defaultConfiguration"]["level"] == expected
    assert run["columnKind"] == "unicodeCodePoints"
    assert {r["ruleId"] for r in run["results"]} == {"E101", "W501"}
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning")
        assert result["message"]["text"]
        [location] = result["locations"]
        physical = location["physicalLocation"]
        uri = physical["artifactLocation"]["uri"]
        assert "://" not in uri and not uri.startswith("/"), "artifact URIs are relative"
        assert physical["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert (tree / unquote(uri)).is_file()
        region = physical["region"]
        assert all(isinstance(region[k], int) and region[k] >= 1 for k in region)
        assert (region["endLine"], region["endColumn"]) >= (
            region["startLine"],
            region["startColumn"],
        )


def test_results_match_json_format(tree):
    log, _ = sarif(tree, "models", "valid.nn")
    records = json.loads(nnspec("check", "--format", "json", "models", "valid.nn", cwd=tree).stdout)
    results = log["runs"][0]["results"]
    assert len(results) == len(records) == 2
    for result, record in zip(results, records):
        physical = result["locations"][0]["physicalLocation"]
        region = physical["region"]
        assert unquote(physical["artifactLocation"]["uri"]) == Path(record["file"]).as_posix()
        assert (region["startLine"], region["startColumn"]) == (record["line"], record["column"])
        assert (region["endLine"], region["endColumn"]) == (
            record["end_line"],
            record["end_column"],
        )
        assert result["ruleId"] == record["code"]
        assert result["level"] == record["severity"]
        hints = "".join(f"\nhint: {h}" for h in record["hints"])
        assert result["message"]["text"] == record["message"] + hints
    e101 = results[0]
    assert e101["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "models/broken.nn"
    )
    assert e101["message"]["text"] == "unknown layer type `Dens`\nhint: did you mean `Dense`?"
    assert results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "models/sub%20dir/warns.nn"
    )


def test_absolute_paths_become_relative(tree):
    log, _ = sarif(tree, str(tree / "models" / "broken.nn"))
    [result] = log["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "models/broken.nn"


def test_clean_run_has_no_results(tree):
    log, code = sarif(tree, "valid.nn")
    assert code == 0
    assert log["runs"][0]["results"] == []
