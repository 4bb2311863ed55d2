"""Which bank plays which part in tracking: the outcome measure and the alliance measures.

An instrument's *tracked scale* is the one stored in ``assessments.score`` and used by the
signals: ``total`` for every shipped bank. Outcome instruments get expected-recovery curves
and reliable-change / cut-off signals from their norm set; alliance instruments get the
rupture signal (a score below the patient's own running mean).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..instruments import list_instruments, load_instrument
from ..instruments.spec import Instrument

__all__ = ["Role", "role_of", "TRACKED_SCALE", "DEFAULT_NORMS", "instrument"]

#: The scale stored as ``assessments.score`` for each instrument.
TRACKED_SCALE = "total"
#: Norm set used for the outcome's reliable change and cut-off unless another is chosen.
DEFAULT_NORMS = {"oq-45.2": "us"}
OUTCOME = ("oq-45.2",)
ALLIANCE = ("wai-sr", "wai-s", "pear")


@dataclass(frozen=True)
class Role:
    instrument: str
    kind: str           # "outcome" | "alliance" | "other"
    scale: str
    higher_is_worse: bool


@lru_cache(maxsize=None)
def instrument(name: str) -> Instrument:
    return load_instrument(name)


@lru_cache(maxsize=None)
def known_instruments() -> tuple[str, ...]:
    return tuple(list_instruments())


@lru_cache(maxsize=None)
def role_of(name: str) -> Role:
    inst = instrument(name)
    scale = TRACKED_SCALE if TRACKED_SCALE in inst.scales else next(iter(inst.scales))
    kind = "outcome" if name in OUTCOME else "alliance" if name in ALLIANCE else "other"
    return Role(name, kind, scale, bool(inst.scales[scale].higher_is_worse))
