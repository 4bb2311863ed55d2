"""Within- and between-patient correlations and ICCs (psych::statsBy)."""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import ModelSpecificationError
from ..results import Summary
from .decompose import _as_list, check_panel

__all__ = ["statsby", "StatsByResult"]


@dataclass(frozen=True, eq=False)
class StatsByResult:
    """Result of :func:`statsby` (psych::statsBy).

    Attributes
    ----------
    r_within : DataFrame
        Pooled within-patient correlations (of patient-mean-centred values), ``rwg``.
    r_between : DataFrame
        Correlations of patient means with every row weighted equally (so each
        patient by its number of sessions), ``rbg``.
    p_within, p_between : DataFrame
        Two-sided p-values (``pwg`` with N - G - 2 df, ``pbg`` with G - 2 df).
    ci_within, ci_between : DataFrame
        Fisher-z 95% intervals per pair: var1, var2, ci_lower, r, ci_upper (``ci.wg``, ``ci.bg``).
    variables : DataFrame
        One row per variable: icc1, icc2, f (MSb/MSw), eta_between, eta_within,
        ms_between, ms_within, n, n_groups.
    """

    r_within: pd.DataFrame
    r_between: pd.DataFrame
    p_within: pd.DataFrame
    p_between: pd.DataFrame
    ci_within: pd.DataFrame
    ci_between: pd.DataFrame
    variables: pd.DataFrame
    n_obs: int
    n_groups: int

    def __repr__(self) -> str:
        return (f"<StatsByResult {list(self.r_within.columns)}: {self.n_obs} rows, "
                f"{self.n_groups} groups>")

    def to_frame(self) -> pd.DataFrame:
        """One row per variable (``variables``)."""
        return self.variables.copy()

    def summary(self) -> Summary:
        return Summary("Within- and between-patient statistics (psych::statsBy)",
                       (f"{self.n_obs} observations, {self.n_groups} patients",),
                       (("Within-patient correlations:", self.r_within.reset_index(names="variable")),
                        ("Between-patient correlations (patients weighted by sessions):",
                         self.r_between.reset_index(names="variable")),
                        ("Variables:", self.variables)))


def _pairs_ci(r: pd.DataFrame, n: float, alpha: float) -> pd.DataFrame:
    from scipy import stats  # lazy: keeps the package import light
    rows = []
    names = list(r.columns)
    z = stats.norm.ppf(1 - alpha / 2)
    for j in range(len(names)):
        for i in range(j + 1, len(names)):
            rv = float(r.iloc[i, j])
            fz = np.arctanh(rv)
            sd = 1 / np.sqrt(n - 3)
            rows.append({"var1": names[j], "var2": names[i], "ci_lower": np.tanh(fz - z * sd),
                         "r": rv, "ci_upper": np.tanh(fz + z * sd)})
    return pd.DataFrame(rows, columns=["var1", "var2", "ci_lower", "r", "ci_upper"])


@dataclass(frozen=True, eq=False)
class ThreeLevelStatsByResult:
    """:func:`statsby` with ``id=[cluster, patient]``: psych::statsBy by patient (the pair
    cluster, patient) and by cluster, and the share of each variable's variance at each level.

    Attributes
    ----------
    patient, cluster : StatsByResult
        ``psych::statsBy(d, group = <patient key>)`` and ``psych::statsBy(d, group = cluster)``.
    icc : DataFrame
        One row per variable: ``icc_cluster`` (cluster variance share), ``icc_patient``
        (patient-within-cluster share), ``share_occasion``, ``icc_patient_total`` (the
        correlation of two occasions of one patient: cluster + patient share), and the
        variances ``var_cluster, var_patient, var_occasion`` of ``v ~ 1 + (1 | cluster/patient)``
        (REML, lme4's ``VarCorr``).
    """

    patient: StatsByResult
    cluster: StatsByResult
    icc: pd.DataFrame
    cluster_name: str = ""

    def __repr__(self) -> str:
        return (f"<ThreeLevelStatsByResult {list(self.icc['variable'])}: {self.patient.n_obs} "
                f"rows, {self.patient.n_groups} patients, {self.cluster.n_groups} "
                f"{self.cluster_name}>")

    def to_frame(self) -> pd.DataFrame:
        return self.icc

    def summary(self) -> Summary:
        return Summary(f"Within/between statistics at the occasion, patient and {self.cluster_name} level",
                       (f"{self.patient.n_obs} observations, {self.patient.n_groups} patients, "
                        f"{self.cluster.n_groups} levels of {self.cluster_name}",),
                       (("Variance shares (ICC) per level:", self.icc),
                        ("By patient (psych::statsBy):", self.patient.variables),
                        (f"By {self.cluster_name} (psych::statsBy):", self.cluster.variables)))


def _statsby_three_level(data, id, columns, alpha):
    from .mixed import mixed
    if len(id) != 2 or not all(isinstance(c, str) for c in id):
        raise ModelSpecificationError(
            f"id={id!r}: give the patient column, or [cluster, patient] for three levels (e.g. "
            "['therapist', 'patient']).")
    cl, pt = id
    for c in id:
        if c not in data.columns:
            raise ModelSpecificationError(
                f"Column {c!r} of id= is not a column of data; columns are {list(map(str, data.columns))}.")
    miss = data[cl].isna()
    if miss.any():
        raise ModelSpecificationError(
            f"cluster column {cl!r} is missing in rows {list(data.index[miss][:10])}.")
    cols = _as_list(columns)
    d = data.copy()
    key = "_patient_key"
    d[key] = d[cl].astype(str) + "|" + d[pt].astype(str)
    res_p = statsby(d, key, cols, alpha)
    res_c = statsby(d, cl, cols, alpha)
    rows = []
    for v in cols:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = mixed(f"{v} ~ 1 + (1 | {cl}/{key})", d.dropna(subset=[v]), reml=True)
        tab = f.random_effects.set_index("group")["variance"]
        vc, vp, vo = float(tab[cl]), float(tab[f"{key}:{cl}"]), float(tab["Residual"])
        tot = vc + vp + vo
        rows.append({"variable": v, "icc_cluster": vc / tot, "icc_patient": vp / tot,
                     "share_occasion": vo / tot, "icc_patient_total": (vc + vp) / tot,
                     "var_cluster": vc, "var_patient": vp, "var_occasion": vo})
    return ThreeLevelStatsByResult(res_p, res_c, pd.DataFrame(rows), cl)


