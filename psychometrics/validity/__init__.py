"""Validity evidence and the validator's everyday toolbox.

================================================  ===========================================
``corr_test(x, y=None)``                          ``psych::corr.test`` (r, n, t, p, adjusted p,
                                                  SE, confidence intervals, adjusted intervals)
``p_adjust(p, method)``                           ``stats::p.adjust``
``cor_ci(data, keys=None)``                       ``psych::cor.ci`` (bootstrapped intervals of
                                                  item or scale correlations)
``describe(data)``                                ``psych::describe``
``cohen_kappa(data)``                             ``psych::cohen.kappa`` (unweighted, weighted)
``htmt(model, data)``                             ``semTools::htmt`` (HTMT and HTMT2)
``fornell_larcker(fit)``                          AVE (``semTools::AVE``) against squared
                                                  latent correlations
``factor_congruence(x, y)``                       ``psych::factor.congruence``
``score_overlap(keys, data)``                     ``psych::scoreOverlap``
``longitudinal_invariance(factors, data, ...)``   ``semTools::measEq.syntax(longFacNames=)``
                                                  + ``lavaan::cfa``: invariance over occasions
``retest_reliability(data, scale, id, time)``     test-retest r and ICC(A,1) of adjacent
                                                  assessments of patients without reliable
                                                  change (``psych::ICC``)
``mtmm(data, measures)``                          multitrait-multimethod matrix and Campbell
                                                  & Fiske's criteria
``score_items(keys, data)``                       ``psych::scoreItems`` (impute median/mean/
                                                  none; alpha, av.r, G6, item correlations)
``reliability_table(keys, data)``                 ``psych::reliability`` (omega_h, alpha,
                                                  omega_tot, Uni, r.fit, fa.fit, splits)
``unidim(data, keys)``                            ``psych::unidim``
``omega_sem(data, n_factors)``                    ``psych::omegaSem`` (bifactor CFA omegas)
``retest_analysis(data, items, id, time)``        ``psych::testRetest`` (r12, alpha by occasion,
                                                  item rii, profile rqq, variance components)
================================================  ===========================================
"""
from __future__ import annotations

from ._agreement import KappaResult, cohen_kappa
from ._cor_ci import CorCiResult, cor_ci
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
from ._longitudinal import (
    LongitudinalInvarianceResult,
    longitudinal_invariance,
    longitudinal_syntax,
)
from ._omega_sem import OmegaSemResult, omega_sem
from ._overlap import ScoreOverlapResult, score_overlap
from ._reliability_table import ReliabilityTableResult, UnidimResult, reliability_table, unidim
from ._retest import MTMMResult, RetestResult, mtmm, retest_reliability
from ._score_items import ScoreItemsResult, score_items
from ._test_retest import RetestAnalysisResult, retest_analysis

__all__ = [
    "corr_test", "CorrTestResult", "p_adjust", "cor_ci", "CorCiResult",
    "describe", "DescribeResult",
    "cohen_kappa", "KappaResult",
    "htmt", "HTMTResult", "fornell_larcker", "FornellLarckerResult",
    "factor_congruence", "CongruenceResult",
    "score_overlap", "ScoreOverlapResult",
    "longitudinal_invariance", "longitudinal_syntax", "LongitudinalInvarianceResult",
    "retest_reliability", "RetestResult", "mtmm", "MTMMResult",
    "score_items", "ScoreItemsResult", "reliability_table", "ReliabilityTableResult",
    "unidim", "UnidimResult", "omega_sem", "OmegaSemResult",
    "retest_analysis", "RetestAnalysisResult",
]
