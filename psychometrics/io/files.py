"""Reading response files (CSV, Excel, SPSS ``.sav``, parquet) and writing tables.

The readers only read: validation against an instrument happens when scoring,
so that every problem of a file is reported at once with its row and column.
SPSS value labels are the one exception: with ``instrument=`` given, a code
whose label names a point of the instrument's response scale is mapped to that
point (an SPSS file coding "Never".."Almost always" as 1..5 becomes the OQ's
0..4).
"""
from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataIssue, DataValidationError, PsychometricsError

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


#: Field separators tried, in this order, when ``sep`` is not given.
_SEPARATORS = (",", ";", "\t", "|")
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
#: What to install for each optional reader.
_EXTRA = {"openpyxl": "io", "xlrd": "io", "pyreadstat": "io", "pyarrow": "io",
          "fastparquet": "io"}


def read_responses(path: str | os.PathLike, *, instrument: Any = None, format: str | None = None,
                   sheet: str | int = 0, value_labels: bool = True,
                   na_values: tuple[str, ...] = ("", "NA", "N/A", "NaN", "nan", "."),
                   sep: str | None = None, decimal: str | None = None,
                   encoding: str | None = None, allow_empty: bool = False,
                   text_columns: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a file of item responses into a DataFrame, one row per file row.

    The one reader of the package: the scoring, reliability and EFA commands
    and the report all read data through it.

    Parameters
    ----------
    path : str or path
        CSV (``.csv``, ``.txt``; ``.tsv`` tab-separated), Excel (``.xlsx``),
        SPSS (``.sav``, ``.zsav``) or parquet (``.parquet``).
    instrument : str, path, Instrument or dict, optional
        Needed only to honour SPSS value labels (see Notes). A dict maps data
        columns to the instrument whose response scale they use (the report's
        study files, where item columns need not be named like item ids).
    format : {"csv", "tsv", "excel", "spss", "parquet"}, optional
        Overrides the extension.
    sheet : str or int, default 0
        Excel sheet.
    value_labels : bool, default True
        Map labelled SPSS codes onto the instrument's response scale.
    na_values : tuple of str
        Text read as blank in CSV and Excel files.
    sep : str, optional
        CSV field separator. By default the one of ``, ; TAB |`` that occurs
        most often in the header line (``TAB`` for ``.tsv``).
    decimal : str, optional
        CSV decimal mark. By default ``.``, or ``,`` when the separator is
        ``;`` and numbers such as ``2,5`` occur (what European Excel writes).
    encoding : str, optional
        CSV text encoding. By default UTF-8 (with or without a byte-order
        mark; UTF-16 with one); a file that is not UTF-8 is an error naming the
        line, never guessed.
    allow_empty : bool, default False
        Accept a file with a header but no data rows.
    text_columns : tuple of str
        Columns kept as text as written (ids such as ``007``, names, dates),
        where present; blanks stay missing.

    Returns
    -------
    pandas.DataFrame
        Columns as in the file. ``df.attrs["value_label_map"]`` records, per
        column, the SPSS codes that were mapped to other points;
        ``df.attrs["source"]`` the file and ``df.attrs["read_options"]`` the
        separator, decimal mark and encoding used for a CSV file.

    Raises
    ------
    FileNotFoundError
        No such file.
    DataValidationError
        The file cannot be read (wrong encoding, rows with more fields than
        the header, a repeated column name, an empty file, a corrupt Excel,
        SPSS or parquet file), each named with its file and 1-based data row;
        SPSS labels that contradict each other (two codes of one column
        mapping to the same point).

    Notes
    -----
    Rows are numbered as everywhere in the package: data row 1 is the first
    row below the header. SPSS value labels: for each item column of the
    instrument that carries value labels, a code whose label equals (case-
    and space-insensitively) a label of the instrument's
    ``response_scale.labels`` becomes that point; a label that is itself a
    number becomes that number; other codes are kept and validated as they are
    when scoring. User-defined missing codes of the file are read as blanks
    (pyreadstat ``user_missing=False``). Whole-number SPSS columns without
    blanks (ids, occasions) are read as integers, as a CSV reader would.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No response file {str(path)!r}.")
    fmt = file_format(path, format)
    text = {c: str for c in text_columns}
    if fmt in ("csv", "tsv"):
        df = _read_text(path, "\t" if fmt == "tsv" and sep is None else sep, decimal, encoding,
                        na_values, text)
    elif fmt == "excel":
        df = _guard(path, "an Excel workbook",
                    lambda: pd.read_excel(path, sheet_name=sheet, na_values=list(na_values),
                                          keep_default_na=False, dtype=text or None))
        _no_duplicate_columns(path, [str(c) for c in df.columns],
                              [c for c in df.columns if re.search(r"\.\d+$", str(c))])
    elif fmt == "parquet":
        df = _guard(path, "a parquet file", lambda: pd.read_parquet(path))
    else:
        df = _read_spss(path, instrument if value_labels else None)
    if len(df.columns) == 0:
        raise DataValidationError(f"Data file {path} is empty: it has no header row and no data.")
    for c in text_columns:
        if c in df.columns and df[c].dtype != object:
            col = df[c]
            df[c] = col.astype(object).where(col.notna(), None).map(
                lambda v: v if v is None or isinstance(v, str) else
                (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)))
    if len(df) == 0 and not allow_empty:
        raise DataValidationError(
            f"Data file {path} has a header ({_some(df.columns)}) but no data rows.")
    df.attrs["source"] = str(path)
    return df


