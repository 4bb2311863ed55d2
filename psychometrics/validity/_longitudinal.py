"""Longitudinal measurement invariance: the same items at several occasions as one CFA
on wide data (a factor per occasion, each item's residuals correlated across occasions),
with loadings, intercepts and residual variances constrained across occasions in turn.

The syntax follows semTools' ``measEq.syntax(..., longFacNames=, ID.fac = "std.lv")`` for
continuous indicators: at the first occasion every factor has variance 1 and mean 0; a
later occasion's factor variances are freed once loadings are equal, its means once
intercepts are equal.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import DataQualityWarning, DataValidationError, ModelSpecificationError
from ..results import Summary
from ._common import check_long_columns

__all__ = ["longitudinal_syntax", "longitudinal_invariance", "LongitudinalInvarianceResult"]

LEVELS = ("configural", "metric", "scalar", "strict")


def _name(item: str, occ) -> str:
    return f"{item}_t{occ}"


def longitudinal_syntax(factors: dict[str, list[str]], occasions, invariance: str = "configural"
                        ) -> str:
    """lavaan syntax of the longitudinal model at one invariance level.

    Parameters
    ----------
    factors : dict
        ``{factor: [items]}`` of the measurement model at one occasion.
    occasions : sequence
        The occasions (values of the time column), in order.
    invariance : {"configural", "metric", "scalar", "strict"}
        The constraints across occasions (``level=`` is kept for confidence levels).
    """
    if invariance not in LEVELS:
        raise ModelSpecificationError(
            f"invariance= must be one of {', '.join(LEVELS)}; got {invariance!r}.")
    k = LEVELS.index(invariance)
    occ = list(occasions)
    if len(occ) < 2:
        raise ModelSpecificationError("Longitudinal invariance needs at least two occasions.")
    if not isinstance(factors, dict) or not factors or any(
            isinstance(its, str) or not len(list(its)) for its in factors.values()):
        raise ModelSpecificationError(
            "factors= must be a dict {factor: [items]} naming the items of each factor at one "
            f"occasion, e.g. {{'bond': ['wai_3', 'wai_5', 'wai_7', 'wai_9']}}; got {factors!r}.")
    items = list(dict.fromkeys(i for its in factors.values() for i in its))
    lines = []
    for t_i, t in enumerate(occ):
        lines.append(f"## occasion {t}")
        for f, its in factors.items():
            terms = []
            for j, it in enumerate(its):
                x = _name(it, t)
                if j == 0:                      # std.lv: the first loading is free too
                    terms.append(f"NA*{x}")
                if k >= 1:                      # lavaan idiom NA*x + label*x
                    terms.append(f"l_{f}_{it}*{x}")
                elif j > 0:
                    terms.append(x)
            lines.append(f"{f}_t{t} =~ " + " + ".join(terms))
        for f in factors:
            free_var = t_i > 0 and k >= 1
            free_mean = t_i > 0 and k >= 2
            lines.append(f"{f}_t{t} ~~ {'NA' if free_var else '1'}*{f}_t{t}")
            lines.append(f"{f}_t{t} ~ {'NA' if free_mean else '0'}*1")
        for it in items:
            lines.append(f"{_name(it, t)} ~ {f'nu_{it}*' if k >= 2 else ''}1")
            if k >= 3:
                lines.append(f"{_name(it, t)} ~~ theta_{it}*{_name(it, t)}")
    lines.append("## residuals of the same item correlated across occasions")
    for it in items:
        for a in range(len(occ)):
            for b in range(a + 1, len(occ)):
                lines.append(f"{_name(it, occ[a])} ~~ {_name(it, occ[b])}")
    return "\n".join(lines) + "\n"


def wide_by_occasion(data: pd.DataFrame, items: list[str], id: str, time: str,  # noqa: A002
                     occasions) -> pd.DataFrame:
    """One row per patient, one column ``item_t<occasion>`` per item and occasion."""
    check_long_columns(data, id, time, items, occasions)
    sub = data[data[time].isin(occasions)]
    absent = [t for t in occasions if not (sub[time] == t).any()]
    if absent:
        raise DataValidationError(f"No rows at {time} = {absent}; the occasions must exist in "
                                  "the data.")
    unanswered = [(it, t) for t in occasions for it in items
                  if sub.loc[sub[time] == t, it].isna().all()]
    if unanswered:
        shown = "; ".join(f"{it!r} at {time} = {t!r}" for it, t in unanswered[:6])
        raise DataValidationError(
            f"Item(s) without any response at an occasion: {shown}"
            f"{' ...' if len(unanswered) > 6 else ''}. The occasions must share their items "
            "(was another form given then?); drop those items or that occasion.")
    wide = sub.pivot(index=id, columns=time, values=items)
    wide.columns = [_name(it, t) for it, t in wide.columns]
    return wide[[_name(it, t) for t in occasions for it in items]]


@dataclass(frozen=True, eq=False)
class LongitudinalInvarianceResult:
    """The invariance sequence across occasions.

    ``table``: one row per invariance model (index ``model``, as :func:`psychometrics.sem.invariance`) with ``npar, df, chisq, cfi, rmsea, srmr, aic, bic`` and,
    against the previous level, ``chisq_diff, df_diff, p_value_diff, delta_cfi, delta_rmsea``.
    ``fits``: the fitted models; ``syntax``: the lavaan syntax of each level.
    """

    table: pd.DataFrame
    fits: dict
    syntax: dict
    n_obs: int
    occasions: tuple

    def to_frame(self) -> pd.DataFrame:
        return self.table.reset_index(names="model")

    def summary(self) -> Summary:
        return Summary(title="Longitudinal measurement invariance",
                       header=(f"Occasions {', '.join(map(str, self.occasions))}; "
                               f"n_obs = {self.n_obs} patients.",
                               "Each level against the previous one (likelihood-ratio test, "
                               "changes in CFI and RMSEA)."),
                       blocks=(("Models", self.to_frame()),))


def longitudinal_invariance(factors: dict[str, list[str]], data: pd.DataFrame, id: str,  # noqa: A002
                            time: str, occasions, levels=None, missing: str = "listwise",
                            ordered=None, parameterization: str = "delta",
                            **fit_kwargs) -> LongitudinalInvarianceResult:
    """Measurement invariance of the same items across occasions (one CFA on wide data).

    Parameters
    ----------
    factors : dict
        ``{factor: [items]}`` at one occasion (item columns of the long ``data``).
    data : DataFrame
        Long data: one row per patient and occasion.
    id, time : str
        Patient and occasion columns.
    occasions : sequence
        Two or more values of ``time``.
    levels : sequence of str
        Increasing subset of ``("configural", "metric", "scalar", "strict")`` (default all).
        With ``ordered``: of ``("configural", "thresholds", "loadings", "intercepts",
        "residuals")`` (default the first four; "residuals" needs
        ``parameterization="theta"``).
    missing : {"listwise", "ml"}
        Patients missing an occasion are dropped (``"listwise"``) or kept by FIML (``"ml"``;
        continuous items only).
    ordered : True, optional
        The items are ordinal: each level is fitted by WLSMV (or ``estimator="ULSMV"``,
        ``"DWLS"``, ``"ULS"``, passed through ``**fit_kwargs``) with the identification of
        Wu & Estabrook (2016) across occasions and consecutive levels are compared by the
        scaled-shifted difference test of Satorra (2000). Every item must have the same
        categories at every occasion.
    parameterization : {"delta", "theta"}
        Ordinal items only.

    Notes
    -----
    R: ``semTools::measEq.syntax(configural.model, data, longFacNames = ..., ID.fac =
    "std.lv", long.equal = ...)`` and ``lavaan::cfa(..., meanstructure = TRUE)``; ordinal:
    ``measEq.syntax(..., ordered = vars, parameterization =, ID.cat = "Wu.Estabrook.2016")``,
    ``cfa(..., ordered = vars)`` and ``lavTestLRT(..., method = "satorra.2000")``.
    """
    from ..sem import fit, lrt

    if ordered is not None and ordered is not False:
        if missing != "listwise":
            raise ModelSpecificationError("Ordinal longitudinal invariance supports "
                                          "missing='listwise' only.")
        return _ordinal_longitudinal(factors, data, id, time, occasions, levels,
                                     parameterization, **fit_kwargs)
    levels = list(LEVELS if levels is None else levels)
    if not levels or any(lv not in LEVELS for lv in levels) or \
            [LEVELS.index(lv) for lv in levels] != sorted(LEVELS.index(lv) for lv in levels):
        raise ModelSpecificationError(f"levels= must be an increasing subset of {LEVELS}; got "
                                      f"{levels}.")
    if not isinstance(factors, dict) or not factors or any(
            isinstance(its, str) or not len(list(its)) for its in factors.values()):
        raise ModelSpecificationError(
            "factors= must be a dict {factor: [items]} naming the items of each factor at one "
            f"occasion, e.g. {{'bond': ['wai_3', 'wai_5', 'wai_7', 'wai_9']}}; got {factors!r}.")
    if not isinstance(data, pd.DataFrame) or data.empty:
        raise DataValidationError("data= must be a non-empty DataFrame (long: one row per "
                                  "patient and occasion).")
    if missing not in ("listwise", "ml"):
        raise DataValidationError(f"missing= must be 'listwise' or 'ml'; got {missing!r}.")
    items = list(dict.fromkeys(i for its in factors.values() for i in its))
    wide = wide_by_occasion(data, items, id, time, list(occasions))
    if missing == "listwise":
        n_all = len(wide)
        wide = wide.dropna()
        if 0 < len(wide) < n_all:
            warnings.warn(f"{n_all - len(wide)} of {n_all} patients miss an occasion or an item "
                          "and were left out (listwise); missing='ml' keeps them (FIML).",
                          DataQualityWarning, stacklevel=2)
        if len(wide) <= wide.shape[1]:
            raise DataValidationError(
                f"Only {len(wide)} of {n_all} patients answered every item at every occasion, "
                f"not more than the {wide.shape[1]} item-by-occasion variables; the covariance "
                "matrix cannot be estimated. Use missing='ml' (FIML keeps every patient), fewer "
                "occasions or a shorter form.")
    elif len(wide) < 2:
        raise DataValidationError(f"Only {len(wide)} patient(s) have rows at the occasions "
                                  f"{list(occasions)}; a covariance matrix needs many more.")
    syn = {lv: longitudinal_syntax(factors, occasions, lv) for lv in levels}
    fits = {lv: fit(syn[lv], wide.reset_index(drop=True), meanstructure=True, missing=missing,
                    **fit_kwargs) for lv in levels}
    rows = []
    for lv in levels:
        fm = fits[lv].fit_measures
        rows.append({"model": lv, **{k: fm[k] for k in ("npar", "df", "chisq", "cfi", "rmsea",
                                                         "srmr", "aic", "bic")}})
    table = pd.DataFrame(rows).set_index("model")
    table[["npar", "df"]] = table[["npar", "df"]].astype(int)
    for c in ("chisq_diff", "df_diff", "p_value_diff", "delta_cfi", "delta_rmsea"):
        table[c] = np.nan
    for prev, lv in zip(levels, levels[1:]):
        d = lrt(fits[prev], fits[lv], names=[prev, lv]).loc[lv]
        table.loc[lv, ["chisq_diff", "df_diff", "p_value_diff"]] = [
            d["chisq_diff"], d["df_diff"], d["p_value_diff"]]
        table.loc[lv, "delta_cfi"] = table.loc[lv, "cfi"] - table.loc[prev, "cfi"]
        table.loc[lv, "delta_rmsea"] = table.loc[lv, "rmsea"] - table.loc[prev, "rmsea"]
    return LongitudinalInvarianceResult(table=table, fits=fits, syntax=syn, n_obs=len(wide),
                                        occasions=tuple(occasions))


ORDINAL_LEVELS = {"configural": (), "thresholds": ("thresholds",),
                  "loadings": ("thresholds", "loadings"),
                  "intercepts": ("thresholds", "loadings", "intercepts"),
                  "residuals": ("thresholds", "loadings", "intercepts", "residuals")}


def _ordinal_longitudinal(factors, data, id, time, occasions, levels,  # noqa: A002
                          parameterization, estimator="WLSMV", long_partial=None):
    from ..sem.ordinal_mg import (fit_ordinal_mg, long_configural_model, long_measeq_table,
                                  lrt_ordinal, prepare_long)
    alias = {"metric": "loadings", "scalar": "intercepts", "strict": "residuals"}
    levels = [alias.get(lv, lv) for lv in (levels or ("configural", "thresholds", "loadings",
                                                      "intercepts"))]
    order = list(ORDINAL_LEVELS)
    if not levels or any(lv not in ORDINAL_LEVELS for lv in levels) or \
            [order.index(lv) for lv in levels] != sorted(order.index(lv) for lv in levels):
        raise ModelSpecificationError(f"levels= must be an increasing subset of {order} for "
                                      f"ordinal items; got {levels}.")
    occ = list(occasions)
    items = list(dict.fromkeys(i for its in factors.values() for i in its))
    wide = wide_by_occasion(data, items, id, time, occ)
    n_all = len(wide)
    wide = wide.dropna()
    if len(wide) <= 2 * wide.shape[1]:
        raise DataValidationError(
            f"Only {len(wide)} of {n_all} patients answered every item at every occasion, too "
            f"few for the polychoric correlations of the {wide.shape[1]} item-by-occasion "
            "variables and their weight matrix; use fewer occasions or a shorter form.")
    prep = prepare_long(wide, factors, occ)
    model = long_configural_model(factors, occ)
    fits, syn = {}, {}
    for lv in levels:
        t = long_measeq_table(factors, occ, prep["nthr"], ORDINAL_LEVELS[lv] or None,
                              long_partial if ORDINAL_LEVELS[lv] else None, parameterization)
        fits[lv] = fit_ordinal_mg(model, None, None, True, estimator=estimator, _table=t,
                                  _prep=prep)
        syn[lv] = fits[lv].syntax
    comp = lrt_ordinal(*fits.values(), names=list(fits))
    rows = []
    prev = None
    for lv in levels:
        fm = fits[lv].fit_measures
        g = lambda k: fm.get(k, np.nan)      # noqa: E731
        rows.append({"model": lv, "npar": fm["npar"], "df": fm["df"], "chisq": fm["chisq"],
                     "chisq_scaled": g("chisq_scaled"), "cfi_scaled": g("cfi_scaled"),
                     "rmsea_scaled": g("rmsea_scaled"), "srmr": fm["srmr"],
                     "chisq_diff": comp.at[lv, "chisq_diff"], "df_diff": comp.at[lv, "df_diff"],
                     "p_value_diff": comp.at[lv, "p_value_diff"],
                     "delta_cfi_scaled": np.nan if prev is None
                     else g("cfi_scaled") - prev.get("cfi_scaled", np.nan),
                     "delta_rmsea_scaled": np.nan if prev is None
                     else g("rmsea_scaled") - prev.get("rmsea_scaled", np.nan)})
        prev = fm
    table = pd.DataFrame(rows).set_index("model")
    return LongitudinalInvarianceResult(table=table, fits=fits, syntax=syn, n_obs=len(wide),
                                        occasions=tuple(occ))
