"""Reading response files (CSV, Excel, SPSS ``.sav``, parquet) and writing tables.

The readers only read: validation against an instrument happens when scoring,
so that every problem of a file is reported at once with its row and column.
SPSS value labels are the one exception: with ``instrument=`` given, a code
whose label names a point of the instrument's response scale is mapped to that
point (an SPSS file coding "Never".."Almost always" as 1..5 becomes the OQ's
0..4).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataValidationError, DataIssue

__all__ = ["read_responses", "write_table", "FORMATS", "file_format"]

#: File extensions understood by :func:`read_responses` and :func:`write_table`.
FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".xlsx": "excel", ".xlsm": "excel",
           ".xls": "excel", ".sav": "spss", ".zsav": "spss", ".parquet": "parquet",
           ".pq": "parquet"}


def file_format(path: str | os.PathLike, format: str | None = None) -> str:
    """The format of ``path``: given, or from its extension."""
    if format is not None:
        fmt = format.lower()
        if fmt not in set(FORMATS.values()):
            raise ValueError(f"The 'format' parameter must be one of "
                             f"{sorted(set(FORMATS.values()))}. Got {format!r} instead.")
        return fmt
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        raise ValueError(
            f"Cannot tell the format of {str(path)!r} from its extension {ext!r}; use one of "
            f"{', '.join(sorted(FORMATS))} or pass format= (csv, tsv, excel, spss, parquet).")
    return FORMATS[ext]


def read_responses(path: str | os.PathLike, *, instrument: Any = None, format: str | None = None,
                   sheet: str | int = 0, value_labels: bool = True,
                   na_values: tuple[str, ...] = ("", "NA", "N/A", "NaN", "nan", ".")) -> pd.DataFrame:
    """Read a file of item responses into a DataFrame, one row per file row.

    Parameters
    ----------
    path : str or path
        CSV (``.csv``, ``.txt``; ``.tsv`` tab-separated), Excel (``.xlsx``),
        SPSS (``.sav``, ``.zsav``) or parquet (``.parquet``).
    instrument : str, path or Instrument, optional
        Needed only to honour SPSS value labels (see Notes).
    format : {"csv", "tsv", "excel", "spss", "parquet"}, optional
        Overrides the extension.
    sheet : str or int, default 0
        Excel sheet.
    value_labels : bool, default True
        Map labelled SPSS codes onto the instrument's response scale.
    na_values : tuple of str
        Text read as blank in CSV and Excel files.

    Returns
    -------
    pandas.DataFrame
        Columns as in the file. ``df.attrs["value_label_map"]`` records, per
        column, the SPSS codes that were mapped to other points.

    Raises
    ------
    FileNotFoundError
        No such file.
    DataValidationError
        SPSS labels that contradict each other (two codes of one column
        mapping to the same point).

    Notes
    -----
    SPSS value labels: for each item column of the instrument that carries
    value labels, a code whose label equals (case- and space-insensitively) a
    label of the instrument's ``response_scale.labels`` becomes that point; a
    label that is itself a number becomes that number; other codes are kept
    and validated as they are when scoring. User-defined missing codes of the
    file are read as blanks (pyreadstat ``user_missing=False``).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No response file {str(path)!r}.")
    fmt = file_format(path, format)
    if fmt in ("csv", "tsv"):
        return pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", na_values=list(na_values),
                           keep_default_na=False)
    if fmt == "excel":
        return pd.read_excel(path, sheet_name=sheet, na_values=list(na_values),
                             keep_default_na=False)
    if fmt == "parquet":
        return pd.read_parquet(path)
    import pyreadstat

    df, meta = pyreadstat.read_sav(str(path), user_missing=False)
    if value_labels and instrument is not None:
        df = _apply_value_labels(df, meta.variable_value_labels, instrument, str(path))
    return df


def _apply_value_labels(df: pd.DataFrame, labels: dict, instrument: Any, source: str) -> pd.DataFrame:
    from ..instruments import Instrument, load_instrument

    inst = instrument if isinstance(instrument, Instrument) else load_instrument(instrument)
    by_label = {" ".join(str(v).split()).casefold(): int(k)
                for k, v in inst.response_scale.labels.items()}
    item_ids = set(inst.item_ids)
    mapped: dict[str, dict] = {}
    issues: list[DataIssue] = []
    df = df.copy()
    for col, lab in labels.items():
        if col not in item_ids or col not in df.columns or not lab:
            continue
        mapping: dict[float, float] = {}
        for code, text in lab.items():
            key = " ".join(str(text).split()).casefold()
            if key in by_label:
                mapping[float(code)] = float(by_label[key])
            else:
                try:
                    mapping[float(code)] = float(str(text).strip())
                except ValueError:
                    continue
        targets: dict[float, float] = {}
        for code, point in mapping.items():
            if point in targets and targets[point] != code:
                issues.append(DataIssue(None, col, code,
                                        f"value labels of codes {targets[point]:g} and {code:g} "
                                        f"both map to response {point:g}; fix the labels in the "
                                        f"SPSS file or pass value_labels=False."))
            targets[point] = code
        changes = {c: p for c, p in mapping.items() if c != p}
        if changes:
            vals = pd.to_numeric(df[col], errors="coerce")
            present = set(vals.dropna().unique().tolist())
            unlabelled = sorted(present - set(mapping))
            offsets = {p - c for c, p in mapping.items()}
            if unlabelled and len(offsets) == 1:
                # e.g. 0..6 coded with labels only at the ends: shift the rest alike
                shift = offsets.pop()
                mapping.update({c: c + shift for c in unlabelled})
            elif unlabelled:
                for c in unlabelled:
                    issues.append(DataIssue(None, col, c,
                                            f"code {c:g} has no value label while other codes of "
                                            f"this column are relabelled onto the response "
                                            f"scale; label it in the SPSS file or pass "
                                            f"value_labels=False."))
                continue
            df[col] = vals.map(lambda x, m=mapping: m.get(x, x))
            mapped[col] = {c: p for c, p in mapping.items() if c != p}
    if issues:
        raise DataValidationError(f"SPSS file {source}: value labels cannot be mapped onto the "
                                  f"response scale of {inst.id}.", issues)
    df.attrs["value_label_map"] = mapped
    return df


def write_table(df: pd.DataFrame, path: str | os.PathLike, *, format: str | None = None,
                index: bool = False) -> Path:
    """Write a DataFrame as CSV, Excel, SPSS ``.sav`` or parquet (by extension).

    Categorical columns (e.g. scoring statuses) are written as text; NaN as an
    empty cell (CSV, Excel) or system-missing (SPSS).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    fmt = file_format(path, format)
    out = df.reset_index() if index else df
    cats = [c for c in out.columns if isinstance(out[c].dtype, pd.CategoricalDtype)]
    if cats:
        out = out.assign(**{c: out[c].astype(object).where(out[c].notna(), None) for c in cats})
    if fmt in ("csv", "tsv"):
        out.to_csv(path, index=False, sep="\t" if fmt == "tsv" else ",")
    elif fmt == "excel":
        out.to_excel(path, index=False)
    elif fmt == "parquet":
        out.to_parquet(path, index=False)
    else:
        import pyreadstat

        sav = out.copy()
        for c in sav.columns:
            if sav[c].dtype == bool or isinstance(sav[c].dtype, pd.BooleanDtype):
                sav[c] = sav[c].astype("Float64").astype(np.float64)
            elif not pd.api.types.is_numeric_dtype(sav[c]):
                sav[c] = sav[c].astype(object).where(sav[c].notna(), "").astype(str)
        pyreadstat.write_sav(sav, str(path))
    return path
