"""Bank and study files: alias bombs, tags, deep nesting and encodings give the
package's own errors at once (issue 12, holes 1 and 4)."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from psychometrics.exceptions import BankValidationError, StudyFileError
from psychometrics.instruments import load_instrument, parse_bank
from psychometrics.instruments.loader import MAX_ALIAS_EXPANSION
from psychometrics.report import load_study, parse_study

SHIPPED_WITH_ALIASES = Path(__file__).resolve().parents[2] / "instruments" / "wai-sr.yaml"


def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("parse, error", [(parse_bank, BankValidationError),
                                          (parse_study, StudyFileError)])
def test_alias_bomb_is_refused_at_once(parse, error):
    t0 = time.perf_counter()
    with pytest.raises(error) as info:
        parse(billion_laughs())
    # generous bound (CI machines are shared); a bomb that expanded would take minutes
    assert time.perf_counter() - t0 < 5
    msg = str(info.value)
    assert "alias bomb" in msg and f"{MAX_ALIAS_EXPANSION:,}" in msg


def test_modest_aliases_still_load():
    # the shipped WAI-SR bank shares its missing-data rule through an anchor
    assert "&wai_missing" in SHIPPED_WITH_ALIASES.read_text(encoding="utf-8")
    inst = load_instrument(SHIPPED_WITH_ALIASES)
    assert len(inst.scales) >= 3


@pytest.mark.parametrize("text, words, line", [
    ("id: x\nname: !!python/object:os.system {}\n", "'!!python/object:os.system' is not allowed", 2),
    ("id: x\nitems: &a [*a]\n", "recursive anchor", 2),
    ("id: x\nb: 2024-13-45\n", "cannot be read", 2),
    ("id: x\n---\nid: y\n", "more than one YAML document", 2),
    ("id: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than", 1),
])
def test_bad_yaml_constructs_are_named(text, words, line):
    with pytest.raises(BankValidationError) as info:
        parse_bank(text)
    hits = [i for i in info.value.issues if words in i.message]
    assert hits, str(info.value)
    assert hits[0].line == line


def test_latin1_bank_names_line_and_fix(tmp_path):
    path = tmp_path / "bank.yaml"
    path.write_bytes("id: x\nname: Fragebogen f\u00fcr Therapie\n".encode("latin-1"))
    with pytest.raises(BankValidationError) as info:
        load_instrument(path)
    (issue,) = info.value.issues
    assert issue.line == 2
    assert "not UTF-8" in issue.message and "0xfc" in issue.message
    assert "Save the file as UTF-8" in issue.message


def test_latin1_study_file_names_line(tmp_path):
    path = tmp_path / "study.yaml"
    path.write_bytes("name: x\ntitle: \u00c9tude\n".encode("latin-1"))
    with pytest.raises(StudyFileError) as info:
        load_study(path)
    assert info.value.issues[0].line == 2
    assert "not UTF-8" in str(info.value)


def test_utf8_with_bom_is_read(tmp_path):
    text = SHIPPED_WITH_ALIASES.read_text(encoding="utf-8")
    path = tmp_path / "bank.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert load_instrument(path).id == load_instrument(SHIPPED_WITH_ALIASES).id
