"""Item selection for a new (short) version of a questionnaire, from an EFA.

* :func:`item_diagnostics` - one row per item: primary and secondary factor,
  cross-loading gap, communality, complexity and flags.
* :func:`cross_loadings`, :func:`low_loading_items` - the two usual reasons to drop.
* :func:`select_items` - a short form chosen by a declared :class:`ShortFormRule`.

All thresholds apply to absolute pattern loadings.
"""
from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ..exceptions import DataQualityWarning, ModelSpecificationError
from ._summary import Summary, efa_summary
from .model import FactorAnalysisResult

__all__ = ["ShortFormRule", "ShortForm", "item_diagnostics", "cross_loadings",
           "low_loading_items", "select_items"]


def _check_result(result, caller):
    if not isinstance(result, FactorAnalysisResult):
        raise ModelSpecificationError(
            f"{caller} needs a FactorAnalysisResult (from psychometrics.efa.fa); got "
            f"{type(result).__name__}.")


def _check_threshold(value, name, caller):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) \
            or not (0 <= value <= 1):
        raise ModelSpecificationError(
            f"The {name!r} parameter of {caller} must be a number in [0, 1]. "
            f"Got {value!r} instead.")


def item_diagnostics(result: FactorAnalysisResult, *, min_loading: float = 0.40,
                     cross_loading: float = 0.30, min_gap: float = 0.0) -> pd.DataFrame:
    """Per-item diagnostics of an EFA solution.

    Parameters
    ----------
    result : FactorAnalysisResult
    min_loading : float
        An item whose largest absolute loading is below this is ``low_loading``.
    cross_loading : float
        An item with an absolute loading of at least this on a second factor is
        ``cross_loading``.
    min_gap : float
        Also flag ``cross_loading`` when ``|primary| - |secondary| < min_gap``.

    Returns
    -------
    DataFrame
        Columns ``item, primary_factor, primary_loading, keyed (+1/-1),
        secondary_factor, secondary_loading, gap, n_salient, communality,
        uniqueness, complexity, msa, low_loading, cross_loading, keep``.

    Notes
    -----
    ``complexity`` is Hofmann's index ``(sum l^2)^2 / sum l^4`` (psych's
    ``complexity``); ``n_salient`` counts loadings with ``|l| >= cross_loading``;
    ``msa`` is the item's Kaiser-Meyer-Olkin sampling adequacy in the analysed
    correlation matrix (``psych::KMO(r)$MSAi``).
    """
    _check_result(result, "item_diagnostics")
    for v, n in ((min_loading, "min_loading"), (cross_loading, "cross_loading"),
                 (min_gap, "min_gap")):
        _check_threshold(v, n, "item_diagnostics")
    L = result.loadings.to_numpy()
    names = np.asarray(result.factor_names, dtype=object)
    a = np.abs(L)
    k = L.shape[1]
    order = np.argsort(-a, axis=1, kind="stable")
    rows = np.arange(L.shape[0])
    prim = order[:, 0]
    prim_l = L[rows, prim]
    if k > 1:
        sec = order[:, 1]
        sec_l = L[rows, sec]
        sec_name = names[sec]
    else:
        sec_l = np.full(L.shape[0], np.nan)
        sec_name = np.full(L.shape[0], None, dtype=object)
    gap = np.abs(prim_l) - np.abs(sec_l)
    low = np.abs(prim_l) < min_loading
    cross = (np.abs(sec_l) >= cross_loading) | (gap < min_gap) if k > 1 \
        else np.zeros(L.shape[0], bool)
    out = pd.DataFrame({
        "item": np.asarray(result.items, dtype=object),
        "primary_factor": names[prim],
        "primary_loading": prim_l,
        "keyed": np.where(prim_l < 0, -1, 1),
        "secondary_factor": sec_name,
        "secondary_loading": sec_l,
        "gap": gap,
        "n_salient": (a >= cross_loading).sum(axis=1),
        "communality": result.communalities.to_numpy(),
        "uniqueness": result.uniquenesses.to_numpy(),
        "complexity": result.complexity.to_numpy(),
        "msa": _item_msa(result),
        "low_loading": low,
        "cross_loading": cross,
    })
    out["keep"] = ~(out["low_loading"] | out["cross_loading"])
    return out


