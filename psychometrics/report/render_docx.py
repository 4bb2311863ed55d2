"""The report as a Word document with APA-style tables (python-docx).

Tables are real Word tables (editable in Word and LibreOffice): no vertical
rules; horizontal rules above and below the header row and below the body;
"Table N" in bold above an italic title; a "*Note.*" paragraph below. The
header row repeats on each page. Figures are PNG pictures with the same
number/title/note layout.
"""
from __future__ import annotations

import io
import re

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Pt

from .model import Figure, Paragraph, Report, Table, plain, split_sub

__all__ = ["render_docx"]

_FONT = "Times New Roman"


def _runs(par, text: str, size: float | None = None, italic_all: bool = False,
          bold: bool = False):
    """Add text to a paragraph, ``*x*`` in italics, ``_{x}`` as a subscript."""
    for k, chunk in enumerate(re.split(r"\*([^*\n]+)\*", text)):
        if not chunk:
            continue
        for piece, sub in split_sub(chunk):
            run = par.add_run(piece)
            run.italic = italic_all or (k % 2 == 1)
            run.bold = bold
            run.font.subscript = sub or None
            if size is not None:
                run.font.size = Pt(size)


def _border(cell_or_tbl_pr, edges: dict[str, int | None]):
    """Set borders (eighths of a point; None removes) on a tcPr or tblPr element."""
    tag = "w:tcBorders" if cell_or_tbl_pr.tag == qn("w:tcPr") else "w:tblBorders"
    borders = cell_or_tbl_pr.find(qn(tag))
    if borders is None:
        borders = OxmlElement(tag)
        cell_or_tbl_pr.append(borders)
    for edge, size in edges.items():
        el = borders.find(qn(f"w:{edge}"))
        if el is None:
            el = OxmlElement(f"w:{edge}")
            borders.append(el)
        if size is None:
            el.set(qn("w:val"), "nil")
        else:
            el.set(qn("w:val"), "single")
            el.set(qn("w:sz"), str(size))
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), "000000")


def _cell_text(cell, text: str, italic: bool = False, align=WD_ALIGN_PARAGRAPH.CENTER,
               size: float = 10, markup: bool = False):
    par = cell.paragraphs[0]
    par.alignment = align
    par.paragraph_format.space_after = Pt(0)
    par.paragraph_format.space_before = Pt(0)
    for piece, sub in (split_sub(text) if markup else [(text, False)]):
        run = par.add_run(piece)
        run.italic = italic
        run.font.subscript = sub or None
        run.font.size = Pt(size)


_TEXT_WIDTH = 6.5  # inches between the margins of a Letter/A4 page with 1-inch margins
_PAD = 0.05  # left/right cell margin, inches


def _column_widths(t: Table, rows, char_in: float) -> list[float]:
    """Column widths in inches. Numeric columns get the width of their longest cell
    (they must not wrap; header words may); text columns share what is left."""
    need = []
    for j, c in enumerate(t.columns):
        # header words may be capitals (RMSEA, SRMR), wider than digits
        longest_word = max((1.3 * len(w) for w in plain(c.label).split()), default=1)
        body = max((len(cells[j]) for _, cells in rows), default=1)
        need.append(char_in * max(longest_word, body, 2) + 2 * _PAD)
    text_cols = [j for j, c in enumerate(t.columns) if c.kind == "text"] or [0]
    fixed = sum(w for j, w in enumerate(need) if j not in text_cols)
    room = max(_TEXT_WIDTH - fixed, 0.9 * len(text_cols))
    want = sum(need[j] for j in text_cols)
    for j in text_cols:
        need[j] = min(need[j], max(need[j] / want * room, 0.9))
    return need


