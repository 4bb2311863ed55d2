"""From an instrument to a scoring plan: which item feeds which scale, how.

The plan is the engine's only view of an instrument, so nothing about a
particular questionnaire lives in the engine: reverse keys, sum or mean,
missing-data rules and composites all come from the bank.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from ..exceptions import InstrumentError
from ..instruments.spec import Instrument, MissingRule

__all__ = ["ScalePlan", "ScoringPlan", "make_plan", "resolve_instrument", "STATUSES"]

#: Status of a scale score, in order of severity (a composite takes the worst of its components).
STATUSES = ("complete", "prorated", "imputed", "too_many_missing")
COMPLETE, PRORATED, IMPUTED, TOO_MANY = range(4)


def resolve_instrument(instrument: str | os.PathLike | Instrument) -> Instrument:
    """An :class:`Instrument` from a shipped name, a YAML path or an instrument."""
    if isinstance(instrument, Instrument):
        return instrument
    if isinstance(instrument, (str, os.PathLike)):
        from ..instruments import load_instrument

        return load_instrument(instrument)
    raise TypeError(f"The 'instrument' parameter must be a bank name, a YAML path or an "
                    f"Instrument. Got {type(instrument).__name__} instead.")


@dataclass(frozen=True)
class ScalePlan:
    id: str
    items: tuple[str, ...]
    reverse: frozenset
    method: str
    rule: MissingRule | None
    components: tuple[str, ...]
    higher_is_worse: bool

    @property
    def k(self) -> int:
        return len(self.items)

    @property
    def composite(self) -> bool:
        return bool(self.components)


@dataclass(frozen=True)
class ScoringPlan:
    instrument: Instrument
    form: str | None
    lo: float
    hi: float
    integer: bool
    items: tuple[str, ...]          # every item some scale needs, in bank order
    scales: tuple[ScalePlan, ...]   # item-scored scales first, then composites, bank order within
    full_item_ids: frozenset = frozenset()   # every item of the bank, whatever the form

    def scale(self, sid: str) -> ScalePlan:
        for s in self.scales:
            if s.id == sid:
                return s
        raise KeyError(sid)


def make_plan(instrument: Instrument, form: str | None = None) -> ScoringPlan:
    """Compile ``instrument`` (as ``form`` uses it) into a :class:`ScoringPlan`."""
    if form is not None and form not in instrument.forms:
        known = ", ".join(sorted(instrument.forms)) or "none"
        raise InstrumentError(f"Instrument {instrument.id!r} has no form {form!r}; its forms "
                              f"are: {known}.")
    used_form = form if form is not None else instrument.default_form
    inst = instrument.with_form(form)
    item_scales, composites = [], []
    for sid, s in inst.scales.items():
        plan = ScalePlan(sid, tuple(s.items), frozenset(s.reverse), s.method, s.missing,
                         tuple(s.components), s.higher_is_worse)
        (composites if s.components else item_scales).append(plan)
    needed = {i for s in item_scales for i in s.items}
    items = tuple(i for i in inst.item_ids if i in needed)
    rs = inst.response_scale
    return ScoringPlan(inst, used_form, float(rs.min), float(rs.max), rs.integer, items,
                       tuple(item_scales + composites), frozenset(instrument.item_ids))
