"""The scoring engine: item responses -> scale scores, one output row per input row.

Design
------
Every item column is read once, validated with whole-array masks and added
into per-scale accumulators (sum of scored answers, number of blanks). Scale
scores then follow from closed forms of the missing-data rules, so the
engine never materialises a persons x items matrix:

* sum of scored answers ``S`` (reverse-keyed answers scored ``min + max - x``),
  ``a`` answered of ``k`` items, ``b = k - a`` blanks;
* ``complete``: score ``S`` (sum) or ``S / k`` (mean) when ``b == 0``;
* ``min_answered: m``: when ``a >= m``, ``S * k / a`` (prorated sum) or
  ``S / a`` (mean of the answered items);
* ``impute_rounded_mean: max_missing``: when ``b <= max_missing`` every blank
  is ``r = floor(S / a + 1/2)`` (the mean of the answered scored items rounded
  halves upwards), so the sum is ``S + b * r`` (mean ``(S + b * r) / k``);
* ``impute="item_mean"`` (an option of :func:`score`, not a bank rule): every
  blank is the item's mean over the scored rows, when the bank's rule allows
  that many blanks.

Composites are sums of their components, missing when any component is.
"""
from __future__ import annotations

import difflib
import os
import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, Mapping

import numpy as np
import pandas as pd

from ..exceptions import DataIssue, DataQualityWarning, DataValidationError
from ..instruments.spec import Instrument
from ..io.itemdata import (ItemData, as_frame, cell_issue_frame, column_map, iter_item_columns,
                           missing_column_problem)
from ..io.validate import check_responses
from ..results import Summary
from .plan import (COMPLETE, IMPUTED, PRORATED, STATUSES, TOO_MANY, ScalePlan, ScoringPlan,
                   make_plan, resolve_instrument)

__all__ = ["score", "ScoreResult", "ISSUE_COLUMNS", "REPORT_COLUMNS"]

#: Columns of :attr:`ScoreResult.issues`.
ISSUE_COLUMNS = ["row", "index", "column", "item", "value", "problem", "action"]
#: Columns of :attr:`ScoreResult.report` (``id``/``time`` added when given).
REPORT_COLUMNS = ["row", "scale", "status", "n_answered", "n_items", "score", "detail"]

_HINT = ("Fix the data as described, or pass invalid='missing' to treat each offending cell as "
         "blank (each is then listed in result.issues and the rows are scored by the bank's "
         "missing-data rules).")


# =============================================================================== result
@dataclass(frozen=True)
class ScoreResult:
    """Scale scores of every input row, with what was prorated, imputed or set missing.

    Attributes
    ----------
    scores : DataFrame
        One row per input row (wide data) or per administration (long data),
        in input order, with the input's index (wide) and its ``id``/``time``
        columns; then per scale ``<scale>`` (float score, NaN only when the
        status is ``too_many_missing``), ``<scale>_n_answered`` and
        ``<scale>_status`` (categorical: complete, prorated, imputed,
        too_many_missing).
    issues : DataFrame
        Columns ``row, index, column, item, value, problem, action``: every
        offending cell or column (``invalid="missing"``), and every
        duplicate administration. ``row`` is the 0-based position in the
        input (the long table for long data); NA for a whole-column issue.
    instrument : Instrument
        The instrument as the form uses it.
    form : str or None
    scales : tuple of str
    id, time : str or None
        The id and time columns carried over.
    options : dict
        ``invalid``, ``impute``, ``layout``.
    item_means : Series or None
        The item means used by ``impute="item_mean"``.
    """

    scores: pd.DataFrame
    issues: pd.DataFrame
    instrument: Instrument
    form: str | None
    scales: tuple[str, ...]
    id: str | None
    time: str | None
    options: dict
    item_means: pd.Series | None = None
    _plan: ScoringPlan | None = field(default=None, repr=False, compare=False)

    @cached_property
    def report(self) -> pd.DataFrame:
        """One row per (row, scale) that is not ``complete``: status, counts and why.

        Columns ``row, [id], [time], scale, status, n_answered, n_items, score,
        detail``, ordered by row then scale.
        """
        return _build_report(self)

    def status_counts(self) -> pd.DataFrame:
        """Per scale: ``scale, n``, the count of each status (complete, prorated, imputed,
        too_many_missing) and the ``mean`` score."""
        rows = []
        for sid in self.scales:
            st = self.scores[f"{sid}_status"]
            counts = st.value_counts().reindex(list(STATUSES), fill_value=0)
            row = {"scale": sid, "n": len(st)}
            row.update({k: int(v) for k, v in counts.items()})
            row["mean"] = float(np.nanmean(self.scores[sid])) if counts.iloc[:3].sum() else np.nan
            rows.append(row)
        return pd.DataFrame(rows, columns=["scale", "n", *STATUSES, "mean"])

    def summary(self) -> Summary:
        """Status counts per scale (complete, prorated, imputed, too_many_missing)."""
        return Summary(f"Scale scores of {self.instrument.id}",
                       (f"Scored {len(self.scores)} administration(s) of {self.instrument.id}; "
                        f"{len(self.issues)} data issue(s) (see .issues).",),
                       (("Status counts per scale", self.status_counts()),))

    def to_frame(self) -> pd.DataFrame:
        """The scale scores (``scores``): one row per input row or administration."""
        return self.scores.copy()

    def __repr__(self) -> str:
        return (f"ScoreResult(instrument={self.instrument.id!r}, form={self.form!r}, "
                f"rows={len(self.scores)}, scales={list(self.scales)}, "
                f"issues={len(self.issues)})")