def _some(cols, n: int = 8) -> str:
    cols = [str(c) for c in cols]
    return ", ".join(cols[:n]) + (f", ... ({len(cols)} columns)" if len(cols) > n else "")


def _guard(path: Path, what: str, read):
    try:
        return read()
    except ImportError as exc:
        raise _missing_reader(path, exc) from None
    except (OSError, ValueError, KeyError, IndexError, TypeError, RuntimeError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")
        raise DataValidationError(f"Data file {path} cannot be read as {what}: {first}. "
                                  f"{_REEXPORT}") from None
    except Exception as exc:  # noqa: BLE001  (reader libraries raise their own classes)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")
        raise DataValidationError(f"Data file {path} cannot be read as {what}: "
                                  f"{type(exc).__name__}: {first}. {_REEXPORT}") from None


_REEXPORT = ("The file may be damaged, cut short, or of another format than its extension "
             "says: export it again from the program that made it (or save it as CSV UTF-8).")


def _missing_reader(path: Path, exc: ImportError) -> PsychometricsError:
    name = (exc.name or "").split(".")[0]
    extra = _EXTRA.get(name, "io")
    return PsychometricsError(
        f"Reading {path.suffix} files needs the package {name or 'of the io extra'}, which is not "
        f"installed; install it with: pip install 'psychometrics[{extra}]'.")


def _decode(path: Path, raw: bytes, encoding: str | None) -> tuple[str, str]:
    if encoding is not None:
        try:
            return raw.decode(encoding), encoding
        except LookupError:
            raise DataValidationError(f"Unknown encoding {encoding!r} for data file {path}; use "
                                      "e.g. utf-8, latin-1 or cp1252.") from None
        except UnicodeDecodeError as exc:
            line = raw[:exc.start].count(b"\n")
            raise DataValidationError(
                f"Data file {path} is not valid {encoding} text: byte "
                f"0x{raw[exc.start:exc.start + 1].hex()} in {_row_words(line)}.") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if b"\x00" in raw[:65536]:  # no text encoding but UTF-16/32 (BOM above) writes NULs
        line = raw[:raw.index(b"\x00")].count(b"\n")
        raise DataValidationError(
            f"Data file {path} contains a NUL character in {_row_words(line)}; it "
            "is not a text file (an Excel, SPSS or other binary file renamed to "
            f"{path.suffix or 'text'}?). Save it as CSV UTF-8, or give it its real extension.")
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n")
        byte = raw[exc.start:exc.start + 1].hex()
        raise DataValidationError(
            f"Data file {path} is not UTF-8 text: byte 0x{byte} in {_row_words(line)} (it looks "
            f"like Windows-1252/Latin-1, which Excel writes on Windows). Pass "
            f"encoding='cp1252' (or 'latin-1'), or save the file as 'CSV UTF-8'.") from None


def _row_words(line0: int) -> str:
    """0-based physical line -> the words used in messages (header = line 1)."""
    if line0 == 0:
        return "the header (line 1)"
    return f"data row {line0} (line {line0 + 1} of the file)"


def _read_text(path: Path, sep: str | None, decimal: str | None, encoding: str | None,
               na_values: tuple[str, ...], dtype: dict | None = None) -> pd.DataFrame:
    raw = path.read_bytes()
    text, used = _decode(path, raw, encoding)
    if not text.strip():
        raise DataValidationError(f"Data file {path} is empty: it has no header row and no data.")
    if "\x00" in text:
        pos = text.index("\x00")
        raise DataValidationError(f"Data file {path} contains a NUL character in "
                                  f"{_row_words(text.count(chr(10), 0, pos))}; it is not a text "
                                  "file (an Excel or SPSS file renamed to .csv?).")
    lines = text.splitlines()
    header = next((ln for ln in lines if ln.strip()), "")
    guessed_sep = sep is None
    if sep is None:
        counts = {c: header.count(c) for c in _SEPARATORS}
        sep = max(_SEPARATORS, key=lambda c: counts[c]) if any(counts.values()) else ","
    guessed_dec = decimal is None
    if decimal is None:
        decimal = "."
        if sep != ",":
            sample = [f for ln in lines[1:200] for f in ln.split(sep)]
            if any(_DECIMAL_COMMA.match(f) for f in sample):
                decimal = ","
    if sep == decimal:
        raise DataValidationError(f"Data file {path}: the separator and the decimal mark are "
                                  f"both {sep!r}; pass different sep= and decimal=.")
    # A blank line inside the data is a row of blanks, not nothing (pandas would skip
    # it silently); blank lines after the last row are not rows.
    text = text.rstrip("\r\n") + "\n"
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, decimal=decimal, na_values=list(na_values),
                         keep_default_na=False, engine="c", low_memory=False,
                         skip_blank_lines=False, dtype=dtype or None)
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"Data file {path} is empty: it has no header row and "
                                  "no data.") from None
    except pd.errors.ParserError as exc:
        m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if m:
            expected, line, saw = (int(g) for g in m.groups())
            raise _too_many_fields(path, line - 1, saw, expected, sep, decimal, guessed_sep,
                                   guessed_dec) from None
        how, fix = _dialect_words(sep, decimal, guessed_sep, guessed_dec)
        first = str(exc).strip().splitlines()[0]
        raise DataValidationError(f"Data file {path} cannot be read ({first}; the file was "
                                  f"{how}). {fix}") from None
    if not df.index.equals(pd.RangeIndex(len(df))):
        # pandas takes the first column(s) as the index when the first data row has more
        # fields than the header, shifting every column silently: refuse it instead.
        n_head = len(next(csv.reader([header], delimiter=sep)))
        for k, fields in enumerate(csv.reader(io.StringIO(text), delimiter=sep)):
            if len(fields) > n_head:
                raise _too_many_fields(path, k, len(fields), n_head, sep, decimal,
                                       guessed_sep, guessed_dec)
    names = next(csv.reader([header], delimiter=sep)) if header else []
    _no_duplicate_columns(path, [n.strip() for n in names], None)
    df.attrs["read_options"] = {"sep": sep, "decimal": decimal, "encoding": used}
    return df


