"""The `psychometrics instruments` command group."""
from __future__ import annotations

from pathlib import Path

from psychometrics.cli import main

BANKS = Path(__file__).parent / "banks"


def test_list(capsys):
    assert main(["instruments", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("wai-sr", "wai-s", "oq-45.2", "pear"):
        assert name in out
    assert "(provisional)" in out


def test_show_marks_unverified_facts(capsys):
    assert main(["instruments", "show", "oq-45.2"]) == 0
    out = capsys.readouterr().out
    assert "sd - Symptom Distress (sum, 0-100)  [unverified]" in out
    assert "reverse-keyed: oq_1, oq_20, oq_37, oq_43" in out
    assert "total: cut-off 64, RCI 14" in out


def test_validate_ok_and_broken(capsys):
    assert main(["instruments", "validate", str(BANKS / "valid_minimal.yaml")]) == 0
    assert "valid bank 'mini'" in capsys.readouterr().out
    assert main(["instruments", "validate", str(BANKS / "broken_several_problems.yaml")]) == 2
    err = capsys.readouterr().err
    assert "has 3 problems" in err and "line 21, scales.a.revers" in err