# =============================================================================== scoring
def score(data: pd.DataFrame | str | os.PathLike, instrument: str | os.PathLike | Instrument,
          form: str | None = None, columns: Mapping[str, str] | None = None,
          invalid: Literal["raise", "missing"] = "raise", id: str | None = None,
          time: str | None = None, *, impute: Literal["none", "item_mean"] = "none",
          layout: Literal["auto", "wide", "long"] = "auto", item: str = "item",
          response: str = "response") -> ScoreResult:
    """Score item responses into scale scores, following the item bank.

    Parameters
    ----------
    data : DataFrame or path
        Wide data (one row per administration, one column per item) or long
        data (one row per answer: ``id, [time], item, response``). A path is
        read with :func:`psychometrics.io.read_responses` (CSV, Excel, SPSS,
        parquet; SPSS value labels mapped onto the response scale).
    instrument : str, path or Instrument
        Shipped bank name (``"oq-45.2"``), YAML path, or a loaded instrument.
    form : str, optional
        A form of the instrument; default its ``default_form``.
    columns : mapping, optional
        Item id -> data column, for items whose column is named differently
        (wide data) or whose ``item`` label differs (long data).
    invalid : {"raise", "missing"}, default "raise"
        What to do with responses outside the response scale, non-integers on
        an integer scale, text, missing item columns and duplicate
        administrations. ``"raise"``: one :class:`DataValidationError` listing
        every offending row, column and value. ``"missing"``: treat each
        offending cell as blank, score, and list it in ``result.issues``.
    id, time : str, optional
        Patient and occasion columns, carried into the scores. With both, an
        ``(id, time)`` that occurs twice is an issue. Long data need ``id``.
    impute : {"none", "item_mean"}, default "none"
        ``"item_mean"`` replaces each blank by the item's mean over the scored
        rows (``psych::scoreItems(impute = "mean")``), as far as the bank's
        missing-data rule allows that many blanks. It makes a person's score
        depend on the other rows, so it is an option here, not a bank rule.
    layout : {"auto", "wide", "long"}, default "auto"
        ``"auto"``: long when the data have the ``item`` and ``response``
        columns and none of the item columns.
    item, response : str
        Column names of long data.

    Returns
    -------
    ScoreResult
        ``.scores`` (one row per input row), ``.issues``, ``.report``
        (what was prorated, imputed or left missing, per row and scale),
        ``.summary()``.

    Raises
    ------
    DataValidationError
        Offending cells, columns or administrations (``invalid="raise"``).
    InstrumentNotFoundError, InstrumentError
        Unknown instrument or form.
    ValueError
        A bad argument (unknown option, an ``id``/``time`` column not in the
        data, a ``columns`` key that is not an item).

    Notes
    -----
    For a scale of ``k`` items with ``a`` answered and sum ``S`` of scored
    answers (reverse keys scored ``min + max - x``):

    - ``complete``: ``S`` (sum) or ``S/k`` (mean), only if ``a = k``;
    - ``min_answered m``: ``S k / a`` (sum) or ``S / a`` (mean) if ``a >= m``;
    - ``impute_rounded_mean``: blanks replaced by ``floor(S/a + 1/2)`` if
      ``k - a <= max_missing``;
    - composites: the sum of their components.

    ``psych::scoreItems(keys, items, impute = "none", totals = FALSE)`` equals
    a mean scale with ``min_answered: 1``; ``impute = "mean"`` equals
    ``impute="item_mean"`` here (``totals = TRUE``: sum scales).

    Examples
    --------
    >>> res = score(df, "oq-45.2", id="patient", time="session")   # doctest: +SKIP
    >>> res.scores[["patient", "session", "total", "total_status"]]  # doctest: +SKIP
    """
    if invalid not in ("raise", "missing"):
        raise ValueError(f"The 'invalid' parameter of score must be 'raise' or 'missing'. "
                         f"Got {invalid!r} instead.")
    if impute not in ("none", "item_mean"):
        raise ValueError(f"The 'impute' parameter of score must be 'none' or 'item_mean'. "
                         f"Got {impute!r} instead.")
    if layout not in ("auto", "wide", "long"):
        raise ValueError(f"The 'layout' parameter of score must be 'auto', 'wide' or 'long'. "
                         f"Got {layout!r} instead.")
    inst_full = resolve_instrument(instrument)
    plan = make_plan(inst_full, form)
    if isinstance(data, (str, os.PathLike)):
        from ..io.files import read_responses

        data = read_responses(data, instrument=plan.instrument)
    if isinstance(data, ItemData):
        return _score_item_data(data, plan, columns, invalid, id, time, impute)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"The 'data' parameter of score must be a DataFrame, an ItemData or a "
                        f"file path. Got {type(data).__name__} instead.")
    as_frame(data, "score")
    colmap = column_map(columns, plan.items, inst_full.item_ids, inst_full.id)
    for arg, col in (("id", id), ("time", time)):
        if col is not None and col not in data.columns:
            raise ValueError(f"The {arg!r} column {col!r} is not in the data; its columns are "
                             f"{_preview(data.columns)}.")
    if time is not None and id is None:
        raise ValueError("The 'time' parameter needs 'id' too: time identifies an "
                         "administration of a patient.")

    is_long = layout == "long" or (
        layout == "auto" and item in data.columns and response in data.columns
        and not any(colmap[i] in data.columns for i in plan.items))
    if is_long:
        return _score_long(data, plan, colmap, invalid, id, time, impute, item, response)
    wide_issues: list[pd.DataFrame] = []
    scores = _score_wide(data, plan, colmap, invalid, id, time, impute, wide_issues)
    return _finish(scores, wide_issues, plan, invalid, impute, "wide", id, time)


