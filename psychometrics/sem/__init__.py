"""Structural equation models with lavaan syntax, equal to lavaan 0.6-14 (ML).

Pipeline (one module per step): :mod:`.syntax` (model text -> statements) ->
:mod:`.partable` (parameter table) -> :mod:`.matrices` (LISREL matrices) ->
:mod:`.estimate` (ML, Fisher scoring) -> :mod:`.information` (SEs) ->
:mod:`.fit_measures`, :mod:`.standardize`, :mod:`.modindices` ->
:mod:`.results` (immutable result). :mod:`.invariance` compares nested
multi-group models (score tests, partial invariance). Ordinal indicators (WLSMV/DWLS/ULSMV/ULS) are
in :mod:`.ordinal` (one group) and :mod:`.ordinal_mg` (groups, occasions; Wu & Estabrook),
two-level models in :mod:`.twolevel`. :func:`fit` (:mod:`.api`) only checks the options,
builds a :class:`~.estimator.FitSpec` and dispatches to the ``estimate(spec)`` of the
estimator registered in ``api.ESTIMATORS`` (the ML family is :mod:`.ml`).
"""
from __future__ import annotations

import importlib
from typing import Any

from .api import fit
from .growth import GrowthResult, growth, growth_trajectory, plot_trajectory, scale_growth
from .instrument_model import cfa_model, factor_scales, omega_model
from .invariance import invariance, lrt, partial_invariance, score_test
from .reliability import ave, comp_rel_sem, reliability
from .results import SEMResult, SEMResultBase, Summary
from .syntax import parse_model

# Loaded on first use, so that ``import psychometrics.sem`` stays light (scipy.stats and
# the ordinal and two-level engines are imported only when used).
_LAZY = {
    "OrdinalSEMResult": "ordinal", "ordinal_omega": "ordinal",
    "OrdinalMGResult": "ordinal_mg", "ScoreTestResult": "ordinal_mg", "measeq_syntax": "ordinal_mg",
    "TwoLevelResult": "twolevel", "fit_twolevel": "twolevel", "lrt_twolevel": "twolevel",
    "twolevel_reliability": "twolevel_reliability",
}

__all__ = ["fit", "invariance", "lrt", "cfa_model", "factor_scales", "omega_model", "reliability",
           "comp_rel_sem", "ave", "SEMResult", "SEMResultBase",
           "Summary", "parse_model", "fit_twolevel", "lrt_twolevel", "TwoLevelResult",
           "twolevel_reliability", "OrdinalSEMResult", "ordinal_omega", "growth", "scale_growth",
           "GrowthResult", "growth_trajectory", "plot_trajectory", "score_test",
           "partial_invariance", "OrdinalMGResult", "ScoreTestResult", "measeq_syntax"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
        # importing the submodule bound its name here (twolevel_reliability is a module and
        # a function): bind the public object instead
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