def _item_msa(result: FactorAnalysisResult) -> np.ndarray:
    r = result.correlation.to_numpy().copy()
    q = np.linalg.inv(r)
    d = 1.0 / np.sqrt(np.diag(q))
    q = q * np.outer(d, d)
    np.fill_diagonal(q, 0.0)
    np.fill_diagonal(r, 0.0)
    r2 = (r * r).sum(axis=0)
    return r2 / (r2 + (q * q).sum(axis=0))


def cross_loadings(result: FactorAnalysisResult, threshold: float = 0.30) -> pd.DataFrame:
    """Items loading ``|l| >= threshold`` on more than one factor.

    Returns a long DataFrame ``item, factor, loading`` (one row per salient
    loading of each cross-loading item).
    """
    _check_result(result, "cross_loadings")
    _check_threshold(threshold, "threshold", "cross_loadings")
    long = result.loadings_long()
    sal = long[long["loading"].abs() >= threshold]
    multi = sal.groupby("item", sort=False)["factor"].transform("size") > 1
    return sal.loc[multi, ["item", "factor", "loading"]].reset_index(drop=True)


def low_loading_items(result: FactorAnalysisResult, threshold: float = 0.40) -> list[str]:
    """Items whose largest absolute loading is below ``threshold``."""
    _check_result(result, "low_loading_items")
    _check_threshold(threshold, "threshold", "low_loading_items")
    a = result.loadings.abs().max(axis=1)
    return [str(i) for i in a.index[a < threshold]]


@dataclass(frozen=True)
class ShortFormRule:
    """The declared rule that picks a short form.

    Attributes
    ----------
    items_per_factor : int
        How many items to keep per factor.
    min_loading : float
        Drop items whose primary absolute loading is below this.
    max_cross_loading : float
        Drop items with an absolute secondary loading at or above this.
    min_gap : float
        Drop items whose primary minus secondary absolute loading is below this.
    rank_by : {"primary_loading", "communality", "gap"}
        Order of preference among the eligible items of a factor.
    """

    items_per_factor: int = 3
    min_loading: float = 0.40
    max_cross_loading: float = 0.30
    min_gap: float = 0.0
    rank_by: str = "primary_loading"

    def validate(self) -> None:
        k = self.items_per_factor
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ModelSpecificationError(
                "The 'items_per_factor' field of ShortFormRule must be a positive integer. "
                f"Got {k!r} instead.")
        for n in ("min_loading", "max_cross_loading", "min_gap"):
            _check_threshold(getattr(self, n), n, "ShortFormRule")
        if self.rank_by not in ("primary_loading", "communality", "gap"):
            raise ModelSpecificationError(
                "The 'rank_by' field of ShortFormRule must be 'primary_loading', "
                f"'communality' or 'gap'. Got {self.rank_by!r} instead.")

    def describe(self) -> str:
        return (f"keep the {self.items_per_factor} item(s) per factor with the highest "
                f"{self.rank_by.replace('_', ' ')} among items with |primary loading| >= "
                f"{self.min_loading}, |secondary loading| < {self.max_cross_loading} and "
                f"gap >= {self.min_gap}")


