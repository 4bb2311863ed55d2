"""Input checking of item matrices (reliability, polychoric, tetrachoric).

Every problem is reported with the argument, item or row at fault (see
``psychometrics.exceptions``); nothing is silently turned into NaN.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ..exceptions import ROW_NUMBERING, DataQualityWarning, DataValidationError
from ..io.itemdata import as_frame, numeric_matrix

__all__ = ["ItemMatrix", "item_data", "resolve_reverse", "check_choice"]


class ItemMatrix:
    """Item responses as a float matrix (NaN = missing), item names, row index, and the
    index labels of the rows dropped as completely empty."""

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
              allow_constant: bool = False, empty_rows: str = "drop") -> ItemMatrix:
    """Turn ``data`` into a float item matrix and check it.

    A thin user of the input layer: :func:`psychometrics.io.as_frame` (an
    :class:`~psychometrics.io.ItemData` gives its item responses; an empty
    frame is refused) and :func:`psychometrics.io.numeric_matrix` (every
    non-numeric or infinite cell named by its data row). What is left here is
    what reliability needs of its items: enough of them, each observed and
    varying, and a decision on completely empty rows.

    Parameters
    ----------
    data : DataFrame, ItemData or 2-D array
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
        their data rows, or kept silently ("ignore", where they cannot matter).
    """
    df = as_frame(data, func, items_only=True, arrays=True)
    if items is not None:
        missing = [c for c in items if c not in df.columns]
        if missing:
            raise KeyError(f"items= of {func}: column(s) {missing} not found in data.")
        df = df[list(items)]
    names = [str(c) for c in df.columns]
    if df.shape[1] < min_items:
        raise ValueError(f"{func} needs at least {min_items} items (columns); data= has "
                         f"{df.shape[1]}{': ' + ', '.join(names) if names else ''}.")
    x = numeric_matrix(df, func)
    index = df.index
    dropped: tuple = ()
    all_missing = np.isnan(x).all(axis=1)
    if all_missing.any() and empty_rows in ("drop", "keep"):
        rows = (np.flatnonzero(all_missing) + 1).tolist()
        shown = ", ".join(map(str, rows[:10])) + (" ..." if len(rows) > 10 else "")
        if empty_rows == "keep":
            warnings.warn(f"{func}: {len(rows)} row(s) have every item missing (data rows "
                          f"{shown}; {ROW_NUMBERING[:-1].lower()}); they are counted in n as "
                          f"psych does (their score is missing). Pass empty_rows='drop' to "
                          f"exclude them.", DataQualityWarning, stacklevel=3)
        else:
            dropped = tuple(index[all_missing])
            warnings.warn(f"{func}: {len(rows)} row(s) have every item missing and were "
                          f"dropped (data rows {shown}; {ROW_NUMBERING[:-1].lower()}).",
                          DataQualityWarning, stacklevel=3)
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
    return ItemMatrix(x, names, index, dropped)


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
