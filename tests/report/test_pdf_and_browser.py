"""The report in the real programs a reader uses: the DOCX converted to PDF by
LibreOffice (headless) and read back with pdftotext, and the HTML opened in headless
Chromium (no console errors, every image decodes, every table has rows).

These need Debian's libreoffice-writer-nogui, poppler-utils and chromium; `.ci/run`
installs them. They fail, not skip, when the programs are missing.
"""
from __future__ import annotations

import shutil
import subprocess

import pytest

from psychometrics.report import build, load_study
from psychometrics.report.pdf import docx_to_pdf

from . import browser_check
from .conftest import STUDY, example_subset

ANALYSES = """\
  scoring: true
  item_distributions: {instruments: [wai]}
  descriptives: true
  reliability: true
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("pdf")
    example_subset(30).to_csv(d / "data.csv", index=False)
    (d / "study.yaml").write_text(STUDY.format(analyses=ANALYSES), encoding="utf-8")
    return build(load_study(d / "study.yaml"), output=d / "out")


def test_docx_converts_to_pdf_with_every_caption(built):
    assert shutil.which("pdftotext"), "pdftotext missing: apt-get install poppler-utils"
    pdf = docx_to_pdf(built.folder / "report.docx")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert text.count("\f") >= 2                                # pages
    for k, t in enumerate(built.report.tables, start=1):
        assert f"Table {k}" in text                             # SEQ field results rendered
    for k, _ in enumerate(built.report.figures, start=1):
        assert f"Figure {k}" in text
    assert built.report.title in text


def test_missing_libreoffice_is_a_clear_error(built, monkeypatch):
    from psychometrics.exceptions import PsychometricsError
    from psychometrics.report import pdf as pdf_mod

    monkeypatch.setattr(pdf_mod.shutil, "which", lambda name: None)
    with pytest.raises(PsychometricsError, match="libreoffice-writer-nogui"):
        pdf_mod.docx_to_pdf(built.folder / "report.docx")


def test_html_in_headless_chromium(built, tmp_path, capsys):
    shot = tmp_path / "shot.png"
    for page in ("report.html", "supplement.html"):
        status = browser_check.main([str(built.folder / page), "--screenshot", str(shot),
                                     "--height", "3000"])
        out = capsys.readouterr().out
        assert status == 0, out
        assert shot.stat().st_size > 10_000
