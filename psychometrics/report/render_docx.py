"""The report as a Word document with APA-style tables (python-docx).

* Page: A4 (default) or US Letter from the study file (``page:``), 1-inch margins.
* Captions are Word captions: the "Caption" style with a ``SEQ Table`` / ``SEQ Figure``
  field, so Word can build a list of tables and renumbers them; "Table N" in bold, a
  line break, the title in italics (APA 7).
* Tables are real Word tables (editable in Word and LibreOffice): no vertical rules;
  horizontal rules above and below the header row and below the body; a "*Note.*"
  paragraph below; the header row repeats on each page; numbers are right-aligned, so
  their decimal points line up. A table too wide for a portrait page gets a landscape section.
* Figures fit the text width, carry alt text (their title and note), and use the
  body's serif font.
* Headings: the title, Heading 1 per section, Heading 2 for sub-headings.
"""
from __future__ import annotations

import io
import re

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
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


_PAGES = {"A4": (8.27, 11.69), "letter": (8.5, 11.0)}  # inches, portrait
_MARGIN = 1.0  # inches, every side
_PAD = 0.05  # left/right cell margin, inches


def _page(section, page: str, landscape: bool = False) -> float:
    """Set a section's page size, orientation and margins; returns the text width."""
    w, h = _PAGES.get(page, _PAGES["A4"])
    if landscape:
        w, h = h, w
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Inches(w), Inches(h)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Inches(_MARGIN))
    return w - 2 * _MARGIN


def _field(par, instr: str, result: str, bold: bool = False):
    """A complex field (``SEQ Table \\* ARABIC``) with its current result shown."""
    def fld(kind):
        run = par.add_run()
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        run._r.append(el)
        return run
    fld("begin")
    run = par.add_run()
    instr_el = OxmlElement("w:instrText")
    instr_el.set(qn("xml:space"), "preserve")
    instr_el.text = f" {instr} "
    run._r.append(instr_el)
    fld("separate")
    shown = par.add_run(result)
    shown.bold = bold
    fld("end")


def _caption(doc, kind: str, n: int, title: str):
    """APA caption as a Word caption: bold "Table N" (SEQ field), line break, italic title."""
    cap = doc.add_paragraph(style="Caption")
    label = cap.add_run(f"{kind} ")
    label.bold = True
    _field(cap, f"SEQ {kind} \\* ARABIC", str(n), bold=True)
    cap.add_run().add_break(WD_BREAK.LINE)
    _runs(cap, title, italic_all=True)
    cap.paragraph_format.keep_with_next = True
    return cap


def _column_widths(t: Table, rows, char_in: float, text_width: float) -> list[float]:
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
    room = max(text_width - fixed, 0.9 * len(text_cols))
    want = sum(need[j] for j in text_cols)
    for j in text_cols:
        need[j] = min(need[j], max(need[j] / want * room, 0.9))
    return need


def _align(j: int, col):
    """Left for the first column; numbers right-aligned, which aligns their decimal points
    (every cell of a numeric column has the same number of decimals); intervals, ranges and
    text centred. (A decimal tab stop would do the same in Word but wraps in LibreOffice.)"""
    if j == 0:
        return WD_ALIGN_PARAGRAPH.LEFT
    if col.kind != "text" and col.ci is None and col.span is None:
        return WD_ALIGN_PARAGRAPH.RIGHT
    return WD_ALIGN_PARAGRAPH.CENTER


def _table_layout(t: Table, rows, text_width: float) -> tuple[int, list[float]]:
    """Font size and column widths; (size, widths) whose sum may exceed the width."""
    widths = _column_widths(t, rows, 0.085, text_width)
    if sum(widths) <= text_width:
        return 10, widths
    size = 8 if len(t.columns) > 10 else 9
    return size, _column_widths(t, rows, 0.068 if size == 8 else 0.076, text_width)


