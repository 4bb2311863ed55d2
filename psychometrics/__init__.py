"""psychometrics: scoring, validation and within/between-patient models for
psychotherapy questionnaires.

Subpackages (imported lazily, so ``import psychometrics`` stays fast):

``instruments``  item banks declared in YAML (pydantic models, loader, registry)
``io``           reading and writing response data, long <-> wide
``scoring``      the scoring engine and clinical significance
``reliability``  alpha, omega, split-half, ICC, polychoric, multilevel reliability
``efa``          exploratory factor analysis
``sem``          structural equation models with lavaan syntax
``multilevel``   within/between decomposition and linear mixed models
``irt``          item response theory (graded response model, scores, DIF, short forms)
``simulate``     longitudinal psychotherapy data with known parameters
``report``       validation reports rendered from result objects
"""
from __future__ import annotations

import importlib
from typing import Any

from . import exceptions
from .exceptions import *  # noqa: F401,F403  (re-export the error classes)

__version__ = "0.1.0"

_SUBPACKAGES = {
    "instruments", "io", "scoring", "reliability", "efa", "sem", "multilevel",
    "simulate", "report", "irt",
}
# Top-level conveniences: name -> (module, attribute)
_SHORTCUTS = {
    "load_instrument": ("psychometrics.instruments", "load_instrument"),
    "list_instruments": ("psychometrics.instruments", "list_instruments"),
    "score": ("psychometrics.scoring", "score"),
    "item_data": ("psychometrics.io", "item_data"),
    "ItemData": ("psychometrics.io", "ItemData"),
}


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return importlib.import_module(f"psychometrics.{name}")
    if name in _SHORTCUTS:
        module, attr = _SHORTCUTS[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'psychometrics' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBPACKAGES | set(_SHORTCUTS))