def _score_item_data(data: ItemData, plan: ScoringPlan, columns, invalid, id, time,
                     impute) -> ScoreResult:
    """Score an :class:`ItemData`: its columns were checked when it was built, against
    this bank's response scale, so they are used as they are (checked once)."""
    if columns is not None:
        raise ValueError("The 'columns' parameter of score does not apply to an ItemData: its "
                         "item columns were mapped to item ids when it was built "
                         "(psychometrics.io.item_data(..., columns=...)).")
    for arg, given, own in (("id", id, data.id), ("time", time, data.time)):
        if given is not None and given != own:
            raise ValueError(f"The {arg!r} parameter of score is {given!r}, but the ItemData "
                             f"has {arg}={own!r}; build it with {arg}={given!r}.")
    id, time = data.id, data.time
    if time is not None and id is None:
        raise ValueError("The 'time' parameter needs 'id' too: time identifies an "
                         "administration of a patient.")
    same_scale = data.scale is not None and data.scale == (plan.lo, plan.hi, plan.integer)
    if not same_scale:
        # items named by the user, or checked against another scale: check against this one
        return score(data.to_frame(), plan.instrument, form=plan.form, invalid=invalid, id=id,
                     time=time, impute=impute, layout="wide")
    have = set(data.items)

    def source():
        for iid in plan.items:
            if iid in have:
                yield iid, iid, data.checked(iid), None
            else:
                yield iid, iid, None, missing_column_problem(iid, iid, data.items,
                                                             {i: i for i in plan.items},
                                                             plan.instrument.id)
    colmap = {i: i for i in plan.items}
    parts: list[pd.DataFrame] = []
    if len(data.issues):
        iss = data.issues.copy()
        pos = pd.Series(pd.NA, index=iss.index, dtype=object)
        cell = iss["data_row"].notna().to_numpy()
        if cell.any():
            dr = iss.loc[cell, "data_row"].to_numpy(dtype=np.int64)
            k = np.searchsorted(data.data_rows, dr)
            k = np.minimum(k, len(data.data_rows) - 1)
            found = data.data_rows[k] == dr
            vals = np.where(found, k, -1)
            pos[cell] = [int(v) if v >= 0 else pd.NA for v in vals]
            keep = ~cell.copy()
            keep[cell] = found
            iss, pos = iss.loc[keep], pos[keep]
        iss = iss.drop(columns="data_row")
        iss.insert(0, "row", pos.to_numpy())
        parts.append(iss[ISSUE_COLUMNS].reset_index(drop=True))
    scores = _score_wide(data.keys, plan, colmap, invalid, id, time, impute, parts,
                         source=source())
    return _finish(scores, parts, plan, invalid, impute, "wide", id, time)


