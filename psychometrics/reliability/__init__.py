"""Reliability: alpha, split-half, polychoric/ordinal alpha, ICC, whole instruments.

Numbers equal those of R's psych 2.2.9:

================================  ==============================================
``alpha(data, reverse=...)``      ``psych::alpha`` (raw/std alpha, G6, item stats)
``alpha_from_matrix(m)``          ``psych::alpha`` of a covariance/correlation matrix
``polychoric(data)``              ``psych::polychoric`` (``.rho``, ``.tau``, ``.n_obs``)
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
from ._polychoric import PolychoricResult, ordinal_alpha, polychoric, polychoric_pair
from ._split_half import SplitHalfResult, split_half
from ..efa.omega import OmegaResult, omega  # psych::omega needs the factor analysis
# CFA-based reliability (semTools::reliability, compRelSEM, AVE) needs the SEM engine.
from ..sem.reliability import ave as cfa_ave
from ..sem.reliability import comp_rel_sem as cfa_composite_reliability
from ..sem.reliability import reliability as cfa_reliability

__all__ = [
    "alpha", "alpha_from_matrix", "AlphaResult",
    "polychoric", "PolychoricResult", "ordinal_alpha", "polychoric_pair",
    "split_half", "SplitHalfResult",
    "icc", "ICCResult",
    "instrument_reliability", "InstrumentReliability",
    "omega", "OmegaResult",
    "cfa_reliability", "cfa_composite_reliability", "cfa_ave",
]


def __getattr__(name: str):
    # Names defined in the multilevel module (written separately) are forwarded
    # lazily, e.g. ``psychometrics.reliability.multilevel_reliability``.
    if name.startswith("_"):
        raise AttributeError(name)
    try:
        mod = importlib.import_module(f"{__name__}.multilevel")
    except ModuleNotFoundError as exc:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from exc
    if hasattr(mod, name):
        return getattr(mod, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

