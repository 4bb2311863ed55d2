"""Exploratory factor analysis equal to psych 2.2.9 / GPArotation.

Main entry points
-----------------
``fa(data, n_factors, method, rotation)`` / ``FactorAnalysis(...).fit(data)``
    extraction (minres, ml, pa, pc) and rotation, psych's conventions.
``kmo``, ``bartlett``, ``eigenvalues``
    sampling adequacy and sphericity.
``parallel_analysis``, ``velicer_map``
    how many factors to retain.
``omega``
    McDonald's omega from a Schmid-Leiman transformation (``psych::omega``).
``item_diagnostics``, ``select_items``
    item selection for a new (short) form.
``rotate``
    the rotations alone (GPForth/GPFoblq, varimax, promax).
"""
from __future__ import annotations

from ._input import cov2cor, pairwise_cor, smc
from .model import FactorAnalysis, FactorAnalysisResult, degrees_of_freedom, fa, max_factors
from .fit_stats import FitStatistics
from .rotation import Rotation, rotate

__all__ = [
    "FactorAnalysis", "FactorAnalysisResult", "FitStatistics", "Rotation",
    "fa", "rotate", "degrees_of_freedom", "max_factors", "cov2cor", "pairwise_cor", "smc",
]
