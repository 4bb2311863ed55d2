"""Section builders: one module per section, each ``build(results) -> Section | None``.

A builder reads result objects and returns tables, figures and text; it never
computes a statistic. ``None`` means the analysis was not requested.
"""
from __future__ import annotations

import importlib

from ..model import Report, Section
from ._text import with_text

#: Section modules in document order.
ORDER = ("sample", "scoring", "items", "descriptives", "reliability", "efa", "cfa", "invariance",
         "irt", "progress", "validity", "clinical")
#: Section modules of the separate supplement.
SUPPLEMENT = ("reproducibility",)


def build_sections(results, order=ORDER) -> list[Section]:
    out = []
    for name in order:
        mod = importlib.import_module(f"{__name__}.{name}")
        try:
            sec = mod.build(results)
        except Exception as exc:  # noqa: BLE001  (never lose a section silently)
            sec = Section.failed(getattr(mod, "KEY", name), getattr(mod, "TITLE", name),
                                 f"the section builder failed ({type(exc).__name__}: {exc}).")
        if sec is not None:
            out.append(with_text(results, _draw_figures(sec)))
    return out


def _draw_figures(sec: Section) -> Section:
    """Draw every figure and format every table now, so that one that fails is
    replaced by a message saying why instead of breaking the whole report."""
    from dataclasses import replace

    from ..model import Figure, Paragraph, Table

    blocks, changed = [], False
    for b in sec.blocks:
        if isinstance(b, Table):
            try:
                b.rows()
            except Exception as exc:  # noqa: BLE001
                blocks.append(Paragraph(f"Table \u201c{b.title}\u201d could not be formatted "
                                        f"({type(exc).__name__}: {exc}).", kind="error"))
                changed = True
                continue
        if isinstance(b, Figure):
            try:
                b.png, b.svg  # noqa: B018  (renders and caches both)
            except Exception as exc:  # noqa: BLE001
                blocks.append(Paragraph(f"Figure \u201c{b.title}\u201d could not be drawn "
                                        f"({type(exc).__name__}: {exc}).", kind="error"))
                changed = True
                continue
        blocks.append(b)
    return replace(sec, blocks=tuple(blocks)) if changed else sec


def build_report(results) -> Report:
    """The whole report for a :class:`~psychometrics.report.run.StudyResults`."""
    from ..model import Paragraph

    s = results.study
    supplement = tuple(build_sections(results, SUPPLEMENT))
    main = build_sections(results)
    if supplement:
        main.append(Section("supplement", "Supplementary Material", (Paragraph(
            "Software versions, checksums of the data files and item banks, the study file and "
            "the technical wording of every warning are in the supplement (supplement.docx and "
            "supplement.html beside this report); manifest.json holds the same facts for "
            "machines."),)))
    return Report(title=s.title, subtitle=s.description, sections=tuple(main),
                  meta={"authors": s.authors, "study": s.name, "started": results.started,
                        "seconds": results.seconds, "page": getattr(s, "page", "A4"),
                        "notice": "The Method and Results paragraphs of each section were "
                                  "drafted by the software from its tables; check and edit "
                                  "them before you use them."},
                  supplement=supplement)
