"""Structural equation models with lavaan syntax, equal to lavaan 0.6-14 (ML).

Pipeline (one module per step): :mod:`.syntax` (model text -> statements) ->
:mod:`.partable` (parameter table) -> :mod:`.matrices` (LISREL matrices) ->
:mod:`.estimate` (ML, Fisher scoring) -> :mod:`.information` (SEs) ->
:mod:`.fit_measures`, :mod:`.standardize`, :mod:`.modindices` ->
:mod:`.results` (immutable result). :mod:`.invariance` compares nested
multi-group models (score tests, partial invariance). Ordinal indicators (WLSMV/DWLS) are
in :mod:`.ordinal` (one group) and :mod:`.ordinal_mg` (groups, occasions; Wu & Estabrook),
two-level models in :mod:`.twolevel`.
"""
from __future__ import annotations

from .api import fit
from .growth import GrowthResult, growth, growth_trajectory, plot_trajectory, scale_growth
from .instrument_model import cfa_model
from .invariance import invariance, lrt, partial_invariance, score_test
from .ordinal import OrdinalSEMResult, ordinal_omega
from .ordinal_mg import OrdinalMGResult, ScoreTestResult, measeq_syntax
from .reliability import ave, comp_rel_sem, reliability
from .results import SEMResult, Summary
from .syntax import parse_model
from .twolevel import TwoLevelResult, fit_twolevel, lrt_twolevel
from .twolevel_reliability import twolevel_reliability

__all__ = ["fit", "invariance", "lrt", "cfa_model", "reliability", "comp_rel_sem", "ave", "SEMResult",
           "Summary", "parse_model", "fit_twolevel", "lrt_twolevel", "TwoLevelResult",
           "twolevel_reliability", "OrdinalSEMResult", "ordinal_omega", "growth", "scale_growth",
           "GrowthResult", "growth_trajectory", "plot_trajectory", "score_test",
           "partial_invariance", "OrdinalMGResult", "ScoreTestResult", "measeq_syntax"]
