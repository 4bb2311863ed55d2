"""Input checks shared by the validity functions."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError


def numeric_frame(data, argument: str = "data", func: str = "this function") -> pd.DataFrame:
    """``data`` as a DataFrame of floats; non-numeric columns are named in the error."""
    if isinstance(data, np.ndarray):
        if data.ndim != 2:
            raise DataValidationError(f"{argument}= must be a two-dimensional table; got an array "
                                      f"with {data.ndim} dimension(s).")
        data = pd.DataFrame(data, columns=[f"V{i + 1}" for i in range(data.shape[1])])
    from ..io.itemdata import ItemData, as_frame

    if not isinstance(data, (pd.DataFrame, ItemData)):
        raise DataValidationError(f"{argument}= must be a pandas DataFrame or a 2-D array; got "
                                  f"{type(data).__name__}.")
    # the input layer: an ItemData gives its item responses; an empty table is refused
    data = as_frame(data, func, argname=argument, items_only=True)
    bad = [str(c) for c in data.columns
           if not (pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]))]
    if bad:
        raise DataValidationError(
            f"{argument}= has non-numeric column(s) {', '.join(repr(b) for b in bad)}; select the "
            "numeric item columns (or recode the labels to numbers) before calling.")
    return data.astype(float)


def check_long_columns(data: pd.DataFrame, id: str, time: str, items: list[str],  # noqa: A002
                       occasions) -> None:
    """Long data (one row per patient and occasion): the columns exist, the item columns
    are numeric (the offending labels are named), and at ``occasions`` every row has a
    patient id and no patient has two rows at one occasion."""
    from ..exceptions import plain
    for col in [id, time, *items]:
        if col not in data.columns:
            raise DataValidationError(f"data= has no column {col!r}.")
    for col in items:
        if not (pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col])):
            num = pd.to_numeric(data[col], errors="coerce")
            bad = data[col][num.isna() & data[col].notna()]
            if not len(bad):
                raise DataValidationError(
                    f"Item column {col!r} holds numbers stored as text (dtype "
                    f"{data[col].dtype}); convert it with pd.to_numeric before calling.")
            if len(bad):
                shown = ", ".join(repr(plain(v)) for v in pd.unique(bad)[:5])
                raise DataValidationError(
                    f"Item column {col!r} is not numeric: it holds {shown}"
                    f"{' ...' if bad.nunique() > 5 else ''} (first at data row "
                    f"{data.index.get_loc(bad.index[0]) + 1 if data.index.is_unique else '?'}); "
                    "recode the labels to numbers before calling.")
    at = data[time].isin(list(occasions)).to_numpy()
    miss = at & data[id].isna().to_numpy()
    if miss.any():
        rows = np.flatnonzero(miss)[:5] + 1
        raise DataValidationError(
            f"Column {id!r} has {int(miss.sum())} missing value(s) at the occasions "
            f"(data row(s) {', '.join(map(str, rows))}{' ...' if miss.sum() > 5 else ''}); "
            "every row needs a patient id.")
    sub = data[at]
    dup = sub.duplicated([id, time])
    if dup.any():
        pid, t = plain(sub.loc[dup, id].iloc[0]), plain(sub.loc[dup, time].iloc[0])
        raise DataValidationError(f"Patient {pid!r} has more than one row at {time} = {t!r}; "
                                  "keep one assessment per patient and occasion.")
