"""Multilevel (generalizability) reliability of items repeated over sessions within persons.

The Python counterpart of ``psych::multilevel.reliability`` (psych 2.2.9; Shrout & Lane 2012,
Cranford et al. 2006): the variance of an item response is split into person (``id``),
``time``, ``items``, their three two-way interactions and a residual, and four
generalizability coefficients are formed from the components (RkF, R1R, RkR, Rc), plus two
from a nested decomposition (sessions within persons; RkRn, Rcn).

Variance components are REML estimates of the crossed random-intercept model that psych fits
with ``lmer = TRUE`` (``method="lmer"``, the default here), or psych's method-of-moments
ANOVA estimates (``method="aov"``, psych's default, only for balanced designs).  The REML fit
is our own (see :mod:`psychometrics.reliability._crossed`): it exploits the structure of the
design instead of a sparse Cholesky factorisation and is much faster than lme4.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Literal, Sequence

import numpy as np
import pandas as pd

from ..exceptions import (
    ConvergenceWarning,
    DataIssue,
    DataQualityWarning,
    DataValidationError,
    HeywoodCaseWarning,
    ModelSpecificationError,
    SingularFitWarning,
)
from ..results import Summary
from ._crossed import REMLFit, _Long, fit_crossed, fit_crossed_cluster, fit_nested, fit_nested_cluster

__all__ = ["multilevel_reliability", "multilevel_reliability_long", "MultilevelReliabilityResult"]

#: crossed components: (our name, psych's row label)
CROSSED_COMPONENTS = (
    ("id", "ID"),
    ("time", "Time"),
    ("items", "Items"),
    ("id:time", "ID x time"),
    ("id:items", "ID x items"),
    ("time:items", "time x items"),
    ("residual", "Residual"),
    ("total", "Total"),
)
#: nested components (sessions within persons): (our name, psych's row label)
NESTED_COMPONENTS = (
    ("id", "id"),
    ("time_in_id", "id(time)"),
    ("residual", "residual"),
    ("total", "total"),
)
#: ANOVA sources in psych's order (R's aov term order)
ANOVA_SOURCES = (
    ("id", "id"),
    ("time", "time"),
    ("items", "items"),
    ("id:time", "id x time"),
    ("time:items", "time x items"),
    ("id:items", "id x items"),
    ("residual", "residuals"),
)
COEFFICIENT_DESCRIPTIONS = {
    "RkF": "Generalizability of the average of the k items over all (fixed) time points",
    "R1R": "Generalizability of the k-item average at a single random time point",
    "RkR": "Generalizability of the k-item average over random time points",
    "Rc": "Generalizability of within-person change (k-item average)",
    "RkRn": "Between-person reliability, nested model (time within person)",
    "Rcn": "Within-person reliability of change, nested model",
    "icc_cluster": "Share of a k-item score at one random time point between clusters (therapists)",
    "icc_patient": "Share of a k-item score at one random time point between patients within "
                   "clusters (icc_cluster + icc_patient = R1R)",
    "RkF_cluster": "Generalizability of a cluster's (therapist's) mean over its patients, all "
                   "time points and the k items",
    "RkRn_cluster": "Between-cluster reliability of a cluster's mean, nested model",
}
#: crossed components with a cluster (therapist) level: (our name, label; {c} = cluster column)
CLUSTER_COMPONENTS = (
    ("cluster", "{c}"),
    ("cluster:items", "{c} x items"),
    ("id", "ID (within {c})"),
) + CROSSED_COMPONENTS[1:]
CLUSTER_NESTED_COMPONENTS = (
    ("cluster", "{c}"),
    ("id", "id (within {c})"),
    ("time_in_id", "id(time)"),
    ("residual", "residual"),
    ("total", "total"),
)


@dataclass(frozen=True)
class MultilevelReliabilityResult:
    """Result of :func:`multilevel_reliability`.

    Attributes
    ----------
    RkF, R1R, RkR, Rc : float
        Generalizability coefficients from the crossed components (psych's names).
    RkRn, Rcn : float or None
        Coefficients from the nested components (None when ``nested=False``).
    components : DataFrame
        Crossed variance components: ``component`` (id, time, items, id:time, id:items,
        time:items, residual, total), ``psych_label`` (psych's row name), ``variance``,
        ``percent`` (share of the total, a proportion as in psych).
    nested_components : DataFrame or None
        Nested components: id, time_in_id (psych's ``id(time)``), residual, total.
    anova : DataFrame or None
        With ``method="aov"``: ``source, psych_label, df, ss, ms, f, p_value``.
    n_persons, n_times, n_items : int
        psych's ``n.obs`` (distinct ids), ``n.time`` (distinct times in the data) and
        ``n.items``: the counts used in the formulas.
    n_observations : int
        Item responses analysed (long format, missing values dropped).
    n_missing : int
        Item values that were missing and dropped.
    method : {"lmer", "aov"}
    crossed_fit, nested_fit : REMLFit or None
        Details of the REML fits (theta = sd ratios as lme4's ``getME(, "theta")``, sigma,
        REML criterion as lme4's ``REMLcrit``, convergence, singularity, computational path).
    singular : bool
        True when a REML fit lies on the boundary (some theta < ``singular_tol``), as
        ``lme4::isSingular``.
    converged : bool
        False when a REML optimisation did not meet its gradient criterion.
    items, reversed_items : tuple of str
    cluster : str or None
        The cluster (therapist) column, when given.
    n_clusters : int or None
        Distinct clusters.
    icc_cluster, icc_patient, RkF_cluster, RkRn_cluster : float or None
        With ``cluster=``: the variance shares and the cluster-level generalizability (see
        :func:`multilevel_reliability`, Notes). ``RkRn_cluster`` needs ``nested=True``.
    alpha_by_person : DataFrame or None
        With ``alpha_by_person=True`` (and more than 2 time points, as psych): coefficient alpha of the
        items over each person's sessions (psych's ``alpha``): ``id, raw_alpha, std_alpha,
        average_r, signal_noise, bad_cases``.
    """

    RkF: float
    R1R: float
    RkR: float
    Rc: float
    RkRn: float | None
    Rcn: float | None
    components: pd.DataFrame
    nested_components: pd.DataFrame | None
    anova: pd.DataFrame | None
    n_persons: int
    n_times: int
    n_items: int
    n_observations: int
    n_missing: int
    method: str
    crossed_fit: REMLFit | None
    nested_fit: REMLFit | None
    singular: bool
    converged: bool
    items: tuple[str, ...]
    reversed_items: tuple[str, ...] = field(default=())
    alpha_by_person: pd.DataFrame | None = None
    cluster: str | None = None
    n_clusters: int | None = None
    icc_cluster: float | None = None
    icc_patient: float | None = None
    RkF_cluster: float | None = None
    RkRn_cluster: float | None = None

    @property
    def coefficients(self) -> pd.DataFrame:
        """The six coefficients as a tidy table: ``coefficient, value, description``."""
        names = ["RkF", "R1R", "RkR", "Rc", "RkRn", "Rcn"]
        if self.cluster is not None:
            names += ["icc_cluster", "icc_patient", "RkF_cluster", "RkRn_cluster"]
        rows = [(k, getattr(self, k), COEFFICIENT_DESCRIPTIONS[k]) for k in names]
        return pd.DataFrame({
            "coefficient": [r[0] for r in rows],
            "value": np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=float),
            "description": [r[2] for r in rows],
        })

    def summary(self) -> Summary:
        """The coefficients and variance components, laid out as psych's print method."""
        header = [
            f"Method: {'REML crossed random effects (lmer)' if self.method == 'lmer' else 'ANOVA'}",
            f"Persons: {self.n_persons}  Time points: {self.n_times}  Items: {self.n_items}  "
            f"Observations: {self.n_observations}  Missing values dropped: {self.n_missing}",
        ]
        if self.cluster is not None:
            header.append(f"Clusters ({self.cluster}): {self.n_clusters}; patients nested in "
                          "clusters")
        if self.reversed_items:
            header.append("Reverse-keyed items: " + ", ".join(self.reversed_items))
        coef_lines = []
        w1, w2 = (12, 22) if self.cluster is not None else (5, 13)
        for _, row in self.coefficients.iterrows():
            val = "   NA" if np.isnan(row["value"]) else f"{row['value']:.4f}"
            coef_lines.append(f"  {row['coefficient']:<{w1}} = {val}   {row['description']}")

        def comp_text(tab):
            return "\n".join(f"  {row['psych_label']:<{w2}} {row['variance']:10.5f} "
                             f"{row['percent']:8.3f}" for _, row in tab.iterrows())
        blocks = [("Coefficients:", self.coefficients, "\n".join(coef_lines)),
                  ("Variance components (crossed):", self.components,
                   comp_text(self.components))]
        if self.nested_components is not None:
            blocks.append(("Variance components (nested, time within person):",
                           self.nested_components, comp_text(self.nested_components)))
        footer = []
        if self.singular:
            footer.append("Note: boundary (singular) REML fit: a variance component is "
                          "estimated as 0.")
        if not self.converged:
            footer.append("Warning: a REML optimisation did not converge.")
        return Summary("Multilevel generalizability analysis (psych::multilevel.reliability)",
                       tuple(header), tuple(blocks), tuple(footer))

    def to_frame(self) -> pd.DataFrame:
        """The reliability coefficients: coefficient, value, description."""
        return self.coefficients.copy()


# ------------------------------------------------------------------------ validation
def _py(x):
    """A numpy scalar as the plain Python value (for messages)."""
    return x.item() if isinstance(x, np.generic) else x


def _validate(data, id, time, items, method):
    if isinstance(data, pd.DataFrame):
        from ..io.itemdata import as_frame
        as_frame(data, "multilevel_reliability")     # an empty frame: a clear error
    if not isinstance(data, pd.DataFrame):
        raise TypeError("The 'data' argument of multilevel_reliability must be a pandas DataFrame "
                        f"(one row per person and session). Got {type(data).__name__} instead.")
    if method not in ("lmer", "aov"):
        raise ModelSpecificationError("The 'method' argument of multilevel_reliability must be "
                                      f"'lmer' or 'aov'. Got {method!r} instead.")
    for arg, col in (("id", id), ("time", time)):
        if not isinstance(col, str) or col not in data.columns:
            raise DataValidationError(
                f"The '{arg}' argument of multilevel_reliability must name a column of data. "
                f"Got {col!r}; the columns are {list(map(str, data.columns))}.")
    if id == time:
        raise ModelSpecificationError(f"The 'id' and 'time' arguments name the same column ({id!r}).")
    if isinstance(items, str) or not isinstance(items, Sequence):
        raise ModelSpecificationError("The 'items' argument of multilevel_reliability must be a "
                                      f"list of column names. Got {items!r} instead.")
    items = list(items)
    if len(items) < 2:
        raise ModelSpecificationError(
            "The 'items' argument of multilevel_reliability needs at least 2 items "
            f"(the item facet needs replicates); got {len(items)}: {items!r}.")
    names, reverse = [], []
    for it in items:
        if not isinstance(it, str):
            raise ModelSpecificationError(f"The 'items' argument must hold column names (str); got {it!r}.")
        rev = it.startswith("-") and it not in data.columns
        name = it[1:] if rev else it
        if name not in data.columns:
            raise DataValidationError(
                f"Item {it!r} of the 'items' argument is not a column of data. "
                f"The columns are {list(map(str, data.columns))}.")
        if name in (id, time):
            raise ModelSpecificationError(f"Item {name!r} is also the id or time column.")
        names.append(name)
        reverse.append(rev)
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ModelSpecificationError(f"The 'items' argument lists these columns more than once: {dup}.")
    bad = [n for n in names if not (pd.api.types.is_numeric_dtype(data[n])
                                    and not pd.api.types.is_bool_dtype(data[n]))]
    if bad:
        issues = []
        for n in bad:
            vals = pd.to_numeric(data[n], errors="coerce")
            for r in np.flatnonzero(vals.isna().to_numpy() & data[n].notna().to_numpy())[:5]:
                issues.append(DataIssue(row=int(r) + 1, column=n, value=data[n].iloc[r],
                                        problem="not a number"))
        raise DataValidationError(f"Item columns {bad} are not numeric.", issues,
                                  hint="Convert the responses to numbers (e.g. pd.to_numeric) "
                                       "before calling multilevel_reliability.")
    return names, reverse


def _prepare(data, id, time, names, reverse):
    ids = data[id]
    times = data[time]
    issues = [DataIssue(row=int(r) + 1, column=c, value=None, problem="missing")
              for c, s in ((id, ids), (time, times)) for r in np.flatnonzero(s.isna().to_numpy())]
    if issues:
        raise DataValidationError(
            f"The id column {id!r} and the time column {time!r} must not have missing values; "
            f"{len(issues)} found.", issues,
            hint="Drop or fill those rows before calling multilevel_reliability.")
    X = data[names].to_numpy(dtype=float, na_value=np.nan, copy=True)
    if np.isinf(X).any():
        r, c = np.argwhere(np.isinf(X))[0]
        raise DataValidationError("Item values must be finite.",
                                  [DataIssue(row=int(r) + 1, column=names[c], value=X[r, c],
                                             problem="infinite")])
    reversed_items = tuple(n for n, rv in zip(names, reverse) if rv)
    if reversed_items:
        # psych: reversed = max + min - x, with min and max over all item columns
        lo, hi = np.nanmin(X), np.nanmax(X)
        for c, rv in enumerate(reverse):
            if rv:
                X[:, c] = hi - X[:, c] + lo
    pid, pu = pd.factorize(ids, sort=True)
    tid, tu = pd.factorize(times, sort=True)
    n_persons, n_times, J = len(pu), len(tu), len(names)
    if n_persons < 2:
        raise ModelSpecificationError(
            f"The id column {id!r} has {n_persons} distinct value; at least 2 persons are needed.")
    if n_times < 2:
        raise ModelSpecificationError(
            f"The time column {time!r} has {n_times} distinct value; at least 2 time points are "
            "needed to separate persons from sessions.")
    # long format, dropping missing values (psych: stack() then na.omit)
    obs = ~np.isnan(X)
    if not obs.any():
        raise DataValidationError(f"All values of the item columns {names} are missing.")
    r_idx, c_idx = np.nonzero(obs)
    n_missing = int((~obs).sum())
    long = _Long(pid[r_idx], tid[r_idx], c_idx, X[r_idx, c_idx], n_persons, n_times, J)
    if n_missing:
        empty = int((~obs).all(axis=1).sum())
        warnings.warn(
            f"{n_missing} item values are missing ({empty} rows with no item answered); they are "
            "dropped from the long-format data as psych does (na.omit). The person and time "
            f"counts used in the coefficients ({n_persons} persons, {n_times} time points) are "
            "taken from all rows, as in psych.", DataQualityWarning, stacklevel=3)
    empty_items = [n for n, col in zip(names, obs.T) if not col.any()]
    if empty_items:
        warnings.warn(
            f"Items {empty_items} have no responses; they still count in the number of items "
            f"(k = {J}) used in the coefficients, as in psych.", DataQualityWarning, stacklevel=3)
    # structural checks on the observed data
    key = pd.DataFrame({"p": pid, "t": tid})[obs.any(axis=1)]
    dup = key.duplicated(keep=False)
    if dup.any():
        first = key[dup].iloc[0]
        warnings.warn(
            f"{int(key.duplicated().sum())} rows repeat a ({id}, {time}) pair already present "
            f"(e.g. {id}={_py(pu[first['p']])!r}, {time}={_py(tu[first['t']])!r}); their responses are "
            "pooled into the same session, as psych does.", DataQualityWarning, stacklevel=3)
    sess = key.drop_duplicates().groupby("p").size()
    if int(sess.max()) < 2:
        raise ModelSpecificationError(
            "Every person has a single session, so person and person-by-time variance cannot be "
            "separated; multilevel reliability needs repeated sessions.")
    single = sess.index[sess.to_numpy() == 1]
    if len(single):
        shown = ", ".join(repr(_py(pu[p])) for p in single[:10])
        warnings.warn(
            f"{len(single)} persons have a single session ({shown}{', ...' if len(single) > 10 else ''}); "
            "they contribute to the person and person-by-item components only through that session.",
            DataQualityWarning, stacklevel=3)
    return long, n_persons, n_times, n_missing, reversed_items, (X, pid, pu, r_idx)


def _cluster_codes(data, cluster, id, time, items):
    """Integer code of the cluster (therapist) of every row, and the number of clusters.

    Patients must be nested in clusters: a patient id under two clusters is an error naming
    the ids (the model would take them for one person seen by two therapists)."""
    if not isinstance(cluster, str) or cluster not in data.columns:
        raise DataValidationError(
            "The 'cluster' argument of multilevel_reliability must name a column of data. "
            f"Got {cluster!r}; the columns are {list(map(str, data.columns))}.")
    if cluster in (id, time) or cluster in items:
        raise ModelSpecificationError(
            f"The 'cluster' column {cluster!r} is also the id, time or an item column.")
    cl = data[cluster]
    miss = np.flatnonzero(cl.isna().to_numpy())
    if miss.size:
        raise DataValidationError(
            f"The cluster column {cluster!r} has {miss.size} missing value(s).",
            [DataIssue(row=int(r) + 1, column=cluster, value=None, problem="missing")
             for r in miss],
            hint=f"Every session needs its {cluster}; fill or drop these rows first.")
    n_cl = data.groupby(id, sort=True)[cluster].nunique()
    multi = n_cl[n_cl > 1]
    if len(multi):
        shown = "; ".join(
            f"{_py(v)!r} (under {', '.join(map(repr, sorted(map(_py, pd.unique(cl[data[id] == v])))))})"
            for v in multi.index[:10])
        raise DataValidationError(
            f"Patients must be nested in the clusters of {cluster!r}, but {len(multi)} {id!r} "
            f"id(s) occur under several {cluster!r}: {shown}"
            f"{' ...' if len(multi) > 10 else ''}.",
            hint=f"If these are different patients (ids numbered within each {cluster}), make "
                 f"the ids unique, e.g. data['{id}'] = data['{cluster}'].astype(str) + '_' + "
                 f"data['{id}'].astype(str). If they are the same patient, decide which "
                 f"{cluster} the rows belong to.")
    codes, uniq = pd.factorize(cl, sort=True)
    if len(uniq) < 2:
        raise ModelSpecificationError(
            f"The cluster column {cluster!r} has {len(uniq)} distinct value; at least 2 clusters "
            "are needed to separate the cluster from the patient variance.")
    per = data.groupby(cluster, sort=True)[id].nunique()
    one = per[per == 1]
    if len(one) == len(per):
        raise ModelSpecificationError(
            f"Every {cluster} has a single patient, so the {cluster} and patient components "
            f"(and {cluster} x items and patient x items) cannot be told apart. Leave out "
            "cluster=, or add patients.")
    if len(one):
        warnings.warn(
            f"{len(one)} {cluster}(s) have a single patient "
            f"({', '.join(repr(_py(v)) for v in one.index[:10])}{' ...' if len(one) > 10 else ''}): "
            f"for them the {cluster} and patient components are told apart only through the "
            f"other {cluster}s.", DataQualityWarning, stacklevel=3)
    return codes.astype(np.int64), len(uniq), float(n_cl.size) / len(uniq)


# ------------------------------------------------------------------------ alpha by person
def _alpha_by_person(X, pid, pu) -> pd.DataFrame:
    """psych's alphaBy for every person: alpha of the items over the person's sessions.

    As psych: pairwise-complete covariances C (divisor n - 1), R = cov2cor(C) with unit
    diagonal, raw alpha = (1 - tr C / sum C) k/(k-1), sumR = sum of the non-missing entries
    of R, standardised alpha = (1 - k/sumR) k/(k-1), average r = (sumR - k)/(k(k-1)),
    signal/noise = k r/(1 - r), bad = 1 when R has a missing entry (an item without variance).
    """
    k = X.shape[1]
    rows = []
    order = np.argsort(pid, kind="stable")
    bounds = np.cumsum(np.bincount(pid, minlength=len(pu)))
    start = 0
    with np.errstate(divide="ignore", invalid="ignore"):
        for p, stop in enumerate(bounds):
            Xp = X[order[start:stop]]
            start = stop
            C = pd.DataFrame(Xp).cov().to_numpy()
            Is = np.sqrt(1.0 / np.diag(C))
            R = Is[:, None] * C * Is[None, :]
            np.fill_diagonal(R, 1.0)
            raw = (1.0 - np.trace(C) / C.sum()) * (k / (k - 1.0))
            sumR = np.nansum(R)
            std = (1.0 - k / sumR) * (k / (k - 1.0))
            av_r = (sumR - k) / (k * (k - 1.0))
            sn = k * av_r / (1.0 - av_r)
            rows.append((_py(pu[p]), raw, std, av_r, sn, float(np.isnan(R).any())))
    return pd.DataFrame(rows, columns=["id", "raw_alpha", "std_alpha", "average_r",
                                       "signal_noise", "bad_cases"])


# ------------------------------------------------------------------------ ANOVA
def _anova(long: _Long):
    """Sequential (here: orthogonal) ANOVA of a balanced person x time x item design."""
    from scipy import stats  # lazy: keeps the package import light
    P, T, J = long.P, long.T, long.J
    Y = np.full((P, T, J), np.nan)
    Y[long.pid, long.tid, long.iid] = long.y
    if np.isnan(Y).any() or long.n != P * T * J:
        raise ModelSpecificationError(
            "method='aov' needs a balanced design (every person observed at every time point "
            "once, no missing item values); psych's aov on unbalanced data gives order-dependent "
            "sums of squares and negative components. Use method='lmer'.")
    m = Y.mean()
    mp, mt, mi = Y.mean(axis=(1, 2)), Y.mean(axis=(0, 2)), Y.mean(axis=(0, 1))
    mpt, mpi, mti = Y.mean(axis=2), Y.mean(axis=1), Y.mean(axis=0)
    ss = {
        "id": T * J * ((mp - m) ** 2).sum(),
        "time": P * J * ((mt - m) ** 2).sum(),
        "items": P * T * ((mi - m) ** 2).sum(),
        "id:time": J * ((mpt - mp[:, None] - mt[None, :] + m) ** 2).sum(),
        "time:items": P * ((mti - mt[:, None] - mi[None, :] + m) ** 2).sum(),
        "id:items": T * ((mpi - mp[:, None] - mi[None, :] + m) ** 2).sum(),
    }
    resid = (Y - mpt[:, :, None] - mpi[:, None, :] - mti[None, :, :]
             + mp[:, None, None] + mt[None, :, None] + mi[None, None, :] - m)
    ss["residual"] = (resid ** 2).sum()
    df = {"id": P - 1, "time": T - 1, "items": J - 1, "id:time": (P - 1) * (T - 1),
          "time:items": (T - 1) * (J - 1), "id:items": (P - 1) * (J - 1),
          "residual": (P - 1) * (T - 1) * (J - 1)}
    ms = {k: ss[k] / df[k] for k in ss}
    rows = []
    for key, label in ANOVA_SOURCES:
        f = ms[key] / ms["residual"] if key != "residual" else np.nan
        p = stats.f.sf(f, df[key], df["residual"]) if key != "residual" else np.nan
        rows.append((key, label, float(df[key]), ss[key], ms[key], f, p))
    table = pd.DataFrame(rows, columns=["source", "psych_label", "df", "ss", "ms", "f", "p_value"])
    return table, ms


# ------------------------------------------------------------------------ main
def multilevel_reliability(
    data: pd.DataFrame,
    id: str,
    time: str,
    items: Sequence[str],
    *,
    method: Literal["lmer", "aov"] = "lmer",
    nested: bool = True,
    alpha_by_person: bool = False,
    singular_tol: float = 1e-4,
    cluster: str | None = None,
) -> MultilevelReliabilityResult:
    """Generalizability coefficients of items repeated over sessions within persons.

    Parameters
    ----------
    data : DataFrame
        Wide data: one row per person and session, one column per item (numeric; missing
        values allowed and dropped), plus the id and time columns.
    id : str
        Column identifying the person (psych's ``grp``).
    time : str
        Column identifying the session / time point (psych's ``Time``); any values, used as a
        factor.
    items : list of str
        Item columns, at least 2.  A leading ``"-"`` reverse-keys an item as psych does:
        ``max + min - x`` with max and min over all item columns.
    method : {"lmer", "aov"}, default "lmer"
        ``"lmer"``: REML variance components of the crossed random-intercept model, as
        ``psych::multilevel.reliability(..., aov = FALSE, lmer = TRUE)``.  ``"aov"``: psych's
        default ANOVA (expected mean squares) estimates; balanced designs only.
    nested : bool, default True
        Also fit the nested model (sessions within persons; psych's ``lme = TRUE``) for RkRn
        and Rcn.
    alpha_by_person : bool, default False
        Also compute coefficient alpha of the items within each person (psych's
        ``alpha = TRUE``, its default; off here because it is a by-product, and persons with a
        constant item make psych print a message per person).  Needs more than 2 time points.
    singular_tol : float, default 1e-4
        A REML fit is reported singular when a relative standard deviation ``theta`` is below
        this, as ``lme4::isSingular(tol = 1e-4)``.
    cluster : str, optional
        Column of a level above the patient (e.g. ``"therapist"``), patients nested in it
        (every id under one cluster). The crossed model then gets ``(1|cluster)`` and
        ``(1|cluster:items)``, the nested model ``(1|cluster)``; the patient coefficients count
        the cluster components as part of the patient's stable score, and the cluster-level
        shares and generalizability are reported (see Notes). ``method="lmer"`` only; no psych
        equivalent (tested against lme4).

    Returns
    -------
    MultilevelReliabilityResult

    Raises
    ------
    TypeError
        ``data`` is not a DataFrame.
    DataValidationError
        A column is missing, item columns are not numeric, id/time (or cluster) have missing
        values, item values are infinite, or a patient id occurs under two clusters (the ids
        are named, with how to make them unique).
    ModelSpecificationError
        Fewer than 2 items, persons, time points (or clusters); every person has one session;
        an unknown ``method``; ``method="aov"`` on an unbalanced design or with ``cluster``.

    Warns
    -----
    DataQualityWarning
        Missing item values were dropped (with counts); persons with a single session;
        repeated (id, time) rows; clusters with a single patient.
    SingularFitWarning
        A REML fit is on the boundary (e.g. a time x items variance of 0); lme4 reports the
        same with "boundary (singular) fit".
    ConvergenceWarning
        A REML optimisation did not reach its gradient criterion.
    HeywoodCaseWarning
        ``method="aov"`` gave a negative variance estimate.

    Notes
    -----
    With components sigma^2_id, sigma^2_time, sigma^2_id:time, sigma^2_id:items and the residual
    sigma^2_e, k items and t = number of distinct time points (psych's ``n.time``, also on
    unbalanced data) (Shrout & Lane 2012; psych 2.2.9)::

        RkF  = (s_id + s_idi/k) / (s_id + s_idi/k + s_e/(t k))
        R1R  = (s_id + s_idi/k) / (s_id + s_idi/k + s_time + s_idt + s_e/k)
        RkR  = (s_id + s_idi/k) / (s_id + s_idi/k + s_time/t + s_idt/t + s_e/(t k))
        Rc   = s_idt / (s_idt + s_e/k)
        RkRn = v_id / (v_id + v_time(id)/t + v_e/(t k))
        Rcn  = v_time(id) / (v_time(id) + v_e/k)

    The crossed components are the REML estimates of
    ``lme4::lmer(values ~ 1 + (1|id) + (1|time) + (1|items) + (1|id:time) + (1|id:items) +
    (1|items:time))`` on the long data; the nested ones of
    ``nlme::lme(values ~ 1, random = list(id = ~1, time = ~1 | id:items))``, which is the model
    ``values ~ 1 + (1 | id/time)`` (items only as replicates).  R equivalent::

        psych::multilevel.reliability(data, grp = "id", Time = "time", items = items,
                                      aov = FALSE, lmer = TRUE, lme = TRUE)

    With ``cluster`` (components sigma^2_c of the cluster and sigma^2_ci of cluster x items;
    sigma^2_id and sigma^2_idi are then within clusters; m = patients per cluster, the mean
    over clusters). A patient's universe score contains the cluster's effect, so psych's formulas
    are kept with ``s_id -> s_c + s_id`` and ``s_idi -> s_ci + s_idi`` (the G-theory
    universe score of an object of measurement nested in a facet, Brennan 2001, ch. 4 and 7):
    they equal (in expectation) what the model without ``cluster`` estimates. At the cluster
    level the same scheme is applied one level up (with psych's RkF and RkRn as templates)::

        true = s_c + s_id + (s_ci + s_idi)/k                  (RkF, R1R, RkR with this true)
        D1   = true + s_time + s_idt + s_e/k                  (R1R's denominator)
        icc_cluster  = (s_c + s_ci/k) / D1,   icc_patient = (s_id + s_idi/k) / D1
        RkF_cluster  = (s_c + s_ci/k) / (s_c + s_ci/k + (s_id + s_idi/k)/m + s_e/(m t k))
        RkRn         = (v_c + v_id) / (v_c + v_id + v_time(id)/t + v_e/(t k))
        RkRn_cluster = v_c / (v_c + v_id/m + v_time(id)/(m t) + v_e/(m t k))

    Rc and Rcn (within-person change) keep psych's form. The fits are lme4's
    ``lmer(values ~ 1 + (1|cluster) + (1|cluster:items) + (1|id) + (1|time) + (1|items) +
    (1|id:time) + (1|id:items) + (1|items:time))`` and ``lmer(values ~ 1 + (1|cluster) +
    (1|id) + (1|id:time))``, by the general evaluator of the shared REML core
    (:mod:`psychometrics.numerics.reml`).

    Our REML optimum is exact to rounding (Newton polish); lme4's and nlme's
    optimisers stop earlier, so small components can differ from R's in the 4th digit while
    our REML criterion is equal or lower.  psych takes the nested components from the
    *printed* ``nlme::VarCorr`` (7 significant digits); we keep full precision.

    References
    ----------
    Shrout, P. E., & Lane, S. P. (2012). Psychometrics. In M. R. Mehl & T. S. Conner (Eds.),
    Handbook of research methods for studying daily life. Guilford.
    Cranford, J. A., et al. (2006). A procedure for evaluating sensitivity to within-person
    change. Personality and Social Psychology Bulletin, 32, 917-929.
    Brennan, R. L. (2001). Generalizability theory. Springer (nested designs, ch. 4; group
    means, ch. 7).

    Examples
    --------
    >>> res = multilevel_reliability(df, id="patient_id", time="month",
    ...                              items=[f"wai_{i}" for i in range(1, 13)])  # doctest: +SKIP
    >>> res.RkF, res.Rc                                                          # doctest: +SKIP
    """
    from ..io.itemdata import ItemData

    if isinstance(data, ItemData):      # the input layer's object: its keys and items
        data = data.to_frame()
    names, reverse = _validate(data, id, time, items, method)
    if not (isinstance(singular_tol, (int, float)) and singular_tol >= 0):
        raise ModelSpecificationError("The 'singular_tol' argument must be a number >= 0. "
                                      f"Got {singular_tol!r} instead.")
    if cluster is not None and method != "lmer":
        raise ModelSpecificationError(
            "The 'cluster' argument needs method='lmer' (the ANOVA estimates of psych have no "
            f"cluster level); got method={method!r}.")
    if cluster is not None:
        cl_rows, n_clusters, m_per = _cluster_codes(data, cluster, id, time, names)
    long, n_persons, n_times, n_missing, reversed_items, (X, pid, pu, r_idx) = _prepare(
        data, id, time, names, reverse)
    alpha_table = None
    if alpha_by_person and n_times > 2:
        alpha_table = _alpha_by_person(X, pid, pu)
        n_bad = int(alpha_table["bad_cases"].sum())
        if n_bad:
            warnings.warn(f"{n_bad} persons have an item without variance (or too few sessions) "
                          "over their sessions; their alpha values are missing or not meaningful "
                          "(psych: 'At least one item had no variance').", DataQualityWarning,
                          stacklevel=2)
    res = _analyse(long, n_persons, n_times, method=method, nested=nested,
                   singular_tol=singular_tol, n_missing=n_missing, items=tuple(names),
                   reversed_items=reversed_items,
                   cluster=None if cluster is None else (cluster, cl_rows[r_idx], n_clusters,
                                                         m_per))
    if alpha_table is not None:
        res = replace(res, alpha_by_person=alpha_table)
    return res


def _analyse(long: _Long, n_persons: int, n_times: int, *, method, nested, singular_tol,
             n_missing, items, reversed_items, cluster=None) -> MultilevelReliabilityResult:
    """Fit the components and form the coefficients (shared by the wide and long inputs).

    ``cluster``: None, or (column name, cluster code per observation, number of clusters,
    mean patients per cluster)."""
    t, k = float(n_times), float(long.J)
    if long.n == 0 or np.ptp(long.y) == 0:
        raise ModelSpecificationError(
            "The item responses have no variance (all observed values are equal"
            f"{'' if long.n == 0 else ' to ' + repr(float(long.y[0]))}); there is nothing to "
            "decompose.")

    if cluster is not None:
        return _analyse_cluster(long, n_persons, n_times, nested=nested,
                                singular_tol=singular_tol, n_missing=n_missing, items=items,
                                reversed_items=reversed_items, cluster=cluster)
    crossed_fit = nested_fit = None
    anova = None
    if method == "lmer":
        crossed_fit = fit_crossed(long, singular_tol=singular_tol)
    if nested:
        nested_fit = fit_nested(long, singular_tol=singular_tol)

    if method == "lmer":
        v = crossed_fit.variances
        comp = [v["id"], v["time"], v["items"], v["id:time"], v["id:items"], v["time:items"],
                v["residual"]]
    else:
        anova, ms = _anova(long)
        P = float(n_persons)
        comp = [
            (ms["id"] - ms["id:time"] - ms["id:items"] + ms["residual"]) / (t * k),
            (ms["time"] - ms["id:time"] - ms["time:items"] + ms["residual"]) / (P * k),
            (ms["items"] - ms["id:items"] - ms["time:items"] + ms["residual"]) / (P * t),
            (ms["id:time"] - ms["residual"]) / k,
            (ms["id:items"] - ms["residual"]) / t,
            (ms["time:items"] - ms["residual"]) / P,
            ms["residual"],
        ]
        neg = [lab for (nm, lab), val in zip(CROSSED_COMPONENTS, comp) if val < 0]
        if neg:
            warnings.warn(f"ANOVA variance estimates are negative for {neg}; the coefficients "
                          "using them are not meaningful. Consider method='lmer'.",
                          HeywoodCaseWarning, stacklevel=3)
    total = float(sum(comp))
    comp.append(total)
    components = pd.DataFrame({
        "component": [c[0] for c in CROSSED_COMPONENTS],
        "psych_label": [c[1] for c in CROSSED_COMPONENTS],
        "variance": np.array(comp, dtype=float),
        "percent": np.array(comp, dtype=float) / total,
    })
    s_id, s_time, _, s_idt, s_idi, _, s_e = comp[:7]
    true = s_id + s_idi / k
    RkF = true / (true + s_e / (t * k))
    R1R = true / (true + s_time + s_idt + s_e / k)
    RkR = true / (true + s_time / t + s_idt / t + s_e / (t * k))
    Rc = s_idt / (s_idt + s_e / k)

    nested_components = None
    RkRn = Rcn = None
    if nested:
        nv = nested_fit.variances
        vid, vti, vres = nv["id"], nv["id:time"], nv["residual"]
        ntot = vid + vti + vres
        nested_components = pd.DataFrame({
            "component": [c[0] for c in NESTED_COMPONENTS],
            "psych_label": [c[1] for c in NESTED_COMPONENTS],
            "variance": np.array([vid, vti, vres, ntot]),
            "percent": np.array([vid, vti, vres, ntot]) / ntot,
        })
        RkRn = vid / (vid + vti / t + vres / (t * k))
        Rcn = vti / (vti + vres / k)

    singular, converged = _fit_warnings(
        ((crossed_fit, "crossed (id x time x items)"), (nested_fit, "nested (time within id)")),
        singular_tol)

    return MultilevelReliabilityResult(
        RkF=float(RkF), R1R=float(R1R), RkR=float(RkR), Rc=float(Rc),
        RkRn=None if RkRn is None else float(RkRn), Rcn=None if Rcn is None else float(Rcn),
        components=components, nested_components=nested_components, anova=anova,
        n_persons=n_persons, n_times=n_times, n_items=long.J,
        n_observations=int(long.n), n_missing=n_missing, method=method,
        crossed_fit=crossed_fit, nested_fit=nested_fit, singular=singular, converged=converged,
        items=items, reversed_items=reversed_items)


def _fit_warnings(fits, singular_tol, stacklevel=4):
    """Warn about singular and non-converged REML fits; return (singular, converged)."""
    done = [(f, label) for f, label in fits if f is not None]
    for f, label in done:
        if f.singular:
            zero = [nm for nm, th in zip(f.names, f.theta) if th < singular_tol]
            warnings.warn(f"Boundary (singular) fit of the {label} model: the variance of "
                          f"{zero} is estimated as (nearly) 0, as lme4 would report with "
                          "'boundary (singular) fit'.", SingularFitWarning, stacklevel=stacklevel)
        if not f.converged:
            warnings.warn(f"The REML optimisation of the {label} model did not converge "
                          f"({f.message}); the components may be inaccurate.",
                          ConvergenceWarning, stacklevel=stacklevel)
    return any(f.singular for f, _ in done), all(f.converged for f, _ in done)


def _analyse_cluster(long: _Long, n_persons, n_times, *, nested, singular_tol, n_missing,
                     items, reversed_items, cluster) -> MultilevelReliabilityResult:
    """``_analyse`` with a cluster (therapist) level above the patients (REML only)."""
    name, cl_obs, n_clusters, m = cluster
    t, k = float(n_times), float(long.J)
    crossed_fit = fit_crossed_cluster(long, cl_obs, singular_tol=singular_tol)
    nested_fit = fit_nested_cluster(long, cl_obs, singular_tol=singular_tol) if nested else None
    v = crossed_fit.variances
    keys = [c[0] for c in CLUSTER_COMPONENTS[:-1]]
    comp = [v[c] for c in keys]
    total = float(sum(comp))
    comp.append(total)
    components = pd.DataFrame({
        "component": [c[0] for c in CLUSTER_COMPONENTS],
        "psych_label": [c[1].format(c=name) for c in CLUSTER_COMPONENTS],
        "variance": np.array(comp, dtype=float),
        "percent": np.array(comp, dtype=float) / total,
    })
    s_c, s_ci, s_id, s_time, s_idt, s_idi, s_e = (v["cluster"], v["cluster:items"], v["id"],
                                                  v["time"], v["id:time"], v["id:items"],
                                                  v["residual"])
    true_c = s_c + s_ci / k
    true_p = s_id + s_idi / k
    true = true_c + true_p
    RkF = true / (true + s_e / (t * k))
    d1 = true + s_time + s_idt + s_e / k
    R1R = true / d1
    RkR = true / (true + s_time / t + s_idt / t + s_e / (t * k))
    Rc = s_idt / (s_idt + s_e / k)
    icc_cluster, icc_patient = true_c / d1, true_p / d1
    RkF_cluster = true_c / (true_c + true_p / m + s_e / (m * t * k))
    nested_components = None
    RkRn = Rcn = RkRn_cluster = None
    if nested:
        nv = nested_fit.variances
        vc, vid, vti, vres = nv["cluster"], nv["id"], nv["id:time"], nv["residual"]
        ntot = vc + vid + vti + vres
        vals = np.array([vc, vid, vti, vres, ntot])
        nested_components = pd.DataFrame({
            "component": [c[0] for c in CLUSTER_NESTED_COMPONENTS],
            "psych_label": [c[1].format(c=name) for c in CLUSTER_NESTED_COMPONENTS],
            "variance": vals, "percent": vals / ntot,
        })
        RkRn = (vc + vid) / (vc + vid + vti / t + vres / (t * k))
        Rcn = vti / (vti + vres / k)
        RkRn_cluster = vc / (vc + vid / m + vti / (m * t) + vres / (m * t * k))
    singular, converged = _fit_warnings(
        ((crossed_fit, f"crossed ({name} / id x time x items)"),
         (nested_fit, f"nested (time within id within {name})")), singular_tol, stacklevel=5)
    f = lambda x: None if x is None else float(x)  # noqa: E731
    return MultilevelReliabilityResult(
        RkF=float(RkF), R1R=float(R1R), RkR=float(RkR), Rc=float(Rc), RkRn=f(RkRn), Rcn=f(Rcn),
        components=components, nested_components=nested_components, anova=None,
        n_persons=n_persons, n_times=n_times, n_items=long.J,
        n_observations=int(long.n), n_missing=n_missing, method="lmer",
        crossed_fit=crossed_fit, nested_fit=nested_fit, singular=singular, converged=converged,
        items=items, reversed_items=reversed_items, cluster=name, n_clusters=int(n_clusters),
        icc_cluster=float(icc_cluster), icc_patient=float(icc_patient),
        RkF_cluster=float(RkF_cluster), RkRn_cluster=f(RkRn_cluster))


def multilevel_reliability_long(
    data: pd.DataFrame,
    id: str,
    time: str,
    item: str,
    value: str,
    *,
    method: Literal["lmer", "aov"] = "lmer",
    nested: bool = True,
    singular_tol: float = 1e-4,
    cluster: str | None = None,
) -> MultilevelReliabilityResult:
    """:func:`multilevel_reliability` for long data: one row per person, time and item.

    Parameters
    ----------
    data : DataFrame
        Long data with the columns named by ``id``, ``time``, ``item`` and ``value``.
    id, time, item : str
        Columns identifying the person, the session and the item (any values, used as
        factors).
    value : str
        Column of the (numeric) responses; rows with a missing value are dropped.
    method, nested, singular_tol, cluster
        As in :func:`multilevel_reliability` (``cluster``: a column constant within each
        person, e.g. the therapist).

    Notes
    -----
    R equivalent: ``psych::multilevel.reliability(data, grp = id, Time = time, items = item,
    values = value, long = TRUE, aov = FALSE, lmer = TRUE)``.  As in psych, the counts used in
    the formulas are the numbers of distinct persons, times and items in all rows.
    """
    if isinstance(data, pd.DataFrame):
        from ..io.itemdata import as_frame
        as_frame(data, "multilevel_reliability_long")
    if not isinstance(data, pd.DataFrame):
        raise TypeError("The 'data' argument of multilevel_reliability_long must be a pandas "
                        f"DataFrame (one row per person, session and item). Got "
                        f"{type(data).__name__} instead.")
    if method not in ("lmer", "aov"):
        raise ModelSpecificationError("The 'method' argument of multilevel_reliability_long must "
                                      f"be 'lmer' or 'aov'. Got {method!r} instead.")
    if not (isinstance(singular_tol, (int, float)) and singular_tol >= 0):
        raise ModelSpecificationError("The 'singular_tol' argument must be a number >= 0. "
                                      f"Got {singular_tol!r} instead.")
    args = {"id": id, "time": time, "item": item, "value": value}
    for arg, col in args.items():
        if not isinstance(col, str) or col not in data.columns:
            raise DataValidationError(
                f"The '{arg}' argument of multilevel_reliability_long must name a column of "
                f"data. Got {col!r}; the columns are {list(map(str, data.columns))}.")
    if len(set(args.values())) < 4:
        raise ModelSpecificationError(f"The id, time, item and value arguments must name four "
                                      f"different columns; got {args}.")
    if not (pd.api.types.is_numeric_dtype(data[value]) and not pd.api.types.is_bool_dtype(data[value])):
        raise DataValidationError(f"The value column {value!r} is not numeric.",
                                  hint="Convert the responses to numbers (e.g. pd.to_numeric).")
    issues = [DataIssue(row=int(r) + 1, column=c, value=None, problem="missing")
              for c in (id, time, item) for r in np.flatnonzero(data[c].isna().to_numpy())]
    if issues:
        raise DataValidationError(
            f"The id, time and item columns must not have missing values; {len(issues)} found.",
            issues, hint="Drop or fill those rows before calling multilevel_reliability_long.")
    if cluster is not None and method != "lmer":
        raise ModelSpecificationError(
            "The 'cluster' argument needs method='lmer' (the ANOVA estimates of psych have no "
            f"cluster level); got method={method!r}.")
    if cluster is not None:
        cl_rows, n_clusters, m_per = _cluster_codes(data, cluster, id, time, [item, value])
    y = data[value].to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(y).any():
        r = int(np.flatnonzero(np.isinf(y))[0])
        raise DataValidationError("Item values must be finite.",
                                  [DataIssue(row=r + 1, column=value, value=y[r], problem="infinite")])
    pid, pu = pd.factorize(data[id], sort=True)
    tid, tu = pd.factorize(data[time], sort=True)
    iid, iu = pd.factorize(data[item], sort=True)
    n_persons, n_times, J = len(pu), len(tu), len(iu)
    for what, col, n, need in (("items", item, J, "the item facet needs replicates"),
                               ("persons", id, n_persons, "persons are the object of measurement"),
                               ("time points", time, n_times, "sessions must be separated from persons")):
        if n < 2:
            raise ModelSpecificationError(
                f"The {col!r} column has {n} distinct value; at least 2 {what} are needed "
                f"({need}).")
    ok = ~np.isnan(y)
    n_missing = int((~ok).sum())
    if n_missing:
        warnings.warn(f"{n_missing} values are missing; those rows are dropped (na.omit) as "
                      "psych does.", DataQualityWarning, stacklevel=2)
    long = _Long(pid[ok], tid[ok], iid[ok], y[ok], n_persons, n_times, J)
    if long.n and np.bincount(long.sess_pid, minlength=n_persons).max() < 2:
        raise ModelSpecificationError(
            "Every person has a single session, so person and person-by-time variance cannot be "
            "separated; multilevel reliability needs repeated sessions.")
    cell = (long.sid * J + long.iid)
    if np.bincount(cell).max() > 1:
        warnings.warn("Some (id, time, item) combinations occur more than once; the responses "
                      "are all used, as psych does.", DataQualityWarning, stacklevel=2)
    return _analyse(long, n_persons, n_times, method=method, nested=nested,
                    singular_tol=singular_tol, n_missing=n_missing,
                    items=tuple(str(_py(v)) for v in iu), reversed_items=(),
                    cluster=None if cluster is None else (cluster, cl_rows[ok], n_clusters,
                                                          m_per))
