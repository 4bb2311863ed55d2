"""Item response theory: graded response and generalized partial credit models by
full-information marginal maximum likelihood, person scores, information, item fit,
differential item functioning and short-form selection.

Public names are imported lazily (``import psychometrics.irt`` loads nothing heavy).

``fit_irt``          unidimensional graded response / GPCM model (R: mirt::mirt, OpenMx BA81)
``IRTResult``        its result
``score_persons``    EAP / MAP person scores with standard errors (mirt::fscores)
``sum_score_table``  EAP for each sum score, Lord-Wingersky (mirt::fscores(full.scores=FALSE))
``information``      item and test information, SE curve, marginal reliability
``item_fit``         S-X2 item fit (mirt::itemfit)
``m2``               M2 limited-information fit with RMSEA (mirt::M2)
``local_dependence`` Q3 and LD chi-square (mirt::residuals)
``fit_bifactor``     bifactor model, general + subscale factors, two-tier (mirt::bfactor)
``dif_lr``           multiple-group likelihood-ratio DIF with anchors (mirt::DIF)
``dif_ordinal``      ordinal logistic regression DIF (lordif)
``select_items_irt`` short form by information over a theta range
``short_form_to_bank`` write a chosen short form into an item bank
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "fit_irt": "model", "IRTResult": "model",
    "score_persons": "scoring", "sum_score_table": "scoring", "PersonScores": "scoring",
    "SumScoreTable": "scoring",
    "information": "curves", "Information": "curves", "marginal_reliability": "curves",
    "item_fit": "fit", "m2": "fit", "local_dependence": "fit", "ItemFit": "fit",
    "M2Result": "fit", "LocalDependence": "fit",
    "dif_lr": "dif", "dif_ordinal": "dif", "DIFResult": "dif",
    "select_items_irt": "selection", "IRTShortForm": "selection",
    "fit_mirt": "mirt", "MIRTResult": "mirt",
    "fit_bifactor": "bifactor", "BifactorResult": "bifactor",
    "short_form_to_bank": "selection", "bank_categories": "selection",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"psychometrics.irt.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'psychometrics.irt' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
