"""Reliability of every scale of an item bank in one call."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, PsychometricsWarning
from ._alpha import AlphaResult, alpha
from ._ordinal import ordinal_alpha
from ._split_half import SplitHalfResult, split_half
from ._summary import Summary, reliability_summary

__all__ = ["instrument_reliability", "InstrumentReliability"]

_TABLE_COLS = ["scale", "name", "n_items", "n_reversed", "n_obs", "n_complete", "raw_alpha",
               "std_alpha", "g6_smc", "average_r", "median_r", "signal_to_noise", "ase",
               "alpha_ci_lower", "alpha_ci_upper", "lambda2", "max_split_half",
               "min_split_half", "mean_split_half", "ordinal_alpha", "mean", "sd", "note"]


@dataclass(frozen=True)
class InstrumentReliability:
    """Result of :func:`instrument_reliability`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per scale: ``scale`` (id), ``name``, ``n_items``, ``n_reversed``,
        ``n_obs`` (rows with at least one answered item of the scale),
        ``n_complete`` (rows answering every item), ``raw_alpha``,
        ``std_alpha``, ``g6_smc``, ``average_r``, ``median_r``,
        ``signal_to_noise``, ``ase``, ``alpha_ci_lower``/``alpha_ci_upper``
        (Feldt), ``lambda2``, ``max_split_half``/``min_split_half``/
        ``mean_split_half`` (``psych::splitHalf``), ``ordinal_alpha`` (NaN unless
        ``ordinal=True``), ``mean``/``sd`` of the mean item score, and ``note``
        (why a scale has no coefficients, e.g. fewer than two items).
    items : pandas.DataFrame
        One row per (scale, item): ``key``, ``n``, ``raw_r``, ``std_r``,
        ``r_cor``, ``r_drop``, ``mean``, ``sd`` (of the keyed item),
        ``alpha_if_dropped``, ``prop_min``/``prop_max`` (share of answers at
        the lowest/highest point of the response scale, unreversed: floor and
        ceiling) and ``prop_missing``.
    alphas : dict
        Scale id -> :class:`AlphaResult`.
    split_halves : dict
        Scale id -> :class:`SplitHalfResult`.
    """

    instrument: str
    version: str
    table: pd.DataFrame
    items: pd.DataFrame
    alphas: dict[str, AlphaResult]
    split_halves: dict[str, SplitHalfResult]
    ordinal: dict[str, AlphaResult]
    options: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """One row per scale (``table``)."""
        return self.table.copy()

    def summary(self) -> Summary:
        cols = ["n_items", "n_obs", "raw_alpha", "std_alpha", "g6_smc", "average_r",
                "alpha_ci_lower", "alpha_ci_upper", "lambda2", "max_split_half", "min_split_half"]
        if self.table["ordinal_alpha"].notna().any():
            cols.append("ordinal_alpha")
        notes = tuple(f"{r.scale}: {r.note}" for r in self.table.itertuples() if r.note)
        # Instrument.with_form writes the version as "<version> (<form>)"
        ver, form = self.version, ""
        if ver.endswith(")") and " (" in ver:
            ver, form = ver[:-1].rsplit(" (", 1)
        what = f"version {ver}" + (f", form {form}" if form else "")
        return reliability_summary(
            f"Reliability of {self.instrument} ({what})",
            {"Scales": self.table.set_index("scale")[cols]}, notes)


def instrument_reliability(data: pd.DataFrame, instrument, *, form: str | None = None,
                           scales=None, missing: str = "pairwise", ordinal: bool = False,
                           seed: int | None = 0, level: float = 0.95) -> InstrumentReliability:
    """Alpha, lambda 6, split-half and item statistics for every scale of a bank.

    Parameters
    ----------
    data : pandas.DataFrame
        Raw responses, one column per item id of the bank (other columns are
        ignored). Reverse-keyed items are given unreversed; they are reversed
        here as ``min + max - x`` with the bank's response scale.
    instrument : str or Instrument
        A shipped bank's name / a bank file (see
        :func:`psychometrics.load_instrument`) or a loaded instrument.
    form : str, optional
        Form of the instrument (default: the bank's default form).
    scales : sequence of str, optional
        Scale ids to analyse (default: all, totals included).
    missing : {"pairwise", "listwise"}
        Missing-data handling, as in :func:`alpha`.
    ordinal : bool
        Also compute ordinal alpha (polychoric correlations) for each scale.
    seed : int, optional
        Seed of the split-half sampling of scales with more than 16 items.
    level : float
        Level of the Feldt interval.

    Returns
    -------
    InstrumentReliability

    Raises
    ------
    DataValidationError
        Items of the requested scales are missing from ``data``, or responses lie
        outside the bank's response scale.

    Notes
    -----
    Rows that answered none of a scale's items are left out of that scale
    (they are named in a ``DataQualityWarning``); ``n_obs`` counts the others.
    Each scale row equals ``psych::alpha(x[, items], keys = reversed)`` and
    ``psych::splitHalf(x[, items], key = reversed)`` on the same responses
    (with the bank's response range for reversal, which equals psych's when
    both extreme categories are observed). Warnings from the individual
    analyses (e.g. an item correlating negatively with its scale) are
    re-issued with the scale id.
    """
    from ..instruments import Instrument, load_instrument

    inst = instrument if isinstance(instrument, Instrument) else load_instrument(instrument)
    inst = inst.with_form(form)
    from ..io.itemdata import ItemData, as_frame, item_data

    checked = None
    rs = inst.response_scale
    if isinstance(data, ItemData):
        if data.scale == (float(rs.min), float(rs.max), bool(rs.integer)):
            checked = data          # checked against this response scale when it was built
        data = data.responses
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data= argument of instrument_reliability must be a pandas DataFrame "
                        f"or an ItemData with one column per item; got {type(data).__name__}.")
    as_frame(data, "instrument_reliability")
    scale_ids = list(inst.scales) if scales is None else list(scales)
    unknown = [s for s in scale_ids if s not in inst.scales]
    if unknown:
        raise KeyError(f"scales= of instrument_reliability: {unknown} are not scales of "
                       f"{inst.id!r} (its scales: {list(inst.scales)}).")
    needed = []
    for sid in scale_ids:
        needed += [i for i in inst.scale_items(sid) if i not in needed]
    absent = [i for i in needed if i not in data.columns]
    if absent:
        raise DataValidationError(
            f"instrument_reliability: data lack {len(absent)} item column(s) of {inst.id!r}: "
            f"{absent}.", hint="Name the columns by the bank's item ids (see "
                               "instrument.item_table()).")
    if checked is None:
        # the one response check of the package (psychometrics.io.item_data): every cell
        # outside the response scale, fractional or text, named by its data row
        checked = item_data(data, inst, items=needed)
    resp = checked.responses[needed]
    lo, hi = float(rs.min), float(rs.max)

    rows, item_rows = [], []
    alphas, halves, ords = {}, {}, {}
    for sid in scale_ids:
        sc = inst.scales[sid]
        items = list(inst.scale_items(sid))
        rev = [i for i in items if inst.is_reversed(sid, i)]
        x = resp[items]
        answered = x.notna().any(axis=1)
        row = dict(scale=sid, name=sc.name, n_items=len(items), n_reversed=len(rev),
                   n_obs=int(answered.sum()), n_complete=int(x.notna().all(axis=1).sum()),
                   note="")
        if len(items) < 2:
            row["note"] = "fewer than two items: no internal consistency"
            rows.append(row)
            continue
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                a = alpha(x, reverse=rev or None, missing=missing, level=level, response_range=(lo, hi),
                          empty_rows="drop")
                s = split_half(x, reverse=rev, check_keys=False, missing=missing, seed=seed)
                o = ordinal_alpha(x, reverse=rev or None) if ordinal else None
            except (DataValidationError, ValueError) as exc:
                row["note"] = f"not computed: {exc}"
                rows.append(row)
                continue
        for w in caught:
            if issubclass(w.category, PsychometricsWarning):
                warnings.warn(f"scale {sid!r}: {w.message}", w.category, stacklevel=2)
        alphas[sid], halves[sid] = a, s
        t = a.total.iloc[0]
        ci = a.confidence_intervals.loc["feldt"]
        row.update(raw_alpha=t["raw_alpha"], std_alpha=t["std_alpha"], g6_smc=t["g6_smc"],
                   average_r=t["average_r"], median_r=t["median_r"],
                   signal_to_noise=t["signal_to_noise"], ase=t["ase"],
                   alpha_ci_lower=ci["ci_lower"], alpha_ci_upper=ci["ci_upper"],
                   lambda2=s.table["lambda2"].iloc[0],
                   max_split_half=s.table["max_split_half"].iloc[0],
                   min_split_half=s.table["min_split_half"].iloc[0],
                   mean_split_half=s.table["mean_split_half"].iloc[0],
                   mean=t["mean"], sd=t["sd"])
        if o is not None:
            ords[sid] = o
            row["ordinal_alpha"] = o.total["raw_alpha"].iloc[0]
        if a.negative_average_covariance:
            row["note"] = "negative average covariance: alpha not meaningful"
        elif a.negatively_correlated_items:
            row["note"] = ("items correlating negatively with the scale: "
                           + ", ".join(a.negatively_correlated_items))
        rows.append(row)
        it = a.item_stats.copy()
        it["alpha_if_dropped"] = a.alpha_drop["raw_alpha"]
        # floor / ceiling of the raw (unreversed) responses on the bank's scale
        xv = x.to_numpy(dtype=float, na_value=np.nan)
        answered_n = (~np.isnan(xv)).sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            it["prop_min"] = (xv == lo).sum(axis=0) / answered_n
            it["prop_max"] = (xv == hi).sum(axis=0) / answered_n
        it["prop_missing"] = 1.0 - answered_n / xv.shape[0]
        it.insert(0, "scale", sid)
        it = it.reset_index()
        item_rows.append(it[["scale", "item"] + [c for c in it.columns if c not in ("scale", "item")]])
    table = pd.DataFrame(rows).reindex(columns=_TABLE_COLS)
    table["note"] = table["note"].fillna("").astype(str)
    items_df = (pd.concat(item_rows, ignore_index=True) if item_rows else
                pd.DataFrame(columns=["scale", "item", "key", "n", "raw_r", "std_r", "r_cor",
                                      "r_drop", "mean", "sd", "alpha_if_dropped", "prop_min",
                                      "prop_max", "prop_missing"]))
    return InstrumentReliability(instrument=inst.id, version=inst.version, table=table,
                                 items=items_df, alphas=alphas, split_halves=halves, ordinal=ords,
                                 options=dict(form=form, scales=scales, missing=missing, ordinal=ordinal,
                                              seed=seed, level=level))
