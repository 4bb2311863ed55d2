"""Vectorised validation of item-response columns.

A response column is checked with whole-array masks; Python objects are built
only for the offending cells, so validating 45 million responses costs a few
array passes, not 45 million Python calls.

The result of checking one column is a :class:`CheckedColumn`: the numeric
values (an integer array when the column has no blanks, else float64 with NaN
for blanks), the positions of the blanks, and the positions, values and
problems of the offending cells.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["CheckedColumn", "check_responses", "row_label"]

#: Problem kinds, used in messages and in the ``problem`` column of issue tables.
OUT_OF_RANGE = "outside the response scale"
NOT_INTEGER = "not a whole number"
TEXT = "text in a numeric column"


@dataclass
class CheckedColumn:
    """One response column after validation.

    Attributes
    ----------
    values : numpy.ndarray
        Integer array (no blanks, nothing invalid) or float64 with NaN at
        blanks. Invalid cells are NaN here; whether that is allowed is the
        caller's decision (``invalid="missing"``) or an error.
    missing : numpy.ndarray of bool or None
        Blank cells (including the invalid ones); ``None`` when there are none.
    bad_rows : numpy.ndarray of int
        0-based positions of invalid cells.
    bad_values : list
        The offending original values, aligned with ``bad_rows``.
    bad_kinds : list of str
        One of :data:`OUT_OF_RANGE`, :data:`NOT_INTEGER`, :data:`TEXT`.
    codes : numpy.ndarray of int8 or None
        For integer response scales within -128..127: the valid answers as
        int8, 0 at blank and invalid cells (the engine's fast path).
    """

    values: np.ndarray
    missing: np.ndarray | None
    bad_rows: np.ndarray
    bad_values: list
    bad_kinds: list
    codes: np.ndarray | None = None

    @property
    def n_bad(self) -> int:
        return len(self.bad_rows)


_EMPTY = np.empty(0, dtype=np.intp)


def _int8_ok(lo: float, hi: float) -> bool:
    return -128 <= lo and hi <= 127 and float(lo).is_integer() and float(hi).is_integer()


def check_responses(series: pd.Series | np.ndarray, lo: float, hi: float,
                    integer: bool = True) -> CheckedColumn:
    """Validate one column of responses against the response scale ``lo..hi``.

    Blank cells (NaN, None, pandas NA, empty or whitespace-only text) are
    missing, not invalid. Invalid are: numbers outside ``lo..hi``, non-whole
    numbers where the scale has integer points, and text that is not a number.
    Numeric text (``"3"``) is accepted as the number.
    """
    arr = series.to_numpy() if isinstance(series, pd.Series) else np.asarray(series)
    kind = arr.dtype.kind
    if kind in "iu":
        return _check_int(arr, lo, hi, integer)
    if kind == "b":
        return _check_float(arr.astype(np.float64), lo, hi, integer)
    if kind == "f":
        return _check_float(arr, lo, hi, integer)
    # pandas extension arrays (Int64, Float64, string, categorical) and object
    if isinstance(series, pd.Series):
        dtype = series.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            series = series.astype(object)
        elif pd.api.types.is_numeric_dtype(dtype):
            vals = series.to_numpy(dtype=np.float64, na_value=np.nan)
            return _check_float(vals, lo, hi, integer)
    return _check_text(pd.Series(arr, copy=False) if not isinstance(series, pd.Series) else series,
                       lo, hi, integer)


def _check_int(arr: np.ndarray, lo: float, hi: float, integer: bool = True) -> CheckedColumn:
    fast = integer and _int8_ok(lo, hi)
    if arr.size == 0 or (arr.min() >= lo and arr.max() <= hi):
        codes = (arr if arr.dtype == np.int8 else arr.astype(np.int8)) if fast else None
        return CheckedColumn(arr, None, _EMPTY, [], [], codes)
    bad = (arr < lo) | (arr > hi)
    rows = np.flatnonzero(bad)
    vals = arr.astype(np.float64)
    vals[bad] = np.nan
    codes = None
    if fast:
        codes = np.where(bad, 0, arr).astype(np.int8)
    return CheckedColumn(vals, bad, rows, arr[rows].tolist(), [OUT_OF_RANGE] * len(rows), codes)


def _check_float(arr: np.ndarray, lo: float, hi: float, integer: bool) -> CheckedColumn:
    if arr.dtype != np.float64:
        arr = arr.astype(np.float64)
    if integer and _int8_ok(lo, hi):
        # One cast and one comparison check "whole number inside lo..hi": NaN, inf,
        # fractions and values that wrap around in int8 all fail `codes == arr`.
        with np.errstate(invalid="ignore", over="ignore"):
            codes = arr.astype(np.int8)
        ok = codes == arr
        ok &= codes >= np.int8(lo)     # int8 scalars keep these comparisons in int8
        ok &= codes <= np.int8(hi)
        if ok.all():
            return CheckedColumn(arr, None, _EMPTY, [], [], codes)
        np.multiply(codes, ok, out=codes)   # 0 at blank and invalid cells
        notok = ~ok
        idx = np.flatnonzero(notok)         # few cells: look only at these
        sub = arr[idx]
        is_bad = ~np.isnan(sub)
        if not is_bad.any():
            return CheckedColumn(arr, notok, _EMPTY, [], [], codes)
        rows = idx[is_bad]
        bad_vals = sub[is_bad]
        kinds = np.where((bad_vals >= lo) & (bad_vals <= hi), NOT_INTEGER,
                         OUT_OF_RANGE).tolist()
        vals = arr.copy()
        vals[rows] = np.nan
        return CheckedColumn(vals, notok, rows, bad_vals.tolist(), kinds, codes)
    else:
        codes = None
        ok = (arr >= lo) & (arr <= hi)          # False for NaN
        if integer:
            ok &= np.floor(arr) == arr
        if ok.all():
            return CheckedColumn(arr, None, _EMPTY, [], [])
    nan = np.isnan(arr)
    bad = ~(ok | nan)
    if not bad.any():
        return CheckedColumn(arr, nan, _EMPTY, [], [], codes)
    rows = np.flatnonzero(bad)
    bad_vals = arr[rows]
    kinds = np.where((bad_vals >= lo) & (bad_vals <= hi), NOT_INTEGER, OUT_OF_RANGE).tolist()
    vals = arr.copy()
    vals[bad] = np.nan
    return CheckedColumn(vals, nan | bad, rows, bad_vals.tolist(), kinds, codes)


def _check_text(series: pd.Series, lo: float, hi: float, integer: bool) -> CheckedColumn:
    obj = series.astype(object).to_numpy()
    # blanks: None / NaN / NA / empty or whitespace text
    blank = pd.isna(obj)
    as_str = np.array([v.strip() if isinstance(v, str) else v for v in obj], dtype=object)
    blank |= np.array([isinstance(v, str) and v == "" for v in as_str], dtype=bool)
    num = pd.to_numeric(pd.Series(np.where(blank, np.nan, as_str), dtype=object),
                        errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    text = np.isnan(num) & ~blank
    checked = _check_float(num, lo, hi, integer)
    if not text.any():
        if checked.n_bad:
            checked.bad_values = obj[checked.bad_rows].tolist()
        return checked
    rows = np.flatnonzero(text | _mask(checked.bad_rows, len(obj)))
    kinds_num = dict(zip(checked.bad_rows.tolist(), checked.bad_kinds))
    kinds = [TEXT if text[r] else kinds_num[r] for r in rows.tolist()]
    missing = blank | text | _mask(checked.bad_rows, len(obj))
    codes = checked.codes
    if codes is not None:
        codes[missing] = 0
    return CheckedColumn(checked.values, missing, rows, obj[rows].tolist(), kinds, codes)


def _mask(rows: np.ndarray, n: int) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[rows] = True
    return m


def row_label(pos: int, index: pd.Index | None):
    """The index label of position ``pos`` when the index is not the default
    0..n-1 (else None): the ``index=`` of a :class:`DataIssue`."""
    if index is None or isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return None
    return index[pos]


def describe_problem(kind: str, lo: float, hi: float) -> str:
    """The message for one kind of invalid cell, with how to fix it."""
    if not (np.isfinite(lo) and np.isfinite(hi)):     # no response scale: numbers only
        if kind == TEXT:
            return "text in a numeric column; expected a number or a blank; correct the value."
        return "infinite value; replace it with a valid response or leave the cell blank."
    scale = f"{lo:g}..{hi:g}"
    if kind == OUT_OF_RANGE:
        return f"outside the response scale {scale}; correct the value or leave the cell blank."
    if kind == NOT_INTEGER:
        return (f"not a whole number; the response scale has integer points {scale}; "
                f"correct the value or leave the cell blank.")
    return (f"text in a numeric column; expected a number {scale} or a blank; "
            f"correct the value or leave the cell blank.")