def _issue_frame(bad_cells, column_issues, index, lo, hi, invalid) -> pd.DataFrame | None:
    """Issue rows (:data:`ISSUE_COLUMNS`, ``row`` 0-based) of invalid cells and columns."""
    parts = []
    if column_issues:
        parts.append(pd.DataFrame(column_issues, columns=ISSUE_COLUMNS))
    cells = cell_issue_frame(bad_cells, index, lo, hi,
                             "set missing" if invalid == "missing" else "none (error)")
    if cells is not None:
        cells = cells.rename(columns={"data_row": "row"})
        cells["row"] = cells["row"] - 1
        parts.append(cells[ISSUE_COLUMNS])
    if not parts:
        return None
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def _finish(scored, issue_parts, plan, invalid, impute, layout, id, time) -> ScoreResult:
    frame, item_means = scored
    issues = (pd.concat(issue_parts, ignore_index=True) if issue_parts
              else pd.DataFrame({c: pd.Series(dtype=object) for c in ISSUE_COLUMNS}))
    return ScoreResult(frame, issues, plan.instrument, plan.form,
                       tuple(s.id for s in plan.scales), id, time,
                       {"invalid": invalid, "impute": impute, "layout": layout},
                       item_means, plan)


def _preview(cols, n: int = 12) -> str:
    cols = [str(c) for c in cols]
    return str(cols[:n])[:-1] + (", ...]" if len(cols) > n else "]")