def statsby(data: pd.DataFrame, id, columns, alpha: float = 0.05):
    """Within/between correlations and ICC1/ICC2 by patient, as ``psych::statsBy``.

    Parameters
    ----------
    data : DataFrame
        Long format; rows with missing values in ``columns`` are dropped
        (complete cases; psych uses pairwise counts, identical without NAs).
    id : str or [cluster, patient]
        Patient column; or two columns for three-level data (e.g. ``["therapist",
        "patient"]``, patient ids may repeat across therapists): then a
        :class:`ThreeLevelStatsByResult` with the statistics by patient and by cluster and
        the ICC at each level (variance shares of ``v ~ 1 + (1 | cluster/patient)``).
    columns : list of str
        Numeric variables (at least two for correlations).
    alpha : float
        For the confidence intervals of the correlations.

    Returns
    -------
    StatsByResult

    Notes
    -----
    With patient means ``m_i``, sizes ``n_i``, ``N = sum n_i``, ``G`` patients:
    ``MSb = sum n_i (m_i - GM)^2 / (G - 1)``, ``MSw = sum (n_i - 1) s_i^2 / sum (n_i - 1)``,
    ``ICC1 = (MSb - MSw) / (MSb + (N/G - 1) MSw)``, ``ICC2 = (MSb - MSw) / MSb``
    (psych uses the mean cluster size N/G). ``r_within`` = correlation of the
    centred values ``x - m_i`` over all rows; ``r_between`` = correlation of
    ``m_i`` over all rows (weighted by ``n_i``). ``eta_between`` = cor(x, m),
    ``eta_within`` = cor(x, x - m).

    R: ``psych::statsBy(d[, c("patient_id", "wai_mean", "oq_total")], group = "patient_id")``.
    """
    from scipy import stats  # lazy: keeps the package import light
    if isinstance(id, (list, tuple)):
        return _statsby_three_level(data, list(id), columns, alpha)
    cols = _as_list(columns)
    data = check_panel(data, id, None, cols, func="statsby")
    if not (0 < alpha < 1):
        raise ModelSpecificationError(f"The 'alpha' parameter must be in (0, 1). Got {alpha!r}.")
    sub = data[[id] + cols].dropna(subset=cols)
    codes, uniq = pd.factorize(sub[id], sort=True)
    G = len(uniq)
    if G < 3:
        raise ModelSpecificationError(f"statsby needs at least 3 patients; {id!r} has {G}.")
    X = sub[cols].to_numpy(dtype=float)
    N = X.shape[0]
    cnt = np.bincount(codes, minlength=G).astype(float)
    sums = np.column_stack([np.bincount(codes, weights=X[:, j], minlength=G) for j in range(len(cols))])
    means = sums / cnt[:, None]
    M = means[codes]
    D = X - M
    GM = X.mean(axis=0)
    ss_b = (cnt[:, None] * (means - GM) ** 2).sum(axis=0)
    ss_w = (D ** 2).sum(axis=0)
    MSb = ss_b / (G - 1)
    MSw = ss_w / (N - G)
    npr = N / G
    icc1 = (MSb - MSw) / (MSb + MSw * (npr - 1))
    icc2 = (MSb - MSw) / MSb
    rw = np.corrcoef(D, rowvar=False)
    rb = np.corrcoef(M, rowvar=False)
    rw = np.atleast_2d(rw)
    rb = np.atleast_2d(rb)
    with np.errstate(divide="ignore", invalid="ignore"):
        tw = rw * np.sqrt(N - 2) / np.sqrt(1 - rw ** 2)
        pw = 2 * stats.t.sf(np.abs(tw), N - G - 2)
        tb = rb * np.sqrt(G - 2) / np.sqrt(1 - rb ** 2)
        pb = 2 * stats.t.sf(np.abs(tb), G - 2)
    np.fill_diagonal(pw, 0.0)
    np.fill_diagonal(pb, 0.0)
    eta_b = np.array([np.corrcoef(X[:, j], M[:, j])[0, 1] for j in range(len(cols))])
    eta_w = np.array([np.corrcoef(X[:, j], D[:, j])[0, 1] for j in range(len(cols))])
    frame = lambda a: pd.DataFrame(a, index=cols, columns=cols)  # noqa: E731
    r_within, r_between = frame(rw), frame(rb)
    variables = pd.DataFrame({"variable": cols, "icc1": icc1, "icc2": icc2, "f": MSb / MSw,
                              "eta_between": eta_b, "eta_within": eta_w, "ms_between": MSb,
                              "ms_within": MSw, "n": N, "n_groups": G})
    return StatsByResult(r_within, r_between, frame(pw), frame(pb),
                         _pairs_ci(r_within, N, alpha), _pairs_ci(r_between, G, alpha),
                         variables, N, G)
