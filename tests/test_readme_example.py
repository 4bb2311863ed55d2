"""The README's first Python example runs as written on the shipped example data."""
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _first_python_block() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README.md has no ```python block"
    return blocks[0]


def test_readme_python_example_runs(monkeypatch):
    code = _first_python_block()
    assert "multilevel.progress(" in code
    monkeypatch.chdir(ROOT)           # the example reads examples/therapy_example.csv
    ns: dict = {}
    exec(compile(code, "README.md", "exec"), ns)
    totals = ns["totals"]
    # the columns the progress call relies on
    for c in ("patient_id", "month", "wai", "pear", "oq_total"):
        assert c in totals.columns, c
    assert len(totals) == 1722


def test_readme_cli_list_matches_parser():
    from psychometrics.cli import build_parser
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    para = text[text.index("Command line (`psychometrics --help`)"):]
    para = para[:para.index("\n\n")]
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name in sub.choices:
        assert f"`{name}" in para, f"README's command list omits {name!r}"