# ------------------------------------------------------------------------------ wide data
def _score_wide(data: pd.DataFrame, plan: ScoringPlan, colmap: dict, invalid: str,
                id: str | None, time: str | None, impute: str,
                issue_parts: list, source=None) -> tuple[pd.DataFrame, pd.Series | None]:
    n = len(data)
    lo, hi = plan.lo, plan.hi
    item_scales = [s for s in plan.scales if not s.composite]
    # item -> [(scale position, reversed)]
    member: dict[str, list[tuple[int, bool]]] = {i: [] for i in plan.items}
    for j, s in enumerate(item_scales):
        for i in s.items:
            member[i].append((j, i in s.reverse))
    # Integer fast path: int8 answers summed into int32 (exact); float64 otherwise.
    use_int = (impute == "none" and plan.integer and -128 <= lo and hi <= 127
               and lo.is_integer() and hi.is_integer())
    S = [np.zeros(n, dtype=np.int32 if use_int else np.float64) for _ in item_scales]
    const = [0.0] * len(item_scales)
    nmiss: list[np.ndarray | None] = [None] * len(item_scales)
    nmiss_rev: list[np.ndarray | None] = [None] * len(item_scales)
    item_means = {} if impute == "item_mean" else None

    bad_cells: list[tuple[np.ndarray, str, str, list, list]] = []
    column_issues: list[dict] = []
    empty_cols: list[str] = []
    if source is None:   # the one response check of the package (psychometrics.io)
        source = iter_item_columns(data, plan.items, colmap, lo, hi, plan.integer,
                                   plan.instrument.id)
    for iid, col, checked, problem in source:
        if checked is None:
            column_issues.append({"row": pd.NA, "index": pd.NA, "column": col, "item": iid,
                                  "value": "(no such column)", "problem": problem,
                                  "action": "every row blank for this item"})
            missing = np.ones(n, dtype=bool)
            values = np.full(n, np.nan)
            codes = np.zeros(n, dtype=np.int8)
        else:
            if checked.n_bad:
                bad_cells.append((checked.bad_rows, col, iid, checked.bad_values,
                                  checked.bad_kinds))
            values, missing, codes = checked.values, checked.missing, checked.codes
            if n and missing is not None and missing.all() and not checked.n_bad:
                empty_cols.append(col if col == iid else f"{col} (item {iid})")
        if use_int and codes is None:  # pragma: no cover - every int8-able scale yields codes
            codes = np.where(missing, 0, values).astype(np.int8)
        fill = 0.0
        if item_means is not None:
            m = float(np.nanmean(values)) if (missing is None or not missing.all()) else np.nan
            item_means[iid] = m
            fill = m
        for j, rev in member[iid]:
            if missing is not None:
                if nmiss[j] is None:
                    nmiss[j] = np.zeros(n, dtype=np.int16)
                nmiss[j] += missing.view(np.int8)
            if use_int:
                # codes are 0 at blanks; a reversed answer x scores (lo + hi) - x
                if rev:
                    S[j] -= codes
                    const[j] += lo + hi
                    if missing is not None:
                        if nmiss_rev[j] is None:
                            nmiss_rev[j] = np.zeros(n, dtype=np.int16)
                        nmiss_rev[j] += missing.view(np.int8)
                else:
                    S[j] += codes
                continue
            if missing is None:
                if rev:
                    S[j] -= values
                    const[j] += lo + hi
                else:
                    S[j] += values
                continue
            if rev:
                contrib = (lo + hi) - values
                contrib[missing] = (lo + hi) - fill if item_means is not None else 0.0
            else:
                contrib = np.where(missing, fill, values)
            S[j] += contrib

    if empty_cols:
        warnings.warn(f"{len(empty_cols)} item column(s) have no response in any of the {n} "
                      f"rows: {', '.join(empty_cols)}; every scale containing them is scored "
                      "from its other items by the bank's missing-data rules. Check the data "
                      "export or the column mapping.", DataQualityWarning, stacklevel=3)
    # -------------------------------------------------------------- issues
    column_issues.extend(_unknown_item_columns(data.columns, plan, colmap, id, time, invalid))
    issue_frame = _issue_frame(bad_cells, column_issues, data.index, lo, hi, invalid)
    dup_issues = _duplicate_admin_issues(data, id, time, invalid)
    all_issues = [f for f in (issue_frame, dup_issues) if f is not None and len(f)]
    if all_issues and invalid == "raise":
        frame = pd.concat(all_issues, ignore_index=True)
        _raise(frame, plan, n)
    issue_parts.extend(all_issues)

    # -------------------------------------------------------------- scores
    out: dict[str, Any] = {}
    for key in (id, time):  # .array keeps the column's dtype (e.g. string ids)
        if key is not None:
            out[key] = data[key].array
    values_by_scale: dict[str, np.ndarray] = {}
    nans: dict[str, np.ndarray] = {}
    codes_by_scale: dict[str, np.ndarray] = {}
    for j, s in enumerate(item_scales):
        total = S[j].astype(np.float64) if use_int else S[j]
        total += const[j]
        if nmiss_rev[j] is not None:  # blank reversed items contributed no (lo + hi)
            total -= (lo + hi) * nmiss_rev[j]
        sc, na, st = _apply_rule(total, nmiss[j], s, impute, n)
        values_by_scale[s.id], nans[s.id], codes_by_scale[s.id] = sc, na, st
    for s in plan.scales:
        if not s.composite:
            continue
        sc = np.zeros(n)
        na = np.zeros(n, dtype=np.int16)
        st = np.zeros(n, dtype=np.int8)
        for c in s.components:
            sc += values_by_scale[c]
            na += nans[c]
            np.maximum(st, codes_by_scale[c], out=st)
        st[np.isnan(sc)] = TOO_MANY
        values_by_scale[s.id], nans[s.id], codes_by_scale[s.id] = sc, na, st
    k_by_scale = {s.id: (s.k if not s.composite else
                         sum(plan.scale(c).k for c in s.components)) for s in plan.scales}
    for s in plan.scales:
        out[s.id] = values_by_scale[s.id]
    for s in plan.scales:
        out[f"{s.id}_n_answered"] = (k_by_scale[s.id] - nans[s.id]).astype(np.int16)
    for s in plan.scales:
        out[f"{s.id}_status"] = pd.Categorical.from_codes(codes_by_scale[s.id],
                                                          categories=list(STATUSES))
    produced = {f"{s.id}{suffix}" for s in plan.scales for suffix in ("", "_n_answered", "_status")}
    for arg, col in (("id", id), ("time", time)):
        if col is not None and col in produced:
            raise ValueError(f"The {arg!r} column {col!r} has the name of an output column of "
                             f"the {plan.instrument.id} scores; rename it.")
    frame = pd.DataFrame(out, index=data.index, copy=False)
    return frame, (pd.Series(item_means, name="item_mean") if item_means is not None else None)


