"""Reliability: alpha, split-half, polychoric/ordinal alpha, ICC, whole instruments.

Numbers equal those of R's psych 2.2.9:

================================  ==============================================
``alpha(data, reverse=...)``      ``psych::alpha`` (raw/std alpha, G6, item stats)
``alpha_from_matrix(m)``          ``psych::alpha`` of a covariance/correlation matrix
``polychoric(data)``              ``psych::polychoric`` (``.rho``, ``.tau``, ``.n_obs``)
``tetrachoric(data)``             ``psych::tetrachoric`` (continuity correction of empty cells)
``ordinal_alpha(data)``           ``psych::alpha(polychoric(x)$rho)``
``split_half(data)``              ``psych::splitHalf``
``icc(data)``                     ``psych::ICC`` (six Shrout-Fleiss forms)
``instrument_reliability(d, i)``  every scale of an item bank in one table
================================  ==============================================

``omega`` (``psych::omega``, Schmid-Leiman) is re-exported from :mod:`psychometrics.efa`;
``cfa_reliability``, ``cfa_composite_reliability`` and ``cfa_ave`` (semTools'
``reliability``, ``compRelSEM``, ``AVE``) from :mod:`psychometrics.sem`; multilevel
reliability lives in :mod:`psychometrics.reliability.multilevel`.
"""
from __future__ import annotations

import importlib

from ._alpha import AlphaResult, alpha, alpha_from_matrix
from ._icc import ICCResult, icc
from ._instrument import InstrumentReliability, instrument_reliability
from ..numerics.polychoric import PolychoricResult, polychoric, polychoric_pair
from ._ordinal import ordinal_alpha
from ._split_half import SplitHalfResult, split_half
from ..numerics.tetrachoric import tetrachoric

# Imported on first use, so that ``import psychometrics.reliability`` does not load the
# factor analysis and SEM engines: name -> (module, attribute).
_LAZY = {
    # psych::omega (Schmid-Leiman) needs the factor analysis
    "omega": ("psychometrics.efa.omega", "omega"),
    "OmegaResult": ("psychometrics.efa.omega", "OmegaResult"),
    # semTools::reliability, compRelSEM, AVE need the SEM engine
    "cfa_reliability": ("psychometrics.sem.reliability", "reliability"),
    "cfa_composite_reliability": ("psychometrics.sem.reliability", "comp_rel_sem"),
    "cfa_ave": ("psychometrics.sem.reliability", "ave"),
    # psych::multilevel.reliability (crossed REML variance components)
    "multilevel_reliability": (f"{__name__}.multilevel", "multilevel_reliability"),
    "multilevel_reliability_long": (f"{__name__}.multilevel", "multilevel_reliability_long"),
    "MultilevelReliabilityResult": (f"{__name__}.multilevel", "MultilevelReliabilityResult"),
}

__all__ = [
    "alpha", "alpha_from_matrix", "AlphaResult",
    "polychoric", "PolychoricResult", "ordinal_alpha", "polychoric_pair", "tetrachoric",
    "split_half", "SplitHalfResult",
    "icc", "ICCResult",
    "instrument_reliability", "InstrumentReliability",
    "omega", "OmegaResult",
    "cfa_reliability", "cfa_composite_reliability", "cfa_ave",
    "multilevel_reliability", "multilevel_reliability_long", "MultilevelReliabilityResult",
]


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = _LAZY[name]
    return getattr(importlib.import_module(module), attr)
