"""Turning a table of item responses into coded categories for the IRT models.

Private module.  :func:`prepare_responses` checks the data (whole numbers, at least two
observed categories per item, no empty category inside an item's range, respondents with
no answers, enough respondents) and codes each item's categories as ``0 .. K-1``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataIssue, DataQualityWarning, DataValidationError
from ..io.validate import row_label

_MISSING = ("ml", "listwise", "raise")


@dataclass(frozen=True)
class Responses:
    """Coded responses: ``codes[i, j]`` in ``0..K_j-1`` or ``-1`` (missing)."""

    codes: np.ndarray                      # (n, J) int
    items: tuple[str, ...]
    categories: tuple[tuple, ...]          # original value of each code, per item
    row_labels: tuple                      # index labels of the kept rows
    dropped_rows: tuple                    # index labels of rows left out (with reason)
    dropped_reason: str

    @property
    def n_categories(self) -> np.ndarray:
        return np.array([len(c) for c in self.categories])

    @property
    def n_obs(self) -> int:
        return self.codes.shape[0]

    def onehot(self) -> np.ndarray:
        """(n, sum K) indicator matrix; a missing response is a row of zeros for its item."""
        return onehot(self.codes, self.n_categories)


def unique_patterns(codes: np.ndarray, n_cat: np.ndarray):
    """Distinct response patterns (rows of ``codes``, -1 = missing) with the index of each
    row's pattern and the counts, as ``np.unique(codes, axis=0, return_inverse=True,
    return_counts=True)``; rows are coded as one integer when the pattern space fits in 62
    bits (much faster than a lexicographic sort of rows)."""
    n, J = codes.shape
    width = np.asarray(n_cat, dtype=np.int64) + 1
    if J and float(np.sum(np.log2(width.astype(float)))) < 62:
        key = np.zeros(n, dtype=np.int64)
        for j in range(J):
            key = key * width[j] + (codes[:, j].astype(np.int64) + 1)
        _, first, inv, cnt = np.unique(key, return_index=True, return_inverse=True,
                                       return_counts=True)
        return codes[first], inv.ravel(), cnt
    uniq, inv, cnt = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
    return uniq, inv.ravel(), cnt


def onehot(codes: np.ndarray, n_cat: np.ndarray) -> np.ndarray:
    n, J = codes.shape
    offs = np.concatenate([[0], np.cumsum(n_cat)])
    Y = np.zeros((n, offs[-1]))
    for j in range(J):
        ok = codes[:, j] >= 0
        Y[np.nonzero(ok)[0], offs[j] + codes[ok, j]] = 1.0
    return Y


def _as_frame(data, what: str = "the model") -> pd.DataFrame:
    """Data entry through the input layer: an ItemData gives its item responses, an
    empty frame is refused (psychometrics.io.as_frame)."""
    from ..io.itemdata import ItemData, as_frame

    if isinstance(data, (pd.DataFrame, ItemData)):
        return as_frame(data, what, items_only=True)
    arr = np.asarray(data, dtype=float)
    if arr.ndim != 2:
        raise DataValidationError(
            f"data= must be a two-dimensional table (respondents x items); got an array "
            f"with {arr.ndim} dimension(s).")
    return pd.DataFrame(arr, columns=[f"item{j + 1}" for j in range(arr.shape[1])])


def prepare_responses(data, items: Sequence[str] | None = None, *,
                      categories: Mapping[str, Sequence] | None = None,
                      missing: str = "ml", n_par_per_item: Sequence[int] | None = None,
                      min_obs: int = 1, what: str = "the model",
                      extra_par_per_item: int = 0) -> Responses:
    """Check and code item responses (see :func:`psychometrics.irt.fit_irt` for the rules).

    ``categories`` maps an item to its full list of allowed values (e.g. from an item bank);
    without it an item's categories are the whole numbers from its smallest to its largest
    observed value.  A category inside that range that nobody chose is an error: its
    threshold cannot be estimated.
    """
    if missing not in _MISSING:
        raise DataValidationError(
            f"The 'missing' parameter must be one of {', '.join(map(repr, _MISSING))}; got "
            f"{missing!r} instead.")
    df = _as_frame(data, what)
    if items is None:
        items = [str(c) for c in df.columns]
    else:
        items = [str(i) for i in items]
        absent = [i for i in items if i not in df.columns]
        if absent:
            raise DataValidationError(
                f"Item column(s) {', '.join(map(repr, absent))} are not in data= (its columns: "
                f"{', '.join(map(str, list(df.columns)[:15]))}).")
    if len(items) < 2:
        raise DataValidationError(
            f"{what} needs at least two items; got {len(items)}.")
    if len(set(items)) != len(items):
        dup = sorted({i for i in items if items.count(i) > 1})
        raise DataValidationError(f"Item(s) {', '.join(dup)} are listed twice.")
    sub = df[items]
    issues: list[DataIssue] = []
    values = np.empty(sub.shape, dtype=float)
    for j, it in enumerate(items):
        col = sub[it]
        num = pd.to_numeric(col, errors="coerce")
        bad = num.isna() & col.notna()
        for pos in np.flatnonzero(bad.to_numpy())[:50]:
            issues.append(DataIssue(int(pos) + 1, it, col.iat[pos], "not a number",
                                    row_label(int(pos), col.index)))
        v = num.to_numpy(dtype=float)
        frac = np.isfinite(v) & (v != np.round(v))
        for pos in np.nonzero(frac)[0][:50]:
            issues.append(DataIssue(int(pos) + 1, it, _num(v[pos]),
                                    "not a whole number (responses must be category codes)",
                                    row_label(int(pos), col.index)))
        inf = np.isinf(v)
        for pos in np.nonzero(inf)[0][:50]:
            issues.append(DataIssue(int(pos) + 1, it, _num(v[pos]), "infinite",
                                    row_label(int(pos), col.index)))
        values[:, j] = np.where(np.isfinite(v), v, np.nan)
    if categories is not None:
        for j, it in enumerate(items):
            if it in categories:
                allowed = np.asarray(list(categories[it]), dtype=float)
                v = values[:, j]
                out = ~np.isnan(v) & ~np.isin(v, allowed)
                for pos in np.nonzero(out)[0][:50]:
                    issues.append(DataIssue(int(pos) + 1, it, _num(v[pos]),
                                            f"not one of the item's categories "
                                            f"{[_num(a) for a in allowed]}",
                                            row_label(int(pos), sub.index)))
    if issues:
        raise DataValidationError(
            f"{len(issues)} response(s) cannot be used as item categories:", issues,
            hint="Recode the responses to whole-number category codes (missing as empty/NaN).")
    obs = ~np.isnan(values)
    labels = np.asarray(sub.index)
    dropped: list = []
    reason = ""
    if missing == "raise" and not obs.all():
        cells = [DataIssue(int(i) + 1, items[j], None, "missing response",
                           row_label(int(i), sub.index))
                 for i, j in zip(*np.nonzero(~obs))]
        raise DataValidationError(
            f"{len(cells)} missing response(s) and missing='raise':", cells,
            hint="Use missing='ml' (the default: missing responses are left out of each "
                 "respondent's likelihood) or missing='listwise'.")
    if missing == "listwise":
        keep = obs.all(axis=1)
        reason = "listwise deletion (missing='listwise')"
    else:
        keep = obs.any(axis=1)
        reason = "no responses to any item"
        if not keep.all():
            none = labels[~keep]
            shown = ", ".join(map(str, none[:10])) + (" ..." if len(none) > 10 else "")
            warnings.warn(
                f"{len(none)} respondent(s) answered none of the {len(items)} items and are "
                f"left out of {what} (rows {shown}); they are listed in the result's "
                "dropped_rows.", DataQualityWarning, stacklevel=3)
    dropped = list(labels[~keep])
    values, labels = values[keep], labels[keep]
    n = values.shape[0]
    codes = np.full(values.shape, -1, dtype=np.int64)
    cats: list[tuple] = []
    problems: list[str] = []
    for j, it in enumerate(items):
        v = values[:, j]
        ok = ~np.isnan(v)
        seen = np.unique(v[ok])
        if seen.size == 0:
            problems.append((it, f"item {it!r} has no responses; drop it"))
            cats.append(())
            continue
        if categories is not None and it in categories:
            allowed = np.sort(np.asarray(list(categories[it]), dtype=float))
        else:
            allowed = np.arange(seen[0], seen[-1] + 1.0)
        if seen.size == 1:
            problems.append((it,
                f"item {it!r} has only one observed category ({_num(seen[0])}): it carries no "
                "information; drop the item"))
            cats.append(tuple(_num(a) for a in allowed))
            continue
        empty = [a for a in allowed if a not in seen]
        if empty:
            problems.append((it,
                f"item {it!r} has empty categor{'y' if len(empty) == 1 else 'ies'} "
                f"{', '.join(str(_num(e)) for e in empty)} (nobody chose "
                f"{'it' if len(empty) == 1 else 'them'}; observed "
                f"{', '.join(str(_num(s)) for s in seen)}): collapse "
                f"{'it' if len(empty) == 1 else 'each'} with a neighbouring category "
                "(recode) before fitting"))
        codes[ok, j] = np.searchsorted(allowed, v[ok])
        cats.append(tuple(_num(a) for a in allowed))
    if problems:
        raise DataValidationError(
            f"{len(problems)} item(s) cannot be modelled as they are:",
            [DataIssue("all rows", it, None, msg) for it, msg in problems],
            hint="Every category of every item needs at least one response.")
    n_cat = np.array([len(c) for c in cats])
    n_par = int(sum(n_par_per_item)) if n_par_per_item is not None else int(n_cat.sum())
    n_par += int(extra_par_per_item) * len(n_cat)          # e.g. a second slope (bifactor)
    if n < max(min_obs, n_par + 1):
        raise DataValidationError(
            f"Too few respondents for {what}: {n} respondent(s) with responses for "
            f"{n_par} item parameters. Fit fewer items or categories (collapse sparse "
            "categories) or collect more data; a graded response model needs several "
            "hundred respondents to estimate thresholds well.")
    if n < 5 * n_par:
        warnings.warn(
            f"Only {n} respondents for {n_par} item parameters (fewer than 5 per parameter): "
            "estimates and standard errors may be unstable. Consider collapsing sparse "
            "categories.", DataQualityWarning, stacklevel=3)
    return Responses(codes=codes, items=tuple(items), categories=tuple(cats),
                     row_labels=tuple(labels), dropped_rows=tuple(dropped),
                     dropped_reason=reason if dropped else "")


def _num(x):
    x = float(x)
    return int(x) if x.is_integer() else x
