"""Every exported LaTeX table compiles with pdflatex (Debian's texlive-latex-base and
texlive-latex-recommended, installed by `.ci/run`): broken LaTeX is caught here."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from psychometrics.report import build, load_study

from .conftest import STUDY, example_subset

ANALYSES = """\
  scoring: true
  item_distributions: {instruments: [wai]}
  descriptives: true
  reliability: true
  cfa: {instruments: [wai, pear]}
  invariance: {instrument: wai, times: [1, 6]}
  progress: {outcome: oq.total, predictors: [wai.total, pear.total]}
  clinical_significance: {scale: oq.total, norms: us}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("latex")
    example_subset(60).to_csv(d / "data.csv", index=False)
    (d / "study.yaml").write_text(STUDY.format(analyses=ANALYSES), encoding="utf-8")
    return build(load_study(d / "study.yaml"), output=d / "out")


def test_every_table_compiles_with_pdflatex(built, tmp_path):
    pdflatex = shutil.which("pdflatex")
    assert pdflatex, "pdflatex missing: apt-get install texlive-latex-base texlive-latex-recommended"
    tex = sorted((built.folder / "tables").glob("*.tex"))
    assert len(tex) == len(built.report.tables) >= 8
    body = "\n".join(p.read_text(encoding="utf-8") for p in tex)
    doc = ("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage[utf8]{inputenc}\n"
           "\\usepackage{booktabs,caption}\n\\usepackage[margin=1in,landscape]{geometry}\n"
           "\\begin{document}\n" + body + "\n\\end{document}\n")
    (tmp_path / "tables.tex").write_text(doc, encoding="utf-8")
    r = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "tables.tex"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120)
    errors = [ln for ln in r.stdout.splitlines() if ln.startswith("!")]
    assert r.returncode == 0 and not errors, "\n".join(errors + r.stdout.splitlines()[-30:])
    assert (tmp_path / "tables.pdf").stat().st_size > 1000