def _dialect_words(sep, decimal, guessed_sep, guessed_dec) -> tuple[str, str]:
    how = (f"read with separator {sep!r}{' (guessed from the header)' if guessed_sep else ''}"
           f" and decimal mark {decimal!r}{' (guessed)' if guessed_dec else ''}")
    fix = ("If the file separates fields with ';' and writes numbers like 2,5, pass "
           "sep=';' decimal=','; if a text cell contains the separator, put it in double "
           "quotes.")
    return how, fix


def _too_many_fields(path, line0, saw, expected, sep, decimal, guessed_sep, guessed_dec):
    how, fix = _dialect_words(sep, decimal, guessed_sep, guessed_dec)
    return DataValidationError(
        f"Data file {path}: {_row_words(line0)} has {saw} fields but the header has "
        f"{expected} (the file was {how}). {fix}")


def _no_duplicate_columns(path: Path, names: list[str], renamed) -> None:
    seen: dict[str, int] = {}
    for k, n in enumerate(names, start=1):
        if n in seen and n != "":
            raise DataValidationError(
                f"Data file {path}: the column name {n!r} occurs twice in the header (columns "
                f"{seen[n]} and {k}); rename one so that every column has its own name.")
        seen.setdefault(n, k)


def _read_spss(path: Path, instrument: Any) -> pd.DataFrame:
    try:
        import pyreadstat
    except ImportError as exc:
        raise _missing_reader(path, exc) from None

    df, meta = _guard(path, "an SPSS file",
                      lambda: pyreadstat.read_sav(str(path), user_missing=False))
    for c in df.columns:
        col = df[c]
        if (col.dtype.kind == "f" and len(col) and col.notna().all()
                and bool((col == np.round(col)).all()) and float(col.abs().max()) < 2 ** 53):
            df[c] = col.astype(np.int64)
    if instrument is not None:
        df = _apply_value_labels(df, meta.variable_value_labels, instrument, str(path))
    return df


def _apply_value_labels(df: pd.DataFrame, labels: dict, instrument: Any, source: str) -> pd.DataFrame:
    from ..instruments import Instrument, load_instrument

    def as_inst(x):
        return x if isinstance(x, Instrument) else load_instrument(x)

    if isinstance(instrument, dict):       # data column -> instrument
        by_column = {str(c): as_inst(i) for c, i in instrument.items()}
    else:
        inst = as_inst(instrument)
        by_column = {i: inst for i in inst.item_ids}
    scales = {}
    mapped: dict[str, dict] = {}
    issues: list[DataIssue] = []
    df = df.copy()
    for col, lab in labels.items():
        if col not in by_column or col not in df.columns or not lab:
            continue
        inst = by_column[col]
        if inst.id not in scales:
            scales[inst.id] = {" ".join(str(v).split()).casefold(): int(k)
                               for k, v in inst.response_scale.labels.items()}
        by_label = scales[inst.id]
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
                                  f"response scale of {', '.join(sorted(scales))}.", issues)
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