@dataclass(frozen=True)
class ShortForm:
    """A short form picked by :func:`select_items`.

    Attributes
    ----------
    items : tuple of str
        Selected items, grouped by factor (in factor order), best first.
    by_factor : dict
        factor -> tuple of its selected items.
    keys : dict
        item -> +1/-1 (sign of its primary loading; -1 = reverse-keyed).
    table : DataFrame
        :func:`item_diagnostics` plus ``selected`` (bool), ``rank`` (within its
        factor among eligible items, NaN if not eligible) and ``reason``
        (why an item was not selected).
    rule : ShortFormRule
    complete : bool
        Every factor got ``items_per_factor`` items.
    """

    items: tuple[str, ...]
    by_factor: dict
    keys: dict
    table: pd.DataFrame
    rule: ShortFormRule
    complete: bool

    def rule_dict(self) -> dict:
        return asdict(self.rule)

    def to_frame(self) -> pd.DataFrame:
        """The item table with ``selected`` and ``rank`` (``table``)."""
        return self.table.copy()

    def summary(self) -> Summary:
        sel = self.table[self.table["selected"]].set_index("item")
        return efa_summary(
            title="Short form", info={"rule": self.rule.describe(),
                                      "items": len(self.items),
                                      "complete": self.complete},
            tables=[("Selected items", sel[["primary_factor", "primary_loading",
                                            "secondary_loading", "communality"]])])


def select_items(result: FactorAnalysisResult, rule: ShortFormRule | None = None,
                 **rule_kwargs) -> ShortForm:
    """Choose a short form by a declared rule.

    Parameters
    ----------
    result : FactorAnalysisResult
    rule : ShortFormRule, optional
        The rule; or give its fields as keyword arguments
        (``select_items(res, items_per_factor=4, min_loading=0.5)``).

    Returns
    -------
    ShortForm

    Warns
    -----
    DataQualityWarning
        A factor has fewer eligible items than ``items_per_factor``.

    Notes
    -----
    Each item belongs to its primary factor (largest absolute pattern loading).
    Items failing the thresholds are excluded; the remaining items of each
    factor are ranked by ``rank_by`` (absolute loading, communality or gap;
    ties keep the item order) and the first ``items_per_factor`` are kept.
    """
    _check_result(result, "select_items")
    if rule is None:
        try:
            rule = ShortFormRule(**rule_kwargs)
        except TypeError as exc:
            raise ModelSpecificationError(f"select_items: {exc}. Valid fields: "
                                          "items_per_factor, min_loading, max_cross_loading, "
                                          "min_gap, rank_by.") from None
    elif rule_kwargs:
        raise ModelSpecificationError("select_items takes either rule= or rule fields as "
                                      "keyword arguments, not both.")
    rule.validate()
    diag = item_diagnostics(result, min_loading=rule.min_loading,
                            cross_loading=rule.max_cross_loading, min_gap=rule.min_gap)
    score = {"primary_loading": diag["primary_loading"].abs(),
             "communality": diag["communality"], "gap": diag["gap"]}[rule.rank_by]
    diag["selected"] = False
    diag["rank"] = np.nan
    reason = np.where(diag["low_loading"], "low loading",
                      np.where(diag["cross_loading"], "cross-loading", ""))
    diag["reason"] = reason.astype(object)
    by_factor: dict[str, tuple[str, ...]] = {}
    complete = True
    short = []
    for f in result.factor_names:
        idx = np.flatnonzero((diag["primary_factor"] == f).to_numpy() & diag["keep"].to_numpy())
        ordr = idx[np.argsort(-score.to_numpy()[idx], kind="stable")]
        diag.loc[ordr, "rank"] = np.arange(1, len(ordr) + 1, dtype=float)
        chosen = ordr[: rule.items_per_factor]
        diag.loc[chosen, "selected"] = True
        diag.loc[ordr[rule.items_per_factor:], "reason"] = "not among the best"
        names = tuple(diag.loc[chosen, "item"])
        by_factor[f] = names
        short.extend(names)
        if len(chosen) < rule.items_per_factor:
            complete = False
            warnings.warn(
                f"Factor {f} has only {len(chosen)} item(s) meeting the rule "
                f"({rule.describe()}); the short form is incomplete for it.",
                DataQualityWarning, stacklevel=2)
    keys = {it: int(k) for it, k in zip(diag["item"], diag["keyed"]) if it in set(short)}
    return ShortForm(items=tuple(short), by_factor=by_factor, keys=keys, table=diag,
                     rule=rule, complete=complete)
