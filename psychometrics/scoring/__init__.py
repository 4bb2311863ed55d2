"""Scoring: scale scores from item responses, missing-data rules, clinical significance.

``score(data, instrument, ...)`` -> :class:`ScoreResult`;
``clinical_significance(scores, instrument, scale=..., ...)`` ->
:class:`ClinicalSignificanceResult`. Everything about an instrument (items,
reverse keys, sum or mean, missing-data rules, norms) comes from its bank.
"""
from .engine import ScoreResult, score
from .plan import STATUSES, make_plan, resolve_instrument

__all__ = ["score", "ScoreResult", "STATUSES", "make_plan",
           "resolve_instrument"]

try:  # clinical significance lives in its own module
    from .clinical import ClinicalSignificanceResult, clinical_significance  # noqa: F401

    __all__ += ["clinical_significance", "ClinicalSignificanceResult"]
except ModuleNotFoundError as _exc:  # pragma: no cover - while the module is being written
    if _exc.name != f"{__name__}.clinical":
        raise
