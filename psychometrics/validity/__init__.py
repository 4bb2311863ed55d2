"""Validity evidence and the validator's everyday toolbox.

================================================  ===========================================
``corr_test(x, y=None)``                          ``psych::corr.test`` (r, n, t, p, adjusted p,
                                                  SE, confidence intervals, adjusted intervals)
``p_adjust(p, method)``                           ``stats::p.adjust``
``describe(data)``                                ``psych::describe``
``cohen_kappa(data)``                             ``psych::cohen.kappa`` (unweighted, weighted)
``htmt(model, data)``                             ``semTools::htmt`` (HTMT and HTMT2)
``fornell_larcker(fit)``                          AVE (``semTools::AVE``) against squared
                                                  latent correlations
``factor_congruence(x, y)``                       ``psych::factor.congruence``
``score_overlap(keys, data)``                     ``psych::scoreOverlap``
================================================  ===========================================
"""
from __future__ import annotations

from ._agreement import KappaResult, cohen_kappa
from ._correlation import CorrTestResult, corr_test, p_adjust
from ._describe import DescribeResult, describe
from ._discriminant import (
    CongruenceResult,
    FornellLarckerResult,
    HTMTResult,
    factor_congruence,
    fornell_larcker,
    htmt,
)
from ._overlap import ScoreOverlapResult, score_overlap

__all__ = [
    "corr_test", "CorrTestResult", "p_adjust",
    "describe", "DescribeResult",
    "cohen_kappa", "KappaResult",
    "htmt", "HTMTResult", "fornell_larcker", "FornellLarckerResult",
    "factor_congruence", "CongruenceResult",
    "score_overlap", "ScoreOverlapResult",
]
