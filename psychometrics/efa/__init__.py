"""Exploratory factor analysis equal to psych 2.2.9 / GPArotation.

Main entry points
-----------------
``fa(data, n_factors, method, rotation)`` / ``FactorAnalysis(...).fit(data)``
    extraction (minres, ml, pa, pc) and rotation with psych's conventions.
``kmo``, ``bartlett``, ``eigenvalues``
    sampling adequacy, sphericity.
``parallel_analysis``, ``velicer_map``
    how many factors to retain.
``omega``
    McDonald's omega from a Schmid-Leiman transformation (``psych::omega``).
``item_diagnostics``, ``cross_loadings``, ``low_loading_items``, ``select_items``
    item selection for a new (short) form; ``short_form_to_bank`` writes it into an
    item bank (instrument YAML) as a new form.
``rotate``
    the rotations alone (GPForth/GPFoblq, stats::varimax, psych's promax).
"""
from __future__ import annotations

from ._input import cov2cor, pairwise_cor, smc
from .bank import short_form_to_bank
from .adequacy import BartlettResult, KMOResult, bartlett, eigenvalues, kmo
from .fit_stats import FitStatistics
from .irt_fa import IRTFactorResult, irt_fa
from .model import FactorAnalysis, FactorAnalysisResult, degrees_of_freedom, fa, max_factors
from .omega import OmegaResult, omega, schmid_leiman
from .retention import MAPResult, ParallelAnalysisResult, parallel_analysis, velicer_map
from .rotation import Rotation, rotate
from .selection import (
    ShortForm,
    ShortFormRule,
    cross_loadings,
    item_diagnostics,
    low_loading_items,
    select_items,
)

__all__ = [
    "FactorAnalysis", "FactorAnalysisResult", "FitStatistics", "Rotation",
    "fa", "rotate", "degrees_of_freedom", "max_factors", "irt_fa", "IRTFactorResult",
    "kmo", "KMOResult", "bartlett", "BartlettResult", "eigenvalues",
    "parallel_analysis", "ParallelAnalysisResult", "velicer_map", "MAPResult",
    "omega", "OmegaResult", "schmid_leiman",
    "item_diagnostics", "cross_loadings", "low_loading_items", "select_items",
    "ShortForm", "ShortFormRule", "short_form_to_bank",
    "cov2cor", "pairwise_cor", "smc",
]
