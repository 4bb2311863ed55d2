"""Input checking of item matrices (reliability, polychoric, tetrachoric).

Every problem is reported with the argument, item or row at fault (see
``psychometrics.exceptions``); nothing is silently turned into NaN.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataIssue, DataQualityWarning, DataValidationError

__all__ = ["ItemData", "item_data", "resolve_reverse", "check_choice"]


class ItemData:
    """Validated item responses: float matrix (NaN = missing), names, row labels."""

    __slots__ = ("x", "names", "index", "dropped_rows")

    def __init__(self, x: np.ndarray, names: list[str], index: pd.Index,
                 dropped_rows: tuple = ()):
        self.x = x
        self.names = names
        self.index = index
        self.dropped_rows = dropped_rows


def check_choice(value, name: str, func: str, options: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in options:
        opts = ", ".join(repr(o) for o in options)
        raise ValueError(f"The {name!r} parameter of {func} must be one of {opts}. "
                         f"Got {value!r} instead.")
    return value


def item_data(data, func: str, *, min_items: int = 2, items: Sequence[str] | None = None,
              allow_constant: bool = False, empty_rows: str = "drop") -> ItemData:
    """Turn ``data`` into a float item matrix and check it.

    Parameters
    ----------
    data : pandas.DataFrame or 2-D array
        Rows are respondents, columns items.
    func : str
        Name of the calling function (used in messages).
    min_items : int
        Fewest items accepted.
    items : sequence of str, optional
        Columns to use (default: all).
    allow_constant : bool
        Accept items with no variance.
    empty_rows : {"keep", "drop", "ignore"}
        Rows where every item is missing are kept ("keep", psych counts them in
        its n) or dropped ("drop"), both with a ``DataQualityWarning`` naming
        them, or kept silently ("ignore", where they cannot matter).
    """
    if isinstance(data, pd.DataFrame):
        df = data
    elif isinstance(data, np.ndarray) or (isinstance(data, Sequence) and not isinstance(data, str)):
        arr = np.asarray(data)
        if arr.ndim != 2:
            raise ValueError(f"data= argument of {func} must be a DataFrame or a 2-D array "
                             f"(respondents x items); got an array with {arr.ndim} dimension(s).")
        df = pd.DataFrame(arr, columns=[f"V{i + 1}" for i in range(arr.shape[1])])
    else:
        raise TypeError(f"data= argument of {func} must be a pandas DataFrame or a 2-D array; "
                        f"got {type(data).__name__}.")
    if items is not None:
        missing = [c for c in items if c not in df.columns]
        if missing:
            raise KeyError(f"items= of {func}: column(s) {missing} not found in data.")
        df = df[list(items)]
    names = [str(c) for c in df.columns]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"data= of {func} has duplicated column names {dup}.")
    if df.shape[1] < min_items:
        raise ValueError(f"{func} needs at least {min_items} items (columns); data= has "
                         f"{df.shape[1]}{': ' + ', '.join(names) if names else ''}.")
    if df.shape[0] == 0:
        raise ValueError(f"data= of {func} has no rows.")
    bad = [n for n, dt in zip(names, df.dtypes)
           if not (pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_bool_dtype(dt))]
    if bad:
        raise DataValidationError(
            f"{func}: item column(s) {bad} are not numeric.",
            hint="Convert the responses to numbers (e.g. with pandas.to_numeric) before "
                 "computing reliabilities.")
    x = df.to_numpy(dtype=float, na_value=np.nan)
    if np.isinf(x).any():
        rows, cols = np.nonzero(np.isinf(x))
        issues = [DataIssue(int(r), names[c], x[r, c], "infinite value") for r, c in zip(rows, cols)]
        raise DataValidationError(f"{func}: data contain {len(issues)} infinite value(s).", issues,
                                  hint="Replace them with NaN (missing) or valid responses.")
    index = df.index
    dropped: tuple = ()
    all_missing = np.isnan(x).all(axis=1)
    if all_missing.any() and empty_rows in ("drop", "keep"):
        labels = tuple(index[all_missing])
        shown = ", ".join(map(str, labels[:10])) + (" ..." if len(labels) > 10 else "")
        if empty_rows == "keep":
            warnings.warn(f"{func}: {len(labels)} row(s) have every item missing (row labels: "
                          f"{shown}); they are counted in n as psych does (their score is "
                          f"missing). Pass empty_rows='drop' to exclude them.",
                          DataQualityWarning, stacklevel=3)
    if all_missing.any() and empty_rows == "drop":
        dropped = tuple(index[all_missing])
        warnings.warn(f"{func}: {len(dropped)} row(s) have every item missing and were dropped "
                      f"(row labels: {shown}).", DataQualityWarning, stacklevel=3)
        x = x[~all_missing]
        index = index[~all_missing]
        if x.shape[0] == 0:
            raise DataValidationError(f"{func}: every row of data= is completely missing.")
    n_valid = (~np.isnan(x)).sum(axis=0)
    empty = [names[j] for j in range(x.shape[1]) if n_valid[j] == 0]
    if empty:
        raise DataValidationError(f"{func}: item(s) {empty} have no observed response.",
                                  hint="Drop these columns.")
    if not allow_constant:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sd = np.nanstd(x, axis=0)
        const = [names[j] for j in range(x.shape[1]) if n_valid[j] < 2 or sd[j] == 0]
        if const:
            raise DataValidationError(
                f"{func}: item(s) {const} have no variance (every response identical or fewer "
                f"than two responses); their correlations are undefined.",
                hint="Drop these items from the scale and run again.")
    return ItemData(x, names, index, dropped)


def resolve_reverse(reverse: Iterable[str] | str | None, names: list[str], func: str) -> np.ndarray:
    """Keys vector (+1 / -1) from the names of reverse-keyed items.

    Names may carry a leading ``-`` (psych's key notation, e.g. ``"-A1"``).
    """
    keys = np.ones(len(names))
    if reverse is None:
        return keys
    if isinstance(reverse, str):
        reverse = [reverse]
    unknown = []
    for item in reverse:
        name = str(item)
        if name not in names and name.startswith("-") and name[1:] in names:
            name = name[1:]
        if name not in names:
            unknown.append(item)
            continue
        keys[names.index(name)] = -1.0
    if unknown:
        raise KeyError(f"reverse= of {func}: item(s) {unknown} are not among the items "
                       f"{names}.")
    return keys
