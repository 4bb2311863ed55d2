"""Measurement invariance: nested multi-group fits and their likelihood-ratio tests.

``invariance()`` fits configural, metric (loadings), scalar (+ intercepts) and
strict (+ residuals) models; ``lrt()`` compares nested fits as
``lavaan::lavTestLRT`` (models ordered by df, chi-square difference tests of
consecutive models, RMSEA of the difference).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np
import pandas as pd

from .._blas import single_blas_thread
from ..exceptions import ModelSpecificationError
from ..results import Summary
from .results import SEMResult
from .fit_measures import rmsea_diff

__all__ = ["invariance", "lrt", "score_test", "partial_invariance", "InvarianceResult", "LEVELS",
           "ORDINAL_LEVELS"]

LEVELS = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}

#: the Wu & Estabrook (2016) sequence for ordinal indicators (semTools group.equal names)
ORDINAL_LEVELS = {
    "configural": (),
    "thresholds": ("thresholds",),
    "loadings": ("thresholds", "loadings"),
    "intercepts": ("thresholds", "loadings", "intercepts"),
    "means": ("thresholds", "loadings", "intercepts", "means"),
    "residuals": ("thresholds", "loadings", "intercepts", "residuals"),
}
_ORDINAL_ALIASES = {"metric": "loadings", "scalar": "intercepts", "strict": "residuals"}


def lrt(*fits: SEMResult, names=None) -> pd.DataFrame:
    """Chi-square difference tests of nested models (lavaan ``lavTestLRT``, method "standard").

    Returns
    -------
    DataFrame indexed by model name with ``df, aic, bic, chisq, chisq_diff, rmsea_diff,
    df_diff, p_value_diff`` (lavaan: ``Df, AIC, BIC, Chisq, Chisq diff, RMSEA, Df diff,
    Pr(>Chisq)``). ``rmsea_diff`` is the RMSEA of the difference test:
    ``sqrt(max(0, (dX2 - ddf) / (N ddf))) * sqrt(G)``. For MLR fits the difference is
    Satorra-Bentler (2001) scaled, ``(T0 - T1) / cd`` with
    ``cd = (df0 c0 - df1 c1) / (df0 - df1)``, and ``rmsea_diff`` is NaN (as lavaan); ``chisq``
    stays the standard (unscaled) statistic, as lavaan's "Chisq" column.

    Ordinal multi-group fits (``OrdinalMGResult``) are compared by the scaled-shifted
    difference test of Satorra (2000), lavaan ``lavTestLRT(..., method = "satorra.2000")``
    (its default for WLSMV); see :func:`.ordinal_mg.lrt_ordinal`.
    """
    from scipy import special  # lazy: keeps `import psychometrics.sem` light

    from .ordinal_mg import OrdinalMGResult, lrt_ordinal
    if fits and all(isinstance(f, OrdinalMGResult) for f in fits):
        # WLSMV / ULSMV: Satorra (2000) scaled-shifted differences (lavaan's default)
        return lrt_ordinal(*fits, names=names)
    if any(isinstance(f, OrdinalMGResult) for f in fits):
        raise ModelSpecificationError("lrt() cannot compare an ordinal fit with an ML fit.")
    if len(fits) < 2:
        raise ModelSpecificationError("lrt() needs at least two fitted models.")
    names = list(names) if names is not None else [f"model{i + 1}" for i in range(len(fits))]
    for nm, f in zip(names, fits):
        if not f.converged:
            raise ModelSpecificationError(f"Model {nm!r} did not converge; it cannot be compared.")
    n0 = fits[0].n_obs
    for nm, f in zip(names, fits):
        if f.n_obs != n0:
            raise ModelSpecificationError(
                f"Model {nm!r} was fitted to {f.n_obs} observations, the first to {n0}; nested "
                f"models must use the same data.")
    scaled = all("chisq_scaling_factor" in f.fit_measures for f in fits)
    if not scaled and any("chisq_scaling_factor" in f.fit_measures for f in fits):
        raise ModelSpecificationError("lrt() cannot compare a robust (MLR) fit with a plain ML fit.")
    order = sorted(range(len(fits)), key=lambda i: fits[i].fit_measures["df"])
    rows = []
    prev = None
    for i in order:
        fm = fits[i].fit_measures
        row = dict(model=names[i], df=fm["df"], aic=fm["aic"], bic=fm["bic"], chisq=fm["chisq"],
                   chisq_diff=np.nan, rmsea_diff=np.nan, df_diff=np.nan, p_value_diff=np.nan)
        if prev is not None:
            d = fm["chisq"] - prev["chisq"]
            ddf = fm["df"] - prev["df"]
            N = fm["ntotal"]
            G = len(fits[i].n_obs)
            if scaled and ddf > 0:
                # Satorra-Bentler (2001) scaled difference (lavaan's default for MLR);
                # lavaan reports no RMSEA of the difference then
                c1 = prev["chisq_scaling_factor"] if prev["df"] > 0 else 1.0
                cd = (fm["df"] * fm["chisq_scaling_factor"] - prev["df"] * c1) / ddf
                d = d / cd if cd > 0 else np.nan
            row["chisq_diff"] = d
            row["df_diff"] = ddf
            if ddf > 0:
                if not scaled:
                    row["rmsea_diff"] = rmsea_diff(d, ddf, N, G)
                row["p_value_diff"] = float(special.chdtrc(ddf, d))
        rows.append(row)
        prev = fm
    return pd.DataFrame(rows).set_index("model")


@dataclass(frozen=True)
class InvarianceResult:
    """Fits of the invariance sequence and their comparison table."""

    fits: Mapping[str, SEMResult]
    table: pd.DataFrame

    def __repr__(self) -> str:
        return f"InvarianceResult(levels={list(self.fits)})\n{self.table.to_string()}"

    def to_frame(self) -> pd.DataFrame:
        """The comparison table with the level as a column (``model``)."""
        return self.table.reset_index()

    def summary(self) -> Summary:
        """The comparison of the invariance levels (lavaan ``lavTestLRT`` + fit changes)."""
        return Summary("Measurement invariance across groups",
                       (f"Levels: {', '.join(self.fits)}",),
                       (("Model comparison", self.table),),
                       ("p_value_diff: chi-square difference test against the previous level.",))


def invariance(model: str, data: pd.DataFrame, group: str,
               levels=None, group_partial=None, ordered=None, parameterization: str = "delta",
               **kwargs) -> InvarianceResult:
    """Fit the measurement-invariance sequence and compare consecutive models.

    Parameters
    ----------
    model : str
        lavaan syntax of the (one-group) measurement model.
    data : DataFrame
    group : str
        Group column (order = first appearance, as lavaan).
    levels : sequence of str
        Any of ``"configural", "metric", "scalar", "strict"`` in increasing order (default
        all four). With ``ordered``: any of ``"configural", "thresholds", "loadings",
        "intercepts", "means", "residuals"`` (default the first four, the sequence of
        Wu & Estabrook, 2016; "metric", "scalar", "strict" are accepted as "loadings",
        "intercepts", "residuals").
    ordered : True or list of str, optional
        Ordinal indicators: each level is fitted by WLSMV (or ``estimator="ULSMV"``,
        ``"DWLS"``, ``"ULS"``, passed through ``**kwargs``) with the Wu & Estabrook (2016)
        identification (semTools ``measEq.syntax(ID.fac = "std.lv", ID.cat =
        "Wu.Estabrook.2016")``) and consecutive levels are compared by the scaled-shifted
        difference test (lavaan ``lavTestLRT(method = "satorra.2000")``).
    parameterization : {"delta", "theta"}
        Ordinal models only ("residuals" needs "theta").
    group_partial : list of str, optional
        Released constraints, passed to every constrained fit.
    **kwargs
        Passed to :func:`psychometrics.sem.fit` (e.g. ``std_lv``).

    Returns
    -------
    InvarianceResult
        ``table`` has ``npar, df, chisq, p_value, cfi, tli, rmsea, srmr, aic, bic`` per level
        and ``chisq_diff, df_diff, p_value_diff, rmsea_diff, delta_cfi, delta_rmsea`` against the
        previous level (lavaan ``lavTestLRT``); with ``estimator="MLR"`` the difference
        test is Satorra-Bentler scaled and ``cfi_robust, rmsea_robust`` with their
        changes are added.

    Notes
    -----
    R: ``cfa(model, data, group = g, group.equal = ...)`` for each level, then
    ``lavTestLRT(configural, metric, scalar, strict)``.
    """
    from .api import fit
    if ordered is not None and ordered is not False:
        return _invariance_ordinal(model, data, group, levels, group_partial, ordered,
                                   parameterization, **kwargs)
    if levels is None:
        levels = ("configural", "metric", "scalar", "strict")
    bad = [lv for lv in levels if lv not in LEVELS]
    if bad:
        raise ModelSpecificationError(
            f"The 'levels' argument contains {bad[0]!r}; allowed: {', '.join(LEVELS)}.")
    fits = {}
    for lv in levels:
        fits[lv] = fit(model, data, group=group, group_equal=list(LEVELS[lv]) or None,
                       group_partial=group_partial if LEVELS[lv] else None, **kwargs)
    comp = lrt(*fits.values(), names=list(fits))
    rows = []
    prev = None
    for lv, f in fits.items():
        fm = f.fit_measures
        row = dict(model=lv, npar=fm["npar"], df=fm["df"], chisq=fm["chisq"], p_value=fm["pvalue"],
                   cfi=fm["cfi"], tli=fm["tli"], rmsea=fm["rmsea"], srmr=fm["srmr"],
                   aic=fm["aic"], bic=fm["bic"],
                   chisq_diff=comp.at[lv, "chisq_diff"], df_diff=comp.at[lv, "df_diff"],
                   p_value_diff=comp.at[lv, "p_value_diff"],
                   rmsea_diff=comp.at[lv, "rmsea_diff"],
                   delta_cfi=np.nan if prev is None else fm["cfi"] - prev["cfi"],
                   delta_rmsea=np.nan if prev is None else fm["rmsea"] - prev["rmsea"])
        if "cfi_robust" in fm:  # MLR: the robust indices and their changes too
            row.update(cfi_robust=fm["cfi_robust"], rmsea_robust=fm["rmsea_robust"],
                       delta_cfi_robust=np.nan if prev is None
                       else fm["cfi_robust"] - prev["cfi_robust"],
                       delta_rmsea_robust=np.nan if prev is None
                       else fm["rmsea_robust"] - prev["rmsea_robust"])
        rows.append(row)
        prev = fm
    table = pd.DataFrame(rows).set_index("model")
    return InvarianceResult(MappingProxyType(fits), table)


@single_blas_thread()
def _score_test_continuous(fit: SEMResult, cumulative: bool = True):
    """lavaan 0.6-14 ``lavTestScore(fit, univariate = TRUE, cumulative = TRUE)`` for an ML fit
    whose equality constraints are shared labels (``group_equal``, user labels)."""
    from dataclasses import replace

    from scipy import special  # lazy: keeps `import psychometrics.sem` light
    from .estimate import evaluate, make_problem, row_values
    from .matrices import build_representation
    from .ordinal_mg import ScoreTestResult, _score_frame, _score_tests
    prob = fit._problem
    if prob is None:
        raise ModelSpecificationError("Score tests need a model fitted to data by sem.fit().")
    pt = prob.pt
    if pt.constraints:
        raise ModelSpecificationError(
            "Score tests of general constraints ('==' with expressions) are not supported; "
            "only equality constraints by shared labels or group_equal.")
    t = pt.table
    par = t["par"].to_numpy()
    rows = np.flatnonzero(par >= 0)
    # lavaan's unconstrained space: one parameter per free row
    ext_par = np.full(len(par), -1)
    ext_par[rows] = np.arange(len(rows))
    ext_tab = t.copy()
    ext_tab["par"] = ext_par
    ext_pt = replace(pt, table=ext_tab, npar=len(rows), cols=None)
    ext_prob = make_problem(ext_pt, build_representation(ext_pt), prob.ss)
    x = row_values(prob, fit._theta)[rows]
    _, grad, info = evaluate(ext_prob, x, info=True)
    score = -grad
    keys = [(t.at[r, "lhs"], t.at[r, "op"], t.at[r, "rhs"], int(t.at[r, "group"])) for r in rows]
    first: dict = {}
    pairs = []
    for k, r in enumerate(rows):
        p = par[r]
        if p in first:
            pairs.append((first[p], k))
        else:
            first[p] = k
    if not pairs:
        raise ModelSpecificationError("The model has no equality constraints to release.")
    R = np.zeros((len(pairs), len(rows)))
    for k, (a, b) in enumerate(pairs):
        R[k, a], R[k, b] = 1.0, -1.0
    N = prob.ss.ntotal
    total, uni, cum = _score_tests(score, info, R, N, cumulative)
    univ, cumf = _score_frame(pairs, keys, uni, cum)
    tot = pd.DataFrame([dict(chisq=total, df=len(pairs),
                             p_value=float(special.chdtrc(len(pairs), total)))])
    return ScoreTestResult(tot, univ, cumf)


def score_test(fit, cumulative: bool = True):
    """Score tests of the cross-group equality constraints (lavaan ``lavTestScore``).

    Parameters
    ----------
    fit : SEMResult (ML) or OrdinalMGResult (WLSMV / DWLS / ULSMV / ULS)
        A multi-group fit with equality constraints (``group_equal`` or shared labels).
    cumulative : bool
        Also release the constraints cumulatively, in decreasing order of their
        univariate statistic.

    Returns
    -------
    ScoreTestResult
        ``total``, ``univariate`` (``lhs, op, rhs, group_1, group_2, chisq, df, p_value``)
        and ``cumulative``.

    Notes
    -----
    R: ``lavTestScore(fit, univariate = TRUE, cumulative = TRUE)`` (lavaan 0.6-14). For
    WLSMV fits this is the ordinary score test, as lavaan 0.6-14 (which warns "se is not
    standard; falling back to ordinary score test").
    """
    from .ordinal_mg import OrdinalMGResult, score_test_ordinal
    if isinstance(fit, OrdinalMGResult):
        return score_test_ordinal(fit, cumulative=cumulative)
    if isinstance(fit, SEMResult):
        return _score_test_continuous(fit, cumulative=cumulative)
    raise ModelSpecificationError(
        f"score_test() takes a multi-group fit from sem.fit(), got {type(fit).__name__}.")


def _invariance_ordinal(model, data, group, levels, group_partial, ordered, parameterization,
                        estimator="WLSMV", **kwargs):
    from .ordinal_mg import _prepare, fit_ordinal_mg, lrt_ordinal, measeq_table
    if kwargs:
        raise ModelSpecificationError(
            f"invariance() with ordered= does not take {sorted(kwargs)}; it takes levels, "
            f"group_partial, parameterization and estimator.")
    if levels is None:
        levels = ("configural", "thresholds", "loadings", "intercepts")
    levels = [_ORDINAL_ALIASES.get(lv, lv) for lv in levels]
    bad = [lv for lv in levels if lv not in ORDINAL_LEVELS]
    if bad:
        raise ModelSpecificationError(
            f"The 'levels' argument contains {bad[0]!r}; allowed with ordered indicators: "
            f"{', '.join(ORDINAL_LEVELS)}.")
    prep = _prepare(model, data, ordered, group)
    fits = {}
    for lv in levels:
        eq = ORDINAL_LEVELS[lv]
        t = measeq_table(model, prep["nthr"], len(prep["groups"]), eq,
                         group_partial if eq else None, parameterization)
        fits[lv] = fit_ordinal_mg(model, data, group, ordered, estimator=estimator,
                                  _table=t, _prep=prep)
    comp = lrt_ordinal(*fits.values(), names=list(fits))
    rows = []
    prev = None
    for lv, f in fits.items():
        fm = f.fit_measures
        g = lambda k: fm.get(k, np.nan)     # noqa: E731
        row = dict(model=lv, npar=fm["npar"], df=fm["df"], chisq=fm["chisq"],
                   chisq_scaled=g("chisq_scaled"), pvalue_scaled=g("pvalue_scaled"),
                   cfi_scaled=g("cfi_scaled"), tli_scaled=g("tli_scaled"),
                   rmsea_scaled=g("rmsea_scaled"), srmr=fm["srmr"],
                   chisq_diff=comp.at[lv, "chisq_diff"], df_diff=comp.at[lv, "df_diff"],
                   p_value_diff=comp.at[lv, "p_value_diff"],
                   delta_cfi_scaled=np.nan if prev is None
                   else g("cfi_scaled") - prev.get("cfi_scaled", np.nan),
                   delta_rmsea_scaled=np.nan if prev is None
                   else g("rmsea_scaled") - prev.get("rmsea_scaled", np.nan))
        rows.append(row)
        prev = fm
    table = pd.DataFrame(rows).set_index("model")
    return InvarianceResult(MappingProxyType(fits), table)


def partial_invariance(fit, alpha: float = 0.05, max_release: int | None = None,
                       refit=None):
    """Release equality constraints one at a time, guided by score tests.

    At each step the constraint with the largest univariate score statistic
    (lavaan ``lavTestScore``) is released if its p-value is below ``alpha``, and the
    model is refitted with the parameter added to ``group_partial``; the search stops
    when no released constraint is significant (or after ``max_release`` steps).

    Parameters
    ----------
    fit : SEMResult or OrdinalMGResult
        A multi-group fit with ``group_equal`` constraints.
    alpha : float
    max_release : int, optional
    refit : callable, optional
        ``refit(group_partial) -> fit``; by default the fit is repeated with the same
        options (ordinal: :func:`.ordinal_mg.fit_ordinal_mg`; ML: ``sem.fit``) on the data
        it was fitted to.

    Returns
    -------
    (fit, DataFrame)
        The final fit and one row per step: ``step, lhs, op, rhs, group_1, group_2,
        chisq, p_value, released, note``. Constraints are named by their parameter;
        releasing it frees the parameter in every group (lavaan/semTools
        ``group.partial``). A constraint whose release leaves a model that is not
        identified or does not converge is kept (``note`` says why) and the next one is
        tried.
    """
    if not (0 < alpha < 1):
        raise ModelSpecificationError(
            f"The 'alpha' parameter of partial_invariance must be in (0, 1). Got {alpha!r}.")
    if refit is None:
        refit = _default_refit(fit)
    partial = list(_current_partial(fit))
    n0 = len(partial)
    steps = []
    cur = fit
    failed: set = set()
    import warnings as _w
    from ..exceptions import ConvergenceWarning, IdentificationError
    while max_release is None or len(partial) < n0 + max_release:
        sc = score_test(cur, cumulative=False).univariate
        sc = sc.sort_values("chisq", ascending=False, kind="stable")
        sc = sc[[(_partial_spec(r) not in partial and _partial_spec(r) not in failed)
                 for _, r in sc.iterrows()]]
        if sc.empty:
            break
        top = sc.iloc[0]
        spec = _partial_spec(top)
        row = dict(step=len(steps) + 1, lhs=top["lhs"], op=top["op"], rhs=top["rhs"],
                   group_1=top["group_1"], group_2=top["group_2"], chisq=top["chisq"],
                   p_value=top["p_value"], released=False, note="")
        if not top["p_value"] < alpha:
            row["note"] = f"largest remaining score test not significant at {alpha:g}"
            steps.append(row)
            break
        try:
            with _w.catch_warnings():
                _w.simplefilter("error", ConvergenceWarning)
                new_fit = refit(partial + [spec])
        except (IdentificationError, ConvergenceWarning) as exc:
            failed.add(spec)
            row["note"] = f"not released: the model without this constraint failed ({exc})"
            steps.append(row)
            continue
        partial.append(spec)
        cur = new_fit
        row["released"] = True
        steps.append(row)
    return cur, pd.DataFrame(steps)


def _partial_spec(row) -> str:
    if row["op"] == "~1":
        return f"{row['lhs']} ~ 1"
    return f"{row['lhs']} {row['op']} {row['rhs']}"


def _current_partial(fit):
    from .ordinal_mg import OrdinalMGResult
    if isinstance(fit, OrdinalMGResult):
        return list(fit.options["group_partial"])
    gp = fit.options.get("group_partial") if hasattr(fit, "options") else None
    return list(gp or ())


def _default_refit(fit):
    from .ordinal_mg import OrdinalMGResult, fit_ordinal_mg
    if isinstance(fit, OrdinalMGResult):
        ex = fit._extra
        o = fit.options
        model = fit.model

        def refit(partial):
            from .ordinal_mg import measeq_table
            t = measeq_table(model, ex["prep"]["nthr"], len(ex["prep"]["groups"]),
                             o["group_equal"], partial, o["parameterization"])
            return fit_ordinal_mg(model, None, o["group"], True, estimator=o["estimator"],
                                  _table=t, _prep=ex["prep"])
        return refit
    raise ModelSpecificationError(
        "partial_invariance() refits ML models through a 'refit' callable, e.g. "
        "refit=lambda gp: sem.fit(model, data, group='g', group_equal=[...], group_partial=gp).")
