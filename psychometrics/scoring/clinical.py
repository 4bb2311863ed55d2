"""Clinical significance per patient: reliable change and crossing of a cut-off.

Jacobson & Truax (1991). Change is ``post - pre`` between two administrations
of a patient (default: the first and the last with a score). Change is
*reliable* when

* the norm set gives ``rci`` (the smallest change, in raw points, that counts
  as reliable): ``|post - pre| >= rci``; or
* a reliability ``r`` and a standard deviation ``s`` are given (or in the
  norm set): ``SE = s sqrt(1 - r)``, ``S_diff = sqrt(2 SE^2)``,
  ``RC = (post - pre) / S_diff``, reliable when ``|RC| > z`` (1.96).

A score is *dysfunctional* when it lies on the dysfunctional side of the
cut-off, the cut-off itself included (``score >= cutoff`` when higher is worse,
``score <= cutoff`` otherwise). The cut-off is the norm set's ``cutoff`` or one
of Jacobson & Truax's criteria from the functional (f) and dysfunctional (d)
means and SDs, written for higher-is-worse scales:

* ``a = M_d - 2 SD_d``, ``b = M_f + 2 SD_f``,
* ``c = (SD_f M_d + SD_d M_f) / (SD_f + SD_d)``

(signs flip when higher is better). Classes: *recovered* (reliable
improvement from the dysfunctional to the functional range), *improved*
(other reliable improvement), *deteriorated* (reliable worsening),
*unchanged*. The direction of improvement is the scale's ``higher_is_worse``.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..exceptions import DataIssue, DataValidationError
from ..instruments.spec import Instrument
from ..results import Summary
from .engine import ScoreResult
from .plan import resolve_instrument

__all__ = ["clinical_significance", "ClinicalSignificanceResult", "CLASSES"]

CLASSES = ("recovered", "improved", "unchanged", "deteriorated")
STATUSES = ("assessed", "fewer_than_two_scores", "pre_or_post_missing")


@dataclass(frozen=True)
class ClinicalSignificanceResult:
    """Per-patient reliable change and clinical significance.

    Attributes
    ----------
    table : DataFrame
        One row per patient (order of first appearance): ``id, n_administrations,
        n_scored, time_pre, time_post, pre, post, change, rc, reliable,
        pre_dysfunctional, post_dysfunctional, crossed_cutoff, class, status``.
        ``rc`` is the Jacobson-Truax index (NaN with an ``rci`` threshold);
        ``class`` is NaN unless ``status == "assessed"``.
    scale : str
    method : {"rci", "jacobson_truax"}
    threshold : float
        Reliable when ``|change| >= threshold`` (rci) or ``|rc| > threshold`` (z).
    s_diff : float or None
        Standard error of the difference (Jacobson-Truax).
    cutoff : float or None
        The cut-off used (None: no crossing assessed, no one is "recovered").
    criterion : str
    norms : str or None
    higher_is_worse : bool
    """

    table: pd.DataFrame
    scale: str
    method: str
    threshold: float
    s_diff: float | None
    cutoff: float | None
    criterion: str
    norms: str | None
    higher_is_worse: bool

    def class_counts(self) -> pd.DataFrame:
        """Number and share of assessed patients per class: ``class, n, share``."""
        assessed = self.table[self.table["status"] == "assessed"]
        counts = assessed["class"].value_counts().reindex(list(CLASSES), fill_value=0)
        n = int(counts.sum())
        return pd.DataFrame({"class": list(CLASSES), "n": counts.to_numpy(),
                             "share": counts.to_numpy() / n if n else np.nan})

    def summary(self) -> Summary:
        """The class counts and the criteria used (RCI, cutoff)."""
        st = self.table["status"].value_counts()
        header = (f"{int(st.get('assessed', 0))} of {len(self.table)} patient(s) assessed "
                  f"(pre and post score).",)
        return Summary("Reliable and clinically significant change (Jacobson & Truax)", header,
                       (("Patients per class", self.class_counts()),))

    def to_frame(self) -> pd.DataFrame:
        """One row per patient (``table``)."""
        return self.table.copy()


def clinical_significance(scores: ScoreResult | pd.DataFrame,
                          instrument: str | os.PathLike | Instrument | None = None, *,
                          scale: str = "total", id: str | None = None, time: str | None = None,
                          norms: str | None = None, pre: Any = None, post: Any = None,
                          rci: float | None = None, reliability: float | None = None,
                          sd: float | None = None, cutoff: float | None = None,
                          criterion: Literal["cutoff", "a", "b", "c"] = "cutoff",
                          functional_mean: float | None = None,
                          functional_sd: float | None = None,
                          dysfunctional_mean: float | None = None,
                          dysfunctional_sd: float | None = None,
                          z: float = 1.96) -> ClinicalSignificanceResult:
    """Reliable change and clinical significance of each patient's change on one scale.

    Parameters
    ----------
    scores : ScoreResult or DataFrame
        Output of :func:`score` (its instrument, id and time are used unless
        given), or a DataFrame with the ``id``, ``time`` and ``scale`` columns.
    instrument : str, path or Instrument, optional
        Needed with a DataFrame: the scale's direction and norms.
    scale : str, default "total"
    id, time : str
        Patient and occasion columns (``time`` optional: row order is used).
    norms : str, optional
        Name of one of the instrument's norm sets (e.g. ``"us"``, ``"nl"`` for
        the OQ-45.2). Required unless ``rci`` or ``reliability`` and ``sd`` are
        given.
    pre, post : optional
        Values of ``time`` to compare; default the first and the last
        administration with a score.
    rci : float, optional
        Reliable change threshold in raw points (overrides the norm set).
    reliability, sd : float, optional
        For the Jacobson-Truax RC (override the norm set).
    cutoff : float, optional
        First score of the dysfunctional range (overrides the norm set).
    criterion : {"cutoff", "a", "b", "c"}
        ``"cutoff"``: the given or normed cut-off; ``"a"``, ``"b"``, ``"c"``:
        Jacobson-Truax criteria from the functional/dysfunctional means and SDs
        (arguments or norm set).
    z : float, default 1.96
        Critical value for ``|RC|``.

    Returns
    -------
    ClinicalSignificanceResult

    Raises
    ------
    ValueError
        Unknown scale or norm set, no way to judge reliable change, a
        criterion whose means/SDs are missing.
    DataValidationError
        A patient with two administrations at the same time.

    Notes
    -----
    ``SE = s sqrt(1 - r)``, ``S_diff = sqrt(2 SE^2)``, ``RC = (post - pre) / S_diff``
    (Jacobson & Truax, 1991, J Consult Clin Psychol 59, 12-19).
    """
    if isinstance(scores, ScoreResult):
        inst = scores.instrument if instrument is None else resolve_instrument(instrument)
        id = id if id is not None else scores.id
        time = time if time is not None else scores.time
        frame = scores.scores
    elif isinstance(scores, pd.DataFrame):
        if instrument is None:
            raise ValueError("The 'instrument' parameter is needed when 'scores' is a "
                             "DataFrame (it gives the scale's direction and norms).")
        inst = resolve_instrument(instrument)
        frame = scores
    else:
        raise TypeError(f"The 'scores' parameter must be a ScoreResult or a DataFrame. Got "
                        f"{type(scores).__name__} instead.")
    if scale not in inst.scales:
        raise ValueError(f"The 'scale' parameter {scale!r} is not a scale of {inst.id}; its "
                         f"scales are {list(inst.scales)}.")
    if id is None:
        raise ValueError("The 'id' parameter is needed: change is computed per patient.")
    for arg, col in (("id", id), ("time", time), ("scale", scale)):
        if col is not None and col not in frame.columns:
            raise ValueError(f"The {arg!r} column {col!r} is not in the scores; its columns are "
                             f"{list(map(str, frame.columns))[:12]}.")
    if criterion not in ("cutoff", "a", "b", "c"):
        raise ValueError(f"The 'criterion' parameter must be 'cutoff', 'a', 'b' or 'c'. Got "
                         f"{criterion!r} instead.")
    hiw = inst.scales[scale].higher_is_worse

    ns = None
    if norms is not None:
        if norms not in inst.norms:
            raise ValueError(f"The 'norms' parameter {norms!r} is not a norm set of {inst.id}; "
                             f"its norm sets are {list(inst.norms) or 'none'}.")
        ns = inst.norms[norms].scales.get(scale)
        if ns is None:
            raise ValueError(f"The norm set {norms!r} of {inst.id} has no norms for scale "
                             f"{scale!r}; it has {list(inst.norms[norms].scales)}.")

    def pick(arg, attr):
        return arg if arg is not None else (getattr(ns, attr) if ns is not None else None)

    # ----------------------------------------------------------- reliable change rule
    s_diff = None
    if rci is not None or (reliability is None and sd is None and pick(None, "rci") is not None):
        method, threshold = "rci", float(pick(rci, "rci"))
        if not threshold > 0:
            raise ValueError(f"The 'rci' parameter must be positive. Got {rci!r} instead.")
    else:
        r, s = pick(reliability, "reliability"), pick(sd, "sd")
        if r is None or s is None:
            have = f" (norm set {norms!r} has neither rci nor reliability and sd)" if ns else ""
            raise ValueError(
                "Cannot judge reliable change: pass norms= (one of "
                f"{list(inst.norms) or 'none'}), rci=, or reliability= and sd={have}.")
        if not 0 < r < 1 or not s > 0:
            raise ValueError(f"Reliability must lie in (0, 1) and sd be positive; got "
                             f"reliability={r!r}, sd={s!r}.")
        se = s * math.sqrt(1.0 - r)
        s_diff = math.sqrt(2.0 * se * se)
        method, threshold = "jacobson_truax", float(z)

    # ----------------------------------------------------------- cut-off
    if criterion == "cutoff":
        cut = pick(cutoff, "cutoff")
    else:
        mf, sf = pick(functional_mean, "functional_mean"), pick(functional_sd, "functional_sd")
        md, sdd = (pick(dysfunctional_mean, "dysfunctional_mean"),
                   pick(dysfunctional_sd, "dysfunctional_sd"))
        need = {"a": (md, sdd), "b": (mf, sf), "c": (mf, sf, md, sdd)}[criterion]
        if any(v is None for v in need):
            raise ValueError(f"Criterion {criterion!r} needs the "
                             + {"a": "dysfunctional mean and SD", "b": "functional mean and SD",
                                "c": "functional and dysfunctional means and SDs"}[criterion]
                             + " (arguments or norm set).")
        sign = 1.0 if hiw else -1.0
        if criterion == "a":
            cut = md - sign * 2.0 * sdd
        elif criterion == "b":
            cut = mf + sign * 2.0 * sf
        else:
            cut = (sf * md + sdd * mf) / (sf + sdd)
    cut = None if cut is None else float(cut)

    table = _per_patient(frame, id, time, scale, pre, post)
    change = table["post"].to_numpy() - table["pre"].to_numpy()
    table["change"] = change
    if method == "rci":
        rc = np.full(len(table), np.nan)
        reliable = np.abs(change) >= threshold
    else:
        rc = change / s_diff
        reliable = np.abs(rc) > threshold
    assessed = (table["status"] == "assessed").to_numpy()
    table["rc"] = rc
    improving = (change < 0) if hiw else (change > 0)
    worsening = (change > 0) if hiw else (change < 0)
    if cut is not None:
        dys = (lambda x: x >= cut) if hiw else (lambda x: x <= cut)
        pre_d = dys(table["pre"].to_numpy())
        post_d = dys(table["post"].to_numpy())
        crossed = pre_d & ~post_d
    else:
        pre_d = post_d = crossed = np.zeros(len(table), dtype=bool)
    cls = np.where(reliable & improving & crossed, 0,
                   np.where(reliable & improving, 1, np.where(reliable & worsening, 3, 2)))
    cls = np.where(assessed, cls, -1)

    def _bool(x):
        out = pd.array(x, dtype="boolean")
        out[~assessed] = pd.NA
        if cut is None and x is not reliable:
            out[:] = pd.NA
        return out

    table["reliable"] = _bool(reliable)
    table["pre_dysfunctional"] = _bool(pre_d)
    table["post_dysfunctional"] = _bool(post_d)
    table["crossed_cutoff"] = _bool(crossed)
    table["class"] = pd.Categorical.from_codes(cls, categories=list(CLASSES))
    table["status"] = pd.Categorical(table["status"], categories=list(STATUSES))
    cols = [id, "n_administrations", "n_scored", "time_pre", "time_post", "pre", "post",
            "change", "rc", "reliable", "pre_dysfunctional", "post_dysfunctional",
            "crossed_cutoff", "class", "status"]
    return ClinicalSignificanceResult(table[cols], scale, method, threshold, s_diff, cut,
                                      criterion, norms, hiw)


def _per_patient(frame: pd.DataFrame, id: str, time: str | None, scale: str, pre,
                 post) -> pd.DataFrame:
    df = pd.DataFrame({"_id": frame[id].to_numpy(), "_score": frame[scale].to_numpy(float),
                       "_pos": np.arange(len(frame))})
    df["_time"] = frame[time].to_numpy() if time is not None else df["_pos"]
    if time is not None:
        dup = df.duplicated(["_id", "_time"], keep=False).to_numpy()
        if dup.any():
            rows = np.flatnonzero(dup)
            raise DataValidationError(
                f"Clinical significance needs one administration per patient and time; "
                f"{len(rows)} row(s) share an ({id}, {time}):",
                [DataIssue(int(r) + 1, time, df["_time"].iat[r],
                           f"patient {df['_id'].iat[r]!r} has more than one administration at "
                           f"this time; remove the repeat or correct its time.") for r in rows])
    if (pre is not None or post is not None) and time is None:
        raise ValueError("The 'pre' and 'post' parameters are values of the 'time' column; "
                         "pass time= too.")
    codes, patients = pd.factorize(df["_id"], use_na_sentinel=False)   # first appearance
    df["_code"] = codes
    n_pat = len(patients)
    scored = df[df["_score"].notna()].sort_values(["_code", "_time", "_pos"], kind="stable")
    n_admin = np.bincount(codes, minlength=n_pat)
    n_scored = np.bincount(scored["_code"].to_numpy(), minlength=n_pat)

    def pick(sel: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Time and score per patient from rows ``sel`` (at most one per patient)."""
        found = np.zeros(n_pat, dtype=bool)
        t = np.full(n_pat, None, dtype=object)
        v = np.full(n_pat, np.nan)
        c = sel["_code"].to_numpy()
        found[c] = True
        t[c] = sel["_time"].to_numpy(dtype=object)
        v[c] = sel["_score"].to_numpy()
        return found, t, v

    first = scored.drop_duplicates("_code", keep="first")
    last = scored.drop_duplicates("_code", keep="last")
    f_pre, t_pre, v_pre = pick(first if pre is None else df[df["_time"] == pre])
    f_post, t_post, v_post = pick(last if post is None else df[df["_time"] == post])
    if pre is None and post is None:
        ok = n_scored >= 2
        status = np.where(ok, "assessed", "fewer_than_two_scores")
        t_pre = np.where(ok, t_pre, None)
        t_post = np.where(ok, t_post, None)
        v_pre = np.where(ok, v_pre, np.nan)
        v_post = np.where(ok, v_post, np.nan)
    else:
        ok = f_pre & f_post & ~np.isnan(v_pre) & ~np.isnan(v_post)
        if pre is None or post is None:   # the default end must differ from the chosen one
            ok &= n_scored >= 2
        status = np.where(ok, "assessed", "pre_or_post_missing")
    return pd.DataFrame({id: np.asarray(patients, dtype=object) if not isinstance(
                             patients, pd.Index) else patients.to_numpy(),
                         "n_administrations": n_admin, "n_scored": n_scored,
                         "time_pre": _restore(t_pre, frame, time),
                         "time_post": _restore(t_post, frame, time),
                         "pre": v_pre, "post": v_post, "status": status})


def _restore(values: np.ndarray, frame: pd.DataFrame, time: str | None) -> pd.Series:
    """Times as a column of the time column's type (nullable where a patient has none)."""
    s = pd.Series(values, dtype=object)
    if time is None:
        return s.astype("Int64")
    kind = frame[time].dtype.kind
    if kind in "iub":
        return s.astype("Int64")
    if kind == "f":
        return s.astype(np.float64)
    return s
