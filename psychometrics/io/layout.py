"""Long <-> wide response layouts.

Long data have one row per item response (``id, time, item, response``); wide
data one row per administration with one column per item. Pivoting never
drops a row silently: a duplicate ``(id, time, item)`` or an unknown item is
returned (or raised) with the rows it came from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataIssue, DataValidationError
from .validate import row_label

__all__ = ["long_to_wide", "Pivot", "pivot_long"]


@dataclass
class Pivot:
    """A long table pivoted to wide, with the rows that could not be placed."""

    wide: pd.DataFrame
    #: positions (0-based) of long rows that repeat an (id, time, item) seen before or after
    duplicate_rows: np.ndarray
    #: positions of long rows whose item is not one of ``items``
    unknown_rows: np.ndarray
    #: for each wide row, the long rows it was built from are rows where ``admin == i``
    admin: np.ndarray = field(repr=False)


def pivot_long(data: pd.DataFrame, id: str, time: str | None, item: str,
               values: np.ndarray, items: Sequence[str] | None = None) -> Pivot:
    """Pivot numeric ``values`` (aligned with ``data``'s rows) to wide.

    Administrations (``id`` and ``time``) keep the order of their first
    appearance. Cells of duplicate ``(id, time, item)`` rows are left blank.
    """
    keys = [id] if time is None else [id, time]
    admin, uniques = _factorize_rows(data, keys)
    icodes, iuniq = pd.factorize(data[item])          # NaN -> -1
    labels = [str(v) for v in iuniq]
    if items is None:
        items = labels
    pos = {name: j for j, name in enumerate(items)}
    lookup = np.array([pos.get(v, -1) for v in labels] + [-1], dtype=np.intp)
    col = lookup[icodes]                                # icodes == -1 picks the trailing -1
    unknown = np.flatnonzero(col < 0)
    known = col >= 0
    n_admin = len(uniques)
    flat = admin.astype(np.int64) * len(items) + col
    counts = np.bincount(flat[known], minlength=n_admin * len(items))
    dup_mask = known & (counts[np.where(known, flat, 0)] > 1)
    mat = np.full(n_admin * len(items), np.nan)
    place = known & ~dup_mask
    mat[flat[place]] = values[place]
    wide = uniques.copy()
    block = pd.DataFrame(mat.reshape(n_admin, len(items)), columns=list(items))
    wide = pd.concat([wide.reset_index(drop=True), block], axis=1)
    return Pivot(wide, np.flatnonzero(dup_mask), unknown, admin)


def _factorize_rows(data: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Codes of the distinct key combinations, in order of first appearance."""
    codes = np.zeros(len(data), dtype=np.int64)
    uniques = []
    for k in keys:  # mixed-radix code of the per-column codes
        c, u = pd.factorize(data[k], use_na_sentinel=False)
        codes = codes * len(u) + c
        uniques.append(u)
    admin, combo = pd.factorize(codes)
    combo = np.asarray(combo, dtype=np.int64)
    cols = {}
    for k, u in zip(reversed(keys), reversed(uniques)):
        cols[k] = u.take(combo % len(u)) if len(u) else u
        combo = combo // max(len(u), 1)
    return admin, pd.DataFrame({k: np.asarray(cols[k]) for k in keys})


def long_to_wide(data: pd.DataFrame, *, id: str, time: str | None = None, item: str = "item",
                 response: str = "response", items: Sequence[str] | None = None) -> pd.DataFrame:
    """Pivot long responses (one row per item answer) to one row per administration.

    Parameters
    ----------
    data : DataFrame
        Long data.
    id, time : str
        Columns identifying the administration (``time`` optional).
    item, response : str
        Columns holding the item name and the answer. Answers must be numeric
        (validate them against an instrument with
        :func:`psychometrics.scoring.score`, which accepts long data directly).
    items : sequence of str, optional
        Item columns of the result, in this order; an item not listed is an error.

    Raises
    ------
    DataValidationError
        A duplicate ``(id, time, item)`` or an unknown item; every offending
        row is listed.
    """
    for arg, col in (("id", id), ("time", time), ("item", item), ("response", response)):
        if col is not None and col not in data.columns:
            raise DataValidationError(f"The {arg!r} column {col!r} is not in the data; its "
                                      f"columns are {list(map(str, data.columns))}.")
    values = pd.to_numeric(data[response], errors="coerce").to_numpy(dtype=np.float64,
                                                                      na_value=np.nan)
    piv = pivot_long(data, id, time, item, values, items)
    issues = []
    for r in piv.duplicate_rows.tolist():
        issues.append(DataIssue(r + 1, item, data[item].iloc[r],
                                "duplicate (id, time, item): each administration may answer an "
                                "item once; remove or correct the repeated row.",
                                row_label(r, data.index)))
    for r in piv.unknown_rows.tolist():
        issues.append(DataIssue(r + 1, item, data[item].iloc[r],
                                f"unknown item; expected one of {list(items or [])}.",
                                row_label(r, data.index)))
    if issues:
        raise DataValidationError(f"Long data cannot be pivoted: {len(issues)} offending "
                                  f"row(s).", issues)
    return piv.wide
