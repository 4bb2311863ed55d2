"""Within/between decomposition and time-ordered lags/leads of longitudinal data."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataIssue, DataQualityWarning, DataValidationError, ModelSpecificationError
from ..io.validate import row_label
from ..results import Summary

__all__ = ["decompose", "lag", "lead", "ShiftResult", "check_panel"]


def _as_list(columns, what="columns") -> list[str]:
    if isinstance(columns, str):
        return [columns]
    try:
        out = list(columns)
    except TypeError:
        raise ModelSpecificationError(f"The {what!r} argument must be a column name or a list of "
                                      f"column names. Got {columns!r}.") from None
    if not out:
        raise ModelSpecificationError(f"The {what!r} argument is empty; name at least one column.")
    return out


def check_panel(data: pd.DataFrame, id: str, time: str | None,
                columns: Sequence[str] = (), func: str = "decompose") -> pd.DataFrame:
    """Validate a long-format panel: columns exist, times numeric, no duplicate id-time rows.

    Returns the data as a DataFrame (an :class:`~psychometrics.io.ItemData` gives its
    id/time/group and item columns; an empty frame is refused). Rows in messages are
    1-based data rows.

    Raises
    ------
    DataValidationError
        Listing every duplicate (id, time) row or non-numeric time value.
    ModelSpecificationError
        For a missing column or a non-DataFrame.
    """
    from ..io.itemdata import ItemData, as_frame

    if not isinstance(data, (pd.DataFrame, ItemData)):
        raise ModelSpecificationError(
            f"The 'data' argument must be a pandas DataFrame, got {type(data).__name__}.")
    data = as_frame(data, func)
    needed = [id] + ([time] if time is not None else []) + list(columns)
    missing = [c for c in needed if c not in data.columns]
    if missing:
        raise ModelSpecificationError(
            f"Column(s) {missing} not found in data; columns are {list(map(str, data.columns))}.")
    ids = data[id]
    if ids.isna().any():
        rows = np.flatnonzero(ids.isna().to_numpy())
        raise DataValidationError(
            f"The id column {id!r} has {len(rows)} missing value(s).",
            [DataIssue(row=int(r) + 1, column=id, value=None, problem="missing patient id") for r in rows],
            hint="Drop or fill these rows first.")
    for c in columns:
        if not pd.api.types.is_numeric_dtype(data[c]):
            col = data[c]
            pos = np.flatnonzero((pd.to_numeric(col, errors="coerce").isna()
                                  & col.notna()).to_numpy())
            raise DataValidationError(
                f"Column {c!r} must be numeric (dtype is {col.dtype}).",
                [DataIssue(row=int(i) + 1, column=c, value=col.iloc[i], problem="not a number")
                 for i in pos[:50]],
                hint="Convert it with pandas.to_numeric or fix the listed values.")
    if time is None:
        return data
    t = data[time]
    if not (pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)):
        conv = pd.to_numeric(t, errors="coerce")
        pos = np.flatnonzero((conv.isna() & t.notna()).to_numpy())
        raise DataValidationError(
            f"The time column {time!r} must be numeric (e.g. month 1, 2, 3); its dtype is {t.dtype}.",
            [DataIssue(row=int(i) + 1, column=time, value=t.iloc[i], problem="time is not a number")
             for i in pos[:50]],
            hint="Convert dates to a number of months/sessions since the start of treatment.")
    if t.isna().any():
        rows = np.flatnonzero(t.isna().to_numpy())
        raise DataValidationError(
            f"The time column {time!r} has {len(rows)} missing value(s).",
            [DataIssue(row=int(r) + 1, column=time, value=None, problem="missing time") for r in rows],
            hint="Every assessment needs its time to order the lags.")
    dup = data.duplicated(subset=[id, time], keep=False)
    if dup.any():
        pos = np.flatnonzero(dup.to_numpy())
        issues = [DataIssue(row=int(i) + 1, column=time,
                            value=(data[id].iloc[i], data[time].iloc[i]),
                            problem=f"duplicate ({id}, {time})") for i in pos]
        raise DataValidationError(
            f"{int(dup.sum())} rows share a ({id!r}, {time!r}) pair with another row; each patient "
            "can have one assessment per time point.", issues,
            hint="Aggregate or remove the duplicates (see the exception's .to_frame()).")
    return data


def decompose(data: pd.DataFrame, id: str, time: str | None, columns, *, detrend: bool = False,
              suffixes: tuple[str, str, str] = ("_between", "_within", "_between_c"),
              keep_all: bool = True,
              cluster_suffixes: tuple[str, str] = ("_cluster", "_cluster_c")) -> pd.DataFrame:
    """Split time-varying variables into between- and within-patient parts.

    For each column ``x``: ``x_between`` = the patient's mean of ``x`` over all
    of that patient's non-missing rows; ``x_within`` = ``x - x_between``
    (person-mean centring); ``x_between_c`` = ``x_between`` minus the grand
    mean of the patient means (each patient counted once).

    Parameters
    ----------
    data : DataFrame
        Long format, one row per patient and time point.
    id : str or [cluster, patient]
        Patient column; or two columns for three-level data, e.g.
        ``["therapist", "patient"]`` (patients nested in therapists; a patient is
        the combination of both, so ids may repeat across therapists). Then, for
        each column ``x``: ``x_within`` = ``x`` minus the patient's mean;
        ``x_between`` = the patient's mean; ``x_between_c`` = the patient's mean
        minus the therapist's mean (centring within cluster); ``x_cluster`` = the
        therapist's mean (the mean of that therapist's patient means, each patient
        counted once); ``x_cluster_c`` = ``x_cluster`` minus the mean of the
        therapist means. ``x = x_within + x_between_c + x_cluster`` in every row.
    time : str
        Time column. ``time`` (numeric) orders the rows and is
        needed for ``detrend``; it may be None when not detrending.
    columns : str or list of str
        Numeric columns to decompose.
    detrend : bool, default False
        Wang & Maxwell (2015): remove each patient's own linear time trend from
        the within part, ``x_within = x - (a_i + b_i time)``; the patient mean
        stays the between part. Needs numeric ``time``; patients with fewer
        than 3 observations of ``x`` get a within part of 0 for a 2-point line
        (exact fit) and a DataQualityWarning.
    suffixes : tuple of 3 str
        Names appended for the between, within and centred-between columns.
    cluster_suffixes : tuple of 2 str
        Three-level data only: names appended for the cluster mean and the
        centred cluster mean.
    keep_all : bool, default True
        Return all columns of ``data`` plus the new ones (rows in the input
        order); if False only id, time and the new columns.

    Returns
    -------
    DataFrame

    Raises
    ------
    DataValidationError
        Duplicate patient-time rows, non-numeric times or values.

    Warns
    -----
    DataQualityWarning
        A column has no within-patient variance (every patient constant), or a
        patient has a single observation (within part 0 by construction).

    Notes
    -----
    R (case 7): ``d$x_between <- ave(d$x, d$id, FUN = mean); d$x_within <- d$x - d$x_between``.
    Missing values are skipped in the means (``na.rm = TRUE``); their within
    parts stay missing.
    """
    cols = _as_list(columns)
    if not isinstance(id, str):
        ids = _as_list(id, "id")
        if len(ids) == 1:
            id = ids[0]
        elif len(ids) == 2:
            return _decompose3(data, ids[0], ids[1], time, cols, detrend=detrend,
                               suffixes=suffixes, cluster_suffixes=cluster_suffixes,
                               keep_all=keep_all)
        else:
            raise ModelSpecificationError(
                f"The 'id' argument takes one column (patient) or two (cluster, patient), e.g. "
                f"id=['therapist', 'patient']. Got {ids!r}.")
    data = check_panel(data, id, time if (time is not None) else None, cols)
    if detrend and time is None:
        raise ModelSpecificationError("detrend=True needs the time column (time= argument).")
    codes, uniq = pd.factorize(data[id], sort=False)
    G = len(uniq)
    out = data.copy() if keep_all else data[[id] + ([time] if time else [])].copy()
    tvals = data[time].to_numpy(dtype=float) if time is not None else None
    for c in cols:
        x = data[c].to_numpy(dtype=float, na_value=np.nan)
        ok = np.isfinite(x)
        cnt = np.bincount(codes[ok], minlength=G).astype(float)
        s = np.bincount(codes[ok], weights=x[ok], minlength=G)
        with np.errstate(invalid="ignore", divide="ignore"):
            pm = s / cnt
        between = pm[codes]
        within = x - between
        single = int(np.sum(cnt == 1))
        if single:
            warnings.warn(f"{single} patient(s) have a single observation of {c!r}: their within "
                          "part is 0 by construction and they inform only between-patient "
                          "effects.", DataQualityWarning, stacklevel=2)
        if detrend:
            t = tvals
            st = np.bincount(codes[ok], weights=t[ok], minlength=G)
            with np.errstate(invalid="ignore", divide="ignore"):
                tm = st / cnt
            tc = np.where(ok, t - tm[codes], 0.0)
            sxt = np.bincount(codes, weights=np.where(ok, within, 0.0) * tc, minlength=G)
            stt = np.bincount(codes, weights=tc * tc, minlength=G)
            with np.errstate(invalid="ignore", divide="ignore"):
                slope = np.where(stt > 0, sxt / stt, 0.0)
            within = within - slope[codes] * tc
            few = int(np.sum((cnt > 0) & (cnt < 3)))
            if few:
                warnings.warn(f"Detrending {c!r}: {few} patient(s) have fewer than 3 observations; "
                              "their within part is 0 (a line fits exactly).", DataQualityWarning,
                              stacklevel=2)
        gm = float(np.nanmean(pm)) if np.any(cnt > 0) else np.nan
        wv = np.nansum(within ** 2)
        if ok.sum() > 0 and wv <= 1e-24 * max(1.0, float(np.nansum(x ** 2))):
            warnings.warn(f"Column {c!r} has no within-patient variance: every patient has a "
                          "constant value, so its within part is 0 everywhere and a within-patient "
                          "effect cannot be estimated.", DataQualityWarning, stacklevel=2)
        out[c + suffixes[0]] = between
        out[c + suffixes[1]] = within
        out[c + suffixes[2]] = between - gm
    return out


def _decompose3(data, cluster, id, time, cols, *, detrend, suffixes, cluster_suffixes, keep_all):
    """Three-level decomposition (patients nested in clusters such as therapists)."""
    from ..io.itemdata import ItemData, as_frame

    if not isinstance(data, (pd.DataFrame, ItemData)):
        raise ModelSpecificationError(
            f"The 'data' argument must be a pandas DataFrame, got {type(data).__name__}.")
    data = as_frame(data, "decompose")
    for col_ in (cluster, id):
        if col_ not in data.columns:
            raise ModelSpecificationError(
                f"Column(s) {[col_]} not found in data; columns are {list(map(str, data.columns))}.")
        if data[col_].isna().any():
            rows = np.flatnonzero(data[col_].isna().to_numpy())
            raise DataValidationError(
                f"The {'cluster' if col_ == cluster else 'id'} column {col_!r} has {len(rows)} "
                "missing value(s).",
                [DataIssue(row=int(r) + 1, column=col_, value=None, problem=f"missing {col_}",
                           index=row_label(int(r), data.index)) for r in rows],
                hint=f"Every assessment needs its {cluster} and {id}; fill or drop these rows first.")
    cl = data[cluster]
    # a patient is the (cluster, patient) combination
    key = "__patient_in_cluster__"
    while key in data.columns:
        key += "_"
    pairs = pd.Series(list(zip(cl, data[id])), index=data.index, dtype=object)
    pcodes = pd.factorize(pairs)[0]
    tmp = data.assign(**{key: pairs})
    try:
        check_panel(tmp, key, time, cols)
    except DataValidationError as exc:
        issues = [replace(i, column=f"({cluster}, {id})") if i.column == key else i
                  for i in exc.issues]
        raise DataValidationError(exc.summary.replace(repr(key), f"({cluster!r}, {id!r})"),
                                  issues, hint=exc.hint) from None
    # ids reused under two clusters while most are unique: probably the same patient (or a typo)
    nb = data.groupby(id, sort=True)[cluster].nunique()
    multi = nb[nb > 1]
    if 0 < len(multi) <= 0.5 * len(nb):
        shown = "; ".join(
            f"{v} (under {', '.join(map(str, sorted(pd.unique(data.loc[data[id] == v, cluster]))))})"
            for v in multi.index[:10])
        warnings.warn(
            f"Ambiguous nesting: {len(multi)} {id!r} id(s) occur under several {cluster!r}: "
            f"{shown}{' ...' if len(multi) > 10 else ''}, while the other {len(nb) - len(multi)} "
            f"occur under one. They are treated as different patients (one per {cluster}). If "
            f"they are the same patient, decide which {cluster} the rows belong to; otherwise "
            f"make the ids unique, e.g. data['{id}'] = data['{cluster}'].astype(str) + '_' + "
            f"data['{id}'].astype(str).", DataQualityWarning, stacklevel=3)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        two = decompose(tmp, key, time, cols, detrend=detrend, suffixes=suffixes, keep_all=True)
    for w in rec:
        warnings.warn(str(w.message), w.category, stacklevel=3)
    out = two.drop(columns=[key]) if keep_all else \
        two[[cluster, id] + ([time] if time else [])].copy()
    ccodes, cuniq = pd.factorize(cl, sort=False)
    C = len(cuniq)
    for c in cols:
        pm = two[c + suffixes[0]].to_numpy(dtype=float)
        # each patient once: the first row of every patient with a non-missing mean
        first = ~pd.Series(pcodes).duplicated().to_numpy() & np.isfinite(pm)
        cnt = np.bincount(ccodes[first], minlength=C).astype(float)
        s = np.bincount(ccodes[first], weights=pm[first], minlength=C)
        with np.errstate(invalid="ignore", divide="ignore"):
            cm = s / cnt
        cmean = cm[ccodes]
        gm = float(np.nanmean(cm)) if np.any(cnt > 0) else np.nan
        for nm in (c + suffixes[0], c + suffixes[1]):
            out[nm] = two[nm].to_numpy()
        out[c + suffixes[2]] = pm - cmean
        out[c + cluster_suffixes[0]] = cmean
        out[c + cluster_suffixes[1]] = cmean - gm
        one = int(np.sum(cnt == 1))
        if one:
            names = [str(cuniq[i]) for i in np.flatnonzero(cnt == 1)[:10]]
            warnings.warn(
                f"{one} {cluster}(s) have a single patient with data on {c!r} "
                f"({', '.join(names)}{' ...' if one > 10 else ''}): their patient part is 0 by "
                f"construction and they inform only between-{cluster} effects.",
                DataQualityWarning, stacklevel=3)
    return out


@dataclass(frozen=True, eq=False)
class ShiftResult:
    """Result of :func:`lead` / :func:`lag`.

    Attributes
    ----------
    data : DataFrame
        The input rows (input order) with the new column(s) added.
    columns : dict
        source column -> new column name.
    n_lost : int
        Rows that have no lead/lag value (per source column, the maximum).
    n_lost_end : int
        ... because the patient has no later (earlier) assessment.
    n_lost_gap : int
        ... because the next (previous) assessment is more than ``max_gap`` away.
    n_lost_missing : int
        ... because the neighbouring assessment exists but its value is missing.
    """

    data: pd.DataFrame
    columns: dict
    n_lost: int
    n_lost_end: int
    n_lost_gap: int
    n_lost_missing: int
    k: int
    max_gap: float

    def __repr__(self) -> str:
        return f"<ShiftResult {self.summary().header[0]}>"

    def summary(self) -> Summary:
        """One sentence: how many rows lost their value and why."""
        return Summary(
            f"{'Lead' if self.k < 0 else 'Lag'} of {abs(self.k)} occasion(s)",
            (f"{'lead' if self.k < 0 else 'lag'} {abs(self.k)}: {len(self.data)} rows, "
             f"{self.n_lost} without a value ({self.n_lost_end} at the end of a patient's "
             f"series, {self.n_lost_gap} across a gap > {self.max_gap}, {self.n_lost_missing} "
             "with a missing neighbour).",))

    def to_frame(self) -> pd.DataFrame:
        """The data with the shifted columns (``data``)."""
        return self.data.copy()


def _shift(data, columns, id, time, k, max_gap, suffix):
    cols = _as_list(columns)
    data = check_panel(data, id, time, cols, func=suffix)    # "lead" or "lag"
    if not isinstance(k, (int, np.integer)) or k == 0:
        raise ModelSpecificationError(f"The shift must be a non-zero integer. Got {k!r}.")
    if max_gap is None:
        max_gap = float(abs(k))
    if not (isinstance(max_gap, (int, float, np.number)) and max_gap > 0):
        raise ModelSpecificationError(
            f"The 'max_gap' parameter must be a positive number. Got {max_gap!r} instead.")
    codes, _ = pd.factorize(data[id], sort=False)
    t = data[time].to_numpy(dtype=float)
    order = np.lexsort((t, codes))
    n = len(data)
    c_s = codes[order]
    t_s = t[order]
    src = np.arange(n) - k     # position (in sorted order) providing the value: lag k -> i-k
    valid_pos = (src >= 0) & (src < n)
    src_c = np.clip(src, 0, n - 1)
    same = valid_pos & (c_s[src_c] == c_s)
    gap = np.abs(t_s - t_s[src_c])
    in_gap = same & (gap <= max_gap + 1e-9)
    out = data.copy()
    newnames = {}
    lost_missing = 0
    for c in cols:
        x = data[c].to_numpy(dtype=float, na_value=np.nan)[order]
        vals = np.where(in_gap, x[src_c], np.nan)
        lost_missing = max(lost_missing, int(np.sum(in_gap & ~np.isfinite(x[src_c]))))
        res = np.empty(n)
        res[order] = vals
        name = f"{c}_{suffix}{abs(k)}" if abs(k) != 1 else f"{c}_{suffix}"
        out[name] = res
        newnames[c] = name
    n_end = int(np.sum(~same))
    n_gap = int(np.sum(same & ~in_gap))
    return ShiftResult(out, newnames, n_end + n_gap + lost_missing, n_end, n_gap, lost_missing,
                       -abs(k) if suffix == "lead" else abs(k), float(max_gap))


def lead(data: pd.DataFrame, id: str, time: str, columns, *, k: int = 1,
         max_gap: float | None = None) -> ShiftResult:
    """Next assessment's value of each column, by patient in time order.

    Row ``(i, t)`` gets the value of the same patient's ``k``-th next
    assessment if that assessment lies at most ``max_gap`` time units later
    (default ``k``: the consecutive month), else NaN. Values never cross
    patients. New columns are named ``<column>_lead`` (``_lead2`` for k=2).

    Parameters
    ----------
    data : DataFrame
    id, time : str
        Patient column and numeric time column (duplicates raise).
    columns : str or list of str
        The argument order is :func:`decompose`'s: data, id, time, columns.
    k : int, default 1
    max_gap : float, optional
        Largest allowed time difference to the k-th next assessment.

    Returns
    -------
    ShiftResult
        ``.data`` with the new columns and counts of the rows that lost their
        lead (end of series, gap, missing value).

    Notes
    -----
    R (case 7): ``ave(d$oq_total, d$patient_id, FUN = function(x) c(x[-1], NA))``
    on data sorted by patient and month with no gaps.
    """
    return _shift(data, columns, id, time, -abs(int(k)) if isinstance(k, (int, np.integer)) else k,
                  max_gap, "lead")


def lag(data: pd.DataFrame, id: str, time: str, columns, *, k: int = 1,
        max_gap: float | None = None) -> ShiftResult:
    """Previous assessment's value of each column (see :func:`lead`); columns ``<column>_lag``."""
    return _shift(data, columns, id, time, abs(int(k)) if isinstance(k, (int, np.integer)) else k,
                  max_gap, "lag")
