"""Within/between-patient decomposition, lags and linear mixed models.

Public API
----------
``decompose``  person means (between), deviations (within), grand-mean-centred means
``lead``, ``lag``  next/previous assessment's value by patient in time order
``mixed``      Gaussian LMM (REML/ML) with random intercepts and slopes, Satterthwaite df;
               several grouping factors (nested a/b, crossed) give a ``MultiMixedResult``;
               binomial/Poisson GLMMs with ``family=`` (``GlmmResult``)
``compare``    likelihood-ratio tests of nested models (lme4 ``anova``)
``statsby``    within/between correlations, ICC1/ICC2 (psych ``statsBy``)
``progress``   the study's within/between analysis of next month's outcome
"""
from .decompose import ShiftResult, check_panel, decompose, lag, lead
from .glmm import GlmmResult
from ._glmm_multi import MultiGlmmResult
from .mixed import MixedResult, MixedSummary, compare, mixed
from ._multi import MultiMixedResult
from .progress import ProgressResult, ThreeLevelProgressResult, progress, progress_three_level
from .statsby import StatsByResult, ThreeLevelStatsByResult, statsby

__all__ = ["decompose", "lead", "lag", "ShiftResult", "check_panel", "mixed", "compare",
           "MixedResult", "MixedSummary", "GlmmResult", "MultiMixedResult", "statsby",
           "StatsByResult", "progress", "ProgressResult", "MultiGlmmResult",
           "progress_three_level", "ThreeLevelProgressResult", "ThreeLevelStatsByResult"]