def _apply_rule(S: np.ndarray, nmiss: np.ndarray | None, s: ScalePlan, impute: str,
                n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Score, number of blanks and status code of one item-scored scale.

    ``S`` is the sum of the scored answers (blanks already filled for
    ``impute="item_mean"``). Rows without blanks are ``S`` or ``S / k``
    whatever the rule; the rule is evaluated only on rows with blanks.
    """
    k = s.k
    score = S / k if s.method == "mean" else S
    status = np.zeros(n, dtype=np.int8)
    if nmiss is None:  # nothing blank anywhere: every row complete
        return score, np.zeros(n, dtype=np.int16), status
    rows = np.flatnonzero(nmiss)
    if not len(rows):
        return score, nmiss, status
    rule = s.rule.rule if s.rule is not None else "complete"
    b = nmiss[rows].astype(np.float64)
    a = k - b
    Sr = S[rows]
    if rule == "complete":
        ok = np.zeros(len(rows), dtype=bool)
    elif rule == "min_answered":
        ok = a >= s.rule.min_answered
    else:
        ok = b <= s.rule.max_missing
    with np.errstate(divide="ignore", invalid="ignore"):
        if impute == "item_mean":
            sub = Sr / k if s.method == "mean" else Sr
            code = IMPUTED
        elif rule == "impute_rounded_mean":
            fill = np.floor(Sr / a + 0.5)   # halves upwards; exact for integer sums
            total = Sr + b * fill
            sub = total / k if s.method == "mean" else total
            code = IMPUTED
        elif rule == "min_answered":
            sub = Sr / a if s.method == "mean" else Sr * k / a
            code = PRORATED
        else:
            sub = np.full(len(rows), np.nan)
            code = COMPLETE
    ok &= ~np.isnan(sub)
    sub[~ok] = np.nan
    score[rows] = sub   # S (and so score) is the engine's own array
    status[rows] = np.where(ok, code, TOO_MANY)
    return score, nmiss, status


def _unknown_item_columns(columns, plan: ScoringPlan, colmap: dict, id, time,
                          invalid: str) -> list[dict]:
    """Data columns that look like items of the bank (an item prefix followed by a
    number, e.g. ``oq_46``) but are none of its items: a misspelt or foreign item."""
    import re

    full = plan.full_item_ids
    prefixes = {re.sub(r"\d+$", "", i) for i in full}
    prefixes.discard("")
    if not prefixes:
        return []
    pattern = re.compile("^(" + "|".join(re.escape(p) for p in sorted(prefixes)) + r")\d+$")
    used = set(colmap.values()) | {id, time}
    out = []
    for c in columns:
        name = str(c)
        if name in used or name in full or not pattern.match(name):
            continue
        out.append({"row": pd.NA, "index": pd.NA, "column": name, "item": None,
                    "value": "(column)",
                    "problem": (f"unknown item column: {name!r} looks like an item of "
                                f"{plan.instrument.id} but is not one of its items; check the "
                                f"instrument, rename the column, or drop it."),
                    "action": "column ignored" if invalid == "missing" else "none (error)"})
    return out


def _duplicate_admin_issues(data, id, time, invalid) -> pd.DataFrame | None:
    if id is None:
        return None
    parts = []
    idv = data[id]
    na_id = idv.isna().to_numpy()
    if na_id.any():
        r = np.flatnonzero(na_id)
        parts.append(pd.DataFrame({
            "row": r, "index": data.index[r].to_numpy(dtype=object), "column": id, "item": None,
            "value": [None] * len(r),
            "problem": "patient id missing; give every administration its patient's id.",
            "action": "scored (id missing)" if invalid == "missing" else "none (error)"}))
    if time is not None:
        dup = _duplicate_mask(data, id, time)
        if dup is not None and dup.any():
            r = np.flatnonzero(dup)
            sub = data.iloc[r][[id, time]]
            first = {}
            for pos, key in zip(r.tolist(), zip(sub[id].tolist(), sub[time].tolist())):
                first.setdefault(key, []).append(pos)
            problems = [f"administration ({id}={k[0]!r}, {time}={k[1]!r}) occurs in data rows "
                        f"{[q + 1 for q in first[k]]}; each patient and time must occur once: remove the "
                        f"repeat or correct its {time}."
                        for k in zip(sub[id].tolist(), sub[time].tolist())]
            parts.append(pd.DataFrame({
                "row": r, "index": data.index[r].to_numpy(dtype=object), "column": time,
                "item": None, "value": sub[time].to_numpy(dtype=object), "problem": problems,
                "action": "scored (duplicate kept)" if invalid == "missing" else "none (error)"}))
    if not parts:
        return None
    return pd.concat(parts, ignore_index=True)


def _duplicate_mask(data: pd.DataFrame, id: str, time: str) -> np.ndarray | None:
    """Rows whose (id, time) occurs more than once; None when all are unique.

    Integer ids and times (the usual case) are packed into one int64 key; data
    sorted by patient and time are then recognised as unique by one pass.
    """
    a, b = data[id].to_numpy(), data[time].to_numpy()
    if len(a) and a.dtype.kind in "iu" and b.dtype.kind in "iu":
        amin, amax, bmin, bmax = int(a.min()), int(a.max()), int(b.min()), int(b.max())
        span = bmax - bmin + 1
        if (amax - amin + 1) * span < 2 ** 62:
            key = (a.astype(np.int64) - amin) * span + (b.astype(np.int64) - bmin)
            if len(key) < 2 or (np.diff(key) > 0).all():
                return None
            return pd.Index(key).duplicated(keep=False)
    return data.duplicated(subset=[id, time], keep=False).to_numpy()


def _raise(frame: pd.DataFrame, plan: ScoringPlan, n_rows: int, what: str = "responses"):
    issues = []
    for rec in frame.itertuples(index=False):
        row = "all" if pd.isna(rec.row) else int(rec.row) + 1   # 1-based data row
        label = None
        if row != "all" and rec.index is not None and not pd.isna(rec.index) \
                and rec.index != rec.row:
            label = rec.index
        issues.append(DataIssue(row, rec.column, rec.value, rec.problem, label))
    n_rows_bad = frame["row"].dropna().nunique()
    summary = (f"The {what} to {plan.instrument.id} have {len(issues)} problem(s)"
               + (f" in {n_rows_bad} of {n_rows} row(s)" if n_rows_bad else "")
               + "; nothing was scored:")
    raise DataValidationError(summary, issues, hint=_HINT)


# ------------------------------------------------------------------------------ long data
def _score_long(data, plan: ScoringPlan, colmap, invalid, id, time, impute, item,
                response) -> ScoreResult:
    from ..io.layout import pivot_long

    if id is None:
        raise ValueError("Long data (one row per item response) need the 'id' parameter "
                         "(and 'time' for repeated administrations) to know which answers "
                         "belong together.")
    if item not in data.columns or response not in data.columns:
        raise ValueError(f"Long data need the columns item={item!r} and response={response!r}; "
                         f"the data have {_preview(data.columns)}.")
    checked = check_responses(data[response], plan.lo, plan.hi, plan.integer)
    values = checked.values.astype(np.float64, copy=False)
    # label in the data -> item id
    label_to_item = {colmap[i]: i for i in plan.items}
    labels = [colmap[i] for i in plan.items]
    piv = pivot_long(data, id, time, item, values, labels)
    parts = []
    bad = _issue_frame([(checked.bad_rows, response, None, checked.bad_values,
                         checked.bad_kinds)] if checked.n_bad else [],
                       [], data.index, plan.lo, plan.hi, invalid)
    if bad is not None:
        bad["item"] = [label_to_item.get(str(v)) for v in data[item].to_numpy()[bad["row"]
                                                                                .to_numpy(int)]]
        parts.append(bad)
    action = "row ignored" if invalid == "missing" else "none (error)"
    if len(piv.unknown_rows):
        r = piv.unknown_rows
        parts.append(pd.DataFrame({
            "row": r, "index": data.index[r].to_numpy(dtype=object), "column": item, "item": None,
            "value": data[item].to_numpy(dtype=object)[r],
            "problem": (f"unknown item: not an item of {plan.instrument.id}"
                        + (f" (form {plan.form})" if plan.form else "")
                        + f"; expected one of {_preview(labels, 6)}; correct the label or map "
                          f"it with columns={{item_id: label}}."),
            "action": action}))
    if len(piv.duplicate_rows):
        r = piv.duplicate_rows
        keys = [id] if time is None else [id, time]
        parts.append(pd.DataFrame({
            "row": r, "index": data.index[r].to_numpy(dtype=object), "column": item,
            "item": [label_to_item.get(str(v)) for v in data[item].to_numpy(dtype=object)[r]],
            "value": data[response].to_numpy(dtype=object)[r],
            "problem": (f"duplicate answer: this ({', '.join(keys)}, {item}) occurs more than "
                        f"once; keep one answer per item and administration."),
            "action": "set missing" if invalid == "missing" else "none (error)"}))
    if parts:
        parts = [pd.concat(parts, ignore_index=True).sort_values("row", kind="stable",
                                                                 ignore_index=True)]
    if parts and invalid == "raise":
        _raise(parts[0], plan, len(data), what="long responses")
    wide = piv.wide
    scored_parts: list[pd.DataFrame] = []
    scored = _score_wide(wide, plan, colmap, invalid, id, time, impute, scored_parts)
    # whole-column issues cannot arise here (the pivot has every item column); row issues
    # (a missing id) refer to the administrations, i.e. the rows of the scores
    return _finish(scored, parts + scored_parts, plan, invalid, impute, "long", id, time)


# ------------------------------------------------------------------------------ report
def _build_report(res: ScoreResult) -> pd.DataFrame:
    plan = res._plan
    sc = res.scores
    pieces = []
    extra = [c for c in (res.id, res.time) if c is not None]
    for s in plan.scales:
        codes = sc[f"{s.id}_status"].cat.codes.to_numpy()
        rows = np.flatnonzero(codes != COMPLETE)
        if not len(rows):
            continue
        k = s.k if not s.composite else sum(plan.scale(c).k for c in s.components)
        answered = sc[f"{s.id}_n_answered"].to_numpy()[rows]
        st = codes[rows]
        detail = [_detail(s, plan, int(code), int(a), k, res, int(r))
                  for code, a, r in zip(st.tolist(), answered.tolist(), rows.tolist())]
        piece = {"row": rows}
        for c in extra:
            piece[c] = sc[c].to_numpy()[rows]
        piece.update({"scale": s.id, "status": np.asarray(STATUSES, dtype=object)[st],
                      "n_answered": answered, "n_items": k,
                      "score": sc[s.id].to_numpy()[rows], "detail": detail})
        pieces.append(pd.DataFrame(piece))
    cols = ["row", *extra, *REPORT_COLUMNS[1:]]
    if not pieces:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    order = {s.id: j for j, s in enumerate(plan.scales)}
    out = pd.concat(pieces, ignore_index=True)
    out["_o"] = out["scale"].map(order)
    return out.sort_values(["row", "_o"], kind="stable").drop(columns="_o").reset_index(drop=True)


def _detail(s: ScalePlan, plan: ScoringPlan, code: int, a: int, k: int, res: ScoreResult,
            row: int) -> str:
    b = k - a
    if s.composite:
        bad = [c for c in s.components
               if res.scores[f"{c}_status"].cat.codes.iat[row] == TOO_MANY]
        if code == TOO_MANY:
            return f"component(s) {', '.join(bad)} missing, so the sum of components is missing"
        return f"{b} of {k} items blank in its components (see their rows)"
    rule = s.rule
    name = rule.rule if rule is not None else "complete"
    if code == TOO_MANY:
        if name == "complete":
            return f"{b} of {k} items blank; rule complete needs all {k} answered"
        if name == "min_answered":
            return (f"{a} of {k} items answered; rule min_answered needs at least "
                    f"{rule.min_answered}")
        if res.options.get("impute") == "item_mean" and a >= 0 and b <= rule.max_missing:
            return f"an item has no answer in any row, so its mean cannot be imputed"
        return (f"{b} of {k} items blank; rule impute_rounded_mean replaces at most "
                f"{rule.max_missing}")
    if res.options.get("impute") == "item_mean":
        return f"{b} blank item(s) replaced by the item mean over all rows (impute='item_mean')"
    if code == IMPUTED:
        return (f"{b} blank item(s) replaced by the mean of the {a} answered items, rounded "
                f"halves up (rule impute_rounded_mean)")
    if s.method == "mean":
        return f"{b} of {k} items blank; mean of the {a} answered items (rule min_answered)"
    return f"{b} of {k} items blank; sum prorated as mean of the {a} answered x {k}"
