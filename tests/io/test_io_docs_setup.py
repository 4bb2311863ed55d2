"""Issue 12, hole 9: the docs and benchmarks carry no notes meant for the developers and
no path to one machine's virtual environment; the generated example report is kept out of
version control (its floats are not byte-reproducible across BLAS builds)."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEXT = [p for d in ("docs", "benchmarks", "examples") for p in sorted((ROOT / d).rglob("*"))
        if p.suffix in (".md", ".py", ".yaml", ".txt")] + [ROOT / "README.md"]


@pytest.mark.parametrize("path", TEXT, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_machine_paths_or_notes_for_the_lead(path):
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"/[\w./-]*venv/bin/python", text), "absolute virtual-env path"
    assert "COMMAND_MODULES" not in text
    # notes such as "the lead adds ... to COMMAND_MODULES", "pyproject.toml is the lead's"
    # (not the lead/lag of a variable)
    assert not re.search(r"\bthe lead (adds|engineer|merges|will)\b|\bthe lead's\b", text,
                         re.IGNORECASE), "developer note"


def test_generated_example_report_is_not_tracked():
    ignore = (ROOT / ".gitignore").read_text(encoding="utf-8")
    assert re.search(r"^validation_reports/?$", ignore, re.MULTILINE)
    try:
        tracked = subprocess.run(["git", "ls-files", "validation_reports"], cwd=ROOT,
                                 capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        pytest.skip("git is not available")
    assert tracked.strip() == ""
