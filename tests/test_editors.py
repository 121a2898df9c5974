"""The VS Code extension's files: valid JSON, wired together, and the TextMate
grammar's keywords exactly the Lark grammar's keywords."""

from __future__ import annotations

import json
import re

from helpers import ROOT
from lark.lexer import PatternStr

from nnspec.cli import main
from nnspec.syntax.parser import lark_parser

VSCODE = ROOT / "editors" / "vscode"


def load(name: str) -> dict:
    return json.loads((VSCODE / name).read_text())


def grammar_keywords() -> set[str]:
    """The words the Lark grammar reserves: its string terminals made of letters."""
    return {
        t.pattern.value
        for t in lark_parser().terminals
        if isinstance(t.pattern, PatternStr) and t.pattern.value.isalpha()
    }


def textmate_words(rule: dict) -> set[str]:
    """The alternatives of a `\\b(?:a|b|c)\\b` rule."""
    [alternatives] = re.fullmatch(r"\\b\(\?:([\w|]+)\)\\b", rule["match"]).groups()
    return set(alternatives.split("|"))


def test_textmate_keywords_are_the_grammar_keywords():
    repository = load("syntaxes/nnspec.tmLanguage.json")["repository"]
    keywords = textmate_words(repository["keyword"])
    logical = textmate_words(repository["logical"])
    constants = textmate_words(repository["constant"])
    assert not keywords & constants and not keywords & logical and not logical & constants
    assert keywords | logical | constants == grammar_keywords()
    assert constants == {"true", "True", "false", "False", "None"}
    assert logical == {"and", "or", "not"}
    assert {"param", "block", "for", "in", "if", "else"} <= keywords


def grammar_operators() -> set[str]:
    """Every operator the Lark grammar lexes: `->`, `=` and each alternative of its
    operator terminals (`+`, `//`, `<=`...)."""
    found = {"->", "="}
    for t in lark_parser().terminals:
        if t.name in ("ADD_OP", "MUL_OP", "COMPARE"):
            inner = t.pattern.value.removeprefix("(?:").removesuffix(")")
            found |= {alt.replace("\\", "") for alt in inner.split("|")}
    return found


def test_textmate_operators_cover_the_grammar_operators():
    """Each operator is one token of an operator rule, tried in the rule's order (so
    `//` is not two `/`, nor `<=` a `<` and an `=`)."""
    rules = load("syntaxes/nnspec.tmLanguage.json")["repository"]["operator"]["patterns"]
    operators = grammar_operators()
    assert {"+", "-", "*", "/", "//", "%", "==", "!=", "<=", ">=", "<", ">"} <= operators
    for op in operators:
        first = next(m for r in rules if (m := re.match(r["match"], op)))
        assert first.group() == op, op


def test_textmate_templates_in_quoted_names():
    tm = load("syntaxes/nnspec.tmLanguage.json")
    template = re.compile(tm["repository"]["template"]["match"])
    assert [m.group(2) for m in template.finditer('"conv{n}_block{i + 1}"')] == ["n", "i + 1"]
    for string in tm["repository"]["string"]["patterns"]:
        assert {"include": "#template"} in string["patterns"]


def includes(rule) -> set[str]:
    """The repository rules `rule` includes, at any depth."""
    found = set()
    if isinstance(rule, dict):
        if "include" in rule:
            found.add(rule["include"].lstrip("#"))
        for value in rule.values():
            found |= includes(value)
    elif isinstance(rule, list):
        for item in rule:
            found |= includes(item)
    return found


def test_textmate_patterns_compile_and_are_all_used():
    tm = load("syntaxes/nnspec.tmLanguage.json")
    assert tm["scopeName"] == "source.nnspec"
    assert includes(tm["patterns"]) | includes(tm["repository"]) == set(tm["repository"])

    def regexes(rule: dict):
        for key in ("match", "begin", "end"):
            if key in rule:
                yield rule[key]
        for inner in rule.get("patterns", []):
            yield from regexes(inner)

    for rule in tm["repository"].values():
        for regex in regexes(rule):
            re.compile(regex)  # these patterns use nothing Oniguruma has and Python lacks


def test_package_json_wires_the_language():
    package = load("package.json")
    [language] = package["contributes"]["languages"]
    [grammar] = package["contributes"]["grammars"]
    assert language["extensions"] == [".nn"]
    assert grammar["language"] == language["id"] == "nnspec"
    assert grammar["scopeName"] == load(grammar["path"])["scopeName"]
    assert (VSCODE / language["configuration"]).is_file()
    assert (VSCODE / package["main"]).is_file()
    assert "vscode-languageclient" in package["dependencies"]
    command = package["contributes"]["configuration"]["properties"]["nnspec.server.command"]
    assert command["default"] == ["nnspec", "lsp"]


def test_language_configuration():
    config = load("language-configuration.json")
    assert config["comments"]["lineComment"] == "#"
    assert sorted(map(tuple, config["brackets"])) == [("(", ")"), ("[", "]"), ("{", "}")]


def test_pre_commit_hooks_run_nnspec_commands():
    """Each hook of .pre-commit-hooks.yaml runs an existing `nnspec` command on .nn files."""
    manifest = (ROOT / ".pre-commit-hooks.yaml").read_text()
    hooks = re.findall(r"^- id: (\S+)\n((?:  .*\n)+)", manifest, re.MULTILINE)
    assert [hook_id for hook_id, _ in hooks] == ["nnspec-check", "nnspec-fmt"]
    for hook_id, body in hooks:
        fields = dict(re.findall(r"^  (\w+): (.*)$", body, re.MULTILINE))
        program, command = fields["entry"].split()
        assert program == "nnspec" and command in main.commands, hook_id
        assert fields["language"] == "python"
        assert fields["files"] == r"\.nn$"
