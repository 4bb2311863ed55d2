"""Short forms chosen by item information over a target range of theta, and writing the
chosen form into an item bank (instrument YAML) as a new form.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..exceptions import ModelSpecificationError
from ..results import Summary
from . import _items
from .curves import marginal_reliability

__all__ = ["select_items_irt", "IRTShortForm", "short_form_to_bank", "bank_categories"]


@dataclass(frozen=True, eq=False)
class IRTShortForm:
    """Items chosen by :func:`select_items_irt`.

    ``table`` has one row per item: ``item, mean_information`` (over the target range),
    ``selected``, ``order`` (the step at which it was chosen).  ``curve`` holds the test
    information of the full and the short form over the target grid.
    """

    items: tuple[str, ...]
    theta_range: tuple[float, float]
    criterion: str
    table: pd.DataFrame
    curve: pd.DataFrame
    information_retained: float
    marginal_reliability_full: float
    marginal_reliability_short: float

    def describe(self) -> str:
        lo, hi = self.theta_range
        how = {"mean": "largest mean information", "min": "largest minimum test information"}
        return (f"{len(self.items)} items chosen one at a time for the {how[self.criterion]} "
                f"over theta in [{lo:g}, {hi:g}] (psychometrics.irt.select_items_irt)")

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        return Summary(
            title="IRT short form",
            header=(self.describe(),
                    f"Information retained over the range: {self.information_retained:.1%}",
                    f"Marginal reliability: full {self.marginal_reliability_full:.3f}, short "
                    f"{self.marginal_reliability_short:.3f}"),
            blocks=(("Items", self.table),))


def select_items_irt(result, n_items: int, *, theta_range: tuple[float, float] = (-2.0, 2.0),
                     criterion: str = "mean", keep: Sequence[str] = (),
                     exclude: Sequence[str] = (), n_points: int = 41) -> IRTShortForm:
    """Choose ``n_items`` items that inform most over ``theta_range``.

    Parameters
    ----------
    result : IRTResult
    n_items : int
    theta_range : (low, high)
        Target range of theta, e.g. ``(0, 3)`` for a form that should measure the upper
        range well.
    criterion : {"mean", "min"}
        ``"mean"``: the items with the largest mean information over the range (the sum is
        additive, so this is optimal for the mean test information).  ``"min"``: items
        added one at a time, each maximising the smallest test information over the range
        (an even precision across the range).
    keep : items that must be in the form; exclude : items that must not.

    Returns
    -------
    IRTShortForm

    Notes
    -----
    R: no single function; mirt users combine ``iteminfo`` over a theta grid by hand.
    """
    lo, hi = map(float, theta_range)
    if not hi > lo:
        raise ModelSpecificationError(
            f"theta_range must be (low, high) with high > low; got {theta_range}.")
    if criterion not in ("mean", "min"):
        raise ModelSpecificationError(
            f"The 'criterion' parameter must be 'mean' or 'min'; got {criterion!r} instead.")
    unknown = [i for i in list(keep) + list(exclude) if i not in result.items]
    if unknown:
        raise ModelSpecificationError(f"Item(s) {', '.join(unknown)} are not in the model.")
    pool = [i for i in result.items if i not in exclude]
    if not (len(keep) <= n_items <= len(pool)) or n_items < 1:
        raise ModelSpecificationError(
            f"n_items must be between {max(1, len(keep))} (the kept items) and {len(pool)} "
            f"(the items available); got {n_items}.")
    th = np.linspace(lo, hi, n_points)
    info = {it: _items.item_information(result.model, result.item_params(it), th)
            for it in result.items}
    chosen = list(keep)
    while len(chosen) < n_items:
        cur = np.sum([info[i] for i in chosen], axis=0) if chosen else np.zeros_like(th)
        cand = [i for i in pool if i not in chosen]
        score = [(cur + info[i]).mean() if criterion == "mean" else (cur + info[i]).min()
                 for i in cand]
        chosen.append(cand[int(np.argmax(score))])
    order = {it: k + 1 for k, it in enumerate(chosen)}
    table = pd.DataFrame({"item": list(result.items),
                          "mean_information": [info[i].mean() for i in result.items],
                          "selected": [i in order for i in result.items],
                          "order": [order.get(i, np.nan) for i in result.items]})
    full = np.sum(list(info.values()), axis=0)
    short = np.sum([info[i] for i in chosen], axis=0)
    curve = pd.DataFrame({"theta": th, "full": full, "short": short})
    items = tuple(i for i in result.items if i in order)       # keep the model's order
    return IRTShortForm(items=items, theta_range=(lo, hi), criterion=criterion, table=table,
                        curve=curve, information_retained=float(short.mean() / full.mean()),
                        marginal_reliability_full=marginal_reliability(result),
                        marginal_reliability_short=marginal_reliability(result, items=items))


def short_form_to_bank(short_form: IRTShortForm, bank: str | os.PathLike, form_id: str, *,
                       name: str | None = None, output: str | os.PathLike | None = None) -> str:
    """Add an IRT short form to an item bank as the form ``form_id``.

    The bank's text is kept as is; the form (its items, the bank scales that keep at least
    one item, provenance ``verified: false``) is inserted under ``forms:`` and the result is
    validated by the bank loader.  Missing-data rules are carried over as
    :func:`psychometrics.instruments.forms.add_form` describes.  ``output`` writes the YAML there (never over the input).

    Returns
    -------
    str
        The new YAML text.

    Raises
    ------
    ModelSpecificationError
        Items not in the bank, an existing form id, writing over the input bank.
    BankValidationError
        The resulting bank does not validate.
    """
    from ..instruments.forms import add_form

    if not isinstance(short_form, IRTShortForm):
        raise ModelSpecificationError(
            f"short_form_to_bank needs an IRTShortForm (from select_items_irt); got "
            f"{type(short_form).__name__}.")
    return add_form(bank, form_id, short_form.items,
                    name=name or f"IRT short form ({len(short_form.items)} items)",
                    source=short_form.describe(),
                    note="chosen by item information from an IRT calibration; validate it in "
                         "new data",
                    output=output)


def bank_categories(bank, form: str | None = None) -> dict:
    """``{item: [min, ..., max]}`` from an item bank's response scale, for
    ``fit_irt(..., categories=bank_categories("pear"))`` (an unchosen category is then an
    error rather than silently absent)."""
    from ..instruments import load_instrument

    inst = load_instrument(bank).with_form(form)
    values = list(range(inst.response_scale.min, inst.response_scale.max + 1))
    return {i: values for i in inst.item_ids}
