"""Descriptive results the report needs and no analysis module provides:
the sample (patients, sessions, missingness), item response distributions and
scale-score descriptives.

These are computed by the analysis runner (:mod:`psychometrics.report.run`),
never by a renderer, and returned as frozen results with tidy, unrounded
DataFrames like every other module's results.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SampleResult", "ItemDistributionResult", "DescriptivesResult", "describe_sample",
           "item_distributions", "scale_descriptives"]


@dataclass(frozen=True)
class SampleResult:
    """The sample.

    Attributes
    ----------
    n_patients, n_sessions : int
        Patients (distinct ids) and rows (patient-occasions).
    sessions : DataFrame
        One row per patient: ``patient``, ``n_sessions``, ``first_time``, ``last_time``.
    per_time : DataFrame
        One row per occasion: ``time``, ``n_patients``.
    missingness : DataFrame
        One row per instrument: ``instrument``, ``label``, ``n_items``, ``cells``,
        ``prop_cells_missing``, ``prop_rows_any_missing``, ``prop_rows_all_missing``.
    """

    n_patients: int
    n_sessions: int
    sessions: pd.DataFrame
    per_time: pd.DataFrame
    missingness: pd.DataFrame

    @property
    def sessions_mean(self) -> float:
        return float(self.sessions["n_sessions"].mean())

    @property
    def sessions_sd(self) -> float:
        return float(self.sessions["n_sessions"].std(ddof=1))


def describe_sample(data: pd.DataFrame, id_col: str, time_col: str,
                    items: dict[str, tuple[str, list[str]]]) -> SampleResult:
    """Describe the sample.

    ``items`` maps instrument key -> (label, list of its item columns in ``data``).
    """
    g = data.groupby(id_col, sort=True)[time_col]
    sessions = pd.DataFrame({
        "patient": g.size().index,
        "n_sessions": g.size().to_numpy(),
        "first_time": g.min().to_numpy(),
        "last_time": g.max().to_numpy(),
    })
    per_time = (data.groupby(time_col, sort=True)[id_col].nunique()
                .rename("n_patients").rename_axis("time").reset_index())
    rows = []
    for key, (label, cols) in items.items():
        block = data[cols]
        miss = block.isna().to_numpy()
        rows.append({
            "instrument": key, "label": label, "n_items": len(cols),
            "cells": int(miss.size),
            "prop_cells_missing": float(miss.mean()) if miss.size else np.nan,
            "prop_rows_any_missing": float(miss.any(axis=1).mean()) if len(block) else np.nan,
            "prop_rows_all_missing": float(miss.all(axis=1).mean()) if len(block) else np.nan,
        })
    return SampleResult(
        n_patients=int(data[id_col].nunique()), n_sessions=int(len(data)),
        sessions=sessions, per_time=per_time,
        missingness=pd.DataFrame(rows, columns=[
            "instrument", "label", "n_items", "cells", "prop_cells_missing",
            "prop_rows_any_missing", "prop_rows_all_missing"]))


@dataclass(frozen=True)
class ItemDistributionResult:
    """Item response distributions of one instrument.

    ``summary``: one row per item: ``item``, ``n``, ``mean``, ``sd``, ``skew``,
    ``kurtosis`` (excess), ``prop_missing``, ``prop_floor``, ``prop_ceiling``.
    ``frequencies``: one row per (item, response option): ``item``, ``value``,
    ``count``, ``prop`` (of the answered responses).
    """

    instrument: str
    label: str
    scale_min: int
    scale_max: int
    summary: pd.DataFrame
    frequencies: pd.DataFrame


def _moments(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean, SD, skew and excess kurtosis of each column, by
    :func:`psychometrics.validity.describe` (``psych::describe``, type 3), indexed by column."""
    from ..validity import describe

    t = describe(frame.apply(pd.to_numeric, errors="coerce").astype(float)).table
    return t.set_index("variable")[["mean", "sd", "skew", "kurtosis"]]


def item_distributions(data: pd.DataFrame, columns: dict[str, str], instrument: str,
                       label: str, scale_min: int, scale_max: int) -> ItemDistributionResult:
    """Response distributions of items (``columns``: item id -> data column)."""
    summ, freq = [], []
    points = list(range(scale_min, scale_max + 1))
    mom = _moments(pd.DataFrame({iid: data[col] for iid, col in columns.items()}))
    for iid, col in columns.items():
        x = pd.to_numeric(data[col], errors="coerce").to_numpy(dtype=float)
        answered = x[~np.isnan(x)]
        m, sd, sk, ku = mom.loc[iid]
        n = answered.size
        summ.append({"item": iid, "n": n, "mean": m, "sd": sd, "skew": sk, "kurtosis": ku,
                     "prop_missing": float(np.isnan(x).mean()) if x.size else np.nan,
                     "prop_floor": float((answered == scale_min).mean()) if n else np.nan,
                     "prop_ceiling": float((answered == scale_max).mean()) if n else np.nan})
        for v in points:
            c = int((answered == v).sum())
            freq.append({"item": iid, "value": v, "count": c, "prop": c / n if n else np.nan})
    return ItemDistributionResult(instrument, label, scale_min, scale_max,
                                  pd.DataFrame(summ), pd.DataFrame(freq))


@dataclass(frozen=True)
class DescriptivesResult:
    """Scale-score descriptives.

    ``table``: one row per (instrument, scale): ``instrument``, ``label``, ``scale``,
    ``scale_name``, ``n``, ``mean``, ``sd``, ``min``, ``max``, ``skew``, ``kurtosis``,
    ``range_min``, ``range_max`` (possible range), ``prop_floor``, ``prop_ceiling``.
    """

    table: pd.DataFrame


def scale_descriptives(scores: dict[str, pd.DataFrame], meta: dict[str, dict]) -> DescriptivesResult:
    """Descriptives of scale scores.

    ``scores``: instrument key -> DataFrame with one column per scale;
    ``meta``: instrument key -> {"label", "names": {scale: name}, "ranges": {scale: (lo, hi)}}.
    """
    rows = []
    for key, df in scores.items():
        m = meta[key]
        mom = _moments(df)
        for scale in df.columns:
            x = pd.to_numeric(df[scale], errors="coerce").to_numpy(dtype=float)
            ans = x[~np.isnan(x)]
            mean, sd, sk, ku = mom.loc[scale]
            lo, hi = m["ranges"].get(scale, (np.nan, np.nan))
            rows.append({
                "instrument": key, "label": m["label"], "scale": scale,
                "scale_name": m["names"].get(scale, scale), "n": int(ans.size), "mean": mean,
                "sd": sd, "min": float(ans.min()) if ans.size else np.nan,
                "max": float(ans.max()) if ans.size else np.nan, "skew": sk, "kurtosis": ku,
                "range_min": lo, "range_max": hi,
                "prop_floor": float((ans == lo).mean()) if ans.size else np.nan,
                "prop_ceiling": float((ans == hi).mean()) if ans.size else np.nan})
    return DescriptivesResult(pd.DataFrame(rows))
