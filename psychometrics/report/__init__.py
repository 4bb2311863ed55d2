"""Validation reports: one command from raw data to an HTML and DOCX report.

``psychometrics report STUDY.yaml`` (or :func:`build`) reads a study file
(:mod:`.study`), checks it against the data before anything long runs
(:func:`.run.preflight`), runs the requested analyses by calling the analysis
modules (:mod:`.run`, :mod:`.adapters`), turns their result objects into
sections of tables and figures (:mod:`.sections`) and writes
``validation_reports/NAME/`` (:mod:`.export`). The report computes nothing:
section builders and renderers only format; numbers are rounded in
:mod:`.apa` and nowhere else.
"""
from __future__ import annotations

from .build import BuiltReport, build
from .study import EXAMPLE_STUDY, Study, load_study, parse_study

__all__ = ["build", "BuiltReport", "load_study", "parse_study", "Study", "EXAMPLE_STUDY"]