def _table(doc, t: Table, n: int, text_width: float, rows):
    """The table ``t`` with its caption; ``rows`` is ``t.rows()`` (formatted once)."""
    _caption(doc, "Table", n, t.title)
    n_rows = 1 + len(rows) + sum(1 for g, _ in rows if g is not None)
    ncol = len(t.columns)
    tbl = doc.add_table(rows=n_rows, cols=ncol)
    tbl.alignment = WD_TABLE_ALIGNMENT.LEFT
    size, widths = _table_layout(t, rows, text_width)
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
                   align=_align(j, c))
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
            col = t.columns[j]
            _cell_text(row.cells[j], v, size=size, align=_align(j, col))
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


def _figure(doc, f: Figure, n: int, text_width: float):
    _caption(doc, "Figure", n, f.title)
    from PIL import Image

    with Image.open(io.BytesIO(f.png)) as im:
        natural = im.size[0] / f.dpi
    doc.add_picture(io.BytesIO(f.png), width=Inches(min(text_width, natural)))
    pic = doc.paragraphs[-1]
    pic.paragraph_format.keep_with_next = bool(f.note)
    doc_pr = doc.inline_shapes[-1]._inline.docPr
    doc_pr.set("descr", plain(f.title) + (f". {plain(f.note)}" if f.note else ""))
    doc_pr.set("title", plain(f.title))
    if f.note:
        note = doc.add_paragraph()
        _runs(note, "*Note.* " + f.note, size=10)


def _style_document(doc):
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
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3", "Caption"):
        st = doc.styles[name]
        st.font.name = _FONT
        st.font.color.rgb = None
        # the template's theme fonts (asciiTheme, ...) would override the serif font
        rfonts = st.element.get_or_add_rPr().find(qn("w:rFonts"))
        if rfonts is not None:
            for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                rfonts.attrib.pop(qn(attr), None)
            for attr in ("w:eastAsia", "w:cs"):
                rfonts.set(qn(attr), _FONT)
    # APA: level-1 headings centred bold, level-2 flush left bold, captions plain 12 pt
    for name, size, align in (("Heading 1", 14, WD_ALIGN_PARAGRAPH.CENTER),
                              ("Heading 2", 12, WD_ALIGN_PARAGRAPH.LEFT),
                              ("Heading 3", 12, WD_ALIGN_PARAGRAPH.LEFT)):
        st = doc.styles[name]
        st.font.size = Pt(size)
        st.font.bold = True
        st.font.italic = name == "Heading 3"
        st.paragraph_format.alignment = align
    cap = doc.styles["Caption"]
    cap.font.size = Pt(12)
    cap.font.italic = False
    cap.font.bold = False
    cap.paragraph_format.space_before = Pt(12)
    cap.paragraph_format.space_after = Pt(6)


def render_docx(report: Report) -> bytes:
    """The report as a .docx file (bytes); page size from ``report.meta["page"]``."""
    doc = Document()
    _style_document(doc)
    page = report.meta.get("page") or "A4"
    portrait = _page(doc.sections[0], page)
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
    if report.meta.get("notice"):
        p = doc.add_paragraph()
        _runs(p, report.meta["notice"], italic_all=True, size=10)

    tab_no, fig_no = report.numbered()
    for s in report.sections:
        doc.add_heading(s.title, level=1)
        for b in s.blocks:
            if isinstance(b, Table):
                rows = b.rows()
                _, widths = _table_layout(b, rows, portrait)
                if sum(widths) > portrait:      # a landscape page of its own
                    wide = _page(doc.add_section(WD_SECTION.NEW_PAGE), page, landscape=True)
                    _table(doc, b, tab_no[id(b)], wide, rows)
                    _page(doc.add_section(WD_SECTION.NEW_PAGE), page)
                else:
                    _table(doc, b, tab_no[id(b)], portrait, rows)
            elif isinstance(b, Figure):
                _figure(doc, b, fig_no[id(b)], portrait)
            elif isinstance(b, Paragraph) and b.kind == "heading":
                doc.add_heading(b.text, level=2)
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
                    _runs(p, "Note. ", bold=True)
                _runs(p, b.text)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
