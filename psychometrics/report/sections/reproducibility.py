"""Reproducibility (the supplement): software versions, data and bank checksums,
seed, every warning as the analysis raised it, and the study file itself (the same
facts as manifest.json, in a document)."""
from __future__ import annotations

import pandas as pd

from ..model import Column, Paragraph, Section, Table

KEY, TITLE = "reproducibility", "Reproducibility"


def build(results):
    import platform
    import sys

    from ... import __version__
    from ..export import _versions, sha256

    study = results.study
    soft = pd.DataFrame([{"package": "psychometrics", "version": __version__},
                         {"package": "Python", "version": sys.version.split()[0]}]
                        + [{"package": k, "version": v} for k, v in _versions().items()
                           if v is not None])
    files = []
    for p in results.data.files:
        files.append({"role": "data", "file": p.name, "sha256": sha256(p)})
    for key in study.instruments:
        bp = study.bank_path(key)
        if bp is not None:
            files.append({"role": f"bank ({study.label(key)})", "file": bp.name,
                          "sha256": sha256(bp)})
    blocks = (
        Paragraph(f"Built with psychometrics {__version__} on {platform.platform()} "
                  f"({results.started}, {results.seconds:.1f} s). Random steps used seed "
                  f"{study.seed}. Running \u201cpsychometrics report --manifest manifest.json\u201d "
                  "in the report folder rebuilds the report; it refuses if a data file or an "
                  "item bank has changed."),
        Table("software", "Software Versions", soft,
              (Column("package", "Package", "text"), Column("version", "Version", "text"))),
        Table("checksums", "Data Files and Item Banks", pd.DataFrame(files),
              (Column("role", "Role", "text"), Column("file", "File", "text"),
               Column("sha256", "SHA-256", "text"))),
        *_warnings_table(results),
        Paragraph("The study file:"),
        Paragraph(study.text.rstrip(), kind="code"),
    )
    return Section(KEY, TITLE, blocks)


def _warnings_table(results) -> tuple:
    """Every warning of every analysis, verbatim (the report shows them rephrased)."""
    rows = []
    for name, outcome in results.outcomes.items():
        parts = outcome.parts or {}
        seen = set()
        for key, part in parts.items():
            for w in part.warnings:
                rows.append({"analysis": name, "instrument": results.study.label(key)
                             if key in results.study.instruments else key, "warning": w})
                seen.add(w)
        for w in outcome.warnings:
            if w not in seen:
                rows.append({"analysis": name, "instrument": "", "warning": w})
    if not rows:
        return (Paragraph("No analysis raised a warning."),)
    return (Table("warnings", "Warnings Raised by the Analyses (Verbatim)", pd.DataFrame(rows),
                  (Column("analysis", "Analysis", "text"),
                   Column("instrument", "Instrument", "text"),
                   Column("warning", "Message", "text"))),)
