"""The DOCX as journals want it (issue 15): Word captions with SEQ fields, heading
levels, page size and margins, landscape pages for wide tables, figures that fit the
text width with alt text, a separate supplement, plain-language warnings."""
from __future__ import annotations

import pandas as pd
import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Inches

from psychometrics.report import build, load_study
from psychometrics.report.model import Column, Figure, Paragraph, Report, Section, Table
from psychometrics.report.render_docx import render_docx
from psychometrics.report.sections._common import plain_warning

from .conftest import STUDY, example_subset

ANALYSES = """\
  scoring: true
  item_distributions: {instruments: [wai]}
  descriptives: true
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("journal")
    example_subset(30).to_csv(d / "data.csv", index=False)
    (d / "study.yaml").write_text(STUDY.format(analyses=ANALYSES), encoding="utf-8")
    return build(load_study(d / "study.yaml"), output=d / "out")


def _doc(built, name="report.docx"):
    return Document(str(built.folder / name))


def _seq_fields(par) -> list[str]:
    return [el.text.strip() for el in par._p.iter(qn("w:instrText"))]


def test_captions_are_word_captions_with_seq_fields(built):
    doc = _doc(built)
    caps = [p for p in doc.paragraphs if p.style.name == "Caption"]
    tables = [p for p in caps if p.text.startswith("Table ")]
    figures = [p for p in caps if p.text.startswith("Figure ")]
    assert len(tables) == len(built.report.tables) == len(doc.tables)
    assert len(figures) == len(built.report.figures) >= 1
    for k, p in enumerate(tables, start=1):
        assert _seq_fields(p) == ["SEQ Table \\* ARABIC"]
        assert p.text.startswith(f"Table {k}\n")
    for k, p in enumerate(figures, start=1):
        assert _seq_fields(p) == ["SEQ Figure \\* ARABIC"]
    # the caption directly precedes its table in the body
    body = list(doc.element.body.iterchildren())
    for t in doc.tables:
        i = body.index(t._tbl)
        prev = body[i - 1]
        assert prev.tag == qn("w:p") and prev.find(".//" + qn("w:instrText")) is not None


def test_headings_and_a4_page(built):
    doc = _doc(built)
    for name in ("Title", "Heading 1", "Caption"):       # serif like the body, no theme font
        rfonts = doc.styles[name].element.rPr.find(qn("w:rFonts"))
        assert rfonts.get(qn("w:ascii")) == "Times New Roman"
        assert rfonts.get(qn("w:asciiTheme")) is None
    styles = {p.style.name for p in doc.paragraphs}
    assert {"Title", "Heading 1"} <= styles
    sec = doc.sections[0]
    assert abs(sec.page_width - Inches(8.27)) < Inches(0.01)
    assert abs(sec.page_height - Inches(11.69)) < Inches(0.01)
    assert sec.left_margin == sec.right_margin == Inches(1)


def test_figures_fit_and_have_alt_text(built):
    doc = _doc(built)
    text_width = doc.sections[0].page_width - 2 * Inches(1)
    assert len(doc.inline_shapes) == len(built.report.figures)
    for shape, fig in zip(doc.inline_shapes, built.report.figures, strict=True):
        assert shape.width <= text_width
        assert shape._inline.docPr.get("descr").startswith(fig.title)


def test_numbers_line_up_on_the_decimal_point(built):
    # numeric columns are right-aligned (same decimals in every cell, so the points line
    # up); decimal tab stops were tried and wrap in LibreOffice
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = _doc(built)
    for t_doc, t in zip(doc.tables, built.report.tables, strict=True):
        for j, col in enumerate(t.columns):
            cell = t_doc.rows[len(t_doc.rows) - 1].cells[j]
            want = (WD_ALIGN_PARAGRAPH.LEFT if j == 0 else WD_ALIGN_PARAGRAPH.RIGHT
                    if col.kind != "text" and col.ci is None and col.span is None
                    else WD_ALIGN_PARAGRAPH.CENTER)
            assert cell.paragraphs[0].alignment == want, (t.key, col.key)
        assert not any("\t" in c.text for row in t_doc.rows for c in row.cells)


def test_supplement_holds_reproducibility(built):
    assert (built.folder / "supplement.docx").is_file()
    assert (built.folder / "supplement.html").is_file()
    sup = _doc(built, "supplement.docx")
    text = "\n".join(p.text for p in sup.paragraphs)
    assert "Reproducibility" in text and "The study file:" in text
    main = "\n".join(p.text for p in _doc(built).paragraphs)
    assert "SHA-256" not in main and "Supplementary Material" in main
    assert "Software Versions" not in main


def _wide_report(page="A4"):
    wide = pd.DataFrame({f"c{i}": [1.2345, 22.5] for i in range(16)})
    cols = tuple(Column(f"c{i}", f"Column {i}") for i in range(16))
    narrow = Table("n", "Narrow", pd.DataFrame({"a": [1.0]}), (Column("a", "A"),))
    return Report("Wide", (Section("s", "S", (narrow, Table("w", "Wide Table", wide, cols),
                                             Paragraph("After."))),), meta={"page": page})


def test_wide_table_gets_a_landscape_section_and_letter_pages():
    import io

    doc = Document(io.BytesIO(render_docx(_wide_report())))
    orient = [s.orientation for s in doc.sections]
    assert len(doc.sections) == 3 and orient[1] != orient[0] == orient[2]
    assert doc.sections[1].page_width > doc.sections[1].page_height
    doc = Document(io.BytesIO(render_docx(_wide_report("letter"))))
    assert abs(doc.sections[0].page_width - Inches(8.5)) < Inches(0.01)


def test_study_file_page_option(tmp_path):
    (tmp_path / "data.csv").write_text(example_subset(10).to_csv(index=False), encoding="utf-8")
    (tmp_path / "s.yaml").write_text(STUDY.format(analyses="  scoring: true\n")
                                     + "page: letter\n", encoding="utf-8")
    study = load_study(tmp_path / "s.yaml")
    assert study.page == "letter"


@pytest.mark.parametrize("raw,want,absent", [
    ("DataQualityWarning: 150 item values are missing (0 rows with no item answered); they are "
     "dropped from the long-format data as psych does (na.omit).", "150 item responses were "
     "missing", "na.omit"),
    ("SingularFitWarning: Boundary (singular) fit of the crossed (id x time x items) model: the "
     "variance of ['id:items', 'time:items'] is estimated as (nearly) 0, as lme4 would report.",
     "id:items and time:items", "['"),
    ("NotPositiveDefiniteWarning: The latent covariance matrix (psi) of group 'month 1' is not "
     "positive definite (smallest eigenvalue -0.00708; involving 'task', 'bond', 'goal').",
     "group month 1", "psi"),
    ("ConvergenceWarning: Model failed to converge with 1 negative eigenvalue(s) of the deviance "
     "Hessian (model 'y ~ x + (1 | id)'); Satterthwaite df may be unreliable.",
     "the model y ~ x + (1 | id)", "Hessian"),
])
def test_warnings_in_plain_language(raw, want, absent):
    text = plain_warning(raw)
    assert want in text and absent not in text and "Warning" not in text


# ------------------------------------------------------------------ drafted text
TEXT_ANALYSES = """\
  scoring: true
  descriptives: true
  reliability: true
  cfa: true
  invariance: {instrument: wai, times: [1, 6]}
  clinical_significance: {scale: oq.total, norms: us}
