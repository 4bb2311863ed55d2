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