def _table(doc, t: Table, n: int):
    cap = doc.add_paragraph()
    _runs(cap, f"Table {n}", bold=True)
    cap.paragraph_format.keep_with_next = True
    cap.paragraph_format.space_after = Pt(0)
    title = doc.add_paragraph()
    _runs(title, t.title, italic_all=True)
    title.paragraph_format.keep_with_next = True

    rows = t.rows()
    n_rows = 1 + len(rows) + sum(1 for g, _ in rows if g is not None)
    ncol = len(t.columns)
    tbl = doc.add_table(rows=n_rows, cols=ncol)
    tbl.alignment = WD_TABLE_ALIGNMENT.LEFT
    size = 10
    widths = _column_widths(t, rows, 0.085)
    if sum(widths) > _TEXT_WIDTH:
        size = 8 if len(t.columns) > 10 else 9
        widths = _column_widths(t, rows, 0.068 if size == 8 else 0.076)
    mar = OxmlElement("w:tblCellMar")
    for edge in ("left", "right"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:w"), str(int(_PAD * 1440)))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    tbl._tbl.tblPr.append(mar)
    tbl_pr = tbl._tbl.tblPr
    _border(tbl_pr, {"top": 12, "bottom": 12, "left": None, "right": None,
                     "insideH": None, "insideV": None})
    # header
    hdr = tbl.rows[0]
    tr_pr = hdr._tr.get_or_add_trPr()
    rep = OxmlElement("w:tblHeader")
    rep.set(qn("w:val"), "true")
    tr_pr.append(rep)
    for j, c in enumerate(t.columns):
        cell = hdr.cells[j]
        _cell_text(cell, c.label, italic=c.italic_label, size=size, markup=True,
                   align=WD_ALIGN_PARAGRAPH.LEFT if j == 0 else WD_ALIGN_PARAGRAPH.CENTER)
        _border(cell._tc.get_or_add_tcPr(), {"top": 12, "bottom": 8})
    r = 1
    for group, cells in rows:
        if group is not None:
            row = tbl.rows[r]
            merged = row.cells[0].merge(row.cells[ncol - 1]) if ncol > 1 else row.cells[0]
            _cell_text(merged, group, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT, size=size)
            r += 1
        row = tbl.rows[r]
        for j, v in enumerate(cells):
            _cell_text(row.cells[j], v, size=size,
                       align=WD_ALIGN_PARAGRAPH.LEFT if j == 0 else WD_ALIGN_PARAGRAPH.CENTER)
        r += 1
    tbl.autofit = False
    for j, w in enumerate(widths):
        width = Inches(w)
        tbl.columns[j].width = width
        for row in tbl.rows:
            tc_pr = row.cells[j]._tc.get_or_add_tcPr() if len(row.cells) > j else None
            if tc_pr is not None and row.cells[j]._tc.grid_span == 1:
                row.cells[j].width = width
    for cell in tbl.rows[n_rows - 1].cells:
        _border(cell._tc.get_or_add_tcPr(), {"bottom": 12})
    if t.note:
        note = doc.add_paragraph()
        _runs(note, "*Note.* " + t.note, size=10)
    else:
        doc.add_paragraph()


def _figure(doc, f: Figure, n: int):
    cap = doc.add_paragraph()
    _runs(cap, f"Figure {n}", bold=True)
    cap.paragraph_format.keep_with_next = True
    cap.paragraph_format.space_after = Pt(0)
    title = doc.add_paragraph()
    _runs(title, f.title, italic_all=True)
    title.paragraph_format.keep_with_next = True
    doc.add_picture(io.BytesIO(f.png), width=Inches(6.0))
    if f.note:
        note = doc.add_paragraph()
        _runs(note, "*Note.* " + f.note, size=10)


def render_docx(report: Report) -> bytes:
    """The report as a .docx file (bytes)."""
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = _FONT
    normal.font.size = Pt(12)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), _FONT)
    for name in ("Title", "Heading 1", "Heading 2"):
        st = doc.styles[name]
        st.font.name = _FONT
        st.font.color.rgb = None
    doc.core_properties.title = report.title
    doc.core_properties.author = report.meta.get("authors") or "psychometrics"
    doc.core_properties.comments = "Generated by psychometrics; see manifest.json."

    doc.add_heading(report.title, level=0).alignment = WD_ALIGN_PARAGRAPH.CENTER
    if report.meta.get("authors"):
        p = doc.add_paragraph(report.meta["authors"])
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if report.subtitle:
        p = doc.add_paragraph()
        _runs(p, report.subtitle)
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER

    tab_no, fig_no = report.numbered()
    for s in report.sections:
        doc.add_heading(s.title, level=1)
        for b in s.blocks:
            if isinstance(b, Table):
                _table(doc, b, tab_no[id(b)])
            elif isinstance(b, Figure):
                _figure(doc, b, fig_no[id(b)])
            elif isinstance(b, Paragraph) and b.kind == "code":
                for line in b.text.splitlines() or [""]:
                    p = doc.add_paragraph()
                    p.paragraph_format.space_after = Pt(0)
                    run = p.add_run(line)
                    run.font.name = "Courier New"
                    run.font.size = Pt(8)
            elif isinstance(b, Paragraph):
                p = doc.add_paragraph()
                if b.kind == "error":
                    _runs(p, "Not produced. ", bold=True)
                elif b.kind == "warning":
                    _runs(p, "Warning. ", bold=True)
                _runs(p, b.text.removeprefix("Warning during this analysis: ")
                      if b.kind == "warning" else b.text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
