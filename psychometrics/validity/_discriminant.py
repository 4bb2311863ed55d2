"""Discriminant validity: HTMT (``semTools::htmt``), the Fornell-Larcker criterion, and
factor congruence (``psych::factor.congruence``)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import DataQualityWarning, DataValidationError, ModelSpecificationError
from ..results import Summary
from ._common import numeric_frame

__all__ = ["htmt", "HTMTResult", "fornell_larcker", "FornellLarckerResult",
           "factor_congruence", "CongruenceResult"]


def _factor_items(model) -> dict[str, list[str]]:
    """``{factor: [items]}`` from a dict or from the ``=~`` lines of lavaan syntax."""
    if isinstance(model, dict):
        out = {str(f): [str(i) for i in items] for f, items in model.items()}
    elif isinstance(model, str):
        from ..sem.syntax import parse_model
        out: dict[str, list[str]] = {}
        for st in parse_model(model).statements:
            if st.op == "=~":
                out.setdefault(st.lhs, []).append(st.rhs)
    else:
        raise ModelSpecificationError("model= must be lavaan syntax (a string) or a dict "
                                      "{factor: [items]}.")
    if len(out) < 2:
        raise ModelSpecificationError(f"HTMT compares factors; model= defines {len(out)} factor(s) "
                                      "with '=~' (at least two are needed).")
    return out


def _pairs_table(m: pd.DataFrame, value: str) -> pd.DataFrame:
    f = list(m.index)
    return pd.DataFrame([{"factor1": f[i], "factor2": f[j], value: float(m.iat[i, j])}
                         for i in range(len(f)) for j in range(i + 1, len(f))])


@dataclass(frozen=True, eq=False)
class HTMTResult:
    """Heterotrait-monotrait ratios.

    ``matrix`` is the factors x factors HTMT matrix (semTools' return value); ``table`` has
    one row per pair of factors (``factor1, factor2, htmt``). Values above 0.85 (or 0.90 for
    conceptually close constructs) speak against discriminant validity (Henseler, Ringle &
    Sarstedt, 2015).
    """

    matrix: pd.DataFrame
    table: pd.DataFrame
    htmt2: bool
    n_obs: int | None

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        kind = "HTMT2 (geometric means)" if self.htmt2 else "HTMT (arithmetic means)"
        return Summary(title=f"Heterotrait-monotrait ratio: {kind}",
                       header=(f"n_obs = {self.n_obs}" if self.n_obs is not None else
                               "From a covariance matrix.",
                               "Values above .85 (.90 for close constructs) question discriminant "
                               "validity (Henseler, Ringle & Sarstedt, 2015)."),
                       blocks=(("HTMT", self.matrix.reset_index(names="factor")),))


def htmt(model, data=None, sample_cov=None, missing: str = "listwise", absolute: bool = True,
         htmt2: bool = True) -> HTMTResult:
    """Heterotrait-monotrait ratio of correlations, as ``semTools::htmt``.

    Parameters
    ----------
    model : str or dict
        lavaan syntax (only the ``=~`` lines are used) or ``{factor: [items]}``.
    data : DataFrame, optional
        Item responses; correlations of the rows complete on every item
        (``missing="listwise"``, semTools' default) or of each pair's complete rows
        (``missing="pairwise"``).
    sample_cov : DataFrame, optional
        A covariance or correlation matrix instead of ``data``.
    absolute : bool
        Use absolute correlations (semTools default ``TRUE``).
    htmt2 : bool
        Geometric instead of arithmetic means (semTools default ``TRUE``; HTMT2 of
        Roemer, Schuberth & Henseler, 2021); it always uses absolute correlations.
    """
    items = _factor_items(model)
    names = list(dict.fromkeys(v for vs in items.values() for v in vs))
    n_obs = None
    if (data is None) == (sample_cov is None):
        raise DataValidationError("Give either data= or sample_cov= to htmt().")
    if data is not None:
        absent = [v for v in names if v not in data.columns]
        if absent:
            raise DataValidationError(f"Missing observed variables in data=: {', '.join(absent)}.")
        if missing not in ("listwise", "pairwise"):
            raise DataValidationError(f"missing= must be 'listwise' or 'pairwise'; got {missing!r}.")
        d = numeric_frame(data[names], func="htmt")
        if missing == "listwise":
            d = d.dropna()
        n_obs = int(len(d))
        if n_obs < 3:
            raise DataValidationError(f"htmt() needs at least 3 complete rows; data= has {n_obs}.")
        R = d.corr().to_numpy()
    else:
        S = pd.DataFrame(sample_cov)
        absent = [v for v in names if v not in S.columns]
        if absent:
            raise DataValidationError("Missing observed variables in sample_cov=: "
                                      f"{', '.join(absent)}.")
        S = S.loc[names, names].to_numpy(float)
        dg = np.diag(S)
        R = S if np.allclose(dg, 1.0) else S / np.sqrt(np.outer(dg, dg))
    if absolute or htmt2:
        R = np.abs(R)
    R = R.copy()
    np.fill_diagonal(R, np.nan)
    idx = {v: i for i, v in enumerate(names)}
    pos = {f: [idx[v] for v in vs] for f, vs in items.items()}

    def mean_of(block: np.ndarray) -> float:
        vals = block[~np.isnan(block)]
        if vals.size == 0:
            return np.nan
        if htmt2:
            if np.any(vals == 0):   # the geometric mean of a block with a zero is 0
                return 0.0
            return float(np.exp(np.mean(np.log(vals))))
        return float(vals.mean())

    factors = list(items)
    within = np.array([mean_of(R[np.ix_(pos[f], pos[f])]) for f in factors])
    zero = [f for f, w in zip(factors, within) if w == 0]
    if zero:
        warnings.warn(f"HTMT2 is undefined for factor(s) {', '.join(zero)}: a correlation between "
                      "two of its items is exactly 0, so their geometric mean is 0 (semTools gives "
                      "Inf/NaN here). Use htmt2=False (arithmetic means).", DataQualityWarning,
                      stacklevel=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.array([[mean_of(R[np.ix_(pos[fi], pos[fj])]) / np.sqrt(within[i] * within[j])
                       for j, fj in enumerate(factors)] for i, fi in enumerate(factors)])
    matrix = pd.DataFrame(m, index=factors, columns=factors)
    return HTMTResult(matrix=matrix, table=_pairs_table(matrix, "htmt"), htmt2=htmt2, n_obs=n_obs)


@dataclass(frozen=True, eq=False)
class FornellLarckerResult:
    """The Fornell-Larcker criterion of a fitted CFA.

    ``table``: one row per pair of factors (and group): ``group, factor1, factor2,
    est`` (the latent correlation), ``se, ci_lower, ci_upper`` (delta method), ``r2``
    (its square), ``ave1, ave2`` and ``holds`` (both AVEs exceed the squared correlation).
    ``ave``: one row per factor (``group, factor, ave, sqrt_ave``).
    """

    table: pd.DataFrame
    ave: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        ok = bool(self.table["holds"].all()) if len(self.table) else True
        return Summary(title="Fornell-Larcker criterion",
                       header=("Each factor's average variance extracted (AVE) should exceed its "
                               "squared correlation with every other factor.",
                               "Criterion holds for every pair." if ok else
                               "Criterion fails for at least one pair."),
                       blocks=(("Average variance extracted", self.ave),
                               ("Latent correlations", self.table)))


def fornell_larcker(fit) -> FornellLarckerResult:
    """Fornell-Larcker criterion from a fitted CFA (``psychometrics.sem.fit``).

    AVE is ``semTools::AVE(fit)`` (observed variances); latent correlations are
    ``lavInspect(fit, "cor.lv")`` with delta-method intervals from
    ``standardizedSolution(fit)``.
    """
    from ..sem.reliability import ave as _ave
    ave = _ave(fit)
    ave["sqrt_ave"] = np.sqrt(ave["ave"])
    factors = set(ave["factor"])
    std = fit.standardized_solution()
    cors = std[(std["op"] == "~~") & (std["lhs"] != std["rhs"]) & std["lhs"].isin(factors)
               & std["rhs"].isin(factors)]
    look = {(r.group, r.factor): r.ave for r in ave.itertuples()}
    rows = []
    for r in cors.itertuples():
        a1, a2 = look[(r.group, r.lhs)], look[(r.group, r.rhs)]
        rows.append({"group": r.group, "factor1": r.lhs, "factor2": r.rhs, "est": r.est_std,
                     "se": r.se, "ci_lower": r.ci_lower, "ci_upper": r.ci_upper,
                     "r2": r.est_std ** 2, "ave1": a1, "ave2": a2,
                     "holds": bool(min(a1, a2) > r.est_std ** 2)})
    return FornellLarckerResult(table=pd.DataFrame(rows), ave=ave)


@dataclass(frozen=True, eq=False)
class CongruenceResult:
    """Tucker's congruence coefficients: ``matrix`` (factors of x by factors of y) and
    ``table`` (``factor_x, factor_y, congruence``)."""

    matrix: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return (self.matrix.stack().rename("congruence").rename_axis(["factor_x", "factor_y"])
                .reset_index())

    def summary(self) -> Summary:
        return Summary(title="Factor congruence (Tucker's phi)",
                       header=("Values of .95 and above are usually read as equal factors, "
                               ".85-.94 as fair similarity (Lorenzo-Seva & ten Berge, 2006).",),
                       blocks=(("Congruence", self.matrix.reset_index(names="factor")),))


def factor_congruence(x, y=None) -> CongruenceResult:
    """Tucker's coefficient of congruence between the columns of two loading matrices,
    ``psych::factor.congruence(x, y)`` (rows are matched by position; missing loadings
    count as 0, as psych's ``use = NULL``)."""
    X = pd.DataFrame(x)
    Y = X if y is None else pd.DataFrame(y)
    if len(X) != len(Y):
        raise DataValidationError(f"x= has {len(X)} rows (items) and y= has {len(Y)}; the "
                                  "loading matrices must describe the same items.")
    a = np.nan_to_num(X.to_numpy(float))
    b = np.nan_to_num(Y.to_numpy(float))
    num = a.T @ b
    den = np.sqrt(np.outer((a ** 2).sum(axis=0), (b ** 2).sum(axis=0)))
    return CongruenceResult(matrix=pd.DataFrame(num / den, index=[str(c) for c in X.columns],
                                                columns=[str(c) for c in Y.columns]))
