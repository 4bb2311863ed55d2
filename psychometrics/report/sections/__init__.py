"""Section builders: one module per section, each ``build(results) -> Section | None``.

A builder reads result objects and returns tables, figures and text; it never
computes a statistic. ``None`` means the analysis was not requested.
"""
from __future__ import annotations

import importlib

from ..model import Report, Section

#: Section modules in document order.
ORDER = ("sample", "scoring", "items", "descriptives", "reliability", "efa", "cfa", "invariance",
         "progress", "clinical", "reproducibility")


def build_sections(results) -> list[Section]:
    out = []
    for name in ORDER:
        mod = importlib.import_module(f"{__name__}.{name}")
        try:
            sec = mod.build(results)
        except Exception as exc:  # noqa: BLE001  (never lose a section silently)
            sec = Section.failed(getattr(mod, "KEY", name), getattr(mod, "TITLE", name),
                                 f"the section builder failed ({type(exc).__name__}: {exc}).")
        if sec is not None:
            out.append(sec)
    return out


def build_report(results) -> Report:
    """The whole report for a :class:`~psychometrics.report.run.StudyResults`."""
    s = results.study
    return Report(title=s.title, subtitle=s.description, sections=tuple(build_sections(results)),
                  meta={"authors": s.authors, "study": s.name, "started": results.started,
                        "seconds": results.seconds})
