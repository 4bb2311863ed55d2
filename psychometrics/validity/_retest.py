"""Test-retest reliability between adjacent assessments of patients whose outcome did not
change reliably, and the multitrait-multimethod (Campbell & Fiske) correlation table."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError
from ..results import Summary

__all__ = ["retest_reliability", "RetestResult", "mtmm", "MTMMResult"]


@dataclass(frozen=True, eq=False)
class RetestResult:
    """One row per pair of adjacent occasions (and a pooled row ``"all"``): ``time1,
    time2, n_obs`` (stable patients with both scores), ``n_excluded`` (patients whose
    outcome changed reliably), ``r`` (Pearson) and ``icc`` (ICC(A,1), Shrout-Fleiss
    ICC2, absolute agreement) with ``ci_lower, ci_upper`` of the ICC."""

    table: pd.DataFrame
    scale: str
    outcome: str | None
    threshold: float | None

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        crit = (f"patients whose {self.outcome} changed by less than {self.threshold:g} "
                "(the reliable change) between the two assessments"
                if self.outcome else "all patients")
        return Summary(title=f"Test-retest reliability of {self.scale}",
                       header=(f"Adjacent assessments; {crit}.",
                               "ICC = absolute agreement of single scores (ICC(A,1), Shrout-Fleiss "
                               "ICC2, psych::ICC)."),
                       blocks=(("Occasion pairs", self.table),))


def retest_reliability(data: pd.DataFrame, scale: str, id: str, time: str,  # noqa: A002
                outcome: str | None = None, threshold: float | None = None,
                max_gap: float = 1, level: float = 0.95) -> RetestResult:
    """Test-retest reliability of ``scale`` between adjacent assessments.

    Parameters
    ----------
    data : DataFrame
        Long data: one row per patient and occasion with scale scores.
    scale : str
        The column whose stability is estimated (e.g. a PEAR total).
    id, time : str
        Patient and occasion columns.
    outcome, threshold : str and float, optional
        Keep a pair of assessments only when ``|outcome_2 - outcome_1| < threshold``, i.e.
        the patient's outcome did not change reliably (``threshold`` is the instrument's
        reliable-change value, e.g. 14 points on the OQ-45 total). Without them every pair
        counts.
    max_gap : float
        Largest distance between two occasions that are still "adjacent" (default 1).
    level : float
        Confidence level of the ICC intervals.
    """
    from ..reliability import icc

    for col in [id, time, scale] + ([outcome] if outcome else []):
        if col not in data.columns:
            raise DataValidationError(f"data= has no column {col!r}.")
    if (outcome is None) != (threshold is None):
        raise DataValidationError("Give outcome= and threshold= together (the reliable-change "
                                  "value of the outcome), or neither.")
    cols = [id, time, scale] + ([outcome] if outcome else [])
    d = data[cols].dropna(subset=[id, time, scale]).sort_values([id, time])
    if d.duplicated([id, time]).any():
        r = d[d.duplicated([id, time])].iloc[0]
        raise DataValidationError(f"Patient {r[id]!r} has two rows at {time} = {r[time]!r}.")
    nxt = d.groupby(id, sort=False).shift(-1)
    pairs = pd.DataFrame({"id": d[id].to_numpy(), "time1": d[time].to_numpy(),
                          "time2": nxt[time].to_numpy(), "x1": d[scale].to_numpy(),
                          "x2": nxt[scale].to_numpy()})
    if outcome:
        pairs["change"] = (nxt[outcome] - d[outcome]).to_numpy()
    pairs = pairs[pairs["time2"].notna() & (pairs["time2"] - pairs["time1"] <= max_gap)]
    rows = []

    def one(p: pd.DataFrame, t1, t2):
        n_all = len(p)
        if outcome:
            stable = p[p["change"].abs() < threshold]
        else:
            stable = p
        row = {"time1": t1, "time2": t2, "n_obs": len(stable), "n_excluded": n_all - len(stable),
               "r": np.nan, "icc": np.nan, "ci_lower": np.nan, "ci_upper": np.nan}
        if len(stable) >= 3:
            row["r"] = float(np.corrcoef(stable["x1"], stable["x2"])[0, 1])
            t = icc(stable[["x1", "x2"]].to_numpy(), method="anova", level=level).table
            icc2 = t[t["type"] == "ICC2"].iloc[0]
            row.update(icc=float(icc2["icc"]), ci_lower=float(icc2["ci_lower"]),
                       ci_upper=float(icc2["ci_upper"]))
        return row

    for (t1, t2), p in pairs.groupby(["time1", "time2"], sort=True):
        rows.append(one(p, t1, t2))
    if not rows:
        raise DataValidationError(f"No patient has two assessments at most {max_gap} apart in "
                                  f"{time!r}.")
    rows.append(one(pairs, "all", "all"))
    return RetestResult(table=pd.DataFrame(rows), scale=scale, outcome=outcome,
                            threshold=threshold)


@dataclass(frozen=True, eq=False)
class MTMMResult:
    """A multitrait-multimethod matrix.

    ``matrix``: correlations of every trait-method measure (rows and columns labelled
    ``"trait / method"``), reliabilities on the diagonal where given. ``table``: one row
    per pair with its ``block`` (``"validity"``: same trait, different method;
    ``"heterotrait-monomethod"``; ``"heterotrait-heteromethod"``). ``criteria``: Campbell
    & Fiske's checks, each validity correlation against the heterotrait values in its row
    and column.
    """

    matrix: pd.DataFrame
    table: pd.DataFrame
    criteria: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> Summary:
        return Summary(title="Multitrait-multimethod matrix",
                       header=("Validity diagonal: same trait, different methods; it should "
                               "exceed the heterotrait correlations in its row and column "
                               "(Campbell & Fiske, 1959).",),
                       blocks=(("Correlations", self.matrix.reset_index(names="measure")),
                               ("Campbell-Fiske criteria", self.criteria)))


def mtmm(data: pd.DataFrame, measures: dict, reliabilities: dict | None = None) -> MTMMResult:
    """Multitrait-multimethod correlations (Campbell & Fiske, 1959).

    Parameters
    ----------
    data : DataFrame
        Scale scores, one column per measure.
    measures : dict
        ``{(trait, method): column}``, e.g. ``{("alliance", "patient"): "wai_total",
        ("alliance", "therapist"): "wai_t_total", ("attunement", "patient"): "pear_total",
        ...}``; at least two traits and two methods.
    reliabilities : dict, optional
        ``{(trait, method): reliability}`` shown on the diagonal.
    """
    keys = list(measures)
    if any(not (isinstance(k, tuple) and len(k) == 2) for k in keys):
        raise DataValidationError("measures= keys must be (trait, method) pairs.")
    traits = list(dict.fromkeys(k[0] for k in keys))
    methods = list(dict.fromkeys(k[1] for k in keys))
    if len(traits) < 2 or len(methods) < 2:
        raise DataValidationError(f"An MTMM matrix needs at least two traits and two methods; "
                                  f"got traits {traits} and methods {methods}.")
    absent = [c for c in measures.values() if c not in data.columns]
    if absent:
        raise DataValidationError(f"data= has no column(s) {absent}.")
    labels = [f"{t} / {m}" for t, m in keys]
    r = np.array(data[list(measures.values())].astype(float).corr(), dtype=float)
    n = data[list(measures.values())].notna().astype(float)
    n = (n.T @ n).to_numpy()
    if reliabilities:
        for i, k in enumerate(keys):
            r[i, i] = reliabilities.get(k, np.nan)
    else:
        np.fill_diagonal(r, np.nan)
    rows = []
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            (ti, mi), (tj, mj) = keys[i], keys[j]
            block = ("validity" if ti == tj and mi != mj else
                     "heterotrait-monomethod" if mi == mj and ti != tj else
                     "heterotrait-heteromethod" if ti != tj else "same measure")
            rows.append({"measure1": labels[i], "measure2": labels[j], "block": block,
                         "r": r[i, j], "n_obs": int(n[i, j])})
    table = pd.DataFrame(rows)
    crit = []
    for v in table[table["block"] == "validity"].itertuples():
        rivals = table[(table["block"] != "validity")
                       & (table["measure1"].isin([v.measure1, v.measure2])
                          | table["measure2"].isin([v.measure1, v.measure2]))]
        hh = rivals[rivals["block"] == "heterotrait-heteromethod"]["r"].abs()
        hm = rivals[rivals["block"] == "heterotrait-monomethod"]["r"].abs()
        crit.append({"measure1": v.measure1, "measure2": v.measure2, "r": v.r,
                     "max_heterotrait_heteromethod": hh.max() if len(hh) else np.nan,
                     "max_heterotrait_monomethod": hm.max() if len(hm) else np.nan,
                     "exceeds_heteromethod": bool(len(hh) == 0 or abs(v.r) > hh.max()),
                     "exceeds_monomethod": bool(len(hm) == 0 or abs(v.r) > hm.max())})
    return MTMMResult(matrix=pd.DataFrame(r, index=labels, columns=labels), table=table,
                      criteria=pd.DataFrame(crit))