"""


@pytest.fixture(scope="module")
def built_text(tmp_path_factory):
    d = tmp_path_factory.mktemp("text")
    example_subset(80).to_csv(d / "data.csv", index=False)
    (d / "study.yaml").write_text(STUDY.format(analyses=TEXT_ANALYSES), encoding="utf-8")
    return build(load_study(d / "study.yaml"), output=d / "out")


_NUM = r"[\u2212-]?\d*\.?\d+"


def _numbers(text: str) -> list[str]:
    import re

    return re.findall(_NUM, text)


def test_methods_and_results_for_every_section_that_ran(built_text):
    drafted = {"reliability", "cfa", "descriptives", "invariance", "clinical", "scoring"}
    secs = {s.key: s for s in built_text.report.sections}
    for key in drafted:
        sec = secs[key]
        assert sec.error is None, (key, sec.error)
        kinds = [b.text.split()[0] for b in sec.blocks if getattr(b, "kind", "") == "draft"]
        assert kinds == ["*Method.*", "*Results.*"], key


def test_numbers_in_the_results_text_are_table_cells(built_text):
    import re

    for sec in built_text.report.sections:
        res = [b.text for b in sec.blocks if getattr(b, "kind", "") == "draft"
               and b.text.startswith("*Results.*")]
        if not res:
            continue
        allowed = set()
        for t in sec.tables:
            texts = [c for row in t.cells() for c in row] + t.headers
            if t.group_by is not None:
                texts += [str(v) for v in t.data[t.group_by]]
            for text in texts:
                allowed.update(_numbers(text))
        text = re.sub(r"\*[^*]+\*", " ", res[0])          # italic symbols (M, SD, n, p)
        text = text.replace("\u03c7\u00b2", "chi").replace("\u03c9_{t}", "omega")
        missing = [n for n in _numbers(text) if n not in allowed]
        assert not missing, (sec.key, missing, res[0][:300])


def test_drafts_are_marked_as_drafts(built_text):
    html = (built_text.folder / "report.html").read_text(encoding="utf-8")
    assert "drafted by the software" in html and 'class="draft"' in html
    main = "\n".join(p.text for p in _doc(built_text).paragraphs)
    assert "drafted by the software" in main
