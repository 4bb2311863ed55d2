"""Rendering and exports: HTML, DOCX (read back), CSV, LaTeX, figures, manifest,
and a failing section that says why it is missing."""
import hashlib
import json

import pytest
from docx import Document

from psychometrics.exceptions import EstimationError
from psychometrics.report import build, load_study
from psychometrics.report import run as runmod
from psychometrics.report.model import Table

from .conftest import STUDY, example_subset

ANALYSES = """\
  scoring: true
  item_distributions: {instruments: [wai, pear]}
  descriptives: true
  efa: {instruments: [wai]}
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    example_subset(30).to_csv(d / "data.csv", index=False)
    (d / "study.yaml").write_text(STUDY.format(analyses=ANALYSES), encoding="utf-8")
    mp = pytest.MonkeyPatch()

    def broken_efa(ctx):
        raise EstimationError("the factor solution did not converge in 0 iterations.")

    # the steps hold the analysis functions themselves: replace the efa step's function
    mp.setattr(runmod, "STEPS", tuple((n, t, broken_efa if n == "efa" else f, e)
                                      for n, t, f, e in runmod.STEPS))
    try:
        out = build(load_study(d / "study.yaml"), output=d / "out")
    finally:
        mp.undo()
    return out


def _docx_tables(path):
    doc = Document(str(path))
    return doc, [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]


def test_outputs_exist(built):
    f = built.folder
    assert (f / "report.html").is_file() and (f / "report.docx").is_file()
    assert (f / "manifest.json").is_file()
    n_tab = len(built.report.tables)
    assert n_tab >= 4
    assert len(list((f / "tables").glob("*.tex"))) == n_tab
    assert len(list((f / "tables").glob("*_values.csv"))) == n_tab
    assert len(list((f / "figures").glob("*.png"))) == len(built.report.figures) >= 2
    assert len(list((f / "figures").glob("*.svg"))) == len(built.report.figures)


def test_docx_reads_back_with_every_table(built):
    doc, tables = _docx_tables(built.folder / "report.docx")
    assert len(tables) == len(built.report.tables)
    for t, rows in zip(built.report.tables, tables, strict=True):
        assert rows[0] == t.headers
        body = [r for r in rows[1:] if len(set(r)) > 1 or len(r) == 1]  # group rows are merged
        assert body == t.cells()
    text = "\n".join(p.text for p in doc.paragraphs)
    for k, t in enumerate(built.report.tables, start=1):
        assert f"Table {k}" in text and t.title in text


def test_docx_tables_are_apa(built):
    from docx.oxml.ns import qn

    doc = Document(str(built.folder / "report.docx"))
    for t in doc.tables:
        borders = t._tbl.tblPr.find(qn("w:tblBorders"))
        vals = {el.tag.split("}")[1]: el.get(qn("w:val")) for el in borders}
        assert vals["insideV"] == "nil" and vals["left"] == "nil" and vals["right"] == "nil"
        assert vals["top"] == "single" and vals["bottom"] == "single"
        header_cell = t.rows[0].cells[0]._tc.tcPr.find(qn("w:tcBorders"))
        assert header_cell.find(qn("w:bottom")).get(qn("w:val")) == "single"
    # "Table N" in bold, a line break, the title in italics: one Word caption paragraph
    cap = next(p for p in doc.paragraphs if p.text.startswith("Table 1\n"))
    runs = [r for r in cap.runs if r.text.strip()]
    assert runs[0].bold and runs[1].bold                  # "Table ", "1" (the field result)
    assert all(r.italic for r in runs[2:]) and "".join(r.text for r in runs[2:]) == \
        built.report.tables[0].title


def test_html_is_self_contained_and_has_tables(built):
    html = (built.folder / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert html.count('<table class="apa">') == len(built.report.tables)
    assert html.count("data:image/svg+xml;base64,") == len(built.report.figures)
    for t in built.report.tables:
        for cell in t.cells()[0]:
            assert f">{cell}<" in html.replace("&lt;", "<")


def test_failing_section_renders_its_reason(built):
    (sec,) = [s for s in built.report.sections if s.key == "efa"]
    assert sec.error is not None and "did not converge in 0 iterations" in sec.error
    assert "EstimationError" in sec.error
    html = (built.folder / "report.html").read_text(encoding="utf-8")
    assert "did not converge in 0 iterations" in html
    doc = Document(str(built.folder / "report.docx"))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Exploratory Factor Analysis" in text
    assert "did not converge in 0 iterations" in text
    m = json.loads((built.folder / "manifest.json").read_text())
    assert m["analyses"]["efa"]["ok"] is False
    assert "did not converge" in m["analyses"]["efa"]["error"]


def test_table_exports_match_the_table(built):
    t = built.report.tables[0]
    stem = built.folder / "tables" / f"table_01_{t.key}"
    import pandas as pd

    shown = pd.read_csv(f"{stem}.csv", dtype=str, keep_default_na=False)
    assert list(shown.columns) == t.headers
    assert shown.values.tolist() == t.cells()
    values = pd.read_csv(f"{stem}_values.csv")
    assert values.shape[0] == t.data.shape[0]
    tex = open(f"{stem}.tex", encoding="utf-8").read()
    assert r"\toprule" in tex and r"\bottomrule" in tex and "Table 1" in tex
    assert "|" not in tex.split(r"\begin{tabular}")[1].split("}")[0]  # no vertical rules


def test_manifest_reproduces(built):
    m = json.loads((built.folder / "manifest.json").read_text())
    data = built.results.data.files[0]
    assert m["data_files"][0]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert m["seeds"]["study"] == 7
    assert m["study"]["text"] == built.results.study.text
    assert set(m["banks"]) == {"wai", "pear", "oq"}
    assert all(len(b["sha256"]) == 64 for b in m["banks"].values())
    assert m["dependencies"]["numpy"] and m["dependencies"]["python-docx"]
    for rel, digest in m["files"].items():
        assert hashlib.sha256((built.folder / rel).read_bytes()).hexdigest() == digest


def test_rebuild_from_manifest_checks_checksums(built, tmp_path):
    from psychometrics.exceptions import StudyFileError
    from psychometrics.report.build import study_from_manifest

    s = study_from_manifest(built.folder / "manifest.json")
    assert s.text == built.results.study.text
    m = json.loads((built.folder / "manifest.json").read_text())
    m["data_files"][0]["sha256"] = "0" * 64
    bad = tmp_path / "manifest.json"
    bad.write_text(json.dumps(m))
    with pytest.raises(StudyFileError) as exc:
        study_from_manifest(bad)
    assert exc.value.issues[0].location == "data.files[0]"
    assert "changed" in exc.value.issues[0].message


def test_table_rejects_unknown_columns():
    import pandas as pd

    from psychometrics.report.model import Column

    with pytest.raises(KeyError, match="'alpha'"):
        Table("t", "T", pd.DataFrame({"x": [1.0]}), (Column("alpha", "a"),))


def test_reproducibility_section(built):
    # in the supplement, not in the report body
    assert "reproducibility" not in [s.key for s in built.report.sections]
    (sec,) = [s for s in built.report.supplement if s.key == "reproducibility"]
    soft, files, *warns = sec.tables
    verbatim = [w for o in built.results.outcomes.values() for w in o.warnings]
    if verbatim:
        assert set(warns[0].data["warning"]) == set(verbatim)
    else:
        assert not warns and any(getattr(b, "text", "") == "No analysis raised a warning."
                                 for b in sec.blocks)
    data = built.results.data.files[0]
    row = files.data[files.data["role"] == "data"].iloc[0]
    assert row["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert set(files.data["role"]) >= {"data", "bank (WAI-SR)", "bank (PEAR)", "bank (OQ-45.2)"}
    assert sec.blocks[-1].kind == "code" and sec.blocks[-1].text == built.results.study.text.rstrip()
    assert "psychometrics" in list(soft.data["package"])


def test_similar_warnings_are_grouped():
    from psychometrics.report.sections._common import grouped_warnings

    ws = ("W: 150 values are missing.", "W: 153 values are missing.", "X: singular fit.",
          "W: 7 values are missing.")
    assert grouped_warnings(ws) == ["W: 150 values are missing. (and 2 similar warnings)",
                                    "X: singular fit."]


def test_subscript_markup_in_every_format(tmp_path):
    import pandas as pd

    from psychometrics.report.export import table_to_latex
    from psychometrics.report.model import Column, Report, Section
    from psychometrics.report.render_docx import render_docx
    from psychometrics.report.render_html import render_html

    t = Table("om", "Omega", pd.DataFrame({"o": [0.81]}),
              (Column("o", "\u03c9_{t}", "bounded"),), note="\u03c9_{t} = omega total.")
    rep = Report("R", (Section("s", "S", (t,)),))
    assert t.headers == ["\u03c9t"]
    html = render_html(rep)
    assert "\u03c9<sub>t</sub>" in html and "<td class=\"num\">.81</td>" in html
    assert r"$\omega$\textsubscript{t}" in table_to_latex(t, 1)
    (tmp_path / "r.docx").write_bytes(render_docx(rep))
    doc = Document(str(tmp_path / "r.docx"))
    runs = doc.tables[0].rows[0].cells[0].paragraphs[0].runs
    assert [(r.text, bool(r.font.subscript)) for r in runs] == [("\u03c9", False), ("t", True)]


def test_a_figure_that_cannot_be_drawn_says_why(monkeypatch):
    from psychometrics.report.model import Figure, Section
    from psychometrics.report.sections import _draw_figures

    def broken():
        raise ValueError("no data to plot")

    sec = _draw_figures(Section("s", "S", (Figure("f", "Scree", broken),)))
    (p,) = sec.blocks
    assert p.kind == "error" and "Scree" in p.text and "no data to plot" in p.text
